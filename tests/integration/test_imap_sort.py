"""test_imap_sort.py - SORT, UID SORT, THREAD and UID THREAD (RFC 5256),
DISPLAYFROM/DISPLAYTO (RFC 5957), ESORT and CONTEXT=SEARCH/CONTEXT=SORT
(RFC 5267) against a real petreld with Python's imaplib and a raw client:
every sort key, REVERSE, tie-breaks, search programs, both threading
algorithms on a crafted set of messages delivered by SMTP (the expected
threads worked out by hand from RFC 5256 2.2, step by step), ESEARCH
results, PARTIAL, UPDATE notifications (ADDTO/REMOVEFROM) as another
session, SMTP and the session itself change the mailbox, CANCELUPDATE,
NOUPDATE, and bad input."""

import imaplib

import pytest

from petreltest import SMTPConn, tls_ctx
from test_imap import PASSWORD, Raw, login, ok


def sort(m, criteria, *search, uid=False):
    if uid:
        typ, data = m.uid("SORT", criteria, "UTF-8", *search)
    else:
        typ, data = m.sort(criteria, "UTF-8", *search)
    assert typ == "OK", data
    return [int(x) for x in data[0].split()] if data[0] else []


def message(frm, to, subject, date=None, cc=None, size=0, extra=b""):
    h = b"From: " + frm + b"\r\nTo: " + to + b"\r\n"
    if cc:
        h += b"Cc: " + cc + b"\r\n"
    h += b"Subject: " + subject + b"\r\n"
    if date:
        h += b"Date: " + date + b"\r\n"
    return h + extra + b"\r\n" + b"x" * size + b"\r\n"


# Five messages whose keys put them in a different order for every key.
# Expected orders (sequence numbers), worked out by hand:
#   ARRIVAL  internal dates 3,1,5,2,4 March          -> 2 4 1 5 3
#   DATE     Date: in UTC; #3 has none (internal)     -> 4 2 5 1 3
#   SIZE     bodies 3000 9000 10 6000 1000            -> 3 5 1 4 2
#   SUBJECT  CHERRY APPLE BANANA DATE "APPLE PIE"     -> 2 5 3 1 4
#   FROM     dave carol erin bob Alice                -> 5 4 2 1 3
#   TO       alice zed bob carol dave                 -> 1 3 4 5 2
#   CC       erin "" alice dave ""                    -> 2 5 3 4 1
#   DISPLAYFROM Yvonne carol@a.test Adam Émile alice  -> 3 5 2 1 4
#   DISPLAYTO   Mallory "bob b" bob@b.test Carl dave@b.test -> 2 3 4 5 1
SORT_SET = [
    (message(b'"Yvonne" <dave@a.test>', b'"Mallory" <alice@b.test>', b"Re: cherry",
             b"Thu, 05 Jan 2023 10:00:00 +0000", cc=b"erin@c.test", size=3000),
     '"03-Mar-2023 12:00:00 +0000"'),
    (message(b"carol@a.test", b'"bob b" <zed@b.test>', b"[list] apple",
             b"Mon, 02 Jan 2023 09:00:00 -0500", size=9000),
     '"01-Mar-2023 12:00:00 +0000"'),
    (message(b'"Adam" <erin@a.test>', b"bob@b.test", b"Fwd: banana (fwd)",
             None, cc=b"alice@c.test", size=10),
     '"05-Mar-2023 00:00:00 +0000"'),
    (message(b"=?UTF-8?Q?=C3=89mile?= <bob@a.test>", b'"Carl" <carol@b.test>',
             b"=?UTF-8?Q?Re=3A_=5BPATCH=5D_Date?=",
             b"Mon, 02 Jan 2023 12:00:00 +0000", cc=b"dave@c.test", size=6000),
     '"02-Mar-2023 12:00:00 +0000"'),
    (message(b'"alice" <Alice@a.test>', b"dave@b.test", b"APPLE pie",
             b"Wed, 04 Jan 2023 08:00:00 +0100", size=1000),
     '"04-Mar-2023 12:00:00 +0000"'),
]


