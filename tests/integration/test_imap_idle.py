"""test_imap_idle.py - what an idling session is told, exactly.

An IDLE session keeps only the UIDs it has told the client (as runs) and
the modseq up to which it has told every change (src/imap/imap_compact.c).
These tests give it a folder with gaps in its UIDs, change it from another
session and by SMTP while it idles, and check every pushed line's
sequence number, then that after DONE the session's view (FETCH, SEARCH)
is the folder's: with EXPUNGE and with QRESYNC's VANISHED, with keywords,
and across several IDLE rounds."""

import os
import re

from petreltest import unique
from test_imap import Raw, deliver, login, ok


def folder_with_gaps(server, tag):
    """A mailbox whose INBOX holds UIDs 1 2 5 6 8 9 10 (3, 4, 7 expunged)."""
    mbox = server.new_mailbox(tag)
    deliver(server, mbox, 10, unique(tag))
    b = login(server, mbox)
    ok(b.select("INBOX"))
    ok(b.uid("STORE", "3,4,7", "+FLAGS.SILENT", "(\\Deleted)"))
    ok(b.expunge())
    return mbox, b


def pushed(r, n):
    """The next n pushed lines, past the FETCHes that tell \\Deleted being
    set (the other session's STORE before its EXPUNGE)."""
    out = []
    while len(out) < n:
        l = r.line(timeout=5)
        if not (b" FETCH " in l and b"\\Deleted" in l):
            out.append(l)
    return out


def uid_flags(r, tag):
    lines, tagged = r.cmd(tag, b"FETCH 1:* (UID FLAGS)")
    assert tagged.startswith(tag.encode() + b" OK"), tagged
    out = []
    for l in lines:
        m = re.match(rb"\* (\d+) FETCH \(UID (\d+) FLAGS \(([^)]*)\)", l)
        if m:
            out.append((int(m.group(1)), int(m.group(2)), m.group(3).decode()))
    return out


def test_idle_pushes_numbered_against_gapped_uids(server):
    mbox, b = folder_with_gaps(server, "idg")
    r = Raw(server)
    r.login(mbox)
    lines, _ = r.cmd("s", b"SELECT INBOX")
    assert b"* 7 EXISTS" in lines
    r.send(b"i IDLE\r\n")
    assert r.line().startswith(b"+ ")
    # UID 8 is message 5
    ok(b.uid("STORE", "8", "+FLAGS", "(\\Flagged)"))
    assert re.match(rb"\* 5 FETCH \(UID 8 FLAGS \(\\Flagged\)\)$", r.line(timeout=5))
    # expunge UIDs 5 and 9: messages 3, then 6 - 1 = 5
    ok(b.uid("STORE", "5,9", "+FLAGS.SILENT", "(\\Deleted)"))
    ok(b.expunge())
    got = pushed(r, 2)
    assert got == [b"* 3 EXPUNGE", b"* 5 EXPUNGE"], got
    deliver(server, mbox, 2, unique("idg2"))
    l = r.line(timeout=5)
    if l != b"* 7 EXISTS":       # two deliveries may be told one at a time
        assert l == b"* 6 EXISTS", l
        assert r.line(timeout=5) == b"* 7 EXISTS"
    # the flag change of UID 1 is numbered 1
    ok(b.uid("STORE", "1", "+FLAGS", "(\\Seen)"))
    assert re.match(rb"\* 1 FETCH \(UID 1 FLAGS \(\\Seen\)\)$", r.line(timeout=5))
    r.send(b"DONE\r\n")
    lines, tagged = r.until("i")
    assert tagged.startswith(b"i OK"), tagged
    view = uid_flags(r, "f")
    assert [u for _, u, _ in view] == [1, 2, 6, 8, 10, 11, 12]
    assert [m for m, _, _ in view] == list(range(1, 8))
    flags = {u: f for _, u, f in view}
    assert flags[1] == "\\Seen" and flags[8] == "\\Flagged" and flags[2] == ""
    lines, _ = r.cmd("q", b"UID SEARCH FLAGGED")
    assert lines == [b"* SEARCH 8"]
    # a second round starts from what the first told
    r.send(b"j IDLE\r\n")
    assert r.line().startswith(b"+ ")
    ok(b.uid("STORE", "12", "+FLAGS.SILENT", "(\\Deleted)"))
    ok(b.expunge())
    assert pushed(r, 1) == [b"* 7 EXPUNGE"]
    r.send(b"DONE\r\n")
    assert r.until("j")[1].startswith(b"j OK")
    lines, _ = r.cmd("n", b"NOOP")
    assert lines == []
    assert [u for _, u, _ in uid_flags(r, "g")] == [1, 2, 6, 8, 10, 11]
    b.logout()
    r.close()


def test_idle_qresync_vanished_and_modseq(server):
    mbox, b = folder_with_gaps(server, "idq")
    r = Raw(server)
    r.login(mbox)
    assert r.cmd("e", b"ENABLE QRESYNC")[0] == [b"* ENABLED QRESYNC"]
    lines, _ = r.cmd("s", b"SELECT INBOX")
    r.send(b"i IDLE\r\n")
    assert r.line().startswith(b"+ ")
    ok(b.uid("STORE", "2,6,10", "+FLAGS.SILENT", "(\\Deleted)"))
    ok(b.expunge())
    assert pushed(r, 1) == [b"* VANISHED 2,6,10"]
    ok(b.uid("STORE", "9", "+FLAGS", "(\\Answered)"))
    m = re.match(rb"\* (\d+) FETCH \(UID 9 FLAGS \(\\Answered\) MODSEQ \((\d+)\)\)$",
                 r.line(timeout=5))
    assert m and int(m.group(1)) == 4, m    # left: 1 5 8 9
    modseq = int(m.group(2))
    r.send(b"DONE\r\n")
    assert r.until("i")[1].startswith(b"i OK")
    lines, _ = r.cmd("f", b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % (modseq - 1))
    assert len(lines) == 1 and b"UID 9 " in lines[0], lines
    assert [u for _, u, _ in uid_flags(r, "g")] == [1, 5, 8, 9]
    b.logout()
    r.close()


