"""test_limits.py - session limits and autologout timers against a real
petreld with imaplib, poplib and raw sockets: imap_max_sessions_per_user
(NO [LIMIT] at LOGIN and AUTHENTICATE, a slot freed by LOGOUT or by a
client that vanishes, also during the password check), the per-service
per-address caps (imap_/pop3_max_connections_per_ip), and the timers:
before login (imap_/pop3_preauth_timeout), once logged in (imap_timeout,
pop3_timeout), during IDLE (imap_idle_timeout), and NOOP keeping a session
alive. Timers are set to a few seconds; the tests wait for the server's
words (BYE, -ERR, end of stream), not for the clock."""

import base64
import imaplib
import poplib
import smtplib
import socket
import ssl
import time

import pytest

import petreltest
from petreltest import tls_ctx

PASSWORD = "Secret-pass-123"        # petreltest.add_mailbox's password
WAIT = 30                           # seconds: generous, for sanitizer builds


def imap_login(server, mbox):
    m = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=tls_ctx(),
                          timeout=WAIT)
    m.login(mbox, PASSWORD)
    return m


class Line:
    """A raw line reader over TLS or clear text."""

    def __init__(self, port, tls=True):
        s = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        self.sock = tls_ctx().wrap_socket(s) if tls else s
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError(self.buf)
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def until(self, tag):
        lines = []
        while True:
            l = self.line()
            if l.startswith(tag + b" "):
                return lines, l
            lines.append(l)

    def eof(self):
        """True once the server has closed (after any lines still due)."""
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except (ConnectionResetError, BrokenPipeError):
            return True

    def close(self):
        self.sock.close()


def retry(fn, what, tries=100):
    """fn() until it does not raise: a slot is given back when the server
    has seen the close, which it learns a moment after the client."""
    for _ in range(tries):
        try:
            return fn()
        except (imaplib.IMAP4.error, poplib.error_proto, EOFError, ConnectionError):
            time.sleep(0.1)
    pytest.fail("%s: still refused after %d tries" % (what, tries))


def imap_greeted(srv):
    """A clear-text IMAP connection that got its greeting; EOFError (for
    retry) with the refusal line if it was turned away."""
    d = Line(srv.imap_port, tls=False)
    line = d.line()
    if not line.startswith(b"* OK"):
        d.close()
        raise EOFError(line)
    return d


def vanish(sock):
    """Go away without a word (the client library's file object would keep
    the descriptor open past a plain close())."""
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()


# ---------------------------------------------------------------- per user

def test_imap_sessions_per_user(make_server):
    srv = make_server("imap_max_sessions_per_user = 3")
    alice = srv.new_mailbox("alice")
    bob = srv.new_mailbox("bob")
    sessions = [imap_login(srv, alice) for _ in range(3)]

    # the fourth is refused with RFC 5530's LIMIT and stays usable
    extra = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=tls_ctx(),
                              timeout=WAIT)
    with pytest.raises(imaplib.IMAP4.error) as e:
        extra.login(alice, PASSWORD)
    assert "[LIMIT] Too many sessions for this user" in str(e.value)
    assert extra.noop()[0] == "OK"
    # AUTHENTICATE PLAIN is counted the same way, as is another spelling
    cred = base64.b64encode(b"\0" + alice.upper().encode() + b"\0" + PASSWORD.encode())
    r = Line(srv.imaps_port)
    r.line()
    r.send(b"a AUTHENTICATE PLAIN " + cred + b"\r\n")
    assert r.until(b"a")[1] == b"a NO [LIMIT] Too many sessions for this user"
    r.close()
    # other users are not affected
    imap_login(srv, bob).logout()

    # LOGOUT frees a slot
    sessions.pop().logout()
    sessions.append(retry(lambda: imap_login(srv, alice), "after LOGOUT"))
    with pytest.raises(imaplib.IMAP4.error):
        imap_login(srv, alice)

    # so does a client that just goes away
    vanish(sessions.pop().sock)
    sessions.append(retry(lambda: imap_login(srv, alice), "after a vanished client"))

    # the refused session can log in once a slot is free
    sessions.pop().logout()
    retry(lambda: extra.login(alice, PASSWORD), "the refused session")
    sessions.append(extra)
    for m in sessions:
        m.logout()
    srv.assert_alive()


