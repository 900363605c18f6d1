#!/usr/bin/env bash
# The pinned Schemathesis (the OpenAPI fuzzer ApiContractIT runs against `quiver serve`) in its
# own venv, installed by the build before the integration tests, the way server.sh installs the
# MLflow server's.
#
#   mlflow/schemathesis-venv.sh     # prints the path of the schemathesis executable on stdout
#
# Creates (or reuses) the venv and installs the exact pins of schemathesis-requirements.lock
# (schemathesis==4.32.0 and its dependencies, ~30 packages, ~40 MB; a few seconds). A venv whose
# installed pins already match the lock is left as it is.
# Environment: PYTHON (default python3), QUIVER_SCHEMATHESIS_VENV (default
# mlflow/.schemathesis-venv: point it at an existing venv to reuse it).
# Fails (exit != 0) with a reason if python3 or its venv module is missing: never a silent skip.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock="$here/schemathesis-requirements.lock"
venv="${QUIVER_SCHEMATHESIS_VENV:-$here/.schemathesis-venv}"
python="${PYTHON:-python3}"

say() { echo "schemathesis-venv.sh: $*" >&2; }
die() { echo "schemathesis-venv.sh: error: $*" >&2; exit 1; }

command -v "$python" >/dev/null 2>&1 \
    || die "'$python' not found: Schemathesis needs Python 3 (3.11 was used for the lock); install python3 and python3-venv"
"$python" -c 'import venv, ensurepip' 2>/dev/null \
    || die "'$python' has no venv/ensurepip module: install python3-venv (Debian: apt-get install python3-venv)"
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
    say "warning: $("$python" --version 2>&1) found; schemathesis-requirements.lock was resolved on Python 3.11"
fi
want="$(sha256sum "$lock" | cut -d' ' -f1)"
stamp="$venv/.lock.sha256"
if [ -x "$venv/bin/schemathesis" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "venv $venv matches schemathesis-requirements.lock"
else
    if [ ! -x "$venv/bin/python" ]; then
        say "creating venv $venv with $("$python" --version 2>&1)"
        "$python" -m venv "$venv" || die "could not create the venv $venv"
    fi
    say "installing schemathesis-requirements.lock into $venv"
    started=$SECONDS
    "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -r "$lock" >&2 \
        || die "pip install -r $lock failed (see above)"
    "$venv/bin/python" -m pip check >&2 || die "pip check failed in $venv"
    echo "$want" > "$stamp"
    say "venv ready in $((SECONDS - started)) s"
fi
version="$("$venv/bin/schemathesis" --version)" || die "$venv/bin/schemathesis does not run"
say "$version"
echo "$venv/bin/schemathesis"
