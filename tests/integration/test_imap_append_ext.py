"""test_imap_append_ext.py - MULTIAPPEND (RFC 3502) against a real
petreld over raw IMAP sockets: several messages in one APPEND, with flags
and dates each, kept and streamed literals, synchronising and
non-synchronising, APPENDUID with a UID set (RFC 4315), and all or
nothing: a message over quota, a bad flag or too many messages store
none of them."""

import imaplib
import re
import socket

import pytest

from petreltest import make_message, tls_ctx, unique
from test_imap import PASSWORD, deliver, login, ok


class Raw:
    def __init__(self, server, mbox):
        s = socket.create_connection(("127.0.0.1", server.imaps_port), timeout=60)
        self.sock = tls_ctx().wrap_socket(s)
        self.buf = b""
        self.line()
        self.sock.sendall(b"a LOGIN %s %s\r\n" % (mbox.encode(), PASSWORD.encode()))
        line = self.until(b"a")
        assert line.startswith(b"a OK"), line
        self.caps = line

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError(self.buf)
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def until(self, tag):
        while True:
            line = self.line()
            if line.startswith(tag + b" "):
                return line

    def multiappend(self, tag, folder, parts, sync=False):
        """parts: [(flags or None, date or None, bytes)]. With sync, each
        literal waits for the server's "+"; a refusal returns early."""
        out = tag + b" APPEND " + folder
        for i, (flags, date, msg) in enumerate(parts):
            if flags is not None:
                out += b" (" + flags + b")"
            if date is not None:
                out += b' "' + date + b'"'
            if sync:
                self.sock.sendall(out + b" {%d}\r\n" % len(msg))
                line = self.line()
                if not line.startswith(b"+"):
                    return line
                out = msg
            else:
                out += b" {%d+}\r\n" % len(msg) + msg
        self.sock.sendall(out + b"\r\n")
        return self.until(tag)


def uidset(text):
    uids = []
    for part in text.split(b","):
        if b":" in part:
            a, b = part.split(b":")
            uids += list(range(int(a), int(b) + 1))
        else:
            uids.append(int(part))
    return uids


def test_capability(server):
    r = Raw(server, server.new_mailbox("mcap"))
    assert b" MULTIAPPEND" in r.caps


@pytest.mark.parametrize("sync", [False, True])
def test_multiappend_three(server, sync):
    mbox = server.new_mailbox("mthree")
    r = Raw(server, mbox)
    msgs = [make_message(unique("m%d" % i)) for i in range(3)]
    line = r.multiappend(b"t", b"INBOX", [
        (b"\\Seen", b"01-Jan-2020 10:00:00 +0000", msgs[0]),
        (None, None, msgs[1]),
        (b"\\Flagged $Work", b"02-Feb-2021 11:00:00 +0100", msgs[2]),
    ], sync=sync)
    m = re.match(rb"t OK \[APPENDUID (\d+) ([\d:,]+)\]", line)
    assert m, line
    assert uidset(m.group(2)) == [1, 2, 3]
    assert server.messages(mbox) == msgs
    c = login(server, mbox)
    ok(c.select("INBOX"))
    data = ok(c.fetch("1:3", "(FLAGS INTERNALDATE)"))
    assert b"\\Seen" in data[0] and b"01-Jan-2020 10:00:00 +0000" in data[0]
    assert b"\\Seen" not in data[1]
    assert b"\\Flagged" in data[2] and b"$Work" in data[2]
    assert b"02-Feb-2021 10:00:00 +0000" in data[2] or b"02-Feb-2021 11:00:00 +0100" in data[2]
    c.logout()


