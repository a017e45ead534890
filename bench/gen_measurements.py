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
import base64
import json
import random
import sys

NETWORKS = [("IR", 197207, "Mobile Communication Company of Iran PLC"),
            ("IR", 44244, "Iran Cell Service and Communication Company"),
            ("RU", 12389, "Rostelecom"), ("RU", 8359, "MTS PJSC"),
            ("CN", 4134, "Chinanet"), ("CN", 4837, "China Unicom"),
            ("TR", 9121, "Turk Telekom"), ("EG", 8452, "TE Data"),
            ("PK", 17557, "Pakistan Telecommunication Company"), ("US", 7922, "Comcast")]
FORGED = {"IR": "10.10.34.35", "RU": "95.213.158.61", "CN": "243.185.187.39",
          "TR": "195.175.254.2", "EG": "127.0.0.1", "PK": "203.82.48.3", "US": None}
BLOCKPAGE = {"IR": "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
                   "charset=windows-1256\"><title>M1-6</title></head><body><iframe "
                   "src=\"http://10.10.34.34?type=Invalid Site&policy=MainPolicy\" "
                   "style=\"width: 100%; height: 100%\" scrolling=\"no\" marginwidth=\"0\" "
                   "marginheight=\"0\" frameborder=\"0\" vspace=\"0\" hspace=\"0\"></iframe>"
                   "</body></html>",
             "TR": "<html><head><title>Telekomunikasyon Iletisim Baskanligi</title></head>"
                   "<body>Bu internet sitesi hakkinda verilen karar geregince erisim "
                   "engellenmistir.</body></html>"}
WEB_FRONTS = ["https://web.whatsapp.com/", "https://web.telegram.org/", "https://signal.org/",
              "https://www.messenger.com/", "https://web.wechat.com/", "https://www.viber.com/",
              "https://line.me/", "https://threema.ch/"]
TELEGRAM_DCS = ["149.154.175.50", "149.154.167.51", "149.154.175.100", "149.154.167.91",
                "149.154.171.5"]
START = 1704067200  # 2024-01-01
SPAN = 180 * 86400


