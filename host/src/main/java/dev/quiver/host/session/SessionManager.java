package dev.quiver.host.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.market.Bar;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.engine.EngineListener;
import dev.quiver.engine.Step;
import dev.quiver.engine.SymbolEngine;
import dev.quiver.engine.TradingRules;
import dev.quiver.engine.risk.BreakerEvent;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.engine.session.SymbolSession;
import dev.quiver.engine.trading.Account;
import dev.quiver.host.store.AccountMode;
import dev.quiver.host.store.AccountRow;
import dev.quiver.host.store.BarRow;
import dev.quiver.host.store.EventRow;
import dev.quiver.host.store.FillOutcome;
import dev.quiver.host.store.FillRow;
import dev.quiver.host.store.SessionRow;
import dev.quiver.host.store.Side;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.store.StoredEvent;
import dev.quiver.host.strategy.BundleLoader;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live sessions of a service: per symbol, the served strategy bundle stepped one bar at a time
 * through a {@link SymbolSession}, with its account; every acknowledged input committed to the
 * {@link StateStore} before the answer.
 *
 * <p><b>Crash-only.</b> The store holds the inputs (account and session settings, every bar, every
 * fill and operator command with the bar it followed); the in-memory state is their replay through
 * the deterministic engine. {@link #recover} (at start) replays every open session, so after a
 * SIGKILL the account, the breakers and the features are what an uninterrupted run has, and the
 * next decision is the same. Derived breaker transitions are committed as an audit in the same
 * transaction as the bar that caused them.
 *
 * <p><b>Concurrency.</b> Each session is guarded by its own monitor; sessions step in parallel (the
 * store serialises the short commits).
 *
 * <p>One symbol per account for now: the account is the acting policy's book of its session (the
 * other policies keep paper books beside it, reported as what-ifs). Portfolio accounts across
 * symbols are issue "One account across many symbols".
 */
