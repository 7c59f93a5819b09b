"""test_smtpc.py - petrel's SMTP client (src/smtp/smtpc*.c), driven by the
build/tests/tools/smtpc-send test program, against real servers: Postfix's
smtp-sink, aiosmtpd with STARTTLS and AUTH, a real petreld's MX port (read
back with imaplib), and scripted raw servers for exact replies and bad
behaviour (endless multiline replies, silence, garbage, 421 mid-way, a
close after DATA, STARTTLS injection)."""

import imaplib
import os
import pwd
import select
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading

import pytest

import certs
from petreltest import (DEMO, DEMO_PASSWORD, SANITIZER_MARKERS, build_dir,
                        ctx_noverify, free_port, make_message, split_trace,
                        unique)

RUN_TIMEOUT = 120


def smtpc_send(port, *args, msgs=(), frm="sender@petrel.test", to=("rcpt@remote.test",),
               tls="none", timeout=None, host="127.0.0.1"):
    """Run smtpc-send; returns a Result. msgs: message bytes, one per
    message over the same connection."""
    tool = os.path.join(build_dir(), "tests", "tools", "smtpc-send")
    assert os.access(tool, os.X_OK), "%s missing: run make" % tool
    d = tempfile.mkdtemp(prefix="smtpc-")
    try:
        cmd = [tool, "--server", "%s:%d" % (host, port), "--tls", tls, "--from", frm]
        for t in to:
            cmd += ["--to", t]
        for i, m in enumerate(msgs):
            p = os.path.join(d, "m%d" % i)
            with open(p, "wb") as f:
                f.write(m)
            cmd += ["--msg", p]
        if timeout is not None:
            cmd += ["--timeout", str(timeout)]
        cmd += list(args)
        p = subprocess.run(cmd, capture_output=True, timeout=RUN_TIMEOUT)
    finally:
        shutil.rmtree(d)
    err = p.stderr.decode(errors="replace")
    for mark in SANITIZER_MARKERS:
        assert mark not in err, err
    assert p.returncode == 0, err
    return Result(p.stdout.decode())


class Reply:
    def __init__(self, f):
        self.code = int(f[0])
        self.esc = f[1]
        self.stage = f[2]
        self.synthetic = f[3] == "1"
        self.text = f[4] if len(f) > 4 else ""

    def __repr__(self):
        return "<%d %s %s%s: %s>" % (self.code, self.esc, self.stage,
                                     " (ours)" if self.synthetic else "", self.text)


class Result:
    def __init__(self, out):
        self.out = out
        self.ready = None
        self.failed = None
        self.rcpts = {}     # message number -> [(addr, Reply)]
        self.usable = {}
        for line in out.splitlines():
            f = line.split("\t")
            if f[0] == "ready":
                self.ready = dict(kv.split("=", 1) for kv in f[1:])
            elif f[0] == "failed":
                self.failed = Reply(f[1:])
            elif f[0] == "rcpt":
                self.rcpts.setdefault(int(f[1]), []).append((f[2], Reply(f[3:])))
            elif f[0] == "usable":
                self.usable[int(f[1])] = f[2] == "1"

    def codes(self, n=0):
        return [r.code for _, r in self.rcpts[n]]

    def __repr__(self):
        return self.out


# ---------------------------------------------------------------- raw server

class Peer:
    """One accepted connection of a Raw server."""

    def __init__(self, sock, raw):
        self.sock = sock
        self.raw = raw
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _until(self, sep):
        """The next piece of input up to sep (not included)."""
        while sep not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("client closed")
            self.buf += d
        piece, self.buf = self.buf.split(sep, 1)
        return piece

    def line(self):
        line = self._until(b"\n").rstrip(b"\r")
        self.raw.seen.append(line)
        return line

    def pending(self):
        """Bytes from the client already here (buffered or in the socket)."""
        if self.buf:
            return True
        r, _, _ = select.select([self.sock], [], [], 0)
        return bool(r)

    def data(self):
        """The message text up to the lone ".", as sent (stuffed)."""
        out = b""
        while True:
            line = self._until(b"\r\n")
            if line == b".":
                return out
            out += line + b"\r\n"

    def to_data(self):
        """Greet, take MAIL, one RCPT and DATA (pipelined), accept them and
        return the message text as sent."""
        self.greet()
        for _ in range(3):
            self.line()
        self.send(b"250 ok\r\n250 ok\r\n354 go\r\n")
        return self.data()

    def greet(self, caps=("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES")):
        self.send(b"220 raw.test ESMTP\r\n")
        ehlo = self.line()
        assert ehlo.startswith(b"EHLO "), ehlo
        lines = [b"raw.test"] + [c.encode() for c in caps]
        self.send(b"".join(b"250-" + l + b"\r\n" for l in lines[:-1])
                  + b"250 " + lines[-1] + b"\r\n")


