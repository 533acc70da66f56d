#!/usr/bin/env python3
"""A real Prometheus (Debian's `prometheus` binary) scraping a real `nbaprops serve --http` on
loopback, with deploy/prometheus/nbaprops-rules.yml loaded:

1. before anything is wrong, the dead-letter alert is not firing;
2. a poison payload (truncated JSON) is imported; the dead-letter alert goes pending/firing,
   as Prometheus's HTTP API reports it;
3. every rule evaluates without error, and every metric family listed in api/metrics.h has series
   in Prometheus's TSDB;
4. every PromQL expression of the Grafana dashboard (deploy/grafana/nbaprops.json) is accepted by
   this Prometheus, and every metric it names exists in the TSDB.

Usage: prometheus_test.py SOURCE_DIR NBAPROPS_BINARY. Exits 77 (ctest: skipped) when prometheus is
not installed, printing the command that installs it.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from script_support import free_port, stop_and_clean

SKIP = 77
DEADLINE_S = 40


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait_for(what, fn, timeout_s=DEADLINE_S):
    end = time.time() + timeout_s
    last = None
    while time.time() < end:
        try:
            v = fn()
            if v:
                return v
        except (OSError, urllib.error.URLError, ValueError) as e:
            last = e
        time.sleep(0.25)
    sys.exit(f"FAIL: timed out after {timeout_s} s waiting for {what} (last error: {last})")


def metric_families(header):
    """The family names listed in api/metrics.h's comment (without the nbaprops_ prefix)."""
    names = []
    for line in open(header):
        if line.startswith("#ifndef"):
            break
        m = re.match(r"//   (\S.*)", line)
        if not m:
            continue
        first = re.split(r"\s{2,}", m.group(1))[0]
        names += [n for n in re.findall(r"([a-z][a-z_]*)(?:\{[^}]*\})?", first) if "_" in n]
    return names


