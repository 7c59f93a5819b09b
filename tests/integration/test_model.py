"""test_model.py - the tenants model seen from outside (decision 0022):
domains, aliases, groups, catch-all and domain aliases set up with
petrelctl, then mail sent with smtplib / a raw SMTP client to a real
petreld: each message lands in the right INBOXes, once each; a group's
posting policy, a plan's mailbox limit, a full domain (452), suspended
mailboxes and domains (550 5.2.1), an IDN domain over SMTPUTF8,
forwarding to another domain through the outbound queue, and sending as
an alias on submission."""

import os
import smtplib
import time

import pytest

import petreltest
from petreltest import SMTPConn, ctx_noverify, free_port
from dnsserver import DnsServer
from remotemta import RemoteMTA

PASSWORD = "Secret-pass-123"    # what Petrel.add_mailbox sets


@pytest.fixture(scope="module")
def dns():
    with DnsServer() as d:
        yield d


@pytest.fixture(scope="module")
def port():
    return free_port()


@pytest.fixture(scope="module")
def srv(dns, port):
    yield from petreltest.running(
        "dns_forwarder = " + dns.forwarder, "dns_timeout = 5",
        "outbound_port = %d" % port, "queue_retry_schedule = 1s",
        "auth_failure_delay = 0")


def new_domain(srv, *mailboxes):
    """A fresh domain with these local parts as mailboxes."""
    d = "t%s.test" % os.urandom(4).hex()
    srv.ctl("domain", "add", d)
    for m in mailboxes:
        srv.add_mailbox("%s@%s" % (m, d))
    return d


def body(marker, to="x"):
    return ("From: <sender@remote.test>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n"
            "body %s\r\n" % (to, marker, marker)).encode()


def count(srv, address, marker):
    return sum(marker.encode() in m for m in srv.messages(address))


def send(srv, rcpts, marker, sender="sender@remote.test"):
    with srv.smtplib() as s:
        refused = s.sendmail(sender, rcpts, body(marker))
    assert refused == {}


def out(p):
    return p.stdout.decode()


def test_alias_delivers_once_to_each_mailbox(srv):
    d = new_domain(srv, "ann", "ben")
    srv.ctl("alias", "add", "info@" + d, "ann@" + d, "ben@" + d)
    assert "info@%s -> ann@%s ben@%s" % (d, d, d) in out(srv.ctl("alias", "list", d))
    marker = petreltest.unique("alias")
    # named directly and through the alias: one copy each
    send(srv, ["info@" + d, "ann@" + d, "INFO@" + d.upper()], marker)
    assert count(srv, "ann@" + d, marker) == 1
    assert count(srv, "ben@" + d, marker) == 1
    srv.ctl("alias", "remove", "info@" + d)
    with srv.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<a@remote.test>", 250)
        c.expect("RCPT TO:<info@%s>" % d, 550, "5.1.1")


def test_group_members_and_posting_policy(srv):
    d = new_domain(srv, "ann", "ben", "cat")
    g = "all@" + d
    srv.ctl("group", "add", g, "--post", "members")
    for m in ("ann", "ben"):
        srv.ctl("group", "member", "add", g, "%s@%s" % (m, d))
    assert "post=members" in out(srv.ctl("group", "list", d))
    marker = petreltest.unique("group")
    send(srv, [g], marker, sender="ben@" + d)
    assert count(srv, "ann@" + d, marker) == 1
    assert count(srv, "ben@" + d, marker) == 1
    assert count(srv, "cat@" + d, marker) == 0
    # an outsider and the null sender are refused, with a clear reason
    for sender in ("stranger@remote.test", ""):
        with srv.connect() as c:
            c.ehlo()
            c.expect("MAIL FROM:<%s>" % sender, 250)
            r = c.expect("RCPT TO:<%s>" % g, 550, "5.7.1")
            assert "members" in r.text and g in r.text
    # listed senders only: the boss, not the members
    b = "board@" + d
    srv.ctl("group", "add", b, "--post", "senders")
    srv.ctl("group", "member", "add", b, "cat@" + d)
    srv.ctl("group", "sender", "add", b, "boss@remote.test")
    with srv.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<cat@%s>" % d, 250)
        c.expect("RCPT TO:<%s>" % b, 550, "5.7.1")
    marker = petreltest.unique("board")
    send(srv, [b], marker, sender="boss@remote.test")
    assert count(srv, "cat@" + d, marker) == 1


def test_catch_all(srv):
    d = new_domain(srv, "ann", "desk")
    srv.ctl("catchall", "set", d, "desk@" + d)
    marker = petreltest.unique("catch")
    send(srv, ["whoever@" + d, "ann@" + d], marker)
    assert count(srv, "desk@" + d, marker) == 1
    assert count(srv, "ann@" + d, marker) == 1      # a mailbox wins
    assert "catch-all: desk@" + d in out(srv.ctl("domain", "show", d))
    srv.ctl("catchall", "set", d, "off")
    with srv.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<a@remote.test>", 250)
        c.expect("RCPT TO:<whoever@%s>" % d, 550, "5.1.1")


def test_domain_alias(srv):
    d = new_domain(srv, "ann")
    alias = "alias-" + d
    srv.ctl("domain", "alias", "add", alias, d)
    marker = petreltest.unique("domalias")
    send(srv, ["Ann@" + alias], marker)
    assert count(srv, "ann@" + d, marker) == 1
    assert "alias-of %s" % d in out(srv.ctl("domain", "list"))
    # no mailboxes of its own
    p = srv.ctl("mailbox", "add", "bob@" + alias, check=False)
    assert p.returncode != 0 and b"alias" in p.stderr


