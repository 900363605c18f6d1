package dev.quiver.capabilities;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.osgi.framework.Version;

/**
 * Parses the OSGi common header syntax of {@code Provide-Capability} and {@code Require-Capability}
 * (OSGi Core R8 §3.2.1 and §3.3.6).
 *
 * <pre>
 * header    ::= clause ( ',' clause ) *
 * clause    ::= namespace ( ';' ( attribute | directive ) ) *
 * attribute ::= name ( ':' type ) ? '=' value        type: String Long Double Version List&lt;T&gt;
 * directive ::= name ':=' value                      value: token or "quoted string"
 * </pre>
 *
 * <p>Untyped values are Strings, as in OSGi, except the well-known {@code version} (a Version) and
 * {@code horizon} (a Long).
 *
 * <p>Example: {@code quiver.prediction; name=lstm; version:Version=1.0.0; horizon:Long=1;
 * calibrated=false; feature-schema=quiver-core@1}.
 */
public final class CapabilityHeaders {

    /** Manifest header of offered capabilities. */
    public static final String PROVIDE = "Provide-Capability";

    /** Manifest header of required capabilities. */
    public static final String REQUIRE = "Require-Capability";

    /**
     * Attributes whose untyped values are read with a type, so filters compare them properly:
     * {@code version} as a Version, {@code horizon} as a Long ({@code version=1.0.0} and {@code
     * version:Version=1.0.0} mean the same). An explicit type always wins.
     */
    static final Map<String, String> WELL_KNOWN = Map.of("version", "Version", "horizon", "Long");

    private CapabilityHeaders() {}

    /**
     * Parses a {@code Provide-Capability} header.
     *
     * @param header the header value; {@code null} or blank means none
     * @return the capabilities in declaration order
     * @throws CapabilityHeaderException naming the clause and the problem if it does not parse
     */
    public static List<Capability> parseProvide(String header) {
        var out = new ArrayList<Capability>();
        int index = 0;
        for (String clause : split(header, ',', PROVIDE)) {
            index++;
            Clause c = clause(PROVIDE, index, clause);
            out.add(new Capability(c.namespace, c.attributes, c.directives));
        }
        return List.copyOf(out);
    }

    /**
     * Parses a {@code Require-Capability} header.
     *
     * @param header the header value; {@code null} or blank means none
     * @return the requirements in declaration order
     * @throws CapabilityHeaderException naming the clause and the problem if it does not parse,
     *     including a filter that is not a valid LDAP filter
     */
    public static List<Requirement> parseRequire(String header) {
        var out = new ArrayList<Requirement>();
        int index = 0;
        for (String clause : split(header, ',', REQUIRE)) {
            index++;
            Clause c = clause(REQUIRE, index, clause);
            try {
                out.add(Requirement.of(c.namespace, c.directives));
            } catch (IllegalArgumentException e) {
                throw new CapabilityHeaderException(REQUIRE, index, clause, e.getMessage());
            }
        }
        return List.copyOf(out);
    }

    private record Clause(
            String namespace, Map<String, Object> attributes, Map<String, String> directives) {}

    private static Clause clause(String header, int index, String clause) {
        List<String> parts = split(clause, ';', header);
        String namespace = parts.isEmpty() ? "" : parts.get(0);
        if (!namespace.matches("[A-Za-z0-9_.-]+")) {
            throw new CapabilityHeaderException(
                    header, index, clause, "namespace '" + namespace + "' is not a symbolic name");
        }
        var attributes = new LinkedHashMap<String, Object>();
        var directives = new LinkedHashMap<String, String>();
        for (String param : parts.subList(1, parts.size())) {
            int eq = param.indexOf('=');
            if (eq <= 0) {
                throw new CapabilityHeaderException(
                        header,
                        index,
                        clause,
                        "'" + param + "' is neither name=value nor name:=value");
            }
            boolean directive = param.charAt(eq - 1) == ':';
            String key = param.substring(0, directive ? eq - 1 : eq).trim();
            String value = unquote(param.substring(eq + 1).trim(), header, index, clause);
            if (directive) {
                if (!key.matches("[A-Za-z0-9_.-]+") || directives.put(key, value) != null) {
                    throw new CapabilityHeaderException(
                            header,
                            index,
                            clause,
                            "directive '" + key + "' is invalid or repeated");
                }
                continue;
            }
            int colon = key.indexOf(':');
            String type = colon >= 0 ? "String" : WELL_KNOWN.getOrDefault(key.trim(), "String");
            if (colon >= 0) {
                type = key.substring(colon + 1).trim();
                key = key.substring(0, colon).trim();
            }
            if (!key.matches("[A-Za-z0-9_.-]+") || attributes.containsKey(key)) {
                throw new CapabilityHeaderException(
                        header, index, clause, "attribute '" + key + "' is invalid or repeated");
            }
            try {
                attributes.put(key, typed(type, value));
            } catch (IllegalArgumentException e) {
                throw new CapabilityHeaderException(
                        header,
                        index,
                        clause,
                        "attribute '"
                                + key
                                + "' value '"
                                + value
                                + "' is not a "
                                + type
                                + " ("
                                + e.getMessage()
                                + ")");
            }
        }
        return new Clause(namespace, attributes, directives);
    }

    private static Object typed(String type, String value) {
        if (type.startsWith("List<") && type.endsWith(">")) {
            String element = type.substring(5, type.length() - 1).trim();
            var items = new ArrayList<Object>();
            for (String item : value.split(",", -1)) {
                items.add(scalar(element, item.trim()));
            }
            return List.copyOf(items);
        }
        if (type.equals("List")) {
            return typed("List<String>", value);
        }
        return scalar(type, value);
    }

    private static Object scalar(String type, String value) {
        return switch (type) {
            case "String" -> value;
            case "Long" -> Long.valueOf(value);
            case "Double" -> Double.valueOf(value);
            case "Version" -> Version.parseVersion(value);
            default ->
                    throw new IllegalArgumentException(
                            "unknown type; use String, Long, Double, Version or List<T>");
        };
    }

    private static String unquote(String value, String header, int index, String clause) {
        if (value.startsWith("\"")) {
            if (value.length() < 2 || !value.endsWith("\"")) {
                throw new CapabilityHeaderException(header, index, clause, "unterminated quote");
            }
            var sb = new StringBuilder();
            for (int i = 1; i < value.length() - 1; i++) {
                char c = value.charAt(i);
                if (c == '\\' && i + 1 < value.length() - 1) {
                    c = value.charAt(++i);
                }
                sb.append(c);
            }
            return sb.toString();
        }
        return value;
    }

    /** Splits on {@code sep} outside double quotes; trims; drops empty pieces. */
    private static List<String> split(String text, char sep, String header) {
        var out = new ArrayList<String>();
        if (text == null || text.isBlank()) {
            return out;
        }
        var sb = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && quoted && i + 1 < text.length()) {
                sb.append(c).append(text.charAt(++i));
                continue;
            }
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == sep && !quoted) {
                add(out, sb);
            } else {
                sb.append(c);
            }
        }
        if (quoted) {
            throw new CapabilityHeaderException(header, out.size() + 1, text, "unterminated quote");
        }
        add(out, sb);
        return out;
    }

    private static void add(List<String> out, StringBuilder sb) {
        String piece = sb.toString().trim();
        if (!piece.isEmpty()) {
            out.add(piece);
        }
        sb.setLength(0);
    }
}
