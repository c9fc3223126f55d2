#!/usr/bin/env bash
# Runs a private Prosody for Natter's development, demo and tests, in one of two generations:
#   stable (default)          Prosody 0.12 from Debian 12 (apt)                 ports 5280 / 5222, env NATTER_PROSODY_*
#   NATTER_SERVER_GEN=modern  Prosody 13 + prosody-modules from bookworm-backports, unpacked into .servers/prosody13
#                             by scripts/setup.sh; SASL2, Bind2, FAST, inline SM   ports 5380 / 5322, env NATTER_PROSODY13_*
# (scripts/prosody13.sh is this script with NATTER_SERVER_GEN=modern.) Both generations can run at once.
#
#   scripts/prosody.sh start            start (idempotent), wait until it answers, create the demo accounts
#   scripts/prosody.sh stop             stop the instance this script started (by its PID) and wait for it
#   scripts/prosody.sh restart          stop + start (fresh data)
#   scripts/prosody.sh reboot           stop + start keeping the data (a server restart as clients see it)
#   scripts/prosody.sh status           say whether it runs (exit 0) or not (exit 3)
#   scripts/prosody.sh env              print `export` lines: eval "$(scripts/prosody.sh env)"
#   scripts/prosody.sh adduser U P [H]  register U@H (localhost, or hashed.localhost: salted+hashed storage)
#
# Domain `localhost` (and a second host `hashed.localhost` that keeps passwords salted and hashed, with the
# same demo accounts and rosters; modern only: a third, `shortfast.localhost`, whose FAST tokens rotate after
# 2 s and expire after 10 s); everything on 127.0.0.1 only: WebSocket ws://127.0.0.1:5280/xmpp-websocket, HTTP
# http://127.0.0.1:5280 (XEP-0156 /.well-known/host-meta and host-meta.json, HTTP upload), plain-TCP c2s on
# 127.0.0.1:5222 (modern: 5380 / 5322). Components conference.localhost (MUC + MAM) and upload.localhost (XEP-0363).
# Ports can be moved with NATTER_PROSODY_HTTP_PORT / NATTER_PROSODY_C2S_PORT (modern: NATTER_PROSODY13_HTTP_PORT /
# NATTER_PROSODY13_C2S_PORT); set them for `env` too.
#
# Demo accounts: alice / alice-demo-pw, bob / bob-demo-pw, carol / carol-demo-pw; alice and bob are in
# each other's roster with subscription "both" (names "Bob" / "Alice"); carol has an empty roster. All three are
# members of the persistent room lobby@conference.localhost and have it bookmarked (XEP-0402, autojoin).
#
# STATE: `start` on a stopped server WIPES the data dir and begins from the known state above (accounts,
# rosters, the lobby room and bookmarks; no messages or archives). Tests rely on that. `start` on a running
# server changes nothing.
#
# Files live in ${NATTER_RUN_DIR:-<repo>/run}/prosody (modern: …/prosody13, files named prosody13.*): config,
# data/, prosody.log, prosody.stdout, prosody.pid; /tmp/natter-run-<hash> is used instead when that path is too long for unix sockets.
set -euo pipefail

GEN="${NATTER_SERVER_GEN:-stable}"
case "$GEN" in
  stable) NAME=prosody; PREFIX=NATTER_PROSODY; DEFAULT_HTTP_PORT=5280; DEFAULT_C2S_PORT=5222 ;;
  modern) NAME=prosody13; PREFIX=NATTER_PROSODY13; DEFAULT_HTTP_PORT=5380; DEFAULT_C2S_PORT=5322 ;;
  *) echo "NATTER_SERVER_GEN must be stable or modern, not '$GEN'" >&2; exit 2 ;;
esac
STOP_GRACE=10
SHORT_FAST_DOMAIN=shortfast.localhost   # modern only: short-lived FAST tokens (below)
FAST_ROTATE_S=2
FAST_EXPIRE_S=10
# shellcheck source-path=SCRIPTDIR source=servers/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/servers/common.sh"

if [ "$GEN" = modern ]; then
  # Prosody 13 as unpacked by scripts/servers/install-modern.sh; its launchers point at that tree.
  P13="$NATTER_REPO/.servers/prosody13/root/usr/bin"
  PROSODY=(lua5.4 "$P13/prosody")
  PROSODYCTL=(lua5.4 "$P13/prosodyctl")
  # SASL2 (XEP-0388), Bind2 (XEP-0386), FAST (XEP-0484), SM inline in SASL2 — from prosody-modules. Never on
  # 0.12: mod_sasl2_fast there breaks every connection.
  MODERN_MODULES='"sasl2"; "sasl2_bind2"; "sasl2_sm"; "sasl2_fast";'
  # A host whose FAST tokens rotate after 2 s and expire after 10 s, for tests of rotation and expiry.
  MODERN_HOSTS="-- FAST tokens that rotate when older than $FAST_ROTATE_S s and expire after $FAST_EXPIRE_S s (tests)
