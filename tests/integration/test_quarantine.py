"""test_quarantine.py - the spam filter's administration on a real
petreld (decision 0040): `petrelctl filter settings`, `filter allow|block
add|remove|list` at every level with the files they edit (comments kept,
bad entries named, unknown domains and mailboxes refused), the same over
the REST API with curl (every ```shell example of docs/api.md's filter
section run as written), and the quarantine: held messages listed,
previewed, released into INBOX (checked over IMAP with imaplib) by the
API and by petrelctl (which asks petreld), deleted, expired, with unknown
ids and other users' mail refused."""

import base64
import imaplib
import json
import os
import re
import sqlite3
import subprocess
import time

import pytest

import petreltest
from petreltest import tls_ctx
from test_api import api, assert_error, base, cafile, curl, make_token, \
    request, run_doc_examples

PASSWORD = "Secret-pass-123"    # what Petrel.add_mailbox sets
DOCS = os.path.join(petreltest.REPO, "docs", "api.md")


@pytest.fixture(scope="module")
def srv():
    yield from petreltest.running("auth_failure_delay = 0")


@pytest.fixture(scope="module")
def token(srv):
    return make_token(srv, "quarantine")[1]


def fresh_domain(srv):
    d = "q-%s.test" % os.urandom(3).hex()
    srv.ctl("domain", "add", d)
    return d


def ctl_json(srv, *args):
    return json.loads(srv.ctl(*args, "--json").stdout)


def message(marker, subject="You won"):
    return ("From: Spammer <x@bad.example>\r\nTo: victim@corp.example\r\n"
            "Subject: %s\r\nMessage-ID: <%s@bad.example>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "Claim your prize %s\r\nline two\r\n" % (subject, marker, marker)
            ).encode()


def hold(srv, token, mailbox, data, reason=None, want=201):
    body = {"mailbox": mailbox,
            "message_base64": base64.b64encode(data).decode()}
    if reason:
        body["reason"] = reason
    return api(srv, "POST", "/api/v1/quarantine", token, body, want=want)


def imap_inbox(srv, user):
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=tls_ctx(),
                          timeout=20)
    try:
        m.login(user, PASSWORD)
        m.select("INBOX", readonly=True)
        typ, data = m.search(None, "ALL")
        out = []
        for num in data[0].split():
            typ, d = m.fetch(num, "(BODY.PEEK[])")
            out.append(d[0][1])
        m.logout()
        return out
    finally:
        try:
            m.shutdown()
        except OSError:
            pass


# ---------------------------------------------------------------- settings

def test_settings_cli(srv):
    dom = fresh_domain(srv)
    s = ctl_json(srv, "filter", "settings", dom)
    assert s == {"domain": dom, "level": "standard", "quarantine_days": 30,
                 "user_release": False, "external_tag": "off"}
    s = ctl_json(srv, "filter", "settings", dom, "--level", "strict",
                 "--quarantine-days", "7", "--user-release", "yes",
                 "--external-tag", "subject")
    assert s["level"] == "strict" and s["quarantine_days"] == 7
    assert s["user_release"] is True and s["external_tag"] == "subject"
    out = srv.ctl("filter", "settings", dom).stdout.decode()
    assert "strict" in out and "subject" in out
    # audited
    audit = srv.ctl("audit", "show", "--kind", "filter").stdout.decode()
    assert "filter.settings" in audit and dom in audit
    # bad input
    p = srv.ctl("filter", "settings", "nowhere.test", check=False)
    assert p.returncode == 1 and b"no such domain" in p.stderr
    for bad in (["--level", "lax"], ["--quarantine-days", "0"],
                ["--quarantine-days", "x"], ["--user-release", "maybe"],
                ["--external-tag", "footer"], ["--level"]):
        p = srv.ctl("filter", "settings", dom, *bad, check=False)
        assert p.returncode == 2, (bad, p.stderr)
    assert ctl_json(srv, "filter", "settings", dom)["level"] == "strict"


