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
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=mlflow/locked-venv.sh
. "$here/locked-venv.sh"
venv="${QUIVER_SCHEMATHESIS_VENV:-$here/.schemathesis-venv}"
locked_venv schemathesis-venv.sh "$here/schemathesis-requirements.lock" "$venv" bin/schemathesis "Schemathesis"
version="$("$venv/bin/schemathesis" --version)" || die "$venv/bin/schemathesis does not run"
say "$version"
echo "$venv/bin/schemathesis"
