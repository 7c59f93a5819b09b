"""test_imap_objectid.py - OBJECTID (RFC 8474) against a real petreld
with imaplib: MAILBOXID from CREATE, SELECT and STATUS, the same after
RENAME and a new one for a folder created again under an old name;
EMAILID the same for a message and its copies and moved versions,
different for different messages, and found by SEARCH EMAILID; THREADID
NIL and SEARCH THREADID finding nothing."""

import re

from petreltest import make_message, unique
from test_imap import deliver, login, ok

OBJECTID = rb"[A-Za-z0-9_-]{1,255}"


def mailboxid(data):
    m = re.search(rb"MAILBOXID \((" + OBJECTID + rb")\)", data)
    assert m, data
    return m.group(1)


def status_id(m, name):
    return mailboxid(ok(m.status(name, "(MAILBOXID)"))[0])


def emailids(m, rng="1:*"):
    data = ok(m.fetch(rng, "(UID EMAILID THREADID)"))
    out = {}
    for d in data:
        u = re.search(rb"UID (\d+)", d)
        e = re.search(rb"EMAILID \((" + OBJECTID + rb")\)", d)
        assert u and e and b"THREADID NIL" in d, d
        out[int(u.group(1))] = e.group(1)
    return out


def test_capability(server):
    m = login(server, server.new_mailbox("ocap"))
    assert "OBJECTID" in ok(m.capability())[0].decode().split()
    m.logout()


def test_mailboxid(server):
    mbox = server.new_mailbox("ombox")
    m = login(server, mbox)
    typ, data = m.create("Projects")
    assert typ == "OK", data
    created = mailboxid(data[0])
    assert status_id(m, "Projects") == created
    typ, data = m.select("Projects")
    assert typ == "OK"
    assert mailboxid(b" ".join(m.untagged_responses.get("OK", []))) == created
    ok(m.select("INBOX"))
    inbox = status_id(m, "INBOX")
    assert inbox != created and status_id(m, "Sent") not in (inbox, created)
    # RENAME keeps it; a new folder under the old name gets another
    ok(m.rename("Projects", "Archive/Projects2026"))
    assert status_id(m, "Archive/Projects2026") == created
    typ, data = m.create("Projects")
    assert mailboxid(data[0]) != created
    # and so does a folder deleted and created again
    ok(m.delete("Archive/Projects2026"))
    typ, data = m.create("Archive/Projects2026")
    assert mailboxid(data[0]) != created
    # another session sees the same identifiers
    m2 = login(server, mbox)
    assert status_id(m2, "INBOX") == inbox
    m2.logout()
    m.logout()


def test_emailid_and_search(server):
    mbox = server.new_mailbox("oemail")
    deliver(server, mbox, 3, unique("oe"))
    m = login(server, mbox)
    ok(m.select("INBOX"))
    ids = emailids(m)
    assert len(set(ids.values())) == 3
    # copies keep it, so does MOVE
    ok(m.copy("1", "Archive"))
    ok(m.uid("MOVE", "2", "Trash"))
    ok(m.select("Archive"))
    assert list(emailids(m).values()) == [ids[1]]
    ok(m.select("Trash"))
    assert list(emailids(m).values()) == [ids[2]]
    # SEARCH EMAILID finds the message and its copy, THREADID nothing
    ok(m.select("INBOX"))
    assert ok(m.uid("SEARCH", "EMAILID", ids[3].decode())) == [b"3"]
    assert ok(m.uid("SEARCH", "EMAILID", ids[1].decode())) == [b"1"]
    assert ok(m.uid("SEARCH", "EMAILID", "Mnothere")) == [b""]
    assert ok(m.uid("SEARCH", "THREADID", "T1")) == [b""]
    # a new message gets a new one, also when its bytes are the same
    msg = make_message(unique("same"))
    ok(m.append("INBOX", None, None, msg))
    ok(m.append("INBOX", None, None, msg))
    ok(m.noop())
    ids2 = emailids(m)
    new = [v for k, v in ids2.items() if k not in ids]
    assert len(new) == 2 and new[0] != new[1] and not set(new) & set(ids.values())
    m.logout()
