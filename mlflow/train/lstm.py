"""Trains the LSTM direction classifier that plugins/prediction-lstm serves, exports it to ONNX.

    mlflow/venv.sh && ./mvnw -B -q install -DskipTests && mlflow/.venv/bin/python mlflow/train/lstm.py

With `--tracking-uri URI --register quiver-lstm [--alias challenger]` the training is logged to
MLflow and the model registered as a new version through `bin/quiver models register`.

Reads the Java feature export (`bin/quiver features`), builds windows float32[batch][32][7] of the
scale-free features (z-scored with statistics fitted on the training span only, clipped to +-5),
trains Keras LSTM(16) -> Dense(2, softmax) [down, up] on BTC-USD 4h 2016-05-28..2018-12-31 with a
fixed seed (early stopping on the last six months of that span), exports ONNX with Keras's own
exporter, and writes beside it the sidecar (lstm.json) and, for the Java parity test, golden
vectors: 4 blocks of 50 consecutive out-of-sample windows with onnxruntime's outputs.
"""
from __future__ import annotations

import argparse
import platform
import tempfile
from pathlib import Path

import common

common.quiet_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402

TIMESTEPS = 32
UNITS = 16
CLIP = 5.0
PLUGIN = common.REPO / "plugins" / "prediction-lstm" / "src"
MODEL_DIR = PLUGIN / "main" / "resources" / "dev" / "quiver" / "plugins" / "lstm" / "model"
TEST_DIR = PLUGIN / "test" / "resources" / "dev" / "quiver" / "plugins" / "lstm"
GOLDEN_STARTS = ["2019-06-01", "2021-06-01", "2023-06-01", "2025-06-01"]
GOLDEN_BLOCK = 50


