package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.host.cli.Cli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How the integration tests trust the plugin archives they make or drop: with {@code quiver plugins
 * trust}, as a user would, on the tests' trust list (failsafe's {@value
 * PluginTrust#TRUST_LIST_KEY}, which the build seeds with the distribution's first-party plugins).
 */
public final class Trusting {

    private Trusting() {}

    /**
     * Trusts archives, or every archive in folders, through {@code quiver plugins trust}.
     *
     * @param archivesOrFolders zips, jars or folders of them
     * @throws AssertionError if the command does not exit 0
     */
    public static void trust(Path... archivesOrFolders) {
        var args = new ArrayList<String>(List.of("plugins", "trust"));
        for (Path p : archivesOrFolders) {
            args.add(p.toString());
        }
        var out = new StringWriter();
        var err = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
        assertThat(code).as(out + "\n" + err).isZero();
    }

    /**
     * The options that make a {@code bin/quiver} child process use the tests' trust list.
     *
     * @return {@code -D quiver.plugins.trust-list=FILE}
     */
    public static List<String> options() {
        return List.of(
                "-D",
                PluginTrust.TRUST_LIST_KEY + "=" + System.getProperty(PluginTrust.TRUST_LIST_KEY));
    }
}
