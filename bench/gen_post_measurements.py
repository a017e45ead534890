#!/usr/bin/env python3
"""Synthetic wechat_posts measurements around a campaign, with their ground truth.

Writes the measurements `vigil run wechat_posts` makes of followed public-account
articles (JSONL, the probe's keys: post_url, post_status, post_failure,
post_failed_operation, x_status_code, x_title, x_content_sha256, x_notice,
x_notice_provenance, x_unknown_reason, x_failures, and the fetch in queries,
tcp_connect, tls_handshakes, requests; docs/experiments.md "wechat_posts"), the post list
that names the articles' accounts (--posts DIR: DIR/followed.csv), a timeline of the
campaign (--timeline) and the truth (--truth, JSON), for the end-to-end test of removals
in `vigil events` (tests/apps/events_command_test.cc).

One vantage (CN, AS4134) measures each article every 6 hours (a few minutes past the
hour, per article) from --days-before the event to --days-after it; "sparse" articles
only once a day at 12:00. The articles' roles, around the event E:
  after       removed from E + 2 h to E + 60 h (7 deleted by author, 4 removed for
              violation, 1 account blocked); one of them (lab-a05) is unreachable at the
              two measurements after its removal, which widens its interval
  straddle    sparse; removed at E + 3 h, so last seen available at E - 12 h and first
              seen removed at E + 12 h: the interval straddles the event
  before      removed for violation at E - 40 h
  flap        removed for violation at E - 30 h, available again from E - 20 h (an appeal)
  never       deleted before the window starts: never seen available
  unseen      every fetch times out: never a usable measurement
  available   still there; one (lab-a19) answers HTTP 503 twice (status unknown)
The truth lists each article: role, account, the true removal time and class, and what
the analyzer should report: state, last seen available, first seen removed, flaps.
Deterministic for a given --seed (which only moves the minutes past the hour).

    bench/gen_post_measurements.py --event-time 2024-05-21T00:00:00Z --out /tmp/p.jsonl \\
        --posts /tmp/posts --truth /tmp/posts-truth.json --timeline /tmp/posts-timeline.csv
"""
import argparse
import calendar
import csv
import hashlib
import json
import os
import random
import sys
import time

# The builder sits beside this file; no bytecode cache in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measurement_builder import MeasurementBuilder  # noqa: E402

HOUR = 3600
DAY = 86400
HOST = "mp.weixin.qq.com"
ADDRESS = "203.205.235.101"
ACCOUNTS = ["城市观察", "山河评论", "新知周刊", "实验室日报"]
# The platform's notices (testlists/fingerprints/wechat_posts.csv).
NOTICES = {"deleted_by_author": "该内容已被发布者删除",
           "removed_for_violation": "此内容因违规无法查看",
           "account_blocked": "此帐号已被屏蔽"}
# (id, role, class, removal hours from the event, available again hours, sparse)
ARTICLES = [
    ("a01", "after", "deleted_by_author", 2, None, False),
    ("a02", "after", "deleted_by_author", 5, None, False),
    ("a03", "after", "deleted_by_author", 9, None, False),
    ("a04", "after", "deleted_by_author", 14, None, False),
    ("a05", "after", "deleted_by_author", 20, None, False),
    ("a06", "after", "deleted_by_author", 27, None, False),
    ("a07", "after", "deleted_by_author", 33, None, False),
    ("a08", "after", "removed_for_violation", 7, None, False),
    ("a09", "after", "removed_for_violation", 16, None, False),
    ("a10", "after", "removed_for_violation", 40, None, False),
    ("a11", "after", "removed_for_violation", 52, None, False),
    ("a12", "after", "account_blocked", 60, None, False),
    ("a13", "straddle", "deleted_by_author", 3, None, True),
    ("a14", "straddle", "removed_for_violation", 3, None, True),
    ("a15", "before", "removed_for_violation", -40, None, False),
    ("a16", "flap", "removed_for_violation", -30, -20, False),
    ("a17", "never", "deleted_by_author", -30 * 24, None, False),
    ("a18", "unseen", None, None, None, False),
    ("a19", "available", None, None, None, False),
    ("a20", "available", None, None, None, False),
    ("a21", "available", None, None, None, False),
    ("a22", "available", None, None, None, False),
    ("a23", "available", None, None, None, False),
    ("a24", "available", None, None, None, False),
]


