#!/usr/bin/env bash
# Command 2 — every test: installs what is missing, starts real Prosody and ejabberd on 127.0.0.1, then runs
# native tests (unit + integration against both servers), browser tests in headless Chromium, the release
# build with its size budget, and the end-to-end suite. Stops what it started; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/setup.sh
export PATH="$root/node_modules/.bin:$PATH" TRUNK_SKIP_VERSION_CHECK=true CHROMEDRIVER=/usr/bin/chromedriver
# wasm-bindgen-test-runner gives a whole browser test binary 20 s by default; web_ui needs ~25 s on a busy 2-CPU box.
export WASM_BINDGEN_TEST_TIMEOUT=180

started=()
cleanup() {
  for s in "${started[@]}"; do scripts/"$s".sh stop || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for s in prosody ejabberd; do
  if ! scripts/"$s".sh status >/dev/null 2>&1; then
    scripts/"$s".sh start
    started+=("$s")
  fi
  eval "$(scripts/"$s".sh env)"
done

failed=()
step() {
  local name=$1; shift
  printf '\n\033[1;34m==> %s\033[0m\n' "$name"
  if "$@"; then echo "[test] $name: ok"; else echo "[test] $name: FAILED"; failed+=("$name"); fi
}

step "native tests (unit, scripted server, real Prosody + ejabberd)" cargo test --locked
step "browser tests (headless Chromium)" cargo test --locked --target wasm32-unknown-unknown --test web_transport --test web_ui --test web_storage
step "release build" trunk build --release
[ -x scripts/bundle-size.sh ] && step "bundle size budget" scripts/bundle-size.sh --check
[ -f e2e/run.mjs ] && step "end-to-end (Playwright, Chromium, release build, Prosody)" node e2e/run.mjs

echo
if [ ${#failed[@]} -gt 0 ]; then
  printf '[test] failed steps: %s\n' "${failed[*]}"
  exit 1
fi
echo "[test] all steps passed"
