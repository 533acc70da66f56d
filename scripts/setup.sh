#!/usr/bin/env bash
# Installs the Debian 12 packages nbaprops needs to build and test. Idempotent: installs only
# what is missing. As root it runs apt-get; otherwise it prints the one command to run and fails.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config python3
  libsqlite3-dev sqlite3 libpq-dev libssl-dev libutf8proc-dev libtomlplusplus-dev
  nlohmann-json3-dev libcli11-dev libxgboost-dev libhowardhinnant-date-dev tzdata
  libgtest-dev libgmock-dev libbenchmark-dev
  libcurl4-openssl-dev libcpp-httplib-dev libbrotli-dev zlib1g-dev chromium
  clang-14 libclang-rt-14-dev
)

# Wanted but not required: the PostgreSQL server, for the tests that run the PostgreSQL backend
# against a throwaway cluster (tests/pg_cluster.sh), and Prometheus (promtool and the server), for
# the alert-rule and dashboard tests. Without them those tests skip and say why.
OPTIONAL=(postgresql prometheus)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

optional_missing=()
for p in "${OPTIONAL[@]}"; do installed "$p" || optional_missing+=("$p"); done
if [ ${#optional_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing (optional): ${optional_missing[*]}" >&2
    (apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      "${optional_missing[@]}" >&2) || echo "warning: could not install ${optional_missing[*]}; their tests will be skipped" >&2
  else
    echo "note: the PostgreSQL / Prometheus tests will be skipped; to run them: sudo apt-get install -y ${optional_missing[*]}" >&2
  fi
fi

missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "nbaprops needs these Debian packages: ${missing[*]}" >&2
  echo "Run as root, then re-run this command:" >&2
  echo "  sudo sh -c '$cmd'" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
sh -c "$cmd" >&2