def test_multiappend_streamed_literals(server):
    """Messages larger than the reader keeps inside a command stream in
    one by one; each arrives byte for byte."""
    mbox = server.new_mailbox("mbig")
    r = Raw(server, mbox)
    big = [make_message(unique("mb%d" % i), body=(b"%d" % i) * 400000 + b"\r\n")
           for i in range(3)]
    small = make_message(unique("ms"))
    line = r.multiappend(b"b", b"Archive", [(None, None, big[0]), (None, None, small),
                                            (None, None, big[1]), (None, None, big[2])])
    m = re.match(rb"b OK \[APPENDUID (\d+) ([\d:,]+)\]", line)
    assert m, line
    assert len(uidset(m.group(2))) == 4
    assert server.messages(mbox, "Archive") == [big[0], small, big[1], big[2]]
    # the session goes on normally, and a single APPEND after it works
    line = r.multiappend(b"c", b"Archive", [(None, None, small)])
    assert re.match(rb"c OK \[APPENDUID \d+ 5\]", line), line


def test_multiappend_all_or_nothing_quota(server):
    mbox = server.new_mailbox("mquota", quota=7000)
    r = Raw(server, mbox)
    parts = [(None, None, make_message(unique("mq%d" % i), body=b"q" * 2500 + b"\r\n"))
             for i in range(3)]
    line = r.multiappend(b"q", b"INBOX", parts)
    assert line.startswith(b"q NO [OVERQUOTA]"), line
    assert server.message_list(mbox) == []
    assert server.mailbox_used(mbox) == 0
    # two of them fit
    line = r.multiappend(b"q2", b"INBOX", parts[:2])
    assert line.startswith(b"q2 OK"), line
    assert len(server.message_list(mbox)) == 2


def test_multiappend_bad_second_message(server):
    mbox = server.new_mailbox("mbad")
    r = Raw(server, mbox)
    line = r.multiappend(b"x", b"INBOX", [(None, None, make_message(unique("mx1"))),
                                          (b"\\Bogus", None, make_message(unique("mx2")))])
    assert line.startswith(b"x BAD"), line
    line = r.multiappend(b"y", b"NoSuchFolder", [(None, None, make_message(unique("my1"))),
                                                 (None, None, make_message(unique("my2")))])
    assert line.startswith(b"y NO [TRYCREATE]"), line
    assert server.message_list(mbox) == []


def test_multiappend_too_many(server):
    mbox = server.new_mailbox("mmany")
    r = Raw(server, mbox)
    parts = [(None, None, b"Subject: %d\r\n\r\nx\r\n" % i) for i in range(101)]
    line = r.multiappend(b"z", b"INBOX", parts)
    assert line.startswith(b"z NO [LIMIT]"), line
    assert server.message_list(mbox) == []
    line = r.multiappend(b"z2", b"INBOX", parts[:100])
    assert line.startswith(b"z2 OK"), line
    assert len(server.message_list(mbox)) == 100


def test_single_append_unchanged(server):
    mbox = server.new_mailbox("msingle")
    m = login(server, mbox)
    msg = make_message(unique("one"))
    typ, data = m.append("INBOX", "(\\Seen)", imaplib.Time2Internaldate(1600000000), msg)
    assert typ == "OK" and re.search(rb"\[APPENDUID \d+ 1\]", data[0]), data
    assert server.messages(mbox) == [msg]
    m.logout()


# ------------------------------------------------------------ CATENATE

def uidvalidity(server, mbox, folder):
    m = login(server, mbox)
    data = ok(m.status(folder, "(UIDVALIDITY)"))
    m.logout()
    return int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))


def catenate(r, tag, folder, parts, extra=b""):
    """parts: [("TEXT", bytes) or ("URL", str)], non-synchronising."""
    out = tag + b" APPEND " + folder + b" CATENATE ("
    for i, (kind, v) in enumerate(parts):
        if i:
            out += b" "
        if kind == "TEXT":
            out += b"TEXT {%d+}\r\n" % len(v) + v
        else:
            out += b'URL "' + v.encode() + b'"'
    r.sock.sendall(out + b")" + extra + b"\r\n")
    return r.until(tag)


MULTIPART = (b"From: <a@example.test>\r\nSubject: parts\r\n"
             b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
             b"--XX\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n"
             b"--XX\r\nContent-Type: text/plain\r\n\r\nsecond part\r\n--XX--\r\n")