class Raw:
    """A scripted SMTP server on a loopback port: handler(peer) runs for
    each connection in a thread; what it raises is reported at close."""

    def __init__(self, handler, conns=1):
        self.handler = handler
        self.seen = []
        self.errors = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = conns
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for _ in range(self.conns):
            try:
                s, _ = self.sock.accept()
            except OSError:
                return
            s.settimeout(60)
            try:
                self.handler(Peer(s, self))
            except EOFError:
                pass
            except Exception as e:  # reported by close()
                self.errors.append(repr(e))
            finally:
                s.close()

    def close(self):
        self.sock.close()
        self.thread.join(60)
        assert not self.errors, self.errors

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------- pipelining

def test_pipelining_one_write_and_mixed_recipient_results():
    """With PIPELINING, MAIL, every RCPT and DATA arrive before the server
    answers anything (the server stays silent until it has DATA, so a
    client that waited would time out); each recipient gets its own
    result, and the accepted one gets the reply to the message."""
    got = {}

    def handler(p):
        p.greet()
        cmds = []
        while True:
            cmds.append(p.line())
            if cmds[-1] == b"DATA":
                break
        got["cmds"] = cmds
        p.send(b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n"
               b"450 4.2.1 mailbox busy\r\n354 go\r\n")
        got["body"] = p.data()
        p.send(b"250 2.0.0 queued as X1\r\n")
        assert p.line() == b"QUIT"
        p.send(b"221 bye\r\n")

    msg = make_message(unique(), to="a@remote.test")
    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[msg], timeout=10,
                       to=("a@remote.test", "b@remote.test", "c@remote.test"))
    assert r.ready["pipelining"] == "1", r
    assert got["cmds"] == [b"MAIL FROM:<sender@petrel.test>", b"RCPT TO:<a@remote.test>",
                           b"RCPT TO:<b@remote.test>", b"RCPT TO:<c@remote.test>",
                           b"DATA"], got
    (a, ra), (b, rb), (c, rc) = r.rcpts[0]
    assert (ra.code, ra.esc, ra.stage, ra.text) == (
        250, "2.0.0", "end of DATA command", "queued as X1"), r
    assert (rb.code, rb.esc, rb.stage, rb.text) == (
        550, "5.1.1", "RCPT TO command", "no such user"), r
    assert (rc.code, rc.esc, rc.stage) == (450, "4.2.1", "RCPT TO command"), r
    assert not (ra.synthetic or rb.synthetic or rc.synthetic)
    assert got["body"] == msg


def test_no_pipelining_one_command_per_reply():
    """Without PIPELINING the client waits for each reply before the next
    command; MAIL parameters follow what the server offers."""
    got = {"early": []}

    def handler(p):
        p.greet(caps=("SIZE 100000", "8BITMIME"))
        for reply in (b"250 ok\r\n", b"250 ok\r\n", b"250 ok\r\n", b"354 go\r\n"):
            line = p.line()
            got.setdefault("cmds", []).append(line)
            if p.pending():
                got["early"].append(line)
            p.send(reply)
        got["body"] = p.data()
        p.send(b"250 done\r\n")
        p.line()
        p.send(b"221 bye\r\n")

    msg = make_message(unique(), body="caf\u00e9\r\n".encode())
    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[msg], timeout=10,
                       to=("a@remote.test", "b@remote.test"))
    assert r.ready["pipelining"] == "0"
    assert r.codes() == [250, 250], r
    assert got["early"] == [], "commands sent before the previous reply: %r" % got
    assert got["cmds"] == [b"MAIL FROM:<sender@petrel.test> SIZE=%d BODY=8BITMIME" % len(msg),
                           b"RCPT TO:<a@remote.test>", b"RCPT TO:<b@remote.test>",
                           b"DATA"], got
    assert got["body"] == msg


