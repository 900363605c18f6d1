package dev.quiver.host.live;

import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelRefusedException;
import dev.quiver.host.registry.ModelResolver;
import dev.quiver.host.registry.ModelStore;
import dev.quiver.host.registry.ModelUri;
import dev.quiver.host.registry.ResolvedModel;
import dev.quiver.host.registry.SmokeSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gate a model version passes before it serves a binding of {@link LiveModels}, in order:
 * download and verification ({@link ModelResolver}: checksum, size, format, containment), a sidecar
 * and a smoke file stored with it, the smoke prediction in a child JVM ({@link
 * SmokeCheck#inChildJvm}, once per identical files, plugin archive and Java runtime: recorded in
 * the model cache, so a restart serving the cached version does not run it again), the plugin
 * building an instance with it, and the smoke prediction on that instance in this JVM. Then the
 * instance is swapped into the service's pipeline ({@link PipelineHolder#swap}; the one replaced is
 * closed once the decisions holding it have finished). A version failing any step is refused with a
 * reason code, recorded on its binding, counted and logged, and never serves.
 */
final class VersionAdmission {

    private static final Logger LOG = LoggerFactory.getLogger(LiveModels.class);

    private final PluginRuntime runtime;
    private final ModelResolver resolver;
    private final LiveModels.Settings settings;
    private final Clock clock;
    private final ModelMetrics metrics;
    private final Supplier<PipelineHolder> holder;
    private final java.util.Set<String> childPassed =
            java.util.concurrent.ConcurrentHashMap.newKeySet();

    VersionAdmission(
            PluginRuntime runtime,
            ModelResolver resolver,
            LiveModels.Settings settings,
            Clock clock,
            ModelMetrics metrics,
            Supplier<PipelineHolder> holder) {
        this.runtime = runtime;
        this.resolver = resolver;
        this.settings = settings;
        this.clock = clock;
        this.metrics = metrics;
        this.holder = holder;
    }

    /**
     * Resolves, checks and serves one version.
     *
     * @return null if it serves now, else the refusal reason (also recorded)
     */
    String attempt(BoundModel s, String version, Instant seenAt, boolean swap) {
        ModelUri uri = s.binding.model();
        String pinned = "models:/" + uri.name() + "/" + version;
        ResolvedModel m;
        try {
            m = resolver.resolve(pinned);
        } catch (ModelRefusedException e) {
            return refuse(s, version, classify(e.reason()), e.getMessage());
        }
        return serveResolved(s, m, seenAt, swap);
    }

