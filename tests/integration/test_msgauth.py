"""test_msgauth.py - SPF, DKIM, ARC and DMARC on incoming mail, end to
end: a real NSD on loopback serves the senders' records, smtplib sends
from 127.0.0.1 to petreld's MX port, and what a user would see is
checked: the Authentication-Results field on the stored message (and no
forged one naming us), the client's confirmed name in our Received field, DMARC p=reject refused with 550 5.7.1 saying why
and where to look, p=quarantine delivered to Junk, a DKIM signature made
by dkimpy verified, temporary DNS trouble never refusing mail."""

import base64
import os
import smtplib

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

import petreltest
from dnsserver import DnsServer

HOST = petreltest.HOSTNAME

ED_KEY = ed25519.Ed25519PrivateKey.generate()
ED_PUB = base64.b64encode(ED_KEY.public_key().public_bytes(
    serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()
# dkimpy takes an Ed25519 key as the base64 of its 32-byte seed
ED_PEM = base64.b64encode(ED_KEY.private_bytes(
    serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
    serialization.NoEncryption()))
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PEM = RSA_KEY.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
RSA_PUB = base64.b64encode(RSA_KEY.public_key().public_bytes(
    serialization.Encoding.DER,
    serialization.PublicFormat.SubjectPublicKeyInfo)).decode()


def txt(s):
    """TXT rdata: character-strings of at most 255 bytes"""
    return " ".join('"%s"' % s[i:i + 255] for i in range(0, len(s), 255))


ZONES = {
    "test.": [
        # SPF passes for 127.0.0.1, DKIM (Ed25519 and RSA), DMARC reject
        ("good.test.", "TXT", txt("v=spf1 ip4:127.0.0.1 -all")),
        ("ed._domainkey.good.test.", "TXT", txt("v=DKIM1; k=ed25519; p=" + ED_PUB)),
        ("rsa._domainkey.good.test.", "TXT", txt("v=DKIM1; k=rsa; p=" + RSA_PUB)),
        ("_dmarc.good.test.", "TXT", txt("v=DMARC1; p=reject")),
        # SPF says no, DMARC says reject
        ("strict.test.", "TXT", txt("v=spf1 ip4:192.0.2.1 -all")),
        ("_dmarc.strict.test.", "TXT", txt("v=DMARC1; p=reject; rua=mailto:d@strict.test")),
        # SPF says no, DMARC says quarantine
        ("quar.test.", "TXT", txt("v=spf1 -all")),
        ("_dmarc.quar.test.", "TXT", txt("v=DMARC1; p=quarantine")),
        # soft: SPF ~all and DMARC none
        ("soft.test.", "TXT", txt("v=spf1 ~all")),
        ("_dmarc.soft.test.", "TXT", txt("v=DMARC1; p=none")),
        # the domain's org domain publishes for a subdomain
        ("sub.org.test.", "TXT", txt("v=spf1 -all")),
        ("_dmarc.org.test.", "TXT", txt("v=DMARC1; p=none; sp=reject")),
        # clients' names: one leads back to its address, one does not
        ("relay.soft.test.", "A", "127.0.0.2"),
        ("claimed.soft.test.", "A", "127.0.0.9"),
    ],
    # reverse names of 127.0.0.2 and .3; 127.0.0.4 has none
    "0.0.127.in-addr.arpa.": [
        ("2", "PTR", "relay.soft.test."),
        ("3", "PTR", "claimed.soft.test."),
    ],
}


@pytest.fixture(scope="module")
def dns():
    with DnsServer(zones=ZONES, servfail=("broken.test",)) as d:
        yield d


@pytest.fixture(scope="module")
def srv(dns):
    yield from petreltest.running(
        "dns_forwarder = " + dns.forwarder, "dns_timeout = 5",
        "msgauth_inbound = yes")


def message(from_addr, marker, extra=b""):
    return (b"From: <%s>\r\nTo: <demo@example.test>\r\nSubject: %s\r\n"
            b"Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
            b"Message-ID: <%s@client.test>\r\n%s\r\nhello %s\r\n"
            % (from_addr.encode(), marker.encode(), marker.encode(), extra,
               marker.encode()))


def send(srv, mail_from, msg, rcpt="demo@example.test"):
    with smtplib.SMTP("127.0.0.1", srv.port, local_hostname="client.test",
                      timeout=30) as s:
        return s.sendmail(mail_from, [rcpt], msg)


def stored(srv, marker, folder="INBOX"):
    got = [m for m in srv.messages(petreltest.DEMO, folder)
           if marker.encode() in m]
    assert len(got) == 1, (marker, folder, len(got))
    return got[0]


def ar_of(msg):
    """The Authentication-Results fields of a stored message, unfolded."""
    head = msg.split(b"\r\n\r\n", 1)[0].decode()
    fields, cur = [], None
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and cur is not None:
            cur += " " + line.strip()
            continue
        if cur is not None:
            fields.append(cur)
        cur = line
    fields.append(cur)
    return [f for f in fields if f.lower().startswith("authentication-results:")]


def test_pass_with_dkim_ed25519(srv):
    marker = petreltest.unique("good")
    msg = message("ann@good.test", marker)
    sig = dkim.sign(msg, b"ed", b"good.test", ED_PEM,
                    signature_algorithm=b"ed25519-sha256",
                    include_headers=[b"from", b"to", b"subject"])
    send(srv, "ann@good.test", sig + msg)
    ar = ar_of(stored(srv, marker))
    assert len(ar) == 1, ar
    a = ar[0]
    assert a.startswith("Authentication-Results: %s;" % HOST), a
    assert "spf=pass smtp.mailfrom=ann@good.test" in a, a
    # HELO checked on its own too (RFC 7208 2.3); client.test has no SPF
    assert "spf=none smtp.helo=client.test" in a, a
    assert "dkim=pass" in a and "header.d=good.test" in a and "header.s=ed" in a, a
    assert "dmarc=pass" in a and "header.from=good.test" in a, a


def test_pass_with_dkim_rsa_and_bad_signature(srv):
    marker = petreltest.unique("rsa")
    msg = message("ann@good.test", marker)
    sig = dkim.sign(msg, b"rsa", b"good.test", RSA_PEM)
    send(srv, "ann@good.test", sig + msg)
    a = ar_of(stored(srv, marker))[0]
    assert "dkim=pass" in a and "header.s=rsa" in a, a
    # a body changed on the way: the signature fails, SPF still aligns
    marker = petreltest.unique("tampered")
    msg = message("ann@good.test", marker)
    sig = dkim.sign(msg, b"rsa", b"good.test", RSA_PEM)
    send(srv, "ann@good.test", sig + msg.replace(b"hello", b"HELLO"))
    a = ar_of(stored(srv, marker))[0]
    assert "dkim=fail" in a and "dmarc=pass" in a, a


def test_dmarc_reject_refused_with_reason(srv):
    marker = petreltest.unique("strict")
    with pytest.raises(smtplib.SMTPDataError) as e:
        send(srv, "bob@strict.test", message("bob@strict.test", marker))
    code, text = e.value.smtp_code, e.value.smtp_error.decode()
    assert code == 550 and text.startswith("5.7.1"), text
    assert "DMARC policy of strict.test" in text, text
    assert "_dmarc.strict.test" in text, text
    assert "SPF fail" in text and "127.0.0.1" in text, text
    assert not [m for m in srv.messages(petreltest.DEMO)
                if marker.encode() in m]


def test_dmarc_quarantine_goes_to_junk(srv):
    marker = petreltest.unique("quar")
    send(srv, "carl@quar.test", message("carl@quar.test", marker))
    m = stored(srv, marker, "Junk")
    assert "dmarc=fail" in ar_of(m)[0]
    assert not [x for x in srv.messages(petreltest.DEMO) if marker.encode() in x]


def test_softfail_and_none_policy_delivered(srv):
    marker = petreltest.unique("soft")
    send(srv, "dan@soft.test", message("dan@soft.test", marker))
    a = ar_of(stored(srv, marker))[0]
    assert "spf=softfail" in a and "dmarc=fail" in a and "dkim=none" in a, a


def test_subdomain_policy(srv):
    marker = petreltest.unique("sub")
    with pytest.raises(smtplib.SMTPDataError) as e:
        send(srv, "eve@sub.org.test", message("eve@sub.org.test", marker))
    assert e.value.smtp_code == 550
    assert "org.test" in e.value.smtp_error.decode()


def test_forged_results_removed(srv):
    marker = petreltest.unique("forged")
    forged = (b"Authentication-Results: %s; dkim=pass header.d=bank.test\r\n"
              b"Authentication-Results: (comment) %s;\r\n\tspf=pass\r\n"
              b"Authentication-Results: other.example; spf=pass\r\n"
              % (HOST.encode(), HOST.upper().encode()))
    send(srv, "dan@soft.test", forged + message("dan@soft.test", marker))
    m = stored(srv, marker)
    ar = ar_of(m)
    # ours, and the other receiver's; the two claiming our name are gone
    assert len(ar) == 2, ar
    assert "header.d=bank.test" not in m.decode()
    assert ar[1] == "Authentication-Results: other.example; spf=pass"


def test_dns_trouble_never_refuses(srv):
    marker = petreltest.unique("broken")
    send(srv, "fay@broken.test", message("fay@broken.test", marker))
    a = ar_of(stored(srv, marker))[0]
    assert "spf=temperror" in a and "dmarc=temperror" in a, a


def test_null_sender_checks_helo(srv):
    marker = petreltest.unique("bounce")
    send(srv, "", message("mailer-daemon@soft.test", marker))
    a = ar_of(stored(srv, marker))[0]
    assert "smtp.helo=client.test" in a, a


def first_received(msg):
    head = msg.split(b"\r\n\r\n", 1)[0].decode()
    at = head.index("\r\nReceived: ") + 2
    end = head.index("\r\n", at)
    return head[at:end]


def test_client_reverse_name_in_received(srv):
    """The checks look the client's name up and confirm it: our Received
    field then says "(name [ip])" as Postfix does, or "(unknown [ip])"
    when the address has no name or its name leads elsewhere; the log's
    checks line says the same."""
    for addr, want in (("127.0.0.2", "relay.soft.test"),
                       ("127.0.0.3", "unknown"), ("127.0.0.4", "unknown")):
        marker = petreltest.unique("rdns")
        with smtplib.SMTP("127.0.0.1", srv.port, local_hostname="client.test",
                          source_address=(addr, 0), timeout=30) as s:
            s.sendmail("ann@soft.test", ["demo@example.test"],
                       message("ann@soft.test", marker))
        r = first_received(stored(srv, marker))
        assert r == "Received: from client.test (%s [%s])" % (want, addr), r
    log = srv.stderr_text()
    assert "rdns=relay.soft.test" in log and "rdns=none" in log


def test_checks_off(dns):
    """msgauth_inbound = no: stored as sent, no header, no refusal."""
    for s in petreltest.running("dns_forwarder = " + dns.forwarder,
                                "msgauth_inbound = no"):
        marker = petreltest.unique("off")
        send(s, "bob@strict.test", message("bob@strict.test", marker))
        m = stored(s, marker)
        assert ar_of(m) == []
        # nor is the client's name looked up
        assert first_received(m) == \
            "Received: from client.test ([127.0.0.1])", first_received(m)


def test_enforce_off_only_records(dns):
    for s in petreltest.running("dns_forwarder = " + dns.forwarder,
                                "msgauth_inbound = yes", "dmarc_enforce = no"):
        marker = petreltest.unique("noenf")
        send(s, "bob@strict.test", message("bob@strict.test", marker))
        a = ar_of(stored(s, marker))[0]
        assert "dmarc=fail" in a and "policy.dmarc=reject" in a, a


# ---------------------------------------------------------------- signing

def dkim_records(srv, domain):
    """{name: TXT text} of the DKIM keys `petrelctl dns records` says to
    publish."""
    import json
    doc = json.loads(srv.ctl("dns", "records", domain, "--json").stdout)
    return {r["name"].rstrip(".").lower(): r["value"]
            for r in doc["records"] if r["purpose"] == "dkim"}


def submit(srv, marker, sender=petreltest.DEMO, rcpt=petreltest.DEMO):
    s = smtplib.SMTP("127.0.0.1", srv.submission_port,
                     local_hostname="client.petrel.test", timeout=30)
    s.starttls(context=petreltest.tls_ctx())
    s.login(sender, petreltest.DEMO_PASSWORD)
    s.sendmail(sender, [rcpt],
               b"From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nsigned %s\r\n"
               % (sender.encode(), rcpt.encode(), marker.encode(),
                  marker.encode()))
    s.quit()


def test_submitted_mail_is_signed_and_verifies_in_dkimpy(dns):
    for s in petreltest.running("dns_forwarder = " + dns.forwarder,
                                "dkim_sign = yes"):
        marker = petreltest.unique("signed")
        submit(s, marker)
        msg = stored(s, marker)
        _, _, rest = petreltest.split_trace(msg)
        head = rest.split(b"\r\n\r\n", 1)[0]
        sigs = [l for l in head.split(b"\r\n") if l.startswith(b"DKIM-Signature:")]
        assert len(sigs) == 2, head             # RSA and Ed25519
        assert b"a=rsa-sha256" in head and b"a=ed25519-sha256" in head
        keys = dkim_records(s, "example.test")
        assert len(keys) == 2, keys

        def dnsfunc(name, timeout=5):
            return keys.get(name.decode().rstrip(".").lower(), "").encode()
        # dkimpy (Debian's python3-dkim, the library of dkimverify)
        # checks every signature it finds
        d = dkim.DKIM(rest)
        for i in range(2):
            assert d.verify(idx=i, dnsfunc=dnsfunc), (i, rest[:600])
        # a changed body breaks them: it is really checking
        try:
            ok = dkim.DKIM(rest.replace(b"signed ", b"SIGNED ")).verify(
                dnsfunc=dnsfunc)
        except dkim.ValidationError:
            ok = False
        assert not ok
        # the keys' selectors are the ones `petrelctl dkim list` shows
        import json
        listed = json.loads(s.ctl("dkim", "list", "example.test", "--json").stdout)
        sels = {k["selector"] for k in listed if k["state"] == "active"}
        for sel in sels:
            assert (b"s=%s;" % sel.encode()) in head.replace(b"\r\n\t", b"") \
                or (b"s=%s" % sel.encode()) in head, (sel, head)


def test_signed_mail_passes_our_own_checks(dns):
    """petrel's signature, published as `dns records` prints it, verifies
    in petrel's own inbound checks (DKIM and DMARC pass)."""
    for s in petreltest.running("dns_forwarder = " + dns.forwarder,
                                "dkim_sign = yes"):
        marker = petreltest.unique("selfcheck")
        submit(s, marker)
        _, _, rest = petreltest.split_trace(stored(s, marker))
        keys = dkim_records(s, "example.test")
    zones = {"test.": list(ZONES["test."]) + [
        (name + ".", "TXT", txt(val)) for name, val in keys.items()] + [
        ("example.test.", "TXT", txt("v=spf1 -all")),
        ("_dmarc.example.test.", "TXT", txt("v=DMARC1; p=reject"))]}
    with DnsServer(zones=zones) as d2:
        for s2 in petreltest.running("dns_forwarder = " + d2.forwarder,
                                     "msgauth_inbound = yes",
                                     "hostname = mx2.petrel.test"):
            # relayed from elsewhere: SPF fails, the signature carries it
            send(s2, petreltest.DEMO, rest)
            a = ar_of(stored(s2, marker))[0]
            assert a.count("dkim=pass") == 2 and "dmarc=pass" in a, a
            assert "spf=fail" in a, a


def opendkim_verify(msg, zones, tmp_path):
    """OpenDKIM's own verifier on msg, DNS from NSD in a namespace."""
    import json
    import subprocess
    zp, mp = tmp_path / "zones.json", tmp_path / "msg.eml"
    zp.write_text(json.dumps(zones))
    mp.write_bytes(msg)
    helper = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "opendkim_verify.py")
    p = subprocess.run(["unshare", "--net", "--mount", "/usr/bin/python3",
                        helper, str(zp), str(mp)], capture_output=True,
                       timeout=120)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


@pytest.mark.skipif(os.geteuid() != 0, reason="a network and mount "
                    "namespace for OpenDKIM's resolver needs root")
def test_signed_mail_verifies_in_opendkim(dns, tmp_path):
    """Each of petrel's signatures alone, as OpenDKIM's library checks
    it with the records `dns records` prints (it reports the first
    signature's result, so each is given on its own)."""
    for s in petreltest.running("dns_forwarder = " + dns.forwarder,
                                "dkim_sign = yes"):
        marker = petreltest.unique("odk")
        submit(s, marker)
        _, _, rest = petreltest.split_trace(stored(s, marker))
        keys = dkim_records(s, "example.test")
    zones = {"test.": [(name + ".", "TXT", txt(val))
                       for name, val in keys.items()]}
    head, body = rest.split(b"\r\n\r\n", 1)
    fields, cur = [], b""
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            cur += b"\r\n" + line
        else:
            if cur:
                fields.append(cur)
            cur = line
    fields.append(cur)
    sigs = [f for f in fields if f.lower().startswith(b"dkim-signature:")]
    others = [f for f in fields if not f.lower().startswith(b"dkim-signature:")]
    assert len(sigs) == 2
    for sig in sigs:
        one = b"\r\n".join([sig] + others) + b"\r\n\r\n" + body
        rc, out = opendkim_verify(one, zones, tmp_path)
        assert rc == 0 and "rc=0" in out, (sig[:80], out)
    # and with a tampered body each fails there too
    for sig in sigs:
        bad = b"\r\n".join([sig] + others) + b"\r\n\r\n" + body.replace(
            b"signed", b"SIGNED")
        rc, out = opendkim_verify(bad, zones, tmp_path)
        assert rc != 0, (sig[:80], out)
