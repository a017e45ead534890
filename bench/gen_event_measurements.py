#!/usr/bin/env python3
"""Synthetic messaging measurements around a dated event, with their ground truth.

Writes whatsapp, telegram, signal and facebook_messenger measurements as JSONL in
OONI's df-000 shape with vigil's own keys (the control helper's view of failed steps,
x_control; the network check, x_network), --per-hour of each target from each network
in every hour from --days-before the event to --days-after it, for the end-to-end
tests of change detection and event correlation (`vigil events`) and for benchmarks.
The truth (--truth, JSON) says what the analyzer should find:
  series    per (cc, asn, target) the intervals blocked: start, end (null: still at
            the window's end), technique (sni_rst, dns_injection, blackhole), the
            analyzer's blocking_type for it, onset_hours after the event (null for
            blocking older than the window)
  outages   global outages: target, start, end, the countries, the verdict (down)
  droughts  networks that sent nothing: cc, asn, start, end
  event     the event's timeline row (--timeline writes it as a timeline CSV)
  counts    per (cc, asn, target, phase before/after the event) the measurements
            made to get each verdict (ok, blocked, down, error)
and the window, networks, targets, seed, and the number of measurements.

Every scenario has a background: CN (AS4134 Chinanet, AS4837 China Unicom, AS9808
China Mobile) blocks facebook_messenger by resetting TLS handshakes by server name,
before and after the event alike; the controls in HK (AS4760) and TW (AS3462) block
nothing; and a --noise share of the measurements that would be ok instead fail for
the server's sake - a refused endpoint the control helper could not reach either
(verdict down) or, for signal, a certificate an old CA store could not verify (error).
  crackdown  after the event, whatsapp's names get forged DNS answers (the Great
             Firewall's known addresses) on all three CN networks from 12 h, and
             telegram's connects time out on AS4134 and AS4837 from 33 h; signal is
             left alone; AS4837 sends no measurements for a day while blocked (a
             drought, not an unblocking); and signal fails everywhere for a few hours
             at another time, the control helper included (a global outage: down)
  outage     only the global outage of signal
  quiet      nothing changes

Measurements of one template differ in time, report id and (among a few variants per
template) addresses and timings; building them is string formatting: ten million
(about 6 KB each) take well under a minute, and about five with a --out ending in .gz
(gzip'ed: about 0.5 KB each). Deterministic for a given --seed.

    bench/gen_event_measurements.py --event-time 2014-05-27T00:00:00Z --days-before 7 \\
        --days-after 7 --per-hour 2 --seed 1 --out /tmp/m.jsonl --truth /tmp/truth.json \\
        --timeline /tmp/timeline.csv
"""
import argparse
import calendar
import csv
import gzip
import json
import os
import random
import sys
import time

# The builder sits beside this file; no bytecode cache in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measurement_builder import MeasurementBuilder, TELEGRAM_DCS, MESSAGING_HOSTS  # noqa: E402

NETWORKS = [("CN", 4134, "Chinanet"), ("CN", 4837, "China Unicom"), ("CN", 9808, "China Mobile"),
            ("HK", 4760, "HKT Limited"), ("TW", 3462, "Chunghwa Telecom")]
TARGETS = ["facebook_messenger", "signal", "telegram", "whatsapp"]
# The Great Firewall's forged answers (testlists/fingerprints/fingerprints_dns.csv,
# ooni.cn_*): the analyzer confirms them for CN.
GFW_FORGED = ["8.7.198.45", "37.61.54.158", "46.82.174.68", "78.16.49.15", "93.46.8.89",
              "159.106.121.75", "203.98.7.65", "59.24.3.173", "243.185.187.39"]
# Techniques: the endpoint outcome that makes them (measurement_builder's), and the
# analyzer's blocking type that names them.
TECHNIQUES = {"sni_rst": ("rst", "tls"), "dns_injection": ("dns", "dns"),
              "blackhole": ("timeout", "tcp_ip")}
