#!/usr/bin/env bash
# Command 2 — every test: installs what is missing, starts real Prosody and ejabberd on 127.0.0.1 (each in its
# stable and its modern generation: Prosody 0.12 and 13, ejabberd 23.01 and 24.12), then runs native tests
# (unit + integration against the four servers), browser tests in headless Chromium (wasm-pack test, every
# tests/web_*.rs), the release build with its size budget, the first command's check, and the end-to-end
# suite. Stops what it started; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/setup.sh
export PATH="$root/node_modules/.bin:$PATH" TRUNK_SKIP_VERSION_CHECK=true CHROMEDRIVER=/usr/bin/chromedriver
# wasm-bindgen-test-runner gives a whole browser test binary 20 s by default; web_ui needs ~25 s on a busy 2-CPU box.
export WASM_BINDGEN_TEST_TIMEOUT=180
# The runner serves its page cross-origin isolated by default; the app is not, and tests/web_transport.rs
# needs the plain cross-origin request the app makes to explain a failed WebSocket handshake.
export WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION=1

# The four servers (stable and modern Prosody and ejabberd), each started only when it is not running already,
# all at once (ejabberd takes the longest, ~2 s); stopped at the end only when started here.
SERVERS=(prosody prosody13 ejabberd ejabberd24)
started=()
cleanup() {
  for s in "${started[@]}"; do scripts/"$s".sh stop & done
  wait
}
trap cleanup EXIT
trap 'exit 130' INT TERM
t0=$(date +%s%N)
logs="$(mktemp -d)"
pids=()
for s in "${SERVERS[@]}"; do
  if ! scripts/"$s".sh status >/dev/null 2>&1; then
    started+=("$s")
    scripts/"$s".sh start >"$logs/$s" 2>&1 &
    pids+=($!)
  fi
done
start_failed=()
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || start_failed+=("${started[$i]}")
  cat "$logs/${started[$i]}"
done
rm -rf "$logs"
[ ${#start_failed[@]} -eq 0 ] || { echo "[test] could not start: ${start_failed[*]}" >&2; exit 1; }
echo "[test] servers up in $(( ($(date +%s%N) - t0) / 1000000 )) ms (started here: ${started[*]:-none})"
for s in "${SERVERS[@]}"; do eval "$(scripts/"$s".sh env)"; done

failed=()
step() {
  local name=$1; shift
  printf '\n\033[1;34m==> %s\033[0m\n' "$name"
  if "$@"; then echo "[test] $name: ok"; else echo "[test] $name: FAILED"; failed+=("$name"); fi
}

web_tests=()
for f in tests/web_*.rs; do web_tests+=(--test "$(basename "$f" .rs)"); done

step "native tests (unit, scripted server, real Prosody 0.12/13 + ejabberd 23.01/24.12)" cargo test --locked
step "browser tests (wasm-pack test, headless Chromium: ${web_tests[*]})" \
  wasm-pack test --headless --chrome --chromedriver "$CHROMEDRIVER" --mode no-install -- --locked --no-fail-fast "${web_tests[@]}"
step "release build (skipped when dist/ is the build of these sources)" scripts/build.sh
step "bundle size budget" scripts/bundle-size.sh --no-build --check
step "the first command (scripts/dev.sh serves the build without rebuilding)" scripts/check-dev.sh
step "end-to-end (Playwright, Chromium, release build, Prosody)" node e2e/run.mjs

echo
if [ ${#failed[@]} -gt 0 ]; then
  printf '[test] failed steps: %s\n' "${failed[*]}"
  exit 1
fi
echo "[test] all steps passed"
