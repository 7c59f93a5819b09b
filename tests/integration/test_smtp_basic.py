"""test_smtp_basic.py - petreld's inbound SMTP for well-behaved clients:
smtplib and raw dialogues (RFC 5321), PIPELINING (RFC 2920), 8BITMIME
(RFC 6152), SMTPUTF8 (RFC 6531), CHUNKING/BDAT (RFC 3030), enhanced
status codes (RFC 2034/3463), and that what is stored is exactly what was
sent with Return-Path and Received on top."""

import base64
import email.utils
import os
import smtplib

import pytest

from petreltest import (DEMO, HOSTNAME, find_marker, make_message,
                        split_trace, unique)


def stored_one(server, address, marker):
    msgs = find_marker(server.messages(address), marker)
    assert len(msgs) == 1, "expected exactly one message with %s in %s, found %d" % (
        marker, address, len(msgs))
    return msgs[0]


def assert_stored_as_sent(stored, sender, sent):
    rp, received, rest = split_trace(stored)
    assert rp == sender.encode("utf-8"), "Return-Path %r, sender was %r" % (rp, sender)
    assert rest == sent, ("stored message differs from what was sent\nsent:   %r\nstored: %r"
                          % (sent[:500], rest[:500]))
    return received


# ---------------------------------------------------------------- greeting

def test_greeting_and_ehlo_keywords(server):
    with server.connect() as c:
        assert c.banner.code == 220
        assert c.banner.texts[0].startswith(HOSTNAME + " ESMTP"), c.banner
        r = c.ehlo()
        assert r.texts[0].split()[0] == HOSTNAME, r
        f = c.features
        for kw in ("PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8",
                   "ENHANCEDSTATUSCODES", "CHUNKING", "STARTTLS", "HELP"):
            assert kw in f, "EHLO does not list %s: %r\n%s" % (kw, r, c.dialogue())
        assert f["SIZE"] == str(50 * 1024 * 1024), "SIZE %r, default max is 50M" % f["SIZE"]
        c.quit()


def test_helo(server):
    marker = unique("helo")
    msg = make_message(marker)
    with server.connect() as c:
        r = c.helo()
        assert r.code == 250, c.dialogue()
        assert HOSTNAME in r.text
        c.send_mail("helo@remote.test", [DEMO], msg)
        c.quit()
    assert_stored_as_sent(stored_one(server, DEMO, marker), "helo@remote.test", msg)


def test_noop_rset_vrfy_help_quit(server):
    with server.connect() as c:
        c.ehlo()
        c.expect("NOOP", 250)
        c.expect("NOOP ignored argument", 250)
        c.expect("RSET", 250)
        r = c.expect("VRFY demo", 252)
        assert r.esc.startswith("2."), r
        r = c.expect("VRFY <nobody@example.test>", 252)
        r = c.expect("HELP", 214)
        c.expect("MAIL FROM:<a@remote.test>", 250)
        c.expect("RCPT TO:<%s>" % DEMO, 250)
        c.expect("RSET", 250)
        # RSET dropped the transaction: no recipients, no sender
        r = c.cmd("DATA")
        assert r.code in (503, 554) and r.esc == "5.5.1", c.dialogue()
        r = c.cmd("RCPT TO:<%s>" % DEMO)
        assert r.code == 503 and r.esc == "5.5.1", c.dialogue()
        c.expect("QUIT", 221)
        assert c.expect_eof(10)


def test_lowercase_commands(server):
    marker = unique("lower")
    msg = make_message(marker)
    with server.connect() as c:
        c.cmd("ehlo client.petrel.test", exempt=True)
        c.expect("mail from:<lc@remote.test>", 250)
        c.expect("rcpt to:<%s>" % DEMO, 250)
        c.expect("data", 354)
        c.send(msg + b".\r\n")
        c.expect_reply(250, what="end of data")
        c.expect("quit", 221)
    stored_one(server, DEMO, marker)


