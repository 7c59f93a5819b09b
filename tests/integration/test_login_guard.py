"""test_login_guard.py - login protection and the login audit, as an
administrator and an attacker meet them: wrong passwords over IMAP, POP3
and submission from one address add up to a lockout of the account (from
every address, on every protocol), during which even the right password
gets the ordinary failure reply; the lock ends after the (shortened)
lockout and both ends are in the audit log; many users tried from one
address lock that address; a login from a new address is flagged
login.new_ip and `mailbox show` prints the last login; and the audit log
queried by actor, domain and kind through petrelctl and the API.

Clients bind their socket to 127.0.0.x (source_address) so each test has
addresses of its own: the counts are per address, across tests."""

import imaplib
import json
import os
import poplib
import re
import smtplib
import socket
import time
import urllib.request

import pytest

import petreltest
from petreltest import tls_ctx
from test_submission import scram_exchange, subs

PASSWORD = "Secret-pass-123"    # what Petrel.add_mailbox sets
ACCOUNT_MAX = 4
IP_MAX = 12
FAIL_IMAP = "[AUTHENTICATIONFAILED] Authentication failed"


@pytest.fixture(scope="module")
def server():
    yield from petreltest.running(
        "auth_failure_delay = 0",
        "login_account_max_failures = %d" % ACCOUNT_MAX,
        "login_ip_max_failures = %d" % IP_MAX,
        "login_failure_window = 10m",
        "login_lockout = 3s")


class IMAP(imaplib.IMAP4_SSL):
    def __init__(self, port, src):
        self._src = src
        super().__init__("127.0.0.1", port, ssl_context=tls_ctx(), timeout=20)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self._src, 0))
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


class POP3(poplib.POP3_SSL):
    def __init__(self, port, src):
        self._src = src
        super().__init__("127.0.0.1", port, context=tls_ctx(), timeout=20)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self._src, 0))
        return self.context.wrap_socket(sock, server_hostname=self.host)


def imap_login(srv, user, password, src="127.0.0.1"):
    """(ok, text of the tagged reply)"""
    m = IMAP(srv.imaps_port, src)
    try:
        typ, data = m.login(user, password)
        m.logout()
        return True, data[0].decode()
    except imaplib.IMAP4.error as e:
        text = e.args[0]
        return False, text.decode() if isinstance(text, bytes) else str(text)
    finally:
        try:
            m.shutdown()
        except OSError:
            pass


def pop3_login(srv, user, password, src="127.0.0.1"):
    p = POP3(srv.pop3s_port, src)
    try:
        p.user(user)
        p.pass_(password)
        p.quit()
        return True, ""
    except poplib.error_proto as e:
        return False, e.args[0].decode()
    finally:
        p.close()


def smtp_login(srv, user, password, src="127.0.0.1"):
    s = smtplib.SMTP_SSL("127.0.0.1", srv.submissions_port, context=tls_ctx(),
                         local_hostname="client.petrel.test", timeout=20,
                         source_address=(src, 0))
    try:
        s.login(user, password)
        return True, "235"
    except smtplib.SMTPAuthenticationError as e:
        return False, "%d %s" % (e.smtp_code, e.smtp_error.decode())
    finally:
        s.close()


def audit(srv, *filters):
    out = srv.ctl("audit", "show", "--json", *filters).stdout.decode()
    return json.loads(out)


def wait_for(fn, what, tries=400):
    """Poll fn until true: login entries reach the store through the
    audit thread, and a lock ends when its time has passed."""
    for _ in range(tries):
        if fn():
            return
        time.sleep(0.05)
    raise AssertionError("never happened: " + what)


