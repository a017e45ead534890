"""Builders of synthetic OONI measurements (df-000) for the benchmarks and tests.

MeasurementBuilder writes the parts of a measurement as OONI's probes and ours write
them - DNS queries, TCP connects, TLS handshakes, HTTP round trips, the envelope - and
whole whatsapp, telegram, signal, facebook_messenger and web_connectivity measurements
from per-endpoint outcomes. With `vigil_keys` set, messaging measurements also carry
the keys vigil's own probe adds (x_failures, x_control, x_dns_inconsistent,
x_partial_blocking, x_network; docs/experiments.md) and vigil's envelope. Every random
choice comes from the builder's `r`, so a seed gives the same bytes. Used by
gen_measurements.py and gen_event_measurements.py; one builder per thread.

Outcomes of an endpoint's steps (MeasurementBuilder.step):
  ok          every step works
  dns         the lookup answers a censor's forged address, whose connect times out
  down        half the time the connect is refused, else every step works
  refused     the connect is refused: the server failed everyone (the control too)
  outage      the connect times out: the server failed everyone (the control too)
  timeout     the connect times out: a censor dropped it (the control gets through)
  rst         the TLS handshake (and a fetch) is reset
  unknown_ca  the TLS handshake fails ssl_unknown_authority (an old CA store)
  blockpage   the fetch answers the country's block page
"""
import base64
import time

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
MESSAGING_HOSTS = {
    "whatsapp": [("e1.whatsapp.net", 443), ("e2.whatsapp.net", 5222), ("v.whatsapp.net", 443),
                 ("web.whatsapp.com", 443)],
    "signal": [("textsecure-service.whispersystems.org", 443), ("storage.signal.org", 443),
               ("cdn.signal.org", 443), ("sfu.voip.signal.org", 443)],
    "facebook_messenger": [("b-api.facebook.com", 443), ("b-graph.facebook.com", 443),
                           ("edge-mqtt.facebook.com", 443), ("external.xx.fbcdn.net", 443),
                           ("scontent.xx.fbcdn.net", 443), ("star.c10r.facebook.com", 443)]}
# Outcomes where the server failed everyone: the control helper fails the step too.
SERVER_FAILURES = ("refused", "outage")
# What the control helper writes for a connect that failed there as well.
HELPER_FAILURE = {"refused": "connection_refused_error", "outage": "generic_timeout_error"}
HELPER_URL = "https://helper.vigil.example/"


