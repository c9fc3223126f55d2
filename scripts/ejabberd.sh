#!/usr/bin/env bash
# Runs a private ejabberd for Natter's interoperability tests (Prosody is the default server), in one of two
# generations:
#   stable (default)          ejabberd 23.01 from Debian 12 (apt)      ports 5290 / 5223 / 5291, env NATTER_EJABBERD_*
#   NATTER_SERVER_GEN=modern  ejabberd 24.12 from bookworm-backports, unpacked with the Erlang libraries it needs
#                             newer into .servers/ejabberd24 by scripts/setup.sh; SASL2, Bind2, FAST, inline SM
#                                                                     ports 5390 / 5323 / 5391, env NATTER_EJABBERD24_*
# (scripts/ejabberd24.sh is this script with NATTER_SERVER_GEN=modern.) Both generations can run at once.
#
#   scripts/ejabberd.sh start            start (idempotent), wait until it answers, create the demo accounts
#   scripts/ejabberd.sh stop             stop the instance this script started (by its PID) and wait for it
#   scripts/ejabberd.sh restart          stop + start (fresh data)
#   scripts/ejabberd.sh reboot           stop + start keeping the data (a server restart as clients see it)
#   scripts/ejabberd.sh status           say whether it runs (exit 0) or not (exit 3)
#   scripts/ejabberd.sh env              print `export` lines: eval "$(scripts/ejabberd.sh env)"
#   scripts/ejabberd.sh adduser U P [H]  register U@H (localhost or hashed.localhost) with password P (needs it running)
#
# Domain `localhost`, on ports that do not collide with scripts/prosody.sh, so both can run at once; all on
# 127.0.0.1: WebSocket ws://127.0.0.1:5290/ws, HTTP http://127.0.0.1:5290 (/api admin API for loopback,
# /.well-known/host-meta[.json], /upload, /bosh), plain-TCP c2s 127.0.0.1:5223, Erlang distribution 5291
# (no epmd). MUC conference.localhost (with MAM), HTTP upload upload.localhost.
# Ports can be moved with NATTER_EJABBERD_HTTP_PORT / _C2S_PORT / _DIST_PORT (modern: NATTER_EJABBERD24_…);
# set them for `env` too.
#
# Demo accounts as on Prosody: alice / alice-demo-pw, bob / bob-demo-pw, carol / carol-demo-pw; alice and bob
# are in each other's roster with subscription "both" (names "Bob" / "Alice"); all three are members of the
# persistent room lobby@conference.localhost and have it bookmarked (XEP-0402, autojoin).
#
# STATE: `start` on a stopped server WIPES the Mnesia dir and begins from the known state above. `start` on a
# running server changes nothing.
#
# ejabberdctl is not used: as root it insists on switching to the `ejabberd` user. The VM is started with
# `erl` directly, with the arguments `ejabberdctl foreground` would use, plus `-erl_epmd_port PORT
# -start_epmd false` so that no epmd daemon is started or left behind, and HOME inside the run folder.
# Files live in ${NATTER_RUN_DIR:-<repo>/run}/ejabberd (modern: …/ejabberd24): ejabberd.yml, data/ = Mnesia,
# logs/, upload/, the PID file and the VM's stdout.
set -euo pipefail

GEN="${NATTER_SERVER_GEN:-stable}"
case "$GEN" in
  stable) NAME=ejabberd; PREFIX=NATTER_EJABBERD; DEFAULT_PORTS=(5290 5223 5291) ;;
  modern) NAME=ejabberd24; PREFIX=NATTER_EJABBERD24; DEFAULT_PORTS=(5390 5323 5391) ;;
  *) echo "NATTER_SERVER_GEN must be stable or modern, not '$GEN'" >&2; exit 2 ;;
esac
# SIGTERM makes the Erlang VM run init:stop() (orderly shutdown, Mnesia flushed); give it time.
STOP_GRACE=20
# shellcheck source-path=SCRIPTDIR source=servers/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/servers/common.sh"

