package dev.quiver.api;

import dev.quiver.api.error.QuiverInputException;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one extension provides: a name unique within its capability kind, its version and free
 * attributes (e.g. {@code horizon=1}, {@code calibrated=false}).
 *
 * <p>The name is what reports and provenance call the source, e.g. {@code traditional}.
 *
 * @param name non-blank identifier, {@code [a-z0-9][a-z0-9_-]*}
 * @param version semantic version of the implementation, e.g. {@code 1.0.0}
 * @param attributes attribute values by key; copied, iteration order is sorted by key
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public record CapabilityDescriptor(String name, String version, Map<String, String> attributes) {

    /**
     * Validates and copies.
     *
     * @throws QuiverInputException if {@code name} is not a lower-case identifier or {@code
     *     version} is blank
     */
    public CapabilityDescriptor {
        if (name == null || !name.matches("[a-z0-9][a-z0-9_-]*")) {
            throw new QuiverInputException(
                    "BAD_DESCRIPTOR",
                    "name",
                    "capability descriptor",
                    name,
                    "must be a lower-case identifier [a-z0-9][a-z0-9_-]*");
        }
        if (version == null || version.isBlank()) {
            throw new QuiverInputException(
                    "BAD_DESCRIPTOR", "version", "capability '" + name + "'", version, "is blank");
        }
        attributes = Map.copyOf(new TreeMap<>(attributes == null ? Map.of() : attributes));
    }

    /**
     * Descriptor without attributes.
     *
     * @param name see the record component
     * @param version see the record component
     * @return a descriptor with no attributes
     */
    public static CapabilityDescriptor of(String name, String version) {
        return new CapabilityDescriptor(name, version, Map.of());
    }
}