def ts(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


class MeasurementBuilder:
    # Sizes of what fills a measurement: a certificate's DER bytes, a page's body.
    cert_bytes = 900
    body_min, body_max = 400, 1600
    # Write vigil's keys and envelope (see the module's doc).
    vigil_keys = False

    def __init__(self, rng):
        self.r = rng
        self.tid = 0

    def forged_address(self, cc):
        """The address a censor of `cc` forges DNS answers to."""
        return FORGED.get(cc) or "10.0.0.1"

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
        cert = base64.b64encode(self.r.randbytes(self.cert_bytes)).decode()
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
                url, "x" * self.r.randint(self.body_min, self.body_max))
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
        if outcome == "dns":
            forged = self.forged_address(cc)
            q.append(self.query(host, [(forged, 0)]))
            t.append(self.tcp(forged, port, "generic_timeout_error"))
            return q, t, h, r
        q.append(self.query(host, [(ip, 32934)]))
        if (outcome == "down" and self.r.random() < 0.5) or outcome == "refused":
            t.append(self.tcp(ip, port, "connection_refused"))
            return q, t, h, r
        if outcome in ("timeout", "outage"):
            t.append(self.tcp(ip, port, "generic_timeout_error"))
            return q, t, h, r
        t.append(self.tcp(ip, port))
        if port == 443:
            tls_failure = {"rst": "connection_reset", "unknown_ca": "ssl_unknown_authority"}
            h.append(self.tls(ip, port, host, tls_failure.get(outcome)))
            if outcome in tls_failure:
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
        if self.vigil_keys:
            annotations = {"architecture": "x86_64", "engine_name": "vigil",
                           "engine_version": "0.1.0", "platform": "linux"}
            software = ("vigil", "0.1.0")
        else:
            annotations = {"architecture": "arm64", "engine_name": "ooniprobe-engine",
                           "engine_version": "3.20.1", "platform": "android"}
            software = ("ooniprobe-android", "3.8.6")
        return {"annotations": annotations,
                "data_format_version": "0.2.0", "extensions": {"dnst": 0, "httpt": 0, "netevents": 0,
                                                               "tcpconnect": 0, "tlshandshake": 0},
                "input": inp, "measurement_start_time": ts(t), "probe_asn": "AS%d" % asn,
                "probe_cc": cc, "probe_ip": "127.0.0.1", "probe_network_name": network,
                "report_id": rid, "resolver_asn": "AS%d" % asn, "resolver_ip": "10.0.0.53",
                "resolver_network_name": network, "software_name": software[0],
                "software_version": software[1], "test_keys": keys, "test_name": test,
                "test_runtime": round(self.r.random() * 10, 6), "test_start_time": ts(t),
                "test_version": version}

    def messaging(self, test, cc, asn, network, t, outcome):
        """A measurement of messaging test `test`; `outcome()` gives each endpoint's
        outcome in turn (telegram: five data centres, then Telegram Web)."""
        q, tc, th, rq = [], [], [], []
        seen = []  # (host, outcome, connects, handshakes, fetches) of each endpoint kept
        status = {}
        if test == "telegram":
            bad = 0
            for ip in TELEGRAM_DCS:
                o = outcome()
                for port in (80, 443):
                    a, b, c, d = self.step(cc, asn, "", ip, port, None, "ok" if o == "dns" else o)
                    tc += b
                    bad += any(x["status"]["failure"] for x in b)
                    seen.append((ip, "ok" if o == "dns" else o, b, [], []))
            o = outcome()
            a, b, c, d = self.step(cc, asn, "web.telegram.org", "149.154.167.99", 443,
                                   "https://web.telegram.org/", o)
            q += a; tc += b; th += c; rq += d
            seen.append(("web.telegram.org", o, b, c, d))
            web_ok = bool(d) and d[0]["failure"] is None
            status = {"telegram_http_blocking": bad == 2 * len(TELEGRAM_DCS),
                      "telegram_tcp_blocking": bad == 2 * len(TELEGRAM_DCS),
                      "telegram_web_failure": None if web_ok else "generic_timeout_error",
                      "telegram_web_status": "ok" if web_ok else "blocked"}
            keys = dict(agent="redirect", failed_operation=None, failure=None, network_events=[],
                        queries=q, requests=rq, socksproxy=None, tcp_connect=tc,
                        tls_handshakes=th, **status)
            self.add_vigil_keys(keys, seen)
            return self.envelope("telegram", "0.3.0", cc, asn, network, t, keys)
        hosts = MESSAGING_HOSTS[test]
        failed = 0
        for host, port in hosts:
            o = outcome()
            ip = "157.240.%d.%d" % (self.r.randint(0, 255), self.r.randint(1, 254))
            url = "https://%s/" % host if host.startswith(("web.", "v.", "storage.")) else None
            a, b, c, d = self.step(cc, asn, host, ip, port, url, o)
            q += a; tc += b; th += c; rq += d
            seen.append((host, o, b, c, d))
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
        keys = dict(agent="redirect", failed_operation=None, failure=None, network_events=[],
                    queries=q, requests=rq, socksproxy=None, tcp_connect=tc, tls_handshakes=th,
                    **status)
        self.add_vigil_keys(keys, seen)
        return self.envelope(test, version, cc, asn, network, t, keys)

    def add_vigil_keys(self, keys, seen):
        """vigil's keys of a messaging measurement whose endpoints went as `seen` says:
        the failed steps, the control helper's view of them (it fails a step too only
        where the server failed everyone), and the network check."""
        if not self.vigil_keys:
            return
        failures, steps, inconsistent = [], [], []
        control_tcp, control_tls = {}, {}
        endpoints_ok = endpoints_failed = 0
        for host, o, connects, handshakes, fetches in seen:
            failed = []
            if o == "dns":
                inconsistent.append(host)
                failed.append((host, 0, "resolve", "dns_inconsistent", None))
            for c in connects:
                if c["status"]["failure"]:
                    failed.append((host, c["port"], "connect", c["status"]["failure"], c))
            for h in handshakes:
                if h["failure"]:
                    failed.append((host, int(h["address"].rsplit(":", 1)[1]), "tls_handshake",
                                   h["failure"], h))
            if not failed:
                for f in fetches:
                    if f["failure"]:
                        failed.append((host, 443, "http_round_trip", f["failure"], f))
            if failed:
                endpoints_failed += 1
            else:
                endpoints_ok += 1
            for host_, port, operation, failure, record in failed:
                failures.append({"host": host_, "port": port, "operation": operation,
                                 "failure": failure})
                if failure == "dns_inconsistent":
                    control, control_failure = "not_measured", None
                elif o in SERVER_FAILURES:
                    control, control_failure = "failed_too", HELPER_FAILURE[o]
                else:
                    control, control_failure = "ok", None
                steps.append(dict(failures[-1], control=control, control_failure=control_failure))
                if operation == "connect":
                    control_tcp["%s:%d" % (record["ip"], port)] = {
                        "status": control == "ok", "failure": control_failure}
                elif operation == "tls_handshake":
                    control_tls[record["address"]] = {host_: {
                        "server_name": host_, "status": control == "ok", "failure": control_failure}}
        keys["x_failures"] = failures
        keys["x_dns_inconsistent"] = inconsistent
        keys["x_partial_blocking"] = endpoints_ok > 0 and endpoints_failed > 0
        if any(s["control"] != "not_measured" for s in steps):
            keys["x_control"] = {"dns": {}, "tcp_connect": control_tcp,
                                 "tls_handshake": control_tls, "not_measured": {}, "steps": steps}
            keys["x_control_failure"] = None
        keys["x_network"] = {"usable": True, "checks": [
            {"kind": "dns", "target": "example.com", "failure": None},
            {"kind": "tcp", "target": "helper.vigil.example:443", "failure": None}]}

    def web(self, cc, asn, network, t, outcome):
        """A web_connectivity measurement of a messaging service's web front; `outcome()`
        gives its outcome."""
        url = self.r.choice(WEB_FRONTS)
        host = url.split("/")[2]
        o = outcome()
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
