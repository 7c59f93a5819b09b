"""test_smtp_errors.py - petreld refusing what it must refuse, with the
right reply code and enhanced status code, without losing track of the
session: unknown users, relaying (Nmap's smtp-open-relay patterns from
../shared/testdata and the classic tricks), size and recipient limits,
quotas, command sequence and syntax, line-length limits, NUL bytes,
floods, timeouts, the error limit and the connection limit."""

import socket
import threading
import time

import pytest

import petreltest
from petreltest import (DEMO, HOSTNAME, find_marker,
                        load_flow_list, make_message, shared_data, unique)


@pytest.fixture(scope="module")
def limited():
    """A server with small limits."""
    yield from petreltest.running(
        "smtp_max_message_size = 64K",
        "smtp_max_recipients = 3",
        "smtp_command_timeout = 3",
        "smtp_data_timeout = 3",
        "max_connections = 8")


def usable_or_closed(c, after=""):
    """After an error the session must be in step: a NOOP gets 250, or the
    server has closed the connection (EOF or reset, nothing more sent)."""
    try:
        r = c.cmd("NOOP")
    except (EOFError, ConnectionResetError, BrokenPipeError):
        return "closed"
    if r.code == 421:
        c.expect_eof(10)
        return "closed"
    if r.code != 250:
        c.fail("session out of step %s: NOOP got %r" % (after, r))
    return "usable"


# ---------------------------------------------------------------- recipients

def test_unknown_recipient(server):
    with server.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<a@remote.test>", 250)
        c.expect("RCPT TO:<no-such-user@example.test>", 550, "5.1.1")
        c.expect("RCPT TO:<%s>" % DEMO, 250)   # the transaction goes on
        c.quit()


def test_foreign_domain_relay_denied(server):
    with server.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<a@remote.test>", 250)
        c.expect("RCPT TO:<someone@not-hosted.test>", 554, "5.7.1")
        c.quit()


@pytest.mark.parametrize("rcpt", ["postmaster@example.test", "Postmaster"])
def test_postmaster_accepted(server, rcpt):
    with server.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<a@remote.test>", 250)
        c.expect("RCPT TO:<%s>" % rcpt, 250)
        c.quit()


def test_data_without_valid_recipient(server):
    with server.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<a@remote.test>", 250)
        c.expect("RCPT TO:<no-such-user@example.test>", 550, "5.1.1")
        r = c.cmd("DATA")
        if not (r.code in (503, 554) and r.esc == "5.5.1"):
            c.fail("DATA with no valid recipient: expected 503/554 5.5.1")
        usable_or_closed(c)


# ---------------------------------------------------------------- sizes

def test_mail_size_param_too_big(server):
    with server.connect() as c:
        c.ehlo()
        limit = int(c.features["SIZE"])
        c.expect("MAIL FROM:<a@remote.test> SIZE=%d" % (limit + 1), 552, "5.3.4")
        c.expect("MAIL FROM:<a@remote.test> SIZE=%d" % limit, 250)
        c.expect("RSET", 250)
        # RFC 1870: size-value = 1*20DIGIT; 20 digits overflow 64 bits but
        # are well-formed, so "too big", not a syntax error
        c.expect("MAIL FROM:<a@remote.test> SIZE=99999999999999999999", 552, "5.3.4")
        r = c.cmd("MAIL FROM:<a@remote.test> SIZE=999999999999999999999")
        if not (r.is_(552, "5.3.4") or r.code in (501, 555)):
            c.fail("SIZE with 21 digits: expected 552 5.3.4 or a syntax error")
        c.quit()


def test_limited_ehlo_size(limited):
    with limited.connect() as c:
        c.ehlo()
        assert c.features.get("SIZE") == "65536", c.dialogue()


def test_message_over_max_size_data(limited):
    mbox = limited.new_mailbox("big")
    marker = unique("toobig")
    msg = make_message(marker, to=mbox, body=(b"y" * 998 + b"\r\n") * 100)
    with limited.connect() as c:
        c.ehlo()
        c.mail_rcpt("big@remote.test", [mbox])
        c.expect("DATA", 354)
        c.send(msg + b".\r\n")
        c.expect_reply(552, "5.3.4", what="end of a 100 KB message (max 64K)")
        # the session goes on; a small message is fine
        c.send_mail("small@remote.test", [mbox], make_message(marker + "-small", to=mbox))
        c.quit()
    got = limited.messages(mbox)
    assert [m for m in got if b"Subject: test " + marker.encode() + b"\r\n" in m] == []
    assert len(find_marker(got, marker + "-small")) == 1


