-- Schema 5: the operator's kill switch (RELIABILITY.md P12). One row per halt or resume command,
-- in append order: the last row says whether the service is halted, and the rows are the audit
-- (who, why, when). Each open session also gets a halt_command / resume_command event (table
-- events, schema 1) naming the bar it followed, so a replay halts it at the same place.
-- Independent of schema 3 (another change) and of schema 4: it only adds a table.

CREATE TABLE halts (
    seq     ${seq_pk},
    kind    TEXT   NOT NULL CHECK (kind IN ('halt', 'resume')),
    actor   TEXT   NOT NULL,
    reason  TEXT   NOT NULL,
    time_ms BIGINT NOT NULL
);
