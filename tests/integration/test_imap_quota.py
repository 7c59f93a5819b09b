"""test_imap_quota.py - QUOTA (RFC 9208, STORAGE resource) against a real
petreld with imaplib and raw sockets: GETQUOTAROOT and GETQUOTA report the
quota petrelctl set and the bytes the store counts, SETQUOTA is refused,
STATUS DELETED-STORAGE, and APPEND and COPY past the quota fail with
OVERQUOTA however the client sends them, also when several sessions
append at once (the store decides, not a check before it)."""

import imaplib
import re
import socket
import threading

import pytest

from petreltest import make_message, tls_ctx, unique
from test_imap import PASSWORD, deliver, login, ok


def kb_up(n):
    return (n + 1023) // 1024


def test_capabilities(server):
    mbox = server.new_mailbox("qcap")
    m = login(server, mbox)
    caps = ok(m.capability())[0].decode().split()
    assert "QUOTA" in caps and "QUOTA=RES-STORAGE" in caps
    assert "QUOTASET" not in caps and "QUOTA=RES-MESSAGE" not in caps
    m.logout()


def test_getquotaroot_and_getquota(server):
    mbox = server.new_mailbox("qget", quota=200000)
    deliver(server, mbox, 3, unique("qg"))
    used = server.mailbox_used(mbox)
    assert used > 0
    m = login(server, mbox)
    typ, data = m.getquotaroot("INBOX")
    assert typ == "OK", data
    roots, quotas = data
    assert roots == [b'"INBOX" ""'] or roots == [b'INBOX ""'], roots
    assert quotas == [b'"" (STORAGE %d %d)' % (kb_up(used), 200000 // 1024)], quotas
    typ, data = m.getquota('""')
    assert typ == "OK" and data == [b'"" (STORAGE %d %d)' % (kb_up(used), 200000 // 1024)]
    # another folder has the same root: the quota is the account's
    typ, data = m.getquotaroot("Archive")
    assert typ == "OK" and data[0] in ([b'Archive ""'], [b'"Archive" ""']), data
    # an unknown root, an unknown mailbox
    typ, data = m.getquota("nosuchroot")
    assert typ == "NO" and b"NONEXISTENT" in data[0]
    typ, data = m.getquotaroot("NoSuchFolder")
    assert typ == "NO" and "NONEXISTENT" in repr(data)
    m.logout()


def test_unlimited_account_has_no_root(server):
    mbox = server.new_mailbox("qnone", quota=0)
    m = login(server, mbox)
    typ, data = m.getquotaroot("INBOX")
    assert typ == "OK", data
    assert data[0] in ([b'"INBOX"'], [b"INBOX"]), data
    typ, data = m.getquota('""')
    assert typ == "NO", data
    m.logout()


def test_setquota_refused(server):
    mbox = server.new_mailbox("qset", quota=100000)
    m = login(server, mbox)
    typ, data = m.setquota('""', "(STORAGE 999999)")
    assert typ == "NO" and b"NOPERM" in data[0], data
    assert server.ctl("mailbox", "list").stdout.decode().count(mbox) == 1
    typ, data = m.getquota('""')
    assert data[0].endswith(b" %d)" % (100000 // 1024))
    m.logout()


def test_quota_follows_petrelctl(server):
    mbox = server.new_mailbox("qctl", quota=100000)
    m = login(server, mbox)
    server.ctl("mailbox", "quota", mbox, "300000")
    typ, data = m.getquota('""')
    assert typ == "OK" and data[0].endswith(b" %d)" % (300000 // 1024)), data
    m.logout()


def test_status_deleted_storage(server):
    mbox = server.new_mailbox("qdel")
    m = login(server, mbox)
    sizes = []
    for i in range(3):
        msg = make_message(unique("qd"), body=b"x" * (1000 * (i + 1)) + b"\r\n")
        sizes.append(len(msg))
        ok(m.append("INBOX", None, None, msg))
    ok(m.select("INBOX"))
    ok(m.store("1,3", "+FLAGS", "(\\Deleted)"))
    typ, data = m.status("INBOX", "(DELETED DELETED-STORAGE MESSAGES)")
    assert typ == "OK", data
    want = kb_up(sizes[0] + sizes[2])
    assert re.search(rb"MESSAGES 3 DELETED 2 DELETED-STORAGE %d\)" % want, data[0]), data
    ok(m.expunge())
    typ, data = m.status("INBOX", "(DELETED-STORAGE)")
    assert b"DELETED-STORAGE 0" in data[0], data
    m.logout()


class Raw:
    def __init__(self, server, mbox):
        s = socket.create_connection(("127.0.0.1", server.imaps_port), timeout=30)
        self.sock = tls_ctx().wrap_socket(s)
        self.buf = b""
        self.line()
        assert self.cmd(b"a", b"LOGIN %s %s" % (mbox.encode(), PASSWORD.encode())).startswith(b"a OK")

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

    def cmd(self, tag, text):
        self.sock.sendall(tag + b" " + text + b"\r\n")
        return self.until(tag)

    def close(self):
        self.sock.close()


def test_append_over_quota_literal_plus(server):
    """A non-synchronising literal cannot be refused before it arrives:
    the store refuses the append itself."""
    mbox = server.new_mailbox("qlit", quota=5000)
    r = Raw(server, mbox)
    msg = make_message(unique("ql"), body=b"y" * 6000 + b"\r\n")
    r.sock.sendall(b"p APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
    line = r.until(b"p")
    assert line.startswith(b"p NO [OVERQUOTA]"), line
    assert server.message_list(mbox) == []
    small = make_message(unique("ql2"))
    r.sock.sendall(b"q APPEND INBOX {%d+}\r\n" % len(small) + small + b"\r\n")
    assert r.until(b"q").startswith(b"q OK [APPENDUID")
    r.close()


def test_copy_over_quota_one_code(server):
    mbox = server.new_mailbox("qcopy", quota=4000)
    m = login(server, mbox)
    ok(m.append("INBOX", None, None, make_message(unique("qc"), body=b"z" * 1500 + b"\r\n")))
    ok(m.select("INBOX"))
    ok(m.copy("1", "Archive"))
    typ, data = m.copy("1", "Archive")
    assert typ == "NO" and data[0].startswith(b"[OVERQUOTA]"), data
    assert data[0].count(b"OVERQUOTA") == 1, data
    # MOVE does not grow the account: allowed at the limit
    typ, data = m._simple_command("MOVE", "1", "Trash")
    assert typ == "OK", data
    m.logout()


def test_parallel_appends_never_pass_quota(server):
    """Eight sessions append 3 KB each into a 10 KB quota at once: at
    most three can be stored, whatever the timing."""
    quota = 10000
    mbox = server.new_mailbox("qpar", quota=quota)
    results = []
    msgs = [make_message(unique("qp%d" % i), body=b"w" * 2900 + b"\r\n") for i in range(8)]
    raws = [Raw(server, mbox) for _ in msgs]
    barrier = threading.Barrier(len(raws))

    def go(r, msg):
        barrier.wait()
        r.sock.sendall(b"p APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        results.append(r.until(b"p"))

    threads = [threading.Thread(target=go, args=(r, m)) for r, m in zip(raws, msgs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in raws:
        r.close()
    oks = [x for x in results if x.startswith(b"p OK")]
    nos = [x for x in results if x.startswith(b"p NO [OVERQUOTA]")]
    assert len(oks) + len(nos) == 8, results
    assert len(oks) == quota // len(msgs[0])
    assert server.mailbox_used(mbox) <= quota
    assert len(server.message_list(mbox)) == len(oks)


def test_smtp_still_has_grace(server):
    """The store's APPEND check leaves SMTP as it was: a delivery that
    fits at RCPT is accepted even if it goes a little over."""
    mbox = server.new_mailbox("qsmtp", quota=3000)
    deliver(server, mbox, 1, unique("qs"), body=b"v" * 2500 + b"\r\n")
    assert server.mailbox_used(mbox) > 0
    m = login(server, mbox)
    typ, data = m.append("INBOX", None, None, make_message(unique("qs2"), body=b"v" * 1000 + b"\r\n"))
    assert typ == "NO" and b"OVERQUOTA" in data[0], data
    m.logout()