VirtualHost \"$SHORT_FAST_DOMAIN\"
	sasl2_fast_token_min_ttl = $FAST_ROTATE_S
	sasl2_fast_token_ttl = $FAST_EXPIRE_S"
else
  PROSODY=(prosody)
  PROSODYCTL=(prosodyctl)
  MODERN_MODULES=''
  MODERN_HOSTS=''
fi

DOMAIN=localhost
HASHED_DOMAIN=hashed.localhost   # second host, salted+hashed passwords (see prosody.cfg.lua.in)
port_var="${PREFIX}_HTTP_PORT"; HTTP_PORT="${!port_var:-$DEFAULT_HTTP_PORT}"
port_var="${PREFIX}_C2S_PORT"; C2S_PORT="${!port_var:-$DEFAULT_C2S_PORT}"
HTTP_URL="http://127.0.0.1:$HTTP_PORT"
WS_URL="ws://127.0.0.1:$HTTP_PORT/xmpp-websocket"
CONFIG="$RUN_DIR/prosody.cfg.lua"
PID_MARKER="$CONFIG"   # in the server's command line (see live_pid)
START_TIMEOUT_S=20

prosodyctl_() { "${PROSODYCTL[@]}" --config "$CONFIG" "$@"; }

ready() {
  [ "$(http_code "$HTTP_URL/.well-known/host-meta.json")" = 200 ] && port_open "$C2S_PORT"
}

write_config() {
  mkdir -p "$RUN_DIR" "$RUN_DIR/certs"   # empty certs dir: no TLS, and no "cannot open certs" error
  render "$NATTER_SERVERS_DIR/prosody.cfg.lua.in" "$CONFIG" \
    "DATA_DIR=$DATA_DIR" "LOG_FILE=$LOG_FILE" "PLUGIN_DIR=$NATTER_SERVERS_DIR/prosody-modules" \
    "LOG_LEVEL=${NATTER_PROSODY_LOG_LEVEL:-info}" \
    "HTTP_PORT=$HTTP_PORT" "C2S_PORT=$C2S_PORT" "HTTP_URL=$HTTP_URL" "WS_URL=$WS_URL" \
    "HASHED_DOMAIN=$HASHED_DOMAIN" "GENERATION=$GEN" "MODERN_MODULES=$MODERN_MODULES" \
    "MODERN_HOSTS=$MODERN_HOSTS"
}

register() { # USER PASS [HOST]
  local out host="${3:-$DOMAIN}"
  if ! out="$(prosodyctl_ register "$1" "$host" "$2" 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "could not register $1@$host"
  fi
}

