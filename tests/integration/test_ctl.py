"""test_ctl.py - petrelctl as an administrator and a script use it: every
command answers --help; --json gives one JSON document (the REST API's
objects) and, on error, an error document with a non-zero exit; `init`
sets up an empty installation (store, certificate, admin token, first
domain with postmaster) and can be run again; mailbox passwd, mailbox
remove and domain remove work on a running petreld, with mail delivered
over SMTP before, IMAP logins after, and the REST API's DELETE calls."""

import imaplib
import json
import os
import re
import ssl
import subprocess

import pytest

import petreltest
from test_api import make_token, request

PASSWORD = "Secret-pass-123"


@pytest.fixture(scope="module")
def srv():
    yield from petreltest.running("auth_failure_delay = 0")


def new_domain(srv, *locals_):
    d = "c%s.test" % os.urandom(4).hex()
    srv.ctl("domain", "add", d)
    for l in locals_:
        srv.add_mailbox("%s@%s" % (l, d))
    return d


def js(srv, *args, check=True):
    p = srv.ctl(*args, "--json", check=check)
    return p.returncode, json.loads(p.stdout.decode())


def send(srv, rcpt, marker):
    with srv.smtplib() as s:
        s.sendmail("someone@remote.test", [rcpt],
                   ("From: someone@remote.test\r\nTo: %s\r\nSubject: %s\r\n\r\n"
                    "hello %s\r\n" % (rcpt, marker, marker)).encode())


def imap_login(srv, user, password):
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port,
                          ssl_context=petreltest.ctx_noverify(), timeout=30)
    try:
        m.login(user, password)
        return True
    except imaplib.IMAP4.error:
        return False
    finally:
        try:
            m.logout()
        except Exception:
            pass


def commands(srv):
    """(group, verb) of every command petrelctl --help lists."""
    out = srv.ctl("--help").stdout.decode()
    found = []
    for line in out.splitlines():
        m = re.match(r"  petrelctl (\S+)(?: ([a-z0-9-]+))?", line)
        if m:
            found.append((m.group(1), m.group(2) or ""))
    return found


def test_help_on_every_command(srv):
    cmds = commands(srv)
    assert ("init", "") in cmds and ("mailbox", "remove") in cmds
    for want in [("apppass", "add"), ("2fa", "enable"), ("audit", "show"),
                 ("token", "add"), ("domain", "remove"), ("mailbox", "passwd")]:
        assert want in cmds, want
    for group, verb in cmds:
        args = [group] + ([verb] if verb else []) + ["--help"]
        p = srv.ctl(*args)
        text = p.stdout.decode()
        assert ("petrelctl %s %s" % (group, verb)).strip() in text, (args, text)
        # one line of usage and one of description for this command
        assert len(text.splitlines()) >= 3, text


def test_unknown_command_and_usage_errors(srv):
    p = srv.ctl("frobnicate", "now", check=False)
    assert p.returncode == 2 and b"usage:" in p.stderr
    p = srv.ctl("mailbox", "remove", check=False)
    assert p.returncode == 2
    assert p.stderr.decode().count("\n") == 1, p.stderr     # one line


def test_json_everywhere(srv):
    d = new_domain(srv, "ann")
    ann = "ann@" + d
    send(srv, ann, "json-1")
    rc, doc = js(srv, "domain", "list")
    assert rc == 0 and any(x["name"] == d for x in doc)
    assert js(srv, "domain", "show", d)[1]["mailboxes"] == 1
    doc = js(srv, "mailbox", "list", d)[1]
    assert [x["address"] for x in doc] == [ann]
    assert js(srv, "mailbox", "show", ann)[1]["address"] == ann
    assert js(srv, "folder", "list", ann)[1][0]["name"] == "INBOX"
    msgs = js(srv, "message", "list", ann)[1]
    assert len(msgs) == 1
    cat = js(srv, "message", "cat", ann, "INBOX", msgs[0]["uid"])[1]
    assert "hello json-1" in cat["message"]
    assert js(srv, "alias", "add", "info@" + d, ann)[1]["message"]
    assert js(srv, "alias", "list", d)[1][0]["targets"] == [ann]
    assert js(srv, "group", "list", d)[1] == []
    ap = js(srv, "apppass", "add", ann, "phone")[1]
    assert len(ap["password"]) >= 16
    assert js(srv, "apppass", "list", ann)[1][0]["name"] == "phone"
    assert js(srv, "audit", "show", "--domain", d)[1][0]["kind"] == "domain.add"
    assert js(srv, "audit", "verify")[1]["intact"] is True
    assert js(srv, "store", "check")[1]["problems"] == 0
    assert js(srv, "queue", "list")[1] == []
    assert "hostname" in js(srv, "config", "dump")[1]
    assert js(srv, "tls", "check")[1]["result"] in ("ok", "warning")
    tok = js(srv, "token", "add", "script")[1]
    assert tok["token"].startswith("ptk_")
    assert any(t["name"] == "script" for t in js(srv, "token", "list")[1])
    twofa = js(srv, "2fa", "enable", ann)[1]
    assert twofa["uri"].startswith("otpauth://totp/")
    # an error: a document on stdout, one line on stderr, exit 1
    p = srv.ctl("mailbox", "show", "nobody@" + d, "--json", check=False)
    assert p.returncode == 1
    assert json.loads(p.stdout)["error"]["code"] == "not_found"
    assert p.stderr.decode().strip() == "petrelctl: no mailbox nobody@" + d


