"""Shared pieces of the training scripts: the Java feature export, the training span, metrics.

The features are never computed here: they come from `bin/quiver features` (Java), so training
and serving cannot disagree about a feature. Only the scale-free columns are used, so a model
trained on BTC-USD 4h applies, out-of-sample, to another series (price-unit columns such as
`macd_12_26` or `atr_14` are left out on purpose).
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
QUIVER = REPO / "host" / "target" / "quiver" / "bin" / "quiver"

# Scale-free features of schema quiver-core v1 (names, read by name in Java too).
FEATURES = [
    "log_return_1",
    "rsi_14",
    "macd_hist_pct",
    "bb_percent_b_20_2",
    "bb_width_20_2",
    "atr_pct_14",
    "volume_ratio_20",
]

# The one training span, on the bundled BTC-USD 4h series. Everything after it is out-of-sample.
TRAIN_SERIES = "btc-usd-4h"
TRAIN_FIRST = "2016-05-28T20:00:00Z"  # first warm bar (index 64)
TRAIN_LAST = "2018-12-31T20:00:00Z"   # inclusive; its label (next bar's close) is 2019-01-01T00:00Z
VALIDATION_FROM = "2018-07-01T00:00:00Z"  # early-stopping slice: the last six months of the span
SEED = 42

# The LSTM windows (lstm.py, lstm3.py; dqn.py reads lstm3's): TIMESTEPS consecutive rows of FEATURES,
# z-scored with statistics of the training span only, clipped to +-CLIP.
TIMESTEPS = 32
UNITS = 16
CLIP = 5.0
GOLDEN_STARTS = ["2019-06-01", "2021-06-01", "2023-06-01", "2025-06-01"]
GOLDEN_BLOCK = 50
OTHER_SERIES = ["sp500-daily", "nasdaq-daily"]


def export(dataset: str, out_dir: Path) -> Path:
    """Runs the Java export (builds nothing: run ./mvnw install first) and returns the CSV."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{dataset}-features.csv"
    if not QUIVER.exists():
        sys.exit(f"{QUIVER} missing: run ./mvnw -B -q install -DskipTests first")
    subprocess.run([str(QUIVER), "features", "--dataset", dataset, "--out", str(path)], check=True)
    return path


def read_export(path: Path) -> tuple[dict, pd.DataFrame]:
    """Returns ({name, version, hash}, table). The table keeps float64 exactly as Java wrote it."""
    with open(path, encoding="utf-8") as f:
        first = f.readline().split()
    if first[:2] != ["#", "schema"] or not first[4].startswith("sha256="):
        raise ValueError(f"{path}: first line is not '# schema NAME VERSION sha256=HASH'")
    schema = {"name": first[2], "version": first[3], "hash": first[4][len("sha256="):]}
    table = pd.read_csv(path, comment="#", float_precision="round_trip")
    table["timestamp"] = pd.to_datetime(table["timestamp"], utc=True)
    return schema, table


def span_mask(table: pd.DataFrame, first: str, last: str) -> np.ndarray:
    t = table["timestamp"]
    return ((t >= pd.Timestamp(first)) & (t <= pd.Timestamp(last))).to_numpy()


def metrics(p_up: np.ndarray, up: np.ndarray) -> dict:
    p = np.clip(p_up.astype(np.float64), 1e-12, 1 - 1e-12)
    y = up.astype(np.float64)
    base = float(y.mean())
    return {
        "n": int(len(y)),
        "log_loss": float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()),
        "log_loss_base_rate": float(-(base * np.log(base) + (1 - base) * np.log(1 - base))),
        "brier": float(((p - y) ** 2).mean()),
        "hit_rate": float(((p > 0.5) == (y > 0.5)).mean()),
        "base_rate_up": base,
        "mean_p_up": float(p.mean()),
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, allow_nan=False)
        f.write("\n")


def add_registry_args(parser) -> None:
    """--tracking-uri / --register / --alias: log the training and register the model it wrote."""
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"),
                        help="MLflow server to log the training to and register the model in "
                             "(default: MLFLOW_TRACKING_URI; neither: files only)")
    parser.add_argument("--register", metavar="NAME",
                        help="registered model name (default: none, i.e. no registration)")
    parser.add_argument("--alias", action="append", default=[],
                        help="point this alias at the new version (repeatable)")


