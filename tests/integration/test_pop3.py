"""test_pop3.py - POP3 (RFC 1939, 2449, 2595, 5034) against a real petreld
with Python's poplib, fetchmail and curl: STLS before any password,
STAT/LIST/UIDL/RETR/TOP/DELE/RSET/QUIT, messages byte-identical to what
SMTP stored, UIDLs stable across sessions, deletions only at QUIT, the
per-maildrop lock, AUTH PLAIN in both forms, failed logins, and bad input."""

import base64
import poplib
import socket
import ssl
import subprocess
import time

import pytest

from petreltest import SMTPConn, make_message, run_fetchmail, tls_ctx, unique

PASSWORD = "Secret-pass-123"        # petreltest.add_mailbox's password


def deliver(server, mbox, n, tag):
    """n messages to mbox over SMTP; returns the markers."""
    markers = []
    c = SMTPConn(server.port)
    c.ehlo("client.petrel.test")
    for i in range(n):
        marker = "%s-%d" % (tag, i)
        body = (b"Line one of " + marker.encode() + b"\r\n"
                b".a line that starts with a dot\r\n"
                b"..and one with two\r\n"
                b"last line\r\n")
        c.send_mail("sender@remote.test", [mbox], make_message(marker, to=mbox, body=body))
        markers.append(marker)
    c.quit()
    return markers


def login(server, mbox, implicit=False):
    if implicit:
        p = poplib.POP3_SSL("127.0.0.1", server.pop3s_port, context=tls_ctx(), timeout=20)
    else:
        p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=20)
        p.stls(tls_ctx())
    p.user(mbox)
    p.pass_(PASSWORD)
    return p


def test_greeting_capa_and_stls_required(server):
    p = poplib.POP3("127.0.0.1", server.pop3_port, timeout=20)
    assert p.getwelcome().startswith(b"+OK")
    capa = p.capa()
    assert "STLS" in capa and "UIDL" in capa and "TOP" in capa
    assert "USER" not in capa and "SASL" not in capa     # not before TLS
    with pytest.raises(poplib.error_proto) as e:
        p.user("demo@example.test")
    assert b"[AUTH]" in e.value.args[0]
    p.stls(tls_ctx())
    capa = p.capa()
    assert "STLS" not in capa and "USER" in capa and capa.get("SASL") == ["PLAIN"]
    p.quit()


def test_retr_is_byte_identical_to_store(server):
    mbox = server.new_mailbox("pop")
    deliver(server, mbox, 3, unique("retr"))
    stored = server.messages(mbox)
    p = login(server, mbox)
    count, size = p.stat()
    assert count == 3 and size == sum(len(m) for m in stored)
    resp, lines, octets = p.list()
    assert [int(l.split()[1]) for l in lines] == [len(m) for m in stored]
    for i, want in enumerate(stored, 1):
        resp, lines, octets = p.retr(i)
        assert resp.startswith(b"+OK")
        # poplib undoes dot-stuffing and splits on CRLF
        assert b"\r\n".join(lines) + b"\r\n" == want
    p.quit()


def test_top(server):
    mbox = server.new_mailbox("top")
    deliver(server, mbox, 1, unique("top"))
    p = login(server, mbox)
    resp, lines, _ = p.top(1, 0)
    assert lines[-1] == b"" and any(l.startswith(b"Subject:") for l in lines)
    assert not any(b"Line one" in l for l in lines)
    resp, lines, _ = p.top(1, 2)
    assert lines[-2:] == [b"Line one of " + lines[-2].split(b"of ")[1], b".a line that starts with a dot"]
    resp, lines, _ = p.top(1, 4294967296)     # more than there is: all of it
    assert lines[-1] == b"last line"
    p.quit()


def test_uidl_stable_and_dele_at_quit(server):
    mbox = server.new_mailbox("dele")
    deliver(server, mbox, 4, unique("dele"))
    p = login(server, mbox)
    first = p.uidl()[1]
    p.dele(2)
    with pytest.raises(poplib.error_proto):
        p.retr(2)                                   # deleted in this session
    assert p.stat()[0] == 3
    p.rset()
    assert p.stat()[0] == 4
    p.dele(1)
    p.dele(3)
    assert p.quit().startswith(b"+OK")
    p = login(server, mbox)
    again = p.uidl()[1]
    ids = [l.split()[1] for l in first]
    assert [l.split()[1] for l in again] == [ids[1], ids[3]]   # same ids, renumbered
    p.quit()
    assert len(server.messages(mbox)) == 2


def test_no_quit_keeps_messages(server):
    """Deletions are only committed by QUIT (RFC 1939 6)."""
    mbox = server.new_mailbox("noquit")
    deliver(server, mbox, 2, unique("noquit"))
    p = login(server, mbox)
    p.dele(1)
    p.file.close()                      # drop the connection without QUIT
    p.sock.close()
    for _ in range(50):                 # the lock goes when the server sees the close
        try:
            q = login(server, mbox)
            break
        except poplib.error_proto as e:
            assert b"[IN-USE]" in e.args[0]
            time.sleep(0.1)
    else:
        pytest.fail("the maildrop stayed locked after the client went away")
    assert q.stat()[0] == 2
    q.quit()


def test_maildrop_lock(server):
    mbox = server.new_mailbox("lock")
    first = login(server, mbox)
    second = poplib.POP3_SSL("127.0.0.1", server.pop3s_port, context=tls_ctx(), timeout=20)
    second.user(mbox)
    with pytest.raises(poplib.error_proto) as e:
        second.pass_(PASSWORD)
    assert e.value.args[0].startswith(b"-ERR [IN-USE]")
    second.quit()
    first.quit()
    login(server, mbox, implicit=True).quit()


