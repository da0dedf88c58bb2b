#!/usr/bin/env bash
# Build llama-cpp-python (it compiles llama.cpp from the PyPI source) into a wheel ONCE, cache the wheel, and
# install it into the venv. Later runs find the cached wheel and take seconds.
#
#   scripts/build_llama.sh               build if needed, then install into $VENV (default .venv)
#   scripts/build_llama.sh --wheel-only  build the cached wheel only; print its path
#   scripts/build_llama.sh --if-cached   install the cached wheel when there is one; never compile
#
# The wheel is portable across CPUs of one tier, never -march=native: a wheel built on an avx512 machine must not
# SIGILL on an AVX2-only one that shares the cache (CI runners differ). The cache folder is keyed on that tier.
#   x86-64-v3   AVX2 + FMA + F16C + BMI2 (every x86 CPU since 2013/2015; the fast path)
#   x86-64-avx  AVX only          x86-64   SSE only          <arch>-generic   other architectures
# Environment: VENV, QA_CACHE_DIR / XDG_CACHE_HOME (cache root), LLAMA_JOBS (compile jobs, default: cores),
#   LLAMA_CMAKE_ARGS (extra cmake flags; they are part of the cache key).
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_VERSION=0.3.36
DISKCACHE_VERSION=5.6.3  # llama_cpp imports diskcache at import time
VENV=${VENV:-.venv}
PY=${PY:-$VENV/bin/python}
CACHE_ROOT=${QA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/medfin-qa}
JOBS=${LLAMA_JOBS:-$(nproc 2>/dev/null || echo 2)}

log() { printf '[build_llama] %s\n' "$*" >&2; }

wheel_only=0; if_cached=0
case "${1:-}" in
  --wheel-only) wheel_only=1 ;;
  --if-cached) if_cached=1 ;;
  "") ;;
  *) log "unknown option $1 (use --wheel-only or --if-cached)"; exit 2 ;;
esac

cpu_tier() {
  local arch flags
  arch=$(uname -m)
  if [ "$arch" != "x86_64" ]; then echo "$arch-generic"; return; fi
  flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
  has() { [[ "$flags" == *" $1 "* ]]; }
  if has avx2 && has fma && has f16c && has bmi2; then echo "x86-64-v3"
  elif has avx; then echo "x86-64-avx"
  else echo "x86-64"; fi
}

TIER=$(cpu_tier)
# LLAVA_BUILD=OFF: the multimodal library is not needed and would add minutes of compiling
COMMON_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"
case "$TIER" in
  x86-64-v3)  TIER_ARGS="-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF"; TIER_DESC="AVX2/FMA/F16C" ;;
  x86-64-avx) TIER_ARGS="-DGGML_AVX=ON -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF -DGGML_AVX512=OFF"; TIER_DESC="AVX" ;;
  x86-64)     TIER_ARGS="-DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF -DGGML_AVX512=OFF"; TIER_DESC="SSE only" ;;
  *)          TIER_ARGS=""; TIER_DESC="generic $(uname -m)" ;;
esac
CMAKE_ARGS_ALL="$COMMON_ARGS $TIER_ARGS ${LLAMA_CMAKE_ARGS:-}"
KEY=$(printf '%s' "$CMAKE_ARGS_ALL" | sha256sum | cut -c1-8)
WHEEL_DIR="$CACHE_ROOT/wheels/llama-cpp-python-$LLAMA_VERSION-$TIER-$KEY"

find_wheel() { compgen -G "$WHEEL_DIR/llama_cpp_python-$LLAMA_VERSION-*.whl" | head -n1 || true; }