def test_all_recipients_refused_no_data_and_rset_before_next():
    """No recipient accepted: no DATA (without pipelining), and the next
    message on the same connection starts after RSET."""
    got = []

    def handler(p):
        p.greet(caps=("ENHANCEDSTATUSCODES",))
        while True:
            line = p.line()
            got.append(line)
            if line.startswith(b"RCPT") and len([g for g in got if g.startswith(b"MAIL")]) == 1:
                p.send(b"550 5.1.1 unknown\r\n")
            elif line == b"DATA":
                p.send(b"354 go\r\n")
                p.data()
                p.send(b"250 2.0.0 ok\r\n")
            elif line == b"QUIT":
                p.send(b"221 bye\r\n")
                return
            else:
                p.send(b"250 2.0.0 ok\r\n")

    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[make_message("one"), make_message("two")],
                       timeout=10)
    assert r.codes(0) == [550] and r.codes(1) == [250], r
    assert r.usable[0]
    assert got == [b"MAIL FROM:<sender@petrel.test>", b"RCPT TO:<rcpt@remote.test>",
                   b"RSET", b"MAIL FROM:<sender@petrel.test>",
                   b"RCPT TO:<rcpt@remote.test>", b"DATA", b"QUIT"], got


# ---------------------------------------------------------------- dot-stuffing

TRICKY_BODY = (b"first line\r\n.\r\n..two dots\r\n.one dot\r\n"
               b"middle . dot\r\n.\r\n.\r\nlast line without dot\r\n..\r\n")


def test_dot_stuffing_on_the_wire():
    """Lines of a single "." and lines starting with "." are stuffed, and
    a message without a final CRLF gets one before the end."""
    got = {}

    def handler(p):
        got["body"] = p.to_data()
        p.send(b"250 ok\r\n")
        p.line()
        p.send(b"221 bye\r\n")

    msg = b"Subject: dots\r\n\r\n" + TRICKY_BODY + b".no final crlf"
    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[msg], timeout=10)
    assert r.codes() == [250], r
    want = msg.replace(b"\r\n.", b"\r\n..") + b"\r\n"
    # the raw reader returns stuffed lines: "." lines arrive as ".."
    assert got["body"] == want, got


def stored(server, markers):
    """The stored messages with these Message-IDs (one each), over IMAP,
    without petreld's trace headers; also checks the Return-Path."""
    out = []
    m = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=ctx_noverify(),
                          timeout=60)
    try:
        m.login(DEMO, DEMO_PASSWORD)
        m.select("INBOX", readonly=True)
        for marker in markers:
            typ, data = m.search(None, "HEADER", "Message-ID", marker)
            assert typ == "OK" and len(data[0].split()) == 1, (marker, data)
            typ, data = m.fetch(data[0].split()[0], "(BODY.PEEK[])")
            assert typ == "OK", data
            rp, received, rest = split_trace(data[0][1])
            out.append((rp, rest))
    finally:
        m.logout()
    return out


def test_deliver_into_petreld_byte_exact(server):
    """Delivered over petreld's MX port (STARTTLS used since offered) into
    the demo mailbox and read back with IMAP: the stored message is the
    one sent, byte for byte, dots included; three messages over one
    connection."""
    markers = [unique("smtpc") for _ in range(3)]
    msgs = [make_message(m, body=TRICKY_BODY + b"marker " + m.encode() + b"\r\n")
            for m in markers]
    r = smtpc_send(server.port, msgs=msgs, to=(DEMO,), tls="opportunistic",
                   frm="sender@remote.test", timeout=30)
    assert r.ready is not None, r
    assert r.ready["tls"].startswith("TLSv1."), r
    assert r.ready["verified"] == "0"      # self-signed test certificate
    for i in range(3):
        assert r.codes(i) == [250], r
        assert r.rcpts[i][0][1].stage == "end of DATA command"
    for (rp, rest), sent in zip(stored(server, markers), msgs):
        assert rp == b"sender@remote.test"
        assert rest == sent, (rest[:300], sent[:300])


