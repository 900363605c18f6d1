package dev.quiver.host.plugin;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches a {@link PluginRuntime}'s plugins folder by polling and applies what changed: an archive
 * ({@code .zip}/{@code .jar}, not hidden) added, replaced or removed is loaded, reloaded or taken
 * out without a restart, and each change is handed to a {@link Publisher} that swaps it into
 * service and retires the old plugins once the decisions using them have drained.
 *
 * <p>Partial copies are never loaded: an archive is considered only once two polls in a row saw the
 * same size, modification time and file (inode) and it opens as a zip. One that stays unreadable
 * for {@code brokenAfter} is handed over anyway, so the runtime refuses it with a reason instead of
 * the watcher waiting forever. Copying to a hidden name ({@code .x.zip}) and renaming it is the
 * surest way to drop a plugin in.
 *
 * <p>A poll is a directory listing and a stat per archive; an archive is hashed only when its size
 * or time changed. Polls and changes run on one daemon thread ({@code quiver-plugin-watcher}) and
 * are serialised with {@link #scan()}.
 */
public final class PluginFolderWatcher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PluginFolderWatcher.class);

    /**
     * Swaps a change into service; must arrange {@link PluginTransition#retire()} after the drain.
     */
    @FunctionalInterface
    public interface Publisher {
        /**
         * @param transition what changed; its added capabilities are ready to serve
         * @return a label for what was installed (e.g. the pipeline generation), for status reports
         */
        String publish(PluginTransition transition);
    }

    /**
     * What the watcher did last.
     *
     * @param at when the change was applied
     * @param sequence changes applied so far, this one included
     * @param actions what happened, one line each ({@link PluginTransition#actions()})
     * @param published what the publisher reported (e.g. {@code generation 3}), or empty
     */
    public record Change(Instant at, long sequence, List<String> actions, String published) {
        public Change {
            actions = List.copyOf(actions);
        }
    }

    /**
     * The watcher's state.
     *
     * @param folder the watched folder
     * @param intervalMillis poll interval, ms
     * @param running whether the background polling runs
     * @param scans polls done
     * @param pending archives seen but not yet settled (being written, or not a readable zip yet)
     * @param lastChange the last change applied, or null if none yet
     * @param lastError the last poll that failed (time and message), or null
     */
    public record Status(
            Path folder,
            long intervalMillis,
            boolean running,
            long scans,
            List<String> pending,
            Change lastChange,
            String lastError) {
        public Status {
            pending = List.copyOf(pending);
        }
    }

    /** What one poll saw of an archive. */
    private static final class Seen {
        final long size;
        final FileTime modified;
        final Object fileKey;
        final Instant firstSeen;
        String sha256;

        /** Its change could not be published: held back until the file changes again. */
        boolean heldBack;

        Seen(long size, FileTime modified, Object fileKey, Instant firstSeen) {
            this.size = size;
            this.modified = modified;
            this.fileKey = fileKey;
            this.firstSeen = firstSeen;
        }
    }

    private final PluginRuntime runtime;
    private final Duration interval;
    private final Duration brokenAfter;
    private final Publisher publisher;
    private final Clock clock;
    private final Map<Path, Seen> seen = new HashMap<>();
    private volatile ScheduledExecutorService poller;
    private volatile long scans;
    private long sequence;
    private volatile Change lastChange;
    private volatile String lastError;
    private volatile List<String> pending = List.of();

    /**
     * @param runtime the runtime whose folder is watched
     * @param interval time between polls, at least 10 ms
     * @param brokenAfter how long an archive that does not open as a zip is waited for before it is
     *     handed to the runtime to be refused, at least {@code interval}
     * @param publisher swaps each change into service
     * @throws IllegalArgumentException if a duration is out of range
     */
    public PluginFolderWatcher(
            PluginRuntime runtime, Duration interval, Duration brokenAfter, Publisher publisher) {
        this(runtime, interval, brokenAfter, publisher, Clock.systemUTC());
    }

    PluginFolderWatcher(
            PluginRuntime runtime,
            Duration interval,
            Duration brokenAfter,
            Publisher publisher,
            Clock clock) {
        if (interval.toMillis() < 10) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] the plugin watch interval must be at least 10 ms, was "
                            + interval.toMillis()
                            + " ms");
        }
        if (brokenAfter.compareTo(interval) < 0) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] the wait for an unreadable plugin archive ("
                            + brokenAfter.toMillis()
                            + " ms) must be at least the watch interval ("
                            + interval.toMillis()
                            + " ms)");
        }
        this.runtime = runtime;
        this.interval = interval;
        this.brokenAfter = brokenAfter;
        this.publisher = publisher;
        this.clock = clock;
        // What the runtime loaded from is settled already: no hashing it again.
        Instant now = clock.instant();
        runtime.archives()
                .forEach(
                        (path, stamp) -> {
                            Seen s =
                                    new Seen(
                                            stamp.sizeBytes(),
                                            stamp.modified(),
                                            stamp.fileKey(),
                                            now);
                            s.sha256 = stamp.sha256();
                            seen.put(path, s);
                        });
    }

    /**
     * Starts polling in the background.
     *
     * @return this watcher
     * @throws IllegalStateException if already started
     */
    public synchronized PluginFolderWatcher start() {
        if (poller != null) {
            throw new IllegalStateException("the plugin folder watcher is already running");
        }
        poller =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "quiver-plugin-watcher");
                            t.setDaemon(true);
                            return t;
                        });
        poller.scheduleWithFixedDelay(
                this::scanLogged, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    private void scanLogged() {
        try {
            scan();
        } catch (RuntimeException | LinkageError e) {
            // A poll that fails (folder gone, a publisher that throws) must not end the polling.
            lastError = clock.instant() + " " + e;
            log.warn("[Quiver/PLUGIN_WATCH_FAILED] polling {} failed", runtime.pluginsDir(), e);
        }
    }

    /**
     * One poll: notes every archive's size and time, hands the settled ones to the runtime and
     * publishes the change, if any.
     *
     * @return the change applied (empty if nothing changed)
     * @throws UncheckedIOException if the folder cannot be listed
     */
    public synchronized PluginTransition scan() {
        scans++;
        Instant now = clock.instant();
        var settled = new HashMap<Path, String>();
        var unsettled = new HashSet<Path>();
        var present = new HashSet<Path>();
        List<Path> files;
        try (Stream<Path> list = Files.list(runtime.pluginsDir())) {
            files = list.filter(PluginArchives::isArchive).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list plugins folder " + runtime.pluginsDir(), e);
        }
        for (Path file : files) {
            BasicFileAttributes attributes;
            try {
                attributes = Files.readAttributes(file, BasicFileAttributes.class);
            } catch (IOException e) {
                continue; // deleted or renamed between listing and stat: next poll
            }
            present.add(file);
            long size = attributes.size();
            FileTime modified = attributes.lastModifiedTime();
            Object key = attributes.fileKey();
            Seen s = seen.get(file);
            if (s == null
                    || s.size != size
                    || !s.modified.equals(modified)
                    || !java.util.Objects.equals(s.fileKey, key)) {
                seen.put(file, new Seen(size, modified, key, now));
                unsettled.add(file);
                continue;
            }
            if (s.heldBack) {
                unsettled.add(file);
                continue;
            }
            if (s.sha256 == null) {
                boolean readable = opensAsZip(file);
                if (!readable && Duration.between(s.firstSeen, now).compareTo(brokenAfter) < 0) {
                    unsettled.add(file);
                    continue;
                }
                try {
                    s.sha256 = ExpandedZips.sha256(file);
                } catch (IOException e) {
                    unsettled.add(file);
                    continue;
                }
            }
            settled.put(file, s.sha256);
        }
        seen.keySet().retainAll(present);
        pending = unsettled.stream().map(p -> p.getFileName().toString()).sorted().toList();
        PluginTransition t = runtime.apply(settled, unsettled);
        if (t.isEmpty()) {
            return t;
        }
        String published = "";
        if (t.changesWiring()) {
            try {
                published = publisher.publish(t);
            } catch (RuntimeException | LinkageError e) {
                // Not in service: undo it, and hold its archives back until they change again
                // (rather than loading and failing on every poll).
                runtime.revert(t);
                for (Path p : t.addedArchives()) {
                    Seen s = seen.get(p);
                    if (s != null) {
                        s.heldBack = true;
                    }
                }
                throw new IllegalStateException(
                        "[Quiver/PLUGINS_NOT_PUBLISHED] " + t + ": " + e, e);
            }
        }
        lastChange = new Change(clock.instant(), ++sequence, t.actions(), published);
        return t;
    }

    private static boolean opensAsZip(Path file) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            return zip.size() >= 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** What the watcher saw and did, for {@code GET /v1/plugins}; never waits for a poll. */
    public Status status() {
        ScheduledExecutorService p = poller;
        return new Status(
                runtime.pluginsDir(),
                interval.toMillis(),
                p != null && !p.isShutdown(),
                scans,
                pending,
                lastChange,
                lastError);
    }

    /** Stops polling; a poll in progress finishes first (bounded by 30 s). */
    @Override
    public void close() {
        ScheduledExecutorService p;
        synchronized (this) {
            p = poller;
        }
        if (p == null) {
            return;
        }
        p.shutdown();
        try {
            if (!p.awaitTermination(30, TimeUnit.SECONDS)) {
                log.warn("[Quiver/PLUGIN_WATCH_STUCK] a plugin folder poll did not end in 30 s");
                p.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
