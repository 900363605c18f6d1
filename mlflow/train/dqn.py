"""Trains the DQN sizing agent that plugins/sizing-dqn serves (flat / half / full), exports ONNX.

    mlflow/venv.sh && ./mvnw -B -q -o package -DskipTests && mlflow/.venv/bin/python mlflow/train/dqn.py

Run mlflow/train/lstm3.py first (or keep its committed model): the agent's signal is the three-class
LSTM's p_up, which is out-of-sample on the agent's training span.

State (what a sizing plugin is given, dev.quiver.api.sizing.SizingContext): [p_up, atr_pct_14,
drawdown, payoff_ratio], z-scored with declared statistics (p_up, atr_pct_14 and payoff_ratio:
their training-span mean and std; drawdown: mean 0, std 0.1), clipped to +-5, float32. Actions:
hold 0, 0.5 or 1.0 of equity. Environment, as the backtest trades: the decision at bar t's close
fills at bar t+1's open and earns open[t+2] / open[t+1] - 1; every change of position costs
(fee 10 + slippage 5 bps) * |change| of equity, the backtest's default costs; the drawdown is the
agent's own equity's. Not simulated: the backtest's ATR stops and circuit breakers. Reward:
100 * ln(1 + a * r - cost). The state has no current position (SizingContext carries none), so the
agent cannot see the cost of a change; it pays it. The sizing contract's no-edge rule is applied
before the network, in training as in serving: when the Kelly edge p_up * payoff_ratio - (1 - p_up)
is not positive the agent is flat, and only states with an edge choose by Q-value.

DQN (Mnih et al. 2015): Keras MLP 4 -> 32 -> 32 -> 3 Q-values, experience replay, a target network,
epsilon-greedy exploration, Huber loss; seed 42, single-threaded deterministic ops. Training span:
BTC-USD 4h 2019-01-01..2020-12-31 (after the LSTM's span, so its p_up is out-of-sample there);
evaluated here on 2021-01-01.. only. Writes the model, its sidecar (dqn.json) and golden rows (raw
states and onnxruntime's Q-values) for the Java parity test.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import common

common.quiet_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import pandas as pd  # noqa: E402

TRAIN_FIRST = "2019-01-01T00:00:00Z"
TRAIN_LAST = "2020-12-31T20:00:00Z"
ACTIONS = [0.0, 0.5, 1.0]
INPUTS = ["p_up", "atr_pct_14", "drawdown", "payoff_ratio"]
COST = (10.0 + 5.0) / 1e4  # the backtest's default fee + slippage, per unit of traded notional
PAYOFF_WINDOW = 250  # the backtest's default payoff window (bars of 1-bar returns)
GAMMA = 0.95
EPISODES = 12
BATCH = 64
REPLAY = 20_000
TARGET_EVERY = 500
TRAIN_EVERY = 2
LR = 1e-3
BARS_PER_YEAR = 6 * 365.25
BARS_CSV = common.REPO / "host" / "src" / "main" / "resources" / "data" / "coinbase-btc-usd-4h-2016-2025.csv"
LSTM3_MODEL = common.REPO / "plugins" / "prediction-lstm3" / "src" / "main" / "resources" / "dev" / "quiver" / "plugins" / "lstm3" / "model"
PLUGIN = common.REPO / "plugins" / "sizing-dqn" / "src"
MODEL_DIR = PLUGIN / "main" / "resources" / "dev" / "quiver" / "plugins" / "dqn" / "model"
TEST_DIR = PLUGIN / "test" / "resources" / "dev" / "quiver" / "plugins" / "dqn"


def payoff_ratio(close: np.ndarray, window: int) -> np.ndarray:
    """dev.quiver.engine.trading.PayoffRatio.trailing: mean gain / mean loss of the last `window`
    simple close-to-close returns; 1.0 until the window holds both a gain and a loss."""
    r = np.concatenate([[np.nan], close[1:] / close[:-1] - 1])
    out = np.ones(len(close))
    for t in range(len(close)):
        x = r[max(1, t - window + 1): t + 1]
        g, lo = x[x > 0], x[x < 0]
        if len(g) and len(lo) and g.sum() > 0 and -lo.sum() > 0:
            out[t] = g.mean() / (-lo.mean())
    return out


def lstm3_p_up(table: pd.DataFrame) -> np.ndarray:
    """The committed three-class LSTM's p_up (an up close) at every bar, NaN before its window."""
    side = json.loads((LSTM3_MODEL / "lstm3.json").read_text())
    x = table[side["features"]].to_numpy(np.float64)
    z = common.normalise(x, np.array(side["normalisation"]["mean"]), np.array(side["normalisation"]["std"]))
    sess = common.session(LSTM3_MODEL / side["model_file"])
    ends = np.arange(side["timesteps"] - 1, len(table))
    p = np.full(len(table), np.nan)
    for i in range(0, len(ends), 2048):
        e = ends[i: i + 2048]
        q = common.run(sess, common.windows(z, e)).astype(np.float64)
        p[e] = np.minimum(1.0, q[:, 2] + q[:, 1] * side["p_up_close"]["sideways_up_share"])
    return p


