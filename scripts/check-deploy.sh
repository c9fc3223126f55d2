#!/usr/bin/env bash
# Checks the example server configurations in docs/deploy/ for real: serves the release build (dist/) with nginx
# and Caddy, configured by those files (at the root, and under /some/path/ as their comments describe), and runs
# the end-to-end suite against each (NATTER_E2E_URL). Not part of scripts/test.sh: nginx and Caddy are not
# project dependencies. Needs dist/ (trunk build --release) and a running Prosody with its environment loaded
# (scripts/prosody.sh start; eval "$(scripts/prosody.sh env)").
#
# Usage: scripts/check-deploy.sh [nginx|caddy]...      (default: both)
# The binaries come from PATH, or NATTER_NGINX / NATTER_CADDY. Debian 12: apt-get install nginx caddy (or, to
# keep their services from starting, `apt-get download nginx nginx-common caddy` and `dpkg-deb -x` them).
# Everything runs on 127.0.0.1 at free ports, in run/deploy-check/; stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

[ -n "${NATTER_PROSODY_WS:-}" ] || { echo "check-deploy: load the Prosody environment first (see --help)" >&2; exit 2; }
[ -f dist/index.html ] || { echo "check-deploy: build dist/ first (trunk build --release)" >&2; exit 2; }
servers=("$@")
[ ${#servers[@]} -gt 0 ] || servers=(nginx caddy)

run=$root/run/deploy-check
rm -rf "$run"
mkdir -p "$run/site"
cp -r dist/. "$run/site/"
printf '{"websocket_url": "%s", "domain": "%s"}\n' "$NATTER_PROSODY_WS" "${NATTER_PROSODY_DOMAIN:-localhost}" >"$run/site/config.json"
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() {
  for _ in $(seq 1 50); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done
  echo "check-deploy: $1 does not answer" >&2
  return 1
}

start_nginx() {
  local bin=${NATTER_NGINX:-$(command -v nginx || true)} port=$1
  [ -x "$bin" ] || { echo "check-deploy: no nginx (PATH or NATTER_NGINX)" >&2; return 1; }
  local mime
  mime=$(dirname "$bin")/../../etc/nginx/mime.types
  [ -f "$mime" ] || mime=/etc/nginx/mime.types
  mkdir -p "$run/nginx/tmp"
  # The documented server block, on loopback without TLS, with the /some/path/ location its comment describes.
  sed -e "s|listen 443 ssl;|listen 127.0.0.1:$port;|" -e '/listen \[::\]:443/d' -e '/ssl_certificate/d' \
    -e "s|server_name chat.example.org;|server_name 127.0.0.1;|" -e "s|/var/www/natter|$run/site|" \
    -e "s|    location / {|    location /some/path/ { alias $run/site/; }\n    location / {|" \
    docs/deploy/nginx.conf >"$run/nginx/natter.conf"
  cat >"$run/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $run/nginx/nginx.pid;
error_log $run/nginx/error.log;
events {}
http {
    include $mime;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path $run/nginx/tmp/body;
    proxy_temp_path $run/nginx/tmp/proxy;
    fastcgi_temp_path $run/nginx/tmp/fastcgi;
    uwsgi_temp_path $run/nginx/tmp/uwsgi;
    scgi_temp_path $run/nginx/tmp/scgi;
    include $run/nginx/natter.conf;
}
EOF
  "$bin" -p "$run/nginx" -c "$run/nginx/nginx.conf" &
  pids+=($!)
}

start_caddy() {
  local bin=${NATTER_CADDY:-$(command -v caddy || true)} port=$1 path_port=$2
  [ -x "$bin" ] || { echo "check-deploy: no caddy (PATH or NATTER_CADDY)" >&2; return 1; }
  mkdir -p "$run/caddy"
  local site
  site=$(sed -n '/^chat.example.org {/,/^}/p' docs/deploy/Caddyfile | sed "s|/var/www/natter|$run/site|")
  {
    printf '{\n\tadmin off\n}\n\n'
    # The documented site at the root, and again under /some/path/ as its comment describes.
    sed "s|^chat.example.org {|http://127.0.0.1:$port {|" <<<"$site"
    echo
    sed -e "s|^chat.example.org {|http://127.0.0.1:$path_port {\n\tredir /some/path /some/path/|" \
      -e 's|^\troot \* \(.*\)$|\thandle_path /some/path/* {\n\t\troot * \1|' \
      -e 's|^\tfile_server$|\t\tfile_server\n\t}|' <<<"$site"
  } >"$run/caddy/Caddyfile"
  HOME=$run/caddy XDG_DATA_HOME=$run/caddy XDG_CONFIG_HOME=$run/caddy \
    "$bin" run --adapter caddyfile --config "$run/caddy/Caddyfile" >"$run/caddy/caddy.log" 2>&1 &
  pids+=($!)
}

failed=()
for server in "${servers[@]}"; do
  port=$(free_port)
  case "$server" in
    nginx) start_nginx "$port"; urls=("http://127.0.0.1:$port/" "http://127.0.0.1:$port/some/path/") ;;
    caddy) path_port=$(free_port); start_caddy "$port" "$path_port"
      urls=("http://127.0.0.1:$port/" "http://127.0.0.1:$path_port/some/path/") ;;
    *) echo "check-deploy: unknown server $server (nginx or caddy)" >&2; exit 2 ;;
  esac
  for url in "${urls[@]}"; do
    wait_for "$url"
    printf '\n\033[1;34m==> %s: e2e suite at %s\033[0m\n' "$server" "$url"
    NATTER_E2E_URL=$url node e2e/run.mjs || failed+=("$server $url")
  done
done

echo
if [ ${#failed[@]} -gt 0 ]; then
  printf 'check-deploy: FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "check-deploy: ${servers[*]}: the e2e suite passed at / and under /some/path/"