def test_account_lockout_across_protocols(server):
    address = server.new_mailbox("victim")
    src = "127.0.0.4"
    # wrong passwords from one address over all three protocols
    assert imap_login(server, address, "wrong-1", src) == (False, FAIL_IMAP)
    assert pop3_login(server, address, "wrong-2", src)[0] is False
    assert smtp_login(server, address, "wrong-3", src)[0] is False
    assert imap_login(server, address, "wrong-4", src) == (False, FAIL_IMAP)
    wait_for(lambda: audit(server, "--kind", "login.lockout",
                           "--actor", "petreld", "--domain", "example.test")
             and any(e["subject"] == address for e in
                     audit(server, "--kind", "login.lockout")),
             "the lockout in the audit log")
    lock = [e for e in audit(server, "--kind", "login.lockout")
            if e["subject"] == address][0]
    assert "what=account" in lock["detail"]
    # now the right password fails everywhere, from any address, with the
    # reply a wrong password or an unknown user gets
    other = "127.0.0.5"
    unknown = imap_login(server, "nobody-%s@example.test" % os.urandom(3).hex(),
                         "x", other)
    assert imap_login(server, address, PASSWORD, other) == unknown
    wrong_pop = pop3_login(server, "nobody@example.test", "x", other)
    assert pop3_login(server, address, PASSWORD, other) == wrong_pop
    wrong_smtp = smtp_login(server, "nobody@example.test", "x", other)
    assert smtp_login(server, address, PASSWORD, other) == wrong_smtp
    # SCRAM-SHA-256, checked in the session rather than on the pool, too
    with subs(server) as c:
        scram_exchange(c, address, PASSWORD, expect_ok=False)
    # the lock ends by itself (3 s here); then the right password works
    wait_for(lambda: imap_login(server, address, PASSWORD, other)[0],
             "the account usable again after the lockout", tries=600)
    assert pop3_login(server, address, PASSWORD, other)[0]
    assert smtp_login(server, address, PASSWORD, other)[0]
    with subs(server) as c:
        scram_exchange(c, address, PASSWORD)
    wait_for(lambda: any(e["subject"] == address for e in
                         audit(server, "--kind", "login.unlock")),
             "the unlock in the audit log")
    # the refused right passwords are in the log, marked as locked
    fails = audit(server, "--kind", "login.fail", "--actor", address)
    assert sum("reason=locked" in e["detail"] for e in fails) >= 1


def test_address_lockout_across_accounts(server):
    src = "127.0.0.6"
    real = server.new_mailbox("bystander")
    for i in range(IP_MAX):
        user = "guess%d-%s@example.test" % (i, os.urandom(2).hex())
        login = (imap_login, pop3_login, smtp_login)[i % 3]
        assert login(server, user, "password%d" % i, src)[0] is False
    wait_for(lambda: any(e["subject"] == src and e["ip"] == src for e in
                         audit(server, "--kind", "login.lockout")),
             "the address's lockout in the audit log")
    # that address is refused, even for a good account; others are not
    assert imap_login(server, real, PASSWORD, src) == (False, FAIL_IMAP)
    assert smtp_login(server, real, PASSWORD, src)[0] is False
    assert imap_login(server, real, PASSWORD, "127.0.0.22")[0]
    wait_for(lambda: imap_login(server, real, PASSWORD, src)[0],
             "the address usable again after the lockout", tries=600)


def test_new_ip_flagged_and_last_login(server):
    address = server.new_mailbox("roamer")
    assert imap_login(server, address, PASSWORD, "127.0.0.1")[0]

    def new_ips():
        return [e["ip"] for e in audit(server, "--kind", "login.new_ip",
                                       "--actor", address)]
    wait_for(lambda: new_ips() == ["127.0.0.1"], "the first address flagged")
    # a known address is not flagged again
    assert pop3_login(server, address, PASSWORD, "127.0.0.1")[0]
    wait_for(lambda: len(audit(server, "--kind", "login.ok",
                               "--actor", address)) == 2, "second login")
    assert new_ips() == ["127.0.0.1"]
    assert smtp_login(server, address, PASSWORD, "127.0.0.2")[0]
    wait_for(lambda: new_ips() == ["127.0.0.1", "127.0.0.2"],
             "the new address flagged")
    show = server.ctl("mailbox", "show", address).stdout.decode()
    assert "last login ip: 127.0.0.2" in show
    assert re.search(r"^last login: \d{4}-\d\d-\d\d ", show, re.M), show
    # a mailbox never used says so
    fresh = server.new_mailbox("unused")
    show = server.ctl("mailbox", "show", fresh).stdout.decode()
    assert "last login: never" in show and "last login ip: -" in show


