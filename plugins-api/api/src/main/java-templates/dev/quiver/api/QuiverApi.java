package dev.quiver.api;

/**
 * The plugin contract's identity: its semantic version, which plugins' {@code Plugin-Requires}
 * ranges are checked against.
 *
 * <p>The value is filtered from the build (as PF4J does with {@code Pf4jInfo}); the host sets it
 * as PF4J's system version, so a plugin whose range excludes it is refused.
 *
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public final class QuiverApi {

    /**
     * Semantic version of {@code quiver-plugins-api}, e.g. {@code 1.0.0}: the version of the api
     * jar the host runs with. Deliberately not a compile-time constant, so that javac does not copy
     * it into the host's classes: a host compiled against one api version reports the one it runs
     * with.
     */
    public static final String VERSION = notInlined("${project.version}");

    /** Package every plugin-facing type lives under; part of the contract, never changes. */
    public static final String BASE_PACKAGE = "dev.quiver";

    private QuiverApi() {}

    private static String notInlined(String value) {
        return value;
    }
}
