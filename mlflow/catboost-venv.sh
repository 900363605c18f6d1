#!/usr/bin/env bash
# The pinned CatBoost training venv (catboost-requirements.lock: catboost==1.2.7, numpy, pandas and
# their dependencies; no TensorFlow), installed by the build before the integration tests, the way
# server.sh installs the MLflow server's: ServeTrainJobsIT runs a train-source job that starts
# mlflow/train/catboost_model.py with this Python as a child process.
#
#   mlflow/catboost-venv.sh     # prints the path of the venv's python on stdout
#
# Creates (or reuses) the venv and installs the exact pins (~20 packages, ~800 MB; about a minute
# the first time, most of it the download). A venv whose installed pins already match the lock is
# left as it is. mlflow/venv.sh's full training venv (TensorFlow too) also runs the script.
# Environment: PYTHON (default python3), QUIVER_CATBOOST_VENV (default mlflow/.catboost-venv:
# point it at an existing venv to reuse it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=mlflow/locked-venv.sh
. "$here/locked-venv.sh"
venv="${QUIVER_CATBOOST_VENV:-$here/.catboost-venv}"
locked_venv catboost-venv.sh "$here/catboost-requirements.lock" "$venv" bin/python "CatBoost training"
version="$("$venv/bin/python" -c 'import catboost; print("catboost", catboost.__version__)')" \
    || die "$venv/bin/python cannot import catboost"
say "$version"
echo "$venv/bin/python"
