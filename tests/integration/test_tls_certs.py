"""test_tls_certs.py - `petrelctl tls check` and petreld's startup checks
on real certificate files: a good one, an expired one, a key that does
not match, a certificate for another name, a chain without its
intermediate, and petreld refusing to start with an expired certificate."""

import os
import subprocess

import pytest

import certs
import petreltest
from petreltest import HOSTNAME, Petrel


@pytest.fixture
def conf_with():
    """factory(cert_obj_or_paths...) -> a written, not started Petrel whose
    tls_cert/tls_key are the given files."""
    made = []

    def factory(cert_path, key_path, *extra):
        p = Petrel(extra_conf=("tls_cert = %s" % cert_path,
                               "tls_key = %s" % key_path) + extra)
        p.write_conf()
        made.append(p)
        return p

    yield factory
    for p in made:
        p.cleanup()


def check(p):
    r = p.ctl("tls", "check", check=False)
    return r.returncode, r.stdout.decode()


def test_good_certificate(conf_with, tmp_path):
    ca = certs.make("Petrel Test CA", ca=True, days_until=3000)
    leaf = certs.make(HOSTNAME, [HOSTNAME], issuer=ca, days_until=200)
    cp, kp = leaf.write(str(tmp_path), "good", chain=(ca,))
    rc, out = check(conf_with(cp, kp))
    print(out)
    assert rc == 0, out
    assert "%s: expires " % cp in out and "(200 days)" in out, out
    assert 'subject="CN=%s"' % HOSTNAME in out and 'issuer="CN=Petrel Test CA"' in out
    assert "error" not in out
    assert "does not cover" not in out


def test_expired_certificate(conf_with, tmp_path):
    cp, kp = certs.make(HOSTNAME, [HOSTNAME], days_from=-60, days_until=-2).write(
        str(tmp_path), "old")
    rc, out = check(conf_with(cp, kp))
    assert rc == 1, out
    assert "%s: error: certificate expired on " % cp in out, out


def test_key_does_not_match(conf_with, tmp_path):
    cp, _ = certs.make(HOSTNAME, [HOSTNAME]).write(str(tmp_path), "a")
    _, kp = certs.make(HOSTNAME, [HOSTNAME]).write(str(tmp_path), "b")
    rc, out = check(conf_with(cp, kp))
    assert rc == 1, out
    assert "%s: error: the key does not match the certificate in %s" % (kp, cp) in out, out


def test_missing_files(conf_with, tmp_path):
    rc, out = check(conf_with(str(tmp_path / "no.crt"), str(tmp_path / "no.key")))
    assert rc == 1, out
    assert "no.crt: error: cannot read the certificate: No such file or directory" in out
    assert "no.key: error: cannot read the private key" in out


def test_other_host_and_missing_intermediate_warn(conf_with, tmp_path):
    root = certs.make("Petrel Test Root", ca=True, days_until=3000)
    inter = certs.make("Petrel Test Intermediate", issuer=root, ca=True, days_until=3000)
    leaf = certs.make("other.example", ["other.example"], issuer=inter, days_until=20)
    cp, kp = leaf.write(str(tmp_path), "leaf")
    rc, out = check(conf_with(cp, kp))
    print(out)
    assert rc == 0, out
    assert "does not cover the name %s" % HOSTNAME in out
    assert "chain incomplete: the issuer 'CN=Petrel Test Intermediate'" in out
    assert "warning: certificate expires on" in out and "in 20 days" in out


def test_petreld_refuses_expired_certificate(conf_with, tmp_path):
    cp, kp = certs.make(HOSTNAME, [HOSTNAME], days_from=-60, days_until=-2).write(
        str(tmp_path), "old")
    p = conf_with(cp, kp)
    r = subprocess.run([petreltest.binary("petreld"), "-c", p.conf], cwd=p.base,
                       env=p.environ(), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 1, err
    assert "petreld: %s: error: certificate expired on " % cp in err, err
    assert "renew it" in err
    assert b"petreld ready" not in r.stdout


def test_default_self_signed_passes(make_server):
    srv = make_server()
    rc, out = check(srv)
    assert rc == 0, out
    assert "self-signed" in out and "tls: ok, with warnings" in out