    /** Checks a verified local version and serves it; null on success, else the reason. */
    String serveResolved(BoundModel s, ResolvedModel m, Instant seenAt, boolean swap) {
        String version = m.version();
        if (m.sidecar().isEmpty()) {
            return refuse(
                    s,
                    version,
                    "no_sidecar",
                    "the version has no sidecar (tag quiver.sidecar); plugins read their model"
                            + " through it");
        }
        if (m.smoke().isEmpty()) {
            return refuse(
                    s,
                    version,
                    "no_smoke",
                    "the version has no smoke file (tag quiver.smoke) to check it with; register it"
                            + " with quiver models register --plugin "
                            + s.pluginId);
        }
        SmokeSet smoke;
        try {
            smoke = SmokeSet.read(m.smoke().get());
        } catch (IOException | IllegalArgumentException e) {
            return refuse(s, version, "smoke_file", e.getMessage());
        }
        Path pluginPath =
                runtime.plugins().stream()
                        .filter(p -> p.id().equals(s.pluginId))
                        .map(LoadedPlugin::path)
                        .findFirst()
                        .orElseThrow();
        // Files that already passed the child check in this process (same model, sidecar and
        // smoke bytes, re-verified above) are not re-run there: the child guards this JVM against
        // a file it has not loaded yet. The in-process smoke below runs every time.
        String childKey;
        try {
            childKey =
                    s.pluginId
                            + "|"
                            + s.binding.capability()
                            + "|"
                            + pluginPath // another build of the plugin is checked again
                            + "|"
                            + m.sha256()
                            + "|"
                            + ModelStore.sha256(m.sidecar().get())
                            + "|"
                            + ModelStore.sha256(m.smoke().get());
        } catch (IOException e) {
            return refuse(s, version, "verify", "cannot read the version's files: " + e);
        }
        SmokeCheck.Result child;
        String durable = durableKey(childKey, pluginPath);
        if (childPassed.contains(childKey)) {
            child = new SmokeCheck.Result(true, 0, Double.NaN, "passed before in a child JVM");
        } else if (durable != null && passedBefore(durable)) {
            // A restart: the same files passed the child check with the same plugin archive and
            // Java runtime in an earlier run of this cache (the files were verified again above).
            child =
                    new SmokeCheck.Result(
                            true, 0, Double.NaN, "passed before in a child JVM (cache record)");
            childPassed.add(childKey);
        } else {
            child =
                    SmokeCheck.inChildJvm(
                            pluginPath,
                            s.pluginId,
                            s.binding.capability(),
                            m.sidecar().get(),
                            m.smoke().get(),
                            settings.childTimeout());
            if (!child.passed()) {
                return refuse(s, version, "smoke_child", child.reason());
            }
            childPassed.add(childKey);
            if (durable != null) {
                recordPassed(durable);
            }
        }
        PredictionCapability fresh;
        try {
            testLoadDelay();
            fresh =
                    runtime.newPrediction(
                                    s.binding.capability(),
                                    Map.of(
                                            ModelBinding.modelKey(s.binding.capability()),
                                            m.sidecar().get().toString()))
                            .prediction();
        } catch (RuntimeException e) {
            return refuse(s, version, "load", e.getMessage());
        }
        SmokeCheck.Result here = SmokeCheck.check(fresh, smoke);
        if (!here.passed()) {
            fresh.close();
            return refuse(s, version, "smoke", here.reason());
        }
        if (Thread.currentThread().isInterrupted()) {
            // The attempt ran past its timeout and was given up: never swap late.
            fresh.close();
            return "timeout: given up before the swap";
        }
        PredictionCapability old = s.instance;
        if (swap) {
            ServedModel served =
                    new ServedModel(
                            s.binding.capability(),
                            s.pluginId,
                            s.binding.requested(),
                            m.name(),
                            version,
                            m.runId(),
                            m.sha256());
            var replaced = new java.util.concurrent.atomic.AtomicReference<PredictionCapability>();
            try {
                holder.get()
                        .swap(
                                p -> {
                                    Pipeline.Builder b = p.toBuilder();
                                    replaced.set(
                                            b.replacePrediction(
                                                    s.binding.capability(), fresh, served));
                                    return b.build();
                                },
                                () -> {
                                    // What the swap replaced: the instance this binding served
                                    // before.
                                    PredictionCapability r = replaced.get();
                                    if (old != null) {
                                        old.close();
                                    }
                                    if (r != old) {
                                        LOG.warn(
                                                "{}: the swap replaced {}, not the instance this binding"
                                                        + " served (closed the binding's own)",
                                                s.binding,
                                                r);
                                    }
                                });
            } catch (RuntimeException e) {
                // e.g. the service is shutting down: the holder takes no more swaps.
                fresh.close();
                return refuse(s, version, "error", "the swap failed: " + e.getMessage());
            }
        }
        // Published only once the pipeline serves it: status never runs ahead of decisions.
        s.model = m;
        s.instance = fresh;
        s.servingSince = clock.instant();
        if (swap) {
            s.swaps.incrementAndGet();
            metrics.swaps("ok").increment();
            metrics.aliasToServing.record(Duration.between(seenAt, clock.instant()));
        }
        // The cache's alias record is the last version that passed: what a restart with the
        // registry down serves.
        s.binding.model().alias().ifPresent(a -> resolver.remember(m.name(), a, version));
        LOG.info(
                "{}: serving models:/{}/{} (run {}, sha256 {}, {}; smoke: {} cases, max |diff| {}"
                        + " here; child JVM: {})",
                s.binding,
                m.name(),
                version,
                m.runId(),
                m.sha256(),
                m.origin(),
                here.cases(),
                here.maxAbsDiff(),
                child.reason().isEmpty()
                        ? child.cases() + " cases, max |diff| " + child.maxAbsDiff()
                        : child.reason());
        return null;
    }