# What the analyzer should call a measurement made in each state.
VERDICT_OF_STATE = {"ok": "ok", "rst": "blocked", "dns": "blocked", "timeout": "blocked",
                    "outage": "down", "noise_down": "down", "noise_error": "error"}
VERDICTS = ["ok", "blocked", "down", "error"]
SCENARIOS = ["crackdown", "outage", "quiet"]
VARIANTS = 8  # built per template
HOUR = 3600


def parse_time(text):
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return calendar.timegm(time.strptime(text, fmt))
        except ValueError:
            pass
    raise argparse.ArgumentTypeError("not YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ: %r" % text)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class EventBuilder(MeasurementBuilder):
    """vigil's measurements, with smaller certificates and pages than gen_measurements.py's."""
    cert_bytes = 96
    body_min, body_max = 64, 256
    vigil_keys = True

    def forged_address(self, cc):
        return self.r.choice(GFW_FORGED) if cc == "CN" else super().forged_address(cc)


class Plan:
    """What happens where and when in a scenario: blocked intervals per series, global
    outages, droughts. Times are Unix seconds; an end of None is the window's end."""

    def __init__(self, scenario, event, start, end, outage_hours):
        self.series = {}  # (cc, asn, target) -> [(start, end, technique, onset_hours)]
        self.outages = []  # (target, start, end)
        self.droughts = []  # (cc, asn, start, end)
        self.start, self.end = start, end
        for cc, asn, _ in NETWORKS:
            for target in TARGETS:
                self.series[(cc, asn, target)] = []
        for cc, asn, _ in NETWORKS:
            if cc == "CN":
                self.block(cc, asn, "facebook_messenger", start, "sni_rst", None)
        if scenario in ("crackdown", "outage"):
            # Before the event when there is room, else late after it.
            if event - start >= 2 * HOUR:
                at = event - (event - start) // HOUR // 2 * HOUR + 2 * HOUR
            else:
                at = event + (end - event) // HOUR * 3 // 4 * HOUR
            self.outage("signal", at, at + outage_hours * HOUR)
        if scenario == "crackdown":
            for asn in (4134, 4837, 9808):
                self.block("CN", asn, "whatsapp", event + 12 * HOUR, "dns_injection", 12)
            for asn in (4134, 4837):
                self.block("CN", asn, "telegram", event + 33 * HOUR, "blackhole", 33)
            self.drought("CN", 4837, event + 57 * HOUR, event + 81 * HOUR)

    def block(self, cc, asn, target, at, technique, onset_hours):
        if at < self.end:
            self.series[(cc, asn, target)].append((max(at, self.start), None, technique,
                                                   onset_hours))

    def outage(self, target, at, until):
        at, until = max(at, self.start), min(until, self.end)
        if at < until:
            self.outages.append((target, at, until))

    def drought(self, cc, asn, at, until):
        at, until = max(at, self.start), min(until, self.end)
        if at < until:
            self.droughts.append((cc, asn, at, until))

    def changes(self, cc, asn, target):
        """[(start, end, state)] of the series, blocking first."""
        out = [(s, e if e is not None else self.end, TECHNIQUES[tech][0])
               for s, e, tech, _ in self.series[(cc, asn, target)]]
        out += [(s, e, "outage") for t, s, e in self.outages if t == target]
        return out


