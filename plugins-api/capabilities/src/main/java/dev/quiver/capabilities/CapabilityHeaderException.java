package dev.quiver.capabilities;

/**
 * A {@code Provide-Capability} or {@code Require-Capability} header that does not parse, with the
 * header, the clause and what is wrong: {@code Require-Capability clause 2 "quiver.model;
 * filter:=(format=onnx": filter is not a valid LDAP filter (Missing ')')}.
 */
public final class CapabilityHeaderException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String header;
    private final String clause;
    private final String problem;

    /**
     * @param header {@code Provide-Capability} or {@code Require-Capability}
     * @param index 1-based clause number
     * @param clause the clause as written
     * @param problem what is wrong with it
     */
    public CapabilityHeaderException(String header, int index, String clause, String problem) {
        super(header + " clause " + index + " \"" + clause + "\": " + problem);
        this.header = header;
        this.clause = clause;
        this.problem = problem;
    }

    /** The manifest header, {@code Provide-Capability} or {@code Require-Capability}. */
    public String header() {
        return header;
    }

    /** The clause that does not parse, as written. */
    public String clause() {
        return clause;
    }

    /** What is wrong with it. */
    public String problem() {
        return problem;
    }
}
