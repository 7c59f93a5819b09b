"""test_arc_seal.py - ARC sealing of mail petreld forwards (decision
0033), end to end: a real NSD serves the senders' records, smtplib sends
to petreld's MX port, an alias of a hosted domain expands to an address
at another domain, the outbound queue delivers to an aiosmtpd server,
and the message that arrives there carries our ARC set, checked with
dkimpy's ARC verifier and with petrel's own (dkim-tool arc-verify)
against the DKIM records `petrelctl dns records --json` prints:
cv=none for a first hop, cv=pass over a chain that came in valid, the
local copy of the same message sealed too, and a DMARC reject of a
message that is only forwarded still refused."""

import base64
import json
import os
import re
import smtplib

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import dkimlib
import petreltest
from dnsserver import DEFAULT_ZONES, DnsServer
from petreltest import free_port
from remotemta import RemoteMTA

HOST = petreltest.HOSTNAME


def rsa_key():
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = k.private_bytes(serialization.Encoding.PEM,
                          serialization.PrivateFormat.TraditionalOpenSSL,
                          serialization.NoEncryption())
    pub = base64.b64encode(k.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    return pem, "v=DKIM1; k=rsa; p=" + pub


SENDER_PEM, SENDER_TXT = rsa_key()      # good.test's DKIM key
LIST_PEM, LIST_TXT = rsa_key()          # list.test, an earlier ARC sealer


def txt(s):
    return " ".join('"%s"' % s[i:i + 255] for i in range(0, len(s), 255))


# what the senders publish; the hosted domain's keys are added from
# `dns records --json` for the verifiers
SENDER_RECORDS = {
    "good.test": "v=spf1 ip4:127.0.0.1 -all",
    "s1._domainkey.good.test": SENDER_TXT,
    "_dmarc.good.test": "v=DMARC1; p=reject",
    "arc._domainkey.list.test": LIST_TXT,
    "strict.test": "v=spf1 ip4:192.0.2.1 -all",
    "_dmarc.strict.test": "v=DMARC1; p=reject",
}


@pytest.fixture(scope="module")
def dns():
    zones = {"test.": list(DEFAULT_ZONES["test."]) +
             [(n + ".", "TXT", txt(v)) for n, v in SENDER_RECORDS.items()]}
    with DnsServer(zones=zones) as d:
        yield d


@pytest.fixture(scope="module")
def port():
    return free_port()


@pytest.fixture(scope="module")
def srv(dns, port):
    yield from petreltest.running(
        "dns_forwarder = " + dns.forwarder, "dns_timeout = 5",
        "outbound_port = %d" % port, "queue_retry_schedule = 1s",
        "msgauth_inbound = yes")


@pytest.fixture(scope="module")
def hosted(srv):
    """A hosted domain with mailbox ann, alias fwd@ to an external address
    only and alias both@ to ann and the external address."""
    d = "h%s.test" % os.urandom(4).hex()
    srv.ctl("domain", "add", d)
    srv.add_mailbox("ann@" + d)
    srv.ctl("alias", "add", "fwd@" + d, "bob@mx.test")
    srv.ctl("alias", "add", "both@" + d, "ann@" + d, "carl@mx.test")
    return d


def zone_of(srv, domain):
    """Every TXT record the verifiers need: the senders' and the hosted
    domain's, as `dns records --json` prints them."""
    recs = json.loads(srv.ctl("dns", "records", domain, "--json").stdout)
    zone = dict(SENDER_RECORDS)
    for r in recs["records"]:
        owner, _ttl, _in, rtype, rdata = r["zone"].split(" ", 4)
        if rtype == "TXT":
            zone[owner.rstrip(".")] = "".join(re.findall(r'"([^"]*)"', rdata))
    return zone


def message(from_addr, to, marker):
    return (b"From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n"
            b"Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
            b"Message-ID: <%s@client.test>\r\n\r\nhello %s\r\n"
            % (from_addr.encode(), to.encode(), marker.encode(),
               marker.encode(), marker.encode()))


def signed(msg):
    return dkim.sign(msg, b"s1", b"good.test", SENDER_PEM,
                     include_headers=[b"from", b"to", b"subject", b"date"]) + msg


def send(srv, mail_from, rcpt, msg):
    with smtplib.SMTP("127.0.0.1", srv.port, local_hostname="client.test",
                      timeout=30) as s:
        return s.sendmail(mail_from, [rcpt], msg)


def fields(msg, name):
    """The values of the fields called name, unfolded, top first."""
    head = msg.split(b"\r\n\r\n", 1)[0].decode()
    out = []
    for f in re.findall(r"^%s:([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)" % re.escape(name), head,
                        re.M | re.I):
        out.append(re.sub(r"\s+", " ", f).strip())
    return out


def field_names(msg):
    head = msg.split(b"\r\n\r\n", 1)[0].decode()
    return [l.split(":", 1)[0] for l in head.split("\r\n") if l[:1] not in (" ", "\t")]


def dkimpy_arc(msg, zone):
    def lookup(name, timeout=5):
        return zone.get(name.decode().rstrip("."), "").encode()
    return dkim.arc_verify(msg, dnsfunc=lookup)


def check_sealed(msg, zone, domain, instance, cv):
    """Our set is on top, i=instance, d=domain, cv=cv, and the whole
    chain validates in dkimpy and in petrel."""
    names = field_names(msg)
    top = names.index("ARC-Seal")
    assert names[top:top + 4] == ["ARC-Seal", "ARC-Message-Signature",
                                  "ARC-Authentication-Results",
                                  "Authentication-Results"], names
    seal = fields(msg, "ARC-Seal")[0]
    assert "i=%d;" % instance in seal and "cv=%s;" % cv in seal, seal
    assert "d=%s;" % domain in seal, seal
    aar = fields(msg, "ARC-Authentication-Results")[0]
    assert aar.startswith("i=%d; %s;" % (instance, HOST)), aar
    assert "spf=pass" in aar and "dkim=pass" in aar and "dmarc=pass" in aar, aar
    ar = fields(msg, "Authentication-Results")[0]
    assert aar == "i=%d; %s" % (instance, ar), (aar, ar)
    cv_py, results, reason = dkimpy_arc(msg, zone)
    assert cv_py == b"pass", (cv_py, reason, results)
    assert len(results) == instance
    ours = dkimlib.arc_verify(msg, zone)
    assert ours[0] == "pass", ours
    assert ours[1]["sets"] == str(instance) and ours[1]["d"] == domain, ours


def test_first_hop_forward_only(srv, hosted, port):
    """An alias to another domain alone: no local copy, still checked,
    and sealed as the domain of the address it was sent to, cv=none."""
    marker = petreltest.unique("first")
    msg = signed(message("ann@good.test", "fwd@" + hosted, marker))
    with RemoteMTA("127.0.0.2", port) as mx:
        send(srv, "ann@good.test", "fwd@" + hosted, msg)
        got = mx.wait_messages(1)
    m = got[0]
    assert m.rcpt_tos == ["bob@mx.test"]
    assert marker.encode() in m.content
    assert not m.content.startswith(b"Return-Path:")
    check_sealed(m.content, zone_of(srv, hosted), hosted, 1, "none")
    # the message as sent is untouched below our fields: its DKIM holds
    assert dkim.verify(m.content, dnsfunc=lambda n, timeout=5: zone_of(
        srv, hosted).get(n.decode().rstrip("."), "").encode())


def test_chain_pass_and_local_copy(srv, hosted, port, tmp_path):
    """A message a list sealed (i=1): we find the chain valid and add i=2
    with cv=pass; the copy kept for ann carries the same set."""
    marker = petreltest.unique("chain")
    msg = signed(message("ann@good.test", "both@" + hosted, marker))
    ar = (b"Authentication-Results: list.test; spf=pass "
          b"smtp.mailfrom=ann@good.test; dkim=pass header.d=good.test; "
          b"arc=none\r\n")
    # dkimpy's arc_sign needs the authres module Debian does not ship:
    # petrel's sealer makes the list's set; dkimpy checks it below
    key = tmp_path / "list.pem"
    key.write_bytes(LIST_PEM)
    incoming = dkimlib.arc_seal(
        ar + msg, "list.test", "arc", "none",
        "list.test; spf=pass smtp.mailfrom=ann@good.test; dkim=pass "
        "header.d=good.test; arc=none", key=str(key))
    assert dkimpy_arc(incoming, SENDER_RECORDS)[0] == b"pass"
    with RemoteMTA("127.0.0.2", port) as mx:
        send(srv, "ann@good.test", "both@" + hosted, incoming)
        got = mx.wait_messages(1)
    zone = zone_of(srv, hosted)
    m = got[0]
    assert m.rcpt_tos == ["carl@mx.test"]
    check_sealed(m.content, zone, hosted, 2, "pass")
    assert "arc=pass" in fields(m.content, "Authentication-Results")[0]
    local = [x for x in srv.messages("ann@" + hosted) if marker.encode() in x]
    assert len(local) == 1
    assert local[0].startswith(b"Return-Path:")
    assert fields(local[0], "ARC-Seal")[0] == fields(m.content, "ARC-Seal")[0]
    check_sealed(local[0], zone, hosted, 2, "pass")


def test_dmarc_reject_of_forward_only_refused(srv, hosted, port):
    """We are the receiver of record of mail we only forward (RFC 7489
    6.6): a DMARC reject is ours to give, and nothing goes on."""
    marker = petreltest.unique("strict")
    with RemoteMTA("127.0.0.2", port) as mx:
        with pytest.raises(smtplib.SMTPDataError) as e:
            send(srv, "bob@strict.test", "fwd@" + hosted,
                 message("bob@strict.test", "fwd@" + hosted, marker))
        assert e.value.smtp_code == 550
        assert "DMARC policy of strict.test" in e.value.smtp_error.decode()
        assert not mx.messages


def test_arc_seal_no(dns, port):
    """arc_seal = no: checked (our Authentication-Results), not sealed."""
    gen = petreltest.running(
        "dns_forwarder = " + dns.forwarder, "dns_timeout = 5",
        "outbound_port = %d" % port, "queue_retry_schedule = 1s",
        "msgauth_inbound = yes", "arc_seal = no")
    other = next(gen)
    try:
        d = "n%s.test" % os.urandom(4).hex()
        other.ctl("domain", "add", d)
        other.ctl("alias", "add", "fwd@" + d, "dan@mx.test")
        marker = petreltest.unique("noseal")
        msg = signed(message("ann@good.test", "fwd@" + d, marker))
        with RemoteMTA("127.0.0.2", port) as mx:
            send(other, "ann@good.test", "fwd@" + d, msg)
            got = mx.wait_messages(1)
        content = got[0].content
        assert fields(content, "ARC-Seal") == []
        assert "dmarc=pass" in fields(content, "Authentication-Results")[0]
    finally:
        next(gen, None)     # runs the generator's finish(): stops it