class Templates:
    """Per (test, network, state) a few measurements, each as three byte strings: the
    head, a %-format whose slots are the start time, the report id's time and its
    random part; the middle, as it is (the test keys: most of the bytes, which are
    then only copied); and the tail, whose slot is the start time again."""

    def __init__(self, seed):
        self.builder = EventBuilder(random.Random("templates-%d" % seed))
        self.cache = {}

    def get(self, test, cc, asn, network, state):
        key = (test, asn, state)
        variants = self.cache.get(key)
        if variants is None:
            variants = self.cache[key] = [self.build(test, cc, asn, network, state)
                                          for _ in range(VARIANTS)]
        return variants

    def build(self, test, cc, asn, network, state):
        b = self.builder
        b.tid = 0
        count = len(TELEGRAM_DCS) + 1 if test == "telegram" else len(MESSAGING_HOSTS[test])
        if state in ("noise_down", "noise_error"):
            outcomes = ["ok"] * count
            outcomes[b.r.randrange(count)] = "refused" if state == "noise_down" else "unknown_ca"
        else:
            outcomes = [state] * count
        m = b.messaging(test, cc, asn, network, 0, iter(outcomes).__next__)
        m["measurement_start_time"] = m["test_start_time"] = "@@TIME@@"
        m["report_id"] = "@@ID_TIME@@Z_%s_%s_%d_n1_@@ID_RANDOM@@" % (test, cc, asn)
        text = json.dumps(m, separators=(",", ":")) + "\n"
        # The envelope's keys come in this order (MeasurementBuilder.envelope).
        middle = text.index("@@ID_RANDOM@@") + len("@@ID_RANDOM@@")
        tail = text.rindex("@@TIME@@")
        head = (text[:middle].replace("%", "%%").replace("@@TIME@@", "%s")
                .replace("@@ID_TIME@@", "%s").replace("@@ID_RANDOM@@", "%016x"))
        assert head.count("%s") == 2 and "@@" not in text[middle:tail], "envelope key order"
        return (head.encode(), text[middle:tail].encode(),
                text[tail:].replace("%", "%%").replace("@@TIME@@", "%s").encode())


class Clock:
    """The start time's two spellings (OONI's and the report id's) of second t, as
    bytes, cached per minute."""

    SECONDS = [b"%02d" % s for s in range(60)]

    def __init__(self):
        self.minutes = {}

    def __call__(self, t):
        minute = t // 60
        m = self.minutes.get(minute)
        if m is None:
            if len(self.minutes) > 4096:
                self.minutes.clear()
            g = time.gmtime(minute * 60)
            m = self.minutes[minute] = (time.strftime("%Y-%m-%d %H:%M:", g).encode(),
                                        time.strftime("%Y%m%dT%H%M", g).encode())
        s = self.SECONDS[t % 60]
        return m[0] + s, m[1] + s


def generate(args, out):
    """Writes the measurements to `out`; returns the plan and the verdict counts."""
    event = args.event_time
    start, end = event - args.days_before * 86400, event + args.days_after * 86400
    plan = Plan(args.scenario, event, start, end, args.outage_hours)
    templates = Templates(args.seed)
    r = random.Random(args.seed)
    rand, bits = r.random, r.getrandbits
    clock = Clock()
    per_hour, noise = args.per_hour, args.noise
    # (network, target, changes, counts before, counts after) of every series.
    series = []
    for cc, asn, network in NETWORKS:
        for target in TARGETS:
            series.append(((cc, asn, network), target, plan.changes(cc, asn, target),
                           dict.fromkeys(VERDICTS, 0), dict.fromkeys(VERDICTS, 0)))
    droughts = {(cc, asn): [(s, e) for c, a, s, e in plan.droughts if (c, a) == (cc, asn)]
                for cc, asn, _ in NETWORKS}
    total = 0
    for hour_start in range(start, end, HOUR):
        parts = []
        for (cc, asn, network), target, changes, before, after in series:
            dry = droughts[(cc, asn)]
            for i in range(per_hour):
                t = hour_start + int((i + rand()) * HOUR / per_hour)
                if t >= end or any(s <= t < e for s, e in dry):
                    continue
                state = "ok"
                for s, e, st in changes:
                    if s <= t < e:
                        state = st
                        break
                if state == "ok" and rand() < noise:
                    state = "noise_error" if target == "signal" and rand() < 0.5 else "noise_down"
                head, middle, tail = templates.get(target, cc, asn, network, state)[
                    int(rand() * VARIANTS)]
                when, id_time = clock(t)
                parts += (head % (when, id_time, bits(64)), middle, tail % when)
                (before if t < event else after)[VERDICT_OF_STATE[state]] += 1
                if len(parts) >= 3 * 256:  # a megabyte or two at a time
                    out.write(b"".join(parts))
                    total += len(parts) // 3
                    parts = []
        out.write(b"".join(parts))
        total += len(parts) // 3
    return plan, series, total