def test_settings_api(srv, token):
    dom = fresh_domain(srv)
    path = "/api/v1/domains/%s/filter" % dom
    assert api(srv, "GET", path, token)["level"] == "standard"
    s = api(srv, "PUT", path, token, {"external_tag": "banner"})
    assert s["external_tag"] == "banner" and s["quarantine_days"] == 30
    for body, field in (({"level": "lax"}, "level"),
                        ({"quarantine_days": 0}, "quarantine_days"),
                        ({"quarantine_days": 9999}, "quarantine_days"),
                        ({"user_release": "yes"}, "user_release")):
        status, _, r = request(srv, "PUT", path, token, body)
        assert status == 422, (body, r)
        assert r["error"]["field"] == field
    status, _, r = request(srv, "PUT", path, token, {"colour": "red"})
    assert status == 422 and r["error"]["code"] == "unknown_field"
    status, _, r = request(srv, "GET", "/api/v1/domains/nowhere.test/filter",
                           token)
    assert status == 404
    # a token of another domain may not see it
    other = fresh_domain(srv)
    scoped = make_token(srv, "scoped-" + other, other)[1]
    status, _, r = request(srv, "GET", path, scoped)
    assert status == 403
    assert api(srv, "GET", "/api/v1/domains/%s/filter" % other,
               scoped)["domain"] == other


# ---------------------------------------------------------------- lists

def test_lists_cli(srv):
    dom = fresh_domain(srv)
    user = srv.add_mailbox("Carol@" + dom)
    # global
    r = ctl_json(srv, "filter", "block", "add", "Spam.Example", "*.junk.test",
                 "198.51.100.0/24")
    assert r["level"] == "global" and r["added"] == [
        "spam.example", ".junk.test", "198.51.100.0/24"]
    gfile = os.path.join(srv.data_dir, "filter", "block.conf")
    assert r["file"] == gfile
    # an admin's hand edit: a comment and a blank line stay
    with open(gfile, "a") as f:
        f.write("# added by hand\n\nhand.example   # why\n")
    r = ctl_json(srv, "filter", "block", "add", "spam.example", "more.test")
    assert r["added"] == ["more.test"] and r["unchanged"] == ["spam.example"]
    with open(gfile) as f:
        text = f.read()
    assert text == ("spam.example\n.junk.test\n198.51.100.0/24\n"
                    "# added by hand\n\nhand.example   # why\nmore.test\n")
    out = srv.ctl("filter", "block", "list").stdout.decode()
    assert re.search(r"hand\.example\s+global\s+%s:6" % re.escape(gfile), out)
    items = ctl_json(srv, "filter", "block", "list")
    assert [i["entry"] for i in items] == [
        "spam.example", ".junk.test", "198.51.100.0/24", "hand.example",
        "more.test"]
    assert items[3]["line"] == 6
    srv.ctl("filter", "block", "remove", "SPAM.example")
    p = srv.ctl("filter", "block", "remove", "spam.example", check=False)
    assert p.returncode == 1 and b"not in" in p.stderr
    with open(gfile) as f:
        assert "# added by hand\n" in f.read()
    # a bad line is shown with its reason
    with open(gfile, "a") as f:
        f.write("not an entry\n")
    items = ctl_json(srv, "filter", "block", "list")
    assert items[-1]["error"] and items[-1]["line"] == 7
    # domain and user levels
    r = ctl_json(srv, "filter", "allow", "add", "--domain", dom.upper(),
                 "partner.example")
    assert r["file"] == os.path.join(srv.data_dir, "filter", "domains", dom,
                                     "allow.conf")
    r = ctl_json(srv, "filter", "allow", "add", "--user", user,
                 "friend@x.example")
    assert r["file"] == os.path.join(srv.data_dir, "filter", "users",
                                     user.lower(), "allow.conf")
    items = ctl_json(srv, "filter", "allow", "list", "--user", user)
    assert items[0]["entry"] == "friend@x.example"
    assert items[0]["level"] == "user"
    assert ctl_json(srv, "filter", "block", "list", "--user", user) == []
    # audited
    audit = srv.ctl("audit", "show", "--kind", "filter.list").stdout.decode()
    assert "friend@x.example" in audit
    # bad input: the entry named, nothing written
    p = srv.ctl("filter", "block", "add", "ok.example", "192.0.2.1/24",
                check=False)
    assert p.returncode == 1 and b'"192.0.2.1/24"' in p.stderr
    assert "ok.example" not in open(gfile).read()
    for args, what in ((["--domain", "nowhere.test"], b"no such domain"),
                       (["--user", "nobody@" + dom], b"no such mailbox"),
                       (["--domain", "../etc"], b"")):
        p = srv.ctl("filter", "allow", "add", *args, "x.example",
                    check=False)
        assert p.returncode != 0 and what in p.stderr, (args, p.stderr)
    p = srv.ctl("filter", "allow", "add", "--domain", dom, "--user", user,
                "x.example", check=False)
    assert p.returncode == 1 and b"not both" in p.stderr
    p = srv.ctl("filter", "allow", "frobnicate", "x.example", check=False)
    assert p.returncode == 2
    p = srv.ctl("filter", "allow", "add", check=False)
    assert p.returncode == 2