@pytest.fixture(scope="module")
def sorted_box(server):
    """A mailbox with SORT_SET in INBOX; a first message was appended and
    expunged, so every UID is its sequence number + 1."""
    mbox = server.new_mailbox("sort")
    m = login(server, mbox)
    ok(m.append("INBOX", None, None, message(b"x@y.test", b"y@x.test", b"gone")))
    for raw, date in SORT_SET:
        ok(m.append("INBOX", None, date, raw))
    ok(m.select("INBOX"))
    ok(m.store("1", "+FLAGS", "\\Deleted"))
    ok(m.expunge())
    m.logout()
    return mbox


@pytest.fixture
def box(server, sorted_box):
    m = login(server, sorted_box)
    ok(m.select("INBOX"))
    yield m
    m.logout()


def test_capabilities(server, box):
    caps = ok(box.capability())[0].decode().split()
    for c in ("SORT", "SORT=DISPLAY", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES",
              "ESORT", "CONTEXT=SEARCH", "CONTEXT=SORT"):
        assert c in caps, c


@pytest.mark.parametrize("key,expected", [
    ("(ARRIVAL)", [2, 4, 1, 5, 3]),
    ("(DATE)", [4, 2, 5, 1, 3]),
    ("(SIZE)", [3, 5, 1, 4, 2]),
    ("(SUBJECT)", [2, 5, 3, 1, 4]),
    ("(FROM)", [5, 4, 2, 1, 3]),
    ("(TO)", [1, 3, 4, 5, 2]),
    ("(CC)", [2, 5, 3, 4, 1]),
    ("(DISPLAYFROM)", [3, 5, 2, 1, 4]),
    ("(DISPLAYTO)", [2, 3, 4, 5, 1]),
])
def test_every_key_and_its_reverse(box, key, expected):
    assert sort(box, key, "ALL") == expected
    rev = "(REVERSE " + key[1:]
    got = sort(box, rev, "ALL")
    if key == "(CC)":
        # REVERSE reverses the key, not the sequence-number tie-break of
        # the two messages without Cc (RFC 5256 3)
        assert got == [1, 4, 3, 2, 5]
    else:
        assert got == expected[::-1]


def test_keys_are_case_insensitive_and_several_criteria_chain(box):
    assert sort(box, "(reverse size)", "ALL") == [2, 4, 1, 5, 3]
    # CC first; the two without Cc by subject, descending
    assert sort(box, "(CC REVERSE SUBJECT)", "ALL") == [5, 2, 3, 4, 1]
    assert sort(box, "(CC SUBJECT)", "ALL") == [2, 5, 3, 4, 1]


def test_search_program_and_uid_sort(box):
    assert sort(box, "(SUBJECT)", "FROM", "a.test", "NOT", "SUBJECT", "cherry") == [2, 5, 3, 4]
    assert sort(box, "(SUBJECT)", "2:4") == [2, 3, 4]
    assert sort(box, "(DATE)", "ALL", uid=True) == [5, 3, 6, 2, 4]
    assert sort(box, "(REVERSE ARRIVAL)", "UID", "3:5", uid=True) == [4, 5, 3]
    assert sort(box, "(SUBJECT)", "SUBJECT", "nothing-like-this") == []


def test_charset_us_ascii_and_literal_search_string(box):
    typ, data = box.sort("(FROM)", "US-ASCII", "ALL")
    assert typ == "OK" and data[0] == b"5 4 2 1 3"


def esort(r, tag, text):
    lines, tagged = r.cmd(tag, text)
    assert tagged.startswith(tag.encode() + b" OK"), (lines, tagged)
    es = [l for l in lines if l.startswith(b"* ESEARCH")]
    assert len(es) == 1, lines
    assert not any(l.startswith(b"* SORT") for l in lines)
    return es[0].decode()


