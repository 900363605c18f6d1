package dev.quiver.host.session;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.SymbolEngine;
import dev.quiver.engine.risk.KillSwitch;
import dev.quiver.host.store.EventRow;
import dev.quiver.host.store.HaltRow;
import dev.quiver.host.store.StateOperations;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.store.StoredEvent;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's kill switch for every session of a service (RELIABILITY.md P12): {@link #halt}
 * stops all new risk at once, {@link #resume} allows it again; nothing else clears a halt.
 *
 * <p><b>Effect.</b> From each session's next bar on, every policy's decision may only keep or
 * reduce its position ({@link KillSwitch}); a position is not flattened. Every decision's reason
 * names the halt (who, when, why). Sessions opened while halted are halted from their first bar.
 *
 * <p><b>Persistence and replay.</b> One transaction stores the command (table {@code halts}, the
 * audit: who, why, when) and, per open session, a {@code halt_command} / {@code resume_command}
 * event naming the bar it followed ({@code after_bar_ms}), taken with every session's monitor held
 * so no bar steps in between. {@link SessionManager#recover} replays those events in the session's
 * input order, so after a kill the halted decisions are the acknowledged ones and the service is
 * still halted.
 *
 * <p>Thread-safe: commands run under the session manager's open lock and every session's monitor.
 */
public final class ServiceHalt {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceHalt.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Per-session event kinds (table {@code events}). */
    static final String HALT = "halt_command";

    static final String RESUME = "resume_command";

    private final StateStore store;
    private final Clock clock;
    private volatile HaltRow last;

    ServiceHalt(StateStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
        List<HaltRow> all = store.halts();
        this.last = all.isEmpty() ? null : all.get(all.size() - 1);
    }

    /**
     * Whether new risk is halted.
     *
     * @return true between a halt and the next resume
     */
    public boolean halted() {
        HaltRow h = last;
        return h != null && h.halt();
    }

    /**
     * The state for an answer: {@code halted}, and the last command ({@code actor}, {@code reason},
     * {@code since}) if any.
     *
     * @return a JSON-ready map
     */
    public Map<String, Object> status() {
        HaltRow h = last;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("halted", h != null && h.halt());
        if (h != null) {
            m.put("last_command", row(h));
        }
        return m;
    }

    /**
     * The state with the whole audit trail, oldest first.
     *
     * @return {@link #status()} plus {@code audit}
     */
    public Map<String, Object> audit() {
        Map<String, Object> m = status();
        List<Map<String, Object>> rows = new ArrayList<>();
        for (HaltRow h : store.halts()) {
            rows.add(row(h));
        }
        m.put("audit", rows);
        return m;
    }

    /**
     * Halts (or resumes) every session; stored and applied before it returns. A halt while halted
     * (a resume while not) changes nothing and is not stored.
     *
     * @param halt true to halt, false to resume
     * @param actor who, non-blank
     * @param reason why, non-blank
     * @param sessions runs the command with every open session's monitor held
     * @return {@code changed}, the state, and per session the bar after which it takes effect
     * @throws QuiverInputException {@code BAD_HALT} naming {@code actor} or {@code reason}
     */
    Map<String, Object> command(
            boolean halt, String actor, String reason, SessionManager.EverySession sessions) {
        String what = halt ? "halt" : "resume";
        if (Text.blank(reason)) {
            throw new QuiverInputException("BAD_HALT", "reason", what, reason, "is required");
        }
        if (Text.blank(actor)) {
            throw new QuiverInputException("BAD_HALT", "actor", what, actor, "is required");
        }
        return sessions.run(
                all -> {
                    Map<String, Object> out = new LinkedHashMap<>();
                    if (halted() == halt) {
                        out.put("changed", false);
                        out.putAll(status());
                        return out;
                    }
                    long now = clock.millis();
                    HaltRow row = new HaltRow(0, halt, actor, reason, now);
                    long seq =
                            store.inTransaction(
                                    tx -> {
                                        long s = tx.appendHalt(row);
                                        for (LiveSession live : all) {
                                            tx.appendEvent(event(live, row, s));
                                        }
                                        return s;
                                    });
                    last = new HaltRow(seq, halt, actor, reason, now);
                    Map<String, Object> effective = new LinkedHashMap<>();
                    for (LiveSession live : all) {
                        apply(live.engine(), row);
                        Bar b = live.session.lastBar();
                        effective.put(
                                live.settings.symbol(),
                                b == null ? null : "after bar " + b.start());
                    }
                    LOG.warn(
                            "kill switch: {} by {} ({}) on {} open session(s)",
                            what,
                            actor,
                            reason,
                            all.size());
                    out.put("changed", true);
                    out.putAll(status());
                    out.put("sessions", effective);
                    return out;
                });
    }

    /**
     * A session just opened (its warm-up committed in {@code tx}): when halted, stores the halt for
     * it after its warm-up and halts its engine, so a replay halts it at the same place. Called
     * under the manager's open lock.
     */
    void opened(StateOperations tx, LiveSession live) {
        HaltRow h = last;
        if (h != null && h.halt()) {
            tx.appendEvent(event(live, h, h.seq()));
        }
    }

    /** Halts a session's engine when halted (after {@link #opened}'s transaction committed). */
    void applyCurrent(LiveSession live) {
        HaltRow h = last;
        if (h != null && h.halt()) {
            apply(live.engine(), h);
        }
    }

    /**
     * Whether a stored event is a kill-switch command replayed with the bar it followed.
     *
     * @param kind the event's kind
     * @return true for {@code halt_command} and {@code resume_command}
     */
    static boolean isCommand(String kind) {
        return kind.equals(HALT) || kind.equals(RESUME);
    }

    /** Replays a stored per-session command on the engine, exactly as it was applied live. */
    static void replay(SymbolEngine engine, StoredEvent e) {
        EventRow r = e.event();
        apply(
                engine,
                new HaltRow(
                        0,
                        r.kind().equals(HALT),
                        r.actor(),
                        r.reason()
                                .orElseThrow(
                                        () ->
                                                new IllegalStateException(
                                                        "stored "
                                                                + r.kind()
                                                                + " "
                                                                + e.seq()
                                                                + " has no reason")),
                        r.timeMs()));
    }

    private static void apply(SymbolEngine engine, HaltRow h) {
        if (h.halt()) {
            engine.halt(
                    "kill switch: halted by "
                            + h.actor()
                            + " at "
                            + Instant.ofEpochMilli(h.timeMs())
                            + ": "
                            + h.reason());
        } else {
            engine.resume();
        }
    }

    private static EventRow event(LiveSession live, HaltRow h, long seq) {
        ObjectNode d = JSON.createObjectNode();
        Bar b = live.session.lastBar();
        d.put("after_bar_ms", b == null ? Long.MIN_VALUE : b.start().toEpochMilli());
        d.put("halt_seq", seq);
        return new EventRow(
                live.account.id(),
                Optional.of(live.settings.symbol()),
                h.halt() ? HALT : RESUME,
                Optional.of(live.settings.policy()),
                d.toString(),
                h.timeMs(),
                h.actor(),
                Optional.of(h.reason()));
    }

    private static Map<String, Object> row(HaltRow h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", h.kind());
        m.put("actor", h.actor());
        m.put("reason", h.reason());
        m.put("time", Instant.ofEpochMilli(h.timeMs()).toString());
        return m;
    }
}
