package dev.quiver.host.web;

/**
 * A request the service refuses with 400: names the field (and the bar index when there is one).
 */
final class BadRequestException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String code;
    private final String field;
    private final Integer index;

    BadRequestException(String code, String field, Integer index, String message) {
        super(message);
        this.code = code;
        this.field = field;
        this.index = index;
    }

    String code() {
        return code;
    }

    String field() {
        return field;
    }

    Integer index() {
        return index;
    }
}
