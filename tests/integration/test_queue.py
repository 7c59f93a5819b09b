"""test_queue.py - the outbound queue end to end: mail submitted to
petreld for other domains is routed with a real DNS server (NSD on
loopback, tests/integration/dnsserver.py) and delivered to real SMTP
servers (aiosmtpd, remotemta.py) bound to the 127.0.0.x addresses the
test zones name. MX preference and fallback, the implicit MX, null MX,
NXDOMAIN and SERVFAIL, retries after 4xx, bounces after 5xx and expiry
(RFC 3464 reports parsed with Python's email package), delay notices,
connection reuse, STARTTLS, transports, the relay with AUTH, TLS-required
domains, and petrelctl queue."""

import email
import email.policy
import smtplib
import subprocess
import time

import pytest

import petreltest
from petreltest import DEMO, DEMO_PASSWORD, ctx_noverify, free_port
from dnsserver import DnsServer
from remotemta import RemoteMTA
import certs


@pytest.fixture(scope="module")
def dns():
    with DnsServer() as d:
        yield d


@pytest.fixture(scope="module")
def port():
    """The one remote SMTP port every test MX listens on (outbound_port)."""
    return free_port()


def conf(dns, port, *more):
    return ("dns_forwarder = " + dns.forwarder, "dns_timeout = 5",
            "outbound_port = %d" % port, "queue_retry_schedule = 1s",
            "auth_failure_delay = 0") + more


@pytest.fixture(scope="module")
def srv(dns, port):
    yield from petreltest.running(*conf(dns, port))


def message(marker, to, sender=DEMO, extra=""):
    return ("From: <%s>\r\nTo: %s\r\nSubject: %s\r\n%s\r\nbody %s\r\n"
            % (sender, ", ".join("<%s>" % t for t in to), marker, extra,
               marker)).encode()


def send(srv, to, marker, sender=DEMO):
    with smtplib.SMTP("127.0.0.1", srv.submission_port, timeout=30) as s:
        s.starttls(context=ctx_noverify())
        s.login(DEMO, DEMO_PASSWORD)
        refused = s.sendmail(sender, to, message(marker, to, sender))
    assert refused == {}


def inbox_with(srv, *needles, timeout=60):
    """The messages of demo's INBOX holding every needle, waiting for one."""
    deadline = time.time() + timeout
    while True:
        found = [m for m in srv.messages(DEMO)
                 if all(n.encode() in m for n in needles)]
        if found or time.time() > deadline:
            return found
        time.sleep(0.2)


def parse_dsn(raw):
    """The report's parts and its per-recipient field blocks, checked
    against RFC 3464/6522's structure."""
    m = email.message_from_bytes(raw, policy=email.policy.default)
    assert m.get_content_type() == "multipart/report"
    assert m.get_param("report-type") == "delivery-status"
    assert m["Auto-Submitted"] == "auto-replied"
    parts = list(m.iter_parts())
    assert parts[0].get_content_type() == "text/plain"
    assert parts[1].get_content_type() == "message/delivery-status"
    blocks = parts[1].get_payload()
    assert blocks[0]["Reporting-MTA"].startswith("dns;")
    return m, parts, blocks[1:]


def ctl(srv, *args, check=True):
    """petrelctl's output as text: (exit status, stdout, stderr)."""
    p = srv.ctl(*args, check=check)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def queue_list(srv):
    return ctl(srv, "queue", "list")[1]


def queue_ids(srv):
    out = queue_list(srv)
    return [line.split()[0] for line in out.splitlines()
            if line[:1].isdigit()]


