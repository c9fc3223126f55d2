# shellcheck shell=bash
# shellcheck disable=SC2034  # variables defined here are used by the scripts that source this file
# Shared helpers for scripts/prosody.sh and scripts/ejabberd.sh (sourced, not executed).
#
# Provides: the run-folder location (short enough for unix sockets), PID-file handling, a bounded readiness
# poll (no fixed sleeps), a clean stop by PID, template rendering, and the subcommands both scripts share
# (stop, status, the demo part of env, the dispatch). Callers set `NAME` (e.g. "prosody") and `STOP_GRACE`
# (seconds) before sourcing, define cmd_start, cmd_env, cmd_adduser and ready, and use set -euo pipefail.

shopt -u patsub_replacement 2>/dev/null || true   # '&' in rendered values must stay literal

NATTER_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NATTER_SERVERS_DIR="$NATTER_REPO/scripts/servers"

# Demo accounts, identical on both servers: "user:password" pairs. alice<->bob are mutually subscribed.
NATTER_DEMO_USERS=(alice bob carol)
declare -A NATTER_DEMO_PASSWORDS=([alice]=alice-demo-pw [bob]=bob-demo-pw [carol]=carol-demo-pw)
# The demo room on conference.<domain>: persistent, alice owner, bob and carol members, bookmarked (autojoin)
# by all three (scripts/servers/seed.py).
DEMO_ROOM=lobby

