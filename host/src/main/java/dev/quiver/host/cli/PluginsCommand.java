package dev.quiver.host.cli;

import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginRefusal;
import dev.quiver.host.plugin.PluginRuntime;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code quiver plugins}: what loads from the plugins folder, and what is refused and why. */
@Command(
        name = "plugins",
        mixinStandardHelpOptions = true,
        subcommands = PluginsCheckCommand.class,
        description = "List the plugins that load and the ones refused; exit 1 if any is refused.")
final class PluginsCommand implements Callable<Integer> {

    @Mixin HostOptions host;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (PluginRuntime runtime = PluginRuntime.start(host.pluginsDir(), host.configuration())) {
            out.printf("plugins folder: %s%n", host.pluginsDir().toAbsolutePath());
            for (LoadedPlugin p : runtime.plugins()) {
                out.printf(
                        "  STARTED  %-24s %-8s requires %-18s %s%n",
                        p.id(), p.version(), p.requires(), String.join(", ", p.extensions()));
            }
            for (PluginRefusal r : runtime.refusals()) {
                out.printf("  REFUSED  %s%n", r.message().replace("\n", "\n           "));
            }
            out.flush();
            return runtime.refusals().isEmpty() ? 0 : 1;
        }
    }
}