def test_message_over_max_size_lying_size_param(limited):
    mbox = limited.new_mailbox("liar")
    marker = unique("liar")
    msg = make_message(marker, to=mbox, body=(b"z" * 998 + b"\r\n") * 80)
    with limited.connect() as c:
        c.ehlo()
        c.mail_rcpt("liar@remote.test", [mbox], params="SIZE=1000")
        c.expect("DATA", 354)
        c.send(msg + b".\r\n")
        c.expect_reply(552, "5.3.4", what="end of an 80 KB message declared SIZE=1000")
        usable_or_closed(c)
    assert find_marker(limited.messages(mbox), marker) == []


def test_message_over_max_size_bdat(limited):
    mbox = limited.new_mailbox("bigbdat")
    marker = unique("toobigbdat")
    msg = make_message(marker, to=mbox, body=b"w" * 40000 + b"\r\n")
    with limited.connect() as c:
        c.ehlo()
        c.mail_rcpt("bigbdat@remote.test", [mbox])
        codes = []
        # 40 KB + 0.2 KB fit in 64K; the LAST chunk (the whole message
        # again) does not
        for chunk, last in ((msg[:40000], False), (msg[40000:], False), (msg, True)):
            try:
                r = c.bdat(chunk, last=last)
            except (EOFError, ConnectionResetError):
                codes.append("closed")
                break
            codes.append((r.code, r.esc))
        if (552, "5.3.4") not in codes or codes[-1][0] == 250:
            c.fail("BDAT past the size limit: expected 552 5.3.4, got %r" % codes)
        if usable_or_closed(c) == "usable":
            c.send_mail("small@remote.test", [mbox], make_message(marker + "-small", to=mbox))
    got = limited.messages(mbox)
    assert [m for m in got if marker.encode() + b"@" in m] == []


def test_too_many_recipients(limited):
    boxes = [limited.new_mailbox("rc") for _ in range(5)]
    marker = unique("rcptlimit")
    msg = make_message(marker)
    with limited.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<many@remote.test>", 250)
        for b in boxes[:3]:
            c.expect("RCPT TO:<%s>" % b, 250)
        c.expect("RCPT TO:<%s>" % boxes[3], 452, "4.5.3")
        c.expect("RCPT TO:<%s>" % boxes[4], 452, "4.5.3")
        r = c.data(msg)
        if r.code != 250:
            c.fail("message for the first 3 recipients refused")
        c.quit()
    for b in boxes[:3]:
        assert len(find_marker(limited.messages(b), marker)) == 1
    for b in boxes[3:]:
        assert find_marker(limited.messages(b), marker) == []


# ---------------------------------------------------------------- quota

def test_quota(server):
    quota = 20000
    mbox = server.new_mailbox("quota", quota=quota)
    size = 4000
    with server.connect() as c:
        c.ehlo()
        # declared size alone can never fit: permanent
        c.expect("MAIL FROM:<q@remote.test> SIZE=%d" % (quota + 1), 250)
        c.expect("RCPT TO:<%s>" % mbox, 552, "5.2.2")
        c.expect("RSET", 250)
        sent = []
        for i in range(4):
            m = unique("q%d" % i)
            c.send_mail("q@remote.test", [mbox],
                        make_message(m, to=mbox, body=b"q" * size + b"\r\n"))
            sent.append(m)
        used = server.mailbox_used(mbox)
        assert 4 * size <= used < quota, "used %d after 4 x %d bytes" % (used, size)
        # a declared size that does not fit now, but could later: temporary
        c.expect("MAIL FROM:<q@remote.test> SIZE=%d" % (quota - used + 1), 250)
        c.expect("RCPT TO:<%s>" % mbox, 452, "4.2.2")
        c.expect("RSET", 250)
        # no SIZE: fill until the server says the mailbox is full
        refused = None
        for i in range(6):
            m = unique("qfill%d" % i)
            c.expect("MAIL FROM:<q@remote.test>", 250)
            r = c.cmd("RCPT TO:<%s>" % mbox)
            if r.code == 452 and r.esc == "4.2.2":
                refused = "rcpt"
                c.expect("RSET", 250)
                break
            if r.code != 250:
                c.fail("RCPT to a filling mailbox: expected 250 or 452 4.2.2")
            r = c.data(make_message(m, to=mbox, body=b"q" * size + b"\r\n"))
            if r.code == 250:
                sent.append(m)
                continue
            if (r.code, r.esc) not in ((552, "5.2.2"), (452, "4.2.2")):
                c.fail("end of data into a full mailbox: expected 552 5.2.2 or 452 4.2.2")
            refused = "data"
            break
        if refused is None:
            c.fail("mailbox with quota %d took 10 messages of %d bytes" % (quota, size))
        c.quit()
    msgs = server.messages(mbox)
    for m in sent:
        assert len(find_marker(msgs, m)) == 1, m
    used = server.mailbox_used(mbox)
    assert len(sent) * size <= used <= sum(len(m) for m in msgs), \
        "used %d for %d stored bytes" % (used, sum(len(m) for m in msgs))
    assert used <= quota + size + 2000, "quota %d overrun: %d" % (quota, used)
    # raising the quota takes effect for the running server
    server.ctl("mailbox", "quota", mbox, "10M")
    with server.connect() as c:
        c.ehlo()
        c.send_mail("q@remote.test", [mbox], make_message(unique("qafter"), to=mbox))
        c.quit()