DOMAIN=localhost
HASHED_DOMAIN=hashed.localhost   # second host, salted+hashed passwords (see ejabberd.yml.in)
port_var="${PREFIX}_HTTP_PORT"; HTTP_PORT="${!port_var:-${DEFAULT_PORTS[0]}}"
port_var="${PREFIX}_C2S_PORT"; C2S_PORT="${!port_var:-${DEFAULT_PORTS[1]}}"
port_var="${PREFIX}_DIST_PORT"; DIST_PORT="${!port_var:-${DEFAULT_PORTS[2]}}"
if [ "$GEN" = modern ]; then
  # ejabberd 24.12 and the newer Erlang libraries, as unpacked by scripts/servers/install-modern.sh; ERL_LIBS
  # comes before OTP's own lib dir, so these win over the older copies the stable package installed.
  E24="$NATTER_REPO/.servers/ejabberd24/root"
  ERL_LIBS_DIRS="$E24/usr/lib/x86_64-linux-gnu:$E24/usr/lib/erlang/lib"
  EJABBERD_SBIN="$E24/usr/sbin"
  # SASL2, Bind2 and inline stream management are built into 24.12's c2s; FAST is mod_auth_fast. XEP-0421
  # occupant ids: mod_muc_occupantid (from 23.10 on).
  MODERN_MODULES=$'mod_auth_fast: {}\n  mod_muc_occupantid: {}'
  MODERN_HASHED_MODULES='mod_auth_fast: {}'
  # 24.12 offers SASL2 only on encrypted streams unless told otherwise; here everything is loopback without TLS.
  MODERN_C2S_OPTIONS='allow_unencrypted_sasl2: true'
else
  ERL_LIBS_DIRS=/usr/lib/x86_64-linux-gnu
  EJABBERD_SBIN=/usr/sbin
  MODERN_MODULES=''
  MODERN_HASHED_MODULES=''
  MODERN_C2S_OPTIONS=''
fi
HTTP_URL="http://127.0.0.1:$HTTP_PORT"
WS_URL="ws://127.0.0.1:$HTTP_PORT/ws"
API_URL="$HTTP_URL/api"
CONFIG="$RUN_DIR/ejabberd.yml"
LOG_DIR="$RUN_DIR/logs"
LOG_FILE="$LOG_DIR/ejabberd.log"
NODE="natter-$NAME@localhost"
PID_MARKER="$DATA_DIR"   # in the server's command line (-mnesia dir …; see live_pid)
START_TIMEOUT_S=60

# POST /api/COMMAND with a JSON body; prints the response body, fails on a non-200 answer.
api() {
  local out code
  out="$(curl -s --noproxy '*' --max-time 10 -w '\n%{http_code}' -H 'Content-Type: application/json' \
        -d "$2" "$API_URL/$1" 2>/dev/null)" || true
  code="${out##*$'\n'}"
  out="${out%$'\n'*}"
  if [ "$code" != 200 ]; then
    printf '%s\n' "$out" >&2
    return 1
  fi
  printf '%s\n' "$out"
}

ready() {
  [ "$(http_code -d '{}' -H 'Content-Type: application/json' "$API_URL/status")" = 200 ] \
    && port_open "$C2S_PORT"
}

write_config() {
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$RUN_DIR/upload"
  render "$NATTER_SERVERS_DIR/ejabberd.yml.in" "$CONFIG" \
    "C2S_PORT=$C2S_PORT" "HTTP_PORT=$HTTP_PORT" "HTTP_URL=$HTTP_URL" "WS_URL=$WS_URL" \
    "UPLOAD_DIR=$RUN_DIR/upload" "GENERATION=$GEN" "MODERN_MODULES=$MODERN_MODULES" \
    "MODERN_HASHED_MODULES=$MODERN_HASHED_MODULES" "MODERN_C2S_OPTIONS=$MODERN_C2S_OPTIONS"
}

# A JSON string literal (escapes backslashes and double quotes; demo data has no control characters).
json_str() { local s="$1"; s="${s//\\/\\\\}"; s="${s//\"/\\\"}"; printf '"%s"' "$s"; }

