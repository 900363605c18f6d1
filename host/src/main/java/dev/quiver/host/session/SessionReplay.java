package dev.quiver.host.session;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.CallFailures;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.host.store.AccountRow;
import dev.quiver.host.store.BarRow;
import dev.quiver.host.store.FillRow;
import dev.quiver.host.store.SessionRow;
import dev.quiver.host.store.Side;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.store.StoredEvent;
import dev.quiver.host.strategy.BundleLoader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds an open session from the store: the engine's in-memory state is a replay of the stored
 * inputs through the deterministic engine. Bars are stepped in time order (the first {@code
 * warmup_bars} feed the features only); after each bar, the commands recorded after it are applied
 * in the order they were stored: fills, breaker re-arms, strategy swaps, the refusal of a gap
 * ({@code session_rewarm_required}) and re-warms ({@code session_rewarmed}, whose bars feed the
 * features only). Plugin calls that failed on a bar live ({@code call_failures}) fail again in the
 * replay with the recorded reason, without being called, so the replay decides as the live run did.
 *
 * <p>Anything that does not fit (a command after a bar the session does not have, a fill the store
 * does not have, unreadable settings) is an {@link IllegalStateException} naming it: never skipped
 * in silence, since the state would differ from the one acknowledged.
 */
final class SessionReplay {

    private static final Logger LOG = LoggerFactory.getLogger(SessionReplay.class);

    /** Builds a session's instances (engine, features, books) from its settings. */
    @FunctionalInterface
    interface Builder {
        LiveSession build(SessionSettings settings, AccountRow account, BundleLoader.Loaded loaded);
    }

    private final StateStore store;
    private final StrategyCatalog strategies;
    private final Builder builder;

    SessionReplay(StateStore store, StrategyCatalog strategies, Builder builder) {
        this.store = store;
        this.strategies = strategies;
        this.builder = builder;
    }

    /**
     * Replays one open session.
     *
     * @param row the session's stored row
     * @return the rebuilt session
     * @throws RuntimeException naming what could not be replayed; nothing is left open then
     */
    LiveSession replay(SessionRow row) {
        SessionSettings settings = SessionSettings.fromJson(row.settingsJson());
        AccountRow account =
                store.account(row.accountId())
                        .orElseThrow(
                                () ->
                                        new IllegalStateException(
                                                "session "
                                                        + row.symbol()
                                                        + " names account "
                                                        + row.accountId()
                                                        + ", which the store does not have"));
        BundleLoader.Loaded loaded;
        try {
            loaded = strategies.load(settings.bundle());
        } catch (RuntimeException e) {
            loaded = strategies.loadCurrent();
            LOG.warn(
                    "session {} was opened with strategy {}, which cannot be loaded now ({}); it is"
                            + " replayed with {}, so its state may differ from the acknowledged one",
                    row.symbol(),
                    settings.bundle(),
                    e.getMessage(),
                    loaded.bundle().id());
        }
        LiveSession s = builder.build(settings, account, loaded);
        s.generation = row.generation();
        try {
            steps(s, row);
            return s;
        } catch (RuntimeException e) {
            s.closeInstances();
            throw e;
        }
    }

    private void steps(LiveSession s, SessionRow row) {
        List<BarRow> bars = store.bars(row.symbol());
        Map<String, FillRow> fills = new HashMap<>();
        for (FillRow f : store.fills(s.account.id())) {
            fills.put(f.clientFillId(), f);
        }
        s.fillIds.addAll(fills.keySet());
        Map<Long, List<StoredEvent>> commands = new LinkedHashMap<>();
        Map<Long, CallFailures> failures = new HashMap<>();
        // A portfolio account's book states (one per member bar) are not the session's inputs:
        // the database leaves them out, so a replay does not read the account's whole history.
        for (StoredEvent e : store.eventsExcept(s.account.id(), LivePortfolio.KIND)) {
            String kind = e.event().kind();
            boolean mine = e.event().symbol().orElse(row.symbol()).equals(row.symbol());
            // A portfolio account's events name the member session they belong to.
            if ((mine && kind.equals(SessionManager.FILL))
                    || (mine && kind.equals(SessionManager.REARM))
                    || (mine && kind.equals(SessionManager.SWAP))
                    || (mine && ServiceHalt.isCommand(kind))
                    || (mine && kind.equals(SessionManager.REWARM_REQUIRED))
                    || (mine && kind.equals(SessionManager.REWARMED))) {
                long after = SessionManager.detail(e).path("after_bar_ms").asLong(Long.MIN_VALUE);
                commands.computeIfAbsent(after, k -> new ArrayList<>()).add(e);
            } else if (mine && kind.equals(SessionManager.CALL_FAILURES)) {
                JsonNode d = SessionManager.detail(e);
                failures.put(d.path("bar_ms").asLong(), CallFailureEvents.read(d));
            }
        }
        int warm = Math.min(s.settings.warmupBars(), bars.size());
        List<Bar> warmup = new ArrayList<>(warm);
        for (int i = 0; i < warm; i++) {
            warmup.add(SessionManager.bar(bars.get(i)));
        }
        s.session.warmUp(warmup);
        int next =
                apply(
                        s,
                        warm == 0 ? Long.MIN_VALUE : bars.get(warm - 1).startMs(),
                        commands,
                        fills,
                        bars,
                        warm);
        while (next < bars.size()) {
            Bar b = SessionManager.bar(bars.get(next));
            CallFailures recorded = failures.remove(b.start().toEpochMilli());
            if (recorded != null) {
                s.engine().replayFailures(recorded);
            }
            s.record(b, s.session.append(b));
            next = apply(s, b.start().toEpochMilli(), commands, fills, bars, next + 1);
        }
        if (!commands.isEmpty()) {
            throw new IllegalStateException(
                    "session "
                            + row.symbol()
                            + ": stored commands follow bars the session does not have (after_bar_ms "
                            + commands.keySet()
                            + ")");
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException(
                    "session "
                            + row.symbol()
                            + ": stored call failures name bars the session did not step (bar_ms "
                            + failures.keySet()
                            + ")");
        }
        s.breakerEventsSeen = s.engine().breakerEvents().size();
    }