def ts(t):
    import time
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.tid = 0

    def outcome(self, cc):
        # Per country a share of blocked runs, split over techniques.
        blocked = {"IR": 0.55, "RU": 0.35, "CN": 0.7, "TR": 0.3, "EG": 0.25, "PK": 0.2}.get(cc, 0.02)
        x = self.r.random()
        if x >= blocked:
            return "ok" if self.r.random() > 0.03 else "down"
        return self.r.choice(["dns", "rst", "timeout", "blockpage"])

    def query(self, host, answers, failure=None):
        self.tid += 1
        return {"answers": None if failure else [
                    {"asn": a[1], "as_org_name": "AS%d" % a[1], "answer_type": "A",
                     "ipv4": a[0], "ttl": None} for a in answers],
                "engine": "system", "failure": failure, "hostname": host, "query_type": "A",
                "resolver_hostname": None, "resolver_port": None, "resolver_address": "",
                "t0": round(self.r.random(), 6), "t": round(self.r.random() + 0.05, 6),
                "tags": [], "transaction_id": self.tid}

    def tcp(self, ip, port, failure=None):
        self.tid += 1
        return {"ip": ip, "port": port, "status": {"blocked": failure is not None,
                "failure": failure, "success": failure is None},
                "t0": round(self.r.random(), 6), "t": round(self.r.random() + 0.1, 6),
                "tags": [], "transaction_id": self.tid}

    def tls(self, ip, port, sni, failure=None):
        self.tid += 1
        cert = base64.b64encode(self.r.randbytes(900)).decode()
        return {"network": "tcp", "address": "%s:%d" % (ip, port), "cipher_suite":
                "" if failure else "TLS_AES_128_GCM_SHA256", "failure": failure,
                "negotiated_protocol": "" if failure else "h2", "no_tls_verify": False,
                "peer_certificates": [] if failure else [{"data": cert, "format": "base64"}],
                "server_name": sni, "t0": round(self.r.random(), 6),
                "t": round(self.r.random() + 0.2, 6), "tags": [], "tls_version":
                "" if failure else "TLSv1.3", "transaction_id": self.tid}

    def request(self, url, failure=None, code=200, body=None):
        self.tid += 1
        if body is None and failure is None:
            body = "<!DOCTYPE html><html><head><title>%s</title></head><body>%s</body></html>" % (
                url, "x" * self.r.randint(400, 1600))
        return {"failure": failure, "request": {"body": "", "body_is_truncated": False,
                "headers_list": [["Accept", "*/*"], ["Host", url.split("/")[2]],
                                 ["User-Agent", "Mozilla/5.0"]],
                "headers": {"Accept": "*/*", "Host": url.split("/")[2], "User-Agent": "Mozilla/5.0"},
                "method": "GET", "tor": {"exit_ip": None, "exit_name": None, "is_tor": False},
                "x_transport": "tcp", "url": url},
                "response": {"body": body, "body_is_truncated": False, "code": 0 if failure else code,
                             "headers_list": [] if failure else [["Content-Type", "text/html"],
                                                                 ["Server", "nginx"]],
                             "headers": {} if failure else {"Content-Type": "text/html",
                                                            "Server": "nginx"}},
                "t0": round(self.r.random(), 6), "t": round(self.r.random() + 0.3, 6),
                "tags": [], "transaction_id": self.tid}

    def step(self, cc, asn, host, ip, port, url, outcome):
        """DNS, TCP, TLS and HTTP of one endpoint under `outcome`."""
        q, t, h, r = [], [], [], []
        forged = FORGED.get(cc) or "10.0.0.1"
        if outcome == "dns":
            q.append(self.query(host, [(forged, 0)]))
            t.append(self.tcp(forged, port, "generic_timeout_error"))
            return q, t, h, r
        q.append(self.query(host, [(ip, 32934)]))
        if outcome == "down" and self.r.random() < 0.5:
            t.append(self.tcp(ip, port, "connection_refused"))
            return q, t, h, r
        if outcome == "timeout":
            t.append(self.tcp(ip, port, "generic_timeout_error"))
            return q, t, h, r
        t.append(self.tcp(ip, port))
        if port == 443:
            h.append(self.tls(ip, port, host, "connection_reset" if outcome == "rst" else None))
            if outcome == "rst":
                return q, t, h, r
        if url:
            if outcome == "blockpage" and cc in BLOCKPAGE:
                r.append(self.request(url, None, 200, BLOCKPAGE[cc]))
            elif outcome == "rst":
                r.append(self.request(url, "connection_reset"))
            else:
                r.append(self.request(url))
        return q, t, h, r

    def envelope(self, test, version, cc, asn, network, t, keys, inp=None):
        rid = "%sT%sZ_%s_%s_%d_n1_%016x" % (ts(t)[:10].replace("-", ""),
                                             ts(t)[11:].replace(":", ""), test, cc, asn,
                                             self.r.getrandbits(64))
        return {"annotations": {"architecture": "arm64", "engine_name": "ooniprobe-engine",
                                "engine_version": "3.20.1", "platform": "android"},
                "data_format_version": "0.2.0", "extensions": {"dnst": 0, "httpt": 0, "netevents": 0,
                                                               "tcpconnect": 0, "tlshandshake": 0},
                "input": inp, "measurement_start_time": ts(t), "probe_asn": "AS%d" % asn,
                "probe_cc": cc, "probe_ip": "127.0.0.1", "probe_network_name": network,
                "report_id": rid, "resolver_asn": "AS%d" % asn, "resolver_ip": "10.0.0.53",
                "resolver_network_name": network, "software_name": "ooniprobe-android",
                "software_version": "3.8.6", "test_keys": keys, "test_name": test,
                "test_runtime": round(self.r.random() * 10, 6), "test_start_time": ts(t),
                "test_version": version}

    def messaging(self, test, cc, asn, network, t):
        q, tc, th, rq = [], [], [], []
        status = {}
        if test == "telegram":
            bad = 0
            for ip in TELEGRAM_DCS:
                o = self.outcome(cc)
                for port in (80, 443):
                    a, b, c, d = self.step(cc, asn, "", ip, port, None, "ok" if o == "dns" else o)
                    tc += b
                    bad += any(x["status"]["failure"] for x in b)
            a, b, c, d = self.step(cc, asn, "web.telegram.org", "149.154.167.99", 443,
                                   "https://web.telegram.org/", self.outcome(cc))
            q += a; tc += b; th += c; rq += d
            web_ok = bool(d) and d[0]["failure"] is None
            status = {"telegram_http_blocking": bad == 2 * len(TELEGRAM_DCS),
                      "telegram_tcp_blocking": bad == 2 * len(TELEGRAM_DCS),
                      "telegram_web_failure": None if web_ok else "generic_timeout_error",
                      "telegram_web_status": "ok" if web_ok else "blocked"}
            return self.envelope("telegram", "0.3.0", cc, asn, network, t, dict(
                agent="redirect", failed_operation=None, failure=None, network_events=[],
                queries=q, requests=rq, socksproxy=None, tcp_connect=tc, tls_handshakes=th,
                **status))
        hosts = {"whatsapp": [("e1.whatsapp.net", 443), ("e2.whatsapp.net", 5222),
                              ("v.whatsapp.net", 443), ("web.whatsapp.com", 443)],
                 "signal": [("textsecure-service.whispersystems.org", 443),
                            ("storage.signal.org", 443), ("cdn.signal.org", 443),
                            ("sfu.voip.signal.org", 443)],
                 "facebook_messenger": [("b-api.facebook.com", 443), ("b-graph.facebook.com", 443),
                                        ("edge-mqtt.facebook.com", 443),
                                        ("external.xx.fbcdn.net", 443),
                                        ("scontent.xx.fbcdn.net", 443),
                                        ("star.c10r.facebook.com", 443)]}[test]
        failed = 0
        for host, port in hosts:
            o = self.outcome(cc)
            ip = "157.240.%d.%d" % (self.r.randint(0, 255), self.r.randint(1, 254))
            url = "https://%s/" % host if host.startswith(("web.", "v.", "storage.")) else None
            a, b, c, d = self.step(cc, asn, host, ip, port, url, o)
            q += a; tc += b; th += c; rq += d
            failed += o not in ("ok",)
        any_failed = failed > 0
        if test == "whatsapp":
            status = {"registration_server_failure": None if not any_failed else "generic_timeout_error",
                      "registration_server_status": "blocked" if any_failed else "ok",
                      "whatsapp_endpoints_blocked": [], "whatsapp_endpoints_dns_inconsistent": [],
                      "whatsapp_endpoints_status": "blocked" if failed == len(hosts) else "ok",
                      "whatsapp_web_failure": None, "whatsapp_web_status": "ok" if not any_failed else "blocked"}
            version = "0.11.0"
        elif test == "signal":
            status = {"signal_backend_failure": "generic_timeout_error" if any_failed else None,
                      "signal_backend_status": "blocked" if any_failed else "ok"}
            version = "0.2.5"
        else:
            status = {"facebook_dns_blocking": False, "facebook_tcp_blocking": any_failed}
            for key in ("b_api", "b_graph", "edge", "external_cdn", "scontent_cdn", "star"):
                status["facebook_%s_dns_consistent" % key] = True
                status["facebook_%s_reachable" % key] = not any_failed
            version = "0.2.0"
        return self.envelope(test, version, cc, asn, network, t, dict(
            agent="redirect", failed_operation=None, failure=None, network_events=[], queries=q,
            requests=rq, socksproxy=None, tcp_connect=tc, tls_handshakes=th, **status))

    def web(self, cc, asn, network, t):
        url = self.r.choice(WEB_FRONTS)
        host = url.split("/")[2]
        o = self.outcome(cc)
        ip = "31.13.%d.%d" % (self.r.randint(0, 255), self.r.randint(1, 254))
        q, tc, th, rq = self.step(cc, asn, host, ip, 443, url, o)
        blocking = {"ok": False, "down": False, "dns": "dns", "rst": "http-failure",
                    "timeout": "tcp_ip", "blockpage": "http-diff" if cc in BLOCKPAGE else False}[o]
        control = {"dns": {"addrs": [ip], "failure": None},
                   "http_request": {"body_length": 1500, "failure": None, "headers": {"Server": "nginx"},
                                    "status_code": 200, "title": url},
                   "tcp_connect": {"%s:443" % ip: {"failure": None, "status": True}}}
        keys = dict(agent="redirect", client_resolver="10.0.0.53", retries=None, socksproxy=None,
                    network_events=[], queries=q, tcp_connect=tc, tls_handshakes=th, requests=rq,
                    x_status=0, dns_experiment_failure=None, dns_consistency=
                    "inconsistent" if o == "dns" else "consistent", control_failure=None,
                    control=control, http_experiment_failure=rq[0]["failure"] if rq else
                    (tc[0]["status"]["failure"] if tc else None), body_length_match=o == "ok",
                    body_proportion=1 if o == "ok" else 0.1, status_code_match=True,
                    headers_match=True, title_match=o == "ok", accessible=o == "ok",
                    blocking=blocking)
        return self.envelope("web_connectivity", "0.4.3", cc, asn, network, t, keys, url)

    def one(self):
        cc, asn, network = self.r.choice(NETWORKS)
        t = START + self.r.randrange(SPAN)
        kind = self.r.choices(["whatsapp", "telegram", "signal", "facebook_messenger", "web"],
                              [3, 3, 2, 2, 4])[0]
        if kind == "web":
            return self.web(cc, asn, network, t)
        return self.messaging(kind, cc, asn, network, t)


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