cmd_start() {
  local pid t0
  lock_run_dir
  pid="$(live_pid)"
  if [ -n "$pid" ]; then
    # Ours is alive: it may still be coming up (a concurrent start), so give it the usual time.
    if ready || wait_until "$START_TIMEOUT_S" "$pid" ready; then
      say "already running (pid $pid)"
      return 0
    fi
    say "pid $pid is alive but does not answer; restarting it"
    stop_pid "$pid" 10
  fi
  rm -f "$PID_FILE"
  require_free_ports "$HTTP_PORT" "$C2S_PORT"

  t0="$(now_ms)"
  [ "$GEN" = stable ] || [ -f "${PROSODY[1]}" ] || die "Prosody 13 is not unpacked: run scripts/setup.sh"
  local keep=0
  [ "${KEEP_DATA:-0}" = 1 ] && [ -d "$DATA_DIR" ] && keep=1
  if [ "$keep" = 0 ]; then
    # Fresh state: wipe the data dir, seed the rosters (alice<->bob), then start.
    case "$RUN_DIR" in */prosody|*/prosody13) ;; *) die "refusing to wipe unexpected run dir $RUN_DIR" ;; esac
    rm -rf "${DATA_DIR:?}"
    mkdir -p "$DATA_DIR"
    cp -R "$NATTER_SERVERS_DIR/prosody-seed/." "$DATA_DIR/"
  fi
  write_config
  : >"$LOG_FILE"
  : >"$OUT_FILE"

  cd "$RUN_DIR"
  # setsid: own session, so the caller's Ctrl-C or terminal does not reach it; $! is the server itself.
  # 9>&-: the server must not inherit (and hold) the start/stop lock.
  setsid "${PROSODY[@]}" -F --config "$CONFIG" >>"$OUT_FILE" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"

  if ! wait_until "$START_TIMEOUT_S" "$pid" ready; then
    show_log_tail
    kill -0 "$pid" 2>/dev/null && stop_pid "$pid" 5
    rm -f "$PID_FILE"
    die "prosody did not come up (see $LOG_FILE)"
  fi
  local t_ready; t_ready="$(now_ms)"
  if [ "$keep" = 1 ]; then
    say "running again (pid $pid) with the data it had: $WS_URL; ready in $((t_ready - t0)) ms"
    return 0
  fi

  local u
  # One prosodyctl per account, all at once (each is a Lua start-up of its own; one file per account).
  local regs=() r
  for u in "${NATTER_DEMO_USERS[@]}"; do
    register "$u" "${NATTER_DEMO_PASSWORDS[$u]}" 9>&- & regs+=($!)
    register "$u" "${NATTER_DEMO_PASSWORDS[$u]}" "$HASHED_DOMAIN" 9>&- & regs+=($!)
    if [ "$GEN" = modern ]; then register "$u" "${NATTER_DEMO_PASSWORDS[$u]}" "$SHORT_FAST_DOMAIN" 9>&- & regs+=($!); fi
  done
  for r in "${regs[@]}"; do wait "$r" || { stop_pid "$pid" 5; rm -f "$PID_FILE"; die "demo accounts not created"; }; done
  local t_accounts; t_accounts="$(now_ms)"
  seed_demo_room "$pid"

  say "running (pid $pid): $WS_URL, c2s 127.0.0.1:$C2S_PORT, domain $DOMAIN;" \
      "ready in $((t_ready - t0)) ms, accounts in $((t_accounts - t_ready)) ms, room in $(( $(now_ms) - t_accounts )) ms"
  say "accounts: $(demo_accounts_string) (alice<->bob subscribed)"
}

cmd_env() {
  # NATTER_ENV_PREFIX renames the variables, e.g. NATTER_ENV_PREFIX=NATTER_PROSODY for the modern generation lets
  # what reads NATTER_PROSODY_* (dev.sh, e2e) use Prosody 13; export NATTER_SERVER_GEN=modern too, so that
  # `adduser` reaches the same server.
  local out="${NATTER_ENV_PREFIX:-$PREFIX}"
  printf 'export %s_WS=%q\n' "$out" "$WS_URL"
  printf 'export %s_DOMAIN=%q\n' "$out" "$DOMAIN"
  printf 'export %s_HASHED_DOMAIN=%q\n' "$out" "$HASHED_DOMAIN"
  if [ "$GEN" = modern ]; then printf 'export %s_SHORT_FAST_DOMAIN=%q\n' "$out" "$SHORT_FAST_DOMAIN"; fi
  printf 'export %s_TCP=%q\n' "$out" "127.0.0.1:$C2S_PORT"
  printf 'export %s_HTTP=%q\n' "$out" "$HTTP_URL"
  printf 'export %s_HOST_META=%q\n' "$out" "$HTTP_URL/.well-known/host-meta"
  printf 'export %s_MUC=%q\n' "$out" "conference.$DOMAIN"
  printf 'export %s_ROOM=%q\n' "$out" "$DEMO_ROOM@conference.$DOMAIN"
  printf 'export %s_UPLOAD=%q\n' "$out" "upload.$DOMAIN"
  printf 'export %s_RUN_DIR=%q\n' "$out" "$RUN_DIR"
  printf 'export %s_CONFIG=%q\n' "$out" "$CONFIG"
  printf 'export %s_GEN=%q\n' "$out" "$GEN"
  print_demo_env
}

cmd_adduser() {
  [ $# -eq 2 ] || [ $# -eq 3 ] || die "usage: $0 adduser USER PASSWORD [HOST]"
  local hosts=("$DOMAIN" "$HASHED_DOMAIN"); [ "$GEN" = stable ] || hosts+=("$SHORT_FAST_DOMAIN")
  [[ " ${hosts[*]} " == *" ${3:-$DOMAIN} "* ]] || die "no host ${3} here (${hosts[*]})"
  [ -f "$CONFIG" ] || write_config
  register "$1" "$2" "${3:-}"
  say "registered $1@${3:-$DOMAIN}"
}

dispatch "$@"