    /**
     * Applies the commands stored after bar {@code afterMs}, in their order.
     *
     * @param next the index of the next stored bar to step
     * @return the index of the next bar to step (after the bars of a re-warm)
     */
    private int apply(
            LiveSession s,
            long afterMs,
            Map<Long, List<StoredEvent>> commands,
            Map<String, FillRow> fills,
            List<BarRow> bars,
            int next) {
        List<StoredEvent> events = commands.remove(afterMs);
        if (events == null) {
            return next;
        }
        for (Iterator<StoredEvent> it = events.iterator(); it.hasNext(); ) {
            StoredEvent e = it.next();
            if (ServiceHalt.isCommand(e.event().kind())) {
                ServiceHalt.replay(s.engine(), e);
                continue;
            }
            JsonNode d = SessionManager.detail(e);
            switch (e.event().kind()) {
                case SessionManager.SWAP ->
                        SessionManager.swap(s, strategies.load(d.path("bundle").asText()));
                case SessionManager.FILL -> {
                    FillRow f = fills.get(d.path("client_fill_id").asText());
                    if (f == null) {
                        throw new IllegalStateException(
                                "event " + e.seq() + " names a fill the store does not have: " + d);
                    }
                    double signed = f.side() == Side.BUY ? f.quantity() : -f.quantity();
                    s.engine()
                            .fill(
                                    s.acting,
                                    signed,
                                    f.price(),
                                    f.fee(),
                                    f.timeMs(),
                                    SessionManager.markPrice(s));
                }
                case SessionManager.REWARM_REQUIRED ->
                        s.session.requireRewarm(e.event().reason().orElse("a gap was refused"));
                case SessionManager.REWARMED -> {
                    long from = d.path("from_ms").asLong();
                    long to = d.path("to_ms").asLong();
                    List<Bar> window = new ArrayList<>();
                    int after = next;
                    for (int i = 0; i < bars.size(); i++) {
                        long t = bars.get(i).startMs();
                        if (t >= from && t <= to) {
                            window.add(SessionManager.bar(bars.get(i)));
                            if (i >= after) {
                                after = i + 1;
                            }
                        }
                    }
                    if (window.size() != d.path("bars").asInt(-1)) {
                        throw new IllegalStateException(
                                "event "
                                        + e.seq()
                                        + " re-warmed from "
                                        + d.path("bars").asInt(-1)
                                        + " bars, the store has "
                                        + window.size()
                                        + " between from_ms and to_ms: "
                                        + d);
                    }
                    s.session.rewarm(window);
                    // Commands stored after the re-warm follow its last bar; the rest of this
                    // list (stored before them) is applied first.
                    List<StoredEvent> rest = new ArrayList<>();
                    it.forEachRemaining(rest::add);
                    if (!rest.isEmpty()) {
                        commands.computeIfAbsent(to, k -> new ArrayList<>()).addAll(0, rest);
                    }
                    return apply(s, to, commands, fills, bars, after);
                }
                default ->
                        s.engine()
                                .rearm(
                                        s.acting,
                                        CircuitBreakers.Breaker.ofLabel(d.path("breaker").asText()),
                                        d.path("after_bar_ms").asLong(),
                                        e.event().reason().orElse("re-armed"));
            }
        }
        return next;
    }
}
