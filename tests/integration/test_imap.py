"""test_imap.py - IMAP (RFC 3501 and the extensions petrel advertises)
against a real petreld with Python's imaplib, curl and raw sockets:
greeting and CAPABILITY, STARTTLS before LOGIN (LOGINDISABLED), LOGIN and
AUTHENTICATE PLAIN, LIST/LSUB/STATUS/CREATE/DELETE/RENAME/SUBSCRIBE,
SELECT/EXAMINE, FETCH of every item (bytes identical to `petrelctl message
cat`), STORE, COPY, MOVE, EXPUNGE, APPEND, SEARCH, IDLE and NOOP
notifications across two sessions and SMTP deliveries, and bad input."""

import base64
import imaplib
import re
import select
import socket
import subprocess
import threading
import time

import pytest

from petreltest import SMTPConn, make_message, run_fetchmail, tls_ctx, unique

PASSWORD = "Secret-pass-123"        # petreltest.add_mailbox's password


def deliver(server, mbox, n, tag, body=None):
    markers = []
    c = SMTPConn(server.port)
    c.ehlo("client.petrel.test")
    for i in range(n):
        marker = "%s-%d" % (tag, i)
        c.send_mail("sender@remote.test", [mbox], make_message(marker, to=mbox, body=body))
        markers.append(marker)
    c.quit()
    return markers


def login(server, mbox, implicit=True):
    if implicit:
        m = imaplib.IMAP4_SSL("127.0.0.1", server.imaps_port, ssl_context=tls_ctx(), timeout=20)
    else:
        m = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=20)
        m.starttls(tls_ctx())
    m.login(mbox, PASSWORD)
    return m


def ok(res):
    typ, data = res
    assert typ == "OK", data
    return data


class Raw:
    """A raw IMAP client over TLS, line by line, for exact responses."""

    def __init__(self, server, implicit=True):
        s = socket.create_connection(("127.0.0.1", server.imaps_port if implicit
                                      else server.imap_port), timeout=20)
        self.sock = tls_ctx().wrap_socket(s) if implicit else s
        self.buf = b""
        self.greeting = self.line()

    def send(self, data):
        self.sock.sendall(data)

    def line(self, timeout=20):
        self.sock.settimeout(timeout)
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError(self.buf)
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def cmd(self, tag, text):
        """Send and return (untagged lines, tagged line)."""
        self.send(tag.encode() + b" " + text + b"\r\n")
        return self.until(tag)

    def until(self, tag):
        lines = []
        while True:
            l = self.line()
            if l.startswith(tag.encode() + b" "):
                return lines, l
            lines.append(l)

    def login(self, mbox):
        return self.cmd("L", b"LOGIN " + mbox.encode() + b" " + PASSWORD.encode())

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------- session

def test_greeting_capability_and_starttls(server):
    m = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=20)
    assert m.welcome.startswith(b"* OK [CAPABILITY IMAP4rev1")
    caps = m.capabilities
    assert "STARTTLS" in caps and "LOGINDISABLED" in caps and "AUTH=PLAIN" not in caps
    mbox = server.new_mailbox("cap")
    with pytest.raises(imaplib.IMAP4.error) as e:
        m.login(mbox, PASSWORD)
    assert "PRIVACYREQUIRED" in str(e.value)
    m.starttls(tls_ctx())
    caps = m.capabilities
    assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps and "AUTH=PLAIN" in caps
    typ, data = m.login(mbox, PASSWORD)
    assert typ == "OK" and b"CAPABILITY" in data[0]
    typ, data = m.capability()
    caps = data[0].decode().split()
    for c in ("IDLE", "UIDPLUS", "MOVE", "NAMESPACE", "SPECIAL-USE", "UNSELECT",
              "CHILDREN", "LIST-EXTENDED", "LIST-STATUS", "CONDSTORE", "ESEARCH",
              "STATUS=SIZE", "ENABLE", "ID", "LITERAL+", "SASL-IR"):
        assert c in caps, c
    assert any(c.startswith("APPENDLIMIT=") for c in caps)
    ok(m.noop())
    assert m.logout()[0] == "BYE"


def test_starttls_drops_pipelined_plaintext(server):
    r = Raw(server, implicit=False)
    r.send(b"a STARTTLS\r\nb CAPABILITY\r\n")
    assert r.line().startswith(b"a OK")
    r.sock = tls_ctx().wrap_socket(r.sock)
    lines, tagged = r.cmd("c", b"NOOP")
    assert tagged.startswith(b"c OK") and not any(l.startswith(b"b ") for l in lines)
    r.close()


