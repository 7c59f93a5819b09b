"""Delivery status notifications as a mail client reads them: the reports
that tests/unit/queue/test_dsn.c builds (it writes them to files when
PETREL_DSN_SAMPLES is set) are parsed with Python's email package
(policy=email.policy.default), and their structure checked: a
multipart/report of three parts, the delivery-status fields per recipient,
the original headers, and that hostile remote replies (CR LF injection,
10 KB, control and non-ASCII bytes) add no header field or part."""

import email
import email.policy
import os
import subprocess

import pytest

from petreltest import REPO, build_dir


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    d = tmp_path_factory.mktemp("dsn")
    exe = os.path.join(build_dir(), "tests", "queue", "test_dsn")
    if not os.access(exe, os.X_OK):  # `make integration` alone builds no unit tests
        subprocess.run(["make", "-s", "BUILD=" + os.path.relpath(build_dir(), REPO),
                        os.path.relpath(exe, REPO)], cwd=REPO, check=True)
    r = subprocess.run([exe], env=dict(os.environ, PETREL_DSN_SAMPLES=str(d)),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr

    def load(name):
        with open(d / (name + ".eml"), "rb") as f:
            raw = f.read()
        return raw, email.message_from_bytes(raw, policy=email.policy.default)
    return load


def report_parts(msg, status_type="message/delivery-status"):
    assert msg.get_content_type() == "multipart/report"
    parts = list(msg.iter_parts())
    assert len(parts) == 3
    assert parts[0].get_content_type() == "text/plain"
    assert parts[1].get_content_type() == status_type
    return parts


def status_blocks(part):
    """message/delivery-status: Python gives one header block per
    message/recipient group."""
    return [dict((k.lower(), str(v)) for k, v in blk.items()) for blk in part.get_payload()]


def well_formed(raw):
    lines = raw.split(b"\r\n")
    assert lines[-1] == b""
    for ln in lines[:-1]:
        assert b"\r" not in ln and b"\n" not in ln
        assert len(ln) <= 998


def test_failed_report(samples):
    raw, msg = samples("failed")
    well_formed(raw)
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["To"].addresses[0].addr_spec == "alice@example.org"
    assert msg["From"].addresses[0].addr_spec == "MAILER-DAEMON@mx.example.org"
    assert msg.get_param("report-type") == "delivery-status"
    assert not msg.defects
    human, status, orig = report_parts(msg)
    text = human.get_content()
    assert "550 5.1.1 User unknown in virtual mailbox table" in text
    blocks = status_blocks(status)
    assert len(blocks) == 3
    assert blocks[0]["reporting-mta"] == "dns; mx.example.org"
    assert blocks[0]["original-envelope-id"] == "QQ314159"
    bob, carol = blocks[1], blocks[2]
    assert bob["final-recipient"] == "rfc822; bob@example.net"
    assert bob["original-recipient"] == "rfc822; Bob@Example.net"
    assert bob["action"] == "failed"
    assert bob["status"] == "5.1.1"
    assert bob["remote-mta"] == "dns; mx1.example.net"
    # unfolded, the whole multi-line reply is one Diagnostic-Code
    assert " ".join(bob["diagnostic-code"].split()) == (
        "smtp; 550-5.1.1 <bob@example.net>: Recipient address rejected: "
        "550 5.1.1 User unknown in virtual mailbox table")
    assert carol["final-recipient"] == "rfc822; carol@example.net"
    assert carol["status"] == "5.0.0"
    assert orig.get_content_type() == "text/rfc822-headers"
    hdrs = email.message_from_bytes(orig.get_payload(decode=True),
                                    policy=email.policy.default)
    assert hdrs["Subject"] == "quarterly figures"
    assert hdrs["Message-ID"] == "<orig-1@example.org>"


def test_delayed_full_and_capped(samples):
    raw, msg = samples("delayed_full")
    well_formed(raw)
    assert msg["Subject"] == "Delayed Mail (still being retried)"
    human, status, orig = report_parts(msg)
    rcpt = status_blocks(status)[1]
    assert rcpt["action"] == "delayed"
    assert rcpt["status"] == "4.7.1"
    assert rcpt["will-retry-until"].startswith("Mon, 23 Nov 2026")
    assert "tried until Mon, 23 Nov 2026" in human.get_content()
    assert orig.get_content_type() == "message/rfc822"
    inner = orig.get_content()
    assert inner["Subject"] == "quarterly figures"
    assert "the figures are attached." in inner.get_content()

    raw, msg = samples("full_capped")
    well_formed(raw)
    human, status, orig = report_parts(msg)
    assert orig.get_content_type() == "text/rfc822-headers"
    assert "larger than 64 bytes" in human.get_content()


def test_hostile_inputs(samples):
    raw, msg = samples("hostile")
    well_formed(raw)
    # nothing a remote reply, an address or a host name said became a
    # header field of the report or of its delivery-status part
    for name in ("X-Injected", "X-Evil", "Bcc"):
        assert msg[name] is None
    human, status, orig = report_parts(msg)
    blocks = status_blocks(status)
    assert len(blocks) == 4
    for blk in blocks:
        assert not [k for k in blk if k.startswith("x-") or k == "bcc"], blk
        for v in blk.values():
            assert "\r" not in v and "\n" not in v
    assert blocks[1]["diagnostic-code"].startswith("smtp; 550 5.7.1 no X-Injected: yes")
    long = blocks[2]["diagnostic-code"]
    assert long.startswith("x-unix")
    assert 4000 < len(long) < 4200 and long.endswith("...")
    assert blocks[3]["action"] == "delivered"
    # the original's 2,500-byte Subject is folded, not cut or dropped
    hdrs = email.message_from_bytes(orig.get_payload(decode=True),
                                    policy=email.policy.default)
    assert hdrs["To"] == "b@example.net"
    assert str(hdrs["Subject"]).replace(" ", "") == "x" * 2500
    # every part boundary is the report's own
    assert raw.count(b"--" + msg.get_boundary().encode()) == 4


def test_utf8_addresses(samples):
    raw, msg = samples("utf8")
    well_formed(raw)
    # RFC 6532 header fields are UTF-8: Python reads them from text (and
    # 8bit bodies from bytes)
    hmsg = email.message_from_string(raw.decode("utf-8"), policy=email.policy.default)
    assert hmsg["To"].addresses[0].addr_spec == "\u5f20\u4e09@example.org"
    assert msg.get_param("report-type") == "global-delivery-status"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/global-delivery-status", "message/global-headers"]
    assert "j\u00fcrgen" in parts[0].get_content()
    # Python's email parses message/global-delivery-status as one message:
    # read the fields from the part's bytes
    body = parts[1].as_bytes().decode("utf-8")
    assert "Final-Recipient: utf-8; j\u00fcrgen@b\u00fccher.example\r\n" in body \
        or "Final-Recipient: utf-8; j\u00fcrgen@b\u00fccher.example\n" in body
    assert "Original-Recipient: utf-8; j\u00fcrgen@b\u00fccher.example" in body

    raw, msg = samples("ascii_reply_8bit")
    well_formed(raw)
    raw.decode("ascii")
    assert msg.get_param("report-type") == "delivery-status"
    human, status, orig = report_parts(msg)
    assert "unbekannt: j??rgen" in status_blocks(status)[1]["diagnostic-code"]
