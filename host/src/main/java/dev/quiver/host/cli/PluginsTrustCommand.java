package dev.quiver.host.cli;

import dev.quiver.host.plugin.PluginTrust;
import dev.quiver.host.plugin.TrustList;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code quiver plugins trust ZIP|DIR...}: puts the sha256 of each plugin archive on the trust list
 * (RELIABILITY.md P5), so the host loads it.
 */
@Command(
        name = "trust",
        mixinStandardHelpOptions = true,
        description =
                "Trust plugin archives: add the sha256 of each zip or jar (or of every archive in a"
                        + " folder) to the trust list (default QUIVER_HOME/config/trusted-plugins,"
                        + " or -D quiver.plugins.trust-list=FILE). Exit 1 if one cannot be"
                        + " trusted (unreadable, or an entry escaping its folder).")
final class PluginsTrustCommand implements Callable<Integer> {

    @Mixin HostOptions host;

    @Parameters(
            arity = "1..*",
            paramLabel = "ZIP|DIR",
            description = "Plugin archives, or folders whose archives are all trusted.")
    List<Path> paths;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path list = trustList(host);
        int failed = 0;
        for (Path archive : archives(paths)) {
            TrustList.Entry entry;
            try {
                entry = PluginTrust.entryFor(archive);
            } catch (IllegalArgumentException e) {
                err.println(e.getMessage());
                failed++;
                continue;
            }
            boolean added = TrustList.add(list, entry);
            out.printf(
                    "%s %s %s %s %s%n",
                    added ? "trusted        " : "already trusted",
                    entry.sha256(),
                    entry.pluginId(),
                    entry.version(),
                    archive);
        }
        out.printf("trust list: %s%n", list.toAbsolutePath());
        out.flush();
        err.flush();
        return failed == 0 ? 0 : 1;
    }

    /** The trust list the host configuration names. */
    static Path trustList(HostOptions host) {
        return PluginTrust.trustListOf(host.configuration())
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "[Quiver/NO_TRUST_LIST] no trust list: quiver.home is not"
                                                + " set (run through bin/quiver) and neither is "
                                                + PluginTrust.TRUST_LIST_KEY
                                                + "; pass -D "
                                                + PluginTrust.TRUST_LIST_KEY
                                                + "=FILE"));
    }

    /** The paths, folders replaced by their {@code .zip}/{@code .jar} files (not hidden). */
    static List<Path> archives(List<Path> paths) {
        var out = new ArrayList<Path>();
        for (Path p : paths) {
            if (!Files.isDirectory(p)) {
                out.add(p);
                continue;
            }
            try (Stream<Path> files = Files.list(p)) {
                files.filter(Files::isRegularFile)
                        .filter(
                                f -> {
                                    String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
                                    return !n.startsWith(".")
                                            && (n.endsWith(".zip") || n.endsWith(".jar"));
                                })
                        .sorted()
                        .forEach(out::add);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + p, e);
            }
        }
        return out;
    }
}