def test_esort_return_options(server, sorted_box):
    r = Raw(server)
    r.login(sorted_box)
    assert r.cmd("s", b"SELECT INBOX")[1].startswith(b"s OK")
    assert esort(r, "a", b"SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL") == \
        '* ESEARCH (TAG "a") MIN 4 MAX 3 COUNT 5'
    assert esort(r, "b", b"SORT RETURN (ALL) (TO) UTF-8 ALL") == \
        '* ESEARCH (TAG "b") ALL 1,3:5,2'
    assert esort(r, "c", b"SORT RETURN () (ARRIVAL) UTF-8 ALL") == \
        '* ESEARCH (TAG "c") ALL 2,4,1,5,3'
    assert esort(r, "d", b"UID SORT RETURN (COUNT MIN) (SIZE) UTF-8 ALL") == \
        '* ESEARCH (TAG "d") UID MIN 4 COUNT 5'
    assert esort(r, "e", b"SORT RETURN (MIN MAX ALL COUNT) (SIZE) UTF-8 SUBJECT zzz") == \
        '* ESEARCH (TAG "e") COUNT 0'
    lines, tagged = r.cmd("f", b"SORT RETURN (SAVE) (SIZE) UTF-8 ALL")
    assert tagged.startswith(b"f BAD")
    r.close()


@pytest.mark.parametrize("command,reply", [
    (b"SORT (FOO) UTF-8 ALL", b"BAD"),
    (b"SORT () UTF-8 ALL", b"BAD"),
    (b"SORT (REVERSE) UTF-8 ALL", b"BAD"),
    (b"SORT (REVERSE REVERSE DATE) UTF-8 ALL", b"BAD"),
    (b"SORT DATE UTF-8 ALL", b"BAD"),
    (b"SORT (DATE) UTF-8", b"BAD"),
    (b"SORT (DATE)", b"BAD"),
    (b"SORT (DATE) UTF-8 NOSUCHKEY", b"BAD"),
    (b"SORT (DATE) KOI8-R ALL", b"NO [BADCHARSET"),
    (b"UID SORT (DATE) ISO-8859-1 ALL", b"NO [BADCHARSET"),
    (b"THREAD FOO UTF-8 ALL", b"BAD"),
    (b"THREAD REFERENCES UTF-8", b"BAD"),
    (b"THREAD", b"BAD"),
    (b"THREAD ORDEREDSUBJECT KOI8-R ALL", b"NO [BADCHARSET"),
])
def test_bad_input(server, sorted_box, command, reply):
    r = Raw(server)
    r.login(sorted_box)
    assert r.cmd("s", b"SELECT INBOX")[1].startswith(b"s OK")
    lines, tagged = r.cmd("t", command)
    assert tagged.startswith(b"t " + reply), tagged
    assert not any(l.startswith((b"* SORT", b"* THREAD")) for l in lines)
    # the session goes on
    assert r.cmd("u", b"SORT (SIZE) UTF-8 ALL")[0] == [b"* SORT 3 5 1 4 2"]
    r.close()


def test_sort_needs_a_selected_mailbox(server, sorted_box):
    r = Raw(server)
    r.login(sorted_box)
    assert r.cmd("a", b"SORT (DATE) UTF-8 ALL")[1].startswith(b"a BAD")
    assert r.cmd("b", b"THREAD REFERENCES UTF-8 ALL")[1].startswith(b"b BAD")
    r.close()


# ---------------------------------------------------------------- THREAD

def tmsg(mid, subject, date, refs=None, irt=None):
    h = b"From: <a@remote.test>\r\nTo: <b@example.test>\r\n"
    if mid:
        h += b"Message-ID: <" + mid + b">\r\n"
    h += b"Subject: " + subject + b"\r\nDate: " + date + b"\r\n"
    if refs:
        h += b"References: " + b" ".join(b"<" + r + b">" for r in refs) + b"\r\n"
    if irt:
        h += b"In-Reply-To: <" + irt + b">\r\n"
    return h + b"\r\nbody\r\n"


def d(day, hm):
    return b"%s, 0%d Jan 2023 %s:00 +0000" % (
        [b"Sun", b"Mon", b"Tue", b"Wed"][day - 1], day, hm)


