"""test_imap_search_cache.py - SEARCH on header fields answers the same
whether the fields come from the parse cache (decision 8) or from the
message itself: the same set of searches runs with every message's cache
record present, with some of them removed from the store's database (as
after a crash lost them, or on a store written before the cache kept the
fields), and with all of them removed."""

import os
import sqlite3

from petreltest import SMTPConn, unique
from test_imap import Raw

SUBJECTS = [
    b"=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=",
    b"Quarterly report\r\n  folded onto two lines",
    b"=?ISO-8859-1?B?Q2Fm6SBtZWV0aW5n?=",
    b"plain subject",
    b"RE: plain subject",
]


def deliver_all(server, mbox, tag):
    c = SMTPConn(server.port)
    c.ehlo("client.petrel.test")
    for i, subj in enumerate(SUBJECTS):
        msg = (b"From: Ann Example <ann%d@remote.test>\r\n" % i +
               b"To: " + mbox.encode() + b"\r\n"
               b"Cc: =?UTF-8?Q?J=C3=BCrgen?= <juergen@remote.test>\r\n"
               b"Subject: " + subj + b"\r\n"
               b"Date: Mon, %d Jan 2024 10:00:00 +0000\r\n" % (i + 1) +
               b"Message-ID: <" + tag.encode() + b"-%d@remote.test>\r\n" % i +
               b"X-Other: field-" + tag.encode() + b"\r\n"
               b"\r\nbody %d\r\n" % i)
        c.send_mail("sender@remote.test", [mbox], msg)
    c.quit()


SEARCHES = [
    ("SUBJECT", "Grüße"),
    ("SUBJECT", "köln"),
    ("SUBJECT", "folded onto"),
    ("SUBJECT", "Café"),
    ("SUBJECT", "plain"),
    ("SUBJECT", "=?UTF-8?Q?"),          # the raw form matches too
    ("FROM", "ann3@"),
    ("FROM", "Ann Example"),
    ("CC", "Jürgen"),
    ("TO", "@example.test"),
    ("HEADER", "X-Other", "field-"),     # not a cached field: read
    ("HEADER", "Message-ID", "-2@"),
    ("SENTON", "3-Jan-2024"),
    ("SENTBEFORE", "3-Jan-2024"),
    ("OR", "SUBJECT", "report", "FROM", "ann4@"),
    ("NOT", "SUBJECT", "plain"),
]


def arg(a):
    b = a.encode()
    if any(c > 127 for c in b) or any(c in b' "=@' for c in b):
        return b"{%d+}\r\n" % len(b) + b     # LITERAL+ (RFC 7888)
    return b


def run_all(r):
    out = []
    for i, args in enumerate(SEARCHES):
        cs = b"CHARSET UTF-8 " if any(ord(ch) > 127 for a in args for ch in a) else b""
        lines, tagged = r.cmd("q%d" % i, b"UID SEARCH " + cs + b" ".join(arg(a) for a in args))
        assert tagged.startswith(b"q%d OK" % i), (args, tagged)
        out.append([l for l in lines if l.startswith(b"* SEARCH")][0].split()[2:])
    return out


def drop_cache(server, mbox, uids):
    """Remove the parse cache records of these INBOX messages."""
    local = mbox.split("@")[0]
    db = sqlite3.connect(os.path.join(server.data_dir, "petrel.db"), timeout=30)
    with db:
        for uid in uids:
            n = db.execute(
                "DELETE FROM blob_meta WHERE blob_id = (SELECT m.blob_id "
                "FROM messages m JOIN folders f ON f.id = m.folder_id "
                "JOIN mailboxes b ON b.id = f.mailbox_id "
                "WHERE f.name = 'INBOX' AND m.uid = ? AND b.local_part = ?)",
                (uid, local)).rowcount
            assert n == 1, (uid, n)
    db.close()


def test_search_same_with_and_without_cache(server):
    mbox = server.new_mailbox("scache")
    tag = unique("sc")
    deliver_all(server, mbox, tag)
    r = Raw(server)
    r.login(mbox)
    r.cmd("s", b"SELECT INBOX")
    with_cache = run_all(r)
    assert with_cache[0] == [b"1"] and with_cache[1] == [b"1"]
    assert with_cache[2] == [b"2"] and with_cache[3] == [b"3"]
    assert with_cache[4] == [b"4", b"5"] and with_cache[6] == [b"4"]
    assert with_cache[8] == [b"1", b"2", b"3", b"4", b"5"]
    assert with_cache[10] == [b"1", b"2", b"3", b"4", b"5"]
    assert with_cache[12] == [b"3"] and with_cache[13] == [b"1", b"2"]
    drop_cache(server, mbox, [2, 4])
    assert run_all(r) == with_cache
    drop_cache(server, mbox, [1, 3, 5])
    assert run_all(r) == with_cache
    r.close()
