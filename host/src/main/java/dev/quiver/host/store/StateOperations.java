package dev.quiver.host.store;

import java.util.List;
import java.util.Optional;

/**
 * What can be read and written in the state store. On a {@link StateStore} each call is its own
 * transaction, committed before it returns; inside {@link StateStore#inTransaction} the calls share
 * one transaction, committed when the function returns (and rolled back, all of them, when it
 * throws).
 *
 * <p>Every method throws {@link StoreException} when the database fails (naming the operation, with
 * the driver's exception as the cause), {@link StoreConflictException} (a {@code StoreException})
 * when a write contradicts what is stored, and {@link NullPointerException} for null arguments.
 */
public interface StateOperations {

    /**
     * Creates an account, or confirms it: when an account with this id exists with the same
     * currency, starting equity (bit for bit) and mode, nothing changes and the stored row (with
     * its own {@code createdMs}) is returned.
     *
     * @param account the account
     * @return the stored account
     * @throws StoreConflictException if the id exists with another currency, starting equity or
     *     mode ({@link StoreConflictException#field()}: {@code currency}, {@code starting_equity}
     *     or {@code mode})
     */
    AccountRow createAccount(AccountRow account);

    /**
     * One account.
     *
     * @param id the account id
     * @return the account, or empty when there is none with that id
     */
    Optional<AccountRow> account(String id);

    /**
     * All accounts.
     *
     * @return every account, ordered by id
     */
    List<AccountRow> accounts();

    /**
     * Opens the session of a symbol, or confirms it: when the symbol's session is open with the
     * same account and the same settings (compared as JSON), nothing changes and the stored row
     * (with its own {@code openedMs} and settings text) is returned.
     *
     * @param session the session; must not be closed
     * @return the stored session
     * @throws IllegalArgumentException if {@code session} is closed
     * @throws StoreException if its account does not exist
     * @throws StoreConflictException if the symbol's session is open with another account ({@code
     *     account_id}) or other settings ({@code settings_json}), or was closed ({@code closed_ms}:
     *     a closed session is not reopened)
     */
    SessionRow openSession(SessionRow session);

    /**
     * Closes the session of a symbol. Closing a closed session again at the same time changes
     * nothing.
     *
     * @param symbol the symbol
     * @param closedMs when, epoch milliseconds UTC; not before the session's {@code openedMs}
     * @return the stored, closed session
     * @throws StoreException if the symbol has no session
     * @throws IllegalArgumentException if {@code closedMs} is before the session was opened
     * @throws StoreConflictException if it was closed at another time ({@code closed_ms})
     */
    SessionRow closeSession(String symbol, long closedMs);

    /**
     * The session of a symbol, open or closed.
     *
     * @param symbol the symbol
     * @return the session, or empty when the symbol has none
     */
    Optional<SessionRow> session(String symbol);

    /**
     * The sessions that are open.
     *
     * @return open sessions, ordered by symbol
     */
    List<SessionRow> openSessions();

    /**
     * Opens the next generation of a symbol's session (schema 3): when the symbol's session is
     * closed, that generation and its bars move to the history ({@link #sessionHistory}, {@link
     * #generationBars}) and {@code session} is opened as the next generation, with no bars, all in
     * this transaction. A symbol without a session gets generation 1; one whose session is open
     * answers as {@link #openSession} (the same account and settings again: the stored row).
     *
     * @param session the new session; must not be closed (its {@code generation} is ignored)
     * @return the stored session, with its generation
     * @throws IllegalArgumentException if {@code session} is closed
     * @throws StoreException if its account does not exist
     * @throws StoreConflictException if the symbol's session is open with another account or other
     *     settings
     */
    SessionRow openNextGeneration(SessionRow session);

    /**
     * Every generation of a symbol's session.
     *
     * @param symbol the symbol
     * @return its generations, oldest first (the last one is {@link #session}); empty when none
     */
    List<SessionRow> sessionHistory(String symbol);

    /**
     * The bars of one generation of a symbol's session.
     *
     * @param symbol the symbol
     * @param generation the generation, from 1
     * @return its bars by start time; empty when it has none or does not exist
     */
    List<BarRow> generationBars(String symbol, long generation);

    /**
     * Appends bars to the open session of a symbol, all or none (in one transaction). The bars are
     * stored as given; their order and gaps are the engine's business, but a bar whose start time
     * is already stored for the symbol (or repeated in the list) is refused.
     *
     * @param symbol the symbol, whose session must be open
     * @param bars the bars, possibly empty
     * @throws StoreException if the symbol has no open session
     * @throws StoreConflictException if a bar's start time is already stored ({@code start_ms});
     *     then none of {@code bars} is stored
     */
    void appendBars(String symbol, List<BarRow> bars);

    /**
     * The bars of a symbol.
     *
     * @param symbol the symbol
     * @return its bars, ordered by start time; empty when it has none
     */
    List<BarRow> bars(String symbol);

    /**
     * The latest bar of a symbol.
     *
     * @param symbol the symbol
     * @return the bar with the greatest start time, or empty when it has none
     */
    Optional<BarRow> lastBar(String symbol);

    /**
     * Records a fill, once: the same fill offered again (same account and client id, identical
     * content, doubles bit for bit) is a {@link FillOutcome#DUPLICATE} and changes nothing.
     *
     * @param fill the fill; its account must exist
     * @return {@link FillOutcome#INSERTED} or {@link FillOutcome#DUPLICATE}
     * @throws StoreException if the account does not exist
     * @throws StoreConflictException if the account has a fill with this client id and other
     *     content (the field: {@code symbol}, {@code side}, {@code quantity}, {@code price}, {@code
     *     fee} or {@code time_ms})
     */
    FillOutcome recordFill(FillRow fill);