# Delivered in this order (sequence numbers 1..13).
THREAD_SET = [
    tmsg(b"a@t", b"Meeting", d(1, b"10:00")),
    tmsg(b"b@t", b"Re: Meeting", d(1, b"11:00"), refs=[b"a@t"]),
    tmsg(b"c@t", b"Re: Meeting", d(1, b"12:00"), refs=[b"a@t", b"b@t"]),
    tmsg(b"d@t", b"Re: Meeting", d(1, b"11:30"), irt=b"a@t"),
    tmsg(b"e@t", b"Lunch", d(1, b"09:00")),
    tmsg(b"f@t", b"Re: Lunch", d(1, b"13:00"), refs=[b"missing@t"]),
    tmsg(b"g@t", b"Re: Lunch", d(1, b"14:00"), refs=[b"missing@t"]),
    tmsg(b"h@t", b"Re: Party", d(1, b"08:00"), refs=[b"gone1@t", b"gone2@t"]),
    tmsg(b"i@t", b"Fwd: Meeting", d(1, b"15:00")),
    tmsg(b"j@t", b"Status", d(2, b"10:00")),
    tmsg(b"k@t", b"Status", d(3, b"10:00")),
    tmsg(None, b"", d(1, b"07:00")),
    tmsg(b"a@t", b"Dup", d(4, b"10:00")),
]

# RFC 5256 2.2 REFERENCES, by hand:
# (1) A=1 <- B=2 <- C=3, A <- D=4 (In-Reply-To), dummy <missing> <- 6, 7,
#     dummy <gone1> <- dummy <gone2> <- 8; 13 repeats <a@t>: its own.
# (2)(3) roots A, 5, <missing>{6,7}, 8 (promoted through both dummies),
#     9, 10, 11, 12, 13.
# (4) by date: 12 8 5 1 <missing> 9 10 11 13.
# (5) LUNCH: the dummy wins over 5, so 5 joins it; MEETING: 9 is a
#     forward of 1, so it becomes 1's child; STATUS: 10 and 11 are both
#     originals, so a new dummy holds both; "" (12) is not grouped.
# (6) siblings by date.
REFERENCES = b"(12)(8)((5)(6)(7))(1 (2 3)(4)(9))((10)(11))(13)"
# ORDEREDSUBJECT: runs of one base subject sorted by date, the first the
# parent of the rest; threads by their first message's date.
ORDEREDSUBJECT = b"(12)(8)(5 (6)(7))(1 (2)(4)(3)(9))(10 11)(13)"


@pytest.fixture(scope="module")
def thread_box(server):
    """THREAD_SET delivered by SMTP after a first message that was then
    expunged: UID = sequence number + 1."""
    mbox = server.new_mailbox("thread")
    c = SMTPConn(server.port)
    c.ehlo("client.petrel.test")
    c.send_mail("a@remote.test", [mbox], tmsg(b"first@t", b"first", d(1, b"00:00")))
    for raw in THREAD_SET:
        c.send_mail("a@remote.test", [mbox], raw)
    c.quit()
    m = login(server, mbox)
    ok(m.select("INBOX"))
    ok(m.store("1", "+FLAGS", "\\Deleted"))
    ok(m.expunge())
    m.logout()
    return mbox


def thread(server, mbox, text):
    r = Raw(server)
    r.login(mbox)
    assert r.cmd("s", b"SELECT INBOX")[1].startswith(b"s OK")
    lines, tagged = r.cmd("t", text)
    r.close()
    assert tagged.startswith(b"t OK"), (lines, tagged)
    th = [l for l in lines if l.startswith(b"* THREAD")]
    assert len(th) == 1, lines
    return th[0][len(b"* THREAD"):].strip()


def uids(threads):
    """The same thread list with every number raised by one."""
    import re
    return re.sub(rb"\d+", lambda m: b"%d" % (int(m.group()) + 1), threads)


def test_thread_references(server, thread_box):
    assert thread(server, thread_box, b"THREAD REFERENCES UTF-8 ALL") == REFERENCES
    assert thread(server, thread_box, b"UID THREAD REFERENCES UTF-8 ALL") == uids(REFERENCES)


def test_thread_orderedsubject(server, thread_box):
    assert thread(server, thread_box, b"THREAD ORDEREDSUBJECT UTF-8 ALL") == ORDEREDSUBJECT
    assert thread(server, thread_box, b"UID THREAD ORDEREDSUBJECT US-ASCII ALL") == \
        uids(ORDEREDSUBJECT)