# ---------------------------------------------------------------- sequence

def test_mail_before_helo(server):
    with server.connect() as c:
        c.expect("MAIL FROM:<a@remote.test>", 503, "5.5.1")
        c.expect("RCPT TO:<%s>" % DEMO, 503, "5.5.1")
        r = c.cmd("DATA")
        assert r.code in (503, 554) and r.esc == "5.5.1", c.dialogue()
        c.ehlo()
        c.expect("MAIL FROM:<a@remote.test>", 250)
        c.quit()


def test_sequence_errors(server):
    with server.connect() as c:
        c.ehlo()
        c.expect("RCPT TO:<%s>" % DEMO, 503, "5.5.1")
        r = c.cmd("DATA")
        assert r.code in (503, 554) and r.esc == "5.5.1", c.dialogue()
        c.expect("MAIL FROM:<a@remote.test>", 250)
        c.expect("MAIL FROM:<b@remote.test>", 503, "5.5.1")   # nested
        r = c.cmd("DATA")                                      # no RCPT yet
        assert r.code in (503, 554) and r.esc == "5.5.1", c.dialogue()
        c.quit()


def test_bdat_without_transaction_consumes_chunk(server):
    """RFC 3030 2: the chunk must be read even when BDAT is refused, or its
    bytes would be taken as commands."""
    with server.connect() as c:
        c.ehlo()
        chunk = b"RSET\r\nVRFY smuggled\r\n"
        r = c.bdat(chunk)
        if r.code // 100 != 5:
            c.fail("BDAT without MAIL accepted")
        c.expect("NOOP", 250)      # not 252 for the VRFY inside the chunk
        c.quit()


# ---------------------------------------------------------------- syntax

# (line, acceptable reply codes): 501 syntax error; 553 mailbox name not
# allowed; 555 parameter not recognised (RFC 5321 4.1.1.11).
BAD_MAIL = [
    ("MAIL FROM:<a@remote.test", (501,)),
    ("MAIL FROM:", (501,)),
    ("MAIL FROM:<>>", (501,)),
    ("MAIL TO:<a@remote.test>", (501,)),
    ("MAIL", (501,)),
    ("MAIL FROM:<a@@remote.test>", (501, 553)),
    ("MAIL FROM:<a b@remote.test>", (501, 553)),
    ("MAIL FROM:<a@remote..test>", (501, 553)),
    ("MAIL FROM:<a@" + ("d" * 60 + ".") * 5 + "test>", (501, 553)),
    ("MAIL FROM:<a@remote.test> SIZE=abc", (501, 555)),
    ("MAIL FROM:<a@remote.test> SIZE=", (501, 555)),
    ("MAIL FROM:<a@remote.test> BODY=9BITMIME", (501, 555)),
    ("MAIL FROM:<a@remote.test> NOSUCHPARAM=1", (501, 555)),
    ("MAIL FROM:<a@remote.test> NOSUCHPARAM", (501, 555)),
]


@pytest.mark.parametrize("line,codes", BAD_MAIL)
def test_bad_mail_syntax(server, line, codes):
    with server.connect() as c:
        c.ehlo()
        r = c.cmd(line)
        if r.code not in codes or not r.esc.startswith("5."):
            c.fail("%r: expected %s" % (line, "/".join(map(str, codes))))
        # no transaction was started
        c.expect("RCPT TO:<%s>" % DEMO, 503, "5.5.1")
        c.quit()


