package dev.quiver.host.rollout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowException;
import dev.quiver.host.registry.ModelUri;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rollouts of one service: starts them, applies manual commands, and carries out what every
 * transition implies: its audit event and the rollout's state, committed together to the state
 * store before the call returns ({@link RolloutStore}), and, when a variant is a registered model
 * version, the MLflow aliases.
 *
 * <p>Aliases: starting a rollout whose challenger is {@code models:/NAME/V} points {@code
 * NAME@challenger} at V; completing it points {@code NAME@champion} at V and removes {@code
 * @challenger}; rolling back or aborting removes {@code @challenger} if it still points at V. These
 * calls run on one background thread, never on a decision's path (the registry may be slow or
 * down); each outcome is its own audit line ({@code "event": "registry"}). A failed alias move is
 * logged and audited, and the rollout's own state stays authoritative.
 *
 * <p>Thread-safe.
 */
public final class RolloutManager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RolloutManager.class);

    private final RolloutStore store;
    private final Optional<MlflowClient> registry;
    private final Clock clock;
    private final Map<String, RolloutController> rollouts = new LinkedHashMap<>();
    private final ExecutorService registryThread =
            Executors.newSingleThreadExecutor(
                    r -> {
                        Thread t = new Thread(r, "quiver-rollout-registry");
                        t.setDaemon(true);
                        return t;
                    });

    /** Longest a scored outcome waits before its state is written. */
    public static final long FLUSH_MILLIS = 1000;

    private final Map<String, RolloutController> dirty = new LinkedHashMap<>();

    /**
     * Held from taking a snapshot until it is committed: states are stored in the order they were
     * taken, so an older state never overwrites a newer one.
     */
    private final Object saveLock = new Object();

    /**
     * Per rollout id, transitions whose commit failed: audited (and their aliases moved) with the
     * rollout's next commit. Guarded by {@link #saveLock}.
     */
    private final Map<String, List<Transition>> owed = new LinkedHashMap<>();

    private final ScheduledExecutorService flusher =
            Executors.newSingleThreadScheduledExecutor(
                    r -> {
                        Thread t = new Thread(r, "quiver-rollout-flush");
                        t.setDaemon(true);
                        return t;
                    });

    private RolloutManager(RolloutStore store, Optional<MlflowClient> registry, Clock clock) {
        this.store = store;
        this.registry = registry;
        this.clock = clock;
        flusher.scheduleWithFixedDelay(
                () -> {
                    try {
                        flush();
                    } catch (RuntimeException e) {
                        LOG.error("cannot save rollout state: {}", e.getMessage(), e);
                    }
                },
                FLUSH_MILLIS,
                FLUSH_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    /**
     * Opens the store and restores every rollout saved in it.
     *
     * @param store where state and audit live
     * @param registry the MLflow registry whose aliases follow model-version rollouts, or empty
     * @param clock time stamps of transitions
     * @return the manager
     * @throws dev.quiver.host.store.StoreException if the store cannot be read
     * @throws IllegalStateException naming the rollout if a stored state cannot be read back
     */
    public static RolloutManager open(
            RolloutStore store, Optional<MlflowClient> registry, Clock clock) {
        RolloutManager m = new RolloutManager(store, registry, clock);
        for (RolloutSnapshot s : store.loadAll()) {
            RolloutController c = RolloutController.restore(s);
            c.keepSeries();
            m.rollouts.put(c.id(), c);
        }
        return m;
    }

    /**
     * The store.
     *
     * @return the store
     */
    public RolloutStore store() {
        return store;
    }

    /**
     * Starts a rollout.
     *
     * @param spec the spec
     * @return its controller
     * @throws IllegalStateException with code {@code ROLLOUT_EXISTS} if the id is taken, or {@code
     *     ROLLOUT_CONFLICT} if another live rollout has the same capability
     */
    public synchronized RolloutController start(RolloutSpec spec) {
        return start(spec, "operator", "started");
    }

    /**
     * Starts a rollout, auditing who started it and why.
     *
     * @param spec the spec
     * @param actor who starts it (the audit line's {@code actor})
     * @param reason why (the audit line's {@code reason})
     * @return its controller
     * @throws IllegalStateException with code {@code ROLLOUT_EXISTS} if the id is taken, or {@code
     *     ROLLOUT_CONFLICT} if another live rollout has the same capability
     */
    public synchronized RolloutController start(RolloutSpec spec, String actor, String reason) {
        if (rollouts.containsKey(spec.id())) {
            throw new IllegalStateException(
                    "[Quiver/ROLLOUT_EXISTS] a rollout with id '"
                            + spec.id()
                            + "' exists ("
                            + rollouts.get(spec.id()).stage().id()
                            + "); choose another id");
        }
        Optional<RolloutController> other = live(spec.kind(), spec.capability());
        if (other.isPresent()) {
            throw new IllegalStateException(
                    "[Quiver/ROLLOUT_CONFLICT] rollout '"
                            + other.get().id()
                            + "' is already "
                            + other.get().stage().id()
                            + " for "
                            + spec.kind().id()
                            + " '"
                            + spec.capability()
                            + "'; finish, roll back or abort it first");
        }
        RolloutController c = RolloutController.start(spec, clock.instant());
        ObjectNode line = RolloutStore.JSON.createObjectNode();
        line.put("event", "start")
                .put("time", clock.instant().toString())
                .put("rollout", spec.id())
                .putNull("from")
                .put("to", spec.mode().id())
                .put("actor", actor)
                .put("reason", reason);
        line.set("spec", spec.toJson());
        c.keepSeries();
        synchronized (saveLock) {
            store.save(c.snapshot(), List.of(line));
        }
        rollouts.put(spec.id(), c);
        spec.challenger()
                .modelUri()
                .or(() -> spec.challenger().strategyUri())
                .ifPresent(
                        m ->
                                registryAction(
                                        spec.id(),
                                        "set "
                                                + m.name()
                                                + "@challenger -> "
                                                + m.version().orElseThrow(),
                                        c2 ->
                                                c2.setAlias(
                                                        m.name(),
                                                        "challenger",
                                                        m.version().orElseThrow())));
        LOG.info("rollout {} started in {}: {}", spec.id(), spec.mode().id(), describe(spec));
        return c;
    }

    private static String describe(RolloutSpec spec) {
        return spec.kind().id()
                + " '"
                + spec.capability()
                + "', champion "
                + spec.champion().describe(spec.plugin())
                + ", challenger "
                + spec.challenger().describe(spec.plugin());
    }

    /**
     * Every rollout, in start order.
     *
     * @return the controllers
     */
    public synchronized List<RolloutController> list() {
        return new ArrayList<>(rollouts.values());
    }

    /**
     * One rollout.
     *
     * @param id its id
     * @return the controller, if any
     */
    public synchronized Optional<RolloutController> get(String id) {
        return Optional.ofNullable(rollouts.get(id));
    }

    /**
     * The live (not terminal) rollout of a capability.
     *
     * @param kind capability kind
     * @param capability its name
     * @return the controller, if any
     */
    public synchronized Optional<RolloutController> live(RolloutSpec.Kind kind, String capability) {
        return rollouts.values().stream()
                .filter(c -> !c.stage().terminal())
                .filter(c -> c.spec().kind() == kind && c.spec().capability().equals(capability))
                .findFirst();
    }

    /**
     * An operator's promotion (one stage forward).
     *
     * @param id rollout id
     * @param reason why, for the audit log
     * @return the transition
     * @throws java.util.NoSuchElementException if there is no such rollout
     * @throws IllegalStateException if it is over
     */
    public Transition promote(String id, String reason) {
        return promote(id, null, reason);
    }

    /**
     * As {@link #promote(String, String)}, naming who asked.
     *
     * @param id rollout id
     * @param actor who, for the audit log ({@code operator} when null or blank)
     * @param reason why
     * @return the transition
     * @throws java.util.NoSuchElementException if there is no such rollout
     * @throws IllegalStateException if it is over
     */
    public Transition promote(String id, String actor, String reason) {
        RolloutController c = require(id);
        Transition t = c.promote(actor, reason, clock.instant());
        applied(c, List.of(t));
        return t;
    }

    /**
     * An operator's rollback.
     *
     * @param id rollout id
     * @param reason why
     * @return the transition
     * @throws java.util.NoSuchElementException if there is no such rollout
     * @throws IllegalStateException if it is over
     */
    public Transition rollback(String id, String reason) {
        return rollback(id, null, reason);
    }

    /**
     * As {@link #rollback(String, String)}, naming who asked.
     *
     * @param id rollout id
     * @param actor who, for the audit log ({@code operator} when null or blank)
     * @param reason why
     * @return the transition
     * @throws java.util.NoSuchElementException if there is no such rollout
     * @throws IllegalStateException if it is over
     */
    public Transition rollback(String id, String actor, String reason) {
        RolloutController c = require(id);
        Transition t = c.rollback(actor, reason, clock.instant());
        applied(c, List.of(t));
        return t;
    }

    /**
     * An operator's abort.
     *
     * @param id rollout id
     * @param reason why
     * @return the transition
     * @throws java.util.NoSuchElementException if there is no such rollout
     * @throws IllegalStateException if it is over
     */
    public Transition abort(String id, String reason) {
        return abort(id, null, reason);
    }

    /**
     * As {@link #abort(String, String)}, naming who asked.
     *
     * @param id rollout id
     * @param actor who, for the audit log ({@code operator} when null or blank)
     * @param reason why
     * @return the transition
     * @throws java.util.NoSuchElementException if there is no such rollout
     * @throws IllegalStateException if it is over
     */
    public Transition abort(String id, String actor, String reason) {
        RolloutController c = require(id);
        Transition t = c.abort(actor, reason, clock.instant());
        applied(c, List.of(t));
        return t;
    }

    private RolloutController require(String id) {
        return get(id).orElseThrow(
                        () ->
                                new java.util.NoSuchElementException(
                                        "[Quiver/NO_SUCH_ROLLOUT] no rollout with id '"
                                                + id
                                                + "'"));
    }

    /**
     * Carries out transitions a controller made (rule or operator): one audit event each and the
     * state, committed together before this returns; then the alias moves and installs they imply
     * (queued, audited when done). Without transitions the state is only marked for the next flush.
     *
     * @param c the controller
     * @param transitions what it returned
     * @throws dev.quiver.host.store.StoreException if the store fails: then neither the events nor
     *     the state are stored and no alias moves; the transitions stay owed and are committed,
     *     audited and carried out with the rollout's next commit (the flusher's, within {@value
     *     #FLUSH_MILLIS} ms)
     */
    public void applied(RolloutController c, List<Transition> transitions) {
        if (transitions.isEmpty()) {
            saveSoon(c);
            return;
        }
        commit(c, transitions);
    }

    /**
     * Commits a controller's state with the audit events of its new transitions and of those a
     * failed commit left owed, then carries out what the transitions imply. When the store fails,
     * the transitions stay owed and the state marked dirty: the next commit of this rollout (the
     * flusher's, within {@value #FLUSH_MILLIS} ms) stores them, audits them in order and only then
     * moves the aliases, so the audit log never misses a transition the state has.
     */
    private void commit(RolloutController c, List<Transition> transitions) {
        List<Transition> all;
        synchronized (saveLock) {
            synchronized (dirty) {
                dirty.remove(c.id());
            }
            all = new ArrayList<>(owed.getOrDefault(c.id(), List.of()));
            all.addAll(transitions);
            List<ObjectNode> lines = new ArrayList<>();
            for (Transition t : all) {
                ObjectNode line = RolloutStore.JSON.createObjectNode().put("event", "transition");
                line.setAll((ObjectNode) RolloutStore.JSON.valueToTree(t));
                lines.add(line);
            }
            List<SeriesPoint> points = c.unsavedSeries();
            try {
                store.save(c.snapshot(), lines, points);
                c.seriesSaved(points);
            } catch (RuntimeException e) {
                if (!all.isEmpty()) {
                    owed.put(c.id(), all);
                }
                synchronized (dirty) {
                    dirty.putIfAbsent(c.id(), c);
                }
                throw e;
            }
            owed.remove(c.id());
        }
        for (Transition t : all) {
            LOG.info(
                    "rollout {}: {} -> {} by {}: {}",
                    t.rollout(),
                    t.from(),
                    t.to(),
                    t.actor(),
                    t.reason());
            aliasesFor(c.spec(), t);
            installFor(c.spec(), t);
            for (java.util.function.BiConsumer<RolloutSpec, Transition> l : listeners) {
                try {
                    l.accept(c.spec(), t);
                } catch (RuntimeException e) {
                    // a listener's failure must not undo a committed transition; it is logged
                    LOG.error(
                            "rollout {}: acting on {} -> {} failed: {}",
                            t.rollout(),
                            t.from(),
                            t.to(),
                            e.toString(),
                            e);
                }
            }
        }
    }

    private final List<java.util.function.BiConsumer<RolloutSpec, Transition>> listeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Calls {@code listener} after every committed transition (rule or operator), on the thread
     * that committed it, after the alias moves were queued: e.g. a completed strategy rollout makes
     * its challenger the served bundle. The listener must not block on a session.
     *
     * @param listener gets the rollout's spec and the transition
     */
    public void onTransition(java.util.function.BiConsumer<RolloutSpec, Transition> listener) {
        listeners.add(listener);
    }

    /**
     * Persists a controller's state now (with the audit events of transitions a failed commit left
     * owed).
     *
     * @param c the controller
     * @throws dev.quiver.host.store.StoreException if the store fails (the state stays marked for
     *     the next flush)
     */
    public void save(RolloutController c) {
        commit(c, List.of());
    }

    /**
     * Marks a controller's state for the next flush (at most {@value #FLUSH_MILLIS} ms away): what
     * the decision path calls after recording or scoring outcomes, so a request never waits for a
     * commit. A crash loses at most that much of the outcome statistics; transitions are saved at
     * once.
     *
     * @param c the controller
     */
    public void saveSoon(RolloutController c) {
        synchronized (dirty) {
            dirty.put(c.id(), c);
        }
    }

    /**
     * Writes every state marked by {@link #saveSoon} (and by failed commits).
     *
     * @throws RuntimeException the first failure, the others suppressed, once every state was tried
     */
    public void flush() {
        // The marks stay until each commit takes its own off under the save lock, right before it
        // writes: so {@link #isSaved} never sees a state unmarked and not yet written.
        List<RolloutController> todo;
        synchronized (dirty) {
            todo = new ArrayList<>(dirty.values());
        }
        RuntimeException failed = null;
        for (RolloutController c : todo) {
            try {
                commit(c, List.of());
            } catch (RuntimeException e) {
                // marked dirty again by commit; the others are still written
                if (failed == null) {
                    failed = e;
                } else {
                    failed.addSuppressed(e);
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    /**
     * Whether everything recorded so far for a rollout is in the store: no outcome waits for the
     * next flush and no transition is owed. What a crash right now would keep.
     *
     * @param id the rollout's id
     * @return true when the stored state equals the state in memory
     */
    public boolean isSaved(String id) {
        synchronized (saveLock) {
            synchronized (dirty) {
                return !dirty.containsKey(id) && !owed.containsKey(id);
            }
        }
    }

    private void aliasesFor(RolloutSpec spec, Transition t) {
        Optional<ModelUri> challenger =
                spec.challenger().modelUri().or(() -> spec.challenger().strategyUri());
        if (challenger.isEmpty()) {
            return;
        }
        String name = challenger.get().name();
        String version = challenger.get().version().orElseThrow();
        if (t.to().equals(Stage.COMPLETED.id())) {
            registryAction(
                    spec.id(),
                    "set " + name + "@champion -> " + version + "; remove " + name + "@challenger",
                    client -> {
                        client.setAlias(name, "champion", version);
                        client.deleteAlias(name, "challenger");
                    });
        } else if (t.to().equals(Stage.ROLLED_BACK.id()) || t.to().equals(Stage.ABORTED.id())) {
            registryAction(
                    spec.id(),
                    "remove " + name + "@challenger (was " + version + ")",
                    client -> {
                        JsonNode now;
                        try {
                            now = client.versionByAlias(name, "challenger");
                        } catch (MlflowException e) {
                            // MLflow answers an unknown alias with 400 "... not found"
                            if (e.notFound()
                                    || String.valueOf(e.getMessage()).contains("not found")) {
                                return; // already gone
                            }
                            throw e;
                        }
                        if (!now.path("version").asText().equals(version)) {
                            throw new IllegalStateException(
                                    name
                                            + "@challenger now points at version "
                                            + now.path("version").asText()
                                            + ", not "
                                            + version
                                            + "; left as it is");
                        }
                        client.deleteAlias(name, "challenger");
                    });
        }
    }

    /** Where a completed plugin-version rollout installs its winner; null: nowhere. */
    private volatile Path pluginsDir;

    /**
     * Makes a completed rollout whose challenger is another plugin zip durable: the zip is copied
     * into {@code pluginsDir} (atomically, under its own file name) and the champion's archive of
     * the same plugin id removed, so a service that watches the folder swaps it in and a restart
     * serves it. Without this call a finished plugin rollout routes to its winner only until the
     * service stops.
     *
     * @param pluginsDir the service's plugins folder
     */
    public void installWinnersInto(Path pluginsDir) {
        this.pluginsDir = pluginsDir;
    }

    private void installFor(RolloutSpec spec, Transition t) {
        Optional<Path> zip = spec.challenger().pluginZip();
        Path dir = pluginsDir;
        if (zip.isEmpty() || dir == null || !t.to().equals(Stage.COMPLETED.id())) {
            return;
        }
        String action =
                "install " + zip.get().getFileName() + " as " + spec.plugin() + " in " + dir;
        registryThread.execute(
                () -> {
                    String result;
                    try {
                        result = "ok: " + install(spec.plugin(), zip.get(), dir);
                    } catch (IOException | RuntimeException e) {
                        result = "failed: " + e;
                        LOG.warn("rollout {}: '{}' failed: {}", spec.id(), action, e.toString());
                    }
                    store.appendAudit(
                            RolloutStore.JSON
                                    .createObjectNode()
                                    .put("event", "install")
                                    .put("time", clock.instant().toString())
                                    .put("rollout", spec.id())
                                    .put("action", action)
                                    .put("result", result));
                });
    }

    /**
     * Copies {@code zip} into {@code dir} under its own name (via a hidden temporary file and an
     * atomic move, so a folder watcher never sees half a zip), then removes the other archives of
     * plugin {@code pluginId}.
     *
     * @return what was replaced, for the audit log
     */
    static String install(String pluginId, Path zip, Path dir) throws IOException {
        Path target = dir.resolve(zip.getFileName().toString());
        List<Path> others = new ArrayList<>();
        try (var files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                String n = f.getFileName().toString();
                if (!f.equals(target)
                        && Files.isRegularFile(f)
                        && (n.endsWith(".zip") || n.endsWith(".jar"))
                        && pluginId.equals(pluginIdOf(f))) {
                    others.add(f);
                }
            }
        }
        Path tmp = dir.resolve("." + target.getFileName() + ".installing");
        Files.copy(zip, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(
                tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        for (Path o : others) {
            Files.delete(o);
        }
        return others.isEmpty()
                ? "added " + target.getFileName()
                : "replaced " + others.stream().map(o -> o.getFileName().toString()).toList();
    }

    /** The {@code Plugin-Id} in an archive's manifest, or null if it has none or is unreadable. */
    private static String pluginIdOf(Path archive) {
        try {
            return dev.quiver.host.plugin.ManifestHeaders.read(archive).get("Plugin-Id");
        } catch (java.io.UncheckedIOException e) {
            return null; // not a readable plugin archive, so not the champion's
        }
    }

    private interface RegistryCall {
        void run(MlflowClient client);
    }

    private void registryAction(String rollout, String action, RegistryCall call) {
        if (registry.isEmpty()) {
            store.appendAudit(
                    registryLine(rollout, action, "skipped: no tracking URI (no registry)"));
            return;
        }
        registryThread.execute(
                () -> {
                    String result;
                    try {
                        call.run(registry.get());
                        result = "ok";
                    } catch (RuntimeException e) {
                        result = "failed: " + e.getMessage();
                        LOG.warn(
                                "rollout {}: registry action '{}' failed: {}",
                                rollout,
                                action,
                                e.getMessage());
                    }
                    store.appendAudit(registryLine(rollout, action, result));
                });
    }

    private ObjectNode registryLine(String rollout, String action, String result) {
        return RolloutStore.JSON
                .createObjectNode()
                .put("event", "registry")
                .put("time", clock.instant().toString())
                .put("rollout", rollout)
                .put("action", action)
                .put("result", result);
    }

    /**
     * Waits until every registry action queued so far has run (tests, shutdown).
     *
     * @throws InterruptedException if interrupted while waiting
     */
    public void awaitRegistry() throws InterruptedException {
        var done = new java.util.concurrent.CountDownLatch(1);
        registryThread.execute(done::countDown);
        done.await();
    }

    /**
     * Writes pending state, runs the queued registry actions (waiting up to 30 s), then stops the
     * background threads.
     */
    @Override
    public void close() {
        flusher.shutdown();
        flush();
        registryThread.shutdown();
        try {
            if (!registryThread.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("rollout registry actions still running after 30 s at shutdown");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