def test_auth_plain_both_forms(server):
    mbox = server.new_mailbox("sasl")
    cred = base64.b64encode(b"\0" + mbox.encode() + b"\0" + PASSWORD.encode())
    p = poplib.POP3_SSL("127.0.0.1", server.pop3s_port, context=tls_ctx(), timeout=20)
    assert p._shortcmd("AUTH PLAIN " + cred.decode()).startswith(b"+OK")
    p.quit()
    p = poplib.POP3_SSL("127.0.0.1", server.pop3s_port, context=tls_ctx(), timeout=20)
    p._putcmd("AUTH PLAIN")
    assert p._getline()[0].startswith(b"+")
    p._putcmd(cred.decode())
    assert p._getresp().startswith(b"+OK")
    p.quit()
    # acting for another user is refused
    other = base64.b64encode(b"demo@example.test\0" + mbox.encode() + b"\0" + PASSWORD.encode())
    p = poplib.POP3_SSL("127.0.0.1", server.pop3s_port, context=tls_ctx(), timeout=20)
    with pytest.raises(poplib.error_proto):
        p._shortcmd("AUTH PLAIN " + other.decode())
    p.quit()


def test_failed_logins_are_slow_and_limited(server):
    mbox = server.new_mailbox("fail")
    p = poplib.POP3_SSL("127.0.0.1", server.pop3s_port, context=tls_ctx(), timeout=20)
    for attempt in range(3):
        p.user(mbox)
        t = time.monotonic()
        with pytest.raises(poplib.error_proto) as e:
            p.pass_("wrong-password")
        assert e.value.args[0].startswith(b"-ERR [AUTH]")
        assert time.monotonic() - t >= 0.9
    # the third failure closes the session
    with pytest.raises((poplib.error_proto, OSError, EOFError)):
        p.noop()
    # an unknown user gets the same answer
    q = poplib.POP3_SSL("127.0.0.1", server.pop3s_port, context=tls_ctx(), timeout=20)
    q.user("nobody-here@example.test")
    with pytest.raises(poplib.error_proto) as e:
        q.pass_("whatever")
    assert e.value.args[0].startswith(b"-ERR [AUTH]")
    q.quit()
    assert PASSWORD not in server.stderr_text() and "wrong-password" not in server.stderr_text()


def raw(server, data, tls=True, read=4096):
    s = socket.create_connection(("127.0.0.1", server.pop3s_port if tls else server.pop3_port), timeout=20)
    if tls:
        s = tls_ctx().wrap_socket(s)
    s.recv(200)
    s.sendall(data)
    time.sleep(0.3)
    out = b""
    s.settimeout(2)
    try:
        while len(out) < read:
            chunk = s.recv(read)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ssl.SSLError):
        pass
    s.close()
    return out


def test_bad_input(server):
    out = raw(server, b"STAT\r\nRETR 1\r\nFOO bar\r\nLIST a b c\r\nUSER\r\nQUIT\r\n")
    lines = out.split(b"\r\n")
    assert lines[0].startswith(b"-ERR") and lines[1].startswith(b"-ERR")   # not logged in
    assert lines[2].startswith(b"-ERR") and lines[3].startswith(b"-ERR")
    assert lines[4].startswith(b"-ERR") and lines[5].startswith(b"+OK")
    out = raw(server, b"NOOP\x00\r\nQUIT\r\n")
    assert out.startswith(b"-ERR")
    out = raw(server, b"A" * 10000 + b"\r\n")
    assert out.startswith(b"-ERR Line too long")
    # after STLS, commands pipelined in clear are dropped
    s = socket.create_connection(("127.0.0.1", server.pop3_port), timeout=20)
    s.recv(200)
    s.sendall(b"STLS\r\nCAPA\r\n")
    assert s.recv(200).startswith(b"+OK")
    t = tls_ctx().wrap_socket(s)
    t.sendall(b"NOOP\r\n")
    assert t.recv(200).startswith(b"-ERR Log in first")   # not a CAPA listing
    t.close()


def test_message_numbers(server):
    mbox = server.new_mailbox("num")
    deliver(server, mbox, 2, unique("num"))
    p = login(server, mbox)
    for bad in ("0", "3", "-1", "1x", "99999999999"):
        with pytest.raises(poplib.error_proto):
            p._shortcmd("RETR " + bad)
    assert p._shortcmd("LIST 2").startswith(b"+OK 2 ")
    p.quit()


def test_fetchmail_stls(server, tmp_path):
    mbox = server.new_mailbox("fm")
    markers = deliver(server, mbox, 3, unique("fm"))
    got = run_fetchmail(server, "pop3", server.pop3_port, mbox, PASSWORD, tmp_path, "uidl")
    for m in markers:
        assert m.encode() in got
    assert b"\n.a line that starts with a dot" in got.replace(b"\r\n", b"\n")
    assert len(server.messages(mbox)) == 3      # "keep": nothing deleted


def test_curl_pop3s_and_stls(server, tmp_path):
    mbox = server.new_mailbox("curl")
    deliver(server, mbox, 2, unique("curl"))
    stored = server.messages(mbox)
    r = subprocess.run(["curl", "-sk", "--user", "%s:%s" % (mbox, PASSWORD),
                        "pop3s://127.0.0.1:%d/2" % server.pop3s_port],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == stored[1]
    r = subprocess.run(["curl", "-sk", "--ssl-reqd", "--user", "%s:%s" % (mbox, PASSWORD),
                        "pop3://127.0.0.1:%d/" % server.pop3_port],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split(b"\r\n")[:2] == [b"1 %d" % len(stored[0]), b"2 %d" % len(stored[1])]
