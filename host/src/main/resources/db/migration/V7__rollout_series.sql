-- Schema 7: per-variant rollout figures over time (issue 13, the dashboard's Rollouts page).
--
-- One point per rollout, outcome bar and role: the role's all-time running sums (the columns of
-- rollout_figures) right after the outcomes of that bar were scored. bar_ms is the start of the
-- latest outcome bar scored (epoch milliseconds UTC), so the series is the same whether the bars
-- came live or in a batch; time_ms is when the point was committed (wall clock). Points are
-- monotone in bar_ms: an outcome of an earlier bar scored late (another routing key lagging)
-- folds into the rollout's last point. stage is the rollout's stage when the point was scored.
-- Written with the rollout's state (same transaction), so a point never runs ahead of the state.
-- Figures per point are means of the sums (log-loss = log_loss_sum / n_probability, ...); the
-- difference of two points gives a window's figures.

CREATE TABLE rollout_series (
    rollout_id    TEXT             NOT NULL REFERENCES rollouts (id),
    bar_ms        BIGINT           NOT NULL,
    role          TEXT             NOT NULL CHECK (role IN ('champion', 'challenger', 'served')),
    time_ms       BIGINT           NOT NULL,
    stage         TEXT             NOT NULL,
    n             BIGINT           NOT NULL CHECK (n >= 0),
    n_probability BIGINT           NOT NULL CHECK (n_probability >= 0),
    log_loss_sum  DOUBLE PRECISION NOT NULL,
    brier_sum     DOUBLE PRECISION NOT NULL,
    hits          BIGINT           NOT NULL CHECK (hits >= 0),
    pnl_sum       DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (rollout_id, bar_ms, role)
);