def test_authenticate_plain_both_forms_and_failures(server):
    mbox = server.new_mailbox("auth")
    cred = base64.b64encode(b"\0" + mbox.encode() + b"\0" + PASSWORD.encode())
    r = Raw(server)
    lines, tagged = r.cmd("a", b"AUTHENTICATE PLAIN " + cred)
    assert tagged.startswith(b"a OK"), tagged
    r.close()
    r = Raw(server)
    r.send(b"a AUTHENTICATE PLAIN\r\n")
    assert r.line() == b"+ "
    r.send(cred + b"\r\n")
    lines, tagged = r.until("a")
    assert tagged.startswith(b"a OK")
    r.close()
    r = Raw(server)
    r.send(b"a AUTHENTICATE PLAIN\r\n")
    assert r.line() == b"+ "
    r.send(b"*\r\n")
    assert r.until("a")[1].startswith(b"a BAD")
    t0 = time.time()
    lines, tagged = r.cmd("b", b"LOGIN " + mbox.encode() + b" wrong")
    assert tagged.startswith(b"b NO [AUTHENTICATIONFAILED]") and time.time() - t0 >= 0.9
    r.cmd("c", b"LOGIN " + mbox.encode() + b" wrong")
    r.send(b"d LOGIN " + mbox.encode() + b" wrong\r\n")
    lines, tagged = r.until("d")
    assert tagged.startswith(b"d NO")
    assert r.line().startswith(b"* BYE")
    r.close()


def test_commands_need_the_right_state(server):
    r = Raw(server)
    assert r.cmd("a", b"SELECT INBOX")[1].startswith(b"a BAD")
    assert r.cmd("b", b"FOO")[1].startswith(b"b BAD")
    r.login(server.new_mailbox("state"))
    assert r.cmd("c", b"FETCH 1 FLAGS")[1].startswith(b"c BAD")
    assert r.cmd("d", b"LOGIN x y")[1].startswith(b"d BAD")
    assert r.cmd("e", b"ID NIL")[0][0].startswith(b'* ID ("name" "petrel")')
    lines, tagged = r.cmd("f", b"ENABLE CONDSTORE")
    assert lines == [b"* ENABLED CONDSTORE"]
    r.close()


# ---------------------------------------------------------------- mailboxes

def test_list_lsub_namespace_special_use(server):
    m = login(server, server.new_mailbox("list"))
    data = ok(m.list())
    names = {}
    for l in data:
        mo = re.match(rb'\(([^)]*)\) "/" "?([^"]*)"?', l)
        names[mo.group(2).decode()] = mo.group(1).decode().split()
    assert set(names) == {"INBOX", "Sent", "Drafts", "Junk", "Trash", "Archive"}
    assert "\\Sent" in names["Sent"] and "\\Trash" in names["Trash"]
    assert all("\\HasNoChildren" in a for a in names.values())
    ok(m.create("Work/Projects/2026"))
    data = ok(m.list('""', "Work/%"))
    assert data == [b'(\\HasChildren) "/" "Work/Projects"']
    data = ok(m.list('""', "Work*"))
    assert len(data) == 3
    data = ok(m.list('""', "%"))
    assert b'(\\HasChildren) "/" "Work"' in data and not any(b"Projects" in l for l in data)
    assert ok(m.list('""', '""')) == [b'(\\Noselect) "/" ""']
    typ, data = m._simple_command("LIST", "(SPECIAL-USE)", '""', "*")
    data = m._untagged_response(typ, data, "LIST")[1]
    assert len(data) == 5 and not any(b"INBOX" in l for l in data)
    typ, data = m._simple_command("LIST", '""', "%", "RETURN", "(STATUS (MESSAGES UIDNEXT SIZE))")
    assert typ == "OK"
    st = m.untagged_responses.pop("STATUS")
    assert any(b'"INBOX" (MESSAGES 0 UIDNEXT 1 SIZE 0)' in s for s in st)
    assert ok(m.namespace()) == [b'(("" "/")) NIL NIL']
    ok(m.subscribe("Work"))
    assert b'"Work"' in b" ".join(ok(m.lsub('""', "*")))
    ok(m.unsubscribe("Work"))
    assert b'"Work"' not in b" ".join(ok(m.lsub('""', "*")))
    m.logout()


