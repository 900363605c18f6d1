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
import subprocess
import sys
from pathlib import Path

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
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text).strip("_")


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


def quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
