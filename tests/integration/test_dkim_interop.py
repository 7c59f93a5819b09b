"""test_dkim_interop.py - petrel's DKIM against Debian's implementations,
with fresh RSA-2048 and Ed25519 keys:
  - mail signed by dkim-tool verifies with dkimpy (python3-dkim's verifier,
    given the key records through its dnsfunc hook, as dkimverify would
    read them from DNS);
  - mail signed by dkimpy's dkimsign verifies in dkim-tool;
  - mail signed by OpenDKIM's opendkim-testmsg verifies in dkim-tool (it
    signs rsa-sha1 only, so the result is "policy": the signature checks
    out but RFC 8301 forbids accepting it; a damaged copy is "fail");
  - two signatures on one message (dual signing) are independent.
opendkim-testmsg's verify mode asks the system resolver for keys, which a
test cannot point at loopback, so OpenDKIM only signs here.
"""

import base64
import os
import subprocess

import dkim
import pytest

import dkimlib
from dkimlib import results, sign

MSG = (b"From: Alice <alice@example.com>\r\n"
       b"To: Bob <bob@example.org>\r\n"
       b"Cc: carol@example.org\r\n"
       b"Subject: interop   test\r\n"
       b"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
       b"Message-ID: <interop.1@example.com>\r\n"
       b"MIME-Version: 1.0\r\n"
       b"Content-Type: text/plain; charset=us-ascii\r\n"
       b"\r\n"
       b"Hello  there, \t\r\n"
       b"second line\r\n"
       b"\r\n\r\n")


def _der(pem_path, public):
    args = ["openssl", "pkey", "-in", pem_path, "-outform", "DER"]
    return subprocess.run(args + (["-pubout"] if public else []), check=True,
                          capture_output=True).stdout


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("dkim-keys")
    rsa, ed = str(d / "rsa.pem"), str(d / "ed.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", rsa], check=True, capture_output=True)
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", ed],
                   check=True, capture_output=True)
    seed = str(d / "ed.seed")  # dkimpy's Ed25519 key file: the base64 seed
    with open(seed, "wb") as f:
        f.write(base64.b64encode(_der(ed, False)[-32:]))
    zone = {
        "rsa._domainkey.example.com":
            "v=DKIM1; k=rsa; p=" + base64.b64encode(_der(rsa, True)).decode(),
        "ed._domainkey.example.com":
            "v=DKIM1; k=ed25519; p=" + base64.b64encode(_der(ed, True)[-32:]).decode(),
    }
    return {"rsa": rsa, "ed": ed, "seed": seed, "zone": zone}


def _dnsfunc(zone):
    def lookup(name, timeout=5):
        return zone.get(name.decode().rstrip("."), "").encode()
    return lookup


@pytest.mark.parametrize("alg", ["rsa", "ed"])
@pytest.mark.parametrize("canon", ["relaxed/relaxed", "simple/simple", "relaxed/simple"])
def test_signed_here_verifies_in_dkimpy(keys, alg, canon):
    key = dict(key=keys["rsa"]) if alg == "rsa" else dict(key=keys["ed"])
    signed = sign(MSG, "example.com", alg, canon=canon, **key)
    assert signed.startswith(b"DKIM-Signature: v=1; a=")
    head = signed.split(b"\r\n\r\n", 1)[0]
    assert max(len(l) for l in head.split(b"\r\n")) <= 78
    assert dkim.verify(signed, dnsfunc=_dnsfunc(keys["zone"]))
    assert results(signed, keys["zone"]) == ["pass"]
    # dkimpy and we agree on a damaged copy too
    bad = signed.replace(b"second line", b"second line!")
    assert not dkim.verify(bad, dnsfunc=_dnsfunc(keys["zone"]))
    assert results(bad, keys["zone"]) == ["fail"]


@pytest.mark.parametrize("alg", ["rsa-sha256", "ed25519-sha256"])
@pytest.mark.parametrize("hc,bc", [("relaxed", "relaxed"), ("simple", "simple"),
                                   ("relaxed", "simple")])