def test_lists_api(srv, token):
    dom = fresh_domain(srv)
    user = srv.add_mailbox("dave@" + dom)
    q = "/api/v1/filter/block?domain=" + dom
    r = api(srv, "POST", q, token, {"entries": ["a.example", "b.example"]})
    assert r["added"] == ["a.example", "b.example"]
    r = api(srv, "POST", q, token, {"entries": ["A.example"]})
    assert r["added"] == [] and r["unchanged"] == ["a.example"]
    items = api(srv, "GET", q, token)["items"]
    assert [(i["entry"], i["line"]) for i in items] == [("a.example", 1),
                                                        ("b.example", 2)]
    assert api(srv, "GET", "/api/v1/filter/allow?domain=" + dom,
               token)["items"] == []
    status, _, r = request(srv, "POST", q, token, {"entries": ["a@@b"]})
    assert status == 422 and r["error"]["code"] == "invalid_entry"
    assert '"a@@b"' in r["error"]["message"]
    status, _, r = request(srv, "POST", q, token, {"entries": []})
    assert status == 422
    status, _, r = request(srv, "DELETE", q + "&entry=zzz.example", token)
    assert status == 404
    status, _, r = request(srv, "DELETE", q, token)
    assert status == 400 and r["error"]["field"] == "entry"
    status, _, r = request(srv, "GET", "/api/v1/filter/grey", token)
    assert status == 404
    status, _, r = request(srv, "GET", "/api/v1/filter/block?domain="
                           "nowhere.test", token)
    assert status == 404
    status, _, r = request(srv, "GET", "/api/v1/filter/block?user=nobody@"
                           + dom, token)
    assert status == 404
    status, _, r = request(srv, "GET", "/api/v1/filter/block?domain=%s&user=%s"
                           % (dom, user), token)
    assert status == 400
    # scopes: a domain token reaches its domain and users, not global
    scoped = make_token(srv, "lists-" + dom, dom)[1]
    assert len(api(srv, "GET", q, scoped)["items"]) == 2
    api(srv, "POST", "/api/v1/filter/allow?user=" + user, scoped,
        {"entries": ["ok@x.example"]})
    status, _, _ = request(srv, "GET", "/api/v1/filter/block", scoped)
    assert status == 403
    # a session: its own user lists only
    status, _, sess = request(srv, "POST", "/api/v1/login", None,
                              {"user": user, "password": PASSWORD})
    assert status == 200, sess
    s = sess["token"]
    assert api(srv, "GET", "/api/v1/filter/allow?user=" + user,
               s)["items"][0]["entry"] == "ok@x.example"
    for path in ("/api/v1/filter/allow", q,
                 "/api/v1/filter/allow?user=" + srv.add_mailbox("eve@" + dom)):
        status, _, _ = request(srv, "GET", path, s)
        assert status == 403, path


