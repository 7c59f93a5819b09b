"""test_imap_compress.py - COMPRESS=DEFLATE (RFC 4978) against a real
petreld: Python's imaplib with zlib raw deflate streams wrapped around its
socket (implicit TLS, after STARTTLS and in clear), mbsync (isync 1.4
compresses whenever the server offers it), a second COMPRESS, COMPRESS
before login, large compressed APPENDs and FETCHes, and a decompression
bomb that must meet the same line bound as clear input."""

import imaplib
import os
import re
import socket
import subprocess
import zlib

import pytest

from petreltest import make_message, tls_ctx, unique
from test_imap import PASSWORD, deliver, mbsync_first_sync, ok, run_mbsync

# imaplib does not know the command; in which states it may be sent
imaplib.Commands.setdefault("COMPRESS", ("NONAUTH", "AUTH", "SELECTED"))


class Deflating:
    """imaplib with RFC 4978 compression: after COMPRESS DEFLATE, every
    byte sent is deflated (sync flush per command) and every byte read is
    inflated, raw deflate both ways (window bits -15)."""

    compressed = False

    def compress(self):
        typ, data = self._simple_command("COMPRESS", "DEFLATE")
        if typ != "OK":
            return typ, data
        self._z_out = zlib.compressobj(6, zlib.DEFLATED, -15)
        self._z_in = zlib.decompressobj(-15)
        self._zbuf = b""
        self.compressed = True
        return typ, data

    def send(self, data):
        if self.compressed:
            data = self._z_out.compress(data) + self._z_out.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def _zfill(self):
        d = self.sock.recv(65536)
        if not d:
            raise imaplib.IMAP4.abort("socket closed")
        self._zbuf += self._z_in.decompress(d)

    def read(self, size):
        if not self.compressed:
            return super().read(size)
        while len(self._zbuf) < size:
            self._zfill()
        out, self._zbuf = self._zbuf[:size], self._zbuf[size:]
        return out

    def readline(self):
        if not self.compressed:
            return super().readline()
        while b"\n" not in self._zbuf:
            self._zfill()
        i = self._zbuf.index(b"\n") + 1
        out, self._zbuf = self._zbuf[:i], self._zbuf[i:]
        return out


class DeflatingSSL(Deflating, imaplib.IMAP4_SSL):
    pass


class DeflatingClear(Deflating, imaplib.IMAP4):
    pass


def connect(server, mode="implicit", mbox=None):
    if mode == "implicit":
        m = DeflatingSSL("127.0.0.1", server.imaps_port, ssl_context=tls_ctx(), timeout=30)
    else:
        m = DeflatingClear("127.0.0.1", server.imap_port, timeout=30)
        if mode == "starttls":
            m.starttls(tls_ctx())
    if mbox is not None:
        m.login(mbox, PASSWORD)
    return m


def caps(m):
    return ok(m.capability())[0].decode().upper().split()


def log_text(server):
    return server.stderr_text() + "\n".join(server.stdout_lines)


def check_session(server, m, mbox, n):
    """A compressed session that reads and writes real mail."""
    ok(m.select("INBOX"))
    stored = server.messages(mbox)
    assert len(stored) == n
    data = ok(m.fetch("1:*", "(BODY.PEEK[])"))
    bodies = [d[1] for d in data if isinstance(d, tuple)]
    assert sorted(bodies) == sorted(stored)
    msg = make_message(unique("appended"), body=b"line of text\r\n" * 2000)
    typ, data = m.append("INBOX", None, None, msg)
    assert typ == "OK", data
    assert re.search(rb"\[APPENDUID \d+ \d+\]", data[0])
    data = ok(m.fetch(str(n + 1), "(BODY.PEEK[])"))
    assert data[0][1] == msg
    ok(m.noop())


