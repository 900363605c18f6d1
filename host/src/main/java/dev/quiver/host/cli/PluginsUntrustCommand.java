package dev.quiver.host.cli;

import dev.quiver.host.plugin.PluginTrust;
import dev.quiver.host.plugin.TrustList;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quiver plugins untrust ZIP|SHA256|PLUGIN-ID...}: takes entries off the trust list; a
 * running service keeps what it loaded, and refuses the archive at its next load.
 */
@Command(
        name = "untrust",
        mixinStandardHelpOptions = true,
        description =
                "Take plugin archives off the trust list: by file (its sha256), by sha256, or every"
                        + " entry of a plugin id. Exit 1 if something named matched no entry.")
final class PluginsUntrustCommand implements Callable<Integer> {

    @Mixin HostOptions host;

    @Parameters(
            arity = "1..*",
            paramLabel = "ZIP|SHA256|PLUGIN-ID",
            description = "An archive, a sha256 (64 hex digits) or a plugin id.")
    List<String> what;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path list = PluginsTrustCommand.trustList(host);
        int unmatched = 0;
        for (String w : what) {
            Path file = Path.of(w);
            List<TrustList.Entry> removed;
            if (Files.isRegularFile(file)) {
                String sha = PluginTrust.entryFor(file).sha256();
                removed = TrustList.remove(list, e -> e.sha256().equals(sha));
            } else if (TrustList.isSha256(w)) {
                String sha = w.toLowerCase(Locale.ROOT);
                removed = TrustList.remove(list, e -> e.sha256().equals(sha));
            } else {
                removed = TrustList.remove(list, e -> e.pluginId().equals(w));
            }
            if (removed.isEmpty()) {
                err.printf("[Quiver/NOT_TRUSTED] %s matches no entry of %s%n", w, list);
                unmatched++;
            }
            for (TrustList.Entry e : removed) {
                out.printf(
                        "untrusted %s %s %s %s%n",
                        e.sha256(), e.pluginId(), e.version(), e.fileName());
            }
        }
        out.printf("trust list: %s%n", list.toAbsolutePath());
        out.flush();
        err.flush();
        return unmatched == 0 ? 0 : 1;
    }
}
