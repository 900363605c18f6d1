package dev.quiver.api.feature;

import dev.quiver.api.Stable;
import dev.quiver.api.error.QuiverInputException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;

/**
 * The named, versioned, ordered list of features the host computes for every bar. Models record the
 * {@link #hash()} they were trained with; serving refuses a frame whose schema hash differs.
 *
 * @param name schema name, e.g. {@code quiver-core}
 * @param version schema version, bumped whenever a feature's definition changes
 * @param names feature names in vector order, unique; copied
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public record FeatureSchema(String name, String version, List<String> names) {

    /**
     * Validates and copies.
     *
     * @throws QuiverInputException if a name is blank or repeated
     */
    public FeatureSchema {
        names = List.copyOf(names);
        var seen = new HashSet<String>();
        for (String n : names) {
            if (n.isBlank() || !seen.add(n)) {
                throw new QuiverInputException(
                        "BAD_SCHEMA", "names", "feature schema " + name, n, "is blank or repeated");
            }
        }
    }

    /**
     * Number of features.
     *
     * @return {@code names().size()}
     */
    public int size() {
        return names.size();
    }

    /**
     * Position of a feature in the vector.
     *
     * @param feature feature name, e.g. {@code rsi_14}
     * @return its index
     * @throws QuiverInputException with code {@code UNKNOWN_FEATURE} if the schema has no such
     *     feature
     */
    public int indexOf(String feature) {
        int i = names.indexOf(feature);
        if (i < 0) {
            throw new QuiverInputException(
                    "UNKNOWN_FEATURE",
                    "feature",
                    "feature schema " + name + " " + version,
                    feature,
                    "is not one of " + names);
        }
        return i;
    }

    /**
     * SHA-256 over name, version and the ordered names, as lower-case hex: equal hashes mean equal
     * vector layouts.
     *
     * @return 64 hex characters
     */
    public String hash() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(
                    (name + "\n" + version + "\n" + String.join("\n", names))
                            .getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
