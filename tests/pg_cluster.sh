#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start DIR` creates and starts one in DIR and
# writes its connection URL to DIR/url; `stop DIR` stops it and deletes DIR; `restart DIR` is
# `pg_ctl restart` (the crash tests use it). ctest runs start/stop as fixtures around every test
# labelled postgresql.
#
# When the server is not installed, `start` writes DIR/skip with the reason and the apt command,
# and exits 0: the tests then skip and print that reason (never silently).
#
# A test cluster does not sync to disk (fsync=off). NBAPROPS_PG_DURABLE=1 starts one with the
# server's durable defaults instead, except synchronous_commit=off (a commit returns before its
# WAL reaches the disk, like SQLite's synchronous=NORMAL in WAL mode): the benchmarks use it
# (bench/pg_queue_bench.sh).
set -euo pipefail

cmd=${1:?usage: pg_cluster.sh start|stop|restart DIR}
dir=${2:?usage: pg_cluster.sh start|stop|restart DIR}
port=${NBAPROPS_PG_PORT:-$((5500 + RANDOM % 400))}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

# initdb refuses to run as root: run the server as the postgres user then.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi
}

case "$cmd" in
  start)
    rm -rf "$dir" && mkdir -p "$dir"
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
      echo "PostgreSQL server not installed; install it with: sudo apt-get install -y postgresql" >"$dir/skip"
      cat "$dir/skip" >&2
      exit 0
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
      echo "PostgreSQL is installed but there is no postgres user to run it as (initdb refuses root)" >"$dir/skip"
      cat "$dir/skip" >&2
      exit 0
    fi
    data="$dir/data"
    # The socket path must fit in 107 bytes, whatever the build directory's path.
    sock=$(mktemp -d /tmp/nbaprops-pg.XXXXXX)
    echo "$sock" >"$dir/sockdir"
    mkdir -p "$data"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$dir" "$sock"; fi
    as_owner "$bin/initdb -D $data -U postgres -A trust -E UTF8 --no-locale --no-sync" >"$dir/initdb.log" 2>&1 || {
      echo "initdb failed; see $dir/initdb.log" >&2
      cat "$dir/initdb.log" >&2
      exit 1
    }
    # -l: without a log file pg_ctl keeps stdout open and hangs a piped CI step.
    settings="-c synchronous_commit=off -c max_connections=200"
    if [ "${NBAPROPS_PG_DURABLE:-0}" != 1 ]; then settings="$settings -c fsync=off -c full_page_writes=off"; fi
    as_owner "$bin/pg_ctl -D $data -l $dir/server.log -w -t 30 -o \"-p $port -k $sock -c listen_addresses='' \
      $settings\" start" >/dev/null || {
      echo "PostgreSQL did not start; its log:" >&2
      cat "$dir/server.log" >&2
      exit 1
    }
    echo "postgresql://postgres@/postgres?host=$sock&port=$port" >"$dir/url"
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') started: $(cat "$dir/url")" >&2
    ;;
  restart)
    as_owner "$bin/pg_ctl -D $dir/data -l $dir/server.log -m fast -w -t 30 restart" >/dev/null
    ;;
  stop)
    if [ -f "$dir/url" ]; then
      as_owner "$bin/pg_ctl -D $dir/data -m immediate -w -t 30 stop" >/dev/null 2>&1 || true
    fi
    if [ -f "$dir/sockdir" ]; then rm -rf "$(cat "$dir/sockdir")"; fi
    rm -rf "$dir"
    ;;
  *)
    echo "unknown command $cmd" >&2
    exit 2
    ;;
esac
