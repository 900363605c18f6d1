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
import tempfile
from pathlib import Path

import common

common.quiet_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402

PLUGIN = common.REPO / "plugins" / "prediction-lstm" / "src"
MODEL_DIR = PLUGIN / "main" / "resources" / "dev" / "quiver" / "plugins" / "lstm" / "model"
TEST_DIR = PLUGIN / "test" / "resources" / "dev" / "quiver" / "plugins" / "lstm"


def labelled(table) -> np.ndarray:
    return ~np.isnan(table["up"].to_numpy())


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
    common.deterministic_tensorflow()

    w = common.span_windows(args.work, labelled)
    up = w.table["up"].to_numpy()
    print(
        f"lstm: {len(w.fit_ends)} training windows, {len(w.val_ends)} validation windows "
        f"({common.TRAIN_FIRST}..{common.TRAIN_LAST}), {len(w.oos_ends)} out-of-sample windows after it"
    )

    model = common.build_lstm(common.SEED, 2, "direction")
    common.fit(model, w, up, args.epochs)

    model_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = model_dir / "lstm.onnx"
    graph, sess = common.export_checked(model, onnx_path, w, "lstm")

    def evaluate(zz: np.ndarray, yy: np.ndarray, ee: np.ndarray) -> dict:
        return common.metrics(common.run(sess, common.windows(zz, ee))[:, 1], yy[ee])

    evaluation = {
        "btc-usd-4h training span": evaluate(w.z, up, w.fit_ends),
        "btc-usd-4h validation (early stopping)": evaluate(w.z, up, w.val_ends),
        "btc-usd-4h out-of-sample 2019-01-01..": evaluate(w.z, up, w.oos_ends),
    }
    for other, t2, z2, e2 in common.other_windows(args.work, w, labelled):
        evaluation[f"{other} (never trained on)"] = evaluate(z2, t2["up"].to_numpy(), e2)
    for k, v in evaluation.items():
        print(f"lstm: {k}: log-loss {v['log_loss']:.4f} (base rate {v['log_loss_base_rate']:.4f}), "
              f"hit {v['hit_rate']:.4f}, n {v['n']}")

    sidecar = {
        "format": "quiver-lstm-sidecar/1",
        "model_file": onnx_path.name,
        "model_sha256": common.sha256(onnx_path),
        "schema": w.schema,
        "features": common.FEATURES,
        "timesteps": common.TIMESTEPS,
        "normalisation": common.normalisation(w),
        "input": {"name": graph.graph.input[0].name, "shape": [-1, common.TIMESTEPS, len(common.FEATURES)], "dtype": "float32"},
        "output": {"name": graph.graph.output[0].name, "shape": [-1, 2], "layout": ["down", "up"]},
        "horizon_bars": 1,
        "training": common.training(w, model),
        "framework": common.framework(graph),
        "command": "mlflow/venv.sh && ./mvnw -B -q install -DskipTests && mlflow/.venv/bin/python mlflow/train/lstm.py",
        "evaluation": evaluation,
    }
    common.write_json(model_dir / "lstm.json", sidecar)
    common.register(
        args, onnx_path, model_dir / "lstm.json", "prediction-lstm", "lstm",
        {"epochs": args.epochs, "epochs_run": sidecar["training"]["epochs_run"], "units": common.UNITS,
         "timesteps": common.TIMESTEPS, "seed": common.SEED, "series": common.TRAIN_SERIES,
         "first_bar": common.TRAIN_FIRST, "last_bar": common.TRAIN_LAST},
        evaluation,
    )
    if not bundled:
        print(f"lstm: wrote {model_dir} (the plugin's golden test files left as they are)")
        return

    common.write_json(
        TEST_DIR / "lstm-golden.json",
        common.golden(
            w, sess,
            "raw feature rows (float64, schema order of 'features') of consecutive bars; window k of"
            " a block = raw_rows[k : k + timesteps]; p[k] = onnxruntime output [down, up] of that window",
        ),
    )

    # A valid ONNX model of the wrong shape, for the refusal test.
    keras.utils.set_random_seed(1)
    wrong = keras.Sequential([keras.Input((8, 3), name="window"), keras.layers.LSTM(2), keras.layers.Dense(2, activation="softmax")])
    common.export_onnx(wrong, TEST_DIR / "wrong-shape.onnx")
    print(f"lstm: wrote {model_dir} and {TEST_DIR}")


if __name__ == "__main__":
    main()
