#!/usr/bin/env python3
"""Synthetic messaging measurements for the analyzer's benchmarks.

Writes N measurements as JSONL in OONI's df-000 shape (the keys and nesting real
OONI probes and ours write): whatsapp, telegram, signal, facebook_messenger and
web_connectivity over messaging services' web fronts, from several countries and
networks over several months, with a mix of outcomes - clean runs, DNS answers
forged to a censor's address, connections reset or timed out, block pages - and
sizes of a few KB each, like real ones. Deterministic for a given --seed.

    bench/gen_measurements.py --count 100000 --seed 1 > /tmp/m.jsonl
"""
import argparse
import json
import os
import random
import sys

# The builder sits beside this file; no bytecode cache in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measurement_builder import MeasurementBuilder  # noqa: E402

NETWORKS = [("IR", 197207, "Mobile Communication Company of Iran PLC"),
            ("IR", 44244, "Iran Cell Service and Communication Company"),
            ("RU", 12389, "Rostelecom"), ("RU", 8359, "MTS PJSC"),
            ("CN", 4134, "Chinanet"), ("CN", 4837, "China Unicom"),
            ("TR", 9121, "Turk Telekom"), ("EG", 8452, "TE Data"),
            ("PK", 17557, "Pakistan Telecommunication Company"), ("US", 7922, "Comcast")]
START = 1704067200  # 2024-01-01
SPAN = 180 * 86400


class Gen(MeasurementBuilder):
    def __init__(self, seed):
        super().__init__(random.Random(seed))

    def outcome(self, cc):
        # Per country a share of blocked runs, split over techniques.
        blocked = {"IR": 0.55, "RU": 0.35, "CN": 0.7, "TR": 0.3, "EG": 0.25, "PK": 0.2}.get(cc, 0.02)
        x = self.r.random()
        if x >= blocked:
            return "ok" if self.r.random() > 0.03 else "down"
        return self.r.choice(["dns", "rst", "timeout", "blockpage"])

    def one(self):
        cc, asn, network = self.r.choice(NETWORKS)
        t = START + self.r.randrange(SPAN)
        kind = self.r.choices(["whatsapp", "telegram", "signal", "facebook_messenger", "web"],
                              [3, 3, 2, 2, 4])[0]
        if kind == "web":
            return self.web(cc, asn, network, t, lambda: self.outcome(cc))
        return self.messaging(kind, cc, asn, network, t, lambda: self.outcome(cc))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--output", default="-")
    a = p.parse_args()
    g = Gen(a.seed)
    out = sys.stdout if a.output == "-" else open(a.output, "w")
    for _ in range(a.count):
        out.write(json.dumps(g.one(), separators=(",", ":")))
        out.write("\n")
    out.close()


if __name__ == "__main__":
    main()
