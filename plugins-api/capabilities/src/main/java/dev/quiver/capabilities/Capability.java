package dev.quiver.capabilities;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.osgi.framework.Version;

/**
 * One capability a plugin (or the host) offers: a namespace and typed attributes, as in an OSGi
 * {@code Provide-Capability} clause.
 *
 * <p>Attribute values are {@code String}, {@code Long}, {@code Double}, {@link Version}, or a
 * {@code List} of one of those, as declared by the clause's {@code :Type} (untyped means String, as
 * in OSGi). Requirement filters compare with the attribute's type: {@code (horizon>=4)} is numeric
 * against a {@code horizon:Long} attribute, {@code (version>=1.10.0)} is semantic against a {@code
 * version:Version} one.
 *
 * @param namespace e.g. {@code quiver.prediction}
 * @param attributes attribute values by name, in declaration order; copied
 * @param directives directives ({@code name:=value}) by name; copied
 */
public record Capability(
        String namespace, Map<String, Object> attributes, Map<String, String> directives) {

    /** Namespace of prediction capabilities. */
    public static final String PREDICTION = "quiver.prediction";

    /** Namespace of ensemble capabilities. */
    public static final String ENSEMBLE = "quiver.ensemble";

    /** Namespace of sizing capabilities. */
    public static final String SIZING = "quiver.sizing";

    /** Copies. */
    public Capability {
        attributes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
        directives = Map.copyOf(directives);
    }

    /**
     * A capability with the given attributes and no directives.
     *
     * @param namespace the namespace
     * @param attributes typed values, see the record
     * @return the capability
     */
    public static Capability of(String namespace, Map<String, Object> attributes) {
        return new Capability(namespace, attributes, Map.of());
    }

    /**
     * One attribute as text.
     *
     * @param name attribute name
     * @return its value as written, or {@code null} when absent
     */
    public String attribute(String name) {
        Object v = attributes.get(name);
        return v == null ? null : text(v);
    }

    /**
     * The clause as it would be written in a manifest, types included: {@code quiver.prediction;
     * name=lstm; version:Version=1.0.0; horizon:Long=1}.
     *
     * @return the clause
     */
    @Override
    public String toString() {
        var parts = new ArrayList<String>();
        parts.add(namespace);
        attributes.forEach((k, v) -> parts.add(k + typeSuffix(v) + "=" + quoted(text(v))));
        directives.forEach((k, v) -> parts.add(k + ":=" + quoted(v)));
        return String.join("; ", parts);
    }

    private static String text(Object v) {
        if (v instanceof Collection<?> c) {
            List<String> items = new ArrayList<>();
            c.forEach(i -> items.add(String.valueOf(i)));
            return String.join(",", items);
        }
        return String.valueOf(v);
    }

    private static String typeSuffix(Object v) {
        if (v instanceof Collection<?> c) {
            Object first = c.isEmpty() ? "" : c.iterator().next();
            return ":List<" + typeName(first) + ">";
        }
        return v instanceof String ? "" : ":" + typeName(v);
    }

    private static String typeName(Object v) {
        if (v instanceof Long) {
            return "Long";
        }
        if (v instanceof Double) {
            return "Double";
        }
        if (v instanceof Version) {
            return "Version";
        }
        return "String";
    }

    private static String quoted(String v) {
        return v.matches("[A-Za-z0-9_.@/+-]*") ? v : "\"" + v.replace("\"", "\\\"") + "\"";
    }
}
