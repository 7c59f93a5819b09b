"""test_submission.py - sending mail from a mail client (RFC 6409): the
submission ports (STARTTLS on the 587 equivalent, implicit TLS on the 465
one), AUTH PLAIN / LOGIN / SCRAM-SHA-256 with real clients (Python
smtplib, swaks, msmtp, openssl s_client, and a small RFC 5802 client
here), sender authorization, the header fields submission adds, the
per-user limits, and the bad input an AUTH exchange can bring."""

import base64
import hashlib
import hmac
import os
import smtplib
import subprocess

import pytest

import petreltest
from petreltest import (DEMO, DEMO_PASSWORD, HOSTNAME, SMTPConn, split_trace,
                        tls_ctx, unique)
from test_smtp_errors import CLASSIC_RELAY_TRICKS, relay_patterns

PASSWORD = "Secret-pass-123"    # what Petrel.add_mailbox sets


@pytest.fixture(scope="module")
def server():
    yield from petreltest.running("auth_failure_delay = 0")


def b64(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


def sub(srv, **kw):
    """A connection to the 587 equivalent, after EHLO."""
    c = SMTPConn(srv.submission_port, **kw)
    c.ehlo()
    return c


def sub_tls(srv):
    """587 equivalent after STARTTLS and the second EHLO."""
    c = sub(srv)
    c.starttls(tls_ctx())
    c.ehlo()
    return c


def subs(srv):
    """465 equivalent (implicit TLS), after EHLO."""
    c = SMTPConn(srv.submissions_port, implicit_tls=True)
    c.ehlo()
    return c


def plain(user, password):
    return b64("\0%s\0%s" % (user, password))


def login(c, user=DEMO, password=DEMO_PASSWORD):
    c.expect("AUTH PLAIN " + plain(user, password), 235, "2.7.0")


def message(marker, sender=DEMO, to=DEMO, extra=b"", date=True, msgid=True):
    m = b"From: <" + sender.encode() + b">\r\nTo: <" + to.encode() + b">\r\n"
    m += b"Subject: " + marker.encode() + b"\r\n"
    if date:
        m += b"Date: Mon, 02 Mar 2026 10:00:00 +0100\r\n"
    if msgid:
        m += b"Message-ID: <" + marker.encode() + b"@client.petrel.test>\r\n"
    return m + extra + b"\r\nbody " + marker.encode() + b"\r\n"


def stored(srv, marker, address=DEMO):
    for m in srv.messages(address):
        if marker.encode() in m:
            return m
    raise AssertionError("message %s not in %s's INBOX" % (marker, address))


def header_block(msg):
    return msg.split(b"\r\n\r\n", 1)[0]


# ---------------------------------------------------------------- SCRAM client

def scram_exchange(c, user, password, initial=True, expect_ok=True):
    """RFC 5802 client over AUTH SCRAM-SHA-256; returns the server-first
    attributes. Checks the server's signature when it accepts."""
    cnonce = b64(os.urandom(18))
    bare = "n=%s,r=%s" % (user.replace("=", "=3D").replace(",", "=2C"), cnonce)
    first = "n,," + bare
    if initial:
        r = c.expect("AUTH SCRAM-SHA-256 " + b64(first), 334)
    else:
        c.expect("AUTH SCRAM-SHA-256", 334)
        r = c.expect(b64(first), 334)
    server_first = base64.b64decode(r.text).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    assert attrs["r"].startswith(cnonce) and len(attrs["r"]) > len(cnonce)
    salt = base64.b64decode(attrs["s"])
    iterations = int(attrs["i"])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = "c=%s,r=%s" % (b64("n,,"), attrs["r"])
    auth_message = ",".join([bare, server_first, without_proof]).encode()
    sig = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    r = c.cmd(b64(without_proof + ",p=" + b64(proof)))
    if not expect_ok:
        if r.code != 535 or r.esc != "5.7.8":
            c.fail("SCRAM with bad credentials: expected 535 5.7.8, got %r" % r)
        return attrs
    if r.code != 334:
        c.fail("SCRAM proof refused: %r" % r)
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    want = hmac.new(server_key, auth_message, hashlib.sha256).digest()
    assert base64.b64decode(r.text) == b"v=" + b64(want).encode(), "bad server signature"
    c.expect("", 235, "2.7.0")
    return attrs


# ---------------------------------------------------------------- TLS first

def test_587_before_starttls_no_auth(server):
    with sub(server) as c:
        assert "STARTTLS" in c.features
        assert "AUTH" not in c.features
        c.expect("AUTH PLAIN " + plain(DEMO, DEMO_PASSWORD), 530, "5.7.0")
        r = c.expect("MAIL FROM:<%s>" % DEMO, 530, "5.7.0")
        assert "STARTTLS" in r.text
        c.expect("RCPT TO:<%s>" % DEMO, 530, "5.7.0")
        c.quit()


def test_auth_advertised_after_tls(server):
    with sub_tls(server) as c:
        assert c.features["AUTH"].split() == ["PLAIN", "LOGIN", "SCRAM-SHA-256"]
        r = c.expect("MAIL FROM:<%s>" % DEMO, 530, "5.7.0")
        assert "Authentication required" in r.text
        c.quit()
    with subs(server) as c:
        assert "STARTTLS" not in c.features
        assert "PLAIN" in c.features["AUTH"]
        c.quit()


def test_mx_port_has_no_auth_and_adds_nothing(server):
    marker = unique("mx")
    with server.connect() as c:
        c.ehlo()
        assert "AUTH" not in c.features
        c.expect("AUTH PLAIN " + plain(DEMO, DEMO_PASSWORD), 503, "5.5.1")
        c.send_mail("x@remote.test", [DEMO],
                    message(marker, sender="x@remote.test", date=False, msgid=False))
        c.quit()
    hdr = header_block(stored(server, marker))
    assert b"Message-ID:" not in hdr and b"\r\nDate:" not in hdr


# ---------------------------------------------------------------- clients

def test_smtplib_starttls_plain(server):
    marker = unique("smtplib")
    s = smtplib.SMTP("127.0.0.1", server.submission_port, local_hostname="client.petrel.test",
                     timeout=petreltest.NET_TIMEOUT)
    s.starttls(context=tls_ctx())
    s.ehlo()
    s.user, s.password = DEMO, DEMO_PASSWORD
    code, _ = s.auth("PLAIN", s.auth_plain)
    assert code == 235
    s.sendmail(DEMO, [DEMO], message(marker, date=False, msgid=False))
    s.quit()
    msg = stored(server, marker)
    rp, received, rest = split_trace(msg)
    assert rp == DEMO.encode()
    assert b"from [authenticated]" in received and b"with ESMTPSA" in received
    assert b"127.0.0.1" not in received            # submission_hide_client_ip
    hdr = header_block(rest)
    assert hdr.count(b"\r\nDate: ") + hdr.startswith(b"Date: ") == 1
    assert b"Message-ID: <" in hdr and ("@%s>" % HOSTNAME).encode() in hdr


def test_smtplib_implicit_tls_login(server):
    marker = unique("smtps")
    s = smtplib.SMTP_SSL("127.0.0.1", server.submissions_port, local_hostname="client.petrel.test",
                         context=tls_ctx(), timeout=petreltest.NET_TIMEOUT)
    s.ehlo()
    s.user, s.password = DEMO, DEMO_PASSWORD
    code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
    assert code == 235
    s.sendmail(DEMO, [DEMO], message(marker))
    s.quit()
    hdr = header_block(stored(server, marker))
    # the client's Date and Message-ID are kept, not doubled
    assert hdr.count(b"Message-ID:") == 1
    assert b"<%s@client.petrel.test>" % marker.encode() in hdr
    assert hdr.count(b"Date:") == 1


def test_plain_with_continuation_and_login_prompts(server):
    with sub_tls(server) as c:
        c.expect("AUTH PLAIN", 334)
        c.expect(plain(DEMO, DEMO_PASSWORD), 235, "2.7.0")
        c.expect("AUTH PLAIN " + plain(DEMO, DEMO_PASSWORD), 503, "5.5.1")
        c.quit()
    with subs(server) as c:
        r = c.expect("AUTH LOGIN", 334)
        assert r.text == "VXNlcm5hbWU6"
        r = c.expect(b64(DEMO), 334)
        assert r.text == "UGFzc3dvcmQ6"
        c.expect(b64(DEMO_PASSWORD), 235, "2.7.0")
        c.quit()
    with subs(server) as c:   # LOGIN with the user name as initial response
        r = c.expect("AUTH LOGIN " + b64(DEMO), 334)
        assert r.text == "UGFzc3dvcmQ6"
        c.expect(b64(DEMO_PASSWORD), 235, "2.7.0")
        c.quit()


def run_swaks(server, port, marker, *extra):
    return subprocess.run(
        ["swaks", "--server", "127.0.0.1", "--port", str(port), "--to", DEMO,
         "--from", DEMO, "--helo", "client.petrel.test", "--timeout", "20",
         "--auth-user", DEMO, "--auth-password", DEMO_PASSWORD,
         "--header", "Subject: swaks " + marker, "--body", "sent by swaks " + marker]
        + list(extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)


def test_swaks_starttls_plain_and_tlsc_login(server):
    m1, m2 = unique("swaks"), unique("swaks")
    p = run_swaks(server, server.submission_port, m1, "--tls", "--auth", "PLAIN")
    assert p.returncode == 0, p.stdout.decode()
    p = run_swaks(server, server.submissions_port, m2, "--tlsc", "--auth", "LOGIN")
    assert p.returncode == 0, p.stdout.decode()
    stored(server, m1)
    stored(server, m2)


def test_swaks_wrong_password_and_spoof(server):
    p = subprocess.run(
        ["swaks", "--server", "127.0.0.1", "--port", str(server.submission_port), "--tls",
         "--to", DEMO, "--from", DEMO, "--auth", "PLAIN", "--auth-user", DEMO,
         "--auth-password", "wrong-password", "--timeout", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode != 0 and b"535 5.7.8" in p.stdout
    p = run_swaks(server, server.submission_port, unique("sw"), "--tls", "--auth", "PLAIN",
                  "--from", "ceo@example.test")
    assert p.returncode != 0 and b"553 5.7.1" in p.stdout


def test_msmtp(server, tmp_path):
    marker = unique("msmtp")
    conf = tmp_path / "msmtprc"
    conf.write_text("account petrel\nhost 127.0.0.1\nport %d\nauth plain\nuser %s\n"
                    "password %s\ntls on\ntls_starttls on\ntls_certcheck off\nfrom %s\n"
                    "domain client.petrel.test\n"
                    % (server.submission_port, DEMO, DEMO_PASSWORD, DEMO))
    conf.chmod(0o600)
    p = subprocess.run(["msmtp", "-C", str(conf), "-a", "petrel", DEMO],
                       input=("Subject: %s\r\n\r\nsent by msmtp\r\n" % marker).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode == 0, p.stdout.decode()
    hdr = header_block(stored(server, marker))
    assert hdr.count(b"\r\nFrom: ") == 1 and DEMO.encode() in hdr


def test_openssl_s_client_starttls(server):
    marker = unique("ossl")
    script = ("EHLO client.petrel.test\r\nAUTH PLAIN %s\r\nMAIL FROM:<%s>\r\n"
              "RCPT TO:<%s>\r\nDATA\r\n" % (plain(DEMO, DEMO_PASSWORD), DEMO, DEMO))
    p = subprocess.Popen(["openssl", "s_client", "-quiet", "-starttls", "smtp", "-connect",
                          "127.0.0.1:%d" % server.submission_port],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    import time
    out = b""
    try:
        # one command at a time: AUTH is not pipelinable (RFC 4954 4)
        for line in script.splitlines(True):
            p.stdin.write(line.encode())
            p.stdin.flush()
            time.sleep(0.3)
        p.stdin.write(message(marker) + b".\r\nQUIT\r\n")
        p.stdin.flush()
        out, _ = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert b"235 2.7.0" in out and b"250 2.0.0 Ok: queued" in out, out.decode("utf-8", "replace")
    stored(server, marker)


# ---------------------------------------------------------------- SCRAM

def test_scram_demo_and_petrelctl_mailbox(server):
    with sub_tls(server) as c:
        attrs = scram_exchange(c, DEMO, DEMO_PASSWORD)
        assert int(attrs["i"]) >= 4096
        c.mail_rcpt(DEMO, [DEMO])
        c.quit()
    user = server.new_mailbox("scram")
    with subs(server) as c:
        scram_exchange(c, user, PASSWORD, initial=False)
        c.quit()


def test_scram_wrong_password_and_unknown_user(server):
    with sub_tls(server) as c:
        real = scram_exchange(c, DEMO, "wrong-password", expect_ok=False)
        ghost = scram_exchange(c, "nobody-here@example.test", "x", expect_ok=False)
        again = scram_exchange(c, "Nobody-Here@example.test", "y", expect_ok=False)
        c.expect_reply(421, "4.7.0")     # the third failure ends the session
    # an unknown user gets a salt as a real one does, the same each time
    assert len(base64.b64decode(ghost["s"])) == len(base64.b64decode(real["s"]))
    assert ghost["i"] == real["i"]
    assert ghost["s"] == again["s"]
    assert 'auth failed user="nobody-here@example.test" mech=SCRAM-SHA-256' in server.stderr_text()


def test_scram_off(make_server):
    srv = make_server("auth_scram = no")
    with sub_tls(srv) as c:
        assert c.features["AUTH"].split() == ["PLAIN", "LOGIN"]
        c.expect("AUTH SCRAM-SHA-256 " + b64("n,,n=x,r=abc"), 504, "5.5.4")
        c.quit()


def test_scram_malformed(server):
    with sub_tls(server) as c:
        c.expect("AUTH SCRAM-SHA-256 " + b64("p=tls-unique,,n=x,r=abc"), 501, "5.5.2")
        c.expect("AUTH SCRAM-SHA-256 " + b64("n,,m=ext,n=x,r=abc"), 501, "5.5.2")
        c.expect("AUTH SCRAM-SHA-256 " + b64("n,,n=a=b,r=abc"), 501, "5.5.2")
        r = c.expect("AUTH SCRAM-SHA-256 " + b64("n,,n=%s,r=abc" % DEMO), 334)
        # a client-final with another nonce
        c.expect(b64("c=biws,r=other,p=" + b64(b"x" * 32)), 501, "5.5.2")
        c.quit()


# ---------------------------------------------------------------- failures

def test_wrong_password_and_unknown_user_535(server):
    with sub_tls(server) as c:
        c.expect("AUTH PLAIN " + plain(DEMO, "wrong"), 535, "5.7.8")
        c.expect("AUTH PLAIN " + plain("ghost@example.test", "wrong"), 535, "5.7.8")
        login(c)
        c.quit()
    log = server.stderr_text()
    assert "wrong" not in log and DEMO_PASSWORD not in log


def test_too_many_failures_421(server):
    with sub_tls(server) as c:
        for _ in range(2):
            c.expect("AUTH PLAIN " + plain(DEMO, "wrong"), 535, "5.7.8")
        c.send("AUTH PLAIN %s\r\n" % plain(DEMO, "wrong"))
        c.expect_reply(535, "5.7.8")
        c.expect_reply(421, "4.7.0")
        assert c.expect_eof(10)


def test_malformed_base64_cancel_and_overlong(server):
    with sub_tls(server) as c:
        c.expect("AUTH PLAIN not*base64!", 501, "5.5.2")
        c.expect("AUTH PLAIN", 334)
        c.expect("%%%%", 501, "5.5.2")
        c.expect("AUTH LOGIN", 334)
        c.expect("*", 501)
        c.expect("AUTH PLAIN " + b64(b"only-one-part"), 501, "5.5.2")
        c.expect("AUTH PLAIN " + b64(b"\0" + b"u" * 600 + b"\0p"), 501, "5.5.2")
        c.expect("AUTH CRAM-MD5", 504, "5.5.4")
        c.expect("AUTH", 501, "5.5.4")
        c.expect("AUTH PLAIN a b", 501, "5.5.4")
        login(c)          # still in step
        c.quit()
    with sub_tls(server) as c:
        # longer than the command line limit: refused and closed
        c.send("AUTH PLAIN " + "A" * 5000 + "\r\n")
        c.expect_reply(500, "5.5.2")
        assert c.expect_eof(10)


def test_starttls_injection_discarded(server):
    """Commands pipelined after STARTTLS in the same packet came in clear
    and must not be run after the handshake (CVE-2011-0411)."""
    with sub(server) as c:
        c.send("STARTTLS\r\nAUTH PLAIN %s\r\n" % plain(DEMO, DEMO_PASSWORD))
        c.expect_reply(220)
        c._wrap(tls_ctx())
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % DEMO, 530, "5.7.0")
        login(c)
        c.quit()


# ---------------------------------------------------------------- senders

def test_sender_authorization(server):
    marker = unique("own")
    with sub_tls(server) as c:
        login(c)
        r = c.expect("MAIL FROM:<ceo@example.test>", 553, "5.7.1")
        assert "<%s>" % DEMO in r.text
        c.expect("MAIL FROM:<>", 553, "5.7.1")
        for trick in ("demo@example.test.", "\"demo@example.test\"@evil.test",
                      "demo%example.test@evil.test", "@example.test:demo@evil.test",
                      "demo@[127.0.0.1]", "\"demo\"@example.test"):
            r = c.cmd("MAIL FROM:<%s>" % trick)
            assert r.code in (501, 553), (trick, r)     # syntax, or not owned
        # the same address in other case is the user's own
        c.mail_rcpt("DEMO@Example.TEST", [DEMO])
        r = c.data(message(marker, sender="ceo@example.test"))
        assert r.code == 553 and r.esc == "5.7.1"
        c.mail_rcpt(DEMO, [DEMO])
        r = c.data(message(marker, extra=b"From: <other@example.test>\r\n"))
        assert r.code == 553 and r.esc == "5.7.1"     # a second From:
        c.mail_rcpt(DEMO, [DEMO])
        r = c.data(message(marker).replace(b"From: <demo@example.test>",
                                           b"From: Demo <demo@example.test>, x@evil.test"))
        assert r.code == 553
        c.mail_rcpt(DEMO, [DEMO])
        r = c.data(message(marker).replace(b"From: <demo@example.test>",
                                           b"From: \"Demo\" <Demo@EXAMPLE.test>"))
        assert r.code == 250, r
        c.quit()
    stored(server, marker)


def test_local_and_remote_recipients(make_server):
    """Local recipients are delivered at once; a recipient in another
    domain is accepted and queued with the same message (the runner's
    DNS points at a silent loopback port: nothing leaves the machine)."""
    srv = make_server("dns_forwarder = 127.0.0.1@%d" % petreltest.free_port(),
                      "dns_timeout = 1")
    other = srv.new_mailbox("colleague")
    marker = unique("local")
    with subs(srv) as c:
        login(c)
        c.expect("MAIL FROM:<%s>" % DEMO, 250)
        c.expect("RCPT TO:<%s>" % other, 250)
        c.expect("RCPT TO:<nobody-here@example.test>", 550, "5.1.1")
        c.expect("RCPT TO:<friend@remote.test>", 250, "2.1.5")
        r = c.data(message(marker, to=other))
        assert r.code == 250
        c.quit()
    stored(srv, marker, other)
    listing = srv.ctl("queue", "list").stdout.decode()
    qid = [l.split()[0] for l in listing.splitlines()
           if l[:1].isdigit() and "message(s)" not in l]
    assert len(qid) == 1 and "<%s>" % DEMO in listing, listing
    entry = srv.ctl("queue", "show", qid[0]).stdout.decode()
    assert "friend@remote.test" in entry and other not in entry, entry
    # the MX port still refuses the same recipient
    with srv.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % DEMO, 250)
        c.expect("RCPT TO:<friend@remote.test>", 554, "5.7.1")
        c.close()


def test_missing_from_is_added(server):
    marker = unique("nofrom")
    with subs(server) as c:
        login(c)
        c.send_mail(DEMO, [DEMO], b"Subject: " + marker.encode() + b"\r\n\r\nhi\r\n")
        c.quit()
    hdr = header_block(stored(server, marker))
    assert b"\r\nFrom: <%s>\r\n" % DEMO.encode() in hdr


def test_hide_client_ip_off(make_server):
    srv = make_server("submission_hide_client_ip = no")
    marker = unique("ip")
    with subs(srv) as c:
        login(c)
        c.send_mail(DEMO, [DEMO], message(marker))
        c.quit()
    _, received, _ = split_trace(stored(srv, marker))
    assert b"[127.0.0.1]" in received and b"ESMTPSA" in received


# ---------------------------------------------------------------- limits

def test_limits(make_server):
    srv = make_server("submission_max_recipients_per_message = 2",
                      "submission_max_messages_per_hour = 2")
    other = srv.new_mailbox("peer")
    with subs(srv) as c:
        login(c)
        c.mail_rcpt(DEMO, [DEMO, other])
        c.expect("RCPT TO:<%s>" % DEMO, 452, "4.5.3")
        assert c.data(message(unique("l1"))).code == 250
        c.send_mail(DEMO, [DEMO], message(unique("l2")))
        r = c.expect("MAIL FROM:<%s>" % DEMO, 452, "4.7.0")
        assert "Sending limit of 2 messages per hour reached, try again later" in r.text
        c.quit()
    # every connection and port of the user counts
    with sub_tls(srv) as c:
        login(c)
        c.expect("MAIL FROM:<%s>" % DEMO, 452, "4.7.0")
        c.quit()
    # another user has their own count
    with sub_tls(srv) as c:
        login(c, other, PASSWORD)
        c.send_mail(other, [DEMO], message(unique("l3"), sender=other))
        c.quit()
    assert "reason=hourly_limit" in srv.stderr_text()


# ---------------------------------------------------------------- relaying

def refused_530(srv, sender, rcpts):
    for tls in (False, True):
        with (sub_tls(srv) if tls else sub(srv)) as c:
            c.expect("MAIL FROM:<%s>" % sender, 530, "5.7.0")
            for rcpt in rcpts:
                c.expect("RCPT TO:<%s>" % rcpt, 530, "5.7.0")
            c.expect("DATA", 530, "5.7.0")
            c.quit()


def test_submission_without_auth_refuses_every_relay_trick(server):
    """The MX port's open-relay list, and nmap's patterns: on submission
    without AUTH every one is 530, whatever the address."""
    tricks = CLASSIC_RELAY_TRICKS + [DEMO, "postmaster"]
    for i in range(0, len(tricks), 10):     # under smtp_max_errors per session
        refused_530(server, "antispam@nmap.scanme.org", tricks[i:i + 10])
    subst = {"from": "antispam", "to": "relaytest", "domain": "nmap.scanme.org",
             "srvname": HOSTNAME, "ip": "127.0.0.1"}
    for p in relay_patterns():
        refused_530(server, p["mail_from"].format(**subst), [p["rcpt_to"].format(**subst)])
