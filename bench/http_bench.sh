#!/usr/bin/env bash
# HTTP benchmark: GET /v1/predictions/today.json from `nbaprops serve --http` and, side by side,
# the same file from nginx, on loopback with wrk (keep-alive, --latency). Prints requests/s and
# p99 latency of both and checks the targets: our rate >= half of nginx's, our p99 < 5 ms.
#
#   bench/http_bench.sh [--bin build/nbaprops] [--db FILE] [--exports DIR] [--date D]
#
#   --bin      the nbaprops binary (default build/nbaprops)
#   --db       a database to serve (copied first, so it is never modified); default: a fresh
#              `nbaprops demo` (about 20 s) in a temporary directory
#   --exports  an export directory holding predictions/{date}.json (default: the demo's exports/)
#   --date     the date whose predictions stand in for today.json (default: the latest exported;
#              the bundled season's latest date has ~670 KB of predictions)
#   Environment: CONNECTIONS (default 8), THREADS (wrk threads, default 2), DURATION (default 10s).
#
# Needs wrk and nginx (`apt-get install wrk nginx`). Starts both servers on free loopback ports
# and stops them (by their pids) on exit. Exit status: 0 when the targets are met, 1 when not,
# 2 on a set-up error. Run as root or any user; nginx runs in the foreground of this script.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=build/nbaprops
DB=""
EXPORTS=""
DATE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=$2; shift 2 ;;
    --db) DB=$2; shift 2 ;;
    --exports) EXPORTS=$2; shift 2 ;;
    --date) DATE=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-2}
DURATION=${DURATION:-10s}

for tool in wrk nginx curl; do
  command -v "$tool" > /dev/null || { echo "$tool is missing: apt-get install $tool" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "$BIN is not built: run make (or cmake --build build --target nbaprops)" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

WORK=$(mktemp -d /tmp/nbaprops-http-bench-XXXXXX)
chmod 755 "$WORK"  # nginx's workers (user nobody) read the files below
SERVE_PID=""
NGINX_PID=""
cleanup() {
  [ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2> /dev/null && wait "$SERVE_PID" 2> /dev/null || true
  [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2> /dev/null && wait "$NGINX_PID" 2> /dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "$DB" ]; then
  echo "== building a demo database in $WORK (nbaprops demo)"
  (cd "$WORK" && "$BIN" demo -q --db "$WORK/demo.db" --data "$REPO/data/2023-24" > "$WORK/demo.log" 2>&1) ||
    { tail -20 "$WORK/demo.log"; exit 2; }
  DB=$WORK/demo.db
  EXPORTS=${EXPORTS:-$WORK/exports}
else
  cp "$DB" "$WORK/bench.db"
  DB=$WORK/bench.db
fi
[ -n "$EXPORTS" ] || { echo "--exports DIR is needed with --db" >&2; exit 2; }
if [ -z "$DATE" ]; then
  DATE=$(ls "$EXPORTS/predictions" | grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}\.json$' | sort | tail -1 | sed 's/\.json$//')
fi
[ -f "$EXPORTS/predictions/$DATE.json" ] || { echo "no $EXPORTS/predictions/$DATE.json" >&2; exit 2; }
SERVED=$WORK/served
mkdir -p "$SERVED/predictions"
cp "$EXPORTS/predictions/$DATE.json" "$SERVED/predictions/today.json"
chmod -R a+rX "$SERVED"
BYTES=$(stat -c %s "$SERVED/predictions/today.json")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
OUR_PORT=$(free_port)
NGINX_PORT=$(free_port)

NBAPROPS_EXPORT_DIR=$SERVED "$BIN" serve --http "127.0.0.1:$OUR_PORT" --workers 1 --db "$DB" > "$WORK/serve.log" 2>&1 &
SERVE_PID=$!

cat > "$WORK/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  client_body_temp_path $WORK/nginx-body;
  proxy_temp_path $WORK/nginx-proxy;
  fastcgi_temp_path $WORK/nginx-fastcgi;
  uwsgi_temp_path $WORK/nginx-uwsgi;
  scgi_temp_path $WORK/nginx-scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location /v1/predictions/ { alias $SERVED/predictions/; default_type application/json; }
  }
}
EOF
nginx -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!

wait_up() {  # url
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "$1 never answered" >&2
  cat "$WORK/serve.log" "$WORK/nginx-error.log" 2> /dev/null >&2 || true
  exit 2
}
OUR_URL=http://127.0.0.1:$OUR_PORT/v1/predictions/today.json
NGINX_URL=http://127.0.0.1:$NGINX_PORT/v1/predictions/today.json
wait_up "$OUR_URL"
wait_up "$NGINX_URL"
cmp <(curl -s "$OUR_URL") <(curl -s "$NGINX_URL") || { echo "the two servers answer different bodies" >&2; exit 2; }

# wrk's 99% line in milliseconds.
p99_ms() { awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.3f", v }'; }
rps() { awk '/^Requests\/sec:/ { print $2 }'; }

run() {  # name url
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$2" > /dev/null  # warm-up
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$2" > "$WORK/$1.wrk"
}
echo "== GET /v1/predictions/today.json ($DATE, $BYTES bytes), wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency"
run nbaprops "$OUR_URL"
run nginx "$NGINX_URL"
OUR_RPS=$(rps < "$WORK/nbaprops.wrk"); OUR_P99=$(p99_ms < "$WORK/nbaprops.wrk")
NGINX_RPS=$(rps < "$WORK/nginx.wrk"); NGINX_P99=$(p99_ms < "$WORK/nginx.wrk")
if grep -q "Non-2xx" "$WORK/nbaprops.wrk" "$WORK/nginx.wrk"; then
  grep -H "Non-2xx\|Socket errors" "$WORK"/*.wrk >&2
  echo "a server answered errors during the run" >&2
  exit 2
fi
printf '%-10s %12s %10s\n' server "requests/s" "p99 ms"
printf '%-10s %12s %10s\n' nbaprops "$OUR_RPS" "$OUR_P99"
printf '%-10s %12s %10s\n' nginx "$NGINX_RPS" "$NGINX_P99"
RATIO=$(awk -v a="$OUR_RPS" -v b="$NGINX_RPS" 'BEGIN { printf "%.2f", a / b }')
echo "nbaprops / nginx = $RATIO (target >= 0.50); nbaprops p99 $OUR_P99 ms (target < 5)"
if awk -v r="$RATIO" -v p="$OUR_P99" 'BEGIN { exit !(r >= 0.5 && p < 5) }'; then
  echo "targets met"
else
  echo "targets NOT met"
  exit 1
fi