@pytest.mark.parametrize("line", [
    "RCPT TO:<demo@example.test",
    "RCPT TO:",
    "RCPT TO:<>",
    "RCPT FROM:<demo@example.test>",
    "RCPT TO:<demo@example.test> NOSUCHPARAM=1",
])
def test_bad_rcpt_syntax(server, line):
    with server.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<a@remote.test>", 250)
        r = c.cmd(line)
        if r.code not in (501, 553, 555, 550):
            c.fail("%r: expected a syntax error" % line)
        c.quit()


@pytest.mark.parametrize("line", ["EHLO", "HELO", "EHLO ", "HELO "])
def test_helo_without_name(server, line):
    with server.connect() as c:
        r = c.cmd(line)
        if r.code != 501 or not r.esc.startswith("5.5."):
            c.fail("%r: expected 501 5.5.x" % line)
        c.quit()


@pytest.mark.parametrize("line", ["FOO", "MAILFROM:<a@b>", "EHLOX x",
                                  "\x7f\x7f", "HELLO there"])
def test_unknown_command(server, line):
    with server.connect() as c:
        c.ehlo()
        c.expect(line, 500, "5.5.2")
        c.expect("NOOP", 250)
        c.quit()


# ---------------------------------------------------------------- lines

@pytest.mark.parametrize("offset", list(range(2036, 2054)) + [4094, 4095, 4096, 4097, 8192])
def test_overlong_command_line_tail_not_executed(server, offset):
    """A line past smtp_max_line (2048) gets 500 5.5.x; whatever follows the
    cut must not run as a command of its own (here a VRFY, which would get
    252), and the session stays in step or is closed cleanly."""
    line = b"NOOP " + b"a" * (offset - 5) + b"VRFY tail-of-long-line\r\n"
    with server.connect() as c:
        c.ehlo()
        c.send(line + b"NOOP\r\n")
        r = c.reply()
        if r.code == 250 and len(line) <= 2048:
            pass                      # not over the limit: NOOP with argument
        elif r.code != 500 or not r.esc.startswith("5.5."):
            c.fail("line of %d bytes: expected 500 5.5.x" % len(line))
        try:
            r2 = c.reply()
        except (EOFError, ConnectionResetError):
            return                    # closed after the error: fine
        if r2.code == 421:
            c.expect_eof(10)
            return
        if r2.code != 250:
            c.fail("after a long line, NOOP got %r (tail run as a command?)" % r2)
        c.quit()


@pytest.mark.parametrize("line", [
    b"NOOP\x00\r\n",
    b"\x00\r\n",
    b"EHLO client\x00.petrel.test\r\n",
    b"MAIL FROM:<a\x00b@remote.test>\r\n",
    b"MAIL FROM:<a@remote.test>\x00 SIZE=10\r\n",
    b"RCPT TO:<demo@example.test\x00.evil.test>\r\n",
    b"RCPT TO:<x@evil.test\x00@example.test>\r\n",
    b"RCPT TO:<demo\x00@example.test>\r\n",
])
def test_nul_in_command(server, line):
    with server.connect() as c:
        c.ehlo()
        if line.startswith(b"RCPT"):
            c.expect("MAIL FROM:<nul@remote.test>", 250)
        c.send(line)
        r = c.reply()
        if r.code // 100 != 5:
            c.fail("command with a NUL byte: expected a 5xx refusal")
        usable_or_closed(c, "after a NUL byte")


def test_data_line_over_limit(server):
    """A text line past smtp_max_data_line (64 KiB): either kept intact or
    refused with 5xx after the end of data; never half a message."""
    mbox = server.new_mailbox("longline")
    marker = unique("longline")
    msg = make_message(marker, to=mbox, body=b"L" * 70000 + b"\r\nend\r\n")
    with server.connect() as c:
        c.ehlo()
        c.mail_rcpt("ll@remote.test", [mbox])
        c.expect("DATA", 354)
        c.send(msg + b".\r\n")
        r = c.reply()
        if r.code != 250 and r.code // 100 != 5:
            c.fail("expected 250 or 5xx at end of data")
        usable_or_closed(c, "after a long data line")
    got = find_marker(server.messages(mbox), marker)
    if r.code == 250:
        assert len(got) == 1 and got[0].endswith(msg)
    else:
        assert got == []


