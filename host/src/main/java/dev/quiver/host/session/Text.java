package dev.quiver.host.session;

/**
 * What the HTTP API's description calls a non-blank string ({@code NonBlank} in {@code
 * openapi.json}: pattern {@code [^ \t\n\r\f\v]}), so that the server refuses exactly what the
 * description refuses. {@link String#isBlank()} would differ on Unicode spaces (U+2003 is blank to
 * Java, not to the JSON Schema pattern).
 */
public final class Text {

    private Text() {}

    /**
     * Whether the text is missing or holds only space, tab, line feed, carriage return, form feed
     * and vertical tab.
     *
     * @param s the text, or null
     * @return true if {@code s} is null or has no other character
     */
    public static boolean blank(String s) {
        if (s == null) {
            return true;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\u000B') {
                return false;
            }
        }
        return true;
    }
}
