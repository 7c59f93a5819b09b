"""test_smtp_smuggling.py - SMTP smuggling (CVE-2023-51764/51765/51766):
for each end-of-data look-alike in ../shared/testdata/smtp-smuggling/
eod-variants.yaml, a message whose body holds the variant and then a
smuggled MAIL/RCPT/DATA and second message, ended by the real
"\\r\\n.\\r\\n". Only <CRLF>.<CRLF> ends DATA (RFC 5321 4.1.1.4): petreld
must store at most one message, never one from the smuggled sender, and
answer the end of data with 250 (content kept intact) or 5xx."""

import pytest

import petreltest
from petreltest import find_marker, load_flow_list, split_trace, shared_data, unique

EOD_FILE = shared_data("smtp-smuggling", "eod-variants.yaml")
VARIANTS = load_flow_list(EOD_FILE, "variants")

SMUGGLER = "smuggled@smuggler.test"
REAL_SENDER = "real@sender.test"


def test_variants_file_reader_matches_yaml():
    yaml = pytest.importorskip("yaml")
    with open(EOD_FILE, encoding="utf-8") as f:
        assert yaml.safe_load(f)["variants"] == VARIANTS


def smuggling_body(marker, seq, victim):
    return (b"From: <" + REAL_SENDER.encode() + b">\r\n"
            b"To: <" + victim.encode() + b">\r\n"
            b"Subject: smuggling test " + marker.encode() + b"\r\n"
            b"\r\n"
            b"real body " + marker.encode()
            + seq +
            b"mail FROM:<" + SMUGGLER.encode() + b">\r\n"
            b"rcpt TO:<" + victim.encode() + b">\r\n"
            b"data\r\n"
            b"From: <" + SMUGGLER.encode() + b">\r\n"
            b"To: <" + victim.encode() + b">\r\n"
            b"Subject: smuggled " + marker.encode() + b"\r\n"
            b"\r\n"
            b"smuggled body " + marker.encode())


@pytest.mark.parametrize("mode", ["one-write", "byte-by-byte"])
@pytest.mark.parametrize("variant", VARIANTS, ids=[v["id"] for v in VARIANTS])
def test_smuggling_variant(server, variant, mode):
    seq = variant["sequence"].encode("latin-1")
    victim = server.new_mailbox("victim")
    marker = unique("smug-" + variant["id"])
    body = smuggling_body(marker, seq, victim)
    with server.connect() as c:
        c.ehlo()
        c.mail_rcpt(REAL_SENDER, [victim])
        c.expect("DATA", 354)
        # the body as it is: a client sends no dot-stuffing here because no
        # line of it starts with a dot after a real CRLF
        if mode == "one-write":
            c.send(body + b"\r\n.\r\n")
        else:
            i = body.index(seq)
            c.send(body[:i])
            c.send_slowly(body[i:i + len(seq) + 30])
            c.send(body[i + len(seq) + 30:] + b"\r\n.\r\n")
        r = c.reply()
        if not (r.code == 250 or r.code // 100 == 5):
            c.fail("end of data: expected 250 or 5xx")
        c.send(b"QUIT\r\n")
        # the next reply must be QUIT's: anything else means the server
        # took the smuggled commands as commands
        c.expect_reply(221, what="QUIT right after the end of data")
        c.expect_eof(10)
    got = find_marker(server.messages(victim), marker)
    assert len(got) <= 1, "%d messages stored for one transaction\n%s" % (len(got), c.dialogue())
    for m in got:
        rp, _, rest = split_trace(m)
        assert rp == REAL_SENDER.encode(), "message from the smuggled envelope: %r" % m[:300]
    if r.code == 250:
        assert len(got) == 1, "250 but nothing stored"
        _, _, rest = split_trace(got[0])
        # RFC 5321 4.5.2: a line that starts with a dot loses it (variants
        # like "\r\n.\0\r\n" make such a line; we send them unstuffed)
        want = (body + b"\r\n").replace(b"\r\n.", b"\r\n")
        assert rest == want, ("accepted, but content not intact:\nsent   %r\n"
                              "stored %r" % (want, rest))
    else:
        assert got == [], "refused (%r) but stored" % r


def test_pipelining_after_eod(server):
    """smtpsmug's "pipelining" test: a correctly ended message, then a whole
    second transaction with its message, in one write without waiting for
    the 354. Both are correctly terminated, so accepting both (each exactly
    once) is fine; refusing the improperly pipelined second one is fine too.
    What must not happen: a message twice, or replies out of step."""
    victim = server.new_mailbox("pipeeod")
    m1, m2 = unique("pe1"), unique("pe2")
    msg1 = petreltest.make_message(m1, sender=REAL_SENDER, to=victim)
    msg2 = petreltest.make_message(m2, sender="second@sender.test", to=victim)
    with server.connect() as c:
        c.ehlo()
        c.mail_rcpt(REAL_SENDER, [victim])
        c.expect("DATA", 354)
        c.send(msg1 + b".\r\n"
               b"MAIL FROM:<second@sender.test>\r\n"
               b"RCPT TO:<" + victim.encode() + b">\r\n"
               b"DATA\r\n" + msg2 + b".\r\nQUIT\r\n")
        replies = []
        for _ in range(12):
            try:
                r = c.reply()
            except (EOFError, ConnectionResetError):
                break
            replies.append(r.code)
            if r.code in (221, 421):
                break
    codes = replies
    print("pipelining-after-eod replies:", codes)
    assert codes[:1] == [250], "first message not accepted\n" + c.dialogue()
    msgs = server.messages(victim)
    assert len(find_marker(msgs, m1)) == 1, "first message not stored exactly once"
    n2 = len(find_marker(msgs, m2))
    both = [250, 250, 250, 354, 250, 221]
    if n2:
        print("pipelining-after-eod: both messages accepted")
        assert n2 == 1, "second message stored %d times" % n2
        assert codes == both, "second message stored, replies %r\n%s" % (codes, c.dialogue())
    else:
        print("pipelining-after-eod: second transaction refused")
        assert codes != both, "250 for the second message, but it was not stored"