def test_create_delete_rename_status(server):
    mbox = server.new_mailbox("crud")
    deliver(server, mbox, 2, unique("st"))
    m = login(server, mbox)
    data = ok(m.status("INBOX", "(MESSAGES UNSEEN UIDNEXT UIDVALIDITY SIZE HIGHESTMODSEQ RECENT)"))
    mo = re.search(rb"MESSAGES (\d+) RECENT 0 UIDNEXT (\d+) UIDVALIDITY \d+ UNSEEN (\d+) SIZE (\d+) HIGHESTMODSEQ \d+", data[0])
    assert mo and mo.group(1) == b"2" and mo.group(2) == b"3" and mo.group(3) == b"2"
    assert int(mo.group(4)) == sum(s for _, s in server.message_list(mbox))
    ok(m.create("A"))
    typ, data = m.create("A")
    assert typ == "NO" and b"ALREADYEXISTS" in data[0]
    ok(m.rename("A", "B/C"))
    assert m.status("A", "(MESSAGES)")[0] == "NO"
    ok(m.status("B/C", "(MESSAGES)"))
    ok(m.delete("B/C"))
    typ, data = m.delete("INBOX")
    assert typ == "NO"
    for bad in ("../x", "a/../b", "x/./y", "/abs", "a//b", "a%b", "a*b"):
        typ, data = m.create('"%s"' % bad)
        assert typ == "NO", bad
    typ, data = m.create("\"a\\\"q\"")
    m.logout()


def test_utf7_names(server):
    m = login(server, server.new_mailbox("utf7"))
    ok(m.create("&AMk-t&AOk-"))    # "Été" in modified UTF-7
    assert b'"&AMk-t&AOk-"' in b" ".join(ok(m.list('""', "*")))
    with pytest.raises(imaplib.IMAP4.error):
        m.create("&Jjo!")           # malformed
    m.logout()


# ---------------------------------------------------------------- select, fetch

def test_select_examine_and_fetch_bytes_identical(server):
    mbox = server.new_mailbox("fetch")
    deliver(server, mbox, 3, unique("f"))
    stored = server.messages(mbox)
    m = login(server, mbox)
    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"3"]
    assert m.untagged_responses.get("UIDVALIDITY") and m.untagged_responses.get("HIGHESTMODSEQ")
    for i, want in enumerate(stored, 1):
        typ, data = m.fetch(str(i), "(BODY.PEEK[] RFC822.SIZE UID)")
        assert data[0][1] == want
        assert b"RFC822.SIZE %d" % len(want) in data[0][0]
        typ, data = m.uid("FETCH", str(i), "(RFC822)")
        assert data[0][1] == want
    typ, data = m.fetch("1:*", "(FLAGS)")
    assert all(b"\\Seen" in d for d in data)        # RFC822 set it
    hdr, _, body = stored[0].partition(b"\r\n\r\n")
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER] BODY.PEEK[TEXT] BODY.PEEK[1] BODY.PEEK[]<5.10>)")
    parts = [d for d in data[0] if isinstance(d, bytes)]
    got = data[0]
    assert got[1] == hdr + b"\r\n\r\n"
    assert data[1][1] == body
    assert data[2][1] == body
    assert data[3][1] == stored[0][5:15] and b"BODY[]<5>" in data[3][0]
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (Subject FROM)])")
    assert data[0][1].startswith(b"From:") or data[0][1].startswith(b"Subject:")
    assert data[0][1].count(b"\r\n") == 3 and data[0][1].endswith(b"\r\n\r\n")
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS.NOT (Subject)])")
    assert b"Subject:" not in data[0][1] and b"From:" in data[0][1]
    typ, data = m.fetch("2", "(ENVELOPE BODYSTRUCTURE BODY INTERNALDATE MODSEQ)")
    text = data[0]
    assert b'ENVELOPE (' in text and b'BODYSTRUCTURE ("text" "plain"' in text
    assert re.search(rb'INTERNALDATE "\d\d-\w\w\w-\d{4} \d\d:\d\d:\d\d \+0000"', text)
    assert re.search(rb"MODSEQ \(\d+\)", text)
    typ, data = m.fetch("1", "(RFC822.HEADER RFC822.TEXT)")
    assert data[0][1] == hdr + b"\r\n\r\n" and data[1][1] == body
    typ, data = m.fetch("1", "(BINARY.PEEK[1] BINARY.SIZE[1])")
    assert data[0][1] == body
    with pytest.raises(imaplib.IMAP4.error):
        m.fetch("5", "FLAGS")
    ok(m.close())
    typ, data = m.select("INBOX", readonly=True)
    assert typ == "OK"
    typ, data = m.store("1", "+FLAGS", "\\Flagged")
    assert typ == "NO"
    m.logout()


MULTIPART = (b"From: a@remote.test\r\nTo: b@example.test\r\nSubject: parts\r\n"
             b"MIME-Version: 1.0\r\n"
             b"Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
             b"preamble\r\n"
             b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello text\r\n"
             b"--XX\r\nContent-Type: application/octet-stream\r\n"
             b"Content-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgc=\r\n"
             b"--XX\r\nContent-Type: message/rfc822\r\n\r\n"
             b"Subject: inner\r\nFrom: c@remote.test\r\n\r\ninner body\r\n"
             b"--XX--\r\n")


