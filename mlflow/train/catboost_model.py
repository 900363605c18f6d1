"""Trains the CatBoost direction classifier that plugins/prediction-catboost serves.

    mlflow/venv.sh && ./mvnw -B -q install -DskipTests && mlflow/.venv/bin/python mlflow/train/catboost_model.py

Same Java feature export and the same training span as lstm.py (BTC-USD 4h 2016-05-28..2018-12-31,
early stopping on its last six months), the same scale-free features of the decision bar (no
normalisation: trees are invariant to it). catboost==1.2.7 writes the .cbm that Java
catboost-prediction 1.2.7 reads; the golden rows prove it.
"""
from __future__ import annotations

import argparse
import platform
import tempfile
from pathlib import Path

import catboost
import numpy as np
import pandas as pd

import common

PLUGIN = common.REPO / "plugins" / "prediction-catboost" / "src"
MODEL_DIR = PLUGIN / "main" / "resources" / "dev" / "quiver" / "plugins" / "catboost" / "model"
TEST_DIR = PLUGIN / "test" / "resources" / "dev" / "quiver" / "plugins" / "catboost"
GOLDEN_ROWS = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "quiver-train")
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR,
                        help="where the model and sidecar go (default: the plugin's bundled model;"
                             " elsewhere, e.g. for a version to register, the plugin's golden test"
                             " files are left alone)")
    parser.add_argument("--iterations", type=int, default=400,
                        help="the most trees CatBoost grows (default 400; early stopping usually"
                             " ends it sooner). Fewer make a quick, weaker model, e.g. for a test")
    common.add_registry_args(parser)
    args = parser.parse_args()
    if args.iterations < 1:
        parser.error(f"--iterations must be >= 1, was {args.iterations}")
    model_dir = args.model_dir
    bundled = model_dir.resolve() == MODEL_DIR.resolve()

    schema, table = common.read_export(common.export(common.TRAIN_SERIES, args.work))
    x = table[common.FEATURES].to_numpy(np.float64)
    up = table["up"].to_numpy()
    labelled = ~np.isnan(up)
    in_span = common.span_mask(table, common.TRAIN_FIRST, common.TRAIN_LAST) & labelled
    is_val = (table["timestamp"] >= common.VALIDATION_FROM).to_numpy()
    fit = in_span & ~is_val
    val = in_span & is_val
    oos = (table["timestamp"] > common.TRAIN_LAST).to_numpy() & labelled
    print(f"catboost: {fit.sum()} training rows, {val.sum()} validation rows, {oos.sum()} out-of-sample rows")

    model = catboost.CatBoostClassifier(
        iterations=args.iterations,
        depth=4,
        learning_rate=0.03,
        l2_leaf_reg=10,
        loss_function="Logloss",
        random_seed=common.SEED,
        thread_count=1,
        od_type="Iter",
        od_wait=50,
        use_best_model=True,
        allow_writing_files=False,
        verbose=max(1, min(100, args.iterations // 4)),
    )
    def frame(rows: np.ndarray) -> pd.DataFrame:  # feature names travel inside the .cbm
        return pd.DataFrame(rows, columns=common.FEATURES)

    model.fit(frame(x[fit]), up[fit].astype(int), eval_set=(frame(x[val]), up[val].astype(int)))
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / "catboost.cbm"
    model.save_model(str(path), format="cbm")
    loaded = catboost.CatBoostClassifier()
    loaded.load_model(str(path), format="cbm")

    def p_up(rows: np.ndarray) -> np.ndarray:
        return loaded.predict_proba(frame(rows))[:, 1]

    evaluation = {
        "btc-usd-4h training span": common.metrics(p_up(x[fit]), up[fit]),
        "btc-usd-4h validation (early stopping)": common.metrics(p_up(x[val]), up[val]),
        "btc-usd-4h out-of-sample 2019-01-01..": common.metrics(p_up(x[oos]), up[oos]),
    }
    for other in ["sp500-daily", "nasdaq-daily"]:
        _, t2 = common.read_export(common.export(other, args.work))
        y2 = t2["up"].to_numpy()
        keep = ~np.isnan(y2)
        evaluation[f"{other} (never trained on)"] = common.metrics(
            p_up(t2[common.FEATURES].to_numpy(np.float64)[keep]), y2[keep]
        )
    for k, v in evaluation.items():
        print(f"catboost: {k}: log-loss {v['log_loss']:.4f} (base rate {v['log_loss_base_rate']:.4f}), "
              f"hit {v['hit_rate']:.4f}, n {v['n']}")

    common.write_json(
        model_dir / "catboost.json",
        {
            "format": "quiver-catboost-sidecar/1",
            "model_file": path.name,
            "model_sha256": common.sha256(path),
            "schema": schema,
            "features": common.FEATURES,
            "output": {"layout": "probability of up = sigmoid(raw formula value)", "classes": ["down", "up"]},
            "horizon_bars": 1,
            "trees": int(loaded.tree_count_),
            "training": {
                "series": common.TRAIN_SERIES,
                "first_bar": common.TRAIN_FIRST,
                "last_bar": common.TRAIN_LAST,
                "validation_from": common.VALIDATION_FROM,
                "rows": int(fit.sum()),
                "validation_rows": int(val.sum()),
                "seed": common.SEED,
                "params": {k: v for k, v in model.get_params().items() if k != "verbose"},
            },
            "framework": {"python": platform.python_version(), "catboost": catboost.__version__},
            "command": "mlflow/venv.sh && ./mvnw -B -q install -DskipTests && mlflow/.venv/bin/python mlflow/train/catboost_model.py",
            "evaluation": evaluation,
        },
    )

    common.register(
        args, path, model_dir / "catboost.json", "prediction-catboost", "catboost",
        {**{k: v for k, v in model.get_params().items() if k != "verbose"},
         "trees": int(loaded.tree_count_), "seed": common.SEED, "series": common.TRAIN_SERIES,
         "first_bar": common.TRAIN_FIRST, "last_bar": common.TRAIN_LAST},
        evaluation,
    )
    if not bundled:
        print(f"catboost: wrote {model_dir} (the plugin's golden test files left as they are)")
        return

    rows = np.flatnonzero(oos)[np.linspace(0, oos.sum() - 1, GOLDEN_ROWS).astype(int)]
    ts = table["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()
    common.write_json(
        TEST_DIR / "catboost-golden.json",
        {
            "what": "feature rows (float64, order of 'features') of out-of-sample bars and Python catboost's"
            " predict_proba[:, 1] and raw formula value for them",
            "features": common.FEATURES,
            "catboost": catboost.__version__,
            "rows": [
                {
                    "bar_index": int(table["bar_index"][r]),
                    "bar": ts[r],
                    "x": x[r].tolist(),
                    "p_up": float(p_up(x[r : r + 1])[0]),
                    "raw": float(loaded.predict(frame(x[r : r + 1]), prediction_type="RawFormulaVal")[0]),
                }
                for r in rows
            ],
        },
    )
    print(f"catboost: {path} {path.stat().st_size} bytes, {loaded.tree_count_} trees; wrote {TEST_DIR}")


if __name__ == "__main__":
    main()