register() { # USER PASS [HOST] — like `prosodyctl register`, an existing account gets the new password
  local err host="${3:-$DOMAIN}"
  if err="$(api register "{\"user\":$(json_str "$1"),\"host\":\"$host\",\"password\":$(json_str "$2")}" 2>&1 >/dev/null)"; then
    return 0
  fi
  if [[ "$err" == *"already registered"* ]]; then
    api change_password "{\"user\":$(json_str "$1"),\"host\":\"$host\",\"newpass\":$(json_str "$2")}" >/dev/null \
      && return 0
  fi
  printf '%s\n' "$err" >&2
  die "could not register $1@$host"
}

subscribe_both() { # USER CONTACT NICK [HOST]
  # 24.12's API takes a list "groups" where 23.01 took one "group".
  local groups='"group":""' host="${4:-$DOMAIN}"; [ "$GEN" = stable ] || groups='"groups":[]'
  api add_rosteritem "$(printf '{"localuser":"%s","localhost":"%s","user":"%s","host":"%s","nick":"%s",%s,"subs":"both"}' \
      "$1" "$host" "$2" "$host" "$3" "$groups")" >/dev/null || die "could not add $2 to $1's roster on $host"
}

cmd_start() {
  local pid t0
  lock_run_dir
  pid="$(live_pid)"
  if [ -n "$pid" ]; then
    if ready || wait_until "$START_TIMEOUT_S" "$pid" ready; then
      say "already running (pid $pid)"
      return 0
    fi
    say "pid $pid is alive but does not answer; restarting it"
    stop_pid "$pid" 20
  fi
  rm -f "$PID_FILE"
  require_free_ports "$HTTP_PORT" "$C2S_PORT" "$DIST_PORT"

  t0="$(now_ms)"
  [ "$GEN" = stable ] || [ -d "$E24" ] || die "ejabberd 24.12 is not unpacked: run scripts/setup.sh"
  local keep=0
  [ "${KEEP_DATA:-0}" = 1 ] && [ -d "$DATA_DIR" ] && keep=1
  if [ "$keep" = 0 ]; then
    case "$RUN_DIR" in */ejabberd|*/ejabberd24) ;; *) die "refusing to wipe unexpected run dir $RUN_DIR" ;; esac
    rm -rf "${DATA_DIR:?}" "${LOG_DIR:?}" "${RUN_DIR:?}/upload" "${RUN_DIR:?}/home"
  fi
  mkdir -p "$DATA_DIR" "$RUN_DIR/home"
  write_config
  : >"$OUT_FILE"

  cd "$RUN_DIR"
  # Same VM arguments and environment as `ejabberdctl foreground` (Debian 12, /usr/sbin/ejabberdctl).
  # erl execs the emulator, so under setsid (own session) $! is the beam.smp process itself.
  HOME="$RUN_DIR/home" \
  EJABBERD_CONFIG_PATH="$CONFIG" \
  EJABBERD_LOG_PATH="$LOG_FILE" \
  ERL_CRASH_DUMP="$LOG_DIR/erl_crash.dump" \
  ERL_CRASH_DUMP_BYTES=0 \
  ERL_MAX_PORTS=32000 \
  ERL_MAX_ETS_TABLES=1400 \
  ERL_LIBS="$ERL_LIBS_DIRS" \
  ERL_DIST_PORT="$DIST_PORT" \
  CONTRIB_MODULES_PATH="$RUN_DIR/home/.ejabberd-modules" \
  SCRIPT_DIR="$EJABBERD_SBIN" \
  setsid erl -sname "$NODE" \
    +K true +P 250000 \
    -erl_epmd_port "$DIST_PORT" -start_epmd false \
    -kernel inet_dist_use_interface '{127,0,0,1}' \
    -mnesia dir "\"$DATA_DIR\"" \
    -ejabberd log_rotate_count 0 \
    -s ejabberd -noinput \
    >>"$OUT_FILE" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"

  if ! wait_until "$START_TIMEOUT_S" "$pid" ready; then
    show_log_tail
    kill -0 "$pid" 2>/dev/null && stop_pid "$pid" 10
    rm -f "$PID_FILE"
    die "ejabberd did not come up (see $LOG_FILE)"
  fi
  local t_ready; t_ready="$(now_ms)"
  if [ "$keep" = 1 ]; then
    say "running again (pid $pid) with the data it had: $WS_URL; ready in $((t_ready - t0)) ms"
    return 0
  fi

  local u regs=() r
  for u in "${NATTER_DEMO_USERS[@]}"; do   # all at once through the HTTP API
    register "$u" "${NATTER_DEMO_PASSWORDS[$u]}" 9>&- & regs+=($!)
    register "$u" "${NATTER_DEMO_PASSWORDS[$u]}" "$HASHED_DOMAIN" 9>&- & regs+=($!)
  done
  for r in "${regs[@]}"; do wait "$r" || { stop_pid "$pid" 10; rm -f "$PID_FILE"; die "demo accounts not created"; }; done
  subscribe_both alice bob Bob
  subscribe_both bob alice Alice
  # The same on the hashed host, as Prosody's seed has it (the reconnect tests chat there).
  subscribe_both alice bob Bob "$HASHED_DOMAIN"
  subscribe_both bob alice Alice "$HASHED_DOMAIN"
  local t_accounts; t_accounts="$(now_ms)"
  seed_demo_room "$pid"

  say "running (pid $pid): $WS_URL, c2s 127.0.0.1:$C2S_PORT, domain $DOMAIN;" \
      "ready in $((t_ready - t0)) ms, accounts in $((t_accounts - t_ready)) ms, room in $(( $(now_ms) - t_accounts )) ms"
  say "accounts: $(demo_accounts_string) (alice<->bob subscribed)"
}

