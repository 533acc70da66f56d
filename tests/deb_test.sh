#!/usr/bin/env bash
# The Debian package, built by CPack from this build directory (what `make deb` does) and unpacked
# into a temporary root with dpkg-deb -x:
#   - it holds the binary, the default config (a conffile), the serve and worker units, the
#     Prometheus rules, the Grafana dashboard and the docs, and its control files are sound;
#   - the units are hardened as documented and pass `systemd-analyze verify`;
#   - the packaged binary runs, and the packaged config is valid;
#   - a malformed config makes the unit's own start commands fail at once with exit code 2 (which
#     the units do not restart) and the file and line in the message, before anything starts.
# Usage: deb_test.sh BUILD_DIR. Exits 77 (ctest: skipped) without cpack or dpkg-deb.
set -euo pipefail
build=$(cd "$1" && pwd)
for tool in cpack dpkg-deb; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed; as root: apt-get install -y cmake dpkg-dev"
    exit 77
  fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. Build the package (the same command as `make deb`, into a scratch directory).
(cd "$build" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack"; }
deb=$(ls "$work"/pkg/nbaprops_*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "cpack wrote no nbaprops_*_amd64.deb: $(ls "$work/pkg")"
echo "ok: built $(basename "$deb") ($(du -h "$deb" | cut -f1))"

# 2. Its files and control data.
root="$work/root"
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$work/control"
for f in usr/bin/nbaprops etc/nbaprops/nbaprops.toml \
         usr/lib/systemd/system/nbaprops-serve.service usr/lib/systemd/system/nbaprops-worker@.service \
         usr/share/nbaprops/prometheus/nbaprops-rules.yml usr/share/nbaprops/grafana/nbaprops.json \
         usr/share/doc/nbaprops/README.md usr/share/doc/nbaprops/configuration.md; do
  [ -e "$root/$f" ] || fail "the package has no /$f"
done
[ -x "$root/usr/bin/nbaprops" ] || fail "/usr/bin/nbaprops is not executable"
grep -qx '/etc/nbaprops/nbaprops.toml' "$work/control/conffiles" || fail "the config is not a conffile"
for s in postinst prerm postrm; do [ -x "$work/control/$s" ] || fail "no executable $s"; done
grep -q 'adduser --system' "$work/control/postinst" || fail "postinst does not create the nbaprops user"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libsqlite3 libpq5 libcurl4 adduser; do
  echo "$depends" | grep -q "$lib" || fail "Depends lacks $lib: $depends"
done
if find "$root" -name '*_test' -o -name '*_bench' | grep -q .; then fail "tests or benchmarks are packaged"; fi
echo "ok: files, conffiles, maintainer scripts, Depends: $depends"

# 3. The units: hardened, draining, not restarting a config error.
for u in nbaprops-serve.service nbaprops-worker@.service; do
  unit="$root/usr/lib/systemd/system/$u"
  for want in 'User=nbaprops' 'ProtectSystem=strict' 'StateDirectory=nbaprops' 'Restart=on-failure' \
              'RestartPreventExitStatus=2' 'TimeoutStopSec=' 'KillSignal=SIGTERM' 'NoNewPrivileges=yes' \
              'ExecStart=/usr/bin/nbaprops --config ${NBAPROPS_CONFIG} ' \
              'Environment=NBAPROPS_CONFIG=/etc/nbaprops/nbaprops.toml'; do
    grep -qF "$want" "$unit" || fail "$u lacks $want"
  done
done
grep -q '^ExecStart=.* serve --http$' "$root/usr/lib/systemd/system/nbaprops-serve.service" || fail "serve unit"
grep -q '^ExecStart=.* worker$' "$root/usr/lib/systemd/system/nbaprops-worker@.service" || fail "worker unit"
if command -v systemd-analyze >/dev/null; then
  # verify checks that the commands exist: point them at the unpacked binary.
  mkdir "$work/units"
  for u in nbaprops-serve.service nbaprops-worker@.service; do
    sed "s|/usr/bin/nbaprops|$root/usr/bin/nbaprops|g" "$root/usr/lib/systemd/system/$u" >"$work/units/$u"
  done
  # verify exits 0 on values it ignores, so its messages are what count; lines about other units
  # on this machine (a container's own) are not ours.
  verify() { (cd "$work/units" && systemd-analyze verify --man=no "$@" 2>&1 || true) | grep -F "$work/units" || true; }
  ours=$(verify ./nbaprops-serve.service ./nbaprops-worker@1.service)
  [ -z "$ours" ] || fail "systemd-analyze verify: $ours"
  # The check can fail: a misspelt value in a copy is reported.
  sed 's/^ProtectSystem=strict/ProtectSystem=strictest/' "$work/units/nbaprops-serve.service" >"$work/units/broken.service"
  [ -n "$(verify ./broken.service)" ] || fail "systemd-analyze verify did not report a misspelt ProtectSystem"
  echo "ok: systemd-analyze verify passes on both units (and reports a broken copy)"
else
  echo "note: systemd-analyze not found; unit verification skipped"
fi

# 4. The packaged binary runs and accepts the packaged config (paths moved into the scratch dir).
bin="$root/usr/bin/nbaprops"
"$bin" version | grep -q '^nbaprops ' || fail "the packaged binary does not run"
sed "s|/var/lib/nbaprops|$work/state|g" "$root/etc/nbaprops/nbaprops.toml" >"$work/good.toml"
mkdir -p "$work/state"
"$bin" --config "$work/good.toml" init >/dev/null || fail "the packaged config is refused"
[ -f "$work/state/nbaprops.db" ] || fail "init did not create the database the config names"
echo "ok: the packaged binary initialises the database its packaged config names"

# 5. A malformed config: the unit's start commands fail fast, naming the file and line.
start_cmds() {  # the unit's ExecStartPre and ExecStart, with the config variable expanded
  grep -E '^ExecStart(Pre)?=' "$root/usr/lib/systemd/system/$1" | sed -e 's/^ExecStart\(Pre\)\?=//' \
    -e "s|/usr/bin/nbaprops|$bin|" -e "s|\${NBAPROPS_CONFIG}|$2|"
}
# Two mistakes in a copy of the packaged config: a second [engine] table (a TOML error), and a
# misspelt key.
cp "$work/good.toml" "$work/dup.toml"
printf '[engine]\nworkers = 2\n' >>"$work/dup.toml"
dup_line=$(grep -n '^\[engine\]' "$work/dup.toml" | tail -1 | cut -d: -f1)
sed -e "s|/var/lib/nbaprops|$work/bad-state|g" -e 's/^workers = /wrokers = /' \
  "$root/etc/nbaprops/nbaprops.toml" >"$work/typo.toml"
typo_line=$(grep -n '^wrokers' "$work/typo.toml" | cut -d: -f1)
for case in "dup.toml:$dup_line:" "typo.toml:$typo_line:unknown key 'engine.wrokers'"; do
  file="$work/${case%%:*}"
  rest=${case#*:}
  want_line=${rest%%:*}
  want_text=${rest#*:}
  for u in nbaprops-serve.service nbaprops-worker@.service; do
    while read -r cmd; do
      start=$(date +%s%N)
      set +e
      msg=$(eval "$cmd" 2>&1 </dev/null)
      rc=$?
      set -e
      ms=$(( ($(date +%s%N) - start) / 1000000 ))
      [ "$rc" -eq 2 ] || fail "$u: '$cmd' with $(basename "$file") exited $rc, not 2: $msg"
      echo "$msg" | grep -qF "config '$file', line $want_line: $want_text" ||
        fail "$u: the error does not name $(basename "$file") line $want_line ($want_text): $msg"
      [ "$ms" -lt 5000 ] || fail "$u: took $ms ms to fail"
    done < <(start_cmds "$u" "$file")
  done
  [ ! -e "$work/bad-state/nbaprops.db" ] || fail "a database was created despite the bad config"
  echo "ok: $(basename "$file"): both units' start commands exit 2 at once: $msg"
done