def test_fetch_sections_of_multipart(server):
    mbox = server.new_mailbox("mp")
    m = login(server, mbox)
    ok(m.append("INBOX", None, None, MULTIPART))
    m.select("INBOX")
    typ, data = m.fetch("1", "(BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[2.MIME] BODY.PEEK[3] "
                        "BODY.PEEK[3.HEADER] BODY.PEEK[3.TEXT] BINARY.PEEK[2] BINARY.SIZE[2] "
                        "BODY.PEEK[4] BODYSTRUCTURE)")
    items = [d for d in data if isinstance(d, tuple)]
    got = {re.search(rb"(BODY|BINARY)\[[^\]]*\]", i[0]).group(0): i[1] for i in items}
    assert got[b"BODY[1]"] == b"hello text"
    assert got[b"BODY[2]"] == b"AAECAwQFBgc="
    assert got[b"BODY[2.MIME]"].startswith(b"Content-Type: application/octet-stream\r\n")
    assert got[b"BODY[3]"] == b"Subject: inner\r\nFrom: c@remote.test\r\n\r\ninner body"
    assert got[b"BODY[3.HEADER]"] == b"Subject: inner\r\nFrom: c@remote.test\r\n\r\n"
    assert got[b"BODY[3.TEXT]"] == b"inner body"
    assert got[b"BINARY[2]"] == bytes(range(8))
    tail = b" ".join(d if isinstance(d, bytes) else d[0] for d in data)
    assert b"BINARY.SIZE[2] 8" in tail and b"BODY[4] NIL" in tail
    assert b'BODYSTRUCTURE (("text" "plain"' in tail and b'"mixed"' in tail
    m.logout()


def test_fetch_many_messages_streamed(server):
    mbox = server.new_mailbox("big")
    big = b"x" * 998 + b"\r\n"
    deliver(server, mbox, 1, unique("big"), body=big * 300)         # ~300 KB
    deliver(server, mbox, 40, unique("many"))
    stored = server.messages(mbox)
    m = login(server, mbox)
    m.select("INBOX", readonly=True)
    typ, data = m.fetch("1:*", "(BODY.PEEK[])")
    got = [d[1] for d in data if isinstance(d, tuple)]
    assert got == stored
    m.logout()


