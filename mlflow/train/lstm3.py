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
import platform
import tempfile
from pathlib import Path

import common
import lstm

import keras  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402

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


def build(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((lstm.TIMESTEPS, len(common.FEATURES)), name="window"),
            keras.layers.LSTM(lstm.UNITS, name="lstm"),
            keras.layers.Dense(3, activation="softmax", name="direction3"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


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
    common.quiet_tensorflow()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.experimental.enable_op_determinism()

    schema, table = common.read_export(common.export(common.TRAIN_SERIES, args.work))
    x = table[common.FEATURES].to_numpy(np.float64)
    train_rows = common.span_mask(table, common.TRAIN_FIRST, common.TRAIN_LAST)
    mean = x[train_rows].mean(axis=0)
    std = x[train_rows].std(axis=0)
    z = lstm.normalise(x, mean, std)
    y = labels(table)
    up = table["up"].to_numpy()
    labelled = y >= 0
    ends = np.arange(lstm.TIMESTEPS - 1, len(table))
    in_span = train_rows[ends] & labelled[ends]
    is_val = (table["timestamp"] >= common.VALIDATION_FROM).to_numpy()[ends]
    fit_ends = ends[in_span & ~is_val]
    val_ends = ends[in_span & is_val]
    after = (table["timestamp"] > common.TRAIN_LAST).to_numpy()
    oos_ends = ends[after[ends] & labelled[ends]]
    span_ends = ends[in_span]
    sideways = span_ends[y[span_ends] == 1]
    s_up = float((up[sideways] > 0.5).mean())
    print(f"lstm3: K={K}: training-span class shares "
          + ", ".join(f"{c} {(y[span_ends] == i).mean():.3f}" for i, c in enumerate(CLASSES))
          + f"; sideways bars that closed up: {s_up:.4f}")
    print(f"lstm3: {len(fit_ends)} training windows, {len(val_ends)} validation windows, "
          f"{len(oos_ends)} out-of-sample windows after {common.TRAIN_LAST}")

    model = build(common.SEED)
    model.fit(
        lstm.windows(z, fit_ends),
        y[fit_ends].astype(np.int64),
        validation_data=(lstm.windows(z, val_ends), y[val_ends].astype(np.int64)),
        epochs=args.epochs,
        batch_size=256,
        shuffle=True,
        verbose=2,
        callbacks=[keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)],
    )

    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    onnx_path = MODEL_DIR / "lstm3.onnx"
    lstm.export_onnx(model, onnx_path)
    graph = onnx.load(str(onnx_path))
    onnx.checker.check_model(graph)
    sess = lstm.session(onnx_path)
    keras_out = model.predict(lstm.windows(z, oos_ends[:512]), verbose=0)
    ort_diff = float(np.abs(lstm.run(sess, lstm.windows(z, oos_ends[:512])) - keras_out).max())
    print(f"lstm3: onnx {onnx_path.stat().st_size} bytes, |onnxruntime - keras| max {ort_diff:.2e}")

    def evaluate(zz, yy, uu, ee) -> dict:
        p = lstm.run(sess, lstm.windows(zz, ee))
        out = class_metrics(p, yy[ee])
        out["p_up_close"] = common.metrics(p[:, 2] + p[:, 1] * s_up, uu[ee])
        return out

    evaluation = {
        "btc-usd-4h training span": evaluate(z, y, up, fit_ends),
        "btc-usd-4h validation (early stopping)": evaluate(z, y, up, val_ends),
        "btc-usd-4h out-of-sample 2019-01-01..": evaluate(z, y, up, oos_ends),
    }
    for other in ["sp500-daily", "nasdaq-daily"]:
        _, t2 = common.read_export(common.export(other, args.work))
        z2 = lstm.normalise(t2[common.FEATURES].to_numpy(np.float64), mean, std)
        y2 = labels(t2)
        u2 = t2["up"].to_numpy()
        e2 = np.arange(lstm.TIMESTEPS - 1, len(t2))
        e2 = e2[y2[e2] >= 0]
        evaluation[f"{other} (never trained on)"] = evaluate(z2, y2, u2, e2)
    for k, v in evaluation.items():
        print(f"lstm3: {k}: accuracy {v['accuracy']:.4f} per class {v['per_class_accuracy']} "
              f"shares {v['class_share']}; p_up log-loss {v['p_up_close']['log_loss']:.4f} "
              f"(base {v['p_up_close']['log_loss_base_rate']:.4f}), n {v['n']}")

    ts = table["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()
    sidecar = {
        "format": "quiver-lstm3-sidecar/1",
        "model_file": onnx_path.name,
        "model_sha256": common.sha256(onnx_path),
        "schema": schema,
        "features": common.FEATURES,
        "timesteps": lstm.TIMESTEPS,
        "normalisation": {
            "method": "z = clip((x - mean) / std, -clip, clip) in float64, then float32",
            "mean": mean.tolist(),
            "std": std.tolist(),
            "clip": lstm.CLIP,
            "fitted_on": "training span rows only",
        },
        "input": {"name": graph.graph.input[0].name, "shape": [-1, lstm.TIMESTEPS, len(common.FEATURES)],
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
        "training": {
            "series": common.TRAIN_SERIES,
            "first_bar": common.TRAIN_FIRST,
            "last_bar": common.TRAIN_LAST,
            "validation_from": common.VALIDATION_FROM,
            "windows": int(len(fit_ends)),
            "validation_windows": int(len(val_ends)),
            "seed": common.SEED,
            "epochs_run": len(model.history.history["loss"]),
        },
        "framework": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
            "exporter": "keras Model.export(format='onnx')",
            "onnx_ir_version": graph.ir_version,
            "onnx_opset": [o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")][0],
        },
        "command": "mlflow/venv.sh && ./mvnw -B -q -o package -DskipTests && mlflow/.venv/bin/python mlflow/train/lstm3.py",
        "evaluation": evaluation,
    }
    common.write_json(MODEL_DIR / "lstm3.json", sidecar)

    blocks = []
    for start in lstm.GOLDEN_STARTS:
        first_end = int(np.argmax(table["timestamp"] >= start))
        block_ends = np.arange(first_end, first_end + lstm.GOLDEN_BLOCK)
        raw = x[first_end - lstm.TIMESTEPS + 1: first_end + lstm.GOLDEN_BLOCK]
        blocks.append(
            {
                "first_end_bar_index": int(table["bar_index"][first_end]),
                "first_end_bar": ts[first_end],
                "end_bars": [ts[e] for e in block_ends],
                "raw_rows": raw.tolist(),
                "p": lstm.run(sess, lstm.windows(z, block_ends)).astype(np.float64).tolist(),
            }
        )
    common.write_json(
        TEST_DIR / "lstm3-golden.json",
        {
            "what": "raw feature rows (float64, schema order of 'features') of consecutive bars; window k of"
            " a block = raw_rows[k : k + timesteps]; p[k] = onnxruntime output [down, sideways, up] of"
            " that window",
            "features": common.FEATURES,
            "timesteps": lstm.TIMESTEPS,
            "onnxruntime": ort.__version__,
            "blocks": blocks,
        },
    )
    print(f"lstm3: wrote {MODEL_DIR} and {TEST_DIR}")


if __name__ == "__main__":
    main()