def normalise(rows: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """z = clip((x - mean) / std, -5, 5) in float64, then float32: exactly what Java does."""
    return np.clip((rows - mean) / std, -CLIP, CLIP).astype(np.float32)


def windows(z: np.ndarray, ends: np.ndarray) -> np.ndarray:
    idx = ends[:, None] + np.arange(-TIMESTEPS + 1, 1)[None, :]
    return z[idx]


def build(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((TIMESTEPS, len(common.FEATURES)), name="window"),
            keras.layers.LSTM(UNITS, name="lstm"),
            keras.layers.Dense(2, activation="softmax", name="direction"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def export_onnx(model: keras.Model, path: Path) -> None:
    model.predict(np.zeros((1,) + model.input_shape[1:], np.float32), verbose=0)
    model.export(str(path), format="onnx", verbose=False)


def session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run(sess: ort.InferenceSession, x: np.ndarray) -> np.ndarray:
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "quiver-train")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR,
                        help="where the model and sidecar go (default: the plugin's bundled model;"
                             " elsewhere, e.g. for a version to register, the plugin's golden test"
                             " files are left alone)")
    common.add_registry_args(parser)
    args = parser.parse_args()
    model_dir = args.model_dir
    bundled = model_dir.resolve() == MODEL_DIR.resolve()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.experimental.enable_op_determinism()

    schema, table = common.read_export(common.export(common.TRAIN_SERIES, args.work))
    x = table[common.FEATURES].to_numpy(np.float64)
    train_rows = common.span_mask(table, common.TRAIN_FIRST, common.TRAIN_LAST)
    mean = x[train_rows].mean(axis=0)
    std = x[train_rows].std(axis=0)
    z = normalise(x, mean, std)
    up = table["up"].to_numpy()
    labelled = ~np.isnan(up)
    ends = np.arange(TIMESTEPS - 1, len(table))
    in_span = train_rows[ends] & labelled[ends]
    is_val = (table["timestamp"] >= common.VALIDATION_FROM).to_numpy()[ends]
    fit_ends = ends[in_span & ~is_val]
    val_ends = ends[in_span & is_val]
    after = (table["timestamp"] > common.TRAIN_LAST).to_numpy()
    oos_ends = ends[after[ends] & labelled[ends]]
    print(
        f"lstm: {len(fit_ends)} training windows, {len(val_ends)} validation windows "
        f"({common.TRAIN_FIRST}..{common.TRAIN_LAST}), {len(oos_ends)} out-of-sample windows after it"
    )

    model = build(common.SEED)
    model.fit(
        windows(z, fit_ends),
        up[fit_ends].astype(np.int64),
        validation_data=(windows(z, val_ends), up[val_ends].astype(np.int64)),
        epochs=args.epochs,
        batch_size=256,
        shuffle=True,
        verbose=2,
        callbacks=[keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)],
    )

    model_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = model_dir / "lstm.onnx"
    export_onnx(model, onnx_path)
    graph = onnx.load(str(onnx_path))
    onnx.checker.check_model(graph)
    sess = session(onnx_path)
    keras_out = model.predict(windows(z, oos_ends[:512]), verbose=0)
    ort_diff = float(np.abs(run(sess, windows(z, oos_ends[:512])) - keras_out).max())
    print(f"lstm: onnx {onnx_path.stat().st_size} bytes, |onnxruntime - keras| max {ort_diff:.2e}")

    def evaluate(zz: np.ndarray, yy: np.ndarray, ee: np.ndarray) -> dict:
        return common.metrics(run(sess, windows(zz, ee))[:, 1], yy[ee])

    evaluation = {
        "btc-usd-4h training span": evaluate(z, up, fit_ends),
        "btc-usd-4h validation (early stopping)": evaluate(z, up, val_ends),
        "btc-usd-4h out-of-sample 2019-01-01..": evaluate(z, up, oos_ends),
    }
    for other in ["sp500-daily", "nasdaq-daily"]:
        _, t2 = common.read_export(common.export(other, args.work))
        z2 = normalise(t2[common.FEATURES].to_numpy(np.float64), mean, std)
        y2 = t2["up"].to_numpy()
        e2 = np.arange(TIMESTEPS - 1, len(t2))
        e2 = e2[~np.isnan(y2[e2])]
        evaluation[f"{other} (never trained on)"] = evaluate(z2, y2, e2)
    for k, v in evaluation.items():
        print(f"lstm: {k}: log-loss {v['log_loss']:.4f} (base rate {v['log_loss_base_rate']:.4f}), "
              f"hit {v['hit_rate']:.4f}, n {v['n']}")

    ts = table["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()
    sidecar = {
        "format": "quiver-lstm-sidecar/1",
        "model_file": onnx_path.name,
        "model_sha256": common.sha256(onnx_path),
        "schema": schema,
        "features": common.FEATURES,
        "timesteps": TIMESTEPS,
        "normalisation": {
            "method": "z = clip((x - mean) / std, -clip, clip) in float64, then float32",
            "mean": mean.tolist(),
            "std": std.tolist(),
            "clip": CLIP,
            "fitted_on": "training span rows only",
        },
        "input": {"name": graph.graph.input[0].name, "shape": [-1, TIMESTEPS, len(common.FEATURES)], "dtype": "float32"},
        "output": {"name": graph.graph.output[0].name, "shape": [-1, 2], "layout": ["down", "up"]},
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
        "command": "mlflow/venv.sh && ./mvnw -B -q install -DskipTests && mlflow/.venv/bin/python mlflow/train/lstm.py",
        "evaluation": evaluation,
    }
    common.write_json(model_dir / "lstm.json", sidecar)
    common.register(
        args, onnx_path, model_dir / "lstm.json", "prediction-lstm", "lstm",
        {"epochs": args.epochs, "epochs_run": sidecar["training"]["epochs_run"], "units": UNITS,
         "timesteps": TIMESTEPS, "seed": common.SEED, "series": common.TRAIN_SERIES,
         "first_bar": common.TRAIN_FIRST, "last_bar": common.TRAIN_LAST},
        evaluation,
    )
    if not bundled:
        print(f"lstm: wrote {model_dir} (the plugin's golden test files left as they are)")
        return

    blocks = []
    for start in GOLDEN_STARTS:
        first_end = int(np.argmax(table["timestamp"] >= start))
        block_ends = np.arange(first_end, first_end + GOLDEN_BLOCK)
        raw = x[first_end - TIMESTEPS + 1 : first_end + GOLDEN_BLOCK]
        blocks.append(
            {
                "first_end_bar_index": int(table["bar_index"][first_end]),
                "first_end_bar": ts[first_end],
                "end_bars": [ts[e] for e in block_ends],
                "raw_rows": raw.tolist(),
                "p": run(sess, windows(z, block_ends)).astype(np.float64).tolist(),
            }
        )
    common.write_json(
        TEST_DIR / "lstm-golden.json",
        {
            "what": "raw feature rows (float64, schema order of 'features') of consecutive bars; window k of"
            " a block = raw_rows[k : k + timesteps]; p[k] = onnxruntime output [down, up] of that window",
            "features": common.FEATURES,
            "timesteps": TIMESTEPS,
            "onnxruntime": ort.__version__,
            "blocks": blocks,
        },
    )

    # A valid ONNX model of the wrong shape, for the refusal test.
    keras.utils.set_random_seed(1)
    wrong = keras.Sequential([keras.Input((8, 3), name="window"), keras.layers.LSTM(2), keras.layers.Dense(2, activation="softmax")])
    export_onnx(wrong, TEST_DIR / "wrong-shape.onnx")
    print(f"lstm: wrote {model_dir} and {TEST_DIR}")


if __name__ == "__main__":
    main()