def _metric_key(text: str) -> str:
    """An MLflow metric key: 'btc-usd-4h out-of-sample 2019-01-01.. log_loss' ->
    'btc-usd-4h_out-of-sample_2019-01-01_log_loss'."""
    key = "".join(c if c.isalnum() or c in "-" else "_" for c in text)
    return re.sub("_+", "_", key).strip("_")


def register(args, model: Path, sidecar: Path, plugin: str, source: str,
             params: dict, evaluation: dict) -> None:
    """Registers the trained files through Quiver's own path (`quiver models register`): one run in
    MLflow carrying the training's parameters and evaluation figures, the version tagged with
    sha256, format, schema hash, training span and data set, and smoke cases recorded by the
    plugin that serves it. Does nothing without --register."""
    if not args.register:
        return
    if not args.tracking_uri:
        sys.exit("--register needs --tracking-uri (or MLFLOW_TRACKING_URI)")
    cmd = [str(QUIVER), "models", "register", "--tracking-uri", args.tracking_uri,
           "--name", args.register, "--model", str(model), "--sidecar", str(sidecar),
           "--plugin", plugin, "--run-name", f"train {source}"]
    for alias in args.alias:
        cmd += ["--alias", alias]
    for k, v in params.items():
        cmd += ["--param", f"{k}={v}"]
    for span, figures in evaluation.items():
        for k in ("log_loss", "brier", "hit_rate", "n"):
            cmd += ["--metric", f"{_metric_key(span + ' ' + k)}={figures[k]}"]
    subprocess.run(cmd, check=True)


