#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets that have none by hand (corpus/<target>/).

Seeds are real protocol messages built as the peers build them: DNS responses as a
resolver answers, a TLS ClientHello from Python's own TLS stack, Ethernet frames of the
kinds the lab's wire carries, the repository's own lists and scenarios. Crash inputs found
by fuzzing live beside them (named crash-*) and are not written here. Run from anywhere:
    python3 tests/fuzz/make_seeds.py
"""
import gzip
import json
import pathlib
import socket
import ssl
import struct
import zlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    path = CORPUS / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


# --- DNS -------------------------------------------------------------------------------

def qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def question(name, qtype):
    return qname(name) + struct.pack(">HH", qtype, 1)


def rr(owner, rtype, ttl, rdata):
    return owner + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


def response(qid, flags, name, qtype, answers, extra_counts=(0, 0)):
    header = struct.pack(">HHHHHH", qid, flags, 1, len(answers), *extra_counts)
    return header + question(name, qtype) + b"".join(answers)


def dns_seeds():
    t = "dns_response_fuzz"
    a = socket.inet_pton(socket.AF_INET, "93.184.215.14")
    aaaa = socket.inet_pton(socket.AF_INET6, "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    ptr = b"\xc0\x0c"  # the question's name
    write(t, "a_one_answer", response(0x1a2b, 0x8180, "www.example.org", 1, [rr(ptr, 1, 300, a)]))
    write(t, "aaaa_one_answer",
          response(0, 0x8180, "www.example.org", 28, [rr(ptr, 28, 60, aaaa)]))
    # www.example.com CNAME target, then the target's A: compression into the rdata.
    cname_rdata = b"\x06target\xc0\x10"
    target_at = 12 + len(question("www.example.com", 1)) + 12
    write(t, "cname_chain",
          response(7, 0x8180, "www.example.com", 1,
                   [rr(ptr, 5, 3600, cname_rdata),
                    rr(struct.pack(">H", 0xc000 | target_at), 1, 30, a)]))
    write(t, "nxdomain", response(9, 0x8183, "nx.example.org", 1, [], (1, 0)) +
          rr(b"\0", 6, 900, qname("a.root-servers.net") + qname("nstld.example") + b"\0" * 20))
    write(t, "servfail", response(10, 0x8182, "www.example.org", 1, []))
    write(t, "refused_no_question", struct.pack(">HHHHHH", 11, 0x8185, 0, 0, 0, 0))
    write(t, "truncated_tc", response(12, 0x8380, "www.example.org", 1, [rr(ptr, 1, 300, a)])[:-3])
    write(t, "a_with_wrong_rdlength",
          response(13, 0x8180, "www.example.org", 1, [rr(ptr, 1, 300, a + b"\0")]))
    write(t, "mx_and_txt_skipped",
          response(14, 0x8180, "example.org", 15,
                   [rr(ptr, 15, 300, b"\0\x0a" + qname("mail.example.org")),
                    rr(ptr, 16, 300, b"\x05hello")]))
    write(t, "query_not_response", struct.pack(">HHHHHH", 15, 0x0100, 1, 0, 0, 0) +
          question("www.example.org", 1))
    write(t, "pointer_loop", struct.pack(">HHHHHH", 16, 0x8180, 1, 0, 0, 0) + b"\xc0\x0c\0\x01\0\x01")

    t = "whoami_dns_fuzz"
    query = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    write(t, "a_in_zone_v4", b"\0" + query + question("x1.whoami.example.org", 1))
    write(t, "aaaa_in_zone_v6", b"\1" + query + question("Q.WHOAMI.example.org", 28))
    write(t, "any_at_apex", b"\0" + query + question("whoami.example.org", 255))
    write(t, "outside_zone", b"\0" + query + question("www.example.org", 1))
    write(t, "unreadable_source", b"\2" + query + question("a.whoami.example.org", 1))
    write(t, "any_unreadable_source", b"\2" + query + question("a.whoami.example.org", 255))
    write(t, "response_dropped", b"\0" + struct.pack(">HHHHHH", 1, 0x8180, 1, 0, 0, 0) +
          question("a.whoami.example.org", 1))
    write(t, "compressed_question", b"\0" + query + b"\xc0\x0c\0\x01\0\x01")

    t = "lab_dns_query_fuzz"
    write(t, "a_query", query + question("www.example.org", 1))
    write(t, "aaaa_query", query + question("Telegram.Org", 28))
    write(t, "edns_query", struct.pack(">HHHHHH", 7, 0x0120, 1, 0, 0, 1) +
          question("www.example.com", 1) + b"\0\0\x29\x10\0\0\0\0\0\0\0")
    write(t, "two_questions", struct.pack(">HHHHHH", 8, 0x0100, 2, 0, 0, 0) +
          question("a.example", 1) + question("b.example", 1))
    write(t, "response", struct.pack(">HHHHHH", 9, 0x8180, 1, 0, 0, 0) + question("a.example", 1))


# --- frames ------------------------------------------------------------------------------

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f">{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ttl=64, ident=0x1234, flags=0x4000):
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags, ttl, proto, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    header = header[:10] + struct.pack(">H", checksum(header)) + header[12:]
    return header + payload


def ipv6(src, dst, next_header, payload, hop=64):
    return struct.pack(">IHBB16s16s", 0x60000000, len(payload), next_header, hop,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


def tcp(sport, dport, seq, ack, flags, payload=b""):
    return struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0) + payload


def udp(sport, dport, payload):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


MACS = bytes.fromhex("020000000002") + bytes.fromhex("020000000001")


def ether(ethertype, payload, vlan=None):
    if vlan is not None:
        return MACS + struct.pack(">HHH", 0x8100, vlan, ethertype) + payload
    return MACS + struct.pack(">H", ethertype) + payload


def client_hello(server_name):
    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=server_name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def frame_seeds():
    t = "lab_frame_fuzz"
    hello = client_hello("www.example.org")
    request = b"GET / HTTP/1.1\r\nHost: www.example.org\r\n\r\n"
    write(t, "v4_tcp_syn", ether(0x0800, ipv4("10.0.0.2", "93.184.215.14", 6,
                                               tcp(40000, 443, 1000, 0, 0x02))))
    write(t, "v4_tcp_client_hello",
          ether(0x0800, ipv4("10.0.0.2", "93.184.215.14", 6, tcp(40000, 443, 1001, 1, 0x18, hello))))
    write(t, "v4_tcp_http_vlan",
          ether(0x0800, ipv4("10.0.0.2", "93.184.215.14", 6, tcp(40001, 80, 5, 9, 0x18, request)),
                vlan=42))
    write(t, "v4_udp_dns", ether(0x0800, ipv4("10.0.0.2", "10.0.0.1", 17, udp(53000, 53,
          struct.pack(">HHHHHH", 1, 0x0100, 1, 0, 0, 0) + question("www.example.org", 1)))))
    write(t, "v4_fragment", ether(0x0800, ipv4("10.0.0.2", "10.0.0.1", 17, b"x" * 24, flags=0x2000)))
    write(t, "v4_padded_rst", ether(0x0800, ipv4("10.0.0.1", "10.0.0.2", 6,
                                                 tcp(443, 40000, 9, 0, 0x04))) + b"\0" * 6)
    write(t, "v6_tcp_syn", ether(0x86DD, ipv6("2001:db8::2", "2001:db8::1", 6,
                                               tcp(40002, 443, 77, 0, 0x02))))
    write(t, "v6_udp_dns", ether(0x86DD, ipv6("2001:db8::2", "2001:db8::1", 17, udp(53001, 53,
          struct.pack(">HHHHHH", 2, 0x0100, 1, 0, 0, 0) + question("www.example.org", 28)))))
    hop_by_hop = struct.pack(">BB", 6, 0) + b"\x01\x04\0\0\0\0"
    write(t, "v6_extension_header", ether(0x86DD, ipv6("2001:db8::2", "2001:db8::1", 0,
                                                        hop_by_hop + tcp(40003, 80, 1, 0, 0x02))))
    write(t, "arp", ether(0x0806, bytes(28)))

    t = "lab_stream_start_fuzz"
    write(t, "client_hello_whole", b"\xff" + hello)
    write(t, "client_hello_split", b"\x40" + hello)
    write(t, "client_hello_no_sni", b"\x80" + client_hello(None))
    write(t, "http_get", b"\x20" + request)
    write(t, "http_post_split", b"\x60" + b"POST /upload?x=1 HTTP/1.1\r\nHOST: Example.ORG:8080\r\n"
          b"Content-Length: 2\r\n\r\nhi")
    write(t, "ssh_banner", b"\x80SSH-2.0-OpenSSH_9.2\r\n")


# --- HTTP servers, collector, helper -------------------------------------------------------

REPORT_ID = ("20231114T221320Z_webconnectivity_IT_30722_n1_"
             "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKl")


def measurement(report_id=REPORT_ID, test_keys=None):
    return {
        "annotations": {"architecture": "amd64", "platform": "linux"},
        "data_format_version": "0.2.0",
        "input": "https://www.example.org/",
        "measurement_start_time": "2023-11-14 22:13:25",
        "probe_asn": "AS30722",
        "probe_cc": "IT",
        "probe_ip": "127.0.0.1",
        "probe_network_name": "Vodafone Italia S.p.A.",
        "report_id": report_id,
        "resolver_asn": "AS30722",
        "resolver_ip": "91.80.37.104",
        "software_name": "vigil",
        "software_version": "0.1.0",
        "test_keys": test_keys if test_keys is not None else {"accessible": True, "blocking": False},
        "test_name": "web_connectivity",
        "test_runtime": 1.25,
        "test_start_time": "2023-11-14 22:13:20",
        "test_version": "0.4.3",
    }


def server_seeds():
    t = "request_head_fuzz"
    write(t, "submit_measurement", "POST /api/v1/submit_measurement HTTP/1.1\r\nHost: collector\r\n"
          "Content-Type: application/json\r\nContent-Length: 42\r\n\r\n{\"format\":\"json\"}")
    write(t, "open_report_http10", "POST /report HTTP/1.0\r\nConnection: keep-alive\r\n"
          "Content-Length: 10\r\n\r\n")
    write(t, "control_request", "\r\nPOST / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
          "Accept: */*\r\nContent-Length:  5 \r\nConnection: close, TE\r\n\r\n")
    write(t, "get_bare_lf", "GET /health HTTP/1.1\nUser-Agent: curl/7.88.1\n\n")
    write(t, "chunked_refused", "POST /report HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    write(t, "two_lengths", "POST /report HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
    write(t, "folded_header", "GET / HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n")
    write(t, "absolute_form", "GET http://example.org/a?b HTTP/1.1\r\nHost: example.org\r\n\r\n")

    t = "report_id_fuzz"
    opening = {"data_format_version": "0.2.0", "format": "json", "probe_asn": "AS30722",
               "probe_cc": "IT", "software_name": "vigil", "software_version": "0.1.0",
               "test_name": "web_connectivity", "test_start_time": "2023-11-14 22:13:20",
               "test_version": "0.4.3"}
    write(t, "id_and_opening", REPORT_ID + "\n" + json.dumps(opening))
    write(t, "ooni_id", "20240301T120000Z_telegram_IR_197207_n1_9RJbRDMnW4cVWjcD")
    write(t, "bad_asn_opening", "20240301T120000Z__IR_x_n1_a\n" +
          json.dumps(dict(opening, probe_asn="30722")))
    write(t, "underscore_test_name", "x\n" + json.dumps(dict(opening, test_name="_")))

    t = "submission_fuzz"
    body = json.dumps({"format": "json", "content": measurement()})
    write(t, "submit_with_report_id", b"\0" + body.encode())
    write(t, "post_to_report", b"\1" + json.dumps({"format": "json",
                                                    "content": measurement(None)}).encode())
    write(t, "gzip_post_to_report", b"\3" + body.encode())
    write(t, "already_gzip", b"\0" + gzip.compress(body.encode()))
    write(t, "small_limit", b"\4" + body.encode())
    write(t, "null_test_keys", b"\0" + json.dumps({"format": "json", "content": dict(
        measurement(), test_keys=None)}).encode())
    write(t, "deep_nesting", b"\0" + b"{\"format\":\"json\",\"content\":" + b"[" * 200 + b"]" * 200 + b"}")

    t = "gzip_inflate_fuzz"
    text = body.encode()
    write(t, "gzip_member", b"\x40" + gzip.compress(text))
    write(t, "two_members", b"\x40" + gzip.compress(b"first ") + gzip.compress(b"second"))
    write(t, "zlib_stream", b"\x40" + zlib.compress(text))
    write(t, "bomb_over_bound", b"\x01" + gzip.compress(b"\0" * 200000))
    write(t, "truncated", b"\x40" + gzip.compress(text)[:-9])
    write(t, "trailing_garbage", b"\x40" + gzip.compress(text) + b"garbage")

    t = "control_protocol_fuzz"
    write(t, "request", json.dumps({
        "http_request": "https://www.example.org/",
        "http_request_headers": {"Accept": ["*/*"], "User-Agent": "Mozilla/5.0"},
        "tcp_connect": ["93.184.215.14:443", "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443"],
        "x_quic_enabled": False}))
    write(t, "response", json.dumps({
        "tcp_connect": {"93.184.215.14:443": {"status": True, "failure": None}},
        "tls_handshake": {"93.184.215.14:443": {"server_name": "www.example.org", "status": True,
                                                "failure": None}},
        "http_request": {"body_length": 1256, "discovered_h3_endpoint": "", "failure": None,
                         "title": "Example Domain",
                         "headers": {"Content-Type": "text/html; charset=UTF-8"},
                         "status_code": 200},
        "dns": {"failure": None, "addrs": ["93.184.215.14"]},
        "ip_info": {"93.184.215.14": {"asn": 15133, "flags": 11}}}))
    write(t, "old_helper_response", json.dumps({
        "tcp_connect": None, "http_request": {"body_length": -1, "failure": "connection_reset",
                                              "title": "", "headers": None, "status_code": -1},
        "dns": {"failure": "dns_name_error", "addrs": []}}))
    write(t, "endpoints_request", json.dumps({"x_endpoints": [
        {"host": "e1.whatsapp.net", "addrs": ["157.240.1.53"], "ports": [443, 5222]},
        {"host": "web.whatsapp.com", "addrs": ["157.240.1.60", "2a03:2880:f20c:e3:face:b00c:0:167"],
         "ports": [443], "tls_ports": [443], "sni": "web.whatsapp.com"},
        {"host": "uptime.signal.org"},
        {"host": "149.154.175.50", "addrs": ["198.18.70.1"], "ports": [80, 443, 5222]}]}))
    write(t, "endpoints_response", json.dumps({"x_endpoints": {
        "dns": {"uptime.signal.org": {"failure": "dns_name_error", "addrs": []},
                "e1.whatsapp.net": {"failure": None, "addrs": ["157.240.1.53"]}},
        "tcp_connect": {"157.240.1.53:443": {"status": False, "failure": "connection_refused_error"},
                        "157.240.1.60:443": {"status": True, "failure": None}},
        "tls_handshake": {"157.240.1.60:443": {"web.whatsapp.com": {"status": False,
                                                                    "failure": "ssl_invalid_hostname"}}},
        "not_measured": {"10.0.0.7:443": "bogon", "157.240.1.61:443": "limit"}}}))
    write(t, "number_overflow", '{"http_request":"http://a.example/","x_quic_enabled":1e999}')
    write(t, "deep", "[" * 40 + "]" * 40)


# --- lists, measurements, scenarios -----------------------------------------------------------

def list_seeds():
    t = "test_list_fuzz"
    lines = (ROOT / "testlists" / "lists" / "global.csv").read_bytes().splitlines(keepends=True)
    write(t, "global_head", b"".join(lines[:12]))
    write(t, "legend", (ROOT / "testlists" / "lists" / "00-LEGEND-category_codes.csv").read_bytes())
    write(t, "problems", "\ufeffurl,category_code,category_description,date_added,source,notes\r\n"
          "http://example.org,NEWS,News Media,2024-02-30,x,\r\n\r\n"
          "ftp://example.org/,XXX,Wrong, 2024-01-01 ,x, y \r\n"
          "https://example.org/,NEWS,News Media,2024-01-01,x,\"a, \"\"b\"\"\r\nc\"\r\n"
          "https://example.org/,NEWS,News Media,2024-01-01,x,dup\r\n"
          "\"unterminated,NEWS\n")

    t = "messaging_list_fuzz"
    services = (ROOT / "testlists" / "messaging" / "services.csv").read_bytes()
    write(t, "services_head", b"".join(services.splitlines(keepends=True)[:15]))
    write(t, "problems", "service,endpoint,port,steps,expected_asn,notes\n"
          "Bad,E1.Example.com,0,dns|dns|smtp,AS0|ASx,\n"
          "signal,2001:db8::1,443,dns|tcp,,\n"
          "signal,[2001:db8::1],443,tcp,,\n"
          "telegram,149.154.167.51,443,tcp|tls,AS62041|AS62041,\n"
          "telegram,149.154.167.51,443,tcp,AS62041,repeat\n"
          "too,few,fields\n")

    t = "keyword_list_fuzz"
    zh = (ROOT / "testlists" / "keywords" / "zh.csv").read_bytes()
    write(t, "zh_head", b"".join(zh.splitlines(keepends=True)[:13]))
    write(t, "en", (ROOT / "testlists" / "keywords" / "en.csv").read_bytes())
    # Every kind of problem, a blank CRLF line and bytes that are not UTF-8.
    write(t, "problems", ("\ufeffid,text,language,theme,components,source,date_added\r\n"
                          "a,六四,zh-Hans,History,六四,s,2024-02-30\r\n"
                          "a.c,杭州西湖的荷花,en,control,午+饭,vigil,2999-01-01\r\n"
                          "\r\n"
                          "b.c,\"六\n四\",zh,politics,,").encode() + b"\xff\xfe" +
          (",2024-01-01\r\n"
           "c,天安门的坦克,zh,history,天安门++学生,s,2024-01-01\r\n"
           "c.c,周末\u2028公园,zh,control,,v,2024-01-01\r\n"
           "a,repeated,zh,history,,s,2024-01-01\r\n"
           ".c,x,zh-,control,,,\r\n"
           "too,few,fields\r\n").encode())
    write(t, "combinations", "id,text,language,theme,components,source,date_added\n"
          "x,tiananmen 1989,en,history,tiananmen+1989,https://example.org/,2024-01-01\n"
          "y,\"a, \"\"quoted\"\" text\",en,human rights,a+quoted+text,\"s, t\",2024-01-01\n"
          "x.c,weather report,en,control,,vigil,2024-01-01\n"
          "y.c,\"b, \"\"other\"\" one\",en,control,,vigil,2024-01-01\n")


def ingest_seeds():
    t = "measurement_ingest_fuzz"
    web = measurement(test_keys={
        "queries": [{"engine": "system", "failure": None, "hostname": "www.example.org",
                     "query_type": "A", "resolver_address": "", "t": 0.01,
                     "answers": [{"answer_type": "A", "ipv4": "93.184.215.14", "asn": 15133},
                                 {"answer_type": "CNAME", "hostname": "edge.example.net"}]}],
        "tcp_connect": [{"ip": "93.184.215.14", "port": 443, "t": 0.05,
                         "status": {"success": True, "failure": None}}],
        "tls_handshakes": [{"address": "93.184.215.14:443", "server_name": "www.example.org",
                            "failure": None, "t": 0.1, "no_tls_verify": False,
                            "tls_version": "TLSv1.3"}],
        "requests": [{"failure": None, "t": 0.2,
                      "request": {"url": "https://www.example.org/", "method": "GET",
                                  "headers": {"Accept": "*/*"}},
                      "response": {"code": 200, "body": "<html><title>Example</title></html>",
                                   "headers": {"Server": "ECS"}}}],
        "accessible": True, "blocking": False, "control_failure": None,
        "control": {"dns": {"addrs": ["93.184.215.14"], "failure": None}}})
    telegram = dict(measurement(), test_name="telegram", input=None, test_keys={
        "telegram_tcp_blocking": True, "telegram_http_blocking": False,
        "tcp_connect": [{"ip": "149.154.167.51", "port": 443,
                         "status": {"success": False, "failure": "generic_timeout_error"}}]})
    whatsapp = dict(measurement(), test_name="whatsapp", input=None, test_keys={
        "registration_server_status": "ok", "whatsapp_endpoints_status": "blocked",
        "queries": [{"engine": "system", "hostname": "e1.whatsapp.net", "query_type": "ANY",
                     "failure": "dns_nxdomain_error", "answers": None}]})
    dot = dict(measurement(), test_name="dnscheck", input="dot://1.1.1.1:853/", test_keys={
        "lookups": {"1.1.1.1:853": {"queries": [
            {"engine": "dot", "hostname": "example.org", "query_type": "AAAA",
             "resolver_address": "1.1.1.1:853", "failure": None, "raw_response": "AAA=",
             "answers": [{"answer_type": "AAAA", "ipv6": "2606:2800:21f::1"}]}]}}})
    write(t, "web_connectivity", "\n" + json.dumps(web))
    write(t, "telegram_after_web", json.dumps(web) + "\n" + json.dumps(telegram))
    write(t, "whatsapp_after_telegram", json.dumps(telegram) + "\n" + json.dumps(whatsapp))
    write(t, "dnscheck_after_web", json.dumps(web) + "\n" + json.dumps(dot))
    write(t, "stun_reachability_spelling", "\n" + json.dumps(dict(
        measurement(), test_name="stun_reachability", input="stun://stun.example.org:3478",
        test_keys={"endpoint": "stun.example.org:3478", "failure": None})))
    write(t, "not_a_measurement", '{"measurement_start_time":"yesterday"}\n[1,2,3]')


def scenario_seeds():
    t = "lab_scenario_fuzz"
    for path in sorted((ROOT / "tests" / "lab" / "scenarios").glob("*.yaml")):
        write(t, path.stem, path.read_bytes())
    write(t, "duration_and_rate", "90s\nname: x\n")
    write(t, "bad_types", "name: [1, 2]\nphases:\n  - start: forever\n    rules: {a: b}\n")


if __name__ == "__main__":
    dns_seeds()
    frame_seeds()
    server_seeds()
    list_seeds()
    ingest_seeds()
    scenario_seeds()
