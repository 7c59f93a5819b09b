"""test_dsn_ext.py - delivery status notifications asked for at
submission (RFC 3461, the SMTP DSN extension): DSN is offered on the
submission ports only; NOTIFY=NEVER silences a bounce; NOTIFY=SUCCESS
gets a "relayed" report when the next hop has no DSN, a "delivered" one
for a local recipient, and none from us when the next hop offers DSN,
to which NOTIFY, ORCPT, RET and ENVID are passed on. The remote servers
are real local servers found through a real DNS server (NSD)."""

import base64
import time

import pytest

import petreltest
from petreltest import DEMO, DEMO_PASSWORD, SMTPConn, ctx_noverify, free_port
from dnsserver import DnsServer
from remotemta import LineMTA, RemoteMTA
from test_queue import conf, inbox_with, parse_dsn, wait_queue_empty


@pytest.fixture(scope="module")
def dns():
    with DnsServer() as d:
        yield d


@pytest.fixture(scope="module")
def port():
    return free_port()


@pytest.fixture(scope="module")
def srv(dns, port):
    yield from petreltest.running(*conf(dns, port))


def plain():
    return base64.b64encode(("\0%s\0%s" % (DEMO, DEMO_PASSWORD)).encode()).decode()


def submit(srv, rcpts, marker, mail_params="", rcpt_params=""):
    """One message over STARTTLS + AUTH with DSN parameters, raw SMTP."""
    c = SMTPConn(srv.submission_port)
    c.ehlo()
    c.starttls(ctx_noverify())
    c.ehlo()
    features = c.features
    c.expect("AUTH PLAIN " + plain(), 235)
    c.expect("MAIL FROM:<%s>%s" % (DEMO, mail_params), 250)
    for r in rcpts:
        c.expect("RCPT TO:<%s>%s" % (r, rcpt_params), 250)
    msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nbody %s\r\n"
           % (DEMO, rcpts[0], marker, marker)).encode()
    assert c.data(msg).code == 250
    c.quit()
    return features


def test_dsn_offered_on_submission_only(srv):
    assert "DSN" in submit(srv, [DEMO], petreltest.unique("ehlo"))
    mx = SMTPConn(srv.port)
    mx.ehlo()
    assert "DSN" not in mx.features
    mx.expect("MAIL FROM:<a@b.test> RET=HDRS", 555, "5.5.4")
    mx.expect("MAIL FROM:<a@b.test>", 250)
    mx.expect("RCPT TO:<%s> NOTIFY=NEVER" % DEMO, 555, "5.5.4")
    mx.quit()


def test_bad_dsn_parameters(srv):
    c = SMTPConn(srv.submission_port)
    c.ehlo()
    c.starttls(ctx_noverify())
    c.ehlo()
    c.expect("AUTH PLAIN " + plain(), 235)
    c.expect("MAIL FROM:<%s> RET=SOME" % DEMO, 501, "5.5.4")
    c.expect("MAIL FROM:<%s> ENVID=a=b" % DEMO, 501, "5.5.4")
    c.expect("MAIL FROM:<%s> ENVID=%s" % (DEMO, "x" * 101), 501, "5.5.4")
    c.expect("MAIL FROM:<%s> RET=FULL ENVID=abc+2Bd" % DEMO, 250)
    c.expect("RCPT TO:<x@mx.test> NOTIFY=NEVER,SUCCESS", 501, "5.5.4")
    c.expect("RCPT TO:<x@mx.test> NOTIFY=SOMETIMES", 501, "5.5.4")
    c.expect("RCPT TO:<x@mx.test> ORCPT=noaddress", 501, "5.5.4")
    c.expect("RCPT TO:<x@mx.test> ORCPT=rfc822;%s" % ("a" * 600), 501, "5.5.4")
    c.expect("RCPT TO:<x@mx.test> NOTIFY=FAILURE NOTIFY=DELAY", 501, "5.5.4")
    c.expect("RSET", 250)
    c.quit()


def test_notify_never_silences_the_bounce(srv):
    marker = petreltest.unique("never")
    submit(srv, ["erin@nullmx.test"], marker, rcpt_params=" NOTIFY=NEVER")
    wait_queue_empty(srv)
    time.sleep(1)
    assert not inbox_with(srv, marker, "Undelivered", timeout=0)
    assert "report=none(NOTIFY)" in srv.stderr_text()


def test_notify_success_relayed_report(srv, port):
    """The next hop has no DSN: we say "relayed" (RFC 3461 5.2.3), with
    the original recipient and envelope id the client gave."""
    marker = petreltest.unique("relayed")
    with RemoteMTA("127.0.0.2", port) as mx:
        submit(srv, ["ok@mx.test"], marker, mail_params=" ENVID=env+2B1",
               rcpt_params=" NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Ok+2Balias@mx.test")
        mx.wait_messages(1)
        found = inbox_with(srv, marker, "Successful Mail Delivery")
    assert found
    m, parts, rcpts = parse_dsn(found[0])
    assert rcpts[0]["Action"] == "relayed"
    assert rcpts[0]["Original-Recipient"].endswith("Ok+alias@mx.test")
    blocks = parts[1].get_payload()
    assert blocks[0]["Original-Envelope-Id"] == "env+1"


def test_notify_success_local_delivered_report(srv):
    other = srv.new_mailbox("receipt")
    marker = petreltest.unique("delivered")
    submit(srv, [other], marker, rcpt_params=" NOTIFY=SUCCESS")
    found = inbox_with(srv, marker, "Successful Mail Delivery")
    assert found
    _, _, rcpts = parse_dsn(found[0])
    assert rcpts[0]["Action"] == "delivered"
    assert other in rcpts[0]["Final-Recipient"]


def test_dsn_passed_on_to_a_next_hop_that_offers_it(srv, port):
    marker = petreltest.unique("passon")
    with LineMTA("127.0.0.2", port) as mx:
        submit(srv, ["p@mx.test"], marker, mail_params=" RET=FULL ENVID=e1",
               rcpt_params=" NOTIFY=SUCCESS,DELAY ORCPT=rfc822;p+3Dq@mx.test")
        mx.wait_messages(1)
        cmds = [c.decode() for c in mx.commands]
    mail = [c for c in cmds if c.startswith("MAIL FROM:")][-1]
    rcpt = [c for c in cmds if c.startswith("RCPT TO:")][-1]
    assert " RET=FULL" in mail and " ENVID=e1" in mail, mail
    assert rcpt == "RCPT TO:<p@mx.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;p+3Dq@mx.test", rcpt
    wait_queue_empty(srv)
    # the next hop reports success itself: nothing from us
    time.sleep(1)
    assert not inbox_with(srv, marker, "Successful Mail Delivery", timeout=0)
