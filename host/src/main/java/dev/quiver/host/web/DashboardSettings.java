package dev.quiver.host.web;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What the dashboard and the action guard of {@code quiver serve} need beyond the API: where
 * backtest reports are listed from, and the token state-changing requests must carry when the
 * service is bound to an address other than loopback.
 *
 * @param reportsDir the folder whose sub-folders holding a {@code report.html} the Reports page
 *     lists ({@code backtest --out}, default {@code quiver-out})
 * @param apiToken the token, or empty: then a service bound beyond loopback refuses every
 *     state-changing request. Never written to a log or an answer ({@link #toString()} masks it).
 */
public record DashboardSettings(Path reportsDir, Optional<String> apiToken) {

    /** The environment variable {@code quiver serve} reads the token from. */
    public static final String TOKEN_VARIABLE = "QUIVER_API_TOKEN";

    /**
     * Validates.
     *
     * @throws IllegalArgumentException if the token is present but shorter than 16 characters
     */
    public DashboardSettings {
        Objects.requireNonNull(reportsDir, "reportsDir");
        Objects.requireNonNull(apiToken, "apiToken");
        if (apiToken.isPresent() && apiToken.get().strip().length() < 16) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] "
                            + TOKEN_VARIABLE
                            + " is set but shorter than 16 characters (its value is not shown);"
                            + " use a long random token, e.g. `openssl rand -hex 24`");
        }
        apiToken = apiToken.map(String::strip);
    }

    /** Reports from {@code quiver-out} in the working folder, no token. */
    public static DashboardSettings defaults() {
        return new DashboardSettings(Path.of("quiver-out"), Optional.empty());
    }

    @Override
    public String toString() {
        return "DashboardSettings[reportsDir="
                + reportsDir
                + ", apiToken="
                + (apiToken.isPresent() ? "(set)" : "(unset)")
                + "]";
    }
}
