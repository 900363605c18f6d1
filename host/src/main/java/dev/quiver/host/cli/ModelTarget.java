package dev.quiver.host.cli;

import dev.quiver.capabilities.Capability;
import dev.quiver.capabilities.CapabilityHeaderException;
import dev.quiver.capabilities.CapabilityHeaders;
import dev.quiver.host.live.ModelBinding;
import dev.quiver.host.plugin.ManifestHeaders;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which plugin's prediction a {@code backtest --model KEY=URI} serves the model to, read from the
 * plugin archives' manifests before the plugins start (the configuration they start with must
 * already name the model): {@code KEY} is a plugin id that provides exactly one prediction ({@code
 * prediction-lstm}) or a prediction's name ({@code xgboost}).
 *
 * @param pluginId the plugin
 * @param capability its prediction that serves the model
 */
record ModelTarget(String pluginId, String capability) {

    /**
     * The configuration key that hands the model's sidecar to that prediction.
     *
     * @return {@code <plugin-id>.<capability>.model}
     */
    String configKey() {
        return ModelBinding.configKey(pluginId, capability);
    }

    /**
     * Finds the target of {@code key} among the plugin archives in a folder.
     *
     * @param pluginsDir folder of plugin zips
     * @param key a plugin id or a prediction name
     * @param option the option for messages, e.g. {@code --model prediction-lstm=models:/x@a}
     * @return the target
     * @throws IllegalArgumentException naming the plugins and predictions found if {@code key} is
     *     neither, or is a plugin with no or several predictions
     */
    static ModelTarget of(Path pluginsDir, String key, String option) {
        Map<String, List<String>> predictions = predictionsByPlugin(pluginsDir);
        List<String> own = predictions.get(key);
        if (own != null) {
            if (own.size() == 1) {
                return new ModelTarget(key, own.get(0));
            }
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] "
                            + option
                            + ": plugin "
                            + key
                            + (own.isEmpty()
                                    ? " provides no prediction to serve a model"
                                    : " provides several predictions "
                                            + own
                                            + "; name the one to serve the model, e.g. "
                                            + own.get(0)
                                            + "=..."));
        }
        List<ModelTarget> byName = new ArrayList<>();
        predictions.forEach(
                (plugin, names) -> {
                    if (names.contains(key)) {
                        byName.add(new ModelTarget(plugin, key));
                    }
                });
        if (byName.size() == 1) {
            return byName.get(0);
        }
        throw new IllegalArgumentException(
                "[Quiver/BAD_OPTION] "
                        + option
                        + ": "
                        + (byName.isEmpty()
                                ? "no plugin in " + pluginsDir + " has that id or prediction"
                                : "prediction " + key + " is provided by several plugins " + byName)
                        + " (plugins and their predictions: "
                        + predictions
                        + ")");
    }

    /** Plugin id to the names of the predictions its manifest declares, for every archive. */
    private static Map<String, List<String>> predictionsByPlugin(Path pluginsDir) {
        Map<String, List<String>> out = new TreeMap<>();
        try (DirectoryStream<Path> archives =
                Files.newDirectoryStream(
                        pluginsDir,
                        p ->
                                Files.isRegularFile(p)
                                        && !p.getFileName().toString().startsWith(".")
                                        && (p.toString().endsWith(".zip")
                                                || p.toString().endsWith(".jar")))) {
            for (Path archive : archives) {
                Map<String, String> headers = ManifestHeaders.read(archive);
                String id = headers.get("Plugin-Id");
                if (id == null) {
                    continue; // not a plugin: the runtime refuses it with its reason
                }
                List<Capability> provided;
                try {
                    provided =
                            CapabilityHeaders.parseProvide(
                                    headers.getOrDefault(CapabilityHeaders.PROVIDE, ""));
                } catch (CapabilityHeaderException e) {
                    throw new IllegalArgumentException(
                            "[Quiver/BAD_OPTION] cannot tell which predictions "
                                    + archive
                                    + " provides: "
                                    + e.getMessage(),
                            e);
                }
                List<String> names = new ArrayList<>();
                for (Capability c : provided) {
                    if (c.namespace().equals(Capability.PREDICTION)
                            && c.attributes().get("name") != null) {
                        names.add(String.valueOf(c.attributes().get("name")));
                    }
                }
                out.put(id, names);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the plugins folder " + pluginsDir, e);
        }
        return new LinkedHashMap<>(out);
    }
}