def test_large_message_into_petreld_over_tls(server):
    """A message of several MiB, with dot lines throughout, goes out as the
    socket drains (not in one piece) over STARTTLS and arrives intact."""
    marker = unique("big")
    lines = []
    for i in range(40000):
        lines.append((b"." if i % 7 == 0 else b"") + (b"line %06d " % i) + b"x" * 90)
    msg = make_message(marker, body=b"\r\n".join(lines) + b"\r\n")
    assert len(msg) > 4 * 1000 * 1000
    r = smtpc_send(server.port, msgs=[msg], to=(DEMO,), tls="opportunistic",
                   frm="big@remote.test", timeout=60)
    assert r.ready["tls"].startswith("TLSv1."), r
    assert r.codes() == [250], r
    [(rp, rest)] = stored(server, [marker])
    assert rp == b"big@remote.test" and rest == msg


# ---------------------------------------------------------------- smtp-sink

class Sink:
    """Postfix's smtp-sink on a loopback port, dumping each message."""

    def __init__(self, *opts):
        self.dir = tempfile.mkdtemp(prefix="smtpc-sink-")
        self.port = free_port()
        # as root smtp-sink wants a user to run as: stay ourselves, so it
        # can write the dumps
        user = ["-u", pwd.getpwuid(os.geteuid()).pw_name] if os.geteuid() == 0 else []
        self.proc = subprocess.Popen(
            ["smtp-sink"] + user + ["-d", os.path.join(self.dir, "%M."), *opts,
                                    "127.0.0.1:%d" % self.port, "10"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # wait until it listens (not a timing threshold: a readiness poll)
        for _ in range(500):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.proc.stderr.read().decode())
                select.select([], [], [], 0.02)

    def dumps(self):
        out = []
        for n in sorted(os.listdir(self.dir)):
            with open(os.path.join(self.dir, n), "rb") as f:
                out.append(f.read())
        return out

    def close(self):
        self.proc.terminate()
        self.proc.wait(30)
        shutil.rmtree(self.dir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.fixture
def sink_available():
    if shutil.which("smtp-sink") is None:
        pytest.fail("smtp-sink missing: run scripts/install-deps")


def test_smtp_sink_three_messages_one_connection(sink_available):
    with Sink() as sink:
        markers = [unique("sink") for _ in range(3)]
        r = smtpc_send(sink.port, msgs=[make_message(m) for m in markers],
                       to=("a@remote.test", "b@remote.test"), timeout=30)
        assert r.ready["pipelining"] == "1", r
        for i in range(3):
            assert r.codes(i) == [250, 250], r
        assert r.usable[2]
        dumps = sink.dumps()
    assert len(dumps) == 3
    for m in markers:
        assert sum(m.encode() in d for d in dumps) == 1


@pytest.mark.parametrize("opts,code,stage", [
    (("-f", "rcpt"), 500, "RCPT TO command"),
    (("-r", "rcpt"), 450, "RCPT TO command"),
    (("-f", "data"), 500, "DATA command"),
    (("-r", "data"), 450, "DATA command"),
    (("-f", "mail"), 500, "MAIL FROM command"),
    (("-f", "."), 500, "end of DATA command"),
    (("-r", "."), 450, "end of DATA command"),
])
def test_smtp_sink_rejections(sink_available, opts, code, stage):
    """smtp-sink refusing a command (hard -f, soft -r; both turn
    PIPELINING off): every recipient gets that reply at that stage and the
    connection is still good for the next message."""
    with Sink(*opts) as sink:
        r = smtpc_send(sink.port, msgs=[make_message("a"), make_message("b")],
                       to=("a@remote.test", "b@remote.test"), timeout=30)
        assert r.ready["pipelining"] == "0", r
        for i in range(2):
            for _, rep in r.rcpts[i]:
                assert (rep.code, rep.stage, rep.synthetic) == (code, stage, False), r
        assert r.usable[0] and r.usable[1], r


@pytest.mark.parametrize("opt", ["-q", "-Q"])
def test_smtp_sink_drops_after_data(sink_available, opt):
    """smtp-sink closing after the end of data, silently (-q) or with 421
    (-Q): the recipients get a 4xx, the connection is not reused."""
    with Sink(opt, ".") as sink:
        r = smtpc_send(sink.port, msgs=[make_message("a"), make_message("b")],
                       to=("a@remote.test", "b@remote.test"), timeout=30)
    for _, rep in r.rcpts[0]:
        assert rep.code == 421 and rep.stage == "end of DATA command", r
        if opt == "-q":
            assert rep.synthetic and "lost connection" in rep.text, r
        else:
            assert not rep.synthetic
    assert not r.usable[0]
    assert [rep.code for _, rep in r.rcpts[1]] == [421, 421], r


# ---------------------------------------------------------------- TLS and AUTH

@pytest.fixture(scope="module")
def tls_files():
    d = tempfile.mkdtemp(prefix="smtpc-tls-")
    ca = certs.make("petrel test CA", ca=True)
    leaf = certs.make("localhost", names=("localhost",), issuer=ca)
    ca_path, _ = ca.write(d, "ca")
    cert, key = leaf.write(d, "server")
    yield {"ca": ca_path, "cert": cert, "key": key}
    shutil.rmtree(d)


class Aio:
    """aiosmtpd with STARTTLS and optional AUTH; keeps what it received."""

    def __init__(self, tls_files, auth=None, implicit=False, exclude=()):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages = []
        self.commands = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.messages.append(envelope)
                return "250 2.0.0 stored"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (auth is not None and auth_data.login == auth[0].encode()
                  and auth_data.password == auth[1].encode())
            outer.commands.append(("AUTH", mechanism, ok))
            # handled=False: aiosmtpd then answers 535 itself
            return AuthResult(success=ok, handled=False)

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(tls_files["cert"], tls_files["key"])
        self.port = free_port()
        kw = dict(hostname="127.0.0.1", port=self.port, authenticator=authenticator,
                  auth_require_tls=True, auth_required=auth is not None,
                  auth_exclude_mechanism=list(exclude))
        if implicit:
            kw["ssl_context"] = ctx
        else:
            kw["tls_context"] = ctx
        self.ctl = Controller(Handler(), **kw)
        if implicit:
            # the controller's readiness check speaks plain SMTP
            self.ctl.ready_timeout = 30
        self.ctl.start()

    def close(self):
        self.ctl.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_starttls_used_when_offered_and_verified(tls_files):
    with Aio(tls_files) as aio:
        marker = unique("tls")
        r = smtpc_send(aio.port, "--ca", tls_files["ca"], "--servername", "localhost",
                       "--verify", msgs=[make_message(marker)], tls="opportunistic",
                       timeout=30)
    assert r.ready is not None, r
    assert r.ready["tls"].startswith("TLSv1."), r
    assert r.ready["verified"] == "1", r
    assert r.codes() == [250], r
    assert len(aio.messages) == 1 and marker.encode() in aio.messages[0].content


def test_tls_verify_fails_for_the_wrong_name(tls_files):
    with Aio(tls_files) as aio:
        r = smtpc_send(aio.port, "--ca", tls_files["ca"], "--servername", "mx.other.test",
                       "--verify", msgs=[make_message("x")], tls="required", timeout=30)
        assert aio.messages == []
    assert r.failed is not None, r
    assert (r.failed.code, r.failed.esc) == (421, "4.7.5"), r
    assert "not trusted" in r.failed.text, r


def test_opportunistic_tls_reports_unverified(tls_files):
    """Without the CA the certificate does not verify, and opportunistic
    TLS goes on (encrypted) and says so."""
    with Aio(tls_files) as aio:
        r = smtpc_send(aio.port, "--servername", "localhost", msgs=[make_message("x")],
                       tls="opportunistic", timeout=30)
    assert r.ready["tls"].startswith("TLSv1."), r
    assert r.ready["verified"] == "0" and r.ready["verify_error"] != "-", r
    assert r.codes() == [250]


def test_auth_plain_over_starttls(tls_files):
    with Aio(tls_files, auth=("relayuser", "s3cret pass")) as aio:
        r = smtpc_send(aio.port, "--auth", "relayuser:s3cret pass", "--ca", tls_files["ca"],
                       "--servername", "localhost", msgs=[make_message("auth")],
                       tls="required", timeout=30)
        assert aio.commands == [("AUTH", "PLAIN", True)], aio.commands
    assert r.ready["auth"] == "1", r
    assert r.codes() == [250], r


def test_auth_login_when_plain_not_offered(tls_files):
    with Aio(tls_files, auth=("relayuser", "pw"), exclude=("PLAIN",)) as aio:
        r = smtpc_send(aio.port, "--auth", "relayuser:pw", msgs=[make_message("login")],
                       tls="required", timeout=30)
        assert aio.commands == [("AUTH", "LOGIN", True)], aio.commands
    assert r.ready["auth"] == "1" and r.codes() == [250], r


def test_implicit_tls(server):
    """TLS from the first byte (petreld's port 465): the greeting and all
    after it come over TLS."""
    r = smtpc_send(server.smtps_port, msgs=[make_message(unique())], to=(DEMO,),
                   tls="implicit", timeout=30)
    assert r.ready is not None, r
    assert r.ready["tls"].startswith("TLSv1."), r
    rep = r.rcpts[0][0][1]
    assert not rep.synthetic, r


def test_auth_wrong_password_is_temporary(tls_files):
    with Aio(tls_files, auth=("relayuser", "right")) as aio:
        r = smtpc_send(aio.port, "--auth", "relayuser:wrong", msgs=[make_message("x")],
                       tls="required", timeout=30)
        assert aio.messages == []
    assert r.failed is not None, r
    assert r.failed.code == 421 and r.failed.esc == "4.7.0", r
    assert "authentication" in r.failed.text and "535" in r.failed.text, r


def test_auth_never_in_clear():
    """Credentials configured but TLS off: nothing is sent, the connection
    fails with a 4xx that says why."""
    def handler(p):
        p.greet(caps=("AUTH PLAIN LOGIN",))
        assert p.line() == b"QUIT" or True

    with Raw(handler) as raw:
        r = smtpc_send(raw.port, "--auth", "u:p", msgs=[make_message("x")], timeout=10)
    assert r.failed.code == 421 and "without TLS" in r.failed.text, r
    assert not any(l.startswith(b"AUTH") for l in raw.seen), raw.seen


def test_tls_required_but_not_offered():
    def handler(p):
        p.greet()
        try:
            p.line()
        except EOFError:
            pass

    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[make_message("x")], tls="required", timeout=10)
    assert r.failed is not None, r
    assert (r.failed.code, r.failed.esc) == (421, "4.7.4"), r
    assert r.failed.text.startswith("TLS required but not offered"), r
    assert not any(l.startswith(b"MAIL") for l in raw.seen)


def test_starttls_response_injection_refused():
    """Bytes after the 220 to STARTTLS came in clear: never read as a
    reply inside TLS (the reverse of CVE-2011-0411)."""
    def handler(p):
        p.greet(caps=("STARTTLS",))
        assert p.line() == b"STARTTLS"
        p.send(b"220 go ahead\r\n250 injected\r\n")
        try:
            p.line()
        except (EOFError, ConnectionError):
            pass

    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[make_message("x")], tls="opportunistic",
                       timeout=10)
    assert r.failed is not None, r
    assert "after its STARTTLS reply" in r.failed.text, r


