package dev.quiver.host.rollout;

import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.host.live.ModelBinding;
import dev.quiver.host.plugin.PluginRefusal;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelResolver;
import dev.quiver.host.registry.ResolvedModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * One side of a rollout, running: the capability's plugin started in a plugin manager of its own (a
 * private folder holding a copy of the plugin zip), with the variant's settings and, for a model
 * version, {@code model=<the verified version's sidecar>}. Two versions of one plugin id therefore
 * run side by side; PF4J cannot hold both in one manager.
 *
 * <p>Until the live lifecycle's one-manager-per-variant lands, this is one {@link PluginRuntime}
 * per variant.
 */
public final class VariantRuntime implements AutoCloseable {

    private final Role role;
    private final String description;
    private final PluginRuntime runtime;
    private final Path dir;
    private final Optional<ResolvedModel> model;
    private final Object capability;

    private VariantRuntime(
            Role role,
            String description,
            PluginRuntime runtime,
            Path dir,
            Optional<ResolvedModel> model,
            Object capability) {
        this.role = role;
        this.description = description;
        this.runtime = runtime;
        this.dir = dir;
        this.model = model;
        this.capability = capability;
    }

    /**
     * Starts a variant.
     *
     * @param spec the rollout
     * @param role which side
     * @param pluginsDir the installed plugins (where the plugin is found when the variant names no
     *     {@code plugin_zip})
     * @param hostConfig the host's plugin settings ({@code <plugin-id>.<key>}); the variant's own
     *     override them
     * @param resolver resolves a model variant's version (registry, cache or local folder); may be
     *     empty when neither variant is a model
     * @param workDir a folder for the variant's private plugin folder (created; deleted on close)
     * @return the running variant
     * @throws IllegalArgumentException naming the variant when the plugin zip is missing or
     *     ambiguous, the plugin does not start, or it provides no capability of the spec's kind and
     *     name
     */
    public static VariantRuntime start(
            RolloutSpec spec,
            Role role,
            Path pluginsDir,
            Map<String, String> hostConfig,
            Optional<ModelResolver> resolver,
            Path workDir) {
        RolloutSpec.Variant v = spec.variant(role);
        String where =
                "[Quiver/ROLLOUT_VARIANT] rollout '"
                        + spec.id()
                        + "' "
                        + role.id()
                        + " ("
                        + v.describe(spec.plugin())
                        + ")";
        Path zip = v.pluginZip().orElseGet(() -> installedZip(spec.plugin(), pluginsDir, where));
        if (!Files.isRegularFile(zip)) {
            throw new IllegalArgumentException(where + ": plugin zip " + zip + " does not exist");
        }
        String id = pluginId(zip, where);
        if (!id.equals(spec.plugin())) {
            throw new IllegalArgumentException(
                    where
                            + ": "
                            + zip.getFileName()
                            + " is plugin '"
                            + id
                            + "', the spec's capability.plugin is '"
                            + spec.plugin()
                            + "'");
        }
        Map<String, String> config = new HashMap<>(hostConfig);
        v.config().forEach((k, val) -> config.put(spec.plugin() + "." + k, val));
        Optional<ResolvedModel> model = Optional.empty();
        if (v.model().isPresent()) {
            ModelResolver r =
                    resolver.orElseThrow(
                            () ->
                                    new IllegalArgumentException(
                                            where + ": a model variant needs a model resolver"));
            ResolvedModel m = r.resolve(v.model().get());
            Path sidecar =
                    m.sidecar()
                            .orElseThrow(
                                    () ->
                                            new IllegalArgumentException(
                                                    where
                                                            + ": version "
                                                            + m.version()
                                                            + " has no sidecar; plugins read their model through it"));
            // The convention every model-backed source follows: <capability>.model = its sidecar.
            config.put(
                    ModelBinding.configKey(spec.plugin(), spec.capability()), sidecar.toString());
            model = Optional.of(m);
        }
        Path dir = workDir.resolve(spec.id()).resolve(role.id());
        PluginRuntime runtime;
        try {
            deleteTree(dir);
            Files.createDirectories(dir);
            Files.copy(zip, dir.resolve(zip.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + dir + " for " + where, e);
        }
        runtime = PluginRuntime.start(dir, config);
        try {
            Object cap =
                    switch (spec.kind()) {
                        case PREDICTION ->
                                runtime.predictions().stream()
                                        .filter(
                                                p ->
                                                        p.descriptor()
                                                                .name()
                                                                .equals(spec.capability()))
                                        .findFirst()
                                        .orElse(null);
                        case SIZING ->
                                runtime.sizings().stream()
                                        .filter(
                                                p ->
                                                        p.descriptor()
                                                                .name()
                                                                .equals(spec.capability()))
                                        .findFirst()
                                        .orElse(null);
                        case STRATEGY ->
                                throw new IllegalArgumentException(
                                        where
                                                + ": a strategy rollout runs on the sessions"
                                                + " (StrategyRollouts), not as a plugin variant");
                    };
            if (cap == null) {
                List<String> refusals = new ArrayList<>();
                for (PluginRefusal r : runtime.refusals()) {
                    refusals.add(r.message());
                }
                throw new IllegalArgumentException(
                        where
                                + ": provides no "
                                + spec.kind().id()
                                + " capability named '"
                                + spec.capability()
                                + "'"
                                + (refusals.isEmpty() ? "" : "; refused: " + refusals));
            }
            String description =
                    v.describe(spec.plugin())
                            + model.map(m -> " (run " + m.runId() + ", sha256 " + m.sha256() + ")")
                                    .orElse("");
            return new VariantRuntime(role, description, runtime, dir, model, cap);
        } catch (RuntimeException e) {
            runtime.close();
            throw e;
        }
    }

    /**
     * The role.
     *
     * @return champion or challenger
     */
    public Role role() {
        return role;
    }

    /**
     * What runs, for provenance and reports.
     *
     * @return e.g. {@code prediction-lstm as installed serving models:/quiver-lstm/4 (run ...,
     *     sha256 ...)}
     */
    public String description() {
        return description;
    }

    /**
     * The served model version, when the variant is one.
     *
     * @return the verified version
     */
    public Optional<ResolvedModel> model() {
        return model;
    }

    /**
     * The prediction capability (guarded by the host's plugin guard).
     *
     * @return the capability
     * @throws IllegalStateException if the rollout is of a sizing capability
     */
    public PredictionCapability prediction() {
        if (capability instanceof PredictionCapability p) {
            return p;
        }
        throw new IllegalStateException("variant " + role.id() + " is a sizing capability");
    }

    /**
     * The sizing capability (guarded by the host's plugin guard).
     *
     * @return the capability
     * @throws IllegalStateException if the rollout is of a prediction capability
     */
    public SizingCapability sizing() {
        if (capability instanceof SizingCapability s) {
            return s;
        }
        throw new IllegalStateException("variant " + role.id() + " is a prediction capability");
    }

    /** Stops the variant's plugin manager and deletes its private folder. */
    @Override
    public void close() {
        runtime.close();
        try {
            deleteTree(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }

    private static Path installedZip(String pluginId, Path pluginsDir, String where) {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(pluginsDir, "*.zip")) {
            for (Path z : ds) {
                if (pluginId(z, where).equals(pluginId)) {
                    found.add(z);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list plugins folder " + pluginsDir, e);
        }
        if (found.size() != 1) {
            throw new IllegalArgumentException(
                    where
                            + ": "
                            + (found.isEmpty() ? "no" : found.size())
                            + " zip(s) of plugin '"
                            + pluginId
                            + "' in "
                            + pluginsDir
                            + (found.isEmpty() ? "" : " " + found)
                            + "; name one with plugin_zip");
        }
        return found.get(0);
    }

    /** The Plugin-Id of a plugin zip's manifest. */
    static String pluginId(Path zip, String where) {
        try (ZipFile z = new ZipFile(zip.toFile())) {
            Enumeration<? extends ZipEntry> entries = z.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                if (e.getName().endsWith("META-INF/MANIFEST.MF")
                        && !e.getName().startsWith("lib/")) {
                    try (InputStream in = z.getInputStream(e)) {
                        String id = new Manifest(in).getMainAttributes().getValue("Plugin-Id");
                        if (id != null) {
                            return id.trim();
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    where + ": " + zip + " is not a readable zip (" + e.getMessage() + ")", e);
        }
        throw new IllegalArgumentException(
                where + ": " + zip + " has no manifest with a Plugin-Id");
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
