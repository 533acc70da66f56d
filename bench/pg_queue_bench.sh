#!/usr/bin/env bash
# Queue throughput on PostgreSQL next to SQLite: BM_ClaimComplete (SQLite file) and
# BM_ClaimCompletePg (PostgreSQL) of bench/queue_bench.cc, claim + execute + commit of trivial
# runs with 1, 4 and 8 worker threads, on a throwaway cluster started here with the server's
# durable settings (fsync on, full_page_writes on).
#
#   bench/pg_queue_bench.sh [BUILD_DIR]      (default: build)
#
# It runs twice: with synchronous_commit=off, PostgreSQL's nearest to SQLite's WAL mode with
# synchronous=NORMAL (a commit returns before its WAL is flushed: a crash of the server or the
# machine may lose the last fraction of a second of whole transactions, never consistency), then
# with synchronous_commit=on (every commit waits for its WAL flush; the disk's fsync rate, which
# pg_test_fsync prints first, bounds it).
# Needs the postgresql package; as root the server runs as the postgres user.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
BENCH="$BUILD/bench/queue_bench"
[ -x "$BENCH" ] || { echo "no $BENCH; build first (make build)" >&2; exit 2; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$bin" ] || { echo "PostgreSQL server not installed: sudo apt-get install -y postgresql" >&2; exit 2; }

dir=$(mktemp -d /tmp/nbaprops-pgbench.XXXXXX)
chmod 755 "$dir"
trap '"$REPO/tests/pg_cluster.sh" stop "$dir/cluster" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
NBAPROPS_PG_DURABLE=1 "$REPO/tests/pg_cluster.sh" start "$dir/cluster"
[ -f "$dir/cluster/url" ] || { cat "$dir/cluster/skip" >&2; exit 2; }
url=$(cat "$dir/cluster/url")

echo "== disk: one 8 kB write + fdatasync (pg_test_fsync)"
(cd "$dir" && "$bin/pg_test_fsync" -s 2 2>/dev/null | grep -m1 -E "^ +fdatasync" || true)

filter="ClaimComplete"  # the first pass measures SQLite too
for mode in off on; do
  "$bin/psql" "$url" -qc "ALTER SYSTEM SET synchronous_commit = $mode" -c "SELECT pg_reload_conf()" >/dev/null
  echo "== PostgreSQL synchronous_commit=$mode"
  NBAPROPS_BENCH_PG_URL=$url "$BENCH" --benchmark_filter="$filter" 2>&1 |
    grep -E "^BM_|^Run on|CPU"
  filter="ClaimCompletePg"
done