def timeline_row(args):
    """The event as a timeline row (analysis/correlate/timeline.h's columns)."""
    day = time.strftime("%Y-%m-%d", time.gmtime(args.event_time))
    return {"id": "synthetic-cn-im-%s" % day, "start": iso(args.event_time), "end": "",
            "cc": "CN", "asns": "", "targets": "", "category": "campaign",
            "description": "Synthetic event: a campaign against instant messaging services "
                           "announced (bench/gen_event_measurements.py, scenario %s, seed %d)"
                           % (args.scenario, args.seed),
            "source_url": "https://example.org/synthetic"}


def truth(args, plan, series, total):
    def interval(s, e):
        return {"start": iso(s), "end": None if e is None else iso(e)}

    rows, counts = [], []
    for (cc, asn, _), target, _, before, after in series:
        blocked = []
        for s, e, technique, onset in plan.series[(cc, asn, target)]:
            blocked.append(dict(interval(s, e), technique=technique,
                                blocking_type=TECHNIQUES[technique][1], onset_hours=onset))
        rows.append({"cc": cc, "asn": asn, "target": target, "blocked": blocked})
        for phase, c in (("before", before), ("after", after)):
            counts.append(dict({"cc": cc, "asn": asn, "target": target, "phase": phase}, **c))
    return {
        "generator": "bench/gen_event_measurements.py", "scenario": args.scenario,
        "seed": args.seed, "per_hour": args.per_hour, "noise": args.noise,
        "window": interval(args.event_time - args.days_before * 86400,
                           args.event_time + args.days_after * 86400),
        "event": timeline_row(args),
        "networks": [{"cc": cc, "asn": asn, "name": name} for cc, asn, name in NETWORKS],
        "targets": TARGETS,
        "series": rows,
        "outages": [dict(interval(s, e), target=t, ccs=sorted({n[0] for n in NETWORKS}),
                         verdict="down") for t, s, e in plan.outages],
        "droughts": [dict(interval(s, e), cc=cc, asn=asn) for cc, asn, s, e in plan.droughts],
        "measurements": total,
        "counts": counts,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--event-time", type=parse_time, default=parse_time("2014-05-27T00:00:00Z"),
                   help="the event, UTC: YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")
    p.add_argument("--days-before", type=int, default=7)
    p.add_argument("--days-after", type=int, default=7)
    p.add_argument("--per-hour", type=int, default=1,
                   help="measurements per network, target and hour")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--scenario", choices=SCENARIOS, default="crackdown")
    p.add_argument("--noise", type=float, default=0.02,
                   help="share of measurements that would be ok but fail for the server's sake")
    p.add_argument("--outage-hours", type=int, default=4)
    p.add_argument("--out", default="-", help="JSONL file (.gz: gzip'ed); - is stdout")
    p.add_argument("--truth", help="write the ground truth here (JSON)")
    p.add_argument("--timeline", help="write the event's timeline CSV here")
    args = p.parse_args()
    if args.days_before < 0 or args.days_after < 1 or args.per_hour < 1:
        p.error("--days-before must be >= 0, --days-after and --per-hour >= 1")
    if args.out == "-":
        out = sys.stdout.buffer
    elif args.out.endswith(".gz"):
        out = gzip.open(args.out, "wb", compresslevel=1)
    else:
        out = open(args.out, "wb")
    plan, series, total = generate(args, out)
    if out is sys.stdout.buffer:
        out.flush()
    else:
        out.close()
    if args.truth:
        with open(args.truth, "w") as f:
            json.dump(truth(args, plan, series, total), f, indent=1)
            f.write("\n")
    if args.timeline:
        row = timeline_row(args)
        with open(args.timeline, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(row), lineterminator="\n")
            w.writeheader()
            w.writerow(row)


if __name__ == "__main__":
    main()