def test_idle_keyword_pushed_with_its_name(server):
    mbox, b = folder_with_gaps(server, "idk")
    r = Raw(server)
    r.login(mbox)
    r.cmd("s", b"SELECT INBOX")
    r.send(b"i IDLE\r\n")
    assert r.line().startswith(b"+ ")
    ok(b.uid("STORE", "10", "+FLAGS", "(Project-X)"))
    assert re.match(rb"\* 7 FETCH \(UID 10 FLAGS \(Project-X\)\)$", r.line(timeout=5))
    r.send(b"DONE\r\n")
    assert r.until("i")[1].startswith(b"i OK")
    lines, _ = r.cmd("f", b"UID SEARCH KEYWORD Project-X")
    assert lines == [b"* SEARCH 10"]
    b.logout()
    r.close()


def test_changes_between_push_and_done_are_told(server):
    """A change committed right before DONE reaches the client either
    pushed or before the tagged OK, never lost."""
    mbox, b = folder_with_gaps(server, "idd")
    r = Raw(server)
    r.login(mbox)
    r.cmd("s", b"SELECT INBOX")
    for round_ in range(5):
        r.send(b"i IDLE\r\n")
        assert r.line().startswith(b"+ ")
        ok(b.uid("STORE", "1", "FLAGS.SILENT" if round_ % 2 else "+FLAGS.SILENT",
                 "(\\Seen)" if round_ % 2 else "(\\Draft)"))
        r.send(b"DONE\r\n")
        lines, tagged = r.until("i")
        assert tagged.startswith(b"i OK")
        assert any(l.startswith(b"* 1 FETCH (UID 1 FLAGS") for l in lines), lines
        want = "\\Seen" if round_ % 2 else "\\Draft"
        assert want in uid_flags(r, "f")[0][2]
    b.logout()
    r.close()


def test_idle_view_matches_folder_after_random_changes(server):
    """Another session and SMTP change the folder at random while this one
    idles; the pushed EXPUNGE/EXISTS/FETCH lines, applied to the UID list
    the client knew, give exactly the folder's UIDs at every DONE.
    PETREL_TEST_SEED picks another sequence of changes."""
    import random
    rnd = random.Random(int(os.environ.get("PETREL_TEST_SEED", "20261126")))
    mbox, b = folder_with_gaps(server, "idr")
    r = Raw(server)
    r.login(mbox)
    r.cmd("s", b"SELECT INBOX")
    model = [u for _, u, _ in uid_flags(r, "f0")]

    def apply(line):
        m = re.match(rb"\* (\d+) EXPUNGE$", line)
        if m:
            del model[int(m.group(1)) - 1]
            return
        m = re.match(rb"\* (\d+) EXISTS$", line)
        if m:
            n = int(m.group(1))
            assert n >= len(model), (line, len(model))
            model.extend([None] * (n - len(model)))
            return
        m = re.match(rb"\* (\d+) FETCH \(UID (\d+) FLAGS", line)
        if m:
            msn, uid = int(m.group(1)), int(m.group(2))
            assert msn <= len(model), (line, len(model))
            if model[msn - 1] is None:
                model[msn - 1] = uid
            assert model[msn - 1] == uid, (line, model)
            return
        raise AssertionError("unexpected push %r" % line)

    for round_ in range(6):
        r.send(b"i IDLE\r\n")
        assert r.line().startswith(b"+ ")
        for _ in range(6):
            typ, data = b.uid("SEARCH", "ALL")
            uids = [int(x) for x in data[0].split()]
            op = rnd.choice(["flag", "flag", "expunge", "deliver"])
            if op == "flag" and uids:
                ok(b.uid("STORE", str(rnd.choice(uids)), "+FLAGS", "(\\Flagged)"
                         if rnd.random() < 0.5 else "(\\Answered)"))
            elif op == "expunge" and len(uids) > 2:
                gone = rnd.sample(uids, rnd.randint(1, 2))
                ok(b.uid("STORE", ",".join(map(str, gone)), "+FLAGS.SILENT", "(\\Deleted)"))
                ok(b.expunge())
            else:
                deliver(server, mbox, rnd.randint(1, 2), unique("idr%d" % round_))
        r.send(b"DONE\r\n")
        while True:
            l = r.line(timeout=10)
            if l.startswith(b"i "):
                assert l.startswith(b"i OK"), l
                break
            apply(l)
        view = [u for _, u, _ in uid_flags(r, "v%d" % round_)]
        assert len(view) == len(model), (view, model)
        assert all(m is None or m == v for m, v in zip(model, view)), (view, model)
        model[:] = view
        ok(b.noop())        # b hears of the deliveries before it searches
        typ, data = b.uid("SEARCH", "ALL")
        assert view == [int(x) for x in data[0].split()]
    b.logout()
    r.close()
