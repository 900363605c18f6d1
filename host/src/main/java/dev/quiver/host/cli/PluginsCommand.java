package dev.quiver.host.cli;

import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginHealth;
import dev.quiver.host.plugin.PluginRefusal;
import dev.quiver.host.plugin.PluginRuntime;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code quiver plugins}: what loads from the plugins folder, and what is refused and why. */
@Command(
        name = "plugins",
        mixinStandardHelpOptions = true,
        subcommands = {
            PluginsCheckCommand.class,
            PluginsTrustCommand.class,
            PluginsUntrustCommand.class,
            PluginsTrustListCommand.class
        },
        description = "List the plugins that load and the ones refused; exit 1 if any is refused.")
final class PluginsCommand implements Callable<Integer> {

    @Mixin HostOptions host;

    @Option(
            names = "--probe-bars",
            paramLabel = "N",
            description =
                    "Call every wired capability on the last N bars of the bundled BTC-USD 4h series"
                            + " (through the same deadlines and quarantine as a run) and show each"
                            + " plugin's state; default 0 (no calls).")
    int probeBars;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (PluginRuntime runtime = PluginRuntime.start(host.pluginsDir(), host.configuration())) {
            out.printf("plugins folder: %s%n", host.pluginsDir().toAbsolutePath());
            out.printf("trust: %s%n", runtime.trust());
            if (probeBars > 0) {
                probe(runtime, probeBars);
            }
            var health = new java.util.HashMap<String, PluginHealth>();
            runtime.health().forEach(h -> health.put(h.pluginId(), h));
            for (LoadedPlugin p : runtime.plugins()) {
                PluginHealth h = health.get(p.id());
                out.printf(
                        "  STARTED  %-24s %-8s requires %-18s %s%n",
                        p.id(), p.version(), p.requires(), String.join(", ", p.extensions()));
                out.printf(
                        "           state %s: %d calls, %d failed, %d missed deadlines%s%n",
                        h.state(),
                        h.calls(),
                        h.failures(),
                        h.deadlineMisses(),
                        h.reason().isEmpty()
                                ? ""
                                : (h.quarantined() ? "; quarantined after " : "; last failure: ")
                                        + h.reason());
            }
            for (PluginRefusal r : runtime.refusals()) {
                out.printf("  REFUSED  %s%n", r.message().replace("\n", "\n           "));
            }
            out.flush();
            boolean quarantined = runtime.health().stream().anyMatch(PluginHealth::quarantined);
            return runtime.refusals().isEmpty() && !quarantined ? 0 : 1;
        }
    }

    /** Calls each capability as a run would; failures are recorded by the runtime's guards. */
    private static void probe(PluginRuntime runtime, int bars) {
        var data = dev.quiver.host.data.BundledData.BTC_USD_4H.load();
        var features = dev.quiver.engine.feature.FeaturePipeline.compute(data);
        int first = Math.max(features.firstWarmIndex(), data.size() - bars);
        var guard = new dev.quiver.engine.risk.RiskGuard();
        for (int i = first; i < data.size(); i++) {
            var frame = features.frame(i);
            for (PredictionCapability p : runtime.predictions()) {
                try {
                    p.forecast(frame);
                } catch (RuntimeException e) {
                    // recorded in the plugin's health
                }
            }
            var signal =
                    new dev.quiver.api.ensemble.FusedSignal(
                            frame.bar().start(), 0.6, 0.2, 1.0, java.util.List.of());
            var ctx = new dev.quiver.api.sizing.SizingContext(signal, 10_000, 0, 1.0, 0.01, 1.0);
            for (SizingCapability s : runtime.sizings()) {
                guard.decide(s, ctx);
            }
        }
    }
}