    /**
     * The fills of an account.
     *
     * @param accountId the account
     * @return its fills in the order they were recorded; empty when none (or no such account)
     */
    List<FillRow> fills(String accountId);

    /**
     * Appends an event.
     *
     * @param event the event; its account must exist
     * @return its sequence number, greater than every sequence number stored before this call
     * @throws StoreException if the account does not exist
     */
    long appendEvent(EventRow event);

    /**
     * The events of an account.
     *
     * @param accountId the account
     * @return its events in append order (by sequence number); empty when none
     */
    List<StoredEvent> events(String accountId);

    /**
     * The events of an account but those of one kind, filtered by the database (e.g. a session's
     * replay, which needs none of a portfolio account's {@code portfolio_decision} states).
     *
     * @param accountId the account
     * @param kind the kind left out
     * @return its other events in append order (by sequence number); empty when none
     */
    List<StoredEvent> eventsExcept(String accountId, String kind);

    /**
     * The last event of one kind of an account, optionally of one symbol (e.g. a portfolio
     * account's last state, {@code portfolio_decision}).
     *
     * @param accountId the account
     * @param kind the event kind
     * @param symbol the symbol, or {@code null} for any
     * @return the event with the highest sequence number, or empty when there is none
     */
    Optional<StoredEvent> lastEvent(String accountId, String kind, String symbol);

    // ---- kill switch (schema 5)

    /**
     * Appends an operator's halt or resume command.
     *
     * @param halt the command ({@link HaltRow#seq()} ignored)
     * @return its sequence number, greater than every one stored before this call
     */
    long appendHalt(HaltRow halt);

    /**
     * Every halt and resume command, the audit of the kill switch.
     *
     * @return in append order (by sequence number); empty when none
     */
    List<HaltRow> halts();

    // ---- rollouts (schema 2)

    /**
     * Saves a rollout's state: inserts it, or replaces the stored state of the same id (stage,
     * figures, pending forecasts, positions) and appends the transitions not stored yet, all in one
     * transaction.
     *
     * @param rollout the state
     * @throws StoreConflictException if the id is stored with another kind, capability, spec
     *     (compared as JSON) or start time ({@code kind}, {@code capability}, {@code spec_json},
     *     {@code created_ms}), or if the stored transitions are not the first ones of {@code
     *     rollout.transitions()} ({@code transitions}: fewer given than stored, or one that differs
     *     in time, stages or actor): a save never rewrites a rollout's history
     */
    void saveRollout(RolloutRow rollout);

    /**
     * One rollout.
     *
     * @param id the rollout id
     * @return its state, or empty when none has this id
     */
    Optional<RolloutRow> rollout(String id);

    /**
     * All rollouts.
     *
     * @return every rollout, ordered by start time, then id
     */
    List<RolloutRow> rollouts();

    /**
     * Appends an event to the rollouts' audit log.
     *
     * @param event the event; its rollout must be stored
     * @return its sequence number, greater than every one stored before this call
     * @throws StoreException if the rollout is not stored
     */
    long appendRolloutEvent(RolloutEventRow event);

    /**
     * The rollouts' audit log.
     *
     * @return every event in append order; empty when none
     */
    List<StoredRolloutEvent> rolloutEvents();

    // ---- rollout series (schema 7)

    /**
     * Records points of a rollout's figures over time (table {@code rollout_series}): each point
     * replaces a stored one of the same rollout, bar and role. Points are kept monotone in bar
     * time: a point before the rollout's last stored bar is stored at that bar (a late outcome
     * folds into the last point).
     *
     * @param rolloutId the rollout, which must be stored
     * @param points in the order they were scored
     * @throws StoreException if the rollout is not stored
     */
    void recordRolloutPoints(String rolloutId, List<RolloutPointRow> points);

    /**
     * A rollout's figures over time: the points of its last {@code bars} outcome bars.
     *
     * @param rolloutId the rollout
     * @param bars the most outcome bars wanted, {@code >= 1}
     * @return by bar, then role; empty when none (or no such rollout)
     * @throws IllegalArgumentException if {@code bars < 1}
     */
    List<RolloutPointRow> rolloutSeries(String rolloutId, int bars);

    // ---- alias history (schema 2)

    /**
     * Records that an alias was observed pointing at a version, if that differs from its last
     * recorded move: the new move gets the next ordinal and, as {@code fromVersion}, the version of
     * the move before. Two observers recording the same alias at once take turns; the second
     * compares with what the first recorded.
     *
     * @param model registered model name, not blank
     * @param alias the alias, not blank
     * @param version the version seen, not blank
     * @param observedMs when, epoch milliseconds UTC
     * @return the move recorded, or empty when the alias was already recorded at {@code version}
     */
    Optional<AliasMoveRow> observeAlias(
            String model, String alias, String version, long observedMs);

    /**
     * Every alias move recorded.
     *
     * @return the moves in the order they were recorded; empty when none
     */
    List<AliasMoveRow> aliasMoves();

    /**
     * The moves of one alias.
     *
     * @param model registered model name
     * @param alias the alias
     * @return its moves by ordinal, oldest first; empty when it was never observed
     */
    List<AliasMoveRow> aliasMoves(String model, String alias);

    /**
     * Where an alias pointed at a time, as observed: the last move (by ordinal) observed at or
     * before {@code atMs}.
     *
     * @param model registered model name
     * @param alias the alias
     * @param atMs the time asked about, epoch milliseconds UTC
     * @return the move in force then, or empty when the alias had not been observed by then
     */
    Optional<AliasMoveRow> aliasAsOf(String model, String alias, long atMs);
}
