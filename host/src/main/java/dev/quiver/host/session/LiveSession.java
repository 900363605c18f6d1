package dev.quiver.host.session;

import dev.quiver.api.market.Bar;
import dev.quiver.engine.Step;
import dev.quiver.engine.SymbolEngine;
import dev.quiver.engine.session.SymbolSession;
import dev.quiver.host.store.AccountRow;
import dev.quiver.host.strategy.BundleLoader;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;

/**
 * One open session in the service: its settings, the bundle instances it decides with, the engine
 * session its bars step, and the index of the acting policy (the one whose book is the account).
 * Guarded by its own monitor: one writer per session, sessions independent of each other.
 */
final class LiveSession {

    final SessionSettings settings;
    final AccountRow account;
    BundleLoader.Loaded strategy;
    final SymbolSession session;
    final int acting;
    int breakerEventsSeen;

    /**
     * The portfolio account this session is a member of (its bars re-size every member), or null
     * for a single-symbol account.
     */
    LivePortfolio portfolio;

    /** Which opening of the symbol this is, from 1 (set once stored or replayed). */
    long generation = 1;

    /** The client ids of the account's recorded fills (a retry is told apart before any check). */
    final Set<String> fillIds = new HashSet<>();

    /**
     * Set when closed or replaced by a rebuild: a thread that waited for the monitor looks again.
     */
    boolean retired;

    /**
     * The maximum age that replaces the bundle's ({@code serve --strategy-max-age}), applied to
     * every bundle this session decides with; empty: the manifest's.
     */
    java.util.Optional<java.time.Duration> maxAge = java.util.Optional.empty();

    LiveSession(
            SessionSettings settings,
            AccountRow account,
            BundleLoader.Loaded strategy,
            SymbolSession session,
            int acting) {
        this.settings = settings;
        this.account = account;
        this.strategy = strategy;
        this.session = session;
        this.acting = acting;
    }

    /**
     * The bundle that does not act while a strategy rollout runs ({@link StrategyRollouts}), or
     * null.
     */
    StrategyRollouts.Shadow shadow;

    /** Stepped bars the journal keeps per session (the dashboard's history). */
    static final int JOURNAL_BARS = 10_000;

    /** A stepped bar and what the engine did with it. */
    record Stepped(Bar bar, Step step) {}

    /**
     * The last {@link #JOURNAL_BARS} stepped bars, oldest first: filled live and by the replay, so
     * a restarted service shows the same history.
     */
    final ArrayDeque<Stepped> journal = new ArrayDeque<>();

    /** Keeps a stepped bar in the journal (dropping the oldest beyond {@link #JOURNAL_BARS}). */
    Step record(Bar bar, Step step) {
        if (journal.size() == JOURNAL_BARS) {
            journal.removeFirst();
        }
        journal.addLast(new Stepped(bar, step));
        return step;
    }

    SymbolEngine engine() {
        return session.engine();
    }

    /** Closes the shadow's instances, if any. */
    void closeShadow() {
        StrategyRollouts.Shadow s = shadow;
        shadow = null;
        if (s != null) {
            s.close();
        }
    }

    /** Closes every instance this session holds (its bundle's and its shadow's). */
    void closeInstances() {
        try {
            closeShadow();
        } finally {
            strategy.close();
        }
    }
}