cmd_env() {
  # NATTER_ENV_PREFIX renames the variables, e.g. NATTER_ENV_PREFIX=NATTER_EJABBERD for the modern generation
  # lets what reads NATTER_EJABBERD_* use ejabberd 24.12; export NATTER_SERVER_GEN=modern too, so that
  # `adduser` reaches the same server.
  local out="${NATTER_ENV_PREFIX:-$PREFIX}"
  printf 'export %s_WS=%q\n' "$out" "$WS_URL"
  printf 'export %s_DOMAIN=%q\n' "$out" "$DOMAIN"
  printf 'export %s_HASHED_DOMAIN=%q\n' "$out" "$HASHED_DOMAIN"
  printf 'export %s_TCP=%q\n' "$out" "127.0.0.1:$C2S_PORT"
  printf 'export %s_HTTP=%q\n' "$out" "$HTTP_URL"
  printf 'export %s_API=%q\n' "$out" "$API_URL"
  # mod_host_meta crashes on Host: 127.0.0.1, hence "localhost" here
  printf 'export %s_HOST_META=%q\n' "$out" "http://localhost:$HTTP_PORT/.well-known/host-meta"
  printf 'export %s_MUC=%q\n' "$out" "conference.$DOMAIN"
  printf 'export %s_ROOM=%q\n' "$out" "$DEMO_ROOM@conference.$DOMAIN"
  printf 'export %s_UPLOAD=%q\n' "$out" "upload.$DOMAIN"
  printf 'export %s_RUN_DIR=%q\n' "$out" "$RUN_DIR"
  printf 'export %s_GEN=%q\n' "$out" "$GEN"
  print_demo_env
}

cmd_adduser() {
  [ $# -eq 2 ] || [ $# -eq 3 ] || die "usage: $0 adduser USER PASSWORD [HOST]"
  case "${3:-$DOMAIN}" in "$DOMAIN"|"$HASHED_DOMAIN") ;; *) die "no host ${3} here ($DOMAIN or $HASHED_DOMAIN)" ;; esac
  [ -n "$(live_pid)" ] || die "not running (start it first; accounts go through its HTTP API)"
  register "$1" "$2" "${3:-}"
  say "registered $1@${3:-$DOMAIN}"
}

dispatch "$@"