@pytest.mark.parametrize("body,what", [
    (b"line one\nline two\r\n", "bare LF"),
    (b"line one\rline two\r\n", "bare CR"),
    (b"line one\n.\nline two\r\n", "bare LF dot LF"),
])
def test_bare_lf_cr_in_data(server, body, what):
    """Bare LF / CR in DATA: 554 5.6.0 after the real end of data."""
    mbox = server.new_mailbox("bare")
    marker = unique("bare")
    msg = make_message(marker, to=mbox, body=body)
    with server.connect() as c:
        c.ehlo()
        c.mail_rcpt("bare@remote.test", [mbox])
        c.expect("DATA", 354)
        c.send(msg + b".\r\n")
        c.expect_reply(554, "5.6.0", what="end of data with a " + what)
        usable_or_closed(c, "after %s" % what)
    assert find_marker(server.messages(mbox), marker) == []


def test_flood_without_newline(server):
    """10 MB without a line end: an error reply and that session closed,
    while another session goes on working meanwhile."""
    flood = server.connect()
    flood.ehlo()
    other = server.connect()
    other.ehlo()
    result = {"sent": 0, "send_error": None, "recv": bytearray(), "end": None}

    def writer():
        chunk = b"A" * 65536
        try:
            while result["sent"] < 10 * 1024 * 1024:
                flood.sock.sendall(chunk)
                result["sent"] += len(chunk)
        except OSError as e:
            result["send_error"] = repr(e)

    def reader():
        try:
            while True:
                b = flood.sock.recv(65536)
                if not b:
                    result["end"] = "eof"
                    return
                result["recv"] += b
        except socket.timeout:
            result["end"] = "timeout"
        except OSError as e:
            result["end"] = "reset: %r" % e

    flood.sock.settimeout(30)
    tw = threading.Thread(target=writer, daemon=True)
    tr = threading.Thread(target=reader, daemon=True)
    tw.start()
    tr.start()
    # the other session works while the flood goes on
    marker = unique("during-flood")
    other.send_mail("other@remote.test", [DEMO], make_message(marker))
    tw.join(60)
    tr.join(60)
    assert not tw.is_alive() and not tr.is_alive(), "flood client hung"
    assert result["end"] in ("eof",) or result["end"].startswith("reset"), \
        "flooding session not closed (%s after %d bytes sent, %r received)" % (
            result["end"], result["sent"], bytes(result["recv"][:300]))
    lines = [l for l in bytes(result["recv"]).split(b"\r\n") if l]
    assert lines, ("no error reply before the close (sent %d bytes, %s)"
                   % (result["sent"], result["end"]))
    for l in lines:
        assert l[:1] in (b"4", b"5") and petreltest.ESC_RE.match(l), \
            "unexpected reply to a 10 MB line: %r" % l
    other.send_mail("other@remote.test", [DEMO], make_message(marker + "-after"))
    other.quit()
    msgs = server.messages(DEMO)
    assert len(find_marker(msgs, marker)) == 2   # marker and marker-after


def test_garbage_after_quit(server):
    with server.connect() as c:
        c.ehlo()
        c.send(b"QUIT\r\nNOOP\r\nRSET\r\nMAIL FROM:<x@remote.test>\r\nVRFY x\r\n")
        c.expect_reply(221, what="QUIT")
        assert c.expect_eof(10)


def test_too_many_errors(server):
    with server.connect() as c:
        c.ehlo()
        errors = 0
        for i in range(30):
            try:
                r = c.cmd("BOGUS%d" % i)
            except (EOFError, ConnectionResetError):
                c.fail("closed without 421 after %d errors" % errors)
            if r.code == 421:
                break
            if r.code != 500:
                c.fail("unknown command: expected 500")
            errors += 1
        else:
            c.fail("30 errors and no 421")
        assert r.esc.startswith("4."), c.dialogue()
        assert 19 <= errors <= 20, "421 after %d errors; smtp_max_errors is 20\n%s" % (
            errors, c.dialogue())
        assert c.expect_eof(10)


def test_harvest_counts_as_errors(server):
    """Unknown recipients count toward smtp_max_errors (address harvesting)."""
    with server.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<h@remote.test>", 250)
        for i in range(30):
            try:
                r = c.cmd("RCPT TO:<guess%d@example.test>" % i)
            except (EOFError, ConnectionResetError):
                c.fail("closed without 421")
            if r.code == 421:
                break
            if not r.is_(550, "5.1.1"):
                c.fail("unknown recipient: expected 550 5.1.1")
        else:
            c.fail("30 unknown recipients and no 421")
        assert c.expect_eof(10)