def seed(db, now_s):
    """What an operating pipeline has in its store, so that every family has samples."""
    c = sqlite3.connect(db, timeout=30)
    q = ("INSERT INTO processor_runs (processor, phase, partition_key, data_date, status, attempt, trigger, "
         "queued_at, started_at, finished_at, duration_ms, error_category, lease_expires_at) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    c.execute(q, ("player_game_summary", 3, "2024-01-31", "2024-01-31", "succeeded", 1, "backfill",
                  now_s - 600, now_s - 500, now_s - 400, 1200, None, None))
    c.execute(q, ("ml_feature_store", 4, "2024-01-31", "2024-01-31", "failed", 1, "backfill",
                  now_s - 600, now_s - 500, now_s - 400, 30000, "lease_expired", None))
    c.execute(q, ("ml_feature_store", 4, "2024-01-31", "2024-01-31", "succeeded", 2, "retry",
                  now_s - 400, now_s - 300, now_s - 290, 800, None, None))
    c.execute("INSERT INTO circuit_breakers (source, state, consecutive_failures, times_opened, last_change_at) "
              "VALUES ('odds_api', 'closed', 0, 1, ?)", (now_s * 1000,))
    c.execute("INSERT INTO deadlines (deadline_key, data_date, due_at, status, met_at, checked_at, details) VALUES "
              "('results_latency', '2024-01-30', ?, 'met', ?, ?, ?), "
              "('predictions', '2024-01-31', ?, 'missed', NULL, ?, '{}')",
              ((now_s - 80000) * 1000, (now_s - 90000) * 1000, now_s * 1000,
               json.dumps({"latency_box_score_to_graded_s": 1800, "latency_box_score_to_exported_s": 2100}),
               (now_s - 3600) * 1000, now_s * 1000))
    c.execute("INSERT INTO alert_channels (name, kind, state, tokens, tokens_at, created_at) "
              "VALUES ('log', 'log', 'ok', 0, 0, 0)")
    c.execute("INSERT INTO alert_outbox (channel, incident_ids, event, severity, payload, status, attempts, "
              "next_attempt_at, created_at) VALUES ('log', '[1]', 'open', 'warning', '{}', 'sent', 2, 0, 0)")
    c.execute("INSERT INTO prediction_performance_daily (game_date, system_id, predictions, picks, wins, losses, "
              "pushes, voids, not_graded, units, n_mae, mae_model, mae_line, n_clv) VALUES "
              "('2024-01-30', 'ensemble', 100, 8, 5, 3, 0, 0, 92, 1.2, 90, 5.3, 5.2, 0)")
    c.execute("INSERT INTO unresolved_player_names (source, original_name, normalized, occurrences, example_games, "
              "reason, status, first_seen, last_seen) VALUES ('underdog', 'Nic Claxton', 'nic claxton', 1, '[]', "
              "'no player matches', 'pending', 1, 1)")
    c.commit()
    c.close()


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, nbaprops = sys.argv[1], sys.argv[2]
    prometheus = shutil.which("prometheus")
    if not prometheus:
        print("SKIP: prometheus is not installed; as root: apt-get install -y prometheus")
        return SKIP

    work = tempfile.mkdtemp(prefix="nbaprops-prom-")
    procs = []
    try:
        db = os.path.join(work, "nbaprops.db")
        exports = os.path.join(work, "exports")
        os.makedirs(exports)
        with open(os.path.join(exports, "status.json"), "w") as f:
            f.write('{"schema": "nbaprops/status/v1"}\n')
        env = dict(os.environ, NBAPROPS_EXPORT_DIR=exports, NBAPROPS_LOG_LEVEL="warn")
        subprocess.run([nbaprops, "--db", db, "init"], check=True, env=env, stdout=subprocess.DEVNULL)
        # One real date's schedule (the bundled season's 2024-01-31), so that its missed deadline
        # is still due: the deadline guard drops unmet deadlines of dates without games.
        schedule = os.path.join(work, "schedule.csv")
        with open(os.path.join(src, "data/2023-24/schedule.csv")) as f, open(schedule, "w") as out:
            for i, line in enumerate(f):
                if i == 0 or ",2024-01-31," in line:
                    out.write(line)
        subprocess.run([nbaprops, "--db", db, "import", "--kind", "schedule", schedule], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        seed(db, int(time.time()))

        api_port, prom_port = free_port(), free_port()
        serve_log = open(os.path.join(work, "serve.log"), "w")
        procs.append(subprocess.Popen([nbaprops, "--db", db, "serve", "--http", f"127.0.0.1:{api_port}"],
                                      env=env, stdout=serve_log, stderr=subprocess.STDOUT))
        wait_for("nbaprops serve", lambda: get(f"http://127.0.0.1:{api_port}/health"))

        rules = os.path.join(src, "deploy/prometheus/nbaprops-rules.yml")
        config = os.path.join(work, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    f"rule_files:\n  - {rules}\n"
                    "scrape_configs:\n  - job_name: nbaprops\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{api_port}']\n")
        prom_log = open(os.path.join(work, "prometheus.log"), "w")
        procs.append(subprocess.Popen([prometheus, f"--config.file={config}",
                                       f"--storage.tsdb.path={work}/tsdb",
                                       f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
                                      stdout=prom_log, stderr=subprocess.STDOUT))
        base = f"http://127.0.0.1:{prom_port}"

        def api(path, **params):
            url = f"{base}/api/v1/{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
            try:
                body = json.loads(get(url))
            except urllib.error.HTTPError as e:  # 400 for an invalid expression: the body says why
                body = json.loads(e.read().decode())
            return body

        def target_up():
            r = api("query", query='up{job="nbaprops"}')["data"]["result"]
            return r and r[0]["value"][1] == "1"

        def dead_letter_alert():
            return [a for a in api("alerts")["data"]["alerts"] if a["labels"]["alertname"] == "NbapropsDeadLettersOpen"]

        wait_for("Prometheus to scrape nbaprops", target_up)
        # The rules have been evaluated on a scrape without dead letters: the alert is inactive.
        wait_for("a rule evaluation", lambda: api("rules")["data"]["groups"][0]["rules"][0].get("lastEvaluation", "")
                 .startswith("20"))
        time.sleep(2.5)
        if dead_letter_alert():
            sys.exit(f"FAIL: the dead-letter alert is active before any dead letter: {dead_letter_alert()}")
        print("ok: no dead-letter alert while there is no dead letter")

        poison = os.path.join(work, "stats.json")
        with open(poison, "w") as f:
            f.write('{"data": [{"id": 1, "min": "3')  # truncated JSON
        r = subprocess.run([nbaprops, "--db", db, "import", "--kind", "balldontlie_stats", poison], env=env,
                           capture_output=True, text=True)
        if r.returncode != 1 or "not valid JSON" not in r.stdout + r.stderr:
            sys.exit(f"FAIL: importing the poison payload: exit {r.returncode}\n{r.stdout}{r.stderr}")
        t0 = time.time()
        alerts = wait_for("the dead-letter alert", lambda: [a for a in dead_letter_alert() if a["state"] == "firing"])
        a = alerts[0]
        if a["labels"].get("processor") != "parse_payload" or a["labels"].get("severity") != "warning":
            sys.exit(f"FAIL: unexpected labels on the dead-letter alert: {a['labels']}")
        print(f"ok: NbapropsDeadLettersOpen firing {time.time() - t0:.1f} s after the poison payload: "
              f"{a['annotations']['summary']}")

        # Every rule evaluates without error against the real series.
        rules_state = [r for g in api("rules")["data"]["groups"] for r in g["rules"]]
        unhealthy = [(r["name"], r.get("lastError")) for r in rules_state if r.get("health") != "ok"]
        if len(rules_state) < 15 or unhealthy:
            sys.exit(f"FAIL: {len(rules_state)} rules loaded; not healthy: {unhealthy}")
        print(f"ok: all {len(rules_state)} rules evaluate without error")

        # Every family of api/metrics.h is in the TSDB.
        wait_for("the scrape after the import", lambda: api("query", query='nbaprops_incidents_open_by_kind'
                                                                             '{kind="dead_letter"}')["data"]["result"])
        names = set(api("label/__name__/values")["data"])
        families = metric_families(os.path.join(src, "api/metrics.h"))
        missing = [f for f in families if f"nbaprops_{f}" not in names and f"nbaprops_{f}_count" not in names]
        if len(families) < 25 or missing:
            sys.exit(f"FAIL: {len(families)} families listed in api/metrics.h; not in the TSDB: {missing}")
        print(f"ok: all {len(families)} metric families of api/metrics.h are in Prometheus's TSDB")

        # Every dashboard expression is valid here and names only metrics that exist.
        dashboard = os.path.join(src, "deploy/grafana/nbaprops.json")
        extract = os.path.join(src, "deploy/grafana/panel_exprs.py")
        lines = subprocess.run([sys.executable, extract, dashboard], check=True, capture_output=True,
                               text=True).stdout.splitlines()
        bad = []
        for line in lines:
            title, expr = line.split("\t", 1)
            body = api("query", query=expr)
            if body.get("status") != "success":
                bad.append(f"{title}: {expr}: {body.get('error')}")
        used = subprocess.run([sys.executable, extract, "--metrics", dashboard], check=True, capture_output=True,
                              text=True).stdout.split()
        unknown = [m for m in used if m not in names]
        if bad or unknown or len(lines) < 20:
            sys.exit("FAIL: dashboard: " + "\n".join(bad) + f"\nmetrics not in the TSDB: {unknown}; "
                     f"{len(lines)} expressions")
        print(f"ok: all {len(lines)} dashboard expressions are valid PromQL over {len(used)} existing metrics")
        return 0
    finally:
        stop_and_clean(procs, work)


if __name__ == "__main__":
    sys.exit(main())