def test_dkimsign_verifies_here(keys, alg, hc, bc):
    sel, keyfile = ("rsa", keys["rsa"]) if alg == "rsa-sha256" else ("ed", keys["seed"])
    p = subprocess.run(["dkimsign", "--signalg", alg, "--hcanon", hc, "--bcanon", bc,
                        sel, "example.com", keyfile], input=MSG, capture_output=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(b"DKIM-Signature:")
    r = dkimlib.verify(p.stdout, keys["zone"])
    assert [x[0] for x in r] == ["pass"], r
    assert r[0][1]["a"] == alg and r[0][1]["d"] == "example.com"


def test_opendkim_signed_verifies_here(keys, tmp_path):
    p = subprocess.run(["opendkim-testmsg", "-C", "-t", str(tmp_path), "-d", "example.com",
                        "-k", keys["rsa"], "-s", "rsa"], input=MSG, capture_output=True)
    assert p.returncode == 0, p.stderr
    signed = p.stdout
    r = dkimlib.verify(signed, keys["zone"])
    assert [x[0] for x in r] == ["policy"], r
    assert r[0][1]["a"] == "rsa-sha1" and r[0][1]["reason"] == "rsa-sha1 is not accepted"
    assert r[0][1]["bits"] == "2048"
    assert results(signed.replace(b"Hello", b"Jello"), keys["zone"]) == ["fail"]


def test_dual_signing(keys):
    once = sign(MSG, "example.com", "rsa", key=keys["rsa"])
    twice = sign(once, "example.com", "ed", key=keys["ed"])
    assert results(twice, keys["zone"]) == ["pass", "pass"]
    d = dkim.DKIM(twice)
    assert d.verify(idx=0, dnsfunc=_dnsfunc(keys["zone"]))
    assert d.verify(idx=1, dnsfunc=_dnsfunc(keys["zone"]))
    # the Ed25519 signature does not cover the RSA one: either can go
    without_rsa = twice.replace(once[:once.index(b"\r\nFrom:") + 2], b"")
    assert results(without_rsa, keys["zone"]) == ["pass"]
    assert b"dkim-signature" not in twice.split(b"\r\n\r\n")[0].lower().split(b"h=")[1][:400]


def test_oversigned_headers_cannot_be_added(keys):
    signed = sign(MSG, "example.com", "rsa", key=keys["rsa"])
    for extra in (b"Subject: other\r\n", b"Reply-To: evil@example.net\r\n",
                  b"Content-Type: text/html\r\n"):
        sep = signed.index(b"\r\n\r\n") + 2
        assert results(signed[:sep] + extra + signed[sep:], keys["zone"]) == ["fail"], extra
    # a field outside the signed set may be added (Received, by relays)
    assert results(b"Received: from relay\r\n" + signed, keys["zone"]) == ["pass"]


def test_body_length_tag_from_dkimpy(keys):
    """l= (RFC 6376 3.5): dkimpy signs with length=True; text appended
    after the counted body still passes, in dkimpy and here; a changed
    counted part fails."""
    with open(keys["rsa"], "rb") as f:
        pem = f.read()
    sig = dkim.sign(MSG, b"rsa", b"example.com", pem, length=True)
    assert b" l=" in sig or b";l=" in sig or b"\tl=" in sig
    signed = sig + MSG
    assert results(signed, keys["zone"]) == ["pass"]
    more = signed + b"appended by a list\r\n"
    assert dkim.verify(more, dnsfunc=_dnsfunc(keys["zone"]))
    assert results(more, keys["zone"]) == ["pass"]
    assert results(signed.replace(b"Hello", b"Jello"), keys["zone"]) == ["fail"]
    # a body cut short of l= cannot be what was signed
    cut = signed[:signed.index(b"second line")]
    assert results(cut, keys["zone"]) == ["permerror"]
