/**
 * The durable state of live sessions, rollouts and the alias history: a {@link
 * dev.quiver.host.store.StateStore} on SQLite ({@code QUIVER_HOME/state.db}, the default) or
 * PostgreSQL, schema migrated with Flyway.
 *
 * <p>Crash-only, event-sourced: the store keeps the engine's inputs (accounts, session settings,
 * bars, fills, operator commands) and an audit of the transitions the engine derived (events).
 * Every write method commits before it returns, so what a caller acknowledged survives a SIGKILL;
 * on restart the engine rebuilds its state by replaying the stored inputs. Rows are immutable
 * records; times are epoch milliseconds UTC; doubles round-trip exactly. Rollouts are kept as their
 * state (rows of {@code rollouts}, {@code rollout_figures}, {@code rollout_transitions}) with an
 * append-only audit log; alias moves append-only. See {@code docs/state-store.md}.
 *
 * <p>Status: experimental (0.x host); the schema is versioned by its migrations.
 */
package dev.quiver.host.store;
