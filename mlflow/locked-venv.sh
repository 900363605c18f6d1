#!/usr/bin/env bash
# Shared by schemathesis-venv.sh and catboost-venv.sh (sourced, not run): creates or reuses a venv
# holding the exact pins of one lock file. A venv whose stamp (.lock.sha256) matches the lock is
# left as it is. Fails (exit != 0) with a reason if python3 or its venv module is missing: never a
# silent skip.
#
#   locked_venv NAME LOCK VENV PROBE WHAT
#     NAME   the calling script's name, for messages
#     LOCK   the requirements lock (resolved on Python 3.11)
#     VENV   the venv folder
#     PROBE  the file inside VENV that must exist for the venv to count as installed
#     WHAT   what needs the venv, for the error when python3 is missing
# Environment: PYTHON (default python3).
# say and die stay defined for the caller's own checks after locked_venv returns.
say() { echo "${locked_venv_name:-locked-venv.sh}: $*" >&2; }
die() { echo "${locked_venv_name:-locked-venv.sh}: error: $*" >&2; exit 1; }
locked_venv() {
    locked_venv_name="$1"
    local lock="$2" venv="$3" probe="$4" what="$5"
    local python="${PYTHON:-python3}"
    command -v "$python" >/dev/null 2>&1 \
        || die "'$python' not found: $what needs Python 3 (3.11 was used for the lock); install python3 and python3-venv"
    "$python" -c 'import venv, ensurepip' 2>/dev/null \
        || die "'$python' has no venv/ensurepip module: install python3-venv (Debian: apt-get install python3-venv)"
    if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
        say "warning: $("$python" --version 2>&1) found; $(basename "$lock") was resolved on Python 3.11"
    fi
    local want stamp started
    want="$(sha256sum "$lock" | cut -d' ' -f1)"
    stamp="$venv/.lock.sha256"
    if [ -x "$venv/$probe" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        say "venv $venv matches $(basename "$lock")"
        return
    fi
    if [ ! -x "$venv/bin/python" ]; then
        say "creating venv $venv with $("$python" --version 2>&1)"
        "$python" -m venv "$venv" || die "could not create the venv $venv"
    fi
    say "installing $(basename "$lock") into $venv"
    started=$SECONDS
    "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -r "$lock" >&2 \
        || die "pip install -r $lock failed (see above)"
    "$venv/bin/python" -m pip check >&2 || die "pip check failed in $venv"
    echo "$want" > "$stamp"
    say "venv ready in $((SECONDS - started)) s"
}