def test_smtputf8_needed_but_not_offered():
    def handler(p):
        p.greet()
        p.line()        # QUIT
        p.send(b"221 bye\r\n")

    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[make_message("x")], to=("j\u00f6rg@remote.test",),
                       timeout=10)
        seen = list(raw.seen)
    rep = r.rcpts[0][0][1]
    assert (rep.code, rep.esc, rep.stage) == (553, "5.6.7", "local check"), r
    assert "SMTPUTF8" in rep.text
    assert not any(l.startswith(b"MAIL") for l in seen), seen
    assert r.usable[0]


# ---------------------------------------------------------------- bad servers

def test_endless_multiline_reply_hits_the_limit():
    def handler(p):
        p.send(b"220 raw.test\r\n")
        p.line()
        try:
            for i in range(100000):
                p.send(b"250-keyword%d\r\n" % i)
        except OSError:
            pass

    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[make_message("x")], timeout=30)
    assert r.failed is not None, r
    assert r.failed.code == 421 and r.failed.synthetic, r
    assert "too many lines" in r.failed.text, r


def test_silent_server_times_out():
    done = threading.Event()

    def handler(p):
        done.wait(60)

    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[make_message("x")], timeout=1)
        done.set()
    assert r.failed is not None, r
    assert (r.failed.code, r.failed.esc) == (421, "4.4.2"), r
    assert "timed out while receiving the initial server greeting" in r.failed.text, r