public final class SessionManager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SessionManager.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Event kinds in the store. */
    static final String FILL = "fill";

    static final String REARM = "rearm_command";
    static final String SWAP = "strategy_swapped";
    static final String ARMED = "breaker_armed";
    static final String REARMED = "breaker_rearmed";
    static final String REWARM_REQUIRED = "session_rewarm_required";
    static final String REWARMED = "session_rewarmed";
    static final String CALL_FAILURES = "call_failures";

    private final StateStore store;
    private final StrategyCatalog strategies;
    private final Clock clock;
    private final Map<String, LiveSession> sessions = new ConcurrentHashMap<>();

    /** The portfolio accounts with an open member session, by account id. */
    private final Map<String, LivePortfolio> portfolios = new ConcurrentHashMap<>();

    /** Open sessions whose replay failed: quarantined, refusing work, until closed. */
    private final Map<String, FailedSession> failed = new ConcurrentHashMap<>();

    private final LongAdder expiredLive = new LongAdder();

    private final SessionReplay replays;
    private final Object opening = new Object();
    private volatile EngineListener listener = EngineListener.NONE;
    private volatile StepObserver observer = StepObserver.NONE;
    private volatile StrategyRollouts rollouts;
    private final ServiceHalt halt;

    /**
     * Creates the manager; call {@link #recover} before serving.
     *
     * @param store the state store (owned by the caller)
     * @param strategies the served strategy bundle and the ones sessions decided with before
     * @param clock the service's clock (fill times in the future are refused)
     */
    public SessionManager(StateStore store, StrategyCatalog strategies, Clock clock) {
        this.store = store;
        this.strategies = strategies;
        this.clock = clock;
        this.halt = new ServiceHalt(store, clock);
        this.replays = new SessionReplay(store, strategies, this::build);
    }

    /**
     * The kill switch of these sessions (RELIABILITY.md P12).
     *
     * @return its state and audit
     */
    public ServiceHalt halt() {
        return halt;
    }

    /**
     * Halts all new risk in every session, or resumes it ({@link ServiceHalt}); audited.
     *
     * @param halted true to halt, false to resume
     * @param actor who, non-blank
     * @param reason why, non-blank
     * @return {@code changed}, the state, and per session where it takes effect
     * @throws QuiverInputException {@code BAD_HALT} naming {@code actor} or {@code reason}
     */
    public Map<String, Object> halt(boolean halted, String actor, String reason) {
        return halt.command(halted, actor, reason, this::withEverySession);
    }

    /** Work run with every open session's monitor held. */
    @FunctionalInterface
    interface EverySession {
        Map<String, Object> run(Function<List<LiveSession>, Map<String, Object>> work);
    }

    /**
     * Runs {@code work} under the open lock and every open session's monitor (taken in symbol
     * order), so no session steps, opens or closes meanwhile.
     */
    private Map<String, Object> withEverySession(
            Function<List<LiveSession>, Map<String, Object>> work) {
        synchronized (opening) {
            while (true) {
                List<LiveSession> all = new ArrayList<>(sessions.values());
                all.sort(Comparator.comparing(s -> s.settings.symbol()));
                Map<String, Object> out = lockAll(all, 0, work);
                if (out != null) {
                    return out;
                }
            }
        }
    }

    /** Null when a session was replaced or closed while its monitor was awaited (then retry). */
    private Map<String, Object> lockAll(
            List<LiveSession> all, int i, Function<List<LiveSession>, Map<String, Object>> work) {
        if (i == all.size()) {
            for (LiveSession s : all) {
                if (s.retired || sessions.get(s.settings.symbol()) != s) {
                    return null;
                }
            }
            return work.apply(all);
        }
        synchronized (all.get(i)) {
            return lockAll(all, i + 1, work);
        }
    }

    /**
     * Observes the sessions' capability calls from now on (e.g. the service's latency histograms),
     * also those of sessions already open; replays before this call are not observed.
     *
     * @param listener called on each session's stepping thread; must be fast and must not throw
     */
    public void listener(EngineListener listener) {
        this.listener = listener == null ? EngineListener.NONE : listener;
    }

    /**
     * Refuses, from now on, bars too old to decide on (RELIABILITY.md P13: no decision on stale
     * data): a batch whose last bar starts more than {@code intervals} bar intervals before this
     * manager's clock is refused whole with {@code BAR_STALE}; nothing is stepped, decided or
     * stored. Off (0) by default in this class, because replays and tests post historical bars;
     * {@code quiver serve} sets it from {@code quiver.session.stale-after-intervals} (default 2). A
     * session opened with its own limit ({@link OpenRequest#staleAfterIntervals()}) keeps it.
     *
     * @param intervals {@code >= 1}, or 0 for no check
     * @throws IllegalArgumentException if negative
     */
    public void staleAfterIntervals(int intervals) {
        if (intervals < 0) {
            throw new IllegalArgumentException(
                    "quiver.session.stale-after-intervals must be >= 0, was " + intervals);
        }
        this.staleAfterIntervals = intervals;
    }

    private volatile int staleAfterIntervals;

    /**
     * Replaces every bundle's maximum age ({@code serve --strategy-max-age}) for the sessions built
     * from now on (set it before {@link #recover}, so that a replay decides as the service did):
     * their decisions on bars from {@code serves_from + maxAge} on abstain.
     *
     * @param maxAge the maximum age, or empty for each manifest's own
     */
    public void strategyMaxAge(Optional<Duration> maxAge) {
        this.strategyMaxAge = java.util.Objects.requireNonNull(maxAge, "maxAge");
    }

    private volatile Optional<Duration> strategyMaxAge = Optional.empty();

    /** Told of every bar a session steps live (not of replays), e.g. the dashboard's stream. */
    @FunctionalInterface
    public interface StepObserver {
        /** Observes nothing. */
        StepObserver NONE =
                new StepObserver() {
                    @Override
                    public void stepped(String symbol, Map<String, Object> entry) {}

                    @Override
                    public boolean listening() {
                        return false;
                    }
                };

        /**
         * Called on the session's stepping thread after the bar was committed, the session's
         * monitor held: must be fast and must not block on a session.
         *
         * @param symbol the session
         * @param entry the bar's history entry, as {@link #history} lists it
         */
        void stepped(String symbol, Map<String, Object> entry);

        /**
         * Whether anyone listens now: while not, a stepped bar builds no history entry for it
         * (asked once per bar, on the stepping thread, so must be cheap).
         *
         * @return false to skip {@link #stepped} for this bar
         */
        default boolean listening() {
            return true;
        }
    }

    /**
     * Tells {@code observer} of every bar stepped live from now on.
     *
     * @param observer the observer, or null for none
     */
    public void observer(StepObserver observer) {
        this.observer = observer == null ? StepObserver.NONE : observer;
    }

    /**
     * Bars posted to this service's sessions since it started on which every policy abstained
     * because the strategy bundle was past its maximum age (replays at start not counted); the
     * counter {@code quiver_strategy_expired_decisions_total}.
     */
    public long expiredDecisions() {
        return expiredLive.sum();
    }

    private void notify(LiveSession s, Bar bar, Step step) {
        StepObserver observer = this.observer;
        try {
            if (!observer.listening()) {
                return;
            }
            observer.stepped(s.settings.symbol(), SessionAnswers.historyEntry(s, bar, step));
        } catch (RuntimeException e) {
            // The bar is committed and answered; an observer's fault must not refuse it.
            LOG.warn("step observer failed on {} at {}", s.settings.symbol(), bar.start(), e);
        }
    }

    /**
     * A session's recent history: per stepped bar (oldest first, at most {@code limit}, from the
     * last {@value LiveSession#JOURNAL_BARS} kept in memory and rebuilt by the replay), the bar,
     * the fused signal with its per-source contributions, and each policy's decision with its book.
     *
     * @param symbol the session
     * @param limit the most entries wanted, {@code >= 1}
     * @return {@code symbol}, {@code account}, {@code generation}, {@code acting_policy}, {@code
     *     policies}, {@code entries}
     * @throws QuiverInputException {@code UNKNOWN_SESSION}, {@code BAD_REQUEST} naming {@code
     *     limit}
     */
    public Map<String, Object> history(String symbol, int limit) {
        if (limit < 1) {
            throw new QuiverInputException(
                    "BAD_REQUEST", "limit", "history of " + symbol, limit, "must be >= 1");
        }
        return locked(
                () -> session(symbol),
                s -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("symbol", symbol);
                    m.put("account", s.account.id());
                    m.put("generation", s.generation);
                    m.put("acting_policy", s.settings.policy());
                    m.put("policies", s.strategy.strategy().policyNames());
                    m.put("kept_bars", LiveSession.JOURNAL_BARS);
                    List<Map<String, Object>> entries = new ArrayList<>();
                    int skip = Math.max(0, s.journal.size() - limit);
                    for (LiveSession.Stepped x : s.journal) {
                        if (skip-- > 0) {
                            continue;
                        }
                        entries.add(SessionAnswers.historyEntry(s, x.bar(), x.step()));
                    }
                    m.put("entries", entries);
                    return m;
                });
    }

    /**
     * {@link #history} as columns for charts ({@link HistoryColumns}: time, and of close, p_up,
     * agreement, each source's p_up, each policy's order flag, equity and drawdown those asked
     * for), read straight from the journal, with the full entries of the last 30 bars.
     *
     * @param symbol the session
     * @param limit the most bars wanted, {@code >= 1}
     * @param fields the columns wanted beside time
     * @param actingOnly only the acting policy's columns (else every policy's)
     * @return {@code symbol}, {@code account}, {@code generation}, {@code acting_policy}, {@code
     *     policies}, {@code kept_bars}, {@code count}, {@code columns}, {@code recent}
     * @throws QuiverInputException {@code UNKNOWN_SESSION}, {@code BAD_REQUEST} naming {@code
     *     limit}
     */
    public Map<String, Object> historyColumns(
            String symbol,
            int limit,
            java.util.Set<HistoryColumns.Field> fields,
            boolean actingOnly) {
        if (limit < 1) {
            throw new QuiverInputException(
                    "BAD_REQUEST", "limit", "history of " + symbol, limit, "must be >= 1");
        }
        return locked(() -> session(symbol), s -> HistoryColumns.of(s, limit, fields, actingOnly));
    }

    /** Strategy rollouts run on these sessions from now on ({@link StrategyRollouts#connect}). */
    void rollouts(StrategyRollouts rollouts) {
        this.rollouts = rollouts;
    }

    /**
     * What a client asks for when it opens a session.
     *
     * @param symbol the symbol
     * @param account the account id, or null for {@code SYMBOL-paper} ({@code SYMBOL-paper-gN} from
     *     the second generation on: an account is never reused)
     * @param currency the account's currency (a new account)
     * @param startingEquity the account's starting equity (a new account), {@code > 0}
     * @param mode paper (fills simulated at the next open) or external (fills posted)
     * @param interval the bar interval
     * @param maxGapBars the largest accepted gap between bars, intervals
     * @param policy the acting policy, or null for {@code kelly_ml} when served, else the first
     * @param warmup history fed to the features only, oldest first
     * @param staleAfterIntervals the session's own stale-bar limit in intervals ({@code 0}: none,
     *     for a replay of history), or {@code -1} for the manager's ({@link
     *     #staleAfterIntervals(int)})
     * @param portfolio the portfolio settings when the session joins a portfolio account (sized
     *     jointly with the account's other sessions), or {@code null}
     */
    public record OpenRequest(
            String symbol,
            String account,
            String currency,
            double startingEquity,
            AccountMode mode,
            Duration interval,
            int maxGapBars,
            String policy,
            List<Bar> warmup,
            int staleAfterIntervals,
            PortfolioSettings portfolio) {

        /**
         * A request of a single-symbol account.
         *
         * @param symbol see the record
         * @param account see the record
         * @param currency see the record
         * @param startingEquity see the record
         * @param mode see the record
         * @param interval see the record
         * @param maxGapBars see the record
         * @param policy see the record
         * @param warmup see the record
         * @param staleAfterIntervals see the record
         */
        public OpenRequest(
                String symbol,
                String account,
                String currency,
                double startingEquity,
                AccountMode mode,
                Duration interval,
                int maxGapBars,
                String policy,
                List<Bar> warmup,
                int staleAfterIntervals) {
            this(
                    symbol,
                    account,
                    currency,
                    startingEquity,
                    mode,
                    interval,
                    maxGapBars,
                    policy,
                    warmup,
                    staleAfterIntervals,
                    null);
        }

        /**
         * A request with the service's stale-bar limit.
         *
         * @param symbol see the record
         * @param account see the record
         * @param currency see the record
         * @param startingEquity see the record
         * @param mode see the record
         * @param interval see the record
         * @param maxGapBars see the record
         * @param policy see the record
         * @param warmup see the record
         */
        public OpenRequest(
                String symbol,
                String account,
                String currency,
                double startingEquity,
                AccountMode mode,
                Duration interval,
                int maxGapBars,
                String policy,
                List<Bar> warmup) {
            this(
                    symbol,
                    account,
                    currency,
                    startingEquity,
                    mode,
                    interval,
                    maxGapBars,
                    policy,
                    warmup,
                    -1,
                    null);
        }
    }

    /**
     * A fill an execution system reports.
     *
     * @param clientFillId the client's id, unique per account (idempotency key)
     * @param symbol the symbol
     * @param side buy or sell
     * @param quantity units, {@code > 0}
     * @param price price, {@code > 0}
     * @param fee fee, quote currency, {@code >= 0}
     * @param time when it filled
     */
    public record FillRequest(
            String clientFillId,
            String symbol,
            Side side,
            double quantity,
            double price,
            double fee,
            Instant time) {}

    /**
     * Replays every open session from the store (at start, after a crash or a clean stop alike). A
     * session whose replay fails does not stop the others: it is quarantined in state {@code
     * failed_recovery} with the reason ({@link #failedRecoveries}), refuses bars, fills and re-arms
     * with 409 {@code SESSION_FAILED_RECOVERY}, and can be closed (DELETE), which lets its symbol
     * be opened again as the next generation.
     *
     * @return the symbols recovered (the quarantined ones are not among them)
     */
    public List<String> recover() {
        List<String> out = new ArrayList<>();
        for (SessionRow row : store.openSessions()) {
            LiveSession s;
            try {
                s = replay(row);
            } catch (RuntimeException e) {
                quarantine(row, e);
                continue;
            }
            sessions.put(row.symbol(), s);
            out.add(row.symbol());
            LOG.info(
                    "session {} recovered: {} bars replayed, state {}",
                    row.symbol(),
                    s.session.barCount(),
                    s.session.state());
        }
        recoverPortfolios();
        out.removeIf(symbol -> !sessions.containsKey(symbol));
        return out;
    }

    private void quarantine(SessionRow row, RuntimeException e) {
        FailedSession f = FailedSession.of(row, e, clock.instant());
        failed.put(row.symbol(), f);
        LOG.error(
                "session {} (generation {}, account {}) could not be replayed and is quarantined"
                        + " (state failed_recovery): {}",
                row.symbol(),
                row.generation(),
                row.accountId(),
                f.reason(),
                e);
    }

    /**
     * The open sessions whose replay failed, by symbol.
     *
     * @return symbol to the reason; empty when every session serves
     */
    public Map<String, String> failedRecoveries() {
        Map<String, String> out = new java.util.TreeMap<>();
        failed.forEach((k, v) -> out.put(k, v.reason()));
        return out;
    }

    /**
     * Opens a session (or answers the open one when the settings are the same). A symbol whose
     * session was closed opens as its next generation ({@link StateStore#openNextGeneration}), with
     * fresh state and a new account; the closed generations stay stored.
     *
     * @param r the request
     * @return the session's state, with its {@code generation}
     * @throws QuiverInputException {@code SESSION_CONFLICT} if it is open with other settings or
     *     the account is taken (by an open or a closed session), {@code SESSION_FAILED_RECOVERY} if
     *     the symbol's session is quarantined, {@code BAD_SESSION} for a bad setting, or what a
     *     warm-up bar breaks
     */
    public Map<String, Object> open(OpenRequest r) {
        // One open at a time: the account check and the put are one step (two opens naming the
        // same account for two symbols would otherwise both pass it). Bars and fills of open
        // sessions do not take this lock.
        synchronized (opening) {
            LiveSession existing = sessions.get(r.symbol());
            if (existing != null) {
                synchronized (existing) {
                    if (!existing.retired) {
                        return openAgain(existing, r);
                    }
                }
            }
            FailedSession quarantined = failed.get(r.symbol());
            if (quarantined != null) {
                throw quarantined.refusal("symbol", r.symbol());
            }
            Optional<SessionRow> current = store.session(r.symbol());
            if (current.isPresent() && current.get().isOpen()) {
                throw new IllegalStateException(
                        "session "
                                + r.symbol()
                                + " is open in the store but not served: restart the service");
            }
            // A closed session's symbol opens as the next generation, with fresh state.
            long generation = current.map(c -> c.generation() + 1).orElse(1L);
            String accountId =
                    r.account() != null
                            ? r.account()
                            : r.symbol()
                                    + "-"
                                    + r.mode().sql()
                                    + (generation > 1 ? "-g" + generation : "");
            for (FailedSession other : failed.values()) {
                if (other.row().accountId().equals(accountId)) {
                    throw other.refusal("account", accountId);
                }
            }
            LivePortfolio joining = r.portfolio() == null ? null : portfolios.get(accountId);
            for (LiveSession other : sessions.values()) {
                if (other.account.id().equals(accountId)
                        && (joining == null || other.portfolio != joining)) {
                    throw new QuiverInputException(
                            "SESSION_CONFLICT",
                            "account",
                            "session " + r.symbol(),
                            accountId,
                            "is the account of session "
                                    + other.settings.symbol()
                                    + "; one symbol per account, unless every session on it is"
                                    + " opened with the same \"portfolio\" settings (a portfolio"
                                    + " account, docs/portfolio.md)");
                }
            }
            if (r.portfolio() != null) {
                portfolioPolicy(r, joining);
            }
            if (joining == null && store.account(accountId).isPresent()) {
                // Its fills and events are its session's: a new session on it would start from
                // the starting equity live but replay the old fills after a restart.
                throw new QuiverInputException(
                        "SESSION_CONFLICT",
                        "account",
                        "session " + r.symbol(),
                        accountId,
                        "is the account of a closed session; an account is not reused (its fills"
                                + " and events belong to that session): use a new account id");
            }
            BundleLoader.Loaded probe = strategies.loadCurrent();
            String policy = r.policy();
            LiveSession live;
            try {
                List<String> names = probe.strategy().policyNames();
                if (policy == null) {
                    policy = names.contains("kelly_ml") ? "kelly_ml" : names.get(0);
                } else if (!names.contains(policy)) {
                    throw new QuiverInputException(
                            "BAD_SESSION",
                            "policy",
                            "session " + r.symbol(),
                            policy,
                            "is not a policy of the served strategy " + names);
                }
                if (joining != null && !joining.rules.equals(probe.rules())) {
                    // one account, one book: its costs, breakers and band are the strategy's
                    throw new QuiverInputException(
                            "SESSION_CONFLICT",
                            "strategy",
                            "session " + r.symbol(),
                            probe.bundle().id(),
                            "carries trading rules "
                                    + probe.rules()
                                    + " that differ from portfolio account "
                                    + joining.id()
                                    + "'s "
                                    + joining.rules
                                    + "; every session on one account serves a strategy with the"
                                    + " same costs, breakers and rebalance band");
                }
            } catch (RuntimeException e) {
                probe.close();
                throw e;
            }
            long now = clock.millis();
            AccountRow account =
                    joining != null
                            ? joining.account
                            : new AccountRow(
                                    accountId, r.currency(), r.startingEquity(), r.mode(), now);
            SessionSettings settings =
                    new SessionSettings(
                            r.symbol(),
                            accountId,
                            r.interval(),
                            r.maxGapBars(),
                            policy,
                            r.warmup().size(),
                            probe.bundle().id(),
                            r.staleAfterIntervals(),
                            r.portfolio());
            live = build(settings, account, probe); // closes probe if it throws
            LivePortfolio portfolio;
            PortfolioSizingCapability own = null;
            try {
                if (joining == null && r.portfolio() != null) {
                    own = ownPortfolioPolicy(r.portfolio().policy(), accountId);
                }
                portfolio =
                        joining != null
                                ? joining
                                : r.portfolio() == null
                                        ? null
                                        : new LivePortfolio(
                                                account, r.portfolio(), probe.rules(), own);
            } catch (RuntimeException e) {
                if (own != null) {
                    own.close();
                }
                live.strategy.close();
                throw e;
            }
            try {
                live.session.warmUp(r.warmup());
                List<BarRow> rows = new ArrayList<>(r.warmup().size());
                for (Bar b : r.warmup()) {
                    rows.add(row(b));
                }
                java.util.function.Supplier<SessionRow> commit =
                        () ->
                                store.inTransaction(
                                        tx -> {
                                            if (joining == null) {
                                                tx.createAccount(account);
                                            }
                                            SessionRow o =
                                                    tx.openNextGeneration(
                                                            SessionRow.open(
                                                                    r.symbol(),
                                                                    account.id(),
                                                                    settings.toJson(),
                                                                    now));
                                            tx.appendBars(r.symbol(), rows);
                                            halt.opened(tx, live);
                                            if (portfolio != null) {
                                                tx.appendEvent(
                                                        portfolio.event(
                                                                r.symbol(),
                                                                now,
                                                                "engine",
                                                                "session joined the portfolio"
                                                                        + " account",
                                                                null));
                                            }
                                            return o;
                                        });
                SessionRow opened;
                if (portfolio == null) {
                    opened = commit.get();
                } else {
                    synchronized (portfolio) {
                        portfolio.join(r.symbol(), r.interval(), r.warmup());
                        try {
                            opened = commit.get();
                        } catch (RuntimeException e) {
                            if (joining != null) {
                                reloadAfter(joining, e);
                            }
                            throw e;
                        }
                    }
                }
                live.generation = opened.generation();
            } catch (RuntimeException e) {
                live.strategy.close();
                if (joining == null && portfolio != null) {
                    portfolio.close();
                }
                throw e;
            }
            halt.applyCurrent(live);
            live.portfolio = portfolio;
            if (portfolio != null) {
                portfolios.put(accountId, portfolio);
            }
            sessions.put(r.symbol(), live);
            return SessionAnswers.state(live, rollouts);
        }
    }

    /** The open session asked for again: the same settings answer it, others are refused. */
    private Map<String, Object> openAgain(LiveSession existing, OpenRequest r) {
        SessionSettings asked =
                new SessionSettings(
                        r.symbol(),
                        r.account() == null ? existing.settings.account() : r.account(),
                        r.interval(),
                        r.maxGapBars(),
                        r.policy() == null ? existing.settings.policy() : r.policy(),
                        r.warmup().size(),
                        existing.settings.bundle(),
                        existing.settings.staleAfterIntervals(),
                        r.portfolio());
        existing.settings.requireSame(asked);
        AccountRow a = existing.account;
        String differs =
                a.mode() != r.mode()
                        ? "mode"
                        : !a.currency().equals(r.currency())
                                ? "currency"
                                : Double.compare(a.startingEquity(), r.startingEquity()) != 0
                                        ? "starting_equity"
                                        : null;
        if (differs != null) {
            Object mine =
                    switch (differs) {
                        case "mode" -> a.mode().sql();
                        case "currency" -> a.currency();
                        default -> a.startingEquity();
                    };
            Object theirs =
                    switch (differs) {
                        case "mode" -> r.mode().sql();
                        case "currency" -> r.currency();
                        default -> r.startingEquity();
                    };
            throw new QuiverInputException(
                    "SESSION_CONFLICT",
                    differs,
                    "session " + r.symbol(),
                    theirs,
                    "differs from the open session's account "
                            + a.id()
                            + " ("
                            + mine
                            + "); close it first (DELETE)");
        }
        return SessionAnswers.state(existing, rollouts);
    }

    /**
     * Steps new bars; answers the decision on the last. The batch is checked whole before any bar
     * is stepped: a refused batch changes nothing. The last bar re-sent unchanged (as the first of
     * the batch, or alone) answers the same decision again and changes nothing.
     *
     * @param symbol the session
     * @param bars bars, oldest first
     * @return the decision on the last bar, with the account and the session's state
     * @throws QuiverInputException {@code UNKNOWN_SESSION}, or a bar refusal ({@code BAR_CONFLICT},
     *     {@code BAR_OUT_OF_ORDER}, {@code BAR_GAP}, {@code SESSION_REWARM}) naming the bar ({@code
     *     bars[i].timestamp}). A gap after the session's last bar (at {@code bars[0]}) also puts
     *     the session in {@code rewarm_required}, committed with the reason; a gap inside the batch
     *     only refuses the batch.
     */
    public Map<String, Object> bars(String symbol, List<Bar> bars) {
        return locked(() -> session(symbol), s -> step(s, symbol, bars));
    }

    private Map<String, Object> step(LiveSession s, String symbol, List<Bar> bars) {
        int from;
        try {
            s.session.checkBatch(bars.subList(0, Math.min(1, bars.size())));
            from = s.session.checkBatch(bars);
        } catch (QuiverInputException e) {
            if (e.code().equals("BAR_GAP") && e.field().equals("bars[0].timestamp")) {
                requireRewarm(s, bars.get(0), e.getMessage());
            }
            throw e;
        }
        requireFresh(s, bars);
        Step last = from > 0 ? s.session.lastStep() : null;
        StrategyRollouts r = rollouts;
        for (Bar b : bars.subList(from, bars.size())) {
            Bar previous = s.session.lastBar();
            try {
                if (r != null) {
                    r.beforeBar(s, id -> swapOne(s, id, "rollout"), this::storedBars);
                }
                long expiredBefore = s.engine().expiredDecisions();
                last = s.record(b, s.session.append(b));
                if (s.engine().expiredDecisions() > expiredBefore) {
                    expiredLive.increment();
                }
                // Only a bar that changed a breaker copies and sorts the events (they grow with
                // the session's life).
                int events = s.engine().breakerEventCount();
                List<EventRow> audit = new ArrayList<>();
                if (events > s.breakerEventsSeen) {
                    List<BreakerEvent> all = s.engine().breakerEvents();
                    for (int i = s.breakerEventsSeen; i < all.size(); i++) {
                        audit.add(breakerEvent(s, all.get(i)));
                    }
                }
                CallFailureEvents.of(s, b, clock.millis()).ifPresent(audit::add);
                BarRow row = row(b);
                LivePortfolio p = s.portfolio;
                if (p == null) {
                    store.inTransaction(
                            tx -> {
                                tx.appendBars(symbol, List.of(row));
                                audit.forEach(tx::appendEvent);
                                return null;
                            });
                } else {
                    // The account's book and the store move together, one member bar at a time.
                    // (a failure rebuilds the session and reloads the account from the store)
                    synchronized (p) {
                        JsonNode joint = p.onBar(symbol, b, last, s.engine().halted() != null);
                        audit.add(p.event(symbol, clock.millis(), "engine", null, joint));
                        store.inTransaction(
                                tx -> {
                                    tx.appendBars(symbol, List.of(row));
                                    audit.forEach(tx::appendEvent);
                                    return null;
                                });
                    }
                }
                s.breakerEventsSeen = events;
                if (r != null) {
                    r.afterBar(s, previous, b, last);
                }
                notify(s, b, last);
            } catch (RuntimeException e) {
                // The engine may be ahead of the store: rebuild it from what was committed. A
                // rebuild that fails too never replaces this error (rebuild attaches its own).
                rebuild(symbol, e);
                throw e;
            }
        }
        if (last == null) {
            throw new QuiverInputException(
                    "WARMING_UP",
                    "bars",
                    "session " + symbol,
                    bars.size(),
                    "no bar has been stepped yet (only warm-up)");
        }
        return SessionAnswers.decision(s, last, rollouts);
    }

    /** Refuses a batch whose last bar is stale (see {@link #staleAfterIntervals(int)}). */
    private void requireFresh(LiveSession s, List<Bar> bars) {
        int own = s.settings.staleAfterIntervals();
        int k = own >= 0 ? own : staleAfterIntervals;
        if (k == 0 || bars.isEmpty()) {
            return;
        }
        Bar newest = bars.get(bars.size() - 1);
        Duration limit = s.settings.interval().multipliedBy(k);
        Duration age = Duration.between(newest.start(), clock.instant());
        if (age.compareTo(limit) > 0) {
            throw new QuiverInputException(
                    "BAR_STALE",
                    "bars[" + (bars.size() - 1) + "].timestamp",
                    "session " + s.settings.symbol(),
                    newest.start(),
                    "is "
                            + age
                            + " old at "
                            + clock.instant()
                            + ", more than "
                            + k
                            + " x "
                            + s.settings.interval()
                            + (own >= 0
                                    ? " (the session's stale_after_intervals)"
                                    : " (quiver.session.stale-after-intervals)")
                            + ": no decision on stale"
                            + " data; the batch is not taken");
        }
    }

    /** Commits that the session needs a re-warm, then refuses bars until it has one. */
    private void requireRewarm(LiveSession s, Bar refused, String reason) {
        ObjectNode d = JSON.createObjectNode();
        d.put("bar_ms", refused.start().toEpochMilli());
        d.put("after_bar_ms", lastBarMillis(s));
        store.appendEvent(
                new EventRow(
                        s.account.id(),
                        Optional.of(s.settings.symbol()),
                        REWARM_REQUIRED,
                        Optional.empty(),
                        d.toString(),
                        clock.millis(),
                        "engine",
                        Optional.of(reason)));
        s.session.requireRewarm(reason);
    }

    /**
     * Re-warms a session in {@code rewarm_required} (a gap larger than {@code max_gap_bars} was
     * refused): the features restart from the given bars after the session's last bar (fed to the
     * features only: nothing is decided, filled or counted), the account, breakers and pending
     * order are kept, and the session takes bars again after the last re-warm bar. The bars are
     * stored with a {@code session_rewarmed} event (actor, reason) in one transaction, so a replay
     * re-warms at the same place. Bars at or before the session's last bar are skipped (the gap
     * separates them from the new context); a refused re-warm stores nothing.
     *
     * @param symbol the session
     * @param bars history covering the gap, oldest first; those after the last bar are used
     * @param actor who asks, or null for {@code operator}
     * @param reason why, or null for the gap's reason
     * @return the session's state, with what the re-warm used
     * @throws QuiverInputException {@code UNKNOWN_SESSION}, {@code SESSION_CLOSED}, {@code
     *     SESSION_FAILED_RECOVERY}, {@code SESSION_NOT_REWARM_REQUIRED} (state), {@code BAD_REWARM}
     *     (no bar after the last one: {@code warmup}), or {@code BAR_OUT_OF_ORDER} / {@code
     *     BAR_GAP} naming the bar ({@code warmup.bars[i].timestamp})
     */
    public Map<String, Object> rewarm(String symbol, List<Bar> bars, String actor, String reason) {
        return locked(() -> session(symbol), s -> rewarm(s, symbol, bars, actor, reason));
    }

    private Map<String, Object> rewarm(
            LiveSession s, String symbol, List<Bar> bars, String actor, String reason) {
        SessionRewarm plan = SessionRewarm.plan(s, symbol, bars, actor, reason, clock.millis());
        store.inTransaction(
                tx -> {
                    tx.appendBars(symbol, plan.rows());
                    tx.appendEvent(plan.event());
                    return null;
                });
        try {
            s.session.rewarm(plan.window());
        } catch (RuntimeException e) {
            rebuild(symbol, e);
            throw e;
        }
        if (s.portfolio != null) {
            synchronized (s.portfolio) {
                s.portfolio.history(symbol, plan.window());
            }
        }
        Map<String, Object> out = SessionAnswers.state(s, rollouts);
        out.put("rewarm", plan.answer());
        return out;
    }

    /**
     * A session's state.
     *
     * @param symbol the session
     * @return settings, state, bars, the last decision, the account
     * @throws QuiverInputException {@code UNKNOWN_SESSION}
     */
    public Map<String, Object> state(String symbol) {
        FailedSession f = failed.get(symbol);
        if (f != null) {
            return f.state();
        }
        if (!sessions.containsKey(symbol)) {
            Optional<SessionRow> closed = store.session(symbol).filter(r -> !r.isOpen());
            if (closed.isPresent()) {
                return SessionAnswers.closed(closed.get());
            }
        }
        return locked(() -> session(symbol), s -> SessionAnswers.state(s, rollouts));
    }

    /**
     * Every generation of a symbol's session, oldest first: account, settings, when opened and
     * closed, bars stored.
     *
     * @param symbol the symbol
     * @return the generations
     * @throws QuiverInputException {@code UNKNOWN_SESSION} if the symbol never had a session
     */
    public Map<String, Object> generations(String symbol) {
        List<SessionRow> rows = store.sessionHistory(symbol);
        if (rows.isEmpty()) {
            throw new QuiverInputException(
                    "UNKNOWN_SESSION",
                    "symbol",
                    "sessions",
                    symbol,
                    "never had a session (PUT /v1/sessions/" + symbol + " opens one)");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (SessionRow r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("generation", r.generation());
            m.put("account", r.accountId());
            m.put("opened", Instant.ofEpochMilli(r.openedMs()).toString());
            m.put(
                    "closed",
                    r.closedMs().isPresent()
                            ? Instant.ofEpochMilli(r.closedMs().getAsLong()).toString()
                            : null);
            m.put(
                    "state",
                    r.closedMs().isPresent()
                            ? "closed"
                            : failed.containsKey(symbol) ? "failed_recovery" : "open");
            m.put("bars", store.generationBars(symbol, r.generation()).size());
            m.put("settings", JSON.convertValue(detailOf(r.settingsJson()), Map.class));
            out.add(m);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("symbol", symbol);
        m.put("generations", out);
        return m;
    }

    private static com.fasterxml.jackson.databind.JsonNode detailOf(String json) {
        try {
            return JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("stored session settings are not JSON: " + json, e);
        }
    }

    /**
     * The open sessions.
     *
     * @return per session, its short state
     */
    public List<Map<String, Object>> list() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (LiveSession s : sessions.values()) {
            synchronized (s) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("symbol", s.settings.symbol());
                m.put("account", s.account.id());
                m.put("state", s.session.state().name().toLowerCase(java.util.Locale.ROOT));
                m.put("generation", s.generation);
                m.put("bars", s.session.barCount());
                m.put("halted", s.engine().halted() != null);
                out.add(m);
            }
        }
        for (FailedSession f : failed.values()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("symbol", f.row().symbol());
            m.put("account", f.row().accountId());
            m.put("state", FailedSession.STATE);
            m.put("generation", f.row().generation());
            m.put("reason", f.reason());
            out.add(m);
        }
        out.sort(java.util.Comparator.comparing(m -> String.valueOf(m.get("symbol"))));
        return out;
    }

    /**
     * Closes a session's generation (its bars and account stay in the store); a quarantined one
     * too. From then on its bars, fills and commands are refused with {@code SESSION_CLOSED} (410),
     * and {@link #open} opens the symbol's next generation.
     *
     * @param symbol the session
     * @return its final state
     * @throws QuiverInputException {@code UNKNOWN_SESSION}, {@code SESSION_CLOSED} if closed
     *     already
     */
    public Map<String, Object> close(String symbol) {
        synchronized (opening) {
            FailedSession f = failed.get(symbol);
            if (f != null) {
                LivePortfolio p = portfolios.get(f.row().accountId());
                SessionRow closed =
                        p != null && p.member(symbol) && !p.left(symbol)
                                ? closeMember(p, symbol, "quarantined session closed")
                                : store.closeSession(symbol, clock.millis());
                failed.remove(symbol, f);
                Map<String, Object> last = f.state();
                last.put("state", "closed");
                last.put("closed", Instant.ofEpochMilli(closed.closedMs().getAsLong()).toString());
                return last;
            }
        }
        return locked(
                () -> session(symbol),
                s -> {
                    Map<String, Object> last = SessionAnswers.state(s, rollouts);
                    LivePortfolio p = s.portfolio;
                    if (p != null) {
                        closeMember(p, symbol, "session closed");
                    } else {
                        store.closeSession(symbol, clock.millis());
                    }
                    s.retired = true;
                    sessions.remove(symbol, s);
                    s.closeInstances();
                    last.put("state", "closed");
                    return last;
                });
    }

    /**
     * A portfolio member's session closes: its position is sold at its last price, and the book's
     * state and the session's close are committed in one transaction (all or nothing: a failure
     * puts the book back as stored and throws the failure). The account ends with its last member.
     */
    private SessionRow closeMember(LivePortfolio p, String symbol, String why) {
        synchronized (p) {
            long now = clock.millis();
            SessionRow closed;
            try {
                p.leave(symbol);
                EventRow event =
                        p.event(
                                symbol,
                                now,
                                "engine",
                                why + ": its position is sold at its last price",
                                null);
                closed =
                        store.inTransaction(
                                tx -> {
                                    tx.appendEvent(event);
                                    return tx.closeSession(symbol, now);
                                });
            } catch (RuntimeException e) {
                reloadAfter(p, e);
                throw e;
            }
            if (p.openMembers().isEmpty()) {
                portfolios.remove(p.id(), p);
                p.close();
            }
            return closed;
        }
    }

    /**
     * An account's figures.
     *
     * @param id the account
     * @return equity, cash, position, drawdown, daily P&amp;L, hit rate, breakers, recent fills
     * @throws QuiverInputException {@code UNKNOWN_ACCOUNT}
     */
    public Map<String, Object> account(String id) {
        LivePortfolio p = portfolios.get(id);
        if (p != null) {
            synchronized (p) {
                return p.figures();
            }
        }
        return locked(() -> sessionOfAccount(id), s -> accountWithFills(s, id));
    }

    private Map<String, Object> accountWithFills(LiveSession s, String id) {
        {
            Map<String, Object> m = SessionAnswers.accountFigures(s);
            List<Map<String, Object>> fills = new ArrayList<>();
            List<FillRow> stored = store.fills(id);
            for (FillRow f : stored.subList(Math.max(0, stored.size() - 20), stored.size())) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("client_fill_id", f.clientFillId());
                x.put("side", f.side().sql());
                x.put("quantity", f.quantity());
                x.put("price", f.price());
                x.put("fee", f.fee());
                x.put("time", Instant.ofEpochMilli(f.timeMs()).toString());
                fills.add(x);
            }
            m.put("recent_fills", fills);
            return m;
        }
    }

    /**
     * Records a fill from an execution system: idempotent by client fill id.
     *
     * @param accountId the account
     * @param f the fill
     * @return {@code duplicate} true when the same fill was recorded before, and the account
     * @throws QuiverInputException naming the field: {@code UNKNOWN_ACCOUNT}, {@code
     *     ACCOUNT_IS_PAPER}, {@code BAD_FILL} (symbol, quantity, price, fee, time, a sale beyond
     *     the position), or the store's {@code STATE_CONFLICT} for the same id with other content
     */
    public Map<String, Object> fill(String accountId, FillRequest f) {
        return locked(() -> sessionOfAccount(accountId), s -> fill(s, accountId, f));
    }

    private Map<String, Object> fill(LiveSession s, String accountId, FillRequest f) {
        if (s.account.mode() != AccountMode.EXTERNAL) {
            throw new QuiverInputException(
                    "ACCOUNT_IS_PAPER",
                    "account",
                    "fill " + f.clientFillId(),
                    accountId,
                    "is a paper account: the engine fills it at the next open; post fills to"
                            + " an external account");
        }
        validate(s, f);
        FillRow row =
                new FillRow(
                        accountId,
                        f.clientFillId(),
                        f.symbol(),
                        f.side(),
                        f.quantity(),
                        f.price(),
                        f.fee(),
                        f.time().toEpochMilli());
        FillOutcome outcome;
        double signed = f.side() == Side.BUY ? f.quantity() : -f.quantity();
        if (s.fillIds.contains(f.clientFillId())) {
            // A retry: the store compares it with the recorded fill (DUPLICATE, or a conflict
            // naming the field) and writes nothing. The checks against the session's present
            // (its last bar, the position) held when the fill was recorded.
            outcome = store.recordFill(row);
        } else {
            validateNow(s, f, signed);
            long afterBar = lastBarMillis(s);
            outcome =
                    store.inTransaction(
                            tx -> {
                                FillOutcome o = tx.recordFill(row);
                                if (o == FillOutcome.INSERTED) {
                                    tx.appendEvent(
                                            command(
                                                    s,
                                                    FILL,
                                                    Map.of(
                                                            "client_fill_id",
                                                            f.clientFillId(),
                                                            "after_bar_ms",
                                                            afterBar),
                                                    "client",
                                                    null));
                                }
                                return o;
                            });
            if (outcome == FillOutcome.INSERTED) {
                s.fillIds.add(f.clientFillId());
                s.engine()
                        .fill(
                                s.acting,
                                signed,
                                f.price(),
                                f.fee(),
                                f.time().toEpochMilli(),
                                markPrice(s));
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("duplicate", outcome == FillOutcome.DUPLICATE);
        m.put("account", SessionAnswers.accountFigures(s));
        return m;
    }

    /**
     * Re-arms a tripped breaker of the account's acting policy, audited with who and why.
     *
     * @param accountId the account
     * @param breaker {@code max_drawdown}, {@code daily_loss} or {@code hit_rate}
     * @param actor who
     * @param reason why, non-blank
     * @return {@code rearmed} (false if it was not tripped) and the account
     * @throws QuiverInputException {@code UNKNOWN_ACCOUNT}, {@code BAD_REARM}
     */
    public Map<String, Object> rearm(
            String accountId, String breaker, String actor, String reason) {
        LivePortfolio p = portfolios.get(accountId);
        if (p != null) {
            return rearmPortfolio(p, breaker, actor, reason);
        }
        return locked(
                () -> sessionOfAccount(accountId),
                s -> rearm(s, accountId, breaker, actor, reason));
    }

    private Map<String, Object> rearm(
            LiveSession s, String accountId, String breaker, String actor, String reason) {
        {
            CircuitBreakers.Breaker b;
            try {
                b = CircuitBreakers.Breaker.ofLabel(breaker);
            } catch (IllegalArgumentException e) {
                throw new QuiverInputException(
                        "BAD_REARM", "breaker", "re-arm " + accountId, breaker, e.getMessage());
            }
            if (Text.blank(reason)) {
                throw new QuiverInputException(
                        "BAD_REARM", "reason", "re-arm " + accountId, reason, "is required");
            }
            if (Text.blank(actor)) {
                throw new QuiverInputException(
                        "BAD_REARM", "actor", "re-arm " + accountId, actor, "is required");
            }
            if (s.engine().breakers(s.acting) == null) {
                throw new QuiverInputException(
                        "BAD_REARM",
                        "breaker",
                        "re-arm " + accountId,
                        breaker,
                        "the served strategy has no circuit breakers");
            }
            long at = lastBarMillis(s);
            boolean tripped = s.engine().breakers(s.acting).tripped(b);
            if (tripped) {
                store.inTransaction(
                        tx ->
                                tx.appendEvent(
                                        command(
                                                s,
                                                REARM,
                                                Map.of("breaker", b.label(), "after_bar_ms", at),
                                                actor,
                                                reason)));
                s.engine().rearm(s.acting, b, at, reason);
                s.breakerEventsSeen = s.engine().breakerEvents().size();
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("rearmed", tripped);
            m.put("account", SessionAnswers.accountFigures(s));
            return m;
        }
    }

    /**
     * Swaps every open session to the catalog's current bundle, each between two of its bars (under
     * its monitor), recorded with the bar it followed so a replay swaps at the same place. A
     * session whose swap is refused (the bundle cannot be loaded, or its policies differ) keeps its
     * bundle, and the refusal is returned.
     *
     * @param actor who asked (an alias poller, an operator)
     * @return per session, the bundle it decides with now or why it kept its own
     */
    public Map<String, String> swapToCurrent(String actor) {
        String id = strategies.current().id();
        Map<String, String> out = new LinkedHashMap<>();
        for (String symbol : List.copyOf(sessions.keySet())) {
            // Looked up under its monitor: a session rebuilt meanwhile is swapped as the one it
            // became, one closed meanwhile is left out.
            try {
                out.put(
                        symbol,
                        locked(() -> session(symbol), s -> swapOne(s, target(s, id), actor)));
            } catch (QuiverInputException e) {
                if (!e.code().equals("UNKNOWN_SESSION")) {
                    throw e;
                }
            }
        }
        return out;
    }

    /** The bundle a session decides with when {@code id} serves: a rollout may route it away. */
    private String target(LiveSession s, String id) {
        StrategyRollouts r = rollouts;
        return r == null ? id : r.target(s, id);
    }

    /** The session's stored bars, oldest first. */
    private List<Bar> storedBars(String symbol) {
        List<BarRow> rows = store.bars(symbol);
        List<Bar> out = new ArrayList<>(rows.size());
        for (BarRow row : rows) {
            out.add(bar(row));
        }
        return out;
    }

    /** Swaps one session to bundle {@code id}; answers {@code id} or why it kept its own. */
    private String swapOne(LiveSession s, String id, String actor) {
        if (s.strategy.bundle().id().equals(id)) {
            return "already " + id;
        }
        BundleLoader.Loaded next;
        try {
            next = strategies.load(id);
        } catch (RuntimeException e) {
            return "kept " + s.strategy.bundle().id() + ": " + e.getMessage();
        }
        try {
            if (!next.strategy().policyNames().equals(s.strategy.strategy().policyNames())) {
                throw new IllegalArgumentException(
                        "policies "
                                + next.strategy().policyNames()
                                + " differ from "
                                + s.strategy.strategy().policyNames());
            }
            long after = lastBarMillis(s);
            store.inTransaction(
                    tx ->
                            tx.appendEvent(
                                    command(
                                            s,
                                            SWAP,
                                            Map.of("bundle", id, "after_bar_ms", after),
                                            actor,
                                            "strategy swapped to " + id)));
        } catch (RuntimeException e) {
            next.close();
            return "kept " + s.strategy.bundle().id() + ": " + e.getMessage();
        }
        swap(s, next);
        return id;
    }

    /** Closes every session's instances (the store stays open: the caller owns it). */
    @Override
    public void close() {
        for (LiveSession s : sessions.values()) {
            synchronized (s) {
                s.closeInstances();
            }
        }
        sessions.clear();
        for (LivePortfolio p : portfolios.values()) {
            synchronized (p) {
                p.close();
            }
        }
        portfolios.clear();
    }

    // ---- portfolio accounts --------------------------------------------------------------------

    /**
     * Checks a request against the portfolio account it joins (if any) and that the policy it names
     * is loaded.
     */
    private void portfolioPolicy(OpenRequest r, LivePortfolio joining) {
        String where = "session " + r.symbol();
        if (r.account() == null) {
            throw new QuiverInputException(
                    "BAD_SESSION",
                    "account",
                    where,
                    null,
                    "is required with \"portfolio\": the account id the portfolio's sessions"
                            + " share");
        }
        if (r.mode() != AccountMode.PAPER) {
            throw new QuiverInputException(
                    "BAD_SESSION",
                    "mode",
                    where,
                    r.mode().sql(),
                    "a portfolio account is a paper account (targets fill at each symbol's next"
                            + " open); fills from an execution system are for single-symbol"
                            + " accounts");
        }
        if (joining != null) {
            String field = joining.settings.differs(r.portfolio());
            if (field != null) {
                throw new QuiverInputException(
                        "SESSION_CONFLICT",
                        field,
                        where,
                        r.portfolio(),
                        "differs from the settings of portfolio account "
                                + joining.id()
                                + " ("
                                + joining.settings
                                + "); every session on it names the same");
            }
            AccountRow a = joining.account;
            if (!a.currency().equals(r.currency())) {
                throw new QuiverInputException(
                        "SESSION_CONFLICT",
                        "currency",
                        where,
                        r.currency(),
                        "differs from portfolio account " + a.id() + "'s " + a.currency());
            }
            if (Double.compare(a.startingEquity(), r.startingEquity()) != 0) {
                throw new QuiverInputException(
                        "SESSION_CONFLICT",
                        "starting_equity",
                        where,
                        r.startingEquity(),
                        "differs from portfolio account "
                                + a.id()
                                + "'s "
                                + a.startingEquity()
                                + " (one account, one starting equity)");
            }
            if (joining.member(r.symbol())) {
                throw new QuiverInputException(
                        "SESSION_CONFLICT",
                        "symbol",
                        where,
                        r.symbol(),
                        "left portfolio account "
                                + a.id()
                                + " when its session closed; a symbol does not join an account"
                                + " twice (use a new account id)");
            }
        }
        List<PortfolioSizingCapability> loaded = strategies.portfolioPolicies();
        for (PortfolioSizingCapability c : loaded) {
            if (c.descriptor().name().equals(r.portfolio().policy())) {
                return;
            }
        }
        throw new QuiverInputException(
                "BAD_SESSION",
                "portfolio.policy",
                where,
                r.portfolio().policy(),
                "is not a loaded portfolio sizing policy "
                        + loaded.stream().map(c -> c.descriptor().name()).toList());
    }

    /**
     * A new instance of the portfolio policy {@code name} for one account alone (accounts share no
     * policy state).
     *
     * @throws IllegalStateException if no loaded plugin provides it
     */
    private PortfolioSizingCapability ownPortfolioPolicy(String name, String accountId) {
        return strategies
                .newPortfolioPolicy(name)
                .orElseThrow(
                        () ->
                                new IllegalStateException(
                                        "portfolio policy '"
                                                + name
                                                + "' of account "
                                                + accountId
                                                + " is not loaded (loaded: "
                                                + strategies.portfolioPolicies().stream()
                                                        .map(c -> c.descriptor().name())
                                                        .toList()
                                                + ")"));
    }

    /**
     * Puts a portfolio account back as the store has it: its last stored state, its members' stored
     * bars, each open member's last step (its latest signal, payoff and volatility).
     */
    private void reload(LivePortfolio p) {
        synchronized (p) {
            StoredEvent lastEvent =
                    store.lastEvent(p.id(), LivePortfolio.KIND, null)
                            .orElseThrow(
                                    () ->
                                            new IllegalStateException(
                                                    "portfolio account "
                                                            + p.id()
                                                            + " has no stored state ("
                                                            + LivePortfolio.KIND
                                                            + " event)"));
            JsonNode detail = detail(lastEvent);
            Map<String, LiveSession> members = new LinkedHashMap<>();
            for (LiveSession s : sessions.values()) {
                if (s.account.id().equals(p.id()) && !s.retired) {
                    members.put(s.settings.symbol(), s);
                }
            }
            Map<String, List<Bar>> history = new LinkedHashMap<>();
            Map<String, JsonNode> decisions = new LinkedHashMap<>();
            long latestSeq = Long.MIN_VALUE;
            JsonNode latest = null;
            for (JsonNode m : detail.path("members")) {
                String symbol = m.path("symbol").asText();
                if (members.containsKey(symbol)) {
                    history.put(symbol, storedBars(symbol));
                }
                Optional<StoredEvent> own = store.lastEvent(p.id(), LivePortfolio.KIND, symbol);
                if (own.isPresent()) {
                    JsonNode d = detail(own.get()).get("decision");
                    JsonNode decision = d == null || d.isNull() ? null : d;
                    decisions.put(symbol, decision);
                    if (decision != null && own.get().seq() > latestSeq) {
                        latestSeq = own.get().seq();
                        latest = decision;
                    }
                }
            }
            p.reset();
            p.restore(detail, history, decisions);
            p.lastDecision(latest);
            for (LiveSession s : members.values()) {
                if (p.member(s.settings.symbol())) {
                    p.observe(s.settings.symbol(), s.session.lastStep());
                    s.portfolio = p;
                }
            }
            // A member whose session is not served (quarantined) is frozen: its position held at
            // its last price, never sized, until its session is closed (docs/portfolio.md).
            for (String symbol : p.openMembers()) {
                if (!members.containsKey(symbol)) {
                    FailedSession f = failed.get(symbol);
                    p.freeze(
                            symbol,
                            "session quarantined ("
                                    + FailedSession.STATE
                                    + "): "
                                    + (f == null ? "its session is not served" : f.reason()));
                }
            }
        }
    }

    /**
     * Puts a portfolio account back after {@code first} failed (its book may be ahead of the
     * store). If that fails too, {@code first} stays the error (the reload's is attached to it as
     * suppressed, and logged with it) and the account's member sessions are quarantined with a
     * reason naming both, so they refuse work instead of serving a book the store does not have.
     */
    private void reloadAfter(LivePortfolio p, RuntimeException first) {
        try {
            reload(p);
        } catch (RuntimeException again) {
            first.addSuppressed(again);
            RuntimeException why =
                    new IllegalStateException(
                            "portfolio account "
                                    + p.id()
                                    + " could not be put back from the store after a failed"
                                    + " write ("
                                    + first
                                    + ")",
                            again);
            LOG.error(
                    "portfolio account {}: putting the book back after a failed write failed too;"
                            + " its sessions are quarantined. First error:",
                    p.id(),
                    first);
            List<LiveSession> members = new ArrayList<>();
            // Under the account's monitor (the order is session, then account): a member stepping
            // on another thread is refused at the book from now on, and the policy is closed
            // while no member uses it. Each member is quarantined at once and retired under its
            // own monitor (retire), so no plugin instance is closed while its session steps.
            synchronized (p) {
                p.quarantine(why.getMessage());
                portfolios.remove(p.id(), p);
                for (LiveSession s : List.copyOf(sessions.values())) {
                    if ((s.portfolio == p || s.account.id().equals(p.id()))
                            && sessions.remove(s.settings.symbol(), s)) {
                        members.add(s);
                        quarantineRow(s, first).ifPresent(row -> quarantine(row, why));
                    }
                }
                p.close();
            }
            members.forEach(this::retire);
        }
    }

    /**
     * The row to quarantine a session by: its stored open row, or, when the store cannot be read
     * (the read's failure attached to {@code first}), one made from the session in memory (its
     * opening time unknown: 0, which no answer shows). Empty, with the reason logged, when the
     * store has no open row for it (closed meanwhile).
     */
    private Optional<SessionRow> quarantineRow(LiveSession s, RuntimeException first) {
        String symbol = s.settings.symbol();
        try {
            Optional<SessionRow> row = store.session(symbol).filter(SessionRow::isOpen);
            if (row.isEmpty()) {
                LOG.error(
                        "session {} (account {}) has no open row to quarantine",
                        symbol,
                        s.account.id());
            }
            return row;
        } catch (RuntimeException e) {
            first.addSuppressed(e);
            return Optional.of(
                    new SessionRow(
                            symbol,
                            s.account.id(),
                            s.settings.toJson(),
                            0L,
                            java.util.OptionalLong.empty(),
                            s.generation));
        }
    }

    /**
     * Retires a session taken out of service: at once when this thread holds its monitor, else on a
     * thread of its own once the session's current step (if any) is over, so its plugin instances
     * are never closed under a running call. Not under another monitor: the thread waits for the
     * session's alone.
     */
    private void retire(LiveSession s) {
        Runnable work =
                () -> {
                    synchronized (s) {
                        s.retired = true;
                        try {
                            s.closeInstances();
                        } catch (RuntimeException e) {
                            LOG.error(
                                    "session {}: closing its plugin instances failed",
                                    s.settings.symbol(),
                                    e);
                        }
                    }
                };
        if (Thread.holdsLock(s)) {
            work.run();
        } else {
            Thread t = new Thread(work, "quiver-retire-" + s.settings.symbol());
            t.setDaemon(true);
            t.start();
        }
    }

    /**
     * Rebuilds the portfolio accounts of the open sessions after their replay ({@link #recover}).
     * An account that cannot be put back quarantines its member sessions.
     */
    private void recoverPortfolios() {
        Map<String, List<LiveSession>> byAccount = new LinkedHashMap<>();
        for (LiveSession s : sessions.values()) {
            if (s.settings.portfolio() != null) {
                byAccount.computeIfAbsent(s.account.id(), k -> new ArrayList<>()).add(s);
            }
        }
        for (Map.Entry<String, List<LiveSession>> e : byAccount.entrySet()) {
            LiveSession first = e.getValue().get(0);
            PortfolioSettings settings = first.settings.portfolio();
            try {
                // the rules in force are the ones stored with the book's state (a member's bundle
                // may have been swapped for one with other costs or breakers since)
                TradingRules rules =
                        store.lastEvent(e.getKey(), LivePortfolio.KIND, null)
                                .map(
                                        stored ->
                                                LivePortfolio.storedRules(
                                                        detail(stored), first.strategy.rules()))
                                .orElse(first.strategy.rules());
                if (!rules.equals(first.strategy.rules())) {
                    LOG.warn(
                            "portfolio account {} keeps the trading rules stored with its book"
                                    + " ({}); its member {} serves a strategy with {}",
                            e.getKey(),
                            rules,
                            first.settings.symbol(),
                            first.strategy.rules());
                }
                PortfolioSizingCapability policy =
                        ownPortfolioPolicy(settings.policy(), e.getKey());
                LivePortfolio p;
                try {
                    p = new LivePortfolio(first.account, settings, rules, policy);
                } catch (RuntimeException x) {
                    policy.close();
                    throw x;
                }
                try {
                    reload(p);
                } catch (RuntimeException x) {
                    p.close();
                    throw x;
                }
                portfolios.put(e.getKey(), p);
                LOG.info(
                        "portfolio account {} recovered: members {}, equity {}",
                        e.getKey(),
                        p.book.symbols(),
                        p.book.equity());
            } catch (RuntimeException x) {
                for (LiveSession s : e.getValue()) {
                    sessions.remove(s.settings.symbol(), s);
                    s.retired = true;
                    s.closeInstances();
                    store.session(s.settings.symbol()).ifPresent(row -> quarantine(row, x));
                }
            }
        }
    }

    private Map<String, Object> rearmPortfolio(
            LivePortfolio p, String breaker, String actor, String reason) {
        String where = "re-arm " + p.id();
        if (!"max_drawdown".equals(breaker)) {
            throw new QuiverInputException(
                    "BAD_REARM",
                    "breaker",
                    where,
                    breaker,
                    "a portfolio account's operator re-arm is for max_drawdown (daily_loss re-arms"
                            + " the next UTC day)");
        }
        if (Text.blank(reason)) {
            throw new QuiverInputException("BAD_REARM", "reason", where, reason, "is required");
        }
        if (Text.blank(actor)) {
            throw new QuiverInputException("BAD_REARM", "actor", where, actor, "is required");
        }
        synchronized (p) {
            long now = clock.millis();
            boolean tripped = p.book.rearmDrawdown(now, reason);
            if (tripped) {
                try {
                    store.appendEvent(p.event(null, now, actor, reason, null));
                } catch (RuntimeException e) {
                    reloadAfter(p, e);
                    throw e;
                }
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("rearmed", tripped);
            m.put("account", p.figures());
            return m;
        }
    }

    // ---- replay --------------------------------------------------------------------------------

    static void swap(LiveSession s, BundleLoader.Loaded next) {
        BundleLoader.Loaded old = s.strategy;
        s.engine().swapStrategy(next.strategy());
        next.applyExpiry(s.engine(), s.maxAge);
        s.strategy = next;
        old.close();
    }

    /**
     * Rebuilds a session from the store after {@code first} failed (the engine may be ahead of the
     * store). Never throws in place of {@code first}: what fails here is attached to it
     * (suppressed), logged with it, and a session that cannot be rebuilt is quarantined with a
     * reason naming {@code first} too.
     */
    private void rebuild(String symbol, RuntimeException first) {
        LOG.warn("session {}: rebuilding from the store after a failure", symbol, first);
        LiveSession old = sessions.remove(symbol);
        if (old != null) {
            old.retired = true;
            old.closeInstances();
        }
        if (old == null && failed.containsKey(symbol)) {
            // quarantined meanwhile (its portfolio account could not be put back): not replayed
            return;
        }
        try {
            Optional<SessionRow> row = store.session(symbol).filter(r -> r.closedMs().isEmpty());
            if (row.isPresent()) {
                try {
                    sessions.put(symbol, replay(row.get()));
                } catch (RuntimeException e) {
                    first.addSuppressed(e);
                    quarantine(
                            row.get(),
                            new IllegalStateException(
                                    "rebuilt from the store after a failure (" + first + ")", e));
                }
            }
        } catch (RuntimeException e) {
            first.addSuppressed(e);
            if (old != null) {
                // the store cannot be read: quarantined from memory, so it shows with its reason
                quarantineRow(old, first)
                        .ifPresent(
                                r ->
                                        quarantine(
                                                r,
                                                new IllegalStateException(
                                                        "the store could not be read to rebuild"
                                                                + " it after a failure ("
                                                                + first
                                                                + ")",
                                                        e)));
            } else {
                LOG.error(
                        "session {}: the store could not be read to rebuild it after a failure;"
                                + " it is not served until a restart. First error:",
                        symbol,
                        first);
            }
        }
        if (old != null && old.portfolio != null) {
            // the account's book may be ahead of the store too: its last stored state
            reloadAfter(old.portfolio, first);
        }
    }

    private LiveSession replay(SessionRow row) {
        return replays.replay(row);
    }

    LiveSession build(SessionSettings settings, AccountRow account, BundleLoader.Loaded loaded) {
        try {
            List<String> names = loaded.strategy().policyNames();
            int acting = names.indexOf(settings.policy());
            if (acting < 0) {
                throw new IllegalStateException(
                        "session "
                                + settings.symbol()
                                + ": policy "
                                + settings.policy()
                                + " is not in the served strategy "
                                + names);
            }
            SymbolEngine engine =
                    new SymbolEngine(
                            settings.symbol(),
                            loaded.rules(),
                            loaded.strategy(),
                            account.startingEquity(),
                            null,
                            (kind, name, nanos) -> listener.called(kind, name, nanos));
            Optional<Duration> maxAge = strategyMaxAge;
            loaded.applyExpiry(engine, maxAge);
            if (account.mode() == AccountMode.EXTERNAL) {
                engine.paper(acting, false);
            }
            SymbolSession session =
                    new SymbolSession(
                            new SymbolSession.Settings(
                                    settings.symbol(), settings.interval(), settings.maxGapBars()),
                            engine);
            LiveSession live = new LiveSession(settings, account, loaded, session, acting);
            live.maxAge = maxAge;
            return live;
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private void validate(LiveSession s, FillRequest f) {
        if (Text.blank(f.clientFillId())) {
            throw badFill(f, "client_fill_id", f.clientFillId(), "is missing or blank");
        }
        if (!s.settings.symbol().equals(f.symbol())) {
            throw badFill(
                    f,
                    "symbol",
                    f.symbol(),
                    "is not the account's session symbol " + s.settings.symbol());
        }
        if (!(f.quantity() > 0) || Double.isInfinite(f.quantity())) {
            throw badFill(f, "quantity", f.quantity(), "must be a finite number > 0");
        }
        if (!(f.price() > 0) || Double.isInfinite(f.price())) {
            throw badFill(f, "price", f.price(), "must be a finite number > 0");
        }
        if (!(f.fee() >= 0) || Double.isInfinite(f.fee())) {
            throw badFill(f, "fee", f.fee(), "must be a finite number >= 0");
        }
        if (f.time().isAfter(clock.instant().plusSeconds(60))) {
            throw badFill(f, "time", f.time(), "is in the future (now " + clock.instant() + ")");
        }
    }

    /** The checks against the session as it is now (a new fill, not a retry). */
    private static void validateNow(LiveSession s, FillRequest f, double signed) {
        Bar last = s.session.lastBar();
        if (last != null && f.time().isBefore(last.start())) {
            throw badFill(f, "time", f.time(), "is before the session's last bar " + last.start());
        }
        Account book = s.engine().account(s.acting);
        if (signed < 0 && -signed > book.units() * (1 + 1e-12)) {
            throw badFill(
                    f,
                    "quantity",
                    f.quantity(),
                    "sells more than the position holds (" + book.units() + " units; long only)");
        }
    }

    private static QuiverInputException badFill(
            FillRequest f, String field, Object value, String problem) {
        return new QuiverInputException(
                "BAD_FILL", field, "fill " + f.clientFillId(), value, problem);
    }

    private static long lastBarMillis(LiveSession s) {
        Bar last = s.session.lastBar();
        return last == null ? Long.MIN_VALUE : last.start().toEpochMilli();
    }

    private EventRow breakerEvent(LiveSession s, BreakerEvent e) {
        ObjectNode d = JSON.createObjectNode();
        d.put("breaker", e.breaker().label());
        d.put("value", e.value());
        return new EventRow(
                s.account.id(),
                Optional.of(s.settings.symbol()),
                e.event() == BreakerEvent.Kind.ARMED ? ARMED : REARMED,
                Optional.of(e.policy()),
                d.toString(),
                e.time().toEpochMilli(),
                "engine",
                Optional.ofNullable(e.reason()));
    }

    private EventRow command(
            LiveSession s, String kind, Map<String, Object> detail, String actor, String reason) {
        return new EventRow(
                s.account.id(),
                Optional.of(s.settings.symbol()),
                kind,
                Optional.of(s.settings.policy()),
                JSON.valueToTree(detail).toString(),
                clock.millis(),
                actor,
                Optional.ofNullable(reason));
    }

    static com.fasterxml.jackson.databind.JsonNode detail(StoredEvent e) {
        try {
            return JSON.readTree(e.event().detailJson());
        } catch (com.fasterxml.jackson.core.JsonProcessingException x) {
            throw new IllegalStateException("stored event " + e.seq() + " detail is not JSON", x);
        }
    }

    private LiveSession session(String symbol) {
        LiveSession s = sessions.get(symbol);
        if (s == null) {
            FailedSession f = failed.get(symbol);
            if (f != null) {
                throw f.refusal("symbol", symbol);
            }
            Optional<SessionRow> closed = store.session(symbol).filter(r -> !r.isOpen());
            if (closed.isPresent()) {
                SessionRow r = closed.get();
                throw new QuiverInputException(
                        "SESSION_CLOSED",
                        "symbol",
                        "session " + symbol,
                        symbol,
                        "was closed at "
                                + Instant.ofEpochMilli(r.closedMs().getAsLong())
                                + " (generation "
                                + r.generation()
                                + "); it takes no bars, fills or commands. PUT /v1/sessions/"
                                + symbol
                                + " opens generation "
                                + (r.generation() + 1));
            }
            throw new QuiverInputException(
                    "UNKNOWN_SESSION",
                    "symbol",
                    "sessions",
                    symbol,
                    "has no open session (PUT /v1/sessions/" + symbol + " opens one)");
        }
        return s;
    }

    private LiveSession sessionOfAccount(String id) {
        for (LiveSession s : sessions.values()) {
            if (s.account.id().equals(id)) {
                return s;
            }
        }
        for (FailedSession f : failed.values()) {
            if (f.row().accountId().equals(id)) {
                throw f.refusal("account", id);
            }
        }
        if (store.account(id).isPresent()) {
            throw new QuiverInputException(
                    "SESSION_CLOSED",
                    "account",
                    "accounts",
                    id,
                    "is the account of a closed session; it takes no fills or commands (its"
                            + " history stays stored)");
        }
        throw new QuiverInputException(
                "UNKNOWN_ACCOUNT",
                "account",
                "accounts",
                id,
                "is not the account of an open session");
    }

    /**
     * Runs {@code work} under the session's monitor. A session replaced ({@link #rebuild}) or
     * closed while this thread waited for its monitor is looked up again (then it is the rebuilt
     * one, or unknown).
     */
    private static <T> T locked(
            Supplier<LiveSession> find, java.util.function.Function<LiveSession, T> work) {
        while (true) {
            LiveSession s = find.get();
            synchronized (s) {
                if (!s.retired) {
                    return work.apply(s);
                }
            }
        }
    }

    static BarRow row(Bar b) {
        return new BarRow(
                b.start().toEpochMilli(), b.open(), b.high(), b.low(), b.close(), b.volume());
    }

    /** The price a posted fill values the book at: the last close, warm-up included, else NaN. */
    static double markPrice(LiveSession s) {
        Bar last = s.session.lastBar();
        return last == null ? Double.NaN : last.close();
    }

    static Bar bar(BarRow r) {
        return new Bar(
                Instant.ofEpochMilli(r.startMs()),
                r.open(),
                r.high(),
                r.low(),
                r.close(),
                r.volume());
    }
}
