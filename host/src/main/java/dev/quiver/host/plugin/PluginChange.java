package dev.quiver.host.plugin;

import dev.quiver.capabilities.Capability;
import dev.quiver.capabilities.CapabilityHeaders;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One change of the plugins folder, as {@link PluginRuntime#apply} performs it: compares the
 * settled archives with the ones the runtime knows (diff), loads what was added or replaced, each
 * in a PF4J manager of its own, re-runs resolution over the kept and the new plugins, wires the new
 * ones and describes it all as a {@link PluginTransition} holding the next {@link RuntimeState}.
 * Nothing is closed or unloaded here but what this change itself loaded and refused: the plugins
 * taken out keep working until the transition is retired. Used once, under the runtime's lock.
 */
final class PluginChange {

    // Logged under the runtime's name, as before the runtime was split.
    private static final Logger log = LoggerFactory.getLogger(PluginRuntime.class);

    /** Refusals that depend on the other plugins; such an archive is tried again on each change. */
    private static final Set<String> RETRIED =
            Set.of(
                    "DUPLICATE_PLUGIN_ID",
                    "DUPLICATE_CAPABILITY",
                    "MISSING_DEPENDENCY",
                    "WRONG_DEPENDENCY_VERSION",
                    "CAPABILITY_UNRESOLVED");

    private final RuntimeState before;
    private final Map<Path, String> settled;
    private final Set<Path> unsettled;
    private final PluginLoader loader;
    private final PluginWiring wiring;

    private final List<Path> removed = new ArrayList<>();
    private final List<Path> changed = new ArrayList<>();
    private final Set<Path> gone = new HashSet<>();
    private final List<InstalledPlugin> keep = new ArrayList<>();
    private final List<InstalledPlugin> retiring = new ArrayList<>();
    private final List<Path> toLoad = new ArrayList<>();
    private final Set<Path> replacing = new HashSet<>();
    private final Map<Path, PluginArchives.ArchiveStamp> archives;
    private final List<PluginLoader.Cell> cells = new ArrayList<>();
    private final Set<Path> failedArchives = new HashSet<>();
    private final Map<String, PluginRefusal> unresolved = new HashMap<>();
    private CapabilityResolver.Resolution resolution;
    private final List<InstalledPlugin> wired = new ArrayList<>();
    private final List<InstalledPlugin> added = new ArrayList<>();

    /** The earlier refusals that still hold. */
    private final List<PluginRefusal> refusals = new ArrayList<>();

    /** The refusals of this change. */
    private final List<PluginRefusal> fresh = new ArrayList<>();

    private final List<String> actions = new ArrayList<>();

    /** Whether the trust configuration changed since the runtime last looked. */
    private boolean trustChanged;

    PluginChange(
            RuntimeState before,
            Map<Path, String> settled,
            Set<Path> unsettled,
            PluginLoader loader,
            PluginWiring wiring) {
        this.before = before;
        this.settled = settled;
        this.unsettled = unsettled;
        this.loader = loader;
        this.wiring = wiring;
        this.archives = new TreeMap<>(before.archives());
    }

    /**
     * Performs the change (see {@link PluginRuntime#apply}).
     *
     * @return what changed, its {@link PluginTransition#nextState()} the runtime's next state; or
     *     {@link PluginTransition#none()} if no archive was added, changed or removed
     */
    PluginTransition run() {
        diff();
        // After `quiver plugins trust|untrust` or a change of the signers, the archives refused as
        // untrusted are checked again even if no archive changed.
        trustChanged = loader.trustChanged();
        boolean untrustedToRetry =
                trustChanged
                        && before.refusals().stream()
                                .anyMatch(
                                        r ->
                                                PluginTrust.CODES.contains(r.code())
                                                        && settled.containsKey(
                                                                PluginArchives.archiveOf(
                                                                        r.path())));
        if (removed.isEmpty() && changed.isEmpty() && !untrustedToRetry) {
            return PluginTransition.none();
        }
        plan();
        loadNew();
        resolve();
        wire();
        describeWired();
        describeRest();
        refusals.addAll(fresh);
        wired.sort(Comparator.comparing(InstalledPlugin::id));
        var next =
                new RuntimeState(List.copyOf(wired), List.copyOf(refusals), resolution, archives);
        PluginTransition t = new PluginTransition(added, retiring, fresh, actions, before, next);
        log.info("[Quiver/PLUGINS_CHANGED] {}", t);
        return t;
    }

    /** The archives gone (neither settled nor being written) and the new or changed ones. */
    private void diff() {
        for (Path p : before.archives().keySet()) {
            if (!settled.containsKey(p) && !unsettled.contains(p)) {
                removed.add(p);
            }
        }
        for (Map.Entry<Path, String> e : new TreeMap<>(settled).entrySet()) {
            PluginArchives.ArchiveStamp known = before.archives().get(e.getKey());
            if (known == null || !known.sha256().equals(e.getValue())) {
                changed.add(e.getKey());
            }
        }
    }

    /** Which plugins are kept and which retire, what to load, which old refusals still hold. */
    private void plan() {
        gone.addAll(removed);
        gone.addAll(changed);
        for (InstalledPlugin p : before.wired()) {
            (gone.contains(p.archive) ? retiring : keep).add(p);
        }
        toLoad.addAll(changed);
        for (PluginRefusal r : before.refusals()) {
            Path archive = PluginArchives.archiveOf(r.path());
            if (gone.contains(archive)) {
                continue; // the archive changed or left: its old refusal no longer holds
            }
            boolean retried =
                    RETRIED.contains(r.code())
                            || (trustChanged && PluginTrust.CODES.contains(r.code()));
            if (retried && settled.containsKey(archive)) {
                if (!toLoad.contains(archive)) {
                    toLoad.add(archive);
                }
                continue;
            }
            refusals.add(r);
        }
        toLoad.sort(Comparator.naturalOrder());
        // An archive tried again whose earlier version still runs (kept when the newer one was
        // refused) is a replacement like a changed one: the running version goes only if the
        // newer one is wired.
        replacing.addAll(changed);
        for (InstalledPlugin p : List.copyOf(keep)) {
            if (toLoad.contains(p.archive)) {
                keep.remove(p);
                retiring.add(p);
                replacing.add(p.archive);
            }
        }
    }

    /** Stages and starts each archive to load; a plugin id or capability name in use is refused. */
    private void loadNew() {
        removed.forEach(archives::remove);
        var ids = new HashSet<String>();
        keep.forEach(p -> ids.add(p.id()));
        var names = new HashSet<String>();
        keep.forEach(p -> names.addAll(p.info.extensions()));
        for (Path archive : toLoad) {
            PluginLoader.Cell cell = loader.stage(archive, archives, ids, fresh);
            PluginRefusal taken = cell == null ? null : nameTaken(cell, names);
            if (taken != null) {
                fresh.add(taken);
                cell.unload();
                cell = null;
            }
            if (cell == null) {
                failedArchives.add(archive);
                continue;
            }
            cells.add(cell);
            ids.add(cell.plugin().getPluginId());
            names.addAll(declaredNames(cell.candidate()));
        }
    }

    /**
     * Resolves the kept and the new plugins together. A replacement that is refused leaves the
     * running version in place (resolution then runs again with it), as a bad model version never
     * displaces the one serving.
     */
    private void resolve() {
        var restored = new ArrayList<InstalledPlugin>();
        boolean again;
        do {
            for (InstalledPlugin old : List.copyOf(retiring)) {
                if (replacing.contains(old.archive) && failedArchives.contains(old.archive)) {
                    retiring.remove(old);
                    keep.add(old);
                    restored.add(old);
                }
            }
            var candidates = new ArrayList<CapabilityResolver.Candidate>();
            keep.forEach(p -> candidates.add(p.candidate));
            cells.forEach(c -> candidates.add(c.candidate()));
            resolution = wiring.resolve(candidates);
            unresolved.clear();
            resolution.refusals().forEach(r -> unresolved.put(r.pluginId(), r));
            again = dropUnresolvedCells();
        } while (again);
        for (InstalledPlugin old : restored) {
            actions.add(
                    "kept "
                            + label(old)
                            + ": the new "
                            + old.archive.getFileName()
                            + " was refused");
        }
    }

    /**
     * Unloads the new plugins resolution refused.
     *
     * @return whether one of them was to replace a running version (resolution runs again)
     */
    private boolean dropUnresolvedCells() {
        boolean again = false;
        for (PluginLoader.Cell c : List.copyOf(cells)) {
            PluginRefusal r = unresolved.get(c.plugin().getPluginId());
            if (r == null) {
                continue;
            }
            fresh.add(withArchive(r, c.archive()));
            c.unload();
            cells.remove(c);
            failedArchives.add(c.archive());
            again |=
                    retiring.stream()
                            .anyMatch(
                                    o ->
                                            o.archive.equals(c.archive())
                                                    && changed.contains(c.archive()));
        }
        return again;
    }

    /** Withdraws the kept plugins no longer resolved, wires the new resolved ones. */
    private void wire() {
        for (InstalledPlugin p : keep) {
            PluginRefusal r = unresolved.get(p.id());
            if (r == null) {
                wired.add(p);
            } else {
                retiring.add(p);
                fresh.add(withArchive(r, p.archive));
                actions.add("withdrew " + label(p) + ": " + r.message());
            }
        }
        for (PluginLoader.Cell c : cells) {
            String id = c.plugin().getPluginId();
            InstalledPlugin installed = wiring.install(c, resolution.provided().get(id), fresh);
            if (installed == null) {
                continue;
            }
            wired.add(installed);
            added.add(installed);
        }
    }

    /** One action per plugin loaded, replaced or removed. */
    private void describeWired() {
        for (InstalledPlugin p : added) {
            InstalledPlugin old =
                    retiring.stream().filter(o -> o.id().equals(p.id())).findFirst().orElse(null);
            actions.add(
                    (old == null
                                    ? "loaded " + label(p)
                                    : "replaced "
                                            + p.id()
                                            + " "
                                            + old.info.version()
                                            + " -> "
                                            + p.info.version())
                            + " ("
                            + p.archive.getFileName()
                            + ")");
        }
        for (InstalledPlugin p : retiring) {
            boolean replaced = added.stream().anyMatch(a -> a.id().equals(p.id()));
            boolean withdrawn = unresolved.containsKey(p.id()) && !gone.contains(p.archive);
            if (!replaced && !withdrawn) {
                actions.add(
                        "removed "
                                + label(p)
                                + " ("
                                + p.archive.getFileName()
                                + (removed.contains(p.archive) ? " deleted" : " changed")
                                + ")");
            }
        }
    }

    /** The refusals of this change (logged) and the deleted archives that were not running. */
    private void describeRest() {
        for (PluginRefusal r : fresh) {
            log.warn(r.message());
            if (actions.stream().noneMatch(a -> a.contains(r.message()))) {
                actions.add("refused " + r.pluginId() + ": " + r.message());
            }
        }
        for (Path p : removed) {
            if (before.wired().stream().noneMatch(w -> w.archive.equals(p))) {
                actions.add("forgot " + p.getFileName() + " (deleted; it was not running)");
            }
        }
    }

    /** {@code kind:name} of each prediction, ensemble and sizing a candidate declares. */
    private static Set<String> declaredNames(CapabilityResolver.Candidate c) {
        var out = new HashSet<String>();
        try {
            for (Capability cap : CapabilityHeaders.parseProvide(c.provides())) {
                String name = cap.attribute("name");
                if (name != null && cap.namespace().startsWith("quiver.")) {
                    out.add(cap.namespace().substring("quiver.".length()) + ":" + name);
                }
            }
        } catch (RuntimeException e) {
            // A header that does not parse is the resolver's to refuse, with its reason.
        }
        return out;
    }

    /**
     * A live-loaded plugin may not offer a capability under a name a running plugin already uses:
     * the service keys sources and sizing policies by name.
     */
    private static PluginRefusal nameTaken(PluginLoader.Cell c, Set<String> taken) {
        for (String kindAndName : new TreeSet<>(declaredNames(c.candidate()))) {
            if (taken.contains(kindAndName)) {
                String id = c.plugin().getPluginId();
                String kind = kindAndName.substring(0, kindAndName.indexOf(':'));
                String name = kindAndName.substring(kindAndName.indexOf(':') + 1);
                return new PluginRefusal(
                        "DUPLICATE_CAPABILITY",
                        id,
                        c.archive(),
                        "[Quiver/DUPLICATE_CAPABILITY] Plugin '"
                                + id
                                + "' "
                                + c.plugin().getDescriptor().getVersion()
                                + " ("
                                + c.archive().getFileName()
                                + ") provides "
                                + kind
                                + " '"
                                + name
                                + "', which a running plugin already provides; it is not loaded."
                                + " Hint: give the capability another name, or replace the plugin"
                                + " that provides it (overwrite its archive).");
            }
        }
        return null;
    }

    /** {@code <id> <version>}, as the actions name a plugin. */
    private static String label(InstalledPlugin p) {
        return p.id() + " " + p.info.version();
    }

    private static PluginRefusal withArchive(PluginRefusal r, Path archive) {
        return new PluginRefusal(r.code(), r.pluginId(), archive, r.message());
    }
}