def test_silent_after_data_times_out_per_recipient():
    done = threading.Event()

    def handler(p):
        p.to_data()
        done.wait(60)

    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[make_message("x")], timeout=1)
        done.set()
    rep = r.rcpts[0][0][1]
    assert rep.code == 421 and rep.synthetic and rep.stage == "end of DATA command", r
    assert "timed out" in rep.text, r
    assert not r.usable[0]


@pytest.mark.parametrize("greeting", [
    b"hello there\r\n", b"220\x00 nul\r\n" + b"x" * 10, b"2200 mixed\r\n",
    b"220-a\r\n221 b\r\n", b"x" * 5000 + b"\r\n",
])
def test_garbage_replies(greeting):
    def handler(p):
        p.send(greeting)
        try:
            p.line()
        except (EOFError, ConnectionError):
            pass

    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[make_message("x")], timeout=10)
    if r.failed is None:
        # "220\0 nul" is a well-formed 220 with odd text: the client goes on
        assert greeting.startswith(b"220\x00"), r
        return
    assert r.failed.code == 421 and r.failed.synthetic, r
    assert "bad reply" in r.failed.text, r


def test_421_in_the_middle():
    """421 to the first RCPT, then the server closes (RFC 5321 3.8): every
    recipient gets the server's 421 and nothing more is sent."""
    def handler(p):
        p.greet(caps=("ENHANCEDSTATUSCODES",))
        p.line()
        p.send(b"250 ok\r\n")
        p.line()
        p.send(b"421 4.3.2 shutting down\r\n")

    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[make_message("x")],
                       to=("a@remote.test", "b@remote.test"), timeout=10)
    (_, a), (_, b) = r.rcpts[0]
    for rep in (a, b):
        assert (rep.code, rep.esc, rep.synthetic, rep.stage, rep.text) == (
            421, "4.3.2", False, "RCPT TO command", "shutting down"), r
    assert not r.usable[0]
    assert raw.seen[-1] == b"RCPT TO:<a@remote.test>", raw.seen


