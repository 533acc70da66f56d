#!/usr/bin/env python3
"""Bounded random requests against a real `nbaprops serve --http` on loopback (a real SQLite file
with a dead letter, a dead run, an unresolved player name and a day's schedule).

Each request is built from a seeded generator: methods (real, lower-case, unknown), paths (every
route, bad ids and dates, encodings, traversal, 10 KB paths), versions, headers (tokens that are
missing, wrong, truncated, of another scheme; Content-Length missing, wrong, negative, huge;
chunked bodies, valid and not; 100 headers; 16 KB values; broken header lines) and bodies (valid
alias JSON, garbage, 2 MB). A background thread keeps sending slow requests (a byte at a time)
meanwhile. It checks:
  - the server never answers 500 (or any 5xx but 503) and never dies; /health answers throughout;
  - every well-formed request that may change state (any method but GET, HEAD, OPTIONS) without
    the right token is answered 401 (not well-formed: an unknown method or version, a broken header
    line, and what cpp-httplib refuses before any handler: a URI or header line over 8 KB, a
    target with a second '?');
  - nothing changed: no dead letter retried or discarded, no run queued by hand, no alias added,
    no name resolved. Requests carrying the right token only ever name ids that do not exist or
    send bodies that are not valid, so they change nothing either, and must be 4xx.

Usage: http_fuzz_test.py NBAPROPS_BINARY [--requests N] [--seed S]. `make test` runs 3,000
requests; `make test-slow` runs 100,000.
"""
import argparse
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

from script_support import free_port, stop_and_clean

TOKEN = "fuzz-token-5b1e0c7d9a"
MUTATING = ["POST", "PUT", "DELETE", "PATCH"]
READING = ["GET", "HEAD", "OPTIONS"]


