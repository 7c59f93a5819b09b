"""test_tls.py - STARTTLS (RFC 3207) and implicit TLS (RFC 8314) on
petreld's SMTP ports, driven by smtplib, swaks and openssl s_client:
handshakes, minimum protocol version, the STARTTLS command injection
(CVE-2011-0411 and kin), state reset after TLS, and the generated
certificate and key."""

import os
import socket
import ssl
import stat
import subprocess
import time
import warnings

import pytest

import petreltest
from petreltest import (DEMO, HOSTNAME, SMTPConn, ctx_noverify, find_marker,
                        make_message, split_trace, unique)

TOOL_TIMEOUT = 30


def stored_one(server, marker, address=DEMO):
    got = find_marker(server.messages(address), marker)
    assert len(got) == 1, "%d messages with %s" % (len(got), marker)
    return got[0]


def run(cmd, input=b""):
    return subprocess.run(cmd, input=input, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=TOOL_TIMEOUT)


# ---------------------------------------------------------------- clients

def test_starttls_smtplib(server):
    marker = unique("starttls")
    msg = make_message(marker)
    s = server.smtplib()
    try:
        s.ehlo("client.petrel.test")
        assert s.has_extn("starttls")
        code, _ = s.starttls(context=ctx_noverify())
        assert code == 220
        s.ehlo("client.petrel.test")
        assert not s.has_extn("starttls"), "STARTTLS offered again after TLS: %r" % s.esmtp_features
        assert s.sendmail("tls@remote.test", [DEMO], msg) == {}
    finally:
        s.quit()
    rp, received, rest = split_trace(stored_one(server, marker))
    assert rest == msg and rp == b"tls@remote.test"
    print("Received over STARTTLS:", received)


def test_implicit_tls_smtp_ssl(server):
    import smtplib
    marker = unique("smtps")
    msg = make_message(marker)
    s = smtplib.SMTP_SSL("127.0.0.1", server.smtps_port, local_hostname="client.petrel.test",
                         context=ctx_noverify(), timeout=petreltest.NET_TIMEOUT)
    try:
        code, _ = s.ehlo()
        assert code == 250
        assert not s.has_extn("starttls"), "STARTTLS offered on the implicit TLS port"
        for kw in ("pipelining", "size", "8bitmime", "smtputf8", "enhancedstatuscodes",
                   "chunking"):
            assert s.has_extn(kw), kw
        assert s.sendmail("smtps@remote.test", [DEMO], msg) == {}
    finally:
        s.quit()
    assert split_trace(stored_one(server, marker))[2] == msg


def test_implicit_tls_raw_dialogue(server):
    with server.connect_tls() as c:
        assert c.banner.code == 220
        c.ehlo()
        assert "STARTTLS" not in c.features
        r = c.cmd("STARTTLS")
        if r.code // 100 != 5:
            c.fail("STARTTLS accepted inside TLS")
        c.quit()


def test_swaks_starttls(server):
    marker = unique("swaks")
    p = run(["swaks", "--server", "127.0.0.1", "--port", str(server.port),
             "--to", DEMO, "--from", "swaks@remote.test", "--helo", "client.petrel.test",
             "--tls", "--timeout", "20",
             "--header", "Subject: swaks %s" % marker,
             "--body", "swaks over STARTTLS %s" % marker])
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    assert "STARTTLS" in out and "<~" in out, "swaks did not use TLS:\n" + out
    stored_one(server, marker)


def test_openssl_s_client_starttls(server):
    for proto in ("-tls1_2", "-tls1_3"):
        p = run(["openssl", "s_client", "-starttls", "smtp", "-brief",
                 "-connect", "127.0.0.1:%d" % server.port, proto], input=b"QUIT\r\n")
        out = p.stdout.decode("utf-8", "replace")
        assert "CONNECTION ESTABLISHED" in out, out
        want = {"-tls1_2": "TLSv1.2", "-tls1_3": "TLSv1.3"}[proto]
        assert "Protocol version: " + want in out, out