# Run folder. Unix socket paths (Prosody's admin socket lives in its data dir) are limited to ~108 bytes,
# so a long repo path falls back to /tmp/natter-run-<hash of the wanted path>.
natter_run_base() {
  local base="${NATTER_RUN_DIR:-$NATTER_REPO/run}"
  # longest socket path below it: "<base>/ejabberd/data/…" or "<base>/prosody/data/prosody.sock" (+~30)
  if [ $((${#base} + 40)) -gt 104 ]; then
    base="/tmp/natter-run-$(printf '%s' "$base" | md5sum | cut -c1-10)"
  fi
  printf '%s\n' "$base"
}

RUN_DIR="$(natter_run_base)/$NAME"
PID_FILE="$RUN_DIR/$NAME.pid"
LOG_FILE="$RUN_DIR/$NAME.log"       # the server's own log
OUT_FILE="$RUN_DIR/$NAME.stdout"    # the process's stdout/stderr (start-up errors land here)
DATA_DIR="$RUN_DIR/data"

say() { printf '[%s] %s\n' "$NAME" "$*"; }
die() { printf '[%s] error: %s\n' "$NAME" "$*" >&2; exit 1; }

# Milliseconds since the epoch (for deadlines and reporting start-up time).
now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }

# PID from the pid file if that process is alive AND is our server (its command line mentions our data dir;
# guards against a recycled PID after a reboot or an external kill), else empty.
live_pid() {
  local pid
  [ -f "$PID_FILE" ] || return 0
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
     && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$PID_MARKER"; then
    echo "$pid"
  fi
}

# Serialise start/stop of one server (parallel test runners may call `start` at the same time).
lock_run_dir() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/.lock"
  flock -w 120 9 || die "could not lock $RUN_DIR/.lock within 120 s"
}

# Is something (anything) listening on 127.0.0.1:PORT?  Uses bash's /dev/tcp, in a subshell so the fd closes.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Print an HTTP status code for URL (000 when nothing answers). Extra args go to curl.
http_code() {
  curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 2 "$@" 2>/dev/null || true
}

# wait_until TIMEOUT_S PID CHECK_FN [ARGS…]: poll CHECK_FN every 50 ms until it succeeds; fail early when PID
# dies; fail when TIMEOUT_S passes. Returns 0 when ready.
wait_until() {
  local timeout_s="$1" pid="$2"; shift 2
  local deadline=$(( $(now_ms) + timeout_s * 1000 ))
  while :; do
    if "$@"; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { say "process $pid exited during start-up"; return 1; }
    [ "$(now_ms)" -lt "$deadline" ] || { say "not ready after ${timeout_s}s"; return 1; }
    sleep 0.05
  done
}

show_log_tail() {
  local f
  for f in "$OUT_FILE" "$LOG_FILE"; do
    if [ -s "$f" ]; then
      echo "----- last 40 lines of $f -----" >&2
      tail -n 40 "$f" >&2
    fi
  done
  echo "----- end of logs -----" >&2
}

# stop_pid PID TIMEOUT_S: SIGTERM, wait until gone (polling), SIGKILL after the timeout.
stop_pid() {
  local pid="$1" timeout_s="$2"
  kill -TERM "$pid" 2>/dev/null || return 0
  local deadline=$(( $(now_ms) + timeout_s * 1000 ))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(now_ms)" -ge "$deadline" ]; then
      say "pid $pid ignored SIGTERM for ${timeout_s}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$(( $(now_ms) + 5000 ))
      timeout_s=5
    fi
    sleep 0.05
  done
}

# Fail when one of the ports is already taken by something other than our server.
require_free_ports() {
  local p
  for p in "$@"; do
    if port_open "$p"; then
      die "port 127.0.0.1:$p is already in use by another process (ss -ltnp 'sport = :$p'); not starting"
    fi
  done
}

# render TEMPLATE OUT KEY=VALUE…: replace every @KEY@ in TEMPLATE with VALUE.
render() {
  local tpl="$1" out="$2"; shift 2
  local content kv
  content="$(cat "$tpl")"
  for kv in "$@"; do
    content="${content//@${kv%%=*}@/${kv#*=}}"
  done
  printf '%s\n' "$content" >"$out"
}

# The demo accounts as a single "user:pass user:pass …" string.
demo_accounts_string() {
  local u out=()
  for u in "${NATTER_DEMO_USERS[@]}"; do out+=("$u:${NATTER_DEMO_PASSWORDS[$u]}"); done
  echo "${out[*]}"
}

# The demo room and everyone's bookmark of it, over the server's WebSocket (seed.py). On failure the server is
# stopped again, so that the next `start` begins from scratch. Needs WS_URL, DOMAIN and the PID.
seed_demo_room() { # PID
  local out
  if out="$(/usr/bin/python3 "$NATTER_SERVERS_DIR/seed.py" "$WS_URL" "$DOMAIN" "$DEMO_ROOM@conference.$DOMAIN" \
             "$(demo_accounts_string)" 2>&1)"; then
    say "room $out"
    return 0
  fi
  printf '%s\n' "$out" >&2
  show_log_tail
  stop_pid "$1" "$STOP_GRACE"
  rm -f "$PID_FILE"
  die "could not create the demo room (stopped again)"
}

# ---- subcommands shared by both servers ----

cmd_stop() {
  local pid
  lock_run_dir
  pid="$(live_pid)"
  if [ -z "$pid" ]; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  stop_pid "$pid" "$STOP_GRACE"
  rm -f "$PID_FILE"
  say "stopped (pid $pid)"
}

cmd_status() {
  local pid
  pid="$(live_pid)"
  if [ -n "$pid" ] && ready; then
    say "running (pid $pid) at $WS_URL"
  elif [ -n "$pid" ]; then
    say "pid $pid alive but not answering on $HTTP_URL / 127.0.0.1:$C2S_PORT"
    return 3
  else
    say "not running"
    return 3
  fi
}

# The demo accounts' part of `env`: NATTER_DEMO_ACCOUNTS and NATTER_DEMO_<USER>_PASSWORD.
print_demo_env() {
  local u
  printf 'export NATTER_DEMO_ACCOUNTS=%q\n' "$(demo_accounts_string)"
  for u in "${NATTER_DEMO_USERS[@]}"; do
    printf 'export NATTER_DEMO_%s_PASSWORD=%q\n' "${u^^}" "${NATTER_DEMO_PASSWORDS[$u]}"
  done
}

dispatch() {
  case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    # A server restart as clients see it: connections drop, data stays (accounts, rooms, archives, bookmarks).
    reboot) cmd_stop; KEEP_DATA=1 cmd_start ;;
    status) cmd_status ;;
    env) cmd_env ;;
    adduser) shift; cmd_adduser "$@" ;;
    *) echo "usage: $0 start|stop|restart|reboot|status|env|adduser USER PASSWORD [HOST]" >&2; exit 2 ;;
  esac
}