def test_thread_with_a_search_program(server, thread_box):
    # 5, 6, 7 only: 6 and 7 hang off the missing parent (a dummy with
    # two children stays), and 5 joins that dummy by subject
    assert thread(server, thread_box, b"THREAD REFERENCES UTF-8 SUBJECT lunch") == \
        b"((5)(6)(7))"
    assert thread(server, thread_box, b"THREAD REFERENCES UTF-8 SUBJECT nothing-here") == b""
    # imaplib's own THREAD call
    m = login(server, thread_box)
    ok(m.select("INBOX"))
    typ, data = m.thread("ORDEREDSUBJECT", "UTF-8", "SUBJECT", "status")
    assert typ == "OK" and data == [b"(10 11)"]
    typ, data = m.uid("THREAD", "REFERENCES", "UTF-8", "SUBJECT", "meeting")
    assert typ == "OK" and data == [b"(2 (3 4)(5)(10))"]
    m.logout()


def test_sort_on_smtp_delivered_mail(server, thread_box):
    m = login(server, thread_box)
    ok(m.select("INBOX"))
    # base subjects: "" DUP LUNCH*3 MEETING*5 PARTY STATUS*2, ties by seq
    assert sort(m, "(SUBJECT)", "ALL") == [12, 13, 5, 6, 7, 1, 2, 3, 4, 9, 8, 10, 11]
    assert sort(m, "(DATE)", "ALL") == [12, 8, 5, 1, 2, 4, 3, 6, 7, 9, 10, 11, 13]
    m.logout()


# ---------------------------------------------------------------- CONTEXT

def raw_select(server, mbox):
    r = Raw(server)
    r.login(mbox)
    assert r.cmd("s", b"SELECT INBOX")[1].startswith(b"s OK")
    return r


def ok_lines(r, tag, text):
    lines, tagged = r.cmd(tag, text)
    assert tagged.startswith(tag.encode() + b" OK"), (lines, tagged)
    return [l for l in lines if not l.startswith(b"* OK")]


def deliver_subjects(server, mbox, subjects):
    c = SMTPConn(server.port)
    c.ehlo("client.petrel.test")
    for s in subjects:
        c.send_mail("a@remote.test", [mbox], tmsg(None, s, d(1, b"10:00")))
    c.quit()


def test_partial_results(server, sorted_box):
    r = raw_select(server, sorted_box)
    assert ok_lines(r, "a", b"SEARCH RETURN (PARTIAL 2:3) ALL") == \
        [b'* ESEARCH (TAG "a") PARTIAL (2:3 2:3)']
    # UIDs are 2..6; the 4th and 5th results
    assert ok_lines(r, "b", b"UID SEARCH RETURN (PARTIAL 4:10) ALL") == \
        [b'* ESEARCH (TAG "b") UID PARTIAL (4:10 5:6)']
    # a reversed range is the same range; past the end is NIL
    assert ok_lines(r, "c", b"SEARCH RETURN (PARTIAL 9:7 COUNT) ALL") == \
        [b'* ESEARCH (TAG "c") COUNT 5 PARTIAL (7:9 NIL)']
    assert ok_lines(r, "d", b"SORT RETURN (PARTIAL 1:3) (ARRIVAL) UTF-8 ALL") == \
        [b'* ESEARCH (TAG "d") PARTIAL (1:3 2,4,1)']
    assert ok_lines(r, "e", b"SORT RETURN (COUNT PARTIAL 2:4) (TO) UTF-8 ALL") == \
        [b'* ESEARCH (TAG "e") COUNT 5 PARTIAL (2:4 3:5)']
    assert ok_lines(r, "f", b"UID SORT RETURN (CONTEXT PARTIAL 5:5) (DATE) UTF-8 ALL") == \
        [b'* ESEARCH (TAG "f") UID PARTIAL (5:5 4)']
    for bad in (b"SEARCH RETURN (PARTIAL 0:5) ALL", b"SEARCH RETURN (PARTIAL 1:*) ALL",
                b"SEARCH RETURN (PARTIAL 1:2 ALL) ALL", b"SEARCH RETURN (PARTIAL) ALL",
                b"SEARCH RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL",
                b"SORT RETURN (PARTIAL 1) (DATE) UTF-8 ALL",
                b"SORT RETURN (ALL PARTIAL 1:2) (DATE) UTF-8 ALL"):
        assert r.cmd("x", bad)[1].startswith(b"x BAD"), bad
    r.close()