def tls11_control_ok(cert, key):
    """Can this machine's openssl speak TLS 1.1 at all? (Otherwise a refusal
    would prove nothing.) Runs openssl s_server for TLS 1.1 only."""
    port = petreltest.free_port()
    srv = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port,
                            "-cert", cert, "-key", key, "-tls1_1",
                            "-cipher", "DEFAULT:@SECLEVEL=0", "-quiet"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):   # wait for the port, bounded
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        p = run(["openssl", "s_client", "-brief", "-connect", "127.0.0.1:%d" % port,
                 "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], input=b"")
        return "Protocol version: TLSv1.1" in p.stdout.decode("utf-8", "replace")
    finally:
        srv.kill()
        srv.wait(10)


def test_tls11_refused(server):
    cert = os.path.join(server.data_dir, "tls", "cert.pem")
    key = os.path.join(server.data_dir, "tls", "key.pem")
    p = run(["openssl", "s_client", "-starttls", "smtp", "-brief",
             "-connect", "127.0.0.1:%d" % server.port,
             "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], input=b"QUIT\r\n")
    out = p.stdout.decode("utf-8", "replace")
    assert "CONNECTION ESTABLISHED" not in out and p.returncode != 0, \
        "TLS 1.1 accepted:\n" + out
    for port, implicit in ((server.port, False), (server.smtps_port, True)):
        for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx = ctx_noverify(min_version=version, max_version=version)
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            c = SMTPConn(port, greeting=not implicit)
            try:
                if not implicit:
                    c.ehlo()
                    c.expect("STARTTLS", 220)
                with pytest.raises((ssl.SSLError, ConnectionResetError, EOFError)):
                    c._wrap(ctx)
                    c.cmd("NOOP")
            finally:
                c.close()
    if os.path.exists(cert) and not tls11_control_ok(cert, key):
        pytest.skip("this openssl cannot do TLS 1.1 even with SECLEVEL=0; refusal unproven")


def test_tls_min_version_13(make_server):
    srv = make_server("tls_min_version = TLSv1.3")
    c = SMTPConn(srv.port)
    try:
        c.ehlo()
        c.expect("STARTTLS", 220)
        with pytest.raises((ssl.SSLError, ConnectionResetError, EOFError)):
            c._wrap(ctx_noverify(max_version=ssl.TLSVersion.TLSv1_2))
            c.cmd("NOOP")
    finally:
        c.close()
    with SMTPConn(srv.port) as c:
        c.ehlo()
        c.starttls(ctx_noverify(min_version=ssl.TLSVersion.TLSv1_3))
        assert c.sock.version() == "TLSv1.3"
        c.ehlo()
        c.quit()


# ---------------------------------------------------------------- state

@pytest.mark.parametrize("injected", [
    b"RSET\r\n",
    b"NOOP\r\n",
    b"MAIL FROM:<injected@evil.test>\r\n",
    b"EHLO injected.evil.test\r\n",
])
def test_starttls_command_injection(server, injected):
    """CVE-2011-0411: commands sent in the clear in the same write as
    STARTTLS must be thrown away, not answered after the handshake."""
    c = server.connect()
    try:
        c.ehlo()
        c.send(b"STARTTLS\r\n" + injected)
        r = c.reply()
        if r.code != 220:
            if r.code // 100 == 5:
                return              # refusing pipelined STARTTLS is safe
            c.fail("STARTTLS: expected 220")
        if c.buf:
            c.fail("reply to the injected command in the clear: %r" % bytes(c.buf))
        try:
            c._wrap()
        except (ssl.SSLError, ConnectionResetError, EOFError, OSError):
            return                  # closed as a protocol violation: safe
        r = c.cmd("EHLO client.petrel.test", exempt=True)
        if r.code != 250 or len(r.raw) < 2 or HOSTNAME not in r.texts[0]:
            c.fail("first reply over TLS is not the EHLO reply: %r "
                   "(the injected command was answered)" % r)
        # the injected MAIL must not have started a transaction
        c.expect("RCPT TO:<%s>" % DEMO, 503, "5.5.1")
        c.expect("QUIT", 221)
    finally:
        c.close()


def test_starttls_twice(server):
    with server.connect() as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        r = c.cmd("STARTTLS")
        if r.code // 100 != 5:
            c.fail("second STARTTLS: expected 503 (or another 5xx)")
        c.expect("NOOP", 250)
        c.quit()


def test_state_forgotten_after_starttls(server):
    """RFC 3207 4.2: after the handshake the server forgets the EHLO; a
    transaction must begin with a new EHLO."""
    with server.connect() as c:
        c.ehlo()
        c.starttls()
        c.expect("MAIL FROM:<a@remote.test>", 503, "5.5.1")
        c.ehlo()
        c.expect("MAIL FROM:<a@remote.test>", 250)
        c.quit()


def test_starttls_with_argument(server):
    with server.connect() as c:
        c.ehlo()
        c.expect("STARTTLS now", 501, "5.5.4")
        c.expect("NOOP", 250)
        c.quit()


def test_garbage_instead_of_handshake(server):
    c = server.connect()
    try:
        c.ehlo()
        c.expect("STARTTLS", 220)
        c.send(b"EHLO this is not a TLS record\r\n" * 20)
        c.sock.settimeout(petreltest.NET_TIMEOUT)
        got = b""
        try:
            while True:
                b = c.sock.recv(4096)
                if not b:
                    break
                got += b
        except (ConnectionResetError, socket.timeout):
            pass
        assert not got.startswith(b"250") and b"\r\n250" not in got, \
            "plaintext replies after STARTTLS: %r" % got[:200]
    finally:
        c.close()
    with server.connect() as c2:     # the server is fine
        c2.ehlo()
        c2.quit()


def test_plaintext_on_implicit_tls_port(server):
    s = socket.create_connection(("127.0.0.1", server.smtps_port), timeout=petreltest.NET_TIMEOUT)
    try:
        s.sendall(b"EHLO client.petrel.test\r\nMAIL FROM:<a@remote.test>\r\n")
        got = b""
        try:
            while len(got) < 65536:
                b = s.recv(4096)
                if not b:
                    break
                got += b
        except (ConnectionResetError, socket.timeout):
            pass
        assert b"250" not in got and not got.startswith(b"220"), got[:200]
    finally:
        s.close()


def test_tls_handshake_abandoned(server):
    """A client that connects to the TLS port and never speaks must not
    hold anything up for others."""
    idle = socket.create_connection(("127.0.0.1", server.smtps_port), timeout=5)
    try:
        with server.connect_tls() as c:
            c.ehlo()
            c.quit()
    finally:
        idle.close()


# ---------------------------------------------------------------- certificate

def test_generated_certificate_and_key(server):
    cert = os.path.join(server.data_dir, "tls", "cert.pem")
    key = os.path.join(server.data_dir, "tls", "key.pem")
    assert os.path.isfile(cert) and os.path.isfile(key)
    mode = stat.S_IMODE(os.stat(key).st_mode)
    assert mode & 0o077 == 0, "private key readable by others: mode %o" % mode
    with open(cert) as f:
        pem = f.read()
    der = ssl.PEM_cert_to_DER_cert(pem[pem.index("-----BEGIN CERTIFICATE-----"):])
    with server.connect() as c:
        c.ehlo()
        c.starttls()
        assert c.sock.getpeercert(binary_form=True) == der
        c.ehlo()
        c.quit()
