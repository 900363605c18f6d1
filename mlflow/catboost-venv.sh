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
# Fails (exit != 0) with a reason if python3 or its venv module is missing: never a silent skip.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock="$here/catboost-requirements.lock"
venv="${QUIVER_CATBOOST_VENV:-$here/.catboost-venv}"
python="${PYTHON:-python3}"

say() { echo "catboost-venv.sh: $*" >&2; }
die() { echo "catboost-venv.sh: error: $*" >&2; exit 1; }

command -v "$python" >/dev/null 2>&1 \
    || die "'$python' not found: CatBoost training needs Python 3 (3.11 was used for the lock); install python3 and python3-venv"
"$python" -c 'import venv, ensurepip' 2>/dev/null \
    || die "'$python' has no venv/ensurepip module: install python3-venv (Debian: apt-get install python3-venv)"
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
    say "warning: $("$python" --version 2>&1) found; catboost-requirements.lock was resolved on Python 3.11"
fi
want="$(sha256sum "$lock" | cut -d' ' -f1)"
stamp="$venv/.lock.sha256"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "venv $venv matches catboost-requirements.lock"
else
    if [ ! -x "$venv/bin/python" ]; then
        say "creating venv $venv with $("$python" --version 2>&1)"
        "$python" -m venv "$venv" || die "could not create the venv $venv"
    fi
    say "installing catboost-requirements.lock into $venv"
    started=$SECONDS
    "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -r "$lock" >&2 \
        || die "pip install -r $lock failed (see above)"
    "$venv/bin/python" -m pip check >&2 || die "pip check failed in $venv"
    echo "$want" > "$stamp"
    say "venv ready in $((SECONDS - started)) s"
fi
version="$("$venv/bin/python" -c 'import catboost; print("catboost", catboost.__version__)')" \
    || die "$venv/bin/python cannot import catboost"
say "$version"
echo "$venv/bin/python"