build_wheel() {
  local logf started pct
  mkdir -p "$WHEEL_DIR"
  BUILD_TMP=$(mktemp -d "$WHEEL_DIR/.build.XXXXXX")
  logf="$WHEEL_DIR/build.log"
  log "building llama.cpp (llama-cpp-python $LLAMA_VERSION, CPU tier $TIER: $TIER_DESC) from source with $JOBS jobs;"
  log "  this happens ONCE (about 6 minutes on 2 cores, longer on a busy machine); the wheel is cached in $WHEEL_DIR, later set-ups take seconds"
  log "  full log: $logf"
  started=$(date +%s)
  # low priority: the machine stays usable while it compiles; its own process group, so Ctrl-C stops all of it
  CMAKE_ARGS="$CMAKE_ARGS_ALL" CMAKE_BUILD_PARALLEL_LEVEL="$JOBS" \
    setsid nice -n 10 "$BUILD_PY" -m pip wheel --disable-pip-version-check --no-deps -v \
    "llama-cpp-python==$LLAMA_VERSION" --no-binary llama-cpp-python -w "$BUILD_TMP" >"$logf" 2>&1 &
  BUILD_PID=$!
  trap 'kill -- -"$BUILD_PID" 2>/dev/null || true; rm -rf "$BUILD_TMP"; exit 130' INT TERM
  trap 'kill -- -"$BUILD_PID" 2>/dev/null || true; rm -rf "$BUILD_TMP"' EXIT
  while kill -0 "$BUILD_PID" 2>/dev/null; do
    sleep 30
    kill -0 "$BUILD_PID" 2>/dev/null || break
    pct=$(grep -oE '^ *\[ *[0-9]+(/[0-9]+|%)\]' "$logf" 2>/dev/null | tail -n1 | tr -d '[] ' || true)
    log "  still compiling llama.cpp (once): ${pct:-configuring}, $(( $(date +%s) - started )) s"
  done
  if ! wait "$BUILD_PID"; then
    trap - EXIT INT TERM
    rm -rf "$BUILD_TMP"
    log "error: building llama-cpp-python failed; see $logf (needs cmake >= 3.21 and a C++17 compiler)"
    exit 1
  fi
  trap - EXIT INT TERM
  mv "$BUILD_TMP"/llama_cpp_python-*.whl "$WHEEL_DIR/"
  rm -rf "$BUILD_TMP"
  printf '%s\n' "$CMAKE_ARGS_ALL" > "$WHEEL_DIR/cmake-args.txt"
  log "built $(basename "$(find_wheel)") in $(( $(date +%s) - started )) s"
}

WHEEL=$(find_wheel)
if [ -z "$WHEEL" ] && [ "$if_cached" = 1 ]; then
  "$PY" -c "import llama_cpp" 2>/dev/null || log "llama.cpp is not built (tests of --backend llamacpp skip); build it once with scripts/build_llama.sh"
  exit 0
fi
if [ -z "$WHEEL" ]; then
  mkdir -p "$WHEEL_DIR"
  exec 9>"$WHEEL_DIR/.lock"
  if ! flock -n 9; then
    log "another set-up is building llama.cpp into $WHEEL_DIR; waiting for it"
    flock 9
  fi
  WHEEL=$(find_wheel)  # built by the other set-up while this one waited
  if [ -z "$WHEEL" ]; then
    BUILD_PY=$PY
    [ -x "$BUILD_PY" ] || BUILD_PY=${PYTHON:-python3}
    build_wheel
    WHEEL=$(find_wheel)
  fi
  exec 9>&-
fi
if [ "$wheel_only" = 1 ]; then echo "$WHEEL"; exit 0; fi

if [ ! -x "$PY" ]; then log "error: no venv python at $PY (set VENV=...)"; exit 2; fi
stamp="$VENV/.installed-llama"
want="$(sha256sum "$WHEEL" | cut -d' ' -f1) diskcache==$DISKCACHE_VERSION"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$PY" -c "import llama_cpp" 2>/dev/null; then
  exit 0
fi
log "installing the cached llama.cpp wheel ($TIER) into $VENV"
# --no-deps: numpy, jinja2 and typing-extensions are pinned by requirements.txt already; never touch them
"$PY" -m pip install --disable-pip-version-check -q --no-deps --force-reinstall "$WHEEL" "diskcache==$DISKCACHE_VERSION"
"$PY" -c "import llama_cpp" >/dev/null
echo "$want" > "$stamp"
