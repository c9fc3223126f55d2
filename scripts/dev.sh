#!/usr/bin/env bash
# Command 1 — try Natter locally: installs what is missing, starts a real Prosody with demo accounts on
# 127.0.0.1, builds the app and serves it on http://127.0.0.1:8080 (rebuilding on change). Ctrl-C stops
# everything this script started (and only that).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/setup.sh
export PATH="$root/node_modules/.bin:$PATH" TRUNK_SKIP_VERSION_CHECK=true

started_prosody=0
if ! scripts/prosody.sh status >/dev/null 2>&1; then
  scripts/prosody.sh start
  started_prosody=1
fi
eval "$(scripts/prosody.sh env)"
trunk_pid=""
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$trunk_pid" ] && kill -0 "$trunk_pid" 2>/dev/null; then
    kill "$trunk_pid" 2>/dev/null || true
    wait "$trunk_pid" 2>/dev/null || true
  fi
  if [ "$started_prosody" = 1 ]; then scripts/prosody.sh stop; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "[dev] building the release bundle and serving it (the first build takes a few minutes)"
trunk serve --release --config Trunk.toml &
trunk_pid=$!

# Wait until the page is served, then tell the newcomer what to do.
until curl -fsS -o /dev/null http://127.0.0.1:8080/ 2>/dev/null; do
  kill -0 "$trunk_pid" 2>/dev/null || { echo "[dev] trunk exited before serving" >&2; exit 1; }
  sleep 1
done
cat <<MSG

  Natter is running:   http://127.0.0.1:8080
  XMPP server:         Prosody on $NATTER_PROSODY_WS (domain: $NATTER_PROSODY_DOMAIN)

  Demo accounts (alice and bob are already contacts):
$(for a in $NATTER_DEMO_ACCOUNTS; do printf '    %-18s password: %s\n' "${a%%:*}@$NATTER_PROSODY_DOMAIN" "${a#*:}"; done)

  Open the URL in two tabs (one private window), log in as alice and bob, and chat.
  The same accounts exist on $NATTER_PROSODY_HASHED_DOMAIN (passwords stored hashed, so a dropped connection
  logs in again by itself; on $NATTER_PROSODY_DOMAIN it asks for the password): log in as
  alice@$NATTER_PROSODY_HASHED_DOMAIN with Advanced → Server URL $NATTER_PROSODY_WS.
  Press Ctrl-C to stop.

MSG
wait "$trunk_pid"
