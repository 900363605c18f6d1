package dev.quiver.host.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.quiver.host.rollout.RolloutStore;
import io.javalin.Javalin;
import io.javalin.http.sse.SseClient;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard's server-sent event streams, one per page: {@code GET /v1/events/{page}} with
 * {@code page} one of {@link Page}. Each stream opens with a {@code hello} event, then carries the
 * events its page draws from:
 *
 * <ul>
 *   <li>{@code decision} (live, account, rollouts): a session stepped a bar; data {@code {symbol,
 *       entry}} with the entry as {@code GET /v1/sessions/{symbol}/history} lists it;
 *   <li>{@code transition} (rollouts, models): a rollout changed stage; data the audit record;
 *   <li>{@code plugins} (plugins, models, live): the plugins folder change was published;
 *   <li>{@code tick} (every page, every {@value #TICK_SECONDS} s): a heartbeat that also tells the
 *       pages without an event of their own (models, reports, training) to look again.
 * </ul>
 *
 * <p>Events are written by one sender thread, never by the thread that produced them, so a slow
 * browser never slows a session's stepping; the sender's queue holds {@value #QUEUE} events, and
 * events beyond it are dropped and counted ({@link #dropped()}), said in the next {@code tick}.
 */
final class EventStreams implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EventStreams.class);

    /** The pages that have a stream. */
    enum Page {
        LIVE,
        ACCOUNT,
        MODELS,
        PLUGINS,
        ROLLOUTS,
        REPORTS,
        TRAINING;

        String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    static final int TICK_SECONDS = 5;
    static final int QUEUE = 10_000;

    private final Map<Page, List<SseClient>> clients = new EnumMap<>(Page.class);
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();
    private final ThreadPoolExecutor sender =
            new ThreadPoolExecutor(
                    1,
                    1,
                    0,
                    TimeUnit.MILLISECONDS,
                    new ArrayBlockingQueue<>(QUEUE),
                    r -> {
                        Thread t = new Thread(r, "quiver-dashboard-events");
                        t.setDaemon(true);
                        return t;
                    },
                    (r, executor) -> dropped.incrementAndGet());
    private final ScheduledExecutorService ticker =
            Executors.newSingleThreadScheduledExecutor(
                    r -> {
                        Thread t = new Thread(r, "quiver-dashboard-tick");
                        t.setDaemon(true);
                        return t;
                    });

    EventStreams() {
        for (Page p : Page.values()) {
            clients.put(p, new CopyOnWriteArrayList<>());
        }
        ticker.scheduleAtFixedRate(this::tick, TICK_SECONDS, TICK_SECONDS, TimeUnit.SECONDS);
    }

    /** Registers {@code GET /v1/events/{page}} for every page. */
    void register(Javalin app) {
        for (Page p : Page.values()) {
            app.sse(
                    "/v1/events/" + p.id(),
                    client -> {
                        client.keepAlive();
                        List<SseClient> list = clients.get(p);
                        client.onClose(() -> list.remove(client));
                        list.add(client);
                        Map<String, Object> hello = new LinkedHashMap<>();
                        hello.put("page", p.id());
                        hello.put("time", Instant.now().toString());
                        hello.put("tick_seconds", TICK_SECONDS);
                        client.sendEvent("hello", json(hello));
                    });
        }
    }

    /** Events dropped because the sender's queue was full. */
    long dropped() {
        return dropped.get();
    }

    /**
     * Sends an event to every client of the pages, from the sender thread.
     *
     * @param name the event name
     * @param data its data, written as JSON
     * @param pages the pages whose streams carry it
     */
    void publish(String name, Object data, Page... pages) {
        if (!listening(pages)) {
            return;
        }
        sender.execute(
                () -> {
                    String text = json(data);
                    for (Page p : pages) {
                        for (SseClient c : clients.get(p)) {
                            send(p, c, name, text);
                        }
                    }
                });
    }

    /**
     * Whether any page of {@code pages} has a client connected now (an event published to them
     * would be sent to someone).
     *
     * @param pages the pages
     * @return true if some page has a client
     */
    boolean listening(Page... pages) {
        for (Page p : pages) {
            if (!clients.get(p).isEmpty()) {
                return true;
            }
        }
        return false;
    }

    private void send(Page p, SseClient c, String name, String text) {
        if (c.terminated()) {
            clients.get(p).remove(c);
            return;
        }
        try {
            c.sendEvent(name, text);
            sent.incrementAndGet();
        } catch (RuntimeException e) {
            // A browser that went away: forget it (its onClose may not have run yet).
            LOG.debug("dropping an event stream client of {}: {}", p.id(), e.toString());
            clients.get(p).remove(c);
        }
    }

    private void tick() {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("time", Instant.now().toString());
        t.put("events_sent", sent.get());
        t.put("events_dropped", dropped.get());
        publish("tick", t, Page.values());
    }

    private static String json(Object data) {
        try {
            return RolloutStore.JSON.writeValueAsString(data);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops the ticker and the sender and closes every stream. */
    @Override
    public void close() {
        ticker.shutdownNow();
        sender.shutdownNow();
        for (List<SseClient> list : clients.values()) {
            for (SseClient c : list) {
                try {
                    c.close();
                } catch (RuntimeException e) {
                    LOG.debug("closing an event stream: {}", e.toString());
                }
            }
            list.clear();
        }
    }
}