def test_every_reply_has_enhanced_code(server):
    """SMTPConn asserts RFC 2034 codes on every reply (except greeting,
    EHLO/HELO and 354); walk through as many kinds of reply as we can."""
    with server.connect() as c:
        c.cmd("MAIL FROM:<a@remote.test>")          # before EHLO
        c.cmd("FOO")                                # unknown
        c.ehlo()
        c.cmd("NOOP")
        c.cmd("VRFY demo")
        c.cmd("EXPN demo")
        c.cmd("HELP")
        c.cmd("HELP MAIL")
        c.cmd("RCPT TO:<%s>" % DEMO)                 # before MAIL
        c.cmd("DATA")                               # before MAIL
        c.cmd("MAIL FROM:a@remote.test")            # syntax
        c.cmd("MAIL FROM:<a@remote.test> SIZE=999999999999")
        c.cmd("MAIL FROM:<a@remote.test>")
        c.cmd("MAIL FROM:<b@remote.test>")          # nested MAIL
        c.cmd("RCPT TO:<nobody@example.test>")       # unknown user
        c.cmd("RCPT TO:<x@not-hosted.test>")         # relay
        c.cmd("RCPT TO:<%s>" % DEMO)
        c.cmd("RSET")
        c.cmd("AUTH PLAIN AGZvbwBiYXI=")
        c.cmd("QUIT")


# ---------------------------------------------------------------- smtplib

def test_smtplib_send_stored_exactly(server):
    marker = unique("smtplib")
    msg = make_message(marker)
    s = server.smtplib()
    try:
        refused = s.sendmail("alice@remote.test", [DEMO], msg)
        assert refused == {}
    finally:
        s.quit()
    stored = stored_one(server, DEMO, marker)
    received = assert_stored_as_sent(stored, "alice@remote.test", msg)
    assert HOSTNAME.encode() in received, received
    assert b"client.petrel.test" in received, "EHLO name missing (RFC 5321 4.4): %r" % received
    assert b"127.0.0.1" in received, "client address missing (RFC 5321 4.4): %r" % received
    # RFC 5322 3.6.7: received = "Received:" *received-token ";" date-time
    assert b";" in received, received
    date = received.rsplit(b";", 1)[1].decode().replace("\r\n", "").strip()
    assert email.utils.parsedate_to_datetime(date) is not None, date


def test_null_sender(server):
    marker = unique("bounce")
    msg = make_message(marker, sender="MAILER-DAEMON@remote.test")
    with server.connect() as c:
        c.ehlo()
        c.send_mail("", [DEMO], msg)
        c.quit()
    assert_stored_as_sent(stored_one(server, DEMO, marker), "", msg)


def test_domain_is_case_insensitive(server):
    marker = unique("case")
    msg = make_message(marker)
    with server.connect() as c:
        c.ehlo()
        c.send_mail("case@remote.test", ["demo@EXAMPLE.Test"], msg)
        c.quit()
    stored_one(server, DEMO, marker)


def test_several_transactions_one_session(server):
    markers = [unique("multi") for _ in range(5)]
    with server.connect() as c:
        c.ehlo()
        for m in markers:
            c.send_mail("multi@remote.test", [DEMO], make_message(m))
        c.quit()
    msgs = server.messages(DEMO)
    for m in markers:
        assert len(find_marker(msgs, m)) == 1, m


def test_pipelined_transactions(server):
    """RFC 2920: MAIL, RCPTs and DATA in one write; after the message, the
    next transaction in the same write as the end of data."""
    other = server.new_mailbox("pipe")
    m1, m2 = unique("pipe1"), unique("pipe2")
    msg1, msg2 = make_message(m1), make_message(m2, to=other)
    with server.connect() as c:
        c.ehlo()
        assert "PIPELINING" in c.features
        c.send("MAIL FROM:<p1@remote.test>\r\n"
               "RCPT TO:<%s>\r\n"
               "RCPT TO:<nobody-here@example.test>\r\n"
               "RCPT TO:<%s>\r\n"
               "DATA\r\n" % (DEMO, other))
        c.expect_reply(250, what="MAIL")
        c.expect_reply(250, what="RCPT demo")
        c.expect_reply(550, "5.1.1", what="RCPT unknown")
        c.expect_reply(250, what="RCPT other")
        c.expect_reply(354, what="DATA")
        c.send(msg1 + b".\r\n"
               b"MAIL FROM:<p2@remote.test>\r\n"
               b"RCPT TO:<" + other.encode() + b">\r\n"
               b"DATA\r\n")
        c.expect_reply(250, what="end of message 1")
        c.expect_reply(250, what="MAIL 2")
        c.expect_reply(250, what="RCPT 2")
        c.expect_reply(354, what="DATA 2")
        c.send(msg2 + b".\r\nQUIT\r\n")
        c.expect_reply(250, what="end of message 2")
        c.expect_reply(221, what="QUIT")
        assert c.expect_eof(10)
    assert_stored_as_sent(stored_one(server, DEMO, m1), "p1@remote.test", msg1)
    got = server.messages(other)
    assert len(find_marker(got, m1)) == 1
    assert len(find_marker(got, m2)) == 1
    assert_stored_as_sent(find_marker(got, m2)[0], "p2@remote.test", msg2)