# ---------------------------------------------------------------- relaying

RELAY_FILE = shared_data("smtp-open-relay", "relay-tests.yaml")


def relay_patterns():
    return load_flow_list(RELAY_FILE, "tests")


def test_relay_file_reader_matches_yaml():
    """Our small reader and PyYAML (when installed) agree on the file."""
    yaml = pytest.importorskip("yaml")
    with open(RELAY_FILE, encoding="utf-8") as f:
        assert yaml.safe_load(f)["tests"] == relay_patterns()


def relay_attempt(srv, sender, rcpt, helo="nmap.scanme.org"):
    with srv.connect() as c:
        c.ehlo(helo)
        c.expect("RSET", 250)
        c.cmd("MAIL FROM:<%s>" % sender)
        r = c.cmd("RCPT TO:<%s>" % rcpt)
        if r.code // 100 in (2, 3):
            c.fail("OPEN RELAY: RCPT TO:<%s> from MAIL FROM:<%s> accepted" % (rcpt, sender))
        try:
            c.cmd("QUIT")
        except (EOFError, ConnectionResetError):
            pass


@pytest.mark.parametrize("srvname", [HOSTNAME, "example.test"])
@pytest.mark.parametrize("n", range(1, 17))
def test_nmap_open_relay_patterns(server, n, srvname):
    pats = {p["n"]: p for p in relay_patterns()}
    assert len(pats) == 16
    p = pats[n]
    subst = {"from": "antispam", "to": "relaytest", "domain": "nmap.scanme.org",
             "srvname": srvname, "ip": "127.0.0.1"}
    sender = p["mail_from"].format(**subst)
    rcpt = p["rcpt_to"].format(**subst)
    relay_attempt(server, sender, rcpt)


CLASSIC_RELAY_TRICKS = [
    "relaytest%nmap.scanme.org@example.test",
    "relaytest%nmap.scanme.org@[127.0.0.1]",
    "relaytest%nmap.scanme.org",
    "nmap.scanme.org!relaytest@example.test",
    "nmap.scanme.org!relaytest",
    "@example.test:relaytest@nmap.scanme.org",
    "@mx.petrel.test,@example.test:relaytest@nmap.scanme.org",
    "\"relaytest@nmap.scanme.org\"@example.test",
    "\"relaytest%nmap.scanme.org\"@example.test",
    "\"relaytest@nmap.scanme.org\"",
    "relaytest@nmap.scanme.org.",
    "relaytest@NMAP.SCANME.ORG",
    "RELAYTEST@Nmap.Scanme.Org.",
    "relaytest@nmap.scanme.org@example.test",
    "relaytest@example.test@nmap.scanme.org",
    "relaytest@[8.8.8.8]",
    "relaytest@[IPv6:2001:db8::1]",
    "relaytest@[127.0.0.2]",
    "relaytest@localhost",
    "relaytest@mx.petrel.test",
    "demo@example.test.nmap.scanme.org",
    "demo@sub.example.test",
    "demo@xexample.test",
    "demo@example.testx",
    "demo@example",
    "demo@.example.test",
    "postmaster@nmap.scanme.org",
    "relaytest@nmap.scanme.org%example.test",
    "relaytest@nmap.scanme.org!example.test",
    # upper-case variants of the tricks above
    "RELAYTEST%NMAP.SCANME.ORG@EXAMPLE.TEST",
    "NMAP.SCANME.ORG!RELAYTEST@EXAMPLE.TEST",
    "@EXAMPLE.TEST:RELAYTEST@NMAP.SCANME.ORG",
    "\"RELAYTEST@NMAP.SCANME.ORG\"@EXAMPLE.TEST",
    "RELAYTEST@[IPV6:2001:DB8::1]",
    # IP literals, ours included, with and without a local-looking user
    "relaytest@[127.0.0.1]",
    "demo@[127.0.0.1]",
    "DEMO@[127.0.0.1]",
    "relaytest@[IPv6:::1]",
    "\"relaytest@nmap.scanme.org\"@[127.0.0.1]",
    # more trailing dots
    "relaytest@nmap.scanme.org..",
    "relaytest%nmap.scanme.org@example.test.",
    "RELAYTEST@NMAP.SCANME.ORG.",
    # source routes through our own names
    "@[127.0.0.1]:relaytest@nmap.scanme.org",
    "@EXAMPLE.TEST,@MX.PETREL.TEST:RELAYTEST@NMAP.SCANME.ORG",
]


