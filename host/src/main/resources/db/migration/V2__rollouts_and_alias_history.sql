-- The Quiver state store, schema 2: rollouts and alias history (docs/state-store.md).
--
-- Before schema 2 these lived in files: QUIVER_HOME/rollouts/state/<id>.json and
-- QUIVER_HOME/rollouts/audit.jsonl (dev.quiver.host.rollout.RolloutStore), and
-- alias-history.jsonl in the model cache (dev.quiver.host.registry.AliasHistory). Those files are
-- imported once, by the commands that used them, into a store that has no rollouts (no alias
-- moves) yet.
--
-- Same conventions as schema 1: one file for SQLite and PostgreSQL, ${seq_pk} the auto-increment
-- key, DOUBLE PRECISION exact, times epoch milliseconds UTC, JSON as TEXT.

-- A rollout's state: what RolloutController.snapshot() holds, written whole on every save.
-- stage_index counts the transitions so far; looks are the tests taken in the current stage;
-- paired_* are the Welford moments (count, mean, sum of squared deviations) of the per-bar loss
-- differences challenger minus champion in the current stage. pending_json holds the forecasts
-- awaiting their outcome and positions_json each routing key's last scored positions (internal
-- to the controller, JSON as the old state files had them).
CREATE TABLE rollouts (
    id              TEXT             NOT NULL PRIMARY KEY,
    kind            TEXT             NOT NULL CHECK (kind IN ('prediction', 'sizing')),
    capability      TEXT             NOT NULL,
    spec_json       TEXT             NOT NULL,
    stage           TEXT             NOT NULL,
    stage_index     INTEGER          NOT NULL CHECK (stage_index >= 0),
    created_ms      BIGINT           NOT NULL,
    stage_since_ms  BIGINT           NOT NULL,
    looks           INTEGER          NOT NULL CHECK (looks >= 0),
    paired_n        BIGINT           NOT NULL CHECK (paired_n >= 0),
    paired_mean     DOUBLE PRECISION NOT NULL,
    paired_m2       DOUBLE PRECISION NOT NULL,
    pending_json    TEXT             NOT NULL,
    pending_dropped BIGINT           NOT NULL CHECK (pending_dropped >= 0),
    positions_json  TEXT             NOT NULL,
    updated_ms      BIGINT           NOT NULL
);
CREATE INDEX rollouts_by_capability ON rollouts (kind, capability);

-- Per rollout and role, the all-time running sums behind the figures (log-loss, Brier, hit rate,
-- P&L). role 'served' is the variant that acted on each scored bar (what the rollout delivered);
-- it has no acted count and no stage moments. stage_* are the Welford moments of the role's
-- losses (the rules' metric) in the current stage.
CREATE TABLE rollout_figures (
    rollout_id    TEXT             NOT NULL REFERENCES rollouts (id),
    role          TEXT             NOT NULL CHECK (role IN ('champion', 'challenger', 'served')),
    n             BIGINT           NOT NULL CHECK (n >= 0),
    n_probability BIGINT           NOT NULL CHECK (n_probability >= 0),
    log_loss_sum  DOUBLE PRECISION NOT NULL,
    brier_sum     DOUBLE PRECISION NOT NULL,
    hits          BIGINT           NOT NULL CHECK (hits >= 0),
    pnl_sum       DOUBLE PRECISION NOT NULL,
    acted         BIGINT,
    stage_n       BIGINT,
    stage_mean    DOUBLE PRECISION,
    stage_m2      DOUBLE PRECISION,
    PRIMARY KEY (rollout_id, role),
    CHECK ((role = 'served') = (acted IS NULL)),
    CHECK ((role = 'served') = (stage_n IS NULL)),
    CHECK ((stage_n IS NULL) = (stage_mean IS NULL) AND (stage_n IS NULL) = (stage_m2 IS NULL))
);

-- Every stage change of a rollout, in order (idx 0 is the first), never rewritten: the rollout's
-- history as its state holds it. figures_json: per role the figures of the stage that ended;
-- test_json: the test that decided, NULL when there was none.
CREATE TABLE rollout_transitions (
    rollout_id    TEXT   NOT NULL REFERENCES rollouts (id),
    idx           INTEGER NOT NULL CHECK (idx >= 0),
    time_ms       BIGINT NOT NULL,
    from_stage    TEXT   NOT NULL,
    to_stage      TEXT   NOT NULL,
    actor         TEXT   NOT NULL,
    reason        TEXT   NOT NULL,
    metric        TEXT   NOT NULL,
    figures_json  TEXT   NOT NULL,
    test_json     TEXT,
    stage_samples BIGINT NOT NULL,
    PRIMARY KEY (rollout_id, idx)
);

-- The rollouts' audit log, append-only, in append order (seq): one row per event, kind 'start',
-- 'transition', 'registry' (an MLflow alias move and its result) or 'install' (a completed
-- plugin rollout's zip installed); detail_json is the whole event as the audit line had it.
CREATE TABLE rollout_events (
    seq         ${seq_pk},
    rollout_id  TEXT   NOT NULL REFERENCES rollouts (id),
    kind        TEXT   NOT NULL,
    time_ms     BIGINT NOT NULL,
    detail_json TEXT   NOT NULL
);
CREATE INDEX rollout_events_by_rollout ON rollout_events (rollout_id, seq);

-- Every alias move a service observed, append-only. ordinal numbers the moves of one alias from 1
-- (the first observation); from_version is the version of the move before (NULL on the first).
-- The unique key makes two observers of one alias take turns: the second to record the same
-- ordinal is refused and reads again.
CREATE TABLE alias_moves (
    seq          ${seq_pk},
    model        TEXT    NOT NULL,
    alias        TEXT    NOT NULL,
    ordinal      INTEGER NOT NULL CHECK (ordinal >= 1),
    observed_ms  BIGINT  NOT NULL,
    from_version TEXT,
    to_version   TEXT    NOT NULL,
    CONSTRAINT alias_moves_ordinal UNIQUE (model, alias, ordinal)
);
