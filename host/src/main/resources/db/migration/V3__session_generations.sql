-- The Quiver state store, schema 3: session generations (docs/state-store.md).
--
-- A symbol's session can be closed and opened again. Each opening is a generation, numbered from
-- 1. The tables of schema 1 keep the symbol's CURRENT generation (open, or the last one closed):
-- `sessions` gets its number, `bars` holds its bars. Opening a symbol whose session is closed
-- moves that generation, in the same transaction, into `session_generations` and its bars into
-- `generation_bars`, then opens the next one with no bars: the earlier generations stay stored and
-- queryable, and no query of schema 1 changes. Accounts, fills and events are per account, and an
-- account belongs to one generation only, so they need no generation column.

ALTER TABLE sessions ADD COLUMN generation BIGINT NOT NULL DEFAULT 1;

-- The closed generations moved out of `sessions`, one row each.
CREATE TABLE session_generations (
    symbol        TEXT   NOT NULL,
    generation    BIGINT NOT NULL,
    account_id    TEXT   NOT NULL REFERENCES accounts (id),
    settings_json TEXT   NOT NULL,
    opened_ms     BIGINT NOT NULL,
    closed_ms     BIGINT NOT NULL,
    PRIMARY KEY (symbol, generation)
);

-- The bars of those generations, as `bars` held them.
CREATE TABLE generation_bars (
    symbol     TEXT             NOT NULL,
    generation BIGINT           NOT NULL,
    start_ms   BIGINT           NOT NULL,
    open       DOUBLE PRECISION NOT NULL,
    high       DOUBLE PRECISION NOT NULL,
    low        DOUBLE PRECISION NOT NULL,
    close      DOUBLE PRECISION NOT NULL,
    volume     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (symbol, generation, start_ms),
    FOREIGN KEY (symbol, generation) REFERENCES session_generations (symbol, generation)
);