def test_curl_fetch(server):
    mbox = server.new_mailbox("curl")
    deliver(server, mbox, 1, unique("curl"))
    want = server.messages(mbox)[0]
    p = subprocess.run(["curl", "-sk", "--max-time", "20",
                        "imaps://127.0.0.1:%d/INBOX;UID=1" % server.imaps_port,
                        "-u", "%s:%s" % (mbox, PASSWORD)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout == want


# ---------------------------------------------------------------- changes

def test_store_copy_move_expunge_append(server):
    mbox = server.new_mailbox("chg")
    deliver(server, mbox, 4, unique("c"))
    m = login(server, mbox)
    m.select("INBOX")
    m.untagged_responses.clear()
    typ, data = m.store("1:2", "+FLAGS", "(\\Flagged $Important)")
    assert typ == "OK" and b"\\Flagged" in data[0] and b"$Important" in data[0]
    typ, data = m.uid("STORE", "3", "FLAGS.SILENT", "(\\Answered)")
    assert typ == "OK" and data == [None]
    typ, data = m.store("1", "-FLAGS", "(\\Flagged)")
    assert b"\\Flagged" not in data[0]
    typ, data = m.fetch("1:4", "(FLAGS)")
    assert b"$Important" in data[0] and b"\\Answered" in data[2]
    typ, data = m.copy("1:2", "Archive")
    assert typ == "OK" and re.match(rb"\[COPYUID \d+ 1:2 1:2\] COPY completed", data[0]), data
    typ, data = m._simple_command("UID", "COPY", "3", "Trash")
    assert typ == "OK" and b"COPYUID" in data[0]
    typ, data = m._simple_command("UID", "MOVE", "4", "Junk")
    assert typ == "OK"
    assert m.untagged_responses.pop("EXPUNGE", None) == [b"4"]
    assert len(server.message_list(mbox, "Junk")) == 1
    assert len(server.message_list(mbox, "Archive")) == 2
    m.store("1", "+FLAGS", "\\Deleted")
    typ, data = m.expunge()
    assert data == [b"1"]
    typ, data = m.fetch("1:*", "(UID)")
    assert len(data) == 2
    msg = make_message(unique("app"))
    typ, data = m.append("Drafts", "(\\Draft \\Seen)", None, msg)
    assert typ == "OK" and b"APPENDUID" in data[0]
    assert server.messages(mbox, "Drafts") == [msg]
    typ, data = m.append("NoSuch", None, None, msg)
    assert typ == "NO" and b"TRYCREATE" in data[0]
    big = make_message(unique("bigapp"), body=b"y" * 200000 + b"\r\n")
    m.untagged_responses.pop("EXISTS", None)
    typ, data = m.append("INBOX", None, None, big)
    assert typ == "OK"
    # told with APPEND's completion (RFC 9051 5.2)
    assert m.untagged_responses.get("EXISTS") == [b"3"]
    assert server.messages(mbox)[-1] == big
    typ, data = m.uid("EXPUNGE", "1:*")
    assert typ == "OK"
    m.logout()


def test_condstore(server):
    mbox = server.new_mailbox("cs")
    deliver(server, mbox, 2, unique("cs"))
    m = login(server, mbox)
    ok(m._simple_command("ENABLE", "CONDSTORE"))
    m.select("INBOX")
    hms = int(m.untagged_responses["HIGHESTMODSEQ"][0])
    typ, data = m._simple_command("STORE", "1", "(UNCHANGEDSINCE %d)" % hms, "+FLAGS", "(\\Seen)")
    assert typ == "OK"
    typ, data = m._simple_command("STORE", "1:2", "(UNCHANGEDSINCE %d)" % hms, "+FLAGS", "(\\Flagged)")
    assert b"MODIFIED 1" in data[0]
    m.untagged_responses.clear()
    typ, data = m._simple_command("FETCH", "1:*", "(FLAGS)", "(CHANGEDSINCE %d)" % hms)
    d = m.untagged_responses.pop("FETCH")
    assert len(d) == 2
    typ, data = m._simple_command("UID", "SEARCH", "MODSEQ", str(hms + 1))
    assert re.match(rb"1 2 \(MODSEQ \d+\)", m.untagged_responses.pop("SEARCH")[0])
    m.logout()


def test_search(server):
    mbox = server.new_mailbox("search")
    tag = unique("s")
    deliver(server, mbox, 3, tag)
    deliver(server, mbox, 1, unique("other"), body=b"The needle is here, caf\xc3\xa9.\r\n")
    m = login(server, mbox)
    m.select("INBOX")
    m.store("2", "+FLAGS", "(\\Seen)")
    assert ok(m.search(None, "ALL")) == [b"1 2 3 4"]
    assert ok(m.search(None, "SEEN")) == [b"2"]
    assert ok(m.search(None, "UNSEEN")) == [b"1 3 4"]
    assert ok(m.search(None, "SUBJECT", '"%s-1"' % tag)) == [b"2"]
    assert ok(m.search(None, "FROM", "remote.test")) == [b"1 2 3 4"]
    assert ok(m.search(None, "BODY", "needle")) == [b"4"]
    assert ok(m.search(None, "TEXT", "NEEDLE")) == [b"4"]
    assert ok(m.search(None, "NOT", "BODY", "needle")) == [b"1 2 3"]
    assert ok(m.search(None, "OR", "SEEN", "4")) == [b"2 4"]
    assert ok(m.search(None, "2:3")) == [b"2 3"]
    assert ok(m.uid("SEARCH", "UID", "3:*")) == [b"3 4"]
    assert ok(m.search(None, "LARGER", "1")) == [b"1 2 3 4"]
    assert ok(m.search(None, "SINCE", "1-Jan-2000", "BEFORE", "1-Jan-2100")) == [b"1 2 3 4"]
    assert ok(m.search(None, "HEADER", "Message-ID", tag)) == [b"1 2 3"]
    assert ok(m.search("UTF-8", "BODY", "needle")) == [b"4"]
    typ, data = m.search("KOI8-R", "ALL")
    assert typ == "NO" and b"BADCHARSET" in data[0]
    typ, data = m._simple_command("SEARCH", "RETURN", "(MIN MAX COUNT)", "UNSEEN")
    es = m.untagged_responses.pop("ESEARCH")[0]
    assert b"MIN 1 MAX 4 COUNT 3" in es
    with pytest.raises(imaplib.IMAP4.error):
        m.search(None, "FOO")
    m.logout()


def test_noop_sees_changes_from_other_session_and_smtp(server):
    mbox = server.new_mailbox("sync")
    deliver(server, mbox, 3, unique("sy"))
    a = login(server, mbox)
    b = login(server, mbox)
    a.select("INBOX")
    b.select("INBOX")
    a.untagged_responses.clear()
    b.store("2", "+FLAGS", "(\\Deleted \\Flagged)")
    b.expunge()
    typ, data = a.noop()
    assert a.untagged_responses.pop("EXPUNGE") == [b"2"]
    b.store("1", "+FLAGS", "(\\Answered)")
    a.noop()
    f = a.untagged_responses.pop("FETCH")
    assert any(b"\\Answered" in x for x in f)
    deliver(server, mbox, 1, unique("sy2"))
    a.noop()
    assert a.untagged_responses.pop("EXISTS") == [b"3"]
    typ, data = a.fetch("3", "(UID)")
    assert b"UID 4" in data[0]
    a.logout()
    b.logout()


def test_msn_uid_map_under_concurrent_expunges(server):
    mbox = server.new_mailbox("map")
    deliver(server, mbox, 6, unique("map"))
    a = login(server, mbox)
    b = login(server, mbox)
    a.select("INBOX")
    b.select("INBOX")
    a.untagged_responses.clear()
    b.store("2,4,5", "+FLAGS", "(\\Deleted)")
    b.expunge()
    # not during FETCH by sequence number (RFC 9051 7.5.1)...
    typ, data = a.fetch("6", "(UID)")
    assert b"UID 6" in data[0] and "EXPUNGE" not in a.untagged_responses
    # ...but on NOOP, each number valid when it is sent
    a.untagged_responses.clear()
    a.noop()
    assert a.untagged_responses.pop("EXPUNGE") == [b"2", b"3", b"3"]
    typ, data = a.fetch("1:*", "(UID)")
    assert [re.search(rb"UID (\d+)", d).group(1) for d in data] == [b"1", b"3", b"6"]
    typ, data = a.uid("FETCH", "2:5", "(UID)")
    assert [re.search(rb"UID (\d+)", d).group(1) for d in data] == [b"3"]
    assert ok(a.uid("SEARCH", "ALL")) == [b"1 3 6"]
    a.logout()
    b.logout()


def test_quota_on_append_and_copy(server):
    mbox = server.new_mailbox("quota", quota=3000)
    m = login(server, mbox)
    msg = make_message(unique("q"), body=b"z" * 1000 + b"\r\n")
    assert m.append("INBOX", None, None, msg)[0] == "OK"
    typ, data = m.append("INBOX", None, None, msg + b"z" * 2000)
    assert typ == "NO" and b"OVERQUOTA" in data[0], data
    m.select("INBOX")
    typ, data = m.copy("1", "Archive")
    assert typ == "OK"
    typ, data = m.copy("1", "Archive")
    assert typ == "NO" and b"OVERQUOTA" in data[0], data
    m.logout()


def test_openssl_starttls(server):
    mbox = server.new_mailbox("ossl")
    p = subprocess.run(["openssl", "s_client", "-quiet", "-starttls", "imap", "-connect",
                        "127.0.0.1:%d" % server.imap_port],
                       input=b"a LOGIN " + mbox.encode() + b" " + PASSWORD.encode() +
                       b"\r\nb LOGOUT\r\n", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    assert b"a OK [CAPABILITY" in p.stdout and b"b OK" in p.stdout, p.stdout


def test_idle_push(server):
    mbox = server.new_mailbox("idle")
    deliver(server, mbox, 2, unique("id"))
    r = Raw(server)
    r.login(mbox)
    lines, tagged = r.cmd("s", b"SELECT INBOX")
    assert b"* 2 EXISTS" in lines
    r.send(b"i IDLE\r\n")
    assert r.line().startswith(b"+ ")
    t0 = time.time()
    deliver(server, mbox, 1, unique("id2"))
    assert r.line(timeout=5) == b"* 3 EXISTS"
    assert time.time() - t0 < 1.0
    b = login(server, mbox)
    b.select("INBOX")
    b.store("1", "+FLAGS", "(\\Deleted)")
    b.expunge()
    l = r.line(timeout=5)
    if l.startswith(b"* 1 FETCH"):
        l = r.line(timeout=5)
    assert l == b"* 1 EXPUNGE"
    t0 = time.time()
    b.store("1", "+FLAGS", "(\\Seen)")
    assert re.match(rb"\* 1 FETCH \(UID \d+ FLAGS \(\\Seen\)\)", r.line(timeout=5))
    assert time.time() - t0 < 1.0
    r.send(b"DONE\r\n")
    assert r.until("i")[1].startswith(b"i OK")
    b.logout()
    r.close()


def test_imap4rev2_mode_and_searchres(server):
    mbox = server.new_mailbox("rev2")
    deliver(server, mbox, 5, unique("r2"))
    r = Raw(server)
    r.login(mbox)
    lines, tagged = r.cmd("e", b"ENABLE IMAP4rev2")
    assert lines == [b"* ENABLED IMAP4rev2"]
    lines, tagged = r.cmd("s", b"SELECT INBOX")
    assert b'* LIST () "/" "INBOX"' in lines and not any(b"RECENT" in l for l in lines)
    lines, tagged = r.cmd("a", b"SEARCH 2:4")
    assert lines == [b'* ESEARCH (TAG "a") ALL 2:4']
    lines, tagged = r.cmd("b", b"UID SEARCH RETURN (SAVE) 2,4")
    assert lines == [] and tagged.startswith(b"b OK")
    lines, tagged = r.cmd("c", b"FETCH $ (UID)")
    assert [l for l in lines] == [b"* 2 FETCH (UID 2)", b"* 4 FETCH (UID 4)"]
    lines, tagged = r.cmd("d", b"UID SEARCH NOT UID $")
    assert lines == [b'* ESEARCH (TAG "d") UID ALL 1,3,5']
    lines, tagged = r.cmd("f", "CREATE \"Entwürfe/Ü\"".encode())
    assert tagged.startswith(b"f OK"), tagged
    r.send(b'g LIST "" "Entw*"\r\n')
    lines, tagged = r.until("g")
    assert any(b"{" in l for l in lines)        # non-ASCII names as literals
    lines, tagged = r.cmd("h", b"SELECT Sent")
    assert lines[0] == b"* OK [CLOSED] Previous mailbox closed"
    r.close()


def test_qresync(server):
    mbox = server.new_mailbox("qr")
    deliver(server, mbox, 5, unique("qr"))
    r = Raw(server)
    r.login(mbox)
    assert r.cmd("s", b"SELECT INBOX (QRESYNC (1 1))")[1].startswith(b"s BAD")  # not enabled
    lines, tagged = r.cmd("e", b"ENABLE QRESYNC")
    assert lines == [b"* ENABLED QRESYNC"]
    lines, tagged = r.cmd("s", b"SELECT INBOX")
    uidvalidity = int(re.search(rb"UIDVALIDITY (\d+)", b" ".join(lines)).group(1))
    modseq = int(re.search(rb"HIGHESTMODSEQ (\d+)", b" ".join(lines)).group(1))
    r.cmd("u", b"UNSELECT")
    b = login(server, mbox)
    b.select("INBOX")
    b.store("2", "+FLAGS", "(\\Deleted)")
    b.store("3", "+FLAGS", "(\\Flagged)")
    b.expunge()
    lines, tagged = r.cmd("s", b"SELECT INBOX (QRESYNC (%d %d 1:5))" % (uidvalidity, modseq))
    assert b"* VANISHED (EARLIER) 2" in lines, lines
    assert any(re.match(rb"\* 2 FETCH \(UID 3 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)", l)
               for l in lines), lines
    # live expunges come as VANISHED now
    b.store("1", "+FLAGS", "(\\Deleted)")
    b.expunge()
    b.uid("STORE", "5", "+FLAGS", "(\\Answered)")
    lines, tagged = r.cmd("n", b"NOOP")
    # VANISHED first, then FETCH numbered as after it
    assert lines[0] == b"* VANISHED 1" and not any(b"EXPUNGE" in l for l in lines), lines
    assert re.match(rb"\* 3 FETCH \(UID 5 FLAGS \(\\Answered\) MODSEQ \(\d+\)\)", lines[1]), lines
    lines, tagged = r.cmd("f", b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % modseq)
    assert lines[0] == b"* VANISHED (EARLIER) 1:2", lines
    assert r.cmd("g", b"FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)")[1].startswith(b"g BAD")
    b.logout()
    r.close()


# ---------------------------------------------------------------- bad input

def test_bad_input_survives(server):
    mbox = server.new_mailbox("bad")
    deliver(server, mbox, 2, unique("b"))
    r = Raw(server)
    # before login: a big literal is refused
    assert r.cmd("a", b"LOGIN {100000}")[1].startswith(b"a BAD")
    r.login(mbox)
    r.cmd("s", b"SELECT INBOX")
    for i, bad in enumerate([b"FETCH 0 FLAGS", b"FETCH *:* FLAGS x", b"FETCH 1:4294967296 FLAGS",
                             b"FETCH 1,,2 FLAGS", b"FETCH 3 FLAGS", b"STORE 1 FLAGS (\\Recent)",
                             b"SEARCH " + b"(" * 100 + b"ALL" + b")" * 100,
                             b"FETCH 1 (" + b"(" * 100 + b")" * 100,
                             b"SEARCH UID 1:2:3", b"COPY 1 \"../../etc\"",
                             b"CREATE \"a\x01b\"", b"LIST \"\" \"" + b"*%" * 300 + b"\"",
                             b"SEARCH" + b" ALL" * 9000, b"SEARCH" + b" OR ALL" * 10001 + b" ALL",
                             b"SELECT \"../INBOX\"", b"RENAME INBOX \"a/../b\"",
                             b"FETCH 1 BODY[1.2.3.4.5.6.7.8.9.10]", b"FETCH 1 BODY[HEADER.FIELDS ()]",
                             b"UID FETCH 4294967295:* FLAGS", b"STORE 1 +FLAGS (" + b"k " * 100 + b")"]):
        lines, tagged = r.cmd("t%d" % i, bad)
        assert tagged.split()[1] in (b"BAD", b"NO", b"OK"), (bad, tagged)
    lines, tagged = r.cmd("n", b"NOOP")
    assert tagged.startswith(b"n OK")
    r.send(b"x APPEND INBOX {4294967296}\r\n")
    lines, tagged = r.until("x")
    assert tagged.startswith(b"x BAD") or tagged.startswith(b"x NO")
    assert r.cmd("y", b"NOOP")[1].startswith(b"y OK")
    # a literal that never ends: the connection is closed by the client
    r.send(b"z APPEND INBOX {100}\r\n")
    assert r.line().startswith(b"+ ")
    r.send(b"short")
    r.close()
    m = login(server, mbox)
    m.select("INBOX")
    assert ok(m.search(None, "ALL")) == [b"1 2"]
    m.logout()
    r = Raw(server)
    r.login(mbox)
    for i in range(20):
        try:
            r.send(b"q%d BOGUS\r\n" % i)
        except OSError:
            break
    text = b""
    try:
        while True:
            text += r.line(timeout=5) + b"\n"
    except (EOFError, OSError, socket.timeout):
        pass
    assert b"* BYE" in text
    r.close()


def test_fetchmail_imap_starttls(server, tmp_path):
    mbox = server.new_mailbox("fm")
    markers = deliver(server, mbox, 3, unique("fm"))
    got = run_fetchmail(server, "imap", server.imap_port, mbox, PASSWORD, tmp_path)
    for m in markers:
        assert m.encode() in got
    assert len(server.messages(mbox)) == 3      # "keep": nothing deleted
    # fetchmail marks what it fetched as seen
    m = login(server, mbox)
    m.select("INBOX")
    assert ok(m.search(None, "SEEN")) == [b"1 2 3"]
    m.logout()


# ---------------------------------------------------------------- mbsync

def mbsync_conf(server, mbox, base):
    import os
    maildir = os.path.join(base, "maildir")
    os.makedirs(maildir, exist_ok=True)
    conf = os.path.join(base, "mbsyncrc")
    with open(conf, "w") as f:
        f.write("""IMAPAccount petrel
Host 127.0.0.1
Port %d
User %s
Pass %s
SSLType IMAPS
CertificateFile %s
SystemCertificates no

IMAPStore remote
Account petrel

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""" % (server.imaps_port, mbox, PASSWORD,
       os.path.join(server.data_dir, "tls", "cert.pem"), maildir, maildir))
    return conf, maildir


def run_mbsync(conf):
    p = subprocess.run(["mbsync", "-c", conf, "-a"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    return p


def mbsync_first_sync(server, mbox, n, tag, tmp_path):
    """Deliver n messages, sync them down with mbsync and check every one
    is the stored message. (conf, maildir, the INBOX files)."""
    import glob
    import os
    deliver(server, mbox, n, unique(tag))
    conf, maildir = mbsync_conf(server, mbox, str(tmp_path))
    p = run_mbsync(conf)
    if p.returncode != 0 and b"certificate" in p.stderr.lower():
        pytest.skip("this mbsync cannot be told to accept a self-signed certificate")
    assert p.returncode == 0, p.stderr
    files = glob.glob(os.path.join(maildir, "INBOX", "*", "*"))
    assert len(files) == n
    # mbsync stores LF line ends and adds its X-TUID header
    stored = sorted(m.replace(b"\r\n", b"\n") for m in server.messages(mbox))
    got = sorted(re.sub(rb"(?m)^X-TUID: .*\n", b"", open(f, "rb").read()) for f in files)
    assert got == stored
    return conf, maildir, files


@pytest.mark.skipif(subprocess.run(["which", "mbsync"], stdout=subprocess.DEVNULL).returncode != 0,
                    reason="mbsync (Debian package isync) is not installed")
def test_mbsync_both_ways(server, tmp_path):
    import glob
    import os
    mbox = server.new_mailbox("mbsync")
    conf, maildir, files = mbsync_first_sync(server, mbox, 1000, "mb", tmp_path)
    # local changes: a new message in Sent, one INBOX message deleted
    os.makedirs(os.path.join(maildir, "Sent", "new"), exist_ok=True)
    with open(os.path.join(maildir, "Sent", "new", "1.local:2,S"), "wb") as f:
        f.write(make_message(unique("local")))
    victim = sorted(files)[0]
    os.rename(victim, victim.split(":2,")[0] + ":2,ST" if ":2," in victim else victim + ":2,T")
    # a server-side change as well
    deliver(server, mbox, 1, unique("mb2"))
    p = run_mbsync(conf)
    assert p.returncode == 0, p.stderr
    assert len(server.message_list(mbox, "Sent")) == 1
    assert len(server.message_list(mbox)) == 1000
    files = glob.glob(os.path.join(maildir, "INBOX", "*", "*"))
    assert len(files) == 1000