def test_compress_implicit_tls(server):
    mbox = server.new_mailbox("zimp")
    deliver(server, mbox, 5, unique("zi"))
    m = connect(server, "implicit")
    assert "COMPRESS=DEFLATE" not in caps(m)        # RFC 4978 3: after login
    m.login(mbox, PASSWORD)
    assert "COMPRESS=DEFLATE" in caps(m)
    typ, data = m.compress()
    assert typ == "OK", data
    # still understood: the capabilities, now without COMPRESS
    assert "COMPRESS=DEFLATE" not in caps(m)
    check_session(server, m, mbox, 5)
    # RFC 4978 3: a second COMPRESS fails with COMPRESSIONACTIVE
    typ, data = m._simple_command("COMPRESS", "DEFLATE")
    assert typ == "NO" and b"[COMPRESSIONACTIVE]" in data[0]
    m.logout()
    assert re.search(r"imap .*compress user=%s" % re.escape(mbox), log_text(server))


def test_compress_after_starttls(server):
    mbox = server.new_mailbox("zstls")
    deliver(server, mbox, 3, unique("zs"))
    m = connect(server, "starttls", mbox)
    typ, data = m.compress()
    assert typ == "OK", data
    check_session(server, m, mbox, 3)
    m.logout()


def test_compress_in_clear(make_server):
    srv = make_server("imap_plaintext_auth = true")
    mbox = srv.new_mailbox("zclear")
    deliver(srv, mbox, 3, unique("zc"))
    m = connect(srv, "clear", mbox)
    typ, data = m.compress()
    assert typ == "OK", data
    check_session(srv, m, mbox, 3)
    m.logout()


def test_compress_needs_login_and_deflate(server):
    m = connect(server, "implicit")
    with pytest.raises(imaplib.IMAP4.error, match="Log in first"):
        m._simple_command("COMPRESS", "DEFLATE")
    mbox = server.new_mailbox("zarg")
    m.login(mbox, PASSWORD)
    typ, data = m._simple_command("COMPRESS", "GZIP")
    assert typ == "NO"
    # the session is still clear and works
    ok(m.select("INBOX"))
    m.logout()


class RawZ:
    """A raw compressed session over TLS, for what imaplib cannot send."""

    def __init__(self, server, mbox, tls=True):
        s = socket.create_connection(("127.0.0.1", server.imaps_port if tls
                                      else server.imap_port), timeout=30)
        self.sock = tls_ctx().wrap_socket(s) if tls else s
        self.buf = b""
        self.z_in = None
        self.line()
        self.send(b"a LOGIN %s %s\r\n" % (mbox.encode(), PASSWORD.encode()))
        assert self.until(b"a").startswith(b"a OK")
        self.send(b"z COMPRESS DEFLATE\r\n")
        assert self.until(b"z").startswith(b"z OK")
        self.z_out = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.z_in = zlib.decompressobj(-15)

    def send(self, data, flush=True):
        if self.z_in is not None:
            data = self.z_out.compress(data)
            if flush:
                data += self.z_out.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError(self.buf)
            self.buf += self.z_in.decompress(d) if self.z_in else d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def until(self, tag):
        while True:
            line = self.line()
            if line.startswith(tag + b" ") or line.startswith(b"* BYE"):
                return line


def test_compress_pipelined_commands(server):
    mbox = server.new_mailbox("zpipe")
    r = RawZ(server, mbox)
    r.send(b"".join(b"p%d NOOP\r\n" % i for i in range(200)) + b"s SELECT INBOX\r\n")
    for i in range(200):
        assert r.until(b"p%d" % i).startswith(b"p%d OK" % i)
    assert r.until(b"s").startswith(b"s OK")


