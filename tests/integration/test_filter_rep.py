"""test_filter_rep.py - the filter's threat-intelligence API client
(src/filter/rep_http.c, rep_ti.c) against real local servers, through
build/tests/tools/rep-tool: verdicts from a Python http.server over http
and over https with a certificate made here (verified, SNI, wrong name
refused), fail-open on a server that never answers (within the deadline,
then left alone), a huge answer and a 500, cached answers (the server
counts requests), the per-message bound, the API key sent but never
logged, and several threads sharing one cache. The feeds through the
same tool: a feed file replaced while in use."""

import http.server
import json
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse

import pytest

import certs
from petreltest import binary

TOOL_TIMEOUT = 60


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        q = urllib.parse.urlparse(self.path)
        url = urllib.parse.parse_qs(q.query).get("url", [""])[0]
        with srv.lock:
            srv.counts[url] = srv.counts.get(url, 0) + 1
            srv.auth.append(self.headers.get("Authorization"))
            srv.hosts.append(self.headers.get("Host"))
        if "slow" in url:
            time.sleep(5)
        if "evil" in url:
            self.reply(200, {"malicious": True, "category": "phishing"})
        elif "missing" in url:
            self.reply(404, None)
        elif "err500" in url:
            self.reply(500, {"malicious": True})
        elif "huge" in url:
            body = b'{"malicious": true, "pad": "' + b"x" * (1 << 20) + b'"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up reading, as it should
        elif "stream" in url:
            # no length: the body runs to the end of the connection
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for _ in range(64):
                    self.wfile.write(b" " * 16384)
            except OSError:
                pass  # the client stopped reading at its bound
        elif "chunked" in url:
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b'{"malicious":', b' true, "category": "malware"}'):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.reply(200, {"malicious": False})

    def reply(self, status, obj):
        body = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # the slow case: the client is gone, as it should be


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 64


def start_server(tls_ctx=None):
    srv = Server(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.counts = {}
    srv.auth = []
    srv.hosts = []
    srv.lock = threading.Lock()
    if tls_ctx is not None:
        srv.socket = tls_ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return srv


@pytest.fixture
def server():
    srv = start_server()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def tls_server(tmp_path):
    ca = certs.make("petrel test CA", ca=True)
    leaf = certs.make("localhost", names=("localhost",), issuer=ca)
    ca_path, _ = ca.write(str(tmp_path), "ca")
    cert_path, key_path = leaf.write(str(tmp_path), "leaf")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path, key_path)
    sni = []
    ctx.sni_callback = lambda sock, name, c: sni.append(name)
    srv = start_server(ctx)
    srv.ca_path = ca_path
    srv.sni = sni
    yield srv
    srv.shutdown()
    srv.server_close()


def run_tool(opts, msgs, threads=None):
    args = [binary("tests/tools/rep-tool")]
    for o in opts:
        args += ["-o", o]
    if threads:
        args += ["--threads", str(threads)]
    p = subprocess.run(args + msgs, capture_output=True, text=True,
                       timeout=TOOL_TIMEOUT)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == len(msgs), p.stdout
    return lines, p.stderr


def ms(line):
    return int(line.split()[0].split("=")[1])


def ti_url(srv, scheme="http", host="127.0.0.1"):
    return "filter_ti_url=%s://%s:%d/check?url=%%u" % (
        scheme, host, srv.server_address[1])


def test_verdicts_and_cache(server):
    lines, err = run_tool([ti_url(server)], [
        "http://evil.example/login?user=a%40b.example",
        "http://clean.example/",
        "http://missing.example/",
        "http://chunked.example/",
        "http://evil.example/login?user=a%40b.example http://clean.example/",
        "http://clean.example/",
    ])
    assert "URL_TI_MALICIOUS=10[phishing http://evil.example/login?user=" \
        "a%40b.example]" in lines[0]
    assert "URL_TI_MALICIOUS" not in lines[1]
    assert "URL_TI_MALICIOUS" not in lines[2]
    assert "URL_TI_MALICIOUS=10[malware http://chunked.example/]" in lines[3]
    assert "URL_TI_MALICIOUS" in lines[4]
    # each URL asked once: positive and negative answers were cached;
    # the query parameter carried the URL exactly
    assert server.counts == {
        "http://evil.example/login?user=a%40b.example": 1,
        "http://clean.example/": 1,
        "http://missing.example/": 1,
        "http://chunked.example/": 1,
    }
    assert server.hosts[0] == "127.0.0.1:%d" % server.server_address[1]
    assert server.auth == [None] * 4
    assert err == ""


def test_500_and_huge_are_unknown(server):
    lines, err = run_tool([ti_url(server)], [
        "http://err500.example/", "http://err500.example/",
        "http://huge.example/", "http://stream.example/",
    ])
    for line in lines:
        assert "URL_TI_MALICIOUS" not in line
    # a 500 is not an answer: not cached, asked again
    assert server.counts["http://err500.example/"] == 2
    assert "status 500" in err
    assert "bad or oversized" in err
    assert "longer than 65536 octets" in err
    # logs name the API host, never the URL asked
    assert "err500.example" not in err and "huge.example" not in err


