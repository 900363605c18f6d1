"""Trains the three-class LSTM (DOWN / SIDEWAYS / UP) that plugins/prediction-lstm3 serves, exports ONNX.

    mlflow/venv.sh && ./mvnw -B -q -o package -DskipTests && mlflow/.venv/bin/python mlflow/train/lstm3.py

The label of bar t is SIDEWAYS when |ln(close[t+1] / close[t])| < K * atr_pct_14[t] (K declared
below and in the sidecar; the same rule as dev.quiver.api.prediction.SidewaysBand), else UP or DOWN
by the sign of that log return. Inputs exactly as mlflow/train/lstm.py: windows float32[batch][32][7]
of the scale-free features, z-scored with statistics of the training span only, clipped to +-5.
Keras LSTM(16) -> Dense(3, softmax) [down, sideways, up], trained on BTC-USD 4h 2016-05-28..2018-12-31
with a fixed seed (early stopping on the last six months of that span), ONNX through Keras's own
exporter. The plugin answers p_up (an up close, what fusion and sizing read) as
P(UP) + P(SIDEWAYS) * s, s = the share of the training span's SIDEWAYS bars that closed up (in the
sidecar). Writes the sidecar (lstm3.json) and golden vectors: 4 blocks of 50 consecutive
out-of-sample windows with onnxruntime's three probabilities, for the Java parity test.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import common

common.quiet_tensorflow()

import numpy as np  # noqa: E402

K = 0.25  # half-width of the sideways band in units of atr_pct_14 (declared; see the README's table)
CLASSES = ["down", "sideways", "up"]
PLUGIN = common.REPO / "plugins" / "prediction-lstm3" / "src"
MODEL_DIR = PLUGIN / "main" / "resources" / "dev" / "quiver" / "plugins" / "lstm3" / "model"
TEST_DIR = PLUGIN / "test" / "resources" / "dev" / "quiver" / "plugins" / "lstm3"


def labels(table) -> np.ndarray:
    """0 = down, 1 = sideways, 2 = up; -1 where the next bar does not exist."""
    r = table["forward_log_return_1"].to_numpy(np.float64)
    atr = table["atr_pct_14"].to_numpy(np.float64)
    y = np.where(np.abs(r) < K * atr, 1, np.where(r > 0, 2, 0))
    return np.where(np.isnan(r), -1, y)


def labelled(table) -> np.ndarray:
    return labels(table) >= 0


def class_metrics(p: np.ndarray, y: np.ndarray) -> dict:
    """Per-class accuracy (recall), the confusion matrix (rows true, columns predicted), log-loss."""
    pred = p.argmax(axis=1)
    cm = np.zeros((3, 3), dtype=np.int64)
    for t, q in zip(y, pred):
        cm[t, q] += 1
    pc = np.clip(p[np.arange(len(y)), y].astype(np.float64), 1e-15, 1.0)
    return {
        "n": int(len(y)),
        "accuracy": float((pred == y).mean()),
        "per_class_accuracy": {c: (float(cm[i, i] / cm[i].sum()) if cm[i].sum() else None)
                               for i, c in enumerate(CLASSES)},
        "class_share": {c: float((y == i).mean()) for i, c in enumerate(CLASSES)},
        "confusion_matrix": {"rows_true_columns_predicted": CLASSES, "counts": cm.tolist()},
        "log_loss_3class": float(-np.log(pc).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "quiver-train")
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    common.deterministic_tensorflow()

    w = common.span_windows(args.work, labelled)
    y = labels(w.table)
    up = w.table["up"].to_numpy()
    span_ends = w.ends[w.in_span]
    sideways = span_ends[y[span_ends] == 1]
    s_up = float((up[sideways] > 0.5).mean())
    print(f"lstm3: K={K}: training-span class shares "
          + ", ".join(f"{c} {(y[span_ends] == i).mean():.3f}" for i, c in enumerate(CLASSES))
          + f"; sideways bars that closed up: {s_up:.4f}")
    print(f"lstm3: {len(w.fit_ends)} training windows, {len(w.val_ends)} validation windows, "
          f"{len(w.oos_ends)} out-of-sample windows after {common.TRAIN_LAST}")

    model = common.build_lstm(common.SEED, 3, "direction3")
    common.fit(model, w, y, args.epochs)

    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    onnx_path = MODEL_DIR / "lstm3.onnx"
    graph, sess = common.export_checked(model, onnx_path, w, "lstm3")

    def evaluate(zz, yy, uu, ee) -> dict:
        p = common.run(sess, common.windows(zz, ee))
        out = class_metrics(p, yy[ee])
        out["p_up_close"] = common.metrics(p[:, 2] + p[:, 1] * s_up, uu[ee])
        return out

    evaluation = {
        "btc-usd-4h training span": evaluate(w.z, y, up, w.fit_ends),
        "btc-usd-4h validation (early stopping)": evaluate(w.z, y, up, w.val_ends),
        "btc-usd-4h out-of-sample 2019-01-01..": evaluate(w.z, y, up, w.oos_ends),
    }
    for other, t2, z2, e2 in common.other_windows(args.work, w, labelled):
        evaluation[f"{other} (never trained on)"] = evaluate(z2, labels(t2), t2["up"].to_numpy(), e2)
    for k, v in evaluation.items():
        print(f"lstm3: {k}: accuracy {v['accuracy']:.4f} per class {v['per_class_accuracy']} "
              f"shares {v['class_share']}; p_up log-loss {v['p_up_close']['log_loss']:.4f} "
              f"(base {v['p_up_close']['log_loss_base_rate']:.4f}), n {v['n']}")

    sidecar = {
        "format": "quiver-lstm3-sidecar/1",
        "model_file": onnx_path.name,
        "model_sha256": common.sha256(onnx_path),
        "schema": w.schema,
        "features": common.FEATURES,
        "timesteps": common.TIMESTEPS,
        "normalisation": common.normalisation(w),
        "input": {"name": graph.graph.input[0].name, "shape": [-1, common.TIMESTEPS, len(common.FEATURES)],
                  "dtype": "float32"},
        "output": {"name": graph.graph.output[0].name, "shape": [-1, 3], "layout": CLASSES},
        "sideways_band": {
            "atr_multiple": K,
            "rule": "SIDEWAYS iff |ln(close[t+1]/close[t])| < atr_multiple * atr_pct_14[t], else UP"
                    " (log return > 0) or DOWN",
        },
        "p_up_close": {
            "method": "P(UP) + P(SIDEWAYS) * sideways_up_share",
            "sideways_up_share": s_up,
            "fitted_on": "training span rows only",
        },
        "horizon_bars": 1,
        "training": common.training(w, model),
        "framework": common.framework(graph),
        "command": "mlflow/venv.sh && ./mvnw -B -q -o package -DskipTests && mlflow/.venv/bin/python mlflow/train/lstm3.py",
        "evaluation": evaluation,
    }
    common.write_json(MODEL_DIR / "lstm3.json", sidecar)
    common.write_json(
        TEST_DIR / "lstm3-golden.json",
        common.golden(
            w, sess,
            "raw feature rows (float64, schema order of 'features') of consecutive bars; window k of"
            " a block = raw_rows[k : k + timesteps]; p[k] = onnxruntime output [down, sideways, up] of"
            " that window",
        ),
    )
    print(f"lstm3: wrote {MODEL_DIR} and {TEST_DIR}")


if __name__ == "__main__":
    main()