# ---------------------------------------------------------------- quarantine

def test_quarantine_release_into_inbox(srv, token):
    dom = fresh_domain(srv)
    user = srv.add_mailbox("frank@" + dom)
    data = message("m1")
    e = hold(srv, token, user, data, reason="reported by the user")
    assert e["mailbox"] == user and e["reason"] == "reported by the user"
    assert e["size"] == len(data)
    qid = e["id"]
    assert imap_inbox(srv, user) == []
    # listed and previewed by the CLI and the API alike
    listed = ctl_json(srv, "quarantine", "list", "--domain", dom)
    assert [x["id"] for x in listed] == [qid]
    assert listed == api(srv, "GET", "/api/v1/quarantine?domain=" + dom,
                         token)["items"]
    shown = ctl_json(srv, "quarantine", "show", qid)
    assert shown["preview"]["subject"] == "You won"
    assert shown["preview"]["from"] == "Spammer <x@bad.example>"
    assert shown["preview"]["text"] == "Claim your prize m1\nline two\n"
    assert shown == api(srv, "GET", "/api/v1/quarantine/%d" % qid, token)
    out = srv.ctl("quarantine", "show", qid).stdout.decode()
    assert "Subject: You won" in out and "Claim your prize m1" in out
    # released: in INBOX exactly once, gone from the quarantine
    r = api(srv, "POST", "/api/v1/quarantine/%d/release" % qid, token)
    assert r == {"id": qid, "mailbox": user, "folder": "INBOX", "uid": 1}
    assert imap_inbox(srv, user) == [data]
    status, _, r = request(srv, "POST", "/api/v1/quarantine/%d/release" % qid,
                           token)
    assert status == 404
    assert imap_inbox(srv, user) == [data]
    assert ctl_json(srv, "quarantine", "list", "--domain", dom) == []
    audit = srv.ctl("audit", "show", "--kind", "quarantine").stdout.decode()
    assert "quarantine.add" in audit and "quarantine.release" in audit
    assert srv.store_check()[0] == 0


def test_quarantine_release_by_petrelctl(srv, token):
    dom = fresh_domain(srv)
    user = srv.add_mailbox("grace@" + dom)
    data = message("m2", subject="=?utf-8?b?5Lit5paH?=")
    qid = hold(srv, token, user, data)["id"]
    assert ctl_json(srv, "quarantine", "show", qid)["preview"]["subject"] \
        == "\u4e2d\u6587"
    out = srv.ctl("quarantine", "release", qid).stdout.decode()
    assert "released %d into the INBOX of %s" % (qid, user) in out
    assert imap_inbox(srv, user) == [data]
    p = srv.ctl("quarantine", "release", qid, check=False)
    assert p.returncode == 1 and b"no quarantined message" in p.stderr