def wait_queue_empty(srv, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if "queue is empty" in queue_list(srv):
            return
        time.sleep(0.2)
    raise AssertionError("queue not empty:\n" + queue_list(srv))


def test_delivers_to_lowest_preference_mx(srv, port):
    marker = petreltest.unique("mx")
    with RemoteMTA("127.0.0.2", port) as mx1, \
            RemoteMTA("127.0.0.3", port) as mx2a:
        send(srv, ["bob@mx.test"], marker)
        got = mx1.wait_messages(1)
        assert mx2a.messages == []
    m = got[0]
    assert m.mail_from == DEMO
    assert m.rcpt_tos == ["bob@mx.test"]
    assert marker.encode() in m.content
    # submission added what the client left out, and a trace line
    assert b"\r\nMessage-ID: <" in m.content or m.content.startswith(b"Message-ID")
    assert b"Received: " in m.content
    # Return-Path is the final delivery's to add (RFC 5321 4.4)
    assert not m.content.startswith(b"Return-Path:")
    assert b"\nReturn-Path:" not in m.content
    wait_queue_empty(srv)


def test_swaks_on_465_to_a_remote_domain(srv, port):
    """The README's example: swaks with implicit TLS on the 465
    equivalent, to a domain whose MX is a local server."""
    marker = petreltest.unique("swaks")
    with RemoteMTA("127.0.0.2", port) as mx:
        r = subprocess.run(
            ["swaks", "--server", "127.0.0.1", "--port",
             str(srv.submissions_port), "--tlsc", "--auth", "PLAIN",
             "--auth-user", DEMO, "--auth-password", DEMO_PASSWORD,
             "--from", DEMO, "--to", "sw@mx.test",
             "--header", "Subject: " + marker],
            capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        got = mx.wait_messages(1)
    assert got[0].rcpt_tos == ["sw@mx.test"]
    assert marker.encode() in got[0].content


def test_falls_back_to_next_mx_when_refused(srv, port):
    marker = petreltest.unique("fallback")
    # nothing on mx1 (127.0.0.2): refused; mx2a/mx2b share preference 20
    with RemoteMTA("127.0.0.3", port) as a, RemoteMTA("127.0.0.4", port) as b:
        send(srv, ["carol@mx.test"], marker)
        deadline = time.time() + 60
        while not (a.messages or b.messages) and time.time() < deadline:
            time.sleep(0.1)
        assert len(a.messages) + len(b.messages) == 1
    wait_queue_empty(srv)


def test_implicit_mx_a_record(srv, port):
    marker = petreltest.unique("afb")
    with RemoteMTA("127.0.0.6", port) as host:
        send(srv, ["dave@afallback.test"], marker)
        assert marker.encode() in host.wait_messages(1)[0].content
    wait_queue_empty(srv)


def test_null_mx_bounces_at_once(srv):
    marker = petreltest.unique("nullmx")
    send(srv, ["erin@nullmx.test"], marker)
    found = inbox_with(srv, "Undelivered Mail", marker)
    assert found, "no bounce for null MX"
    m, parts, rcpts = parse_dsn(found[0])
    assert rcpts[0]["Action"] == "failed"
    assert rcpts[0]["Status"] == "5.1.10"
    assert "erin@nullmx.test" in rcpts[0]["Final-Recipient"]
    assert "null MX" in parts[0].get_content()
    # the original's header comes back
    assert marker in parts[2].get_payload() if isinstance(
        parts[2].get_payload(), str) else marker.encode() in parts[2].as_bytes()


def test_nxdomain_bounces(srv):
    marker = petreltest.unique("nx")
    send(srv, ["frank@nosuchdomain.test"], marker)
    found = inbox_with(srv, "Undelivered Mail", marker)
    assert found
    _, _, rcpts = parse_dsn(found[0])
    assert rcpts[0]["Status"] == "5.1.2"


def test_5xx_bounce_carries_the_remote_reply(srv, port):
    marker = petreltest.unique("5xx")
    reply = "550 5.1.1 <gone@mx.test>: no such user here"
    with RemoteMTA("127.0.0.2", port, rcpt_replies={"gone@mx.test": [reply]}):
        send(srv, ["gone@mx.test"], marker)
        found = inbox_with(srv, "Undelivered Mail", marker)
    assert found
    m, parts, rcpts = parse_dsn(found[0])
    assert m["To"] and DEMO in m["To"]
    assert rcpts[0]["Action"] == "failed"
    assert rcpts[0]["Status"] == "5.1.1"
    assert "no such user here" in rcpts[0]["Diagnostic-Code"]
    assert rcpts[0]["Diagnostic-Code"].startswith("smtp;")
    assert "127.0.0.2" in rcpts[0]["Remote-MTA"] or "mx1.mx.test" in rcpts[0]["Remote-MTA"]
    wait_queue_empty(srv)


def test_4xx_is_retried_then_delivered(srv, port):
    marker = petreltest.unique("retry")
    with RemoteMTA("127.0.0.2", port, rcpt_replies={
            "grey@mx.test": ["451 4.7.1 greylisted, come back later"]}) as mx:
        send(srv, ["grey@mx.test"], marker)
        got = mx.wait_messages(1)
        assert mx.rcpt_attempts["grey@mx.test"] == 2
        assert got[0].rcpt_tos == ["grey@mx.test"]
    wait_queue_empty(srv)
    assert not inbox_with(srv, "Undelivered Mail", marker, timeout=0)


def test_mixed_recipients_one_transaction(srv, port):
    marker = petreltest.unique("mixed")
    with RemoteMTA("127.0.0.2", port, rcpt_replies={
            "no@mx.test": ["550 5.1.1 no such user"]}) as mx:
        send(srv, ["yes1@mx.test", "no@mx.test", "yes2@mx.test"], marker)
        got = mx.wait_messages(1)
        assert sorted(got[0].rcpt_tos) == ["yes1@mx.test", "yes2@mx.test"]
        found = inbox_with(srv, "Undelivered Mail", marker)
    _, _, rcpts = parse_dsn(found[0])
    assert len(rcpts) == 1 and "no@mx.test" in rcpts[0]["Final-Recipient"]


def test_connection_reused_for_waiting_messages(dns, port):
    """One connection per destination and a slow remote: the messages
    that wait go over the connection of the first, one after another."""
    gen = petreltest.running(*conf(
        dns, port, "queue_max_connections_per_destination = 1"))
    s = next(gen)
    try:
        markers = [petreltest.unique("reuse") for _ in range(4)]
        with RemoteMTA("127.0.0.2", port, data_delay=0.5) as mx:
            with smtplib.SMTP("127.0.0.1", s.submission_port, timeout=30) as c:
                c.starttls(context=ctx_noverify())
                c.login(DEMO, DEMO_PASSWORD)
                for mk in markers:
                    to = ["r%s@mx.test" % mk[-6:]]
                    c.sendmail(DEMO, to, message(mk, to))
            got = mx.wait_messages(4)
            assert {m.rcpt_tos[0] for m in got} == {
                "r%s@mx.test" % mk[-6:] for mk in markers}
            assert len(mx.sessions) < 4, "a connection per message"
        wait_queue_empty(s)
    finally:
        for _ in gen:
            pass


def test_starttls_used_when_offered(srv, port, tmp_path):
    cert = certs.make("mx1.mx.test", names=["mx1.mx.test"])
    cp, kp = cert.write(str(tmp_path), "mx1")
    marker = petreltest.unique("tls")
    with RemoteMTA("127.0.0.2", port, tls=(cp, kp)) as mx:
        send(srv, ["tls@mx.test"], marker)
        got = mx.wait_messages(1)
    assert got[0].tls


def test_mx_naming_an_address_over_tls(srv, port, tmp_path):
    """An MX that names an address (used as one) and offers STARTTLS:
    no server name is sent for an address, and the mail goes out."""
    cert = certs.make("127.0.0.8")
    cp, kp = cert.write(str(tmp_path), "lit")
    marker = petreltest.unique("literal")
    with RemoteMTA("127.0.0.8", port, tls=(cp, kp)) as mx:
        send(srv, ["lit@literal.test"], marker)
        got = mx.wait_messages(1)
    assert got[0].tls and marker.encode() in got[0].content


def test_servfail_defers_and_admin_commands(srv):
    marker = petreltest.unique("servfail")
    send(srv, ["hank@servfail.test"], marker)
    deadline = time.time() + 30
    show = ""
    while time.time() < deadline:
        ids = queue_ids(srv)
        if ids:
            show = ctl(srv, "queue", "show", ids[0])[1]
            if "4.4.3" in show:
                break
        time.sleep(0.2)
    assert "hank@servfail.test" in show and "4.4.3" in show, show
    qid = queue_ids(srv)[0]
    assert "held" in ctl(srv, "queue", "hold", qid)[1]
    assert "held" in queue_list(srv)
    srv.ctl("queue", "release", qid)
    assert "due now" in ctl(srv, "queue", "retry", qid)[1]
    # an administrator's bounce: the sender is told at once
    srv.ctl("queue", "bounce", qid)
    found = inbox_with(srv, "Undelivered Mail", marker)
    assert found
    _, parts, rcpts = parse_dsn(found[0])
    assert rcpts[0]["Action"] == "failed"
    assert "postmaster" in parts[0].get_content()
    wait_queue_empty(srv)
    rc, _, err = ctl(srv, "queue", "delete", "999999999", check=False)
    assert rc == 1 and "no queue entry" in err
    assert ctl(srv, "queue", "show", "x", check=False)[0] == 2


def test_unreachable_destination_bounces_after_lifetime(dns, port):
    """The issue's "done when": nothing answers at the MX; after the
    queue's lifetime (5 s here) a readable report is in the INBOX."""
    gen = petreltest.running(*conf(dns, port, "queue_lifetime = 5s"))
    s = next(gen)
    try:
        marker = petreltest.unique("lifetime")
        send(s, ["ivan@refused.test"], marker)
        found = inbox_with(s, "Undelivered Mail", marker, timeout=90)
        assert found, "no bounce for an unreachable destination"
        m, parts, rcpts = parse_dsn(found[0])
        assert rcpts[0]["Action"] == "failed"
        text = parts[0].get_content()
        assert "ivan@refused.test" in text
        assert "127.0.0.7" in text or "refused" in text.lower()
        wait_queue_empty(s)
        s.store_check()
    finally:
        for _ in gen:
            pass


def test_delay_notice(dns, port):
    gen = petreltest.running(*conf(dns, port, "queue_delay_warning = 2s"))
    s = next(gen)
    try:
        marker = petreltest.unique("delay")
        send(s, ["judy@servfail.test"], marker)
        found = inbox_with(s, "Delayed Mail", marker, timeout=60)
        assert found
        _, _, rcpts = parse_dsn(found[0])
        assert rcpts[0]["Action"] == "delayed"
        assert rcpts[0]["Will-Retry-Until"]
        # still queued, and told once only
        time.sleep(3)
        assert len(inbox_with(s, "Delayed Mail", marker, timeout=0)) == 1
        assert queue_ids(s)
    finally:
        for _ in gen:
            pass


def test_transport_and_tls_required(dns, port, tmp_path):
    gen = petreltest.running(*conf(
        dns, port, "transports = partner.example=[127.0.0.9]:%d" % port,
        "outbound_tls_required = mx.test"))
    s = next(gen)
    try:
        marker = petreltest.unique("transport")
        with RemoteMTA("127.0.0.9", port) as gw:
            send(s, ["kim@partner.example"], marker)
            assert gw.wait_messages(1)[0].rcpt_tos == ["kim@partner.example"]
        # mx.test requires TLS; its MX offers none: deferred, not sent
        marker = petreltest.unique("tlsreq")
        with RemoteMTA("127.0.0.2", port) as mx:
            send(s, ["lee@mx.test"], marker)
            deadline = time.time() + 30
            show = ""
            while time.time() < deadline and "TLS" not in show:
                ids = queue_ids(s)
                show = ctl(s, "queue", "show", ids[0])[1] if ids else ""
                time.sleep(0.2)
            assert "TLS" in show, show
            assert mx.messages == []
    finally:
        for _ in gen:
            pass


def test_relay_host_with_auth(dns, port, tmp_path):
    cert = certs.make("relay.test", names=["relay.test"])
    cp, kp = cert.write(str(tmp_path), "relay")
    relay_port = free_port()
    base = petreltest.make_base_dir()
    pw = base + "/relay.pw"
    with open(pw, "w") as f:
        f.write("relay-secret\n")
    gen = petreltest.running(*conf(
        dns, port, "relay_host = [127.0.0.10]:%d" % relay_port,
        "relay_tls = starttls", "relay_auth_user = petrel",
        "relay_auth_password_file = " + pw))
    s = next(gen)
    try:
        marker = petreltest.unique("relay")
        with RemoteMTA("127.0.0.10", relay_port, tls=(cp, kp),
                       auth={"petrel": "relay-secret"}) as relay:
            send(s, ["anyone@elsewhere.example"], marker)
            got = relay.wait_messages(1)
        assert got[0].tls and got[0].auth
        assert "relay-secret" not in s.stderr_text()
    finally:
        for _ in gen:
            pass


def test_no_report_on_a_report(dns, port):
    """A report that cannot be delivered is dropped, never reported on:
    a message from another domain's sender fails, its report to that
    sender (null MX) fails too, and nothing more is made; a message with
    the null sender that fails makes no report at all."""
    gen = petreltest.running(*conf(dns, port))
    s = next(gen)
    try:
        s.stop_and_check()
        inject = petreltest.binary("tests/tools/queue-inject")
        for sender, rcpt in (("someone@nullmx.test", "gone@nosuchdomain.test"),
                             ("", "erin@nullmx.test")):
            msg = ("From: <%s>\r\nSubject: %s\r\n\r\nx\r\n"
                   % (sender, petreltest.unique("loop"))).encode()
            subprocess.run([inject, s.data_dir, sender, rcpt], input=msg,
                           check=True, timeout=60)
        s.start(new_ports=False)
        wait_queue_empty(s)
        log = s.stderr_text()
        assert log.count("op=report ") == 1, log[-3000:]
        assert log.count("report=none(null sender)") == 2, log[-3000:]
        assert not inbox_with(s, "Undelivered Mail", timeout=0)
    finally:
        for _ in gen:
            pass