def test_catenate(server):
    mbox = server.new_mailbox("cat")
    r = Raw(server, mbox)
    assert b" CATENATE" in r.caps
    plain = make_message(unique("c1"))
    for msg in (plain, MULTIPART):
        assert r.multiappend(b"s", b"INBOX", [(None, None, msg)]).startswith(b"s OK")
    v = uidvalidity(server, mbox, "INBOX")
    head, body = plain.split(b"\r\n\r\n", 1)
    # a forward: the old header, a new body
    line = catenate(r, b"c1", b"Drafts", [
        ("URL", "/INBOX;UIDVALIDITY=%d/;UID=1/;SECTION=HEADER" % v),
        ("TEXT", b"New body.\r\n")])
    assert re.match(rb"c1 OK \[APPENDUID \d+ 1\]", line), line
    # the whole message by an absolute URL, a MIME part, a partial range
    line = catenate(r, b"c2", b"Drafts", [
        ("URL", "imap://%s@%s/INBOX/;UID=1" % (mbox.replace("@", "%40"), "localhost")),
        ("TEXT", b"--\r\n"),
        ("URL", "/INBOX/;UID=2/;SECTION=2"),
        ("URL", "/INBOX/;UID=2/;SECTION=1/;PARTIAL=0.5"),
        ("URL", "/INBOX/;UID=2/;SECTION=TEXT/;PARTIAL=6")])
    assert line.startswith(b"c2 OK"), line
    got = server.messages(mbox, "Drafts")
    assert got[0] == head + b"\r\n\r\n" + b"New body.\r\n"
    mp_text = MULTIPART.split(b"\r\n\r\n", 1)[1]
    assert got[1] == plain + b"--\r\n" + b"second part" + b"first" + mp_text[6:]


def test_catenate_streamed_and_multiappend(server):
    mbox = server.new_mailbox("catbig")
    r = Raw(server, mbox)
    plain = make_message(unique("cb"))
    assert r.multiappend(b"s", b"INBOX", [(None, None, plain)]).startswith(b"s OK")
    big = b"x" * 300000 + b"\r\n"
    other = make_message(unique("cb2"))
    line = catenate(r, b"c", b"INBOX", [("URL", "/INBOX/;UID=1/;SECTION=HEADER"), ("TEXT", big)],
                    extra=b" {%d+}\r\n" % len(other) + other)
    m = re.match(rb"c OK \[APPENDUID \d+ ([\d:,]+)\]", line)
    assert m, line
    assert uidset(m.group(1)) == [2, 3]
    head = plain.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    assert server.messages(mbox) == [plain, head + big, other]


def test_catenate_bad_urls(server):
    mbox = server.new_mailbox("catbad")
    victim = server.new_mailbox("catvictim")
    deliver(server, victim, 1, unique("secret"))
    r = Raw(server, mbox)
    assert r.multiappend(b"s", b"INBOX", [(None, None, make_message(unique("cx")))]).startswith(b"s OK")
    v = uidvalidity(server, mbox, "INBOX")
    bad = [
        "imap://%s@localhost/INBOX/;UID=1" % victim.replace("@", "%40"),   # another user
        "imap://elsewhere.example/INBOX/;UID=1",                           # another server
        "/INBOX/;UID=9",                                                   # no such message
        "/INBOX;UIDVALIDITY=%d/;UID=1" % (v + 1),                          # stale
        "/NoSuchFolder/;UID=1",
        "/INBOX/;UID=1;EXPIRE=2030-01-01T00:00:00Z;URLAUTH=anonymous:internal:0123",
        "/INBOX/;UID=1/;SECTION=9",
        "/INBOX/;UID=1/;SECTION=HEADER.FIELDS%20(SUBJECT)",
        "/INBOX",
        "/INBOX/;UID=0",
        "/INBOX/;UID=1/%zz",
    ]
    for i, url in enumerate(bad):
        tag = b"b%d" % i
        line = catenate(r, tag, b"Drafts", [("URL", url), ("TEXT", b"x\r\n")])
        assert line.startswith(tag + b" NO [BADURL"), (url, line)
    assert server.message_list(mbox, "Drafts") == []
    # the victim's message is untouched and unseen by us
    assert len(server.message_list(victim)) == 1