def test_quarantine_delete_expire_and_bad_input(srv, token):
    dom = fresh_domain(srv)
    user = srv.add_mailbox("heidi@" + dom)
    a = hold(srv, token, user, message("m3"))["id"]
    b = hold(srv, token, user, message("m4"))["id"]
    c = hold(srv, token, user, message("m5"))["id"]
    # newest first, and filters
    assert [x["id"] for x in api(srv, "GET", "/api/v1/quarantine?mailbox="
                                 + user, token)["items"]] == [c, b, a]
    page = api(srv, "GET", "/api/v1/quarantine?domain=%s&limit=2" % dom,
               token)
    assert [x["id"] for x in page["items"]] == [c, b] and page["next"]
    page = api(srv, "GET", "/api/v1/quarantine?domain=%s&limit=2&cursor=%s"
               % (dom, page["next"]), token)
    assert [x["id"] for x in page["items"]] == [a] and page["next"] is None
    assert [x["id"] for x in ctl_json(srv, "quarantine", "list", "--mailbox",
                                      user)] == [c, b, a]
    # delete by the API and by the CLI
    api(srv, "DELETE", "/api/v1/quarantine/%d" % a, token, want=204)
    status, _, _ = request(srv, "DELETE", "/api/v1/quarantine/%d" % a, token)
    assert status == 404
    srv.ctl("quarantine", "delete", b)
    p = srv.ctl("quarantine", "delete", b, check=False)
    assert p.returncode == 1 and b"no quarantined message" in p.stderr
    # expiry: the store's clock is real, so move the entry's date back
    db = sqlite3.connect(os.path.join(srv.data_dir, "petrel.db"), timeout=30)
    db.execute("UPDATE quarantine SET expires = 1000 WHERE id = ?", (c,))
    db.commit()
    db.close()
    assert ctl_json(srv, "quarantine", "expire") == {
        "expired": 1, "message": "1 expired message(s) removed"}
    assert ctl_json(srv, "quarantine", "list", "--mailbox", user) == []
    assert srv.store_check()[0] == 0
    # bad input
    for bad in ("0", "-1", "abc", "99999999999999999999999"):
        p = srv.ctl("quarantine", "show", bad, check=False)
        assert p.returncode == 1 and b"bad quarantine id" in p.stderr, bad
        status, _, _ = request(srv, "GET", "/api/v1/quarantine/" + bad, token)
        assert status in (400, 404), bad
    for cmd in ("show", "release", "delete"):
        p = srv.ctl("quarantine", cmd, "424242", check=False)
        assert p.returncode == 1 and b"no quarantined message 424242" \
            in p.stderr
        status, _, r = request(srv, "DELETE" if cmd == "delete" else
                               "POST" if cmd == "release" else "GET",
                               "/api/v1/quarantine/424242" +
                               ("/release" if cmd == "release" else ""), token)
        assert status == 404 and r["error"]["code"] == "not_found"
    status, _, r = request(srv, "POST", "/api/v1/quarantine", token,
                           {"mailbox": "nobody@" + dom,
                            "message_base64": "eA=="})
    assert status == 404
    status, _, r = request(srv, "POST", "/api/v1/quarantine", token,
                           {"mailbox": user, "message_base64": "!!!"})
    assert status == 422 and r["error"]["field"] == "message_base64"
    status, _, r = request(srv, "GET", "/api/v1/quarantine?domain=nowhere.test",
                           token)
    assert status == 404
    p = srv.ctl("quarantine", "list", "--bogus", check=False)
    assert p.returncode == 2


def test_quarantine_scopes_and_users(srv, token):
    dom = fresh_domain(srv)
    other = fresh_domain(srv)
    ivan = srv.add_mailbox("ivan@" + dom)
    judy = srv.add_mailbox("judy@" + dom)
    mine = hold(srv, token, ivan, message("m6"))["id"]
    theirs = hold(srv, token, judy, message("m7"))["id"]
    # a token of another domain sees none of it
    scoped = make_token(srv, "q-" + other, other)[1]
    assert api(srv, "GET", "/api/v1/quarantine", scoped)["items"] == []
    status, _, _ = request(srv, "GET", "/api/v1/quarantine/%d" % mine, scoped)
    assert status == 403
    status, _, _ = request(srv, "POST", "/api/v1/quarantine", scoped,
                           {"mailbox": ivan, "message_base64": "eA=="})
    assert status == 403
    # the domain's own token sees both
    own = make_token(srv, "q-" + dom, dom)[1]
    assert {x["id"] for x in api(srv, "GET", "/api/v1/quarantine",
                                 own)["items"]} >= {mine, theirs}
    # a user: refused until the domain allows it, then its own mail only
    status, _, sess = request(srv, "POST", "/api/v1/login", None,
                              {"user": ivan, "password": PASSWORD})
    s = sess["token"]
    status, _, r = request(srv, "GET", "/api/v1/quarantine", s)
    assert status == 403 and "does not let recipients" in \
        r["error"]["message"]
    srv.ctl("filter", "settings", dom, "--user-release", "yes")
    assert [x["id"] for x in api(srv, "GET", "/api/v1/quarantine",
                                 s)["items"]] == [mine]
    status, _, _ = request(srv, "GET", "/api/v1/quarantine?mailbox=" + judy, s)
    assert status == 403
    for method, path in (("GET", "/api/v1/quarantine/%d" % theirs),
                         ("POST", "/api/v1/quarantine/%d/release" % theirs),
                         ("DELETE", "/api/v1/quarantine/%d" % theirs)):
        status, _, _ = request(srv, method, path, s)
        assert status == 404, (method, path)
    status, _, _ = request(srv, "POST", "/api/v1/quarantine", s,
                           {"mailbox": ivan, "message_base64": "eA=="})
    assert status == 403
    r = api(srv, "POST", "/api/v1/quarantine/%d/release" % mine, s)
    assert r["uid"] == 1
    assert imap_inbox(srv, ivan) == [message("m6")]
    api(srv, "DELETE", "/api/v1/quarantine/%d" % theirs, token, want=204)


