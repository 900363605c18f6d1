-- The Quiver state store, schema 1 (dev.quiver.host.store.StateStore; docs/state-store.md).
--
-- One file for SQLite and PostgreSQL. The one type that differs between them is the
-- auto-increment key, a Flyway placeholder that StateStore sets per database:
--   ${seq_pk}  SQLite:     INTEGER PRIMARY KEY AUTOINCREMENT (only such a column auto-increments)
--              PostgreSQL: BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY
-- DOUBLE PRECISION is an 8-byte IEEE 754 double in both (REAL affinity in SQLite): values round
-- trip exactly. Times are epoch milliseconds UTC (BIGINT). Text is TEXT.
--
-- The store keeps the INPUTS of the live engine (accounts, session settings, bars, fills,
-- operator commands) and an audit of what the engine derived from them (events); the engine's
-- in-memory state is rebuilt on restart by replaying the inputs.

CREATE TABLE accounts (
    id              TEXT             NOT NULL PRIMARY KEY,
    currency        TEXT             NOT NULL,
    starting_equity DOUBLE PRECISION NOT NULL,
    mode            TEXT             NOT NULL CHECK (mode IN ('paper', 'external')),
    created_ms      BIGINT           NOT NULL
);

-- One session per symbol; closed_ms is NULL while it is open.
CREATE TABLE sessions (
    symbol        TEXT   NOT NULL PRIMARY KEY,
    account_id    TEXT   NOT NULL REFERENCES accounts (id),
    settings_json TEXT   NOT NULL,
    opened_ms     BIGINT NOT NULL,
    closed_ms     BIGINT
);
CREATE INDEX sessions_by_account ON sessions (account_id);

-- The bars a session received, one row per bar; the key refuses a second bar at the same start.
CREATE TABLE bars (
    symbol   TEXT             NOT NULL REFERENCES sessions (symbol),
    start_ms BIGINT           NOT NULL,
    open     DOUBLE PRECISION NOT NULL,
    high     DOUBLE PRECISION NOT NULL,
    low      DOUBLE PRECISION NOT NULL,
    close    DOUBLE PRECISION NOT NULL,
    volume   DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (symbol, start_ms)
);

-- Fills, identified by the client's id within an account; seq is the insertion order.
CREATE TABLE fills (
    seq            ${seq_pk},
    account_id     TEXT             NOT NULL REFERENCES accounts (id),
    client_fill_id TEXT             NOT NULL,
    symbol         TEXT             NOT NULL,
    side           TEXT             NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity       DOUBLE PRECISION NOT NULL,
    price          DOUBLE PRECISION NOT NULL,
    fee            DOUBLE PRECISION NOT NULL,
    time_ms        BIGINT           NOT NULL,
    CONSTRAINT fills_client_fill_id UNIQUE (account_id, client_fill_id)
);
CREATE INDEX fills_by_account ON fills (account_id, seq);

-- Operator commands (e.g. rearm_command) and the audit of derived transitions (breaker_tripped,
-- breaker_rearmed, ...), in append order.
CREATE TABLE events (
    seq         ${seq_pk},
    account_id  TEXT   NOT NULL REFERENCES accounts (id),
    symbol      TEXT,
    kind        TEXT   NOT NULL,
    policy      TEXT,
    detail_json TEXT   NOT NULL,
    time_ms     BIGINT NOT NULL,
    actor       TEXT   NOT NULL,
    reason      TEXT
);
CREATE INDEX events_by_account ON events (account_id, seq);
