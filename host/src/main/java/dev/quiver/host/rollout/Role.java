package dev.quiver.host.rollout;

import java.util.Locale;

/** The two sides of a rollout: the version serving now and the candidate. */
public enum Role {
    /** The version serving before the rollout. */
    CHAMPION,
    /** The candidate version. */
    CHALLENGER;

    /**
     * The lower-case name used in JSON, reports and the audit log.
     *
     * @return {@code champion} or {@code challenger}
     */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
