"""test_imap_utf8.py - UTF8=ACCEPT (RFC 6855) against a real petreld:
ENABLE, mailbox names in UTF-8 after it and in modified UTF-7 before it
(and for other sessions that did not enable it), APPEND with the
UTF8 (~{n}) data item, kept and streamed, refused before ENABLE, and
8-bit headers returned exactly as stored."""

import imaplib
import re
import socket

from petreltest import tls_ctx, unique
from test_imap import PASSWORD, login, ok


class Raw:
    def __init__(self, server, mbox):
        s = socket.create_connection(("127.0.0.1", server.imaps_port), timeout=60)
        self.sock = tls_ctx().wrap_socket(s)
        self.buf = b""
        self.line()
        self.sock.sendall(b"a LOGIN %s %s\r\n" % (mbox.encode(), PASSWORD.encode()))
        self.caps = self.until(b"a")[1]
        assert self.caps.startswith(b"a OK"), self.caps

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError(self.buf)
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError(self.buf)
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def until(self, tag):
        """(untagged lines, tagged line); literals are read into the lines."""
        lines = []
        while True:
            line = self.line()
            m = re.search(rb"\{(\d+)\}$", line)
            while m:
                line += b"\r\n" + self.read(int(m.group(1)))
                rest = self.line()
                line += rest
                m = re.search(rb"\{(\d+)\}$", rest)
            if line.startswith(tag + b" "):
                return lines, line
            lines.append(line)

    def cmd(self, tag, text):
        self.sock.sendall(tag + b" " + text + b"\r\n")
        return self.until(tag)


def message(marker):
    return ("From: Jörg Müller <jorg@example.test>\r\n"
            "To: <x@example.test>\r\n"
            "Subject: Grüße aus Köln – %s\r\n"
            "\r\n"
            "Schöne Grüße, 你好\r\n" % marker).encode("utf-8")


def test_capability_and_enable(server):
    r = Raw(server, server.new_mailbox("ucap"))
    assert b" UTF8=ACCEPT" in r.caps
    lines, tagged = r.cmd(b"e", b"ENABLE UTF8=ACCEPT")
    assert lines == [b"* ENABLED UTF8=ACCEPT"] and tagged.startswith(b"e OK")
    lines, tagged = r.cmd(b"e2", b"ENABLE UTF8=ACCEPT")
    assert lines == [b"* ENABLED"], lines          # already on


def test_mailbox_names(server):
    mbox = server.new_mailbox("unames")
    old = Raw(server, mbox)
    # before ENABLE: modified UTF-7 (RFC 3501 5.1.3): "Été"
    _, t = old.cmd(b"c1", b'CREATE "&AMk-t&AOk-"')
    assert t.startswith(b"c1 OK"), t
    new = Raw(server, mbox)
    _, t = new.cmd(b"e", b"ENABLE UTF8=ACCEPT")
    assert t.startswith(b"e OK")
    lines, t = new.cmd(b"l", b'LIST "" "*"')
    assert any(l.endswith("\"Été\"".encode()) or l.endswith("Été".encode()) for l in lines), lines
    # UTF-8 in, UTF-8 out
    name = "Ärger/Überstunden"
    _, t = new.cmd(b"c2", b'CREATE "%s"' % name.encode())
    assert t.startswith(b"c2 OK"), t
    _, t = new.cmd(b"s", b'SELECT "%s"' % name.encode())
    assert t.startswith(b"s OK"), t
    lines, t = new.cmd(b"l2", 'LIST "" "Ä*"'.encode())
    assert any("Überstunden".encode() in l for l in lines), lines
    # the session that did not enable it still sees modified UTF-7
    lines, t = old.cmd(b"l3", b'LIST "" "*"')
    assert any(b"&AMQ-rger/&ANw-berstunden" in l for l in lines), lines
    assert not any("Ä".encode() in l for l in lines), lines
    # and imaplib in UTF-8 mode agrees
    m = login(server, mbox)
    ok(m.enable("UTF8=ACCEPT"))
    data = ok(m.list('""', "*"))
    assert any("Ärger/Überstunden".encode() in d for d in data), data
    m.logout()


def test_append_utf8(server):
    mbox = server.new_mailbox("uappend")
    r = Raw(server, mbox)
    msg = message(unique("u"))
    # before ENABLE: refused
    r.sock.sendall(b"x APPEND INBOX UTF8 (~{%d+}\r\n" % len(msg) + msg + b")\r\n")
    _, t = r.until(b"x")
    assert t.startswith(b"x BAD"), t
    _, t = r.cmd(b"e", b"ENABLE UTF8=ACCEPT")
    r.sock.sendall(b'y APPEND INBOX (\\Seen) "01-Jan-2024 10:00:00 +0000" UTF8 (~{%d+}\r\n'
                   % len(msg) + msg + b")\r\n")
    _, t = r.until(b"y")
    assert re.match(rb"y OK \[APPENDUID \d+ 1\]", t), t
    # a synchronising literal8 and a streamed one, in one MULTIAPPEND
    big = message(unique("big")) + "ü".encode() * 200000 + b"\r\n"
    r.sock.sendall(b"z APPEND INBOX UTF8 (~{%d}\r\n" % len(msg))
    assert r.line().startswith(b"+")
    r.sock.sendall(msg + b") UTF8 (~{%d+}\r\n" % len(big) + big + b")\r\n")
    _, t = r.until(b"z")
    assert re.match(rb"z OK \[APPENDUID \d+ 2:3\]", t), t
    assert server.messages(mbox) == [msg, msg, big]
    # returned byte for byte, 8-bit headers as they are
    r.cmd(b"s", b"SELECT INBOX")
    lines, t = r.cmd(b"f", b"FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[])")
    assert t.startswith(b"f OK"), t
    assert "Subject: Grüße aus Köln".encode() in lines[0]
    assert msg in lines[0]