def test_audit_query_cli(server):
    domain = "q-%s.test" % os.urandom(3).hex()
    server.ctl("domain", "add", domain)
    address = server.add_mailbox("alice@" + domain)
    server.ctl("mailbox", "suspend", address)
    server.ctl("mailbox", "activate", address)
    # only this domain's entries, and only of the kind asked for
    rows = audit(server, "--domain", domain)
    assert rows and all(domain in e["subject"] or domain in e["actor"]
                        for e in rows)
    kinds = [e["kind"] for e in rows]
    assert "domain.add" in kinds and "mailbox.add" in kinds
    mb = audit(server, "--domain", domain, "--kind", "mailbox")
    assert {e["kind"] for e in mb} == {"mailbox.add", "mailbox.suspend",
                                       "mailbox.activate"}
    susp = [e for e in mb if e["kind"] == "mailbox.suspend"][0]
    assert susp["detail"] == "status=active->suspended"
    assert susp["actor"].startswith("petrelctl:")
    assert audit(server, "--domain", domain, "--actor", "nobody") == []
    assert audit(server, "--domain", domain, "--since", "2100-01-01") == []
    # the table form too, and a bad option is a usage error
    text = server.ctl("audit", "show", "--domain", domain).stdout.decode()
    assert "mailbox.suspend" in text and text.startswith("ID ")
    p = server.ctl("audit", "show", "--colour", "red", check=False)
    assert p.returncode != 0


def test_audit_query_api(server):
    domain = "api-%s.test" % os.urandom(3).hex()
    server.ctl("domain", "add", domain)
    address = server.add_mailbox("bob@" + domain)
    server.ctl("mailbox", "suspend", address)

    def token(*args):
        out = server.ctl("token", "add", *args).stdout.decode()
        return re.search(r"^(ptk_[A-Za-z0-9_-]{43})$", out, re.M).group(1)

    def get(tok, query):
        req = urllib.request.Request(
            "https://127.0.0.1:%d/api/v1/audit?%s" % (server.admin_port, query),
            headers={"Authorization": "Bearer " + tok})
        try:
            with urllib.request.urlopen(req, context=tls_ctx(),
                                        timeout=20) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    glob = token("audit-global")
    st, body = get(glob, "domain=%s&kind=mailbox" % domain)
    assert st == 200
    assert [e["kind"] for e in body["items"]] == ["mailbox.add",
                                                  "mailbox.suspend"]
    # pages: one at a time, following the cursor
    st, p1 = get(glob, "domain=%s&limit=1" % domain)
    assert st == 200 and len(p1["items"]) == 1 and p1["next"]
    st, p2 = get(glob, "domain=%s&limit=1&cursor=%s" % (domain,
                                                       p1["next"]))
    assert p2["items"][0]["id"] > p1["items"][0]["id"]
    # a token of the domain sees its entries, only them
    scoped = token("audit-scoped", "--domain", domain)
    st, body = get(scoped, "kind=mailbox")
    assert st == 200 and body["items"]
    assert all(domain in e["subject"] or domain in e["actor"]
               for e in body["items"])
    other = "other-%s.test" % os.urandom(3).hex()
    server.ctl("domain", "add", other)
    st, body = get(scoped, "domain=%s" % other)
    assert st == 403 and body["error"]["code"]
    # bad parameters are 400 with the field named
    st, body = get(glob, "limit=zero")
    assert st == 400 and body["error"]["field"] == "limit"
    st, body = get(glob, "since=yesterday")
    assert st == 400 and body["error"]["field"] == "since"


def api_login(srv, user, password):
    """The REST API's POST /api/v1/login: its HTTP status."""
    import http.client
    import ssl
    ctx = ssl.create_default_context(
        cafile=os.path.join(srv.data_dir, "tls", "cert.pem"))
    conn = http.client.HTTPSConnection("localhost", srv.admin_port,
                                       context=ctx, timeout=30)
    try:
        conn.request("POST", "/api/v1/login",
                     body=json.dumps({"user": user, "password": password}),
                     headers={"Content-Type": "application/json"})
        return conn.getresponse().status
    finally:
        conn.close()


def test_api_login_shares_the_lockout(server):
    """Wrong passwords over the API lock the account for IMAP, and a lock
    from IMAP makes the API refuse the right password."""
    address = server.new_mailbox("apiguard")
    assert api_login(server, address, PASSWORD) == 200
    for i in range(ACCOUNT_MAX):
        assert api_login(server, address, "wrong-%d" % i) == 401
    assert imap_login(server, address, PASSWORD, "127.0.0.21")[0] is False
    assert api_login(server, address, PASSWORD) == 401
    wait_for(lambda: imap_login(server, address, PASSWORD, "127.0.0.21")[0],
             "the account usable again after the lockout", tries=600)
    assert api_login(server, address, PASSWORD) == 200
    # and the other way round
    other = server.new_mailbox("apiguard2")
    for i in range(ACCOUNT_MAX):
        assert imap_login(server, other, "wrong-%d" % i, "127.0.0.22")[0] is False
    assert api_login(server, other, PASSWORD) == 401