def normalise(rows: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """z = clip((x - mean) / std, -5, 5) in float64, then float32: exactly what Java does."""
    return np.clip((rows - mean) / std, -CLIP, CLIP).astype(np.float32)


def windows(z: np.ndarray, ends: np.ndarray) -> np.ndarray:
    idx = ends[:, None] + np.arange(-TIMESTEPS + 1, 1)[None, :]
    return z[idx]


@dataclass(frozen=True)
class SpanWindows:
    """The training series as LSTM windows: `ends` are the last rows of every full window; the
    training span's labelled ones split into fit and validation (early stopping), the labelled ones
    after the span out-of-sample."""
    schema: dict
    table: pd.DataFrame
    x: np.ndarray  # raw feature rows, float64, FEATURES order
    mean: np.ndarray
    std: np.ndarray
    z: np.ndarray
    ends: np.ndarray
    in_span: np.ndarray  # per end: in the training span and labelled
    fit_ends: np.ndarray
    val_ends: np.ndarray
    oos_ends: np.ndarray


def span_windows(work: Path, labelled: Callable[[pd.DataFrame], np.ndarray]) -> SpanWindows:
    """Exports TRAIN_SERIES's features, fits the normalisation on the training span and splits the
    windows; `labelled(table)` says per row whether it has a label."""
    schema, table = read_export(export(TRAIN_SERIES, work))
    x = table[FEATURES].to_numpy(np.float64)
    train_rows = span_mask(table, TRAIN_FIRST, TRAIN_LAST)
    mean = x[train_rows].mean(axis=0)
    std = x[train_rows].std(axis=0)
    z = normalise(x, mean, std)
    has_label = labelled(table)
    ends = np.arange(TIMESTEPS - 1, len(table))
    in_span = train_rows[ends] & has_label[ends]
    is_val = (table["timestamp"] >= VALIDATION_FROM).to_numpy()[ends]
    after = (table["timestamp"] > TRAIN_LAST).to_numpy()
    return SpanWindows(schema, table, x, mean, std, z, ends, in_span,
                       fit_ends=ends[in_span & ~is_val], val_ends=ends[in_span & is_val],
                       oos_ends=ends[after[ends] & has_label[ends]])


def other_windows(work: Path, w: SpanWindows,
                  labelled: Callable[[pd.DataFrame], np.ndarray]) -> Iterator[tuple]:
    """(name, table, z, labelled ends) of each series never trained on, normalised as `w`."""
    for other in OTHER_SERIES:
        _, t2 = read_export(export(other, work))
        z2 = normalise(t2[FEATURES].to_numpy(np.float64), w.mean, w.std)
        e2 = np.arange(TIMESTEPS - 1, len(t2))
        yield other, t2, z2, e2[labelled(t2)[e2]]


def deterministic_tensorflow() -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.experimental.enable_op_determinism()


def build_lstm(seed: int, classes: int, output_name: str):
    """Keras LSTM(UNITS) -> Dense(classes, softmax) over a window, Adam 1e-3."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((TIMESTEPS, len(FEATURES)), name="window"),
            keras.layers.LSTM(UNITS, name="lstm"),
            keras.layers.Dense(classes, activation="softmax", name=output_name),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def fit(model, w: SpanWindows, y: np.ndarray, epochs: int) -> None:
    """Trains on the fit windows with early stopping on the validation windows; y: class per row."""
    import keras

    model.fit(
        windows(w.z, w.fit_ends),
        y[w.fit_ends].astype(np.int64),
        validation_data=(windows(w.z, w.val_ends), y[w.val_ends].astype(np.int64)),
        epochs=epochs,
        batch_size=256,
        shuffle=True,
        verbose=2,
        callbacks=[keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)],
    )


def export_onnx(model, path: Path) -> None:
    model.predict(np.zeros((1,) + model.input_shape[1:], np.float32), verbose=0)
    model.export(str(path), format="onnx", verbose=False)


def session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run(sess, x: np.ndarray) -> np.ndarray:
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def export_checked(model, path: Path, w: SpanWindows, name: str):
    """Exports the model to ONNX, checks the graph, prints onnxruntime's largest difference from
    Keras on the first 512 out-of-sample windows; returns (graph, session)."""
    import onnx

    export_onnx(model, path)
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    sess = session(path)
    keras_out = model.predict(windows(w.z, w.oos_ends[:512]), verbose=0)
    ort_diff = float(np.abs(run(sess, windows(w.z, w.oos_ends[:512])) - keras_out).max())
    print(f"{name}: onnx {path.stat().st_size} bytes, |onnxruntime - keras| max {ort_diff:.2e}")
    return graph, sess


def normalisation(w: SpanWindows) -> dict:
    return {
        "method": "z = clip((x - mean) / std, -clip, clip) in float64, then float32",
        "mean": w.mean.tolist(),
        "std": w.std.tolist(),
        "clip": CLIP,
        "fitted_on": "training span rows only",
    }


def training(w: SpanWindows, model) -> dict:
    return {
        "series": TRAIN_SERIES,
        "first_bar": TRAIN_FIRST,
        "last_bar": TRAIN_LAST,
        "validation_from": VALIDATION_FROM,
        "windows": int(len(w.fit_ends)),
        "validation_windows": int(len(w.val_ends)),
        "seed": SEED,
        "epochs_run": len(model.history.history["loss"]),
    }


def framework(graph) -> dict:
    import keras
    import onnx
    import onnxruntime as ort
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": ort.__version__,
        "exporter": "keras Model.export(format='onnx')",
        "onnx_ir_version": graph.ir_version,
        "onnx_opset": [o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")][0],
    }


def golden(w: SpanWindows, sess, what: str) -> dict:
    """For the Java parity test: GOLDEN_BLOCK consecutive windows from each of GOLDEN_STARTS, their
    raw rows and onnxruntime's outputs."""
    import onnxruntime as ort

    table = w.table
    ts = table["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()
    blocks = []
    for start in GOLDEN_STARTS:
        first_end = int(np.argmax(table["timestamp"] >= start))
        block_ends = np.arange(first_end, first_end + GOLDEN_BLOCK)
        raw = w.x[first_end - TIMESTEPS + 1 : first_end + GOLDEN_BLOCK]
        blocks.append(
            {
                "first_end_bar_index": int(table["bar_index"][first_end]),
                "first_end_bar": ts[first_end],
                "end_bars": [ts[e] for e in block_ends],
                "raw_rows": raw.tolist(),
                "p": run(sess, windows(w.z, block_ends)).astype(np.float64).tolist(),
            }
        )
    return {
        "what": what,
        "features": FEATURES,
        "timesteps": TIMESTEPS,
        "onnxruntime": ort.__version__,
        "blocks": blocks,
    }


def quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
