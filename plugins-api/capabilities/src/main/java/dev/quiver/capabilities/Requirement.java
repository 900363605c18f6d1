package dev.quiver.capabilities;

import java.util.Map;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;

/**
 * One requirement a plugin declares in {@code Require-Capability}: a namespace and an optional
 * LDAP-style filter over the capability's attributes ({@code filter:="(&(format=onnx)(name=x))"}),
 * mandatory unless {@code resolution:=optional}.
 *
 * <p>Filters are parsed and evaluated by the OSGi reference implementation ({@link
 * FrameworkUtil#createFilter}, shipped in Apache Felix), with OSGi's typed comparison.
 */
public final class Requirement {

    private final String namespace;
    private final String filterText;
    private final Filter filter;
    private final Map<String, String> directives;

    private Requirement(
            String namespace, String filterText, Filter filter, Map<String, String> directives) {
        this.namespace = namespace;
        this.filterText = filterText;
        this.filter = filter;
        this.directives = Map.copyOf(directives);
    }

    /**
     * Builds a requirement.
     *
     * @param namespace e.g. {@code quiver.model}
     * @param directives directives by name, {@code filter} and {@code resolution} among them
     * @return the requirement
     * @throws IllegalArgumentException if the filter is not a valid LDAP filter (the message says
     *     why) or {@code resolution} is neither {@code mandatory} nor {@code optional}
     */
    public static Requirement of(String namespace, Map<String, String> directives) {
        String text = directives.get("filter");
        Filter filter = null;
        if (text != null) {
            try {
                filter = FrameworkUtil.createFilter(text);
            } catch (InvalidSyntaxException e) {
                throw new IllegalArgumentException(
                        "filter " + text + " is not a valid LDAP filter (" + e.getMessage() + ")",
                        e);
            }
        }
        String resolution = directives.getOrDefault("resolution", "mandatory");
        if (!resolution.equals("mandatory") && !resolution.equals("optional")) {
            throw new IllegalArgumentException(
                    "resolution:=" + resolution + " is neither mandatory nor optional");
        }
        return new Requirement(namespace, text, filter, directives);
    }

    /** The namespace a matching capability must be in. */
    public String namespace() {
        return namespace;
    }

    /** The filter as written, or {@code null} when any capability of the namespace will do. */
    public String filter() {
        return filterText;
    }

    /** Whether the plugin can run without it ({@code resolution:=optional}). */
    public boolean optional() {
        return "optional".equals(directives.get("resolution"));
    }

    /** Directives by name. */
    public Map<String, String> directives() {
        return directives;
    }

    /**
     * Whether {@code capability} satisfies this requirement: same namespace and the filter matches
     * its attributes.
     *
     * @param capability a capability on offer
     * @return true if it matches
     */
    public boolean matches(Capability capability) {
        return namespace.equals(capability.namespace())
                && (filter == null || filter.matches(capability.attributes()));
    }

    /** The clause as written in a manifest. */
    @Override
    public String toString() {
        var sb = new StringBuilder(namespace);
        directives.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .forEach(
                        e ->
                                sb.append("; ")
                                        .append(e.getKey())
                                        .append(":=\"")
                                        .append(e.getValue())
                                        .append('"'));
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Requirement r
                && r.namespace.equals(namespace)
                && r.directives.equals(directives);
    }

    @Override
    public int hashCode() {
        return namespace.hashCode() * 31 + directives.hashCode();
    }
}