@pytest.mark.parametrize("rcpt", CLASSIC_RELAY_TRICKS)
def test_classic_relay_tricks(server, rcpt):
    relay_attempt(server, "antispam@nmap.scanme.org", rcpt)


@pytest.mark.parametrize("sender,helo", [
    ("", "localhost"),
    (DEMO, HOSTNAME),
    ("postmaster@example.test", "[127.0.0.1]"),
    ("antispam@[127.0.0.1]", "example.test"),
])
def test_local_looking_client_cannot_relay(server, sender, helo):
    """A loopback client claiming our own names is still a stranger."""
    relay_attempt(server, sender, "relaytest@nmap.scanme.org", helo=helo)


def test_relay_with_space_after_colon(server):
    with server.connect() as c:
        c.ehlo()
        c.cmd("MAIL FROM: <a@remote.test>")
        r = c.cmd("RCPT TO: <relaytest@nmap.scanme.org>")
        if r.code // 100 in (2, 3):
            c.fail("OPEN RELAY with a space after the colon")
        c.close()


# ---------------------------------------------------------------- timeouts

def test_command_timeout(limited):
    with limited.connect(timeout=30) as c:
        c.ehlo()
        t0 = time.monotonic()
        c.expect_reply(421, "4.4.2", what="idle past smtp_command_timeout = 3",
                       timeout=25)
        assert c.expect_eof(10)
        assert time.monotonic() - t0 >= 2.5


def test_data_timeout_stores_nothing(limited):
    mbox = limited.new_mailbox("dto")
    marker = unique("datatimeout")
    with limited.connect(timeout=30) as c:
        c.ehlo()
        c.mail_rcpt("dto@remote.test", [mbox])
        c.expect("DATA", 354)
        c.send(make_message(marker, to=mbox))     # no end of data
        c.expect_reply(421, "4.4.2", what="idle in DATA past smtp_data_timeout = 3",
                       timeout=25)
        assert c.expect_eof(10)
    assert find_marker(limited.messages(mbox), marker) == []


def test_max_connections(limited):
    conns = []
    refused = None
    try:
        for i in range(20):
            c = petreltest.SMTPConn(limited.port, greeting=False)
            conns.append(c)
            r = c.greeting()
            if r.code == 421:
                refused = (i, r)
                assert r.esc.startswith("4."), c.dialogue()
                c.expect_eof(10)
                break
    finally:
        for c in conns:
            c.close()
    assert refused is not None, "20 connections taken with max_connections = 8"
    assert refused[0] <= 8, "refused only connection #%d" % (refused[0] + 1)
    # the slots come back once the sessions are gone (closing is async:
    # try a bounded number of times)
    for attempt in range(100):
        c = petreltest.SMTPConn(limited.port, greeting=False)
        r = c.greeting()
        c.close()
        if r.code == 220:
            break
        time.sleep(0.1)
    else:
        pytest.fail("no connection accepted after the others closed")


def test_max_connections_per_ip(make_server):
    """One address may hold max_connections_per_ip sessions; the next gets
    421 4.7.0 and is closed, and the slot comes back when one closes.
    Loopback is exempt by default, so this server sets limit_loopback."""
    srv = make_server("max_connections_per_ip = 3", "limit_loopback = yes")
    conns = []
    try:
        for _ in range(3):
            c = petreltest.SMTPConn(srv.port, greeting=False)
            conns.append(c)
            assert c.greeting().code == 220, c.dialogue()
        extra = petreltest.SMTPConn(srv.port, greeting=False)
        r = extra.greeting()
        assert (r.code, r.esc) == (421, "4.7.0"), extra.dialogue()
        extra.expect_eof(10)
        extra.close()
        conns.pop().close()
        for _ in range(100):     # the close is seen asynchronously
            c = petreltest.SMTPConn(srv.port, greeting=False)
            r = c.greeting()
            if r.code == 220:
                conns.append(c)
                break
            c.close()
            time.sleep(0.05)
        else:
            pytest.fail("the freed slot never came back")
    finally:
        for c in conns:
            c.close()
    assert "reason=too_many_connections_from_ip" in srv.stderr_text()