def test_mailbox_passwd(srv):
    d = new_domain(srv, "bob")
    bob = "bob@" + d
    assert imap_login(srv, bob, PASSWORD)
    out = srv.ctl("mailbox", "passwd", bob).stdout.decode()
    new = re.search(r"password: (\S+)$", out.strip()).group(1)
    assert imap_login(srv, bob, new) and not imap_login(srv, bob, PASSWORD)
    # a chosen one, checked against the domain's policy
    p = srv.ctl("mailbox", "passwd", bob, "--password-stdin", input=b"short\n",
                check=False)
    assert p.returncode == 1 and b"weak password" in p.stderr
    srv.ctl("mailbox", "passwd", bob, "--password-stdin",
            input=b"Another-good-pass-9\n")
    assert imap_login(srv, bob, "Another-good-pass-9")


def test_mailbox_remove_with_mail(srv):
    d = new_domain(srv, "cat", "dan")
    cat, dan = "cat@" + d, "dan@" + d
    srv.ctl("group", "add", "team@" + d)
    srv.ctl("group", "member", "add", "team@" + d, cat)
    srv.ctl("group", "member", "add", "team@" + d, dan)
    srv.ctl("alias", "add", "boss@" + d, cat)
    for i in range(3):
        send(srv, cat, "rm-%d" % i)
    used = srv.mailbox_used(cat)
    assert used > 0
    doc = js(srv, "mailbox", "remove", cat)[1]
    assert doc["messages"] == 3 and doc["bytes"] == used
    assert not imap_login(srv, cat, PASSWORD)
    names = [x["address"] for x in js(srv, "mailbox", "list", d)[1]]
    assert names == [dan]
    # the group lost a member, the alias that only pointed there is gone
    group = js(srv, "group", "list", d)[1][0]
    assert group["members"] == [dan]
    assert js(srv, "alias", "list", d)[1] == []
    # mail to the old address is refused; to the group reaches the rest
    with srv.smtplib() as s:
        with pytest.raises(smtplib_refused()):
            s.sendmail("x@remote.test", [cat], b"Subject: x\r\n\r\nx\r\n")
    send(srv, "team@" + d, "after")
    assert any(b"hello after" in m for m in srv.messages(dan))
    rc, out = srv.store_check()
    assert rc == 0, out
    p = srv.ctl("mailbox", "remove", cat, check=False)
    assert p.returncode == 1 and b"no mailbox" in p.stderr
    kinds = [e["kind"] for e in js(srv, "audit", "show", "--kind",
                                   "mailbox.remove")[1]]
    assert kinds


def smtplib_refused():
    import smtplib
    return smtplib.SMTPRecipientsRefused


def test_domain_remove(srv):
    d = new_domain(srv, "eve")
    send(srv, "eve@" + d, "dom")
    p = srv.ctl("domain", "remove", d, check=False)
    assert p.returncode == 1 and b"1 mailbox(es)" in p.stderr
    assert js(srv, "domain", "show", d)[1]["name"] == d
    _, scoped = make_token(srv, "scoped", d)
    doc = js(srv, "domain", "remove", d, "--force")[1]
    assert doc["mailboxes"] == 1 and doc["messages"] == 1
    p = srv.ctl("domain", "show", d, check=False)
    assert p.returncode == 1
    # its scoped token went with it
    status, _, _ = request(srv, "GET", "/api/v1/domains", token=scoped)
    assert status == 401
    rc, out = srv.store_check()
    assert rc == 0, out


def test_api_delete(srv):
    _, token = make_token(srv, "deleter")
    d = new_domain(srv, "fay", "gus")
    send(srv, "fay@" + d, "api")
    status, _, body = request(srv, "DELETE", "/api/v1/mailboxes/fay@" + d,
                              token=token)
    assert status == 200 and body["messages"] == 1, body
    status, _, body = request(srv, "DELETE", "/api/v1/mailboxes/fay@" + d,
                              token=token)
    assert status == 404 and body["error"]["code"] == "not_found"
    status, _, body = request(srv, "DELETE", "/api/v1/domains/" + d,
                              token=token)
    assert status == 409 and body["error"]["code"] == "not_empty"
    # a domain's own token may not remove it
    _, scoped = make_token(srv, "own", d)
    status, _, body = request(srv, "DELETE", "/api/v1/domains/" + d,
                              token=scoped)
    assert status == 403
    status, _, body = request(srv, "DELETE", "/api/v1/domains/%s?force=true" % d,
                              token=token)
    assert status == 200 and body["mailboxes"] == 1, body
    status, _, _ = request(srv, "GET", "/api/v1/domains/" + d, token=token)
    assert status == 404


def test_init(tmp_path):
    """An empty installation: init makes everything, twice is harmless."""
    data = tmp_path / "data"
    conf = tmp_path / "petrel.conf"
    conf.write_text("data_dir = %s\nhostname = mail.init.test\n" % data)
    ctl = [petreltest.binary("petrelctl"), "-c", str(conf)]
    p = subprocess.run(ctl + ["init", "--domain", "init.test", "--json"],
                       capture_output=True, check=True)
    doc = json.loads(p.stdout)
    assert doc["token"].startswith("ptk_")
    assert doc["postmaster"] == "postmaster@init.test" and doc["password"]
    assert (data / "tls" / "cert.pem").exists()
    p = subprocess.run(ctl + ["init", "--domain", "init.test"],
                       capture_output=True, check=True)
    out = p.stdout.decode()
    assert "domain init.test exists" in out and "postmaster@init.test exists" in out
    assert "token" not in out        # one admin token is enough
    p = subprocess.run(ctl + ["mailbox", "list", "--json"], capture_output=True,
                       check=True)
    assert [m["address"] for m in json.loads(p.stdout)] == ["postmaster@init.test"]
