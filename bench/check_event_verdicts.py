#!/usr/bin/env python3
"""Checks the verdicts of gen_event_measurements.py's measurements against its truth.

Reads the verdicts of a SQLite store that `vigil analyze` filled with the generator's
output, and says where they differ from the truth file: a measurement inside a blocked
interval that is not blocked with the truth's blocking type, one inside a global outage
that is not down, one anywhere else that is blocked or an anomaly, one inside a drought,
and verdict counts per (cc, asn, target, before/after the event) other than the truth's.
Exit status 1 when anything differs.

    vigil analyze --store /tmp/e/x.sqlite /tmp/e/m.jsonl
    bench/check_event_verdicts.py --store /tmp/e/x.sqlite --truth /tmp/e/truth.json
"""
import argparse
import calendar
import collections
import json
import sqlite3
import sys
import time


def seconds(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", required=True, help="SQLite store")
    p.add_argument("--truth", required=True, help="the generator's truth file")
    p.add_argument("--shown", type=int, default=10, help="differences printed per kind")
    a = p.parse_args()
    truth = json.load(open(a.truth))
    window_end = seconds(truth["window"]["end"])
    event = seconds(truth["event"]["start"])
    blocked = {}
    for s in truth["series"]:
        blocked[(s["cc"], s["asn"], s["target"])] = [
            (seconds(b["start"]), seconds(b["end"]) if b["end"] else window_end,
             b["blocking_type"]) for b in s["blocked"]]
    outages = [(o["target"], set(o["ccs"]), seconds(o["start"]), seconds(o["end"]))
               for o in truth["outages"]]
    droughts = [(d["cc"], d["asn"], seconds(d["start"]), seconds(d["end"]))
                for d in truth["droughts"]]

    counts = collections.Counter()
    wrong = collections.defaultdict(list)
    total = 0
    db = sqlite3.connect(a.store)
    rows = db.execute("SELECT start_time, probe_cc, probe_asn, target, verdict, blocking_type, "
                      "measurement_uid FROM verdicts WHERE rules_version = "
                      "(SELECT max(rules_version) FROM rules_versions)")
    for t, cc, asn, target, verdict, blocking_type, uid in rows:
        total += 1
        counts[(cc, asn, target, "before" if t < event else "after", verdict)] += 1
        expected = None
        for start, end, kind in blocked.get((cc, asn, target), []):
            if start <= t < end:
                expected = ("blocked", kind)
        for o_target, ccs, start, end in outages:
            if expected is None and o_target == target and cc in ccs and start <= t < end:
                expected = ("down", "")
        what = "%s AS%d %s %s: %s %s" % (cc, asn, target, time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)), verdict, blocking_type or "-")
        if expected is None:
            if verdict not in ("ok", "down", "error"):
                wrong["blocked where nothing was"].append(what)
        elif (verdict, blocking_type) != expected:
            wrong["expected %s %s" % expected].append(what)
        if any(c == cc and n == asn and s <= t < e for c, n, s, e in droughts):
            wrong["inside a drought"].append(what)

    for row in truth["counts"]:
        for verdict in ("ok", "blocked", "down", "error", "anomaly", "no_network"):
            key = (row["cc"], row["asn"], row["target"], row["phase"], verdict)
            found, expected = counts.pop(key, 0), row.get(verdict, 0)
            if found != expected:
                wrong["counts"].append("%s AS%d %s %s %s: %d, the truth says %d" % (
                    key + (found, expected)))
    for key, n in counts.items():
        wrong["counts"].append("%s AS%d %s %s %s: %d, none in the truth" % (key + (n,)))
    if total != truth["measurements"]:
        wrong["total"].append("%d verdicts, the truth says %d measurements" %
                              (total, truth["measurements"]))

    for kind, items in wrong.items():
        print("%s: %d" % (kind, len(items)))
        for item in items[:a.shown]:
            print("  " + item)
    print("%d verdicts checked; %s" % (total, "differences found" if wrong else "as the truth says"))
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