    /**
     * Test-only system property: milliseconds to sleep before the plugin builds an instance of a
     * version, so tests can show the old version serving through a slow load (RELIABILITY.md P6: "a
     * model whose load takes 5 s"). Unset (the default) means no delay; never set in production.
     */
    static final String TEST_LOAD_DELAY_PROPERTY = "quiver.test.model-load-delay-ms";

    private static void testLoadDelay() {
        String ms = System.getProperty(TEST_LOAD_DELAY_PROPERTY);
        if (ms == null || ms.isBlank()) {
            return;
        }
        long delay;
        try {
            delay = Long.parseLong(ms.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] -D"
                            + TEST_LOAD_DELAY_PROPERTY
                            + "="
                            + ms
                            + ": not a number",
                    e);
        }
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during the test load delay", e);
        }
    }

    String refuse(BoundModel s, String version, String reason, String detail) {
        s.refuse(new BoundModel.Refusal(version, reason, detail, clock.instant()));
        metrics.refused(reason);
        LOG.warn(
                "[Quiver/MODEL_REFUSED] {}: version {} refused ({}): {}; {} keeps serving",
                s.binding,
                version,
                reason,
                detail,
                s.model == null ? "nothing" : "version " + s.model.version());
        return reason + ": " + detail;
    }

    /** A reason code for a refusal by the resolver. */
    static String classify(String reason) {
        if (reason.contains("(truncated)")) {
            return "truncated";
        }
        if (reason.contains("checksum mismatch")) {
            return "checksum";
        }
        if (reason.contains("path escape")
                || reason.contains("escapes the model folder")
                || reason.contains("external data")
                || reason.contains("not a plain file name")
                || reason.contains("folder or link")) {
            return "containment";
        }
        if (reason.contains("pickle")
                || reason.contains("not an accepted format")
                || reason.contains("does not start like")
                || reason.contains("zip archive")
                || reason.contains("is empty")) {
            return "format";
        }
        if (reason.contains("the registry answered")) {
            return "registry";
        }
        return "verify";
    }

    /** Records of child checks passed, kept in the model cache across restarts. */
    static final String CHILD_CHECKS_FILE = "child-checks-passed.txt";

    /**
     * The key of a child check that holds across restarts: the files and the plugin (by the sha256
     * of its archive, not its path) and the Java runtime; null when the plugin has no archive.
     */
    private String durableKey(String childKey, Path pluginPath) {
        // PF4J loads an archive from its expansion beside it (NAME.zip -> NAME/).
        Path archive = pluginPath;
        if (!Files.isRegularFile(archive)) {
            archive = pluginPath.resolveSibling(pluginPath.getFileName() + ".zip");
        }
        if (!Files.isRegularFile(archive)) {
            return null;
        }
        try {
            String plugin = ModelStore.sha256(archive);
            byte[] d =
                    java.security.MessageDigest.getInstance("SHA-256")
                            .digest(
                                    (childKey + "|" + plugin + "|" + Runtime.version())
                                            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(d);
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            LOG.warn(
                    "cannot key the child check of {} across restarts: {}",
                    pluginPath,
                    e.toString());
            return null;
        }
    }

    private boolean passedBefore(String durable) {
        Path f = resolver.store().root().resolve(CHILD_CHECKS_FILE);
        try {
            return Files.isRegularFile(f) && Files.readAllLines(f).contains(durable);
        } catch (IOException e) {
            LOG.warn("cannot read {} ({}); the child check runs", f, e.toString());
            return false;
        }
    }

    private synchronized void recordPassed(String durable) {
        Path f = resolver.store().root().resolve(CHILD_CHECKS_FILE);
        try {
            Files.createDirectories(f.getParent());
            Files.writeString(
                    f,
                    durable + "\n",
                    java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            // Only costs a child check at the next restart.
            LOG.warn("cannot record the passed child check in {}: {}", f, e.toString());
        }
    }
}