def exchange(port, data, timeout=3.0, pause=0.0):
    """Sends `data` (byte by byte with `pause` between them when > 0) and returns the first
    response's status code, None when the server closed without answering, or "timeout"."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        if pause > 0:
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
                time.sleep(pause)
        else:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed before reading a big body
        got = b""
        while b"\r\n" not in got:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return "timeout"
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
        if not got:
            return None
        if got.startswith(b"HTTP/1.1 100 "):  # the body was sent with the head: read the final answer
            while b"\r\n\r\n" not in got:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            got = got.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in got else b""
            while b"\r\n" not in got:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    return "timeout"
                if not chunk:
                    return None
                got += chunk
        parts = got.split(b"\r\n", 1)[0].split(b" ")
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise AssertionError(f"not an HTTP status line: {got[:200]!r}")
        return int(parts[1])
    finally:
        s.close()


class Generator:
    def __init__(self, rng, ids):
        self.r = rng
        self.ids = ids  # real ids: a dead run, a dead letter

    def pick(self, xs):
        return xs[self.r.randrange(len(xs))]

    def id_text(self, real_ok):
        bad = ["0", "-1", "abc", "9" * 30, "1e3", "", " 1", "1/2", "../1", "\x00", "18446744073709551616"]
        if real_ok:  # also the real ids, plain and percent-encoded
            return self.pick(bad + [str(i) for i in self.ids] + ["%" + format(ord(c), "x") for c in "1"])
        return self.pick(bad + ["424242", "999999999"])

    def path(self, real_ids):
        r = self.r
        i = self.id_text(real_ids)
        date = self.pick(["2024-01-31", "today", "2024-13-01", "2024-02-30", "../status", "%2e%2e%2fstatus",
                          "2024-01-31%00", "x" * 300, "2024-1-1", ""])
        paths = [f"/v1/runs/{i}/retry", f"/v1/dlq/{i}/retry", f"/v1/dlq/{i}/discard", "/v1/registry/aliases",
                 f"/v1/runs/{i}", "/v1/runs", "/v1/dlq", "/v1/incidents", f"/v1/predictions/{date}.json",
                 f"/v1/best-bets/{date}.json", f"/v1/results/{date}.json", "/v1/systems/performance.json",
                 "/v1/status.json", "/metrics", "/", "/health", "/ready", "/v1/nothing", "/favicon.ico",
                 "/v1/registry/aliases/", "//v1//runs", "/v1/dlq/1/retry/extra", "/%76%31/runs"]
        p = self.pick(paths)
        roll = r.random()
        if roll < 0.15:
            p += "?" + "&".join(self.pick(["status=", "status=failed", "limit=0", "limit=1001", "limit=x",
                                           "date=2024-01-31", "date=bad", "processor=" + "p" * 500,
                                           "status=all", "a=%ZZ", "=", "&&", "limit=5"])
                                for _ in range(r.randint(1, 4)))
        elif roll < 0.18:
            p = "/" + "a" * r.choice([1000, 10000])
        elif roll < 0.21:
            p = "/" + "".join(chr(r.randint(0x21, 0x7e)) for _ in range(r.randint(1, 40)))
        elif roll < 0.22:
            p = "*" if r.random() < 0.5 else "http://example.com/v1/runs"
        return p

    def request(self):
        """(bytes, well_formed, method, authorized, may_hang)"""
        r = self.r
        roll = r.random()
        if roll < 0.40:
            method = self.pick(READING)
        elif roll < 0.90:
            method = self.pick(MUTATING)
        else:
            method = self.pick(["post", "FOO", "GET /", "", "CONNECT", "TRACE", "P\x00ST"])
        well_formed = method in READING + MUTATING
        # The right token only on requests that cannot change anything (ids that do not exist).
        authorized = method in MUTATING and r.random() < 0.15
        path = self.path(real_ids=not authorized)
        version = "HTTP/1.1" if r.random() < 0.9 else self.pick(["HTTP/1.0", "HTTP/2.0", "HTTP/9", "", "HTTP/1.1x"])
        if version not in ("HTTP/1.1", "HTTP/1.0") or " " in path or "\x00" in path or "\x00" in method:
            well_formed = False
        headers = [f"Host: 127.0.0.1"]
        if authorized:
            headers.append(f"Authorization: Bearer {TOKEN}")
        else:
            a = r.random()
            if a < 0.5:
                headers.append(self.pick([f"Authorization: Bearer {TOKEN[:-1]}", f"Authorization: Bearer {TOKEN}x",
                                          "Authorization: Bearer", "Authorization: Bearer ",
                                          f"Authorization: Basic {TOKEN}", f"Authorization: {TOKEN}",
                                          "Authorization: Bearer " + "t" * 5000, f"authorization: bearer wrong",
                                          f"Authorization: Bearer\t{TOKEN[:5]}"]))
        body = b""
        b = r.random()
        if b < 0.3:
            body = self.pick([b'{"name": "Nobody Here", "player_id": "0"}', b'{"name": 3}', b"[]", b"{", b"null",
                              b'{"name": "x", "player_id": "1"}'])
            if not authorized and r.random() < 0.5:
                body = self.pick([b'{"name": "Nic Claxton", "player_id": "1629651"}', body])
        elif b < 0.4:
            body = bytes(r.getrandbits(8) for _ in range(r.randint(1, 300)))
        elif b < 0.42 and not authorized:
            body = b"x" * (2 << 20)  # over the 1 MiB limit
        may_hang = False
        te = r.random()
        if te < 0.08:
            headers.append("Transfer-Encoding: chunked")
            if r.random() < 0.6:
                body = (b"%x\r\n" % len(body)) + body + b"\r\n0\r\n\r\n" if body else b"0\r\n\r\n"
            else:
                body = self.pick([b"zz\r\n", b"5\r\nab", b"-1\r\n\r\n", b"ffffffffffffffff\r\n"])
                may_hang = True
        else:
            c = r.random()
            if c < 0.75:
                headers.append(f"Content-Length: {len(body)}")
            elif c < 0.85:
                headers.append(f"Content-Length: {self.pick(['-1', 'abc', '99999999999999999999', '1 2', ''])}")
                may_hang = True
            elif c < 0.9:
                headers.append(f"Content-Length: {len(body) + r.randint(1, 1000)}")  # a body never finished
                may_hang = True
            # else: no Content-Length at all
        if r.random() < 0.2:
            headers.append(self.pick(["Content-Type: application/json", "Content-Type: text/plain",
                                      "Content-Type: multipart/form-data; boundary=x", "Expect: 100-continue",
                                      "Connection: keep-alive", "X-Forwarded-For: 10.0.0.1", "Range: bytes=0-10",
                                      "Accept-Encoding: gzip, br", "If-None-Match: *"]))
        if r.random() < 0.03:
            headers += [f"X-H{i}: {i}" for i in range(100)]
        # cpp-httplib answers these itself (414 / 400), before any handler: a URI over 8 KB, a header
        # line over 8 KB, a target with a second '?' (its request-line parser splits on '?').
        over_limits = len(path) > 8000 or path.count("?") > 1
        if r.random() < 0.03:
            headers.append("X-Big: " + "v" * 16384)
            over_limits = True
        if r.random() < 0.03:
            headers.append(self.pick(["no colon here", ": empty name", "X-Bad\x00: nul", "X-Fold: a\r\n b"]))
            well_formed = False
        head = f"{method} {path} {version}\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n"
        if over_limits:
            well_formed = False
        if authorized and may_hang and r.random() < 0.9:
            return self.request()  # the server waits for such bodies (up to its read timeout): keep them rare
        return head.encode("latin-1", "replace") + body, well_formed, method, authorized, may_hang


def seed_db(nbaprops, db, work, env):
    subprocess.run([nbaprops, "--db", db, "init"], check=True, env=env, stdout=subprocess.DEVNULL)
    poison = os.path.join(work, "stats.json")
    with open(poison, "w") as f:
        f.write('{"data": [{"id": 1, "min": "3')
    subprocess.run([nbaprops, "--db", db, "import", "--kind", "balldontlie_stats", poison], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c = sqlite3.connect(db)
    c.execute("INSERT INTO reference_players (player_id, canonical_name, origin) VALUES ('1629651', "
              "'Nicolas Claxton', 'test')")
    c.execute("INSERT INTO unresolved_player_names (source, original_name, normalized, occurrences, example_games, "
              "reason, status, first_seen, last_seen) VALUES ('underdog', 'Nic Claxton', 'nic claxton', 1, '[]', "
              "'no player matches', 'pending', 1, 1)")
    c.commit()
    ids = [r[0] for r in c.execute("SELECT run_id FROM processor_runs")] + \
          [r[0] for r in c.execute("SELECT id FROM dead_letters")]
    c.close()
    return ids


def snapshot(db):
    c = sqlite3.connect(db, timeout=30)
    try:
        return {
            "dead_letters": list(c.execute("SELECT id, status FROM dead_letters ORDER BY id")),
            "manual_runs": list(c.execute("SELECT run_id FROM processor_runs WHERE trigger = 'manual'")),
            "aliases": list(c.execute("SELECT player_id, alias FROM reference_player_aliases ORDER BY 1, 2")),
            "names": list(c.execute("SELECT original_name, status FROM unresolved_player_names ORDER BY 1")),
        }
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=20261205)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="nbaprops-httpfuzz-")
    server = None
    try:
        db = os.path.join(work, "nbaprops.db")
        env = dict(os.environ, NBAPROPS_EXPORT_DIR=os.path.join(work, "exports"), NBAPROPS_LOG_LEVEL="warn",
                   NBAPROPS_HTTP_TOKEN=TOKEN)
        ids = seed_db(args.binary, db, work, env)
        before = snapshot(db)
        if not before["dead_letters"] or before["names"][0][1] != "pending":
            sys.exit(f"FAIL: the seed has no dead letter or pending name: {before}")
        port = free_port()
        log = open(os.path.join(work, "serve.log"), "w")
        server = subprocess.Popen([args.binary, "--db", db, "serve", "--http", f"127.0.0.1:{port}"], env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                if exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n") == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        else:
            sys.exit("FAIL: serve did not answer /health")

        stop = threading.Event()
        slow = Counter()

        def slow_requests():  # a byte every 20 ms, alongside the fuzz
            r = random.Random(args.seed + 1)
            while not stop.is_set():
                req = r.choice([b"POST /v1/dlq/1/retry HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
                                b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"])
                try:
                    slow[exchange(port, req, timeout=10, pause=0.02)] += 1
                except OSError as e:
                    slow[type(e).__name__] += 1

        t = threading.Thread(target=slow_requests, daemon=True)
        t.start()

        gen = Generator(random.Random(args.seed), ids)
        codes = Counter()
        failures = []
        t0 = time.time()
        for n in range(1, args.requests + 1):
            data, well_formed, method, authorized, may_hang = gen.request()
            try:
                code = exchange(port, data, timeout=0.2 if may_hang else 5.0)
            except OSError as e:
                code = type(e).__name__
            except AssertionError as e:
                failures.append(f"request {n}: {e}")
                continue
            codes[code] += 1
            what = f"request {n} ({data[:120]!r}...)"
            if code == "timeout" and not may_hang:
                failures.append(f"{what}: no answer in 5 s")
            if isinstance(code, int):
                if code >= 500 and code != 503:
                    failures.append(f"{what}: {code}")
                if well_formed and method in MUTATING and not authorized and code != 401:
                    failures.append(f"{what}: {code}, not 401, for a {method} without the right token")
                if authorized and not 400 <= code < 500:
                    failures.append(f"{what}: {code} for an authorized request that names nothing real")
            if server.poll() is not None:
                failures.append(f"{what}: the server exited with {server.returncode}")
                break
            if n % 1000 == 0:
                if exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n") != 200:
                    failures.append(f"after {n} requests /health does not answer 200")
                print(f"  {n} requests, {n / (time.time() - t0):.0f}/s", flush=True)
            if len(failures) > 20:
                break
        stop.set()
        t.join(timeout=15)
        elapsed = time.time() - t0
        after = snapshot(db)
        if after != before:
            failures.append(f"the database changed: before {before}, after {after}")
        if server.poll() is not None:
            failures.append(f"the server exited with {server.returncode}")
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(codes.items(), key=lambda kv: str(kv[0])))
        print(f"{sum(codes.values())} requests in {elapsed:.1f} s (seed {args.seed}); answers {summary}; "
              f"slow requests alongside: {dict(slow)}")
        if failures:
            print("FAIL:\n  " + "\n  ".join(failures[:20]))
            return 1
        print("ok: no 5xx, no crash, every unauthorized mutation 401, the database unchanged")
        return 0
    finally:
        stop_and_clean([server], work)


if __name__ == "__main__":
    sys.exit(main())
