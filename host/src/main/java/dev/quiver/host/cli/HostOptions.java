package dev.quiver.host.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * Options every command that runs plugins shares. Defaults come from the distribution folder
 * ({@code -Dquiver.home}, set by {@code bin/quiver}).
 */
final class HostOptions {

    @Option(
            names = "--plugins-dir",
            paramLabel = "DIR",
            description = "Folder of plugin zips (default: QUIVER_HOME/plugins).")
    Path pluginsDir;

    @Option(
            names = "--config",
            paramLabel = "FILE",
            description =
                    "Plugin configuration properties (default: QUIVER_HOME/config/quiver.properties).")
    Path config;

    @Option(
            names = {"-D", "--set"},
            paramLabel = "KEY=VALUE",
            description = "Override one configuration value, e.g. -D sizing-fixed.fraction=0.3.")
    List<String> overrides = List.of();

    /**
     * The MLflow tracking URI a command uses: its {@code --tracking-uri}, else the {@code
     * MLFLOW_TRACKING_URI} environment variable; empty when neither is set (no registry).
     *
     * @param option the command's {@code --tracking-uri}, or null
     * @return the URI, if any
     */
    static java.util.Optional<String> trackingUri(String option) {
        String uri = option;
        if (uri == null || uri.isBlank()) {
            uri = System.getenv("MLFLOW_TRACKING_URI");
        }
        return uri == null || uri.isBlank()
                ? java.util.Optional.empty()
                : java.util.Optional.of(uri);
    }

    static Path home() {
        String home = System.getProperty("quiver.home");
        if (home == null) {
            throw new IllegalArgumentException(
                    "[Quiver/NO_HOME] quiver.home is not set: run through bin/quiver, or pass"
                            + " --plugins-dir DIR");
        }
        return Path.of(home);
    }

    Path pluginsDir() {
        return pluginsDir != null ? pluginsDir : home().resolve("plugins");
    }

    /**
     * {@link #configuration()} for a batch job (backtest, bench): plugin calls run on the job's own
     * thread unless {@code quiver.plugin.isolation} is set. Exceptions, garbage and late results
     * are isolated as usual; a call that never returns blocks the job instead of being cut off (use
     * {@code -D quiver.plugin.isolation=thread} for untrusted plugins). A thread hand-off per call
     * costs ~10 us, more than most plugin calls themselves.
     */
    Map<String, String> batchConfiguration() {
        var values = new HashMap<>(configuration());
        values.putIfAbsent("quiver.plugin.isolation", "same-thread");
        return values;
    }

    Map<String, String> configuration() {
        var values = new HashMap<String, String>();
        Path file = config;
        if (file == null && System.getProperty("quiver.home") != null) {
            file = home().resolve("config/quiver.properties");
        }
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException(
                        "[Quiver/CONFIG_MISSING] configuration file " + file + " does not exist");
            }
            var props = new Properties();
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                props.load(r);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read configuration " + file, e);
            }
            props.forEach((k, v) -> values.put(k.toString(), v.toString().trim()));
        }
        for (String kv : overrides) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_OPTION] -D " + kv + ": expected KEY=VALUE");
            }
            values.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
        return values;
    }
}