def test_search_update_notifications(server):
    mbox = server.new_mailbox("ctx")
    deliver_subjects(server, mbox, [b"one", b"two", b"three"])
    a = raw_select(server, mbox)
    b = login(server, mbox)
    ok(b.select("INBOX"))
    assert ok_lines(a, "a1", b"SEARCH RETURN (UPDATE) UNSEEN") == \
        [b'* ESEARCH (TAG "a1") ALL 1:3']
    # tag reuse while the context lives is BAD (RFC 5267 4.3)
    assert a.cmd("a1", b"SEARCH RETURN (UPDATE) ALL")[1].startswith(b"a1 BAD")
    # another session's STORE: the message leaves the result
    ok(b.store("2", "+FLAGS", "(\\Seen)"))
    lines = ok_lines(a, "n1", b"NOOP")
    assert lines[-1] == b'* ESEARCH (TAG "a1") REMOVEFROM (0 2)', lines
    # a delivery: ADDTO after EXISTS
    deliver_subjects(server, mbox, [b"four"])
    lines = ok_lines(a, "n2", b"NOOP")
    assert lines == [b"* 4 EXISTS", b'* ESEARCH (TAG "a1") ADDTO (0 4)'], lines
    # an expunge: REMOVEFROM while the number is still valid, then EXPUNGE
    ok(b.store("1", "+FLAGS", "(\\Deleted)"))
    ok(b.expunge())
    lines = ok_lines(a, "n3", b"NOOP")
    assert lines[-2:] == [b'* ESEARCH (TAG "a1") REMOVEFROM (0 1)', b"* 1 EXPUNGE"], lines
    # now: seq 1 = uid 2 (seen), seq 2 = uid 3, seq 3 = uid 4
    # a UID context next to it
    assert ok_lines(a, "a2", b"UID SEARCH RETURN (UPDATE COUNT) UNSEEN") == \
        [b'* ESEARCH (TAG "a2") UID COUNT 2']
    # the session's own STORE is told before its tagged reply
    lines = ok_lines(a, "s1", b"STORE 2 +FLAGS (\\Seen)")
    assert lines[0].startswith(b"* 2 FETCH") and lines[1:] == [
        b'* ESEARCH (TAG "a1") REMOVEFROM (0 2)',
        b'* ESEARCH (TAG "a2") UID REMOVEFROM (0 3)'], lines
    ok(b.uid("STORE", "3", "-FLAGS", "(\\Seen)"))
    lines = ok_lines(a, "n4", b"NOOP")
    assert lines[1:] == [b'* ESEARCH (TAG "a1") ADDTO (0 2)',
                         b'* ESEARCH (TAG "a2") UID ADDTO (0 3)'], lines
    # CANCELUPDATE: unknown tags are NO, known ones stop
    assert a.cmd("c0", b'CANCELUPDATE "zz"')[1].startswith(b"c0 NO")
    assert a.cmd("c1", b"CANCELUPDATE")[1].startswith(b"c1 BAD")
    ok_lines(a, "c2", b'CANCELUPDATE "a1" "a2"')
    ok(b.uid("STORE", "4", "+FLAGS", "(\\Seen)"))
    lines = ok_lines(a, "n5", b"NOOP")
    assert not any(l.startswith(b"* ESEARCH") for l in lines), lines
    # the tag is free again
    assert ok_lines(a, "a1", b"SEARCH RETURN (UPDATE MIN) UNSEEN") == \
        [b'* ESEARCH (TAG "a1") MIN 2']
    a.close()
    b.logout()


