#!/usr/bin/env bash
# Installs the Debian 12 packages nbaprops needs to build and test. Idempotent: installs only
# what is missing. As root it runs apt-get; otherwise it prints the one command to run and fails.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config python3
  libsqlite3-dev sqlite3 libssl-dev libutf8proc-dev libtomlplusplus-dev
  nlohmann-json3-dev libcli11-dev libxgboost-dev libhowardhinnant-date-dev tzdata
  libgtest-dev libgmock-dev libbenchmark-dev
  libcurl4-openssl-dev libcpp-httplib-dev libbrotli-dev zlib1g-dev chromium
  clang-14 libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

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