def test_imap_session_slot_exact_after_vanishing_logins(make_server):
    """Clients that send LOGIN and go at once (while the password is being
    checked, or just after) leak no slot and release none twice: the
    limit still holds exactly."""
    srv = make_server("imap_max_sessions_per_user = 2")
    mbox = srv.new_mailbox("churn")
    imap_login(srv, mbox).logout()      # warm the login cache
    for _ in range(10):
        r = Line(srv.imaps_port)
        r.line()
        r.send(b"a LOGIN " + mbox.encode() + b" " + PASSWORD.encode() + b"\r\n")
        r.close()
    first = retry(lambda: imap_login(srv, mbox), "first")
    second = retry(lambda: imap_login(srv, mbox), "second")
    with pytest.raises(imaplib.IMAP4.error) as e:
        imap_login(srv, mbox)
    assert "[LIMIT]" in str(e.value)
    first.logout()
    second.logout()


def test_pop3_one_session_per_maildrop_frees_on_close(server):
    """POP3's per-user limit is its maildrop lock (RFC 1939 8)."""
    mbox = server.new_mailbox("pop3lim")

    def pop():
        p = poplib.POP3_SSL("127.0.0.1", server.pop3s_port, context=tls_ctx(),
                            timeout=WAIT)
        p.user(mbox)
        p.pass_(PASSWORD)
        return p

    first = pop()
    second = poplib.POP3_SSL("127.0.0.1", server.pop3s_port, context=tls_ctx(),
                             timeout=WAIT)
    second.user(mbox)
    with pytest.raises(poplib.error_proto) as e:
        second.pass_(PASSWORD)
    assert e.value.args[0].startswith(b"-ERR [IN-USE]")
    second.quit()
    vanish(first.sock)                  # without QUIT
    retry(pop, "after a vanished POP3 client").quit()


# ---------------------------------------------------------------- per address

def test_per_service_per_ip_caps(make_server):
    srv = make_server("limit_loopback = yes", "imap_max_connections_per_ip = 2",
                      "pop3_max_connections_per_ip = 1")
    a = Line(srv.imap_port, tls=False)
    b = Line(srv.imap_port, tls=False)
    assert a.line().startswith(b"* OK") and b.line().startswith(b"* OK")
    c = Line(srv.imap_port, tls=False)
    assert c.line() == b"* BYE [UNAVAILABLE] Too many connections, try again later"
    assert c.eof()
    c.close()
    # implicit TLS counts against the same IMAP cap
    with pytest.raises(imaplib.IMAP4.error) as e:
        imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=tls_ctx(),
                          timeout=WAIT)
    assert "Too many connections" in str(e.value)

    # POP3 has its own cap; IMAP's full one does not touch it
    p = Line(srv.pop3_port, tls=False)
    assert p.line().startswith(b"+OK")
    q = Line(srv.pop3_port, tls=False)
    assert q.line() == b"-ERR [SYS/TEMP] Too many connections, try again later"
    assert q.eof()
    q.close()
    # SMTP is bound only by the global cap
    with srv.connect() as s:
        s.ehlo("client.petrel.test")

    # closing one frees its slot
    a.send(b"x LOGOUT\r\n")
    assert a.until(b"x")[1].startswith(b"x OK")
    a.close()

    d = retry(lambda: imap_greeted(srv), "IMAP after a close")
    for x in (b, d, p):
        x.close()


def test_http_listeners_count_per_address_with_mail(make_server):
    """max_connections_per_ip holds on the HTTP listeners (admin API,
    autoconfig) too, in one count with the mail listeners: one client
    cannot hold every connection of the autoconfig listener, and a
    client at its cap is closed before a byte is read."""
    srv = make_server("limit_loopback = yes", "max_connections_per_ip = 3")
    a = Line(srv.imap_port, tls=False)
    b = Line(srv.imap_port, tls=False)
    assert a.line().startswith(b"* OK") and b.line().startswith(b"* OK")
    held = socket.create_connection(("127.0.0.1", srv.autoconfig_http_port),
                                    timeout=WAIT)

    def refused(port, tls):
        s = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        try:
            if tls:
                with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
                    tls_ctx().wrap_socket(s).recv(1)
            else:
                s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
                assert s.recv(1) == b""     # closed, nothing answered
        except ConnectionResetError:
            pass
        finally:
            s.close()

    # the fourth, on either HTTP listener, is closed unanswered
    refused(srv.autoconfig_http_port, tls=False)
    refused(srv.admin_port, tls=True)
    assert "autoconfig reject ip=127.0.0.1 reason=too_many_connections_" \
           "from_ip max=3" in srv.stderr_text()
    assert "admin reject ip=127.0.0.1" in srv.stderr_text()
    # and the HTTP one counts against the mail listeners
    c = Line(srv.imap_port, tls=False)
    assert b"Too many connections" in c.line()
    c.close()
    with pytest.raises(smtplib.SMTPConnectError) as e:
        srv.smtplib()
    assert e.value.smtp_code == 421

    # the HTTP connection's close gives its place back
    held.close()

    def served():
        s = socket.create_connection(("127.0.0.1", srv.autoconfig_http_port),
                                     timeout=WAIT)
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        got = petreltest.recv_all(s)
        s.close()
        if not got:
            raise EOFError(got)
        return got

    assert retry(served, "autoconfig after a close").startswith(b"HTTP/1.1 404")
    # served and gone: its place is back too (the IMAP pair keeps two)
    d = retry(lambda: imap_greeted(srv), "IMAP after HTTP")
    for x in (a, b, d):
        x.close()
    srv.assert_alive()