def test_never_answers_within_deadline():
    # a listening socket nobody accepts on: the kernel completes the
    # handshake, then nothing ever comes
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    port = sock.getsockname()[1]
    try:
        t0 = time.monotonic()
        lines, err = run_tool([
            "filter_ti_url=http://127.0.0.1:%d/c?u=%%u" % port,
            "filter_ti_timeout=1",
        ], ["http://a.example/ http://b.example/", "http://c.example/"])
        wall = time.monotonic() - t0
    finally:
        sock.close()
    assert "URL_TI_MALICIOUS" not in lines[0]
    # one deadline for the whole message, not one per URL
    assert 900 <= ms(lines[0]) < 1600, lines
    # then the API is left alone for a while: the next message waits
    # for nothing
    assert ms(lines[1]) < 100, lines
    assert wall < 10
    assert "timed out" in err
    assert err.count("unknown") == 1


def test_connection_refused_fails_open():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    lines, err = run_tool(["filter_ti_url=http://127.0.0.1:%d/?u=%%u" % port],
                          ["http://evil.example/"])
    assert "URL_TI_MALICIOUS" not in lines[0]
    assert "Connection refused" in err


def test_slow_server_hits_deadline(server):
    lines, err = run_tool([ti_url(server), "filter_ti_timeout=1"],
                          ["http://slow-evil.example/"])
    assert "URL_TI_MALICIOUS" not in lines[0]
    assert ms(lines[0]) < 1600
    assert "timed out" in err


def test_max_urls_per_message(server):
    msg = " ".join("http://clean%d.example/" % i for i in range(8))
    run_tool([ti_url(server), "filter_ti_max_urls=3"], [msg])
    assert sum(server.counts.values()) == 3


def test_api_key_sent_never_logged(server, tmp_path):
    key = tmp_path / "ti.key"
    key.write_text("s3cr3t-token\n")
    lines, err = run_tool([ti_url(server), "filter_ti_key_file=%s" % key],
                          ["http://evil.example/", "http://err500.example/"])
    assert "URL_TI_MALICIOUS" in lines[0]
    assert server.auth == ["Bearer s3cr3t-token"] * 2
    assert "s3cr3t" not in err and "s3cr3t" not in "".join(lines)
    # a key that would break the header line is refused at startup
    key.write_text("two words\n")
    p = subprocess.run([binary("tests/tools/rep-tool"), "-o", ti_url(server),
                        "-o", "filter_ti_key_file=%s" % key, "http://x/"],
                       capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    assert p.returncode == 2
    assert "printable ASCII" in p.stderr and "two words" not in p.stderr


def test_https_verified(tls_server):
    lines, err = run_tool([ti_url(tls_server, "https", "localhost"),
                           "filter_ti_ca_file=%s" % tls_server.ca_path],
                          ["http://evil.example/", "http://clean.example/"])
    assert "URL_TI_MALICIOUS=10[phishing http://evil.example/]" in lines[0]
    assert "URL_TI_MALICIOUS" not in lines[1]
    assert tls_server.sni[:1] == ["localhost"]
    assert err == ""


def test_https_untrusted_or_wrong_name(tls_server):
    # the system trust store does not know our CA
    lines, err = run_tool([ti_url(tls_server, "https", "localhost")],
                          ["http://evil.example/"])
    assert "URL_TI_MALICIOUS" not in lines[0]
    assert "certificate" in err
    # trusted CA, but the certificate is not for 127.0.0.1
    lines, err = run_tool([ti_url(tls_server, "https", "127.0.0.1"),
                           "filter_ti_ca_file=%s" % tls_server.ca_path],
                          ["http://evil.example/"])
    assert "URL_TI_MALICIOUS" not in lines[0]
    assert "mismatch" in err or "certificate" in err
    assert tls_server.counts == {}


def test_threads_share_one_cache(server):
    msgs = ["http://evil.example/%d http://clean.example/%d" % (i, i)
            for i in range(10)]
    # every thread checks every message twice, all at once on one
    # filter_rep; rep-tool fails when threads disagree
    lines, _ = run_tool([ti_url(server)], msgs + msgs, threads=8)
    for line in lines:
        assert "URL_TI_MALICIOUS" in line
    # a malicious URL ends the message's questions: only the evil ones
    # were asked, and the second round came from the shared cache (each
    # thread asked each URL once at most, however the race went)
    assert sorted(server.counts) == sorted(
        "http://evil.example/%d" % i for i in range(10))
    assert all(1 <= n <= 8 for n in server.counts.values())


def test_feed_replaced_while_in_use(tmp_path):
    feed = tmp_path / "urlhaus.csv"
    feed.write_text(
        "# id,dateadded,url,url_status\n"
        '"1","2024-11-05 10:00:00","http://bad.example/x.exe","online"\n')
    lines, _ = run_tool(["filter_url_feed=%s" % feed],
                        ["http://BAD.example:80/x.exe http://ok.example/"])
    assert "URL_FEED=10[http://bad.example/x.exe]" in lines[0]
    # a missing feed stops startup: the admin asked for it
    p = subprocess.run([binary("tests/tools/rep-tool"), "-o",
                        "filter_url_feed=%s" % (tmp_path / "nope.txt"), "x"],
                       capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    assert p.returncode == 2 and "nope.txt" in p.stderr