def test_compress_pipelined_after_compress(server):
    """A client that does not wait for the OK: what follows COMPRESS in
    the same packet is already deflated, and is read as such."""
    mbox = server.new_mailbox("zearly")
    s = socket.create_connection(("127.0.0.1", server.imaps_port), timeout=30)
    s = tls_ctx().wrap_socket(s)
    r = RawZ.__new__(RawZ)
    r.sock, r.buf, r.z_in = s, b"", None
    r.line()
    r.send(b"a LOGIN %s %s\r\n" % (mbox.encode(), PASSWORD.encode()))
    assert r.until(b"a").startswith(b"a OK")
    z_out = zlib.compressobj(6, zlib.DEFLATED, -15)
    early = z_out.compress(b"n1 NOOP\r\nn2 SELECT INBOX\r\n") + z_out.flush(zlib.Z_SYNC_FLUSH)
    s.sendall(b"z COMPRESS DEFLATE\r\n" + early)
    assert r.until(b"z").startswith(b"z OK")
    r.z_in = zlib.decompressobj(-15)
    r.z_out = z_out
    r.buf = r.z_in.decompress(r.buf)     # anything read past the OK
    assert r.until(b"n1").startswith(b"n1 OK")
    assert r.until(b"n2").startswith(b"n2 OK")
    r.send(b"n3 NOOP\r\n")
    assert r.until(b"n3").startswith(b"n3 OK")


@pytest.mark.parametrize("tls", [True, False])
def test_compress_big_append_streams(make_server, tls):
    """A literal far larger than the read bound, sent compressed in one
    go: the server inflates it in bounded steps and stores it whole."""
    server = make_server("imap_plaintext_auth = true")
    mbox = server.new_mailbox("zbig")
    r = RawZ(server, mbox, tls)
    body = b"".join(b"line %07d of a long and repetitive message\r\n" % i for i in range(60000))
    msg = b"Subject: big\r\n\r\n" + body
    r.send(b"b APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
    line = r.until(b"b")
    assert line.startswith(b"b OK"), line
    assert server.messages(mbox) == [msg]


def test_compress_bomb_meets_line_bound(server):
    """Ten megabytes of one line compress to a few kilobytes; inflated,
    they meet the same line limit as clear text: the server answers and
    goes on or closes, and stays healthy."""
    mbox = server.new_mailbox("zbomb")
    r = RawZ(server, mbox)
    chunk = b"a" * (1 << 20)
    for _ in range(10):
        r.send(chunk, flush=False)
    try:
        r.send(b"\r\nq NOOP\r\n")
        line = r.until(b"q")
    except (EOFError, OSError):
        line = b"* BYE (closed)"
    assert line.startswith(b"* BYE") or line.startswith(b"q OK") or b"BAD" in line
    # the server still serves others
    m = connect(server, "implicit", mbox)
    ok(m.noop())
    m.logout()


def test_compress_corrupt_stream_closes(server):
    mbox = server.new_mailbox("zbad")
    r = RawZ(server, mbox)
    r.sock.sendall(b"\xff" * 64)       # not a deflate block
    with pytest.raises((EOFError, OSError, zlib.error)):
        r.line()
    m = connect(server, "implicit", mbox)
    ok(m.noop())
    m.logout()


@pytest.mark.skipif(subprocess.run(["which", "mbsync"], stdout=subprocess.DEVNULL).returncode != 0,
                    reason="mbsync (Debian package isync) is not installed")
def test_mbsync_compressed(server, tmp_path):
    mbox = server.new_mailbox("zmbsync")
    conf, maildir, _ = mbsync_first_sync(server, mbox, 50, "zmb", tmp_path)
    # isync 1.4 uses COMPRESS=DEFLATE when offered
    assert re.search(r"imap .*compress user=%s" % re.escape(mbox), log_text(server))
    # and writes back through it
    os.makedirs(os.path.join(maildir, "Sent", "new"), exist_ok=True)
    with open(os.path.join(maildir, "Sent", "new", "1.local:2,S"), "wb") as f:
        f.write(make_message(unique("zlocal")))
    p = run_mbsync(conf)
    assert p.returncode == 0, p.stderr
    assert len(server.message_list(mbox, "Sent")) == 1
