#!/usr/bin/env bash
# Command 1 — try Natter locally: installs what is missing, starts a real Prosody 13 (today's generation,
# from Debian 12's backports: SASL2, Bind2 and FAST, so "Stay logged in" works) with demo accounts on
# 127.0.0.1, builds the app (only when the sources changed since the last build: scripts/build.sh) and serves
# the finished build on http://127.0.0.1:8080 until Ctrl-C. Nothing watches files or rebuilds while it runs:
# after changing the code, press Ctrl-C and run it again. Ctrl-C stops everything this script started (and
# only that). The port: NATTER_DEV_PORT (default 8080); Prosody's: see scripts/servers/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${NATTER_DEV_PORT:-8080}

scripts/setup.sh
# The demo runs on the modern Prosody (scripts/prosody13.sh); its environment is printed under the usual
# NATTER_PROSODY_* names, which the rest of this script and scripts/serve.mjs (config.json) read.
export NATTER_SERVER_GEN=modern

started_prosody=0
server_pid=""
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$started_prosody" = 1 ]; then scripts/prosody.sh stop; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! scripts/prosody.sh status >/dev/null 2>&1; then
  scripts/prosody.sh start
  started_prosody=1
fi
eval "$(NATTER_ENV_PREFIX=NATTER_PROSODY scripts/prosody.sh env)"

scripts/build.sh   # the first build takes a few minutes; later ones only when the sources changed

node scripts/serve.mjs dist "$port" &
server_pid=$!
# Wait until the page is served, then tell the newcomer what to do.
until curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; do
  kill -0 "$server_pid" 2>/dev/null || { echo "[dev] the web server exited (is port $port taken? set NATTER_DEV_PORT)" >&2; exit 1; }
  sleep 0.2
done
cat <<MSG

  Natter is running:   http://127.0.0.1:$port
  XMPP server:         Prosody 13 on $NATTER_PROSODY_WS (domain: $NATTER_PROSODY_DOMAIN)

  Demo accounts (alice and bob are already contacts):
$(for a in $NATTER_DEMO_ACCOUNTS; do printf '    %-18s password: %s\n' "${a%%:*}@$NATTER_PROSODY_DOMAIN" "${a#*:}"; done)

  Open the URL in two tabs (one private window), log in as alice and bob, and chat.
  Group chat: all three are in the room lobby@conference.$NATTER_PROSODY_DOMAIN (bookmarked, joined at login).
  A dropped connection logs in again by itself (the server gives each login a FAST token); tick
  "Stay logged in on this device" to come back after a reload without the password.
  The same accounts exist on $NATTER_PROSODY_HASHED_DOMAIN (passwords stored hashed): log in as
  alice@$NATTER_PROSODY_HASHED_DOMAIN with Advanced → Server URL $NATTER_PROSODY_WS.
  Changed the code? Ctrl-C and run scripts/dev.sh again (it rebuilds only then). Press Ctrl-C to stop.

MSG
wait "$server_pid"