def test_sort_update_positions(server):
    mbox = server.new_mailbox("ctxsort")
    deliver_subjects(server, mbox, [b"b", b"d"])
    a = raw_select(server, mbox)
    b = login(server, mbox)
    ok(b.select("INBOX"))
    assert ok_lines(a, "u1", b"UID SORT RETURN (UPDATE) (SUBJECT) UTF-8 UNDELETED") == \
        [b'* ESEARCH (TAG "u1") UID ALL 1:2']
    assert ok_lines(a, "u2", b"SORT RETURN (UPDATE COUNT) (REVERSE SUBJECT) UTF-8 ALL") == \
        [b'* ESEARCH (TAG "u2") COUNT 2']
    deliver_subjects(server, mbox, [b"c"])
    lines = ok_lines(a, "n1", b"NOOP")
    # u1: b c d; u2 (reverse): d c b
    assert lines == [b"* 3 EXISTS", b'* ESEARCH (TAG "u1") UID ADDTO (2 3)',
                     b'* ESEARCH (TAG "u2") ADDTO (2 3)'], lines
    deliver_subjects(server, mbox, [b"a", b"e"])
    lines = ok_lines(a, "n2", b"NOOP")
    # each pair applies in turn: a first, then e after b c d
    assert lines == [b"* 5 EXISTS", b'* ESEARCH (TAG "u1") UID ADDTO (1 4 5 5)',
                     b'* ESEARCH (TAG "u2") ADDTO (4 4 1 5)'], lines
    # u1 is a b c d e, u2 is e d c b a
    ok(b.uid("STORE", "2", "+FLAGS", "(\\Deleted)"))
    lines = ok_lines(a, "n3", b"NOOP")
    assert lines[1:] == [b'* ESEARCH (TAG "u1") UID REMOVEFROM (4 2)'], lines
    ok(b.expunge())
    lines = ok_lines(a, "n4", b"NOOP")
    # u1 no longer holds it; u2 (ALL) loses d, at position 2, as seq 2
    assert lines == [b'* ESEARCH (TAG "u2") REMOVEFROM (2 2)', b"* 2 EXPUNGE"], lines
    assert ok_lines(a, "c", b"SORT (SUBJECT) UTF-8 ALL") == [b"* SORT 3 1 2 4"]
    a.close()
    b.logout()


def test_update_refused_and_limits(server, sorted_box):
    r = raw_select(server, sorted_box)
    # sequence numbers in the program: answered, but no updates
    lines = ok_lines(r, "x", b"SEARCH RETURN (UPDATE) 1:3")
    assert lines[0] == b'* ESEARCH (TAG "x") ALL 1:3' and \
        lines[1].startswith(b'* NO [NOUPDATE "x"]'), lines
    assert r.cmd("y", b'CANCELUPDATE "x"')[1].startswith(b"y NO")
    for i in range(8):
        assert ok_lines(r, "k%d" % i, b"UID SEARCH RETURN (UPDATE COUNT) ALL") == \
            [b'* ESEARCH (TAG "k%d") UID COUNT 5' % i]
    lines = ok_lines(r, "k8", b"SORT RETURN (UPDATE COUNT) (DATE) UTF-8 ALL")
    assert lines[0] == b'* ESEARCH (TAG "k8") COUNT 5' and \
        lines[1].startswith(b'* NO [NOUPDATE "k8"]'), lines
    # closing the mailbox ends them all
    ok_lines(r, "s2", b"SELECT INBOX")
    assert r.cmd("z", b'CANCELUPDATE "k0"')[1].startswith(b"z NO")
    assert ok_lines(r, "k9", b"UID SEARCH RETURN (UPDATE COUNT) ALL") == \
        [b'* ESEARCH (TAG "k9") UID COUNT 5']
    r.close()


def test_update_during_idle(server):
    mbox = server.new_mailbox("ctxidle")
    deliver_subjects(server, mbox, [b"x", b"y"])
    a = raw_select(server, mbox)
    assert ok_lines(a, "a", b"UID SEARCH RETURN (UPDATE) FLAGGED") == \
        [b'* ESEARCH (TAG "a") UID']
    a.send(b"i IDLE\r\n")
    assert a.line().startswith(b"+ ")
    b = login(server, mbox)
    ok(b.select("INBOX"))
    ok(b.store("2", "+FLAGS", "(\\Flagged)"))
    assert a.line(timeout=10).startswith(b"* 2 FETCH")
    assert a.line(timeout=10) == b'* ESEARCH (TAG "a") UID ADDTO (0 2)'
    a.send(b"DONE\r\n")
    assert a.line().startswith(b"i OK")
    a.close()
    b.logout()