def test_plan_mailbox_limit(srv):
    d = new_domain(srv)
    p = srv.ctl("domain", "plan", d, "--max-mailboxes", "19", check=False)
    assert p.returncode != 0 and b"20 to 10000" in p.stderr
    srv.ctl("domain", "plan", d, "--max-mailboxes", "20", "--quota", "5M")
    shown = out(srv.ctl("domain", "show", d))
    assert "max-mailboxes: 20" in shown and "mailbox-quota: 5242880" in shown
    for i in range(20):
        srv.ctl("mailbox", "add", "u%d@%s" % (i, d), "--password-stdin",
                input=b"Secret-pass-123\n")
    p = srv.ctl("mailbox", "add", "u20@" + d, "--password-stdin",
                input=b"Secret-pass-123\n", check=False)
    assert p.returncode == 1
    assert b"limit of 20 mailboxes" in p.stderr
    assert "mailboxes: 20" in out(srv.ctl("domain", "show", d))
    # the plan's quota is the new mailboxes' default
    assert "quota: 5242880" in out(srv.ctl("mailbox", "show", "u0@" + d))


def test_domain_quota_full(srv):
    d = new_domain(srv, "ann", "ben")
    srv.ctl("domain", "plan", d, "--max-mailboxes", "20",
            "--domain-quota", "2000")
    marker = petreltest.unique("big")
    # without SIZE, RCPT cannot know: the domain goes over by this one
    with srv.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<a@remote.test>", 250)
        c.expect("RCPT TO:<ann@%s>" % d, 250)
        c.expect("DATA", 354)
        c.send(body(marker) + b"x" * 3000 + b"\r\n.\r\n")
        c.expect_reply(250)
    assert count(srv, "ann@" + d, marker) == 1
    with srv.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<a@remote.test>", 250)
        r = c.expect("RCPT TO:<ben@%s>" % d, 452, "4.2.2")
        assert "Domain" in r.text


def test_suspended_mailbox_and_domain(srv):
    d = new_domain(srv, "ann", "ben")
    srv.ctl("mailbox", "suspend", "ann@" + d)
    assert "status: suspended" in out(srv.ctl("mailbox", "show", "ann@" + d))
    with srv.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<a@remote.test>", 250)
        c.expect("RCPT TO:<ann@%s>" % d, 550, "5.2.1")
        c.expect("RCPT TO:<ben@%s>" % d, 250)
    srv.ctl("mailbox", "activate", "ann@" + d)
    srv.ctl("domain", "suspend", d)
    assert "suspended" in out(srv.ctl("domain", "list"))
    with srv.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<a@remote.test>", 250)
        c.expect("RCPT TO:<ann@%s>" % d, 550, "5.2.1")
        c.expect("RCPT TO:<ben@%s>" % d, 550, "5.2.1")
    srv.ctl("domain", "activate", d)
    marker = petreltest.unique("back")
    send(srv, ["ann@" + d], marker)
    assert count(srv, "ann@" + d, marker) == 1


def test_idn_domain_over_smtputf8(srv):
    uni = "例子%s.公司" % os.urandom(2).hex()
    p = srv.ctl("domain", "add", uni)
    line = out(p)
    assert "xn--" in line and uni in line
    ascii_name = line.split()[1]
    shown = out(srv.ctl("domain", "show", ascii_name))
    assert "unicode: " + uni in shown
    srv.add_mailbox("li@" + uni)
    marker = petreltest.unique("idn")
    with srv.connect() as c:
        c.ehlo()
        c.expect("MAIL FROM:<a@remote.test> SMTPUTF8", 250)
        c.expect("RCPT TO:<li@%s>" % uni, 250)
        c.expect("DATA", 354)
        c.send(body(marker).replace(b"\r\n.", b"\r\n..") + b".\r\n")
        c.expect_reply(250)
    assert count(srv, "li@" + ascii_name, marker) == 1


def test_forward_to_another_domain(srv, port):
    d = new_domain(srv, "ann")
    srv.ctl("mailbox", "forward", "ann@" + d, "bob@mx.test")
    assert "forward: bob@mx.test" in out(srv.ctl("mailbox", "show", "ann@" + d))
    marker = petreltest.unique("fwd")
    with RemoteMTA("127.0.0.2", port) as mx:
        send(srv, ["ann@" + d], marker, sender="orig@remote.test")
        got = mx.wait_messages(1)
    assert count(srv, "ann@" + d, marker) == 1     # the copy it keeps
    m = got[0]
    assert m.rcpt_tos == ["bob@mx.test"]
    assert m.mail_from == "orig@remote.test"       # decision 0022
    assert marker.encode() in m.content
    srv.ctl("mailbox", "forward", "ann@" + d, "off")


def test_send_as_alias_on_submission(srv):
    d = new_domain(srv, "ann", "ben")
    srv.ctl("alias", "add", "sales@" + d, "ann@" + d)
    srv.ctl("alias", "add", "hr@" + d, "ben@" + d)
    with smtplib.SMTP("127.0.0.1", srv.submission_port, timeout=30) as s:
        s.starttls(context=ctx_noverify())
        s.login("ann@" + d, PASSWORD)
        code, _ = s.mail("sales@" + d)
        assert code == 250
        s.rset()
        code, msg = s.mail("hr@" + d)
        assert code == 553
