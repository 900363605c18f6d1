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

    /** Semantic version of {@code quiver-plugins-api}, e.g. {@code 1.0.0}. */
    public static final String VERSION = "${project.version}";

    /** Package every plugin-facing type lives under; part of the contract, never changes. */
    public static final String BASE_PACKAGE = "dev.quiver";

    private QuiverApi() {}
}
