package dev.quiver.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Command-line form of {@link QuiverPluginTestKit#load}, run by the plugins parent pom in {@code
 * verify} on every plugin's zip: prints the capabilities found and exits 1 with every failure if
 * the packaged plugin does not load and pass against this plugins-api.
 */
public final class PackagedPluginCheck {

    private PackagedPluginCheck() {}

    /**
     * @param args the plugin zip, and optionally {@code true} to report a class loader that is not
     *     collected after unloading as a warning instead of a failure (a known leak the module
     *     declares)
     */
    public static void main(String[] args) {
        if (args.length < 1 || !Files.isRegularFile(Path.of(args[0]))) {
            System.err.println(
                    "usage: PackagedPluginCheck PLUGIN.zip [ALLOW_UNLOAD_LEAK] (got "
                            + String.join(" ", args)
                            + ")");
            System.exit(2);
        }
        boolean leakAllowed = args.length > 1 && Boolean.parseBoolean(args[1]);
        PackagedPluginResults r = QuiverPluginTestKit.load(Path.of(args[0]));
        System.out.println(
                "[quiver-testkit] packaged plugin "
                        + r.pluginId()
                        + ": "
                        + r.capabilities().list()
                        + (r.failures().isEmpty() ? ", loads and passes its contracts" : ""));
        int failed = 0;
        for (String f : r.failures()) {
            if (leakAllowed && f.startsWith("unload:")) {
                // Known and declared by the module (quiver.packagedCheck.allowUnloadLeak).
                System.err.println("[quiver-testkit] WARNING (allowed by the module) " + f);
            } else {
                System.err.println("[quiver-testkit] FAILED " + f);
                failed++;
            }
        }
        System.exit(failed == 0 ? 0 : 1);
    }
}