def test_lost_connection_mid_transaction():
    """The server closes after the first RCPT's reply: the accepted
    recipient and the one never sent get a synthetic 4xx naming the peer
    and what we were doing."""
    def handler(p):
        p.greet(caps=("ENHANCEDSTATUSCODES",))
        p.line()
        p.send(b"250 ok\r\n")
        p.line()
        p.send(b"250 ok\r\n")
        p.line()

    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[make_message("x")],
                       to=("a@remote.test", "b@remote.test"), timeout=10)
    for _, rep in r.rcpts[0]:
        assert rep.code == 421 and rep.synthetic and rep.esc == "4.4.2", r
        assert rep.text == ("lost connection with [127.0.0.1]:%d while sending RCPT TO"
                            % raw.port), r
    assert not r.usable[0]


def test_connection_closed_after_data():
    def handler(p):
        p.to_data()

    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[make_message("x"), make_message("y")],
                       timeout=10)
    rep = r.rcpts[0][0][1]
    assert rep.code == 421 and rep.synthetic, r
    assert "lost connection with [127.0.0.1]:%d while sending end of data" % raw.port \
        in rep.text, r
    # the second message never had a connection
    assert r.rcpts[1][0][1].code == 421 and not r.usable[1], r


def test_connection_refused():
    port = free_port()
    r = smtpc_send(port, msgs=[make_message("x")], timeout=10)
    assert r.failed is not None, r
    assert (r.failed.code, r.failed.esc, r.failed.stage) == (421, "4.4.1", "connect"), r
    assert "refused" in r.failed.text.lower(), r


def test_helo_fallback_for_old_servers():
    got = []

    def handler(p):
        p.send(b"220 old.test\r\n")
        got.append(p.line())
        p.send(b"502 what\r\n")
        got.append(p.line())
        p.send(b"250 old.test\r\n")
        got.append(p.line())
        p.send(b"250 ok\r\n")
        got.append(p.line())
        p.send(b"250 ok\r\n")
        got.append(p.line())
        p.send(b"354 go\r\n")
        p.data()
        p.send(b"250 ok\r\n")
        got.append(p.line())
        p.send(b"221 bye\r\n")

    with Raw(handler) as raw:
        r = smtpc_send(raw.port, msgs=[make_message("x", body="8bit \u00e9\r\n".encode())],
                       timeout=10)
    assert r.ready["esmtp"] == "0" and r.codes() == [250], r
    assert got == [b"EHLO client.petrel.test", b"HELO client.petrel.test",
                   b"MAIL FROM:<sender@petrel.test>", b"RCPT TO:<rcpt@remote.test>",
                   b"DATA", b"QUIT"], got