def parse_time(text):
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return calendar.timegm(time.strptime(text, fmt))
        except ValueError:
            pass
    raise argparse.ArgumentTypeError("not YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ: %r" % text)


def iso(t):
    return None if t is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def url_of(article_id):
    return "https://%s/s/lab-%s" % (HOST, article_id)


def account_of(index):
    return ACCOUNTS[index % len(ACCOUNTS)]


def title_of(article_id):
    return "观察笔记 %s" % article_id


def article_page(title, text):
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s</title></head><body>"
            "<div class=\"rich_media_wrp\" id=\"img-content\"><h1 class=\"rich_media_title\" "
            "id=\"activity-name\">%s</h1><div class=\"rich_media_content\" id=\"js_content\">"
            "<p>%s</p></div></div></body></html>\n" % (title, title, text))


def notice_page(text):
    return ("<!DOCTYPE html><html><head><title></title></head><body><div class=\"weui-msg\">"
            "<h2 class=\"weui-msg__title\">%s</h2></div></body></html>" % text)


class PostBuilder(MeasurementBuilder):
    """vigil's wechat_posts measurements (its envelope, small certificates)."""
    cert_bytes = 96
    vigil_keys = True

    def post(self, t, url, status, title=None, text=None):
        """A measurement of `url` at `t` whose fetch found `status`."""
        keys = {"post_url": url, "post_status": status, "post_failure": None,
                "post_failed_operation": None, "x_status_code": None, "x_title": None,
                "x_content_sha256": None, "x_notice": None, "x_notice_provenance": None,
                "x_unknown_reason": None, "x_failures": [], "network_events": []}
        queries = [self.query(HOST, [(ADDRESS, 132203)])]
        if status == "unreachable":
            connects = [self.tcp(ADDRESS, 443, "generic_timeout_error")]
            handshakes, requests = [], []
            keys["post_failure"] = "generic_timeout_error"
            keys["post_failed_operation"] = "connect"
            keys["x_failures"] = [{"host": HOST, "port": 443, "operation": "connect",
                                   "failure": "generic_timeout_error"}]
        else:
            connects = [self.tcp(ADDRESS, 443)]
            handshakes = [self.tls(ADDRESS, 443, HOST)]
            if status == "available":
                code, body = 200, article_page(title, text)
                keys["x_title"] = title
                keys["x_content_sha256"] = hashlib.sha256(text.encode()).hexdigest()
            elif status == "unknown":
                code, body = 503, "<html><body>Service Unavailable</body></html>"
                keys["x_unknown_reason"] = "HTTP 503"
            else:
                code, body = 200, notice_page(NOTICES[status])
                keys["x_notice"] = NOTICES[status]
                keys["x_notice_provenance"] = "sample"
            keys["x_status_code"] = code
            requests = [self.request(url, code=code, body=body)]
        keys.update(queries=queries, tcp_connect=connects, tls_handshakes=handshakes,
                    requests=requests)
        return self.envelope("wechat_posts", "0.1.0", "CN", 4134, "Chinanet", t, keys, url)


