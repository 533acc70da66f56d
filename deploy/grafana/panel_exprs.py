#!/usr/bin/env python3
"""Lists and sanity-checks the PromQL expressions of a Grafana dashboard.

Usage:
  panel_exprs.py DASHBOARD.json            # one line per target: <panel title>\t<expr>
  panel_exprs.py --metrics DASHBOARD.json  # sorted unique metric names used by the exprs

Grafana interval variables ($__rate_interval, $__interval and their ${...}
forms) are replaced by 5m so the output can be fed to a PromQL parser.

Exits 1 (with a message naming the panel) when the dashboard lacks
title/uid/schemaVersion, when a non-row panel has no targets or a target has
no expr, or when two panels overlap on the 24-column grid. Panels nested in a
collapsed row's "panels" array are checked against each other; they are not
placed on the top-level grid until the row is expanded.
"""

import json
import re
import sys

INTERVAL_RE = re.compile(r"\$\{__rate_interval\}|\$__rate_interval|\$\{__interval\}|\$__interval")
METRIC_RE = re.compile(r"\bnbaprops_[a-z_]+|\bup\b")
# Parts of an expr that are not metric names: quoted strings (label values)
# and label matcher / grouping lists ({...}, by (...), on (...), ...).
STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
BRACES_RE = re.compile(r"\{[^}]*\}")
GROUPING_RE = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


class DashboardError(Exception):
    pass


def substitute(expr):
    return INTERVAL_RE.sub("5m", expr)


def metric_names(expr):
    stripped = STRING_RE.sub('""', expr)
    stripped = BRACES_RE.sub("{}", stripped)
    stripped = GROUPING_RE.sub("", stripped)
    return set(METRIC_RE.findall(stripped))


def panel_name(panel):
    title = panel.get("title")
    if title:
        return repr(title)
    return "id=%s (untitled, type %s)" % (panel.get("id"), panel.get("type"))


def check_overlaps(panels, where):
    boxes = []
    for p in panels:
        g = p.get("gridPos")
        if not isinstance(g, dict) or not all(isinstance(g.get(k), (int, float)) for k in ("x", "y", "w", "h")):
            raise DashboardError("panel %s %s has no complete gridPos {x, y, w, h}" % (panel_name(p), where))
        if g["w"] <= 0 or g["h"] <= 0:
            raise DashboardError("panel %s %s has a non-positive gridPos size" % (panel_name(p), where))
        if g["x"] < 0 or g["y"] < 0 or g["x"] + g["w"] > 24:
            raise DashboardError("panel %s %s lies outside the 24-column grid" % (panel_name(p), where))
        for q, h in boxes:
            if g["x"] < h["x"] + h["w"] and h["x"] < g["x"] + g["w"] and g["y"] < h["y"] + h["h"] and h["y"] < g["y"] + g["h"]:
                raise DashboardError("panels %s and %s overlap %s" % (panel_name(q), panel_name(p), where))
        boxes.append((p, g))


def walk(dashboard):
    """Yields (title, expr) per target; raises DashboardError on a problem."""
    for key in ("title", "uid", "schemaVersion"):
        if key not in dashboard or dashboard[key] in (None, ""):
            raise DashboardError("dashboard lacks %r" % key)
    top = dashboard.get("panels")
    if not isinstance(top, list):
        raise DashboardError("dashboard has no 'panels' array")
    check_overlaps(top, "on the top-level grid")

    def visit(panels):
        for p in panels:
            if p.get("type") == "row":
                nested = p.get("panels") or []
                if nested:
                    check_overlaps(nested, "inside row %s" % panel_name(p))
                    yield from visit(nested)
                continue
            targets = p.get("targets")
            if not targets:
                raise DashboardError("panel %s has no targets" % panel_name(p))
            for i, t in enumerate(targets):
                expr = t.get("expr") if isinstance(t, dict) else None
                if not isinstance(expr, str) or not expr.strip():
                    ref = t.get("refId", i) if isinstance(t, dict) else i
                    raise DashboardError("panel %s: target %s lacks expr" % (panel_name(p), ref))
                yield p.get("title", ""), substitute(expr)

    yield from visit(top)


def main(argv):
    args = argv[1:]
    want_metrics = False
    if "--metrics" in args:
        want_metrics = True
        args = [a for a in args if a != "--metrics"]
    if len(args) != 1:
        sys.stderr.write("usage: %s [--metrics] DASHBOARD.json\n" % argv[0])
        return 2
    try:
        with open(args[0], encoding="utf-8") as f:
            dashboard = json.load(f)
    except (OSError, ValueError) as e:
        sys.stderr.write("%s: cannot read dashboard: %s\n" % (args[0], e))
        return 1
    if not isinstance(dashboard, dict):
        sys.stderr.write("%s: top level is not a JSON object\n" % args[0])
        return 1
    try:
        rows = list(walk(dashboard))
    except DashboardError as e:
        sys.stderr.write("%s: %s\n" % (args[0], e))
        return 1
    if want_metrics:
        names = set()
        for _, expr in rows:
            names |= metric_names(expr)
        for name in sorted(names):
            print(name)
    else:
        for title, expr in rows:
            print("%s\t%s" % (title, expr))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
