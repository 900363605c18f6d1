package dev.quiver.host.plugin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Loads rollout variants: PF4J refuses two plugins with one id in one manager, so each variant (a
 * folder holding, e.g., the challenger version of {@code prediction-lstm}) gets a {@link
 * PluginRuntime}, and with it a PF4J manager, class loaders, guards and capability resolution, of
 * its own. The champion can be the main runtime's plugin and the challenger a variant, or both can
 * be variants.
 *
 * <pre>{@code
 * try (PluginVariant challenger = PluginVariants.load("challenger", dir, config)) {
 *     challenger.versions();     // {prediction-lstm=1.3.0}
 *     challenger.predictions();  // the 1.3.0 capabilities, guarded, beside the champion's
 * }
 * }</pre>
 *
 * <p>Each variant needs its own folder, outside the service's watched plugins folder (PF4J expands
 * zips beside themselves, and the service would otherwise load the challenger as a plugin of its
 * own). A variant's plugins must resolve within the variant: capabilities of the main runtime are
 * not on offer to it.
 */
public final class PluginVariants {

    private PluginVariants() {}

    /**
     * {@link #load(String, Path, Map)} labelled with the folder's name, e.g. {@code challenger}.
     *
     * @throws IllegalArgumentException if {@code variantDir} is not a folder
     */
    public static PluginVariant load(Path variantDir, Map<String, String> config) {
        Path name = variantDir.toAbsolutePath().normalize().getFileName();
        return load(name == null ? variantDir.toString() : name.toString(), variantDir, config);
    }

    /**
     * Loads and starts every plugin in {@code variantDir} in a PF4J manager of its own.
     *
     * @param label the variant's name in reports, e.g. {@code champion} or {@code challenger}
     * @param variantDir folder holding the variant's plugin zips
     * @param config plugin and isolation configuration, as for {@link PluginRuntime#start}
     * @return the running variant; refusals are reported by {@link PluginVariant#refusals()}
     * @throws IllegalArgumentException if the label is blank or {@code variantDir} is not a folder
     */
    public static PluginVariant load(String label, Path variantDir, Map<String, String> config) {
        if (label == null || label.isBlank()) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_VARIANT] a variant needs a label (e.g. challenger), got '"
                            + label
                            + "' for "
                            + variantDir);
        }
        if (!Files.isDirectory(variantDir)) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_VARIANT] variant '"
                            + label
                            + "': folder "
                            + variantDir.toAbsolutePath()
                            + " does not exist or is not a folder");
        }
        return new PluginVariant(label, PluginRuntime.start(variantDir, config));
    }
}