def status_at(role, cls, removed_at, again_at, t):
    """What the platform shows of an article at `t`."""
    if role == "unseen":
        return "unreachable"
    if removed_at is None or t < removed_at:
        return "available"
    if again_at is not None and t >= again_at:
        return "available"
    return cls


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--event-time", type=parse_time, default=parse_time("2024-05-21T00:00:00Z"))
    p.add_argument("--days-before", type=int, default=7)
    p.add_argument("--days-after", type=int, default=7)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True, help="JSONL file")
    p.add_argument("--posts", help="write the post list here (a folder: followed.csv)")
    p.add_argument("--truth", help="write the ground truth here (JSON)")
    p.add_argument("--timeline", help="write the campaign's timeline CSV here")
    a = p.parse_args()
    rng = random.Random(a.seed)
    builder = PostBuilder(rng)
    event = a.event_time
    start, end = event - a.days_before * DAY, event + a.days_after * DAY
    truth = {"event": iso(event), "start": iso(start), "end": iso(end), "articles": []}
    lines = []
    for index, (aid, role, cls, removal_hours, again_hours, sparse) in enumerate(ARTICLES):
        url, title = url_of(aid), title_of(aid)
        removed_at = None if removal_hours is None else event + removal_hours * HOUR
        again_at = None if again_hours is None else event + again_hours * HOUR
        if sparse:
            times = list(range(start + 12 * HOUR, end, DAY))
        else:
            offset = 60 * rng.randint(1, 50)
            times = list(range(start + offset, end, 6 * HOUR))
        seen = []  # (t, status) of every measurement
        for t in times:
            status = status_at(role, cls, removed_at, again_at, t)
            if aid == "a05" and t >= removed_at and sum(1 for x, _ in seen if x >= removed_at) < 2:
                status = "unreachable"  # the two fetches after its removal time out
            if aid == "a19" and len([x for x, _ in seen if x >= event]) in (1, 2):
                status = "unknown"  # the platform answers 503
            seen.append((t, status))
            lines.append(builder.post(t, url, status, title, "%s 的正文。" % aid))
        usable = [(t, s) for t, s in seen if s not in ("unreachable", "unknown")]
        state, last_available, first_removed, flaps, run = "unseen", None, None, [], None
        for t, s in usable:
            if s == "available":
                if run is not None:
                    flaps.append({"first_removed": iso(run), "available_again": iso(t)})
                    run = None
                last_available = t
            elif run is None:
                run = t
        if run is not None:
            state, first_removed = ("removed" if last_available is not None else
                                    "never_available"), run
        elif last_available is not None:
            state = "available"
        truth["articles"].append({
            "url": url, "account": account_of(index), "title": title, "role": role,
            "removal": cls, "removed_at": iso(removed_at), "available_again": iso(again_at),
            "state": state, "last_available": iso(last_available),
            "first_removed": iso(first_removed), "flaps": flaps,
            "measurements": len(seen),
            "unreachable": sum(1 for _, s in seen if s == "unreachable"),
            "unknown": sum(1 for _, s in seen if s == "unknown")})
    lines.sort(key=lambda m: m["measurement_start_time"])
    with open(a.out, "w", encoding="utf-8") as out:
        for m in lines:
            out.write(json.dumps(m, ensure_ascii=False, separators=(",", ":")) + "\n")
    truth["measurements"] = len(lines)
    if a.posts:
        os.makedirs(a.posts, exist_ok=True)
        with open(os.path.join(a.posts, "followed.csv"), "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["url", "account", "title", "source", "date_added"])
            for index, row in enumerate(ARTICLES):
                w.writerow([url_of(row[0]), account_of(index), title_of(row[0]),
                            "bench/gen_post_measurements.py", time.strftime(
                                "%Y-%m-%d", time.gmtime(start))])
    if a.timeline:
        with open(a.timeline, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["id", "start", "end", "cc", "asns", "targets", "category", "description",
                        "source_url"])
            w.writerow(["posts-campaign", iso(event), "", "CN", "", "wechat+" + HOST,
                        "campaign", "A campaign against public accounts (synthetic)",
                        "https://example.org/campaign"])
    if a.truth:
        with open(a.truth, "w", encoding="utf-8") as f:
            json.dump(truth, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
