package dev.quiver.host.rollout;

import java.util.Locale;
import java.util.Optional;

/** Which significance test compares the variants' losses; see {@link Significance}. */
public enum TestKind {
    /** Paired when both variants forecast at least {@code min_samples} same bars, else Welch. */
    AUTO,
    /**
     * Paired t on per-bar loss differences (equal to the Diebold-Mariano test with the
     * Harvey-Leybourne-Newbold correction at horizon 1).
     */
    PAIRED,
    /** Welch's unequal-variance t on each variant's own losses. */
    WELCH;

    /**
     * The JSON name.
     *
     * @return e.g. {@code paired}
     */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a JSON name.
     *
     * @param id e.g. {@code welch}
     * @return the kind, empty if unknown
     */
    public static Optional<TestKind> byId(String id) {
        for (TestKind t : values()) {
            if (t.id().equals(id)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