# ---------------------------------------------------------------- timers

def test_preauth_and_idle_timers(make_server):
    srv = make_server("imap_preauth_timeout = 2", "pop3_preauth_timeout = 2",
                      "imap_idle_timeout = 3", "imap_timeout = 1h",
                      "pop3_timeout = 1h")
    mbox = srv.new_mailbox("timer")
    # logged in and not idling: only imap_timeout (1 h) applies
    busy = imap_login(srv, mbox)
    busy.select("INBOX")

    r = Line(srv.imap_port, tls=False)
    assert r.line().startswith(b"* OK")
    assert r.line() == b"* BYE Autologout; no login in time"
    assert r.eof()
    r.close()

    p = Line(srv.pop3_port, tls=False)
    assert p.line().startswith(b"+OK")
    assert p.line() == b"-ERR Autologout; no login in time"
    assert p.eof()
    p.close()

    # a client stuck in the middle of its first command is logged out too
    r = Line(srv.imaps_port)
    r.line()
    r.send(b"a LOG")
    assert r.line() == b"* BYE Autologout; no login in time"
    r.close()

    i = Line(srv.imaps_port)
    i.line()
    i.send(b"l LOGIN " + mbox.encode() + b" " + PASSWORD.encode() + b"\r\n")
    assert i.until(b"l")[1].startswith(b"l OK")
    i.send(b"s SELECT INBOX\r\n")
    assert i.until(b"s")[1].startswith(b"s OK")
    i.send(b"i IDLE\r\n")
    assert i.line() == b"+ idling"
    assert i.line() == b"* BYE Autologout; idle for too long"
    assert i.eof()
    i.close()

    # the session that was logged in all along, outliving both timers
    assert busy.noop()[0] == "OK"
    # and an IDLE that ends in time goes back to the session timer
    t = Line(srv.imaps_port)
    t.line()
    t.send(b"l LOGIN " + mbox.encode() + b" " + PASSWORD.encode() + b"\r\n")
    assert t.until(b"l")[1].startswith(b"l OK")
    t.send(b"i IDLE\r\n")
    assert t.line() == b"+ idling"
    t.send(b"DONE\r\n")
    assert t.until(b"i")[1].startswith(b"i OK")
    busy.logout()
    t.send(b"n NOOP\r\n")
    assert t.until(b"n")[1].startswith(b"n OK")
    t.close()


def test_session_autologout_and_noop_keepalive(make_server):
    srv = make_server("imap_timeout = 2", "pop3_timeout = 2",
                      "imap_preauth_timeout = 1h", "pop3_preauth_timeout = 1h")
    mbox = srv.new_mailbox("auto")
    other = srv.new_mailbox("auto")
    idle = Line(srv.imaps_port)
    idle.line()
    idle.send(b"l LOGIN " + mbox.encode() + b" " + PASSWORD.encode() + b"\r\n")
    assert idle.until(b"l")[1].startswith(b"l OK")

    keep = imap_login(srv, other)
    # NOOPs well inside the timer keep `keep` alive while `idle` is logged out
    idle.sock.settimeout(0.3)
    bye = None
    for _ in range(400):
        assert keep.noop()[0] == "OK"
        try:
            bye = idle.line()
            break
        except socket.timeout:
            continue
    assert bye == b"* BYE Autologout; idle for too long"
    idle.sock.settimeout(WAIT)
    assert idle.eof()
    idle.close()
    # a few more rounds past the moment the other was logged out
    for _ in range(5):
        time.sleep(0.3)
        assert keep.noop()[0] == "OK"
    keep.logout()

    # POP3 in the transaction state
    p = Line(srv.pop3s_port)
    assert p.line().startswith(b"+OK")
    p.send(b"USER " + mbox.encode() + b"\r\nPASS " + PASSWORD.encode() + b"\r\n")
    assert p.line().startswith(b"+OK")
    assert p.line().startswith(b"+OK")
    assert p.line() == b"-ERR Autologout; idle for too long"
    assert p.eof()
    p.close()
    # a timed-out POP3 session gave its maildrop lock back
    q = poplib.POP3_SSL("127.0.0.1", srv.pop3s_port, context=tls_ctx(), timeout=WAIT)
    q.user(mbox)
    q.pass_(PASSWORD)
    q.quit()
