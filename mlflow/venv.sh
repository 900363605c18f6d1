#!/usr/bin/env bash
# Creates mlflow/.venv with this machine's python3 and installs the exact pins of requirements.lock.
# Idempotent: a venv whose installed pins already match the lock is left as it is.
# Only retraining needs it; the Java build and CI never do (the model artifacts are committed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
lock="$here/requirements.lock"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
    echo "venv.sh: warning: $("$python" --version 2>&1) found; the lock was resolved on Python 3.11" >&2
fi
if [ ! -x "$venv/bin/python" ]; then
    echo "venv.sh: creating $venv with $("$python" --version 2>&1)"
    "$python" -m venv "$venv"
else
    echo "venv.sh: $venv exists"
fi
stamp="$venv/.lock.sha256"
want="$(sha256sum "$lock" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "venv.sh: packages already match requirements.lock ($want); nothing to do"
    exit 0
fi
echo "venv.sh: installing requirements.lock (tensorflow-cpu is ~250 MB; takes a few minutes)"
"$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -r "$lock"
"$venv/bin/python" -m pip check
echo "$want" > "$stamp"
echo "venv.sh: ready: $venv/bin/python"
