-- Schema 6: continuous training (issue 12). Two tables:
--
-- scheduled_tasks is db-scheduler's own table (com.github.kagkarlsson:db-scheduler, its
-- documented PostgreSQL schema; on SQLite the same columns with BLOB and TIMESTAMP, which SQLite
-- stores as the UTC instants db-scheduler writes with alwaysPersistTimestampInUTC). Quiver never
-- writes it: db-scheduler does, cluster-safe (a row is picked by one scheduler at a time).
--
-- training_jobs is Quiver's record of each job: what was asked, by whom and why, how far it got,
-- and its result or error. A job's row outlives its scheduler execution, so a restart finds the
-- job's state, and a job interrupted by a crash is marked failed, never lost.

CREATE TABLE scheduled_tasks (
    task_name            TEXT         NOT NULL,
    task_instance        TEXT         NOT NULL,
    task_data            ${blob},
    execution_time       ${timestamp} NOT NULL,
    picked               BOOLEAN      NOT NULL,
    picked_by            TEXT,
    last_success         ${timestamp},
    last_failure         ${timestamp},
    consecutive_failures INT,
    last_heartbeat       ${timestamp},
    version              BIGINT       NOT NULL,
    priority             SMALLINT,
    PRIMARY KEY (task_name, task_instance)
);
CREATE INDEX execution_time_idx ON scheduled_tasks (execution_time);
CREATE INDEX last_heartbeat_idx ON scheduled_tasks (last_heartbeat);
CREATE INDEX priority_execution_time_idx ON scheduled_tasks (priority DESC, execution_time ASC);

CREATE TABLE training_jobs (
    id            TEXT             NOT NULL PRIMARY KEY,
    kind          TEXT             NOT NULL,
    params_json   TEXT             NOT NULL,
    trigger_kind  TEXT             NOT NULL,
    actor         TEXT             NOT NULL,
    reason        TEXT             NOT NULL,
    state         TEXT             NOT NULL
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    progress      DOUBLE PRECISION NOT NULL,
    progress_note TEXT             NOT NULL,
    result_json   TEXT,
    error         TEXT,
    cancel_asked  SMALLINT         NOT NULL CHECK (cancel_asked IN (0, 1)),
    attempts      INT              NOT NULL,
    created_ms    BIGINT           NOT NULL,
    started_ms    BIGINT,
    finished_ms   BIGINT
);
CREATE INDEX training_jobs_created ON training_jobs (created_ms);
