#!/usr/bin/env bash
# Checks the README's first command as a newcomer meets it (scripts/test.sh runs this after the release build):
# with the sources unchanged since the last build, scripts/dev.sh serves dist/ without building again (it says
# "not rebuilding"), the page and the wasm (as application/wasm) are served, activity under run/ (where
# Prosody writes its log) starts no build, and Ctrl-C stops what dev.sh started and nothing else.
# Needs the build stamp from scripts/build.sh; uses a free port (NATTER_DEV_PORT) and the Prosody of the
# environment (started by the caller, as scripts/test.sh does, or by dev.sh itself). dev.sh runs the demo on
# Prosody 13 (scripts/prosody13.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "check-dev: $*" >&2; [ -f "${log:-}" ] && sed 's/^/  dev.sh| /' "$log" >&2; exit 1; }
scripts/build.sh >/dev/null   # current dist/ and stamp (quick when they already are)

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
trap 'rm -f "$log"' EXIT
prosody_before=$(scripts/prosody13.sh status >/dev/null 2>&1 && echo up || echo down)
stamp_before=$(cat target/natter-dist.stamp)

NATTER_DEV_PORT=$port setsid scripts/dev.sh >"$log" 2>&1 &
dev=$!
for _ in $(seq 600); do
  grep -q "Natter is running" "$log" && break
  kill -0 "$dev" 2>/dev/null || fail "dev.sh exited before serving"
  sleep 0.5
done
grep -q "Natter is running:   http://127.0.0.1:$port" "$log" || { kill -INT -- -"$dev"; fail "dev.sh did not serve on port $port"; }

problems=()
grep -q "not rebuilding" "$log" || problems+=("it built the app again although the sources did not change")
curl -fsS "http://127.0.0.1:$port/" | grep -q 'natter-app' || problems+=("the page is not served")
wasm=$(cd dist && ls natter-*_bg.wasm)
type=$(curl -fsS -o /dev/null -w '%{content_type}' "http://127.0.0.1:$port/$wasm")
[ "$type" = "application/wasm" ] || problems+=("the wasm is served as '$type'")
# What the Prosody log does all day: files under run/ change. Nothing may rebuild because of it.
run_dir=${NATTER_RUN_DIR:-run}
mkdir -p "$run_dir" && echo "check-dev $(date)" >>"$run_dir/check-dev.touch"
sleep 2
rm -f "$run_dir/check-dev.touch"
[ "$(cat target/natter-dist.stamp)" = "$stamp_before" ] || problems+=("dist/ was rebuilt while serving")
grep -q "trunk build" "$log" && problems+=("a build ran while serving")
pgrep -g "$dev" trunk >/dev/null && problems+=("a trunk runs under dev.sh")

kill -INT -- -"$dev"
wait "$dev" 2>/dev/null || true
curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && problems+=("the web server still runs after Ctrl-C")
prosody_after=$(scripts/prosody13.sh status >/dev/null 2>&1 && echo up || echo down)
if [ "$prosody_before" = up ] && [ "$prosody_after" != up ]; then problems+=("Ctrl-C stopped a Prosody dev.sh had not started"); fi
if [ "$prosody_before" = down ] && [ "$prosody_after" != down ]; then problems+=("Ctrl-C left the Prosody dev.sh started running"); fi

if [ ${#problems[@]} -gt 0 ]; then
  printf 'check-dev: %s\n' "${problems[@]}" >&2
  sed 's/^/  dev.sh| /' "$log" >&2
  exit 1
fi
echo "check-dev: dev.sh served the existing build on port $port without rebuilding, and Ctrl-C stopped only what it started"