# ---------------------------------------------------------------- docs

def doc_examples():
    """(command, expected status) for every ```shell block of the filter
    section of docs/api.md followed by its status line."""
    with open(DOCS) as f:
        text = f.read()
    found = re.findall(r"```shell\n(.*?)```\n+`(\d{3})[^`]*`", text, re.S)
    assert len(found) >= 15, "docs/api.md filter examples not found"
    return [(cmd.strip(), int(st)) for cmd, st in found]


def test_every_doc_example_runs(srv, token):
    dom = fresh_domain(srv)
    user = srv.add_mailbox("kim@" + dom)
    ids = [hold(srv, token, user, message("d%d" % i))["id"] for i in range(2)]
    status, _, sess = request(srv, "POST", "/api/v1/login", None,
                              {"user": user, "password": PASSWORD})
    assert status == 200
    env = dict(os.environ, PETREL=base(srv), TOKEN=token, CA=cafile(srv),
               DOMAIN=dom, MAILBOX=user, SESSION=sess["token"],
               QID=str(ids[0]), QID2=str(ids[1]))
    paths = run_doc_examples(doc_examples(), env)
    for r in ("domains/$DOMAIN/filter", "filter/block", "filter/allow",
              "quarantine", "quarantine/$QID", "quarantine/$QID/release",
              "quarantine/$QID2"):
        assert "/api/v1/" + r in paths, r
    # what the examples did: the release reached INBOX
    assert imap_inbox(srv, user) == [message("d0")]


# ---------------------------------------------------------------- petreld

def test_petreld_expires_at_start(srv, token):
    """petreld's keeper drops expired entries when it starts (then
    hourly); a release request left while petreld was down is carried
    out when it comes back."""
    dom = fresh_domain(srv)
    user = srv.add_mailbox("lee@" + dom)
    old = hold(srv, token, user, message("old"))["id"]
    asked = hold(srv, token, user, message("asked"))["id"]
    srv.stop()
    db = sqlite3.connect(os.path.join(srv.data_dir, "petrel.db"), timeout=30)
    db.execute("UPDATE quarantine SET expires = 1000 WHERE id = ?", (old,))
    db.commit()
    db.close()
    p = srv.ctl("quarantine", "release", asked, check=False,
                timeout=petreltest.CTL_TIMEOUT)
    assert p.returncode == 1 and b"did not release" in p.stderr
    srv.start()
    for _ in range(100):
        if ctl_json(srv, "quarantine", "list", "--mailbox", user) == []:
            break
        time.sleep(0.1)
    assert ctl_json(srv, "quarantine", "list", "--mailbox", user) == []
    assert imap_inbox(srv, user) == [message("asked")]
    assert srv.store_check()[0] == 0