class Env:
    """One pass over bars [first, last]: the agent's own equity, drawdown and last position."""

    def __init__(self, raw: np.ndarray, fwd: np.ndarray, first: int, last: int):
        self.raw, self.fwd, self.first, self.last = raw, fwd, first, last

    def reset(self) -> None:
        self.t, self.equity, self.peak, self.weight = self.first, 1.0, 1.0, 0.0

    def state(self) -> np.ndarray:
        s = self.raw[self.t].copy()
        s[2] = 1.0 - self.equity / self.peak
        return s

    def step(self, a: int) -> tuple[float, bool, float]:
        w = ACTIONS[a]
        cost = COST * abs(w - self.weight)
        growth = 1.0 + w * self.fwd[self.t] - cost
        self.equity *= growth
        self.peak = max(self.peak, self.equity)
        self.weight = w
        self.t += 1
        return 100.0 * float(np.log(growth)), self.t > self.last, growth


def has_edge(s: np.ndarray) -> bool:
    """The sizing contract's rule: a position only with a positive Kelly edge p * b - (1 - p)."""
    return bool(s[0] * s[3] - (1 - s[0]) > 0)


def build(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((len(INPUTS),), name="state"),
            keras.layers.Dense(32, activation="relu", name="hidden1"),
            keras.layers.Dense(32, activation="relu", name="hidden2"),
            keras.layers.Dense(len(ACTIONS), name="q"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(LR), loss=keras.losses.Huber())
    return model


def forward(weights: list[np.ndarray], z: np.ndarray) -> np.ndarray:
    h = np.maximum(0, z @ weights[0] + weights[1])
    h = np.maximum(0, h @ weights[2] + weights[3])
    return h @ weights[4] + weights[5]


def run_policy(env: Env, choose) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs a policy over the env's bars: per bar the raw state, the action and the growth."""
    env.reset()
    states, actions, growth = [], [], []
    done = False
    while not done:
        s = env.state()
        a = choose(s)
        _, done, g = env.step(a)
        states.append(s)
        actions.append(a)
        growth.append(g)
    return np.array(states), np.array(actions), np.array(growth)


def summary(growth: np.ndarray, actions: np.ndarray | None = None) -> dict:
    r = np.log(growth)
    eq = np.cumprod(growth)
    dd = 1 - eq / np.maximum.accumulate(np.concatenate([[1.0], eq]))[1:]
    out = {
        "bars": int(len(r)),
        "total_return": float(eq[-1] - 1),
        "sharpe_annualised": float(r.mean() / r.std() * np.sqrt(BARS_PER_YEAR)) if r.std() > 0 else None,
        "max_drawdown": float(dd.max()),
    }
    if actions is not None:
        out["action_share"] = {str(ACTIONS[i]): float((actions == i).mean()) for i in range(len(ACTIONS))}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "quiver-train")
    parser.add_argument("--episodes", type=int, default=EPISODES)
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR,
                        help="where the model and sidecar go (default: the plugin's bundled model)")
    parser.add_argument("--test-dir", type=Path, default=TEST_DIR,
                        help="where the golden rows go (default: the plugin's test resources)")
    args = parser.parse_args()
    common.deterministic_tensorflow()

    schema, table = common.read_export(common.export(common.TRAIN_SERIES, args.work))
    bars = pd.read_csv(BARS_CSV, float_precision="round_trip")
    bars["timestamp"] = pd.to_datetime(bars["timestamp"], utc=True)
    table = table.merge(bars[["timestamp", "open", "close"]], on="timestamp", how="left", validate="1:1")
    if table["open"].isna().any():
        raise SystemExit("dqn: a feature row has no bar in " + str(BARS_CSV))
    opens = table["open"].to_numpy(np.float64)
    # open[t+2] / open[t+1] - 1: what a decision at bar t's close earns (NaN for the last two bars)
    fwd = np.full(len(table), np.nan)
    fwd[:-2] = opens[2:] / opens[1:-1] - 1
    # The payoff ratio over the whole bar series (from the first bar, as the backtest computes it).
    payoff_all = payoff_ratio(bars["close"].to_numpy(np.float64), PAYOFF_WINDOW)
    payoff = pd.Series(payoff_all, index=bars["timestamp"]).reindex(table["timestamp"]).to_numpy()
    p_up = lstm3_p_up(table)
    raw = np.column_stack([p_up, table["atr_pct_14"].to_numpy(np.float64), np.zeros(len(table)), payoff])

    ts = table["timestamp"]
    span = ((ts >= pd.Timestamp(TRAIN_FIRST)) & (ts <= pd.Timestamp(TRAIN_LAST))).to_numpy()
    first, last = int(np.argmax(span)), int(len(span) - 1 - np.argmax(span[::-1]))
    eval_first = last + 1
    eval_last = len(table) - 3  # the last bar with a known open[t+2]
    assert np.isfinite(raw[first: eval_last + 1]).all() and np.isfinite(fwd[first: eval_last + 1]).all()
    mean = raw[first: last + 1].mean(axis=0)
    std = raw[first: last + 1].std(axis=0)
    mean[2], std[2] = 0.0, 0.1  # drawdown: declared scale, it depends on the agent

    def normalise(s: np.ndarray) -> np.ndarray:
        return np.clip((s - mean) / std, -common.CLIP, common.CLIP).astype(np.float32)

    print(f"dqn: training span {ts[first]}..{ts[last]} ({last - first + 1} bars), "
          f"evaluation {ts[eval_first]}..{ts[eval_last]} ({eval_last - eval_first + 1} bars)")

    rng = np.random.default_rng(common.SEED)
    model = build(common.SEED)
    target_w = [w.copy() for w in model.get_weights()]  # the target network's weights
    env = Env(raw, fwd, first, last)
    steps_total = args.episodes * (last - first + 1)
    buf_s = np.zeros((REPLAY, len(INPUTS)), np.float32)
    buf_a = np.zeros(REPLAY, np.int64)
    buf_r = np.zeros(REPLAY, np.float32)
    buf_n = np.zeros((REPLAY, len(INPUTS)), np.float32)
    buf_d = np.zeros(REPLAY, np.float32)
    buf_e = np.zeros(REPLAY, np.float32)  # 1 if the next state has an edge (may choose), else flat
    stored, step, weights = 0, 0, model.get_weights()
    started = time.time()
    for episode in range(args.episodes):
        env.reset()
        done, total = False, 0.0
        while not done:
            raw_s = env.state()
            s = normalise(raw_s)
            eps = max(0.05, 1.0 - 0.95 * step / (0.6 * steps_total))
            explore = rng.random() < eps
            pick = int(rng.integers(len(ACTIONS)))
            if not has_edge(raw_s):
                a = 0
            else:
                a = pick if explore else int(np.argmax(forward(weights, s)))
            r, done, _ = env.step(a)
            n = normalise(env.state()) if not done else s
            i = stored % REPLAY
            buf_s[i], buf_a[i], buf_r[i], buf_n[i], buf_d[i] = s, a, r, n, float(done)
            buf_e[i] = float(not done and has_edge(env.state()))
            stored += 1
            step += 1
            total += r
            if stored >= BATCH * 10 and step % TRAIN_EVERY == 0:
                idx = rng.integers(min(stored, REPLAY), size=BATCH)
                q_next = forward(target_w, buf_n[idx])
                # a next state without an edge can only be flat: its value is Q(next, flat)
                v_next = np.where(buf_e[idx] > 0, q_next.max(axis=1), q_next[:, 0])
                y = forward(weights, buf_s[idx]).astype(np.float32)
                y[np.arange(BATCH), buf_a[idx]] = buf_r[idx] + GAMMA * (1 - buf_d[idx]) * v_next
                model.train_on_batch(buf_s[idx], y)
                weights = model.get_weights()
            if step % TARGET_EVERY == 0:
                target_w = [w.copy() for w in weights]
        print(f"dqn: episode {episode + 1}/{args.episodes}: reward {total:.1f}, epsilon {eps:.2f}, "
              f"{time.time() - started:.0f} s")

    final = model.get_weights()
    greedy = lambda s: int(np.argmax(forward(final, normalise(s)))) if has_edge(s) else 0  # noqa: E731
    fixed = lambda s: 1 if s[0] > 0.5 else 0  # noqa: E731  (sizing-fixed: 0.5 when p > 0.5)
    full = lambda s: 2  # noqa: E731
    evaluation = {}
    for name, (a, b) in {"training span": (first, last), "out-of-sample 2021-01-01..": (eval_first, eval_last)}.items():
        e = Env(raw, fwd, a, b)
        states, acts, growth = run_policy(e, greedy)
        evaluation[f"btc-usd-4h {name}"] = {
            "dqn": summary(growth, acts),
            "fixed 0.5 when p_up > 0.5": summary(run_policy(Env(raw, fwd, a, b), fixed)[2]),
            "always full": summary(run_policy(Env(raw, fwd, a, b), full)[2]),
        }
        if name.startswith("out"):
            oos_states = states
    for k, v in evaluation.items():
        print(f"dqn: {k}: " + "; ".join(f"{n} {json.dumps(m)}" for n, m in v.items()))

    args.model_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = args.model_dir / "dqn.onnx"
    common.export_onnx(model, onnx_path)
    graph = onnx.load(str(onnx_path))
    onnx.checker.check_model(graph)
    sess = common.session(onnx_path)
    z = normalise(oos_states)
    diff = float(np.abs(common.run(sess, z) - forward(final, z)).max())
    print(f"dqn: onnx {onnx_path.stat().st_size} bytes, |onnxruntime - numpy forward| max {diff:.2e}")

    sidecar = {
        "format": "quiver-dqn-sidecar/1",
        "model_file": onnx_path.name,
        "model_sha256": common.sha256(onnx_path),
        "inputs": INPUTS,
        "normalisation": {
            "method": "z = clip((x - mean) / std, -clip, clip) in float64, then float32",
            "mean": mean.tolist(),
            "std": std.tolist(),
            "clip": common.CLIP,
            "fitted_on": "training span (p_up, atr_pct_14, payoff_ratio); drawdown declared (0, 0.1)",
        },
        "input": {"name": graph.graph.input[0].name, "shape": [-1, len(INPUTS)], "dtype": "float32"},
        "output": {"name": graph.graph.output[0].name, "shape": [-1, len(ACTIONS)], "layout": "Q-value per action"},
        "actions": ACTIONS,
        "training": {
            "series": common.TRAIN_SERIES,
            "first_bar": TRAIN_FIRST,
            "last_bar": TRAIN_LAST,
            "signal": "prediction-lstm3 p_up (out-of-sample on this span)",
            "costs_bps": {"fee": 10.0, "slippage": 5.0},
            "fills": "decision at bar t's close, filled at t+1's open, earns open[t+2]/open[t+1]-1",
            "not_simulated": "the backtest's ATR stops and circuit breakers",
            "reward": "100 * ln(1 + a * r - cost)",
            "no_edge_rule": "flat when p_up * payoff_ratio - (1 - p_up) <= 0 (the sizing contract), else argmax Q",
            "gamma": GAMMA,
            "episodes": args.episodes,
            "replay": REPLAY,
            "batch": BATCH,
            "target_every_steps": TARGET_EVERY,
            "train_every_steps": TRAIN_EVERY,
            "learning_rate": LR,
            "epsilon": "1.0 -> 0.05 linearly over the first 60% of steps",
            "seed": common.SEED,
        },
        "schema": schema,
        "framework": common.framework(graph),
        "command": "mlflow/venv.sh && ./mvnw -B -q -o package -DskipTests && mlflow/.venv/bin/python mlflow/train/dqn.py",
        "evaluation": evaluation,
    }
    common.write_json(args.model_dir / "dqn.json", sidecar)
    rows = oos_states[:: max(1, len(oos_states) // 200)][:200]
    common.write_json(
        args.test_dir / "dqn-golden.json",
        {
            "what": "raw states [p_up, atr_pct_14, drawdown, payoff_ratio] (float64) of the greedy agent on"
            " out-of-sample bars; q[k] = onnxruntime's Q-values [flat, half, full] of row k; action[k]"
            " = the index chosen (flat without a Kelly edge, else argmax q)",
            "inputs": INPUTS,
            "onnxruntime": ort.__version__,
            "raw_states": rows.tolist(),
            "q": common.run(sess, normalise(rows)).astype(np.float64).tolist(),
            "action": [int(np.argmax(q)) if has_edge(r) else 0
                       for r, q in zip(rows, common.run(sess, normalise(rows)))],
        },
    )
    print(f"dqn: wrote {args.model_dir} and {args.test_dir}")


if __name__ == "__main__":
    main()