# ---------------------------------------------------------------- content

def test_8bitmime_body_intact(server):
    marker = unique("8bit")
    body = ("Grüße aus Köln — ¡olé! 你好 \r\n".encode("utf-8")
            + bytes(b for b in range(0x80, 0x100)) + b"\r\n"
            + b"latin-1: \xe9\xe8\xff\r\n")
    msg = make_message(marker, body=body,
                       extra_headers=b"Content-Type: text/plain; charset=utf-8\r\n"
                                     b"Content-Transfer-Encoding: 8bit\r\n")
    with server.connect() as c:
        c.ehlo()
        assert "8BITMIME" in c.features
        c.send_mail("8bit@remote.test", [DEMO], msg, params="BODY=8BITMIME")
        c.quit()
    assert_stored_as_sent(stored_one(server, DEMO, marker), "8bit@remote.test", msg)


def test_smtputf8_sender(server):
    marker = unique("utf8")
    sender = "jörg.müller@bücher.example"
    msg = make_message(marker, extra_headers="X-Sender: Jörg <{}>\r\n".format(sender).encode())
    s = server.smtplib()
    try:
        s.ehlo("client.petrel.test")
        assert s.has_extn("smtputf8")
        refused = s.sendmail(sender, [DEMO], msg, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
        assert refused == {}
    finally:
        s.quit()
    assert_stored_as_sent(stored_one(server, DEMO, marker), sender, msg)


def test_dot_stuffing_restored(server):
    marker = unique("dots")
    # what the message is, and what goes on the wire (RFC 5321 4.5.2)
    msg = (b"Subject: " + marker.encode() + b"\r\n\r\n"
           b".starts with a dot\r\n"
           b".\r\n"
           b"..\r\n"
           b"...\r\n"
           b"middle . dot\r\n"
           b". \r\n"
           b".\r\n")
    wire = (b"Subject: " + marker.encode() + b"\r\n\r\n"
            b"..starts with a dot\r\n"
            b"..\r\n"
            b"...\r\n"
            b"....\r\n"
            b"middle . dot\r\n"
            b".. \r\n"
            b"..\r\n"
            b".\r\n")
    with server.connect() as c:
        c.ehlo()
        c.mail_rcpt("dots@remote.test", [DEMO])
        c.expect("DATA", 354)
        c.send(wire)
        c.expect_reply(250, what="end of data")
        c.quit()
    assert_stored_as_sent(stored_one(server, DEMO, marker), "dots@remote.test", msg)


def test_empty_message(server):
    before = len(server.message_list(DEMO))
    sender = unique("empty") + "@remote.test"
    with server.connect() as c:
        c.ehlo()
        c.mail_rcpt(sender, [DEMO])
        c.expect("DATA", 354)
        c.send(b".\r\n")
        c.expect_reply(250, what="end of an empty message")
        c.quit()
    msgs = [m for m in server.messages(DEMO) if sender.encode() in m]
    assert len(msgs) == 1 and len(server.message_list(DEMO)) == before + 1
    assert_stored_as_sent(msgs[0], sender, b"")


def test_long_lines_and_large_message(server):
    marker = unique("large")
    line = b"x" * 20000 + b"\r\n"       # over RFC 5321's 1000, under 64 KiB
    blob = base64.encodebytes(os.urandom(3 * 1024 * 1024)).replace(b"\n", b"\r\n")
    msg = make_message(marker, body=line + blob)
    with server.connect() as c:
        c.ehlo()
        c.send_mail("large@remote.test", [DEMO], msg)
        c.quit()
    assert_stored_as_sent(stored_one(server, DEMO, marker), "large@remote.test", msg)


# ---------------------------------------------------------------- BDAT

def test_bdat_chunks(server):
    marker = unique("bdat")
    msg = make_message(marker, body=b".leading dot is not stuffed in BDAT\r\n"
                                    b"a line\r\n.\r\nnot the end\r\n..\r\nlast line\r\n")
    # chunk boundaries inside CRLF, inside "\r\n.\r\n", and one byte long
    cuts = [0, 17, 18, 19, len(msg) - 30, len(msg) - 29, len(msg) - 5, len(msg)]
    chunks = [msg[a:b] for a, b in zip(cuts, cuts[1:])]
    with server.connect() as c:
        c.ehlo()
        assert "CHUNKING" in c.features
        c.mail_rcpt("bdat@remote.test", [DEMO])
        for ch in chunks[:-1]:
            r = c.bdat(ch)
            assert r.code == 250, c.dialogue()
        r = c.bdat(chunks[-1], last=True)
        assert r.code == 250, c.dialogue()
        c.quit()
    assert_stored_as_sent(stored_one(server, DEMO, marker), "bdat@remote.test", msg)


def test_bdat_zero_last(server):
    marker = unique("bdat0")
    msg = make_message(marker)
    with server.connect() as c:
        c.ehlo()
        c.mail_rcpt("bdat0@remote.test", [DEMO])
        assert c.bdat(msg[:40]).code == 250, c.dialogue()
        assert c.bdat(msg[40:]).code == 250, c.dialogue()
        assert c.bdat(b"", last=True).code == 250, c.dialogue()
        c.quit()
    assert_stored_as_sent(stored_one(server, DEMO, marker), "bdat0@remote.test", msg)


def test_bdat_pipelined_and_binary(server):
    """All of it in one write (RFC 3030 with RFC 2920); BDAT content is not
    line based, so CR and LF need not pair up (BINARYMIME-like bytes)."""
    marker = unique("bdatpipe")
    msg = make_message(marker, body=b"binary-ish\r\n" + bytes(range(1, 256)) + b"\r\n")
    body = msg
    chunks = [body[:100], body[100:101], body[101:]]
    wire = b"MAIL FROM:<bp@remote.test>\r\nRCPT TO:<" + DEMO.encode() + b">\r\n"
    for i, ch in enumerate(chunks):
        last = b" LAST" if i == len(chunks) - 1 else b""
        wire += b"BDAT %d%s\r\n" % (len(ch), last) + ch
    wire += b"QUIT\r\n"
    with server.connect() as c:
        c.ehlo()
        c.send(wire)
        c.expect_reply(250, what="MAIL")
        c.expect_reply(250, what="RCPT")
        for i in range(len(chunks)):
            r = c.reply()
            # bare CR/LF inside BDAT chunks: stored as is, or refused as 5.6.x
            # after the LAST chunk; never a desynchronised session
            if r.code != 250:
                assert i == len(chunks) - 1 and r.code == 554 and r.esc.startswith("5.6."), \
                    c.dialogue()
                break
        c.expect_reply(221, what="QUIT")
    found = find_marker(server.messages(DEMO), marker)
    if r.code == 250:
        assert len(found) == 1
        assert_stored_as_sent(found[0], "bp@remote.test", msg)
    else:
        assert found == []


def test_bdat_empty_message(server):
    sender = unique("bdatempty") + "@remote.test"
    with server.connect() as c:
        c.ehlo()
        c.mail_rcpt(sender, [DEMO])
        assert c.bdat(b"", last=True).code == 250, c.dialogue()
        c.quit()
    msgs = [m for m in server.messages(DEMO) if sender.encode() in m]
    assert len(msgs) == 1
    assert_stored_as_sent(msgs[0], sender, b"")


def test_smtplib_many_recipients(server):
    rcpts = [server.new_mailbox("many") for _ in range(5)]
    marker = unique("many")
    msg = make_message(marker)
    s = server.smtplib()
    try:
        assert s.sendmail("many@remote.test", rcpts, msg) == {}
    finally:
        s.quit()
    for r in rcpts:
        assert_stored_as_sent(stored_one(server, r, marker), "many@remote.test", msg)


def test_smtplib_partial_refusal(server):
    marker = unique("partial")
    msg = make_message(marker)
    s = server.smtplib()
    try:
        refused = s.sendmail("p@remote.test", [DEMO, "nobody-x@example.test"], msg)
        assert list(refused) == ["nobody-x@example.test"]
        code, text = refused["nobody-x@example.test"]
        assert code == 550 and text.startswith(b"5.1.1"), refused
    finally:
        s.quit()
    stored_one(server, DEMO, marker)


def test_smtplib_all_refused(server):
    s = server.smtplib()
    try:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            s.sendmail("p@remote.test", ["nobody-y@example.test"], make_message(unique("x")))
    finally:
        s.quit()
