package dev.quiver.host.cli;

import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginRefusal;
import dev.quiver.host.plugin.PluginRuntime;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quiver plugins check [DIR]}: the capability resolution of a plugins folder, what each
 * wired plugin provides and which capability met each of its requirements, and every refusal.
 */
@Command(
        name = "check",
        mixinStandardHelpOptions = true,
        description =
                "Resolve the capabilities of a plugins folder: print the wiring and the refusals;"
                        + " exit 1 if anything is refused.")
final class PluginsCheckCommand implements Callable<Integer> {

    @Mixin HostOptions host;

    @Parameters(
            index = "0",
            arity = "0..1",
            paramLabel = "DIR",
            description = "Plugins folder (default: --plugins-dir or QUIVER_HOME/plugins).")
    Path dir;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path folder = dir != null ? dir : host.pluginsDir();
        try (PluginRuntime runtime = PluginRuntime.start(folder, host.configuration())) {
            out.printf("plugins folder: %s%n", folder.toAbsolutePath());
            out.printf("trust: %s%n", runtime.trust());
            out.println("wiring:");
            for (String line : runtime.wiring()) {
                out.printf("  %s%n", line);
            }
            for (LoadedPlugin p : runtime.plugins()) {
                out.printf(
                        "  WIRED    %-24s %-8s %s%n",
                        p.id(), p.version(), String.join(", ", p.extensions()));
            }
            for (PluginRefusal r : runtime.refusals()) {
                out.printf("  REFUSED  %s%n", r.message().replace("\n", "\n           "));
            }
            out.printf(
                    "resolution: %d wired, %d refused%n",
                    runtime.plugins().size(), runtime.refusals().size());
            out.flush();
            return runtime.refusals().isEmpty() ? 0 : 1;
        }
    }
}
