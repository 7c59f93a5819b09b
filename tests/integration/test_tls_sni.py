"""test_tls_sni.py - tls_sni: the certificate a client gets depends on the
server name it sends (openssl s_client -servername), on IMAPS and on SMTP
STARTTLS; exact names, "*.domain", and the default certificate for
unknown names and for clients that send none."""

import re
import subprocess

import pytest

import certs
from petreltest import HOSTNAME


def served_subject(port, name=None, starttls=None):
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port]
    if name:
        cmd += ["-servername", name]
    else:
        cmd += ["-noservername"]
    if starttls:
        cmd += ["-starttls", starttls]
    r = subprocess.run(cmd, input=b"", stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    out = r.stdout.decode("utf-8", "replace")
    m = re.search(r"^subject=(.*)$", out, re.M)
    assert m, out
    return m.group(1).replace(" ", "")


@pytest.fixture
def sni_server(make_server, tmp_path):
    d = str(tmp_path)
    a = certs.make("mail.alpha.test", ["mail.alpha.test"]).write(d, "alpha")
    w = certs.make("wild.beta.test", ["*.beta.test"]).write(d, "beta")
    sni = "tls_sni = mail.alpha.test:%s:%s, *.beta.test:%s:%s" % (a + w)
    srv = make_server(sni)
    srv.alpha_cert = a[0]
    return srv


@pytest.mark.parametrize("proto", ["imaps", "smtp-starttls"])
def test_sni_picks_certificate(sni_server, proto):
    port, starttls = ((sni_server.imaps_port, None) if proto == "imaps"
                      else (sni_server.port, "smtp"))
    assert served_subject(port, "mail.alpha.test", starttls) == "CN=mail.alpha.test"
    assert served_subject(port, "MAIL.Alpha.test", starttls) == "CN=mail.alpha.test"
    assert served_subject(port, "imap.beta.test", starttls) == "CN=wild.beta.test"
    # "*.beta.test" is one label only; unknown names get the default one
    assert served_subject(port, "a.b.beta.test", starttls) == "CN=%s" % HOSTNAME
    assert served_subject(port, "unknown.example", starttls) == "CN=%s" % HOSTNAME
    assert served_subject(port, None, starttls) == "CN=%s" % HOSTNAME


def test_sni_session_works(sni_server):
    import socket
    import ssl
    # the alpha certificate is self-signed: trusting it alone makes this a
    # full verification of the name the client asked for
    ctx = ssl.create_default_context(cafile=sni_server.alpha_cert)
    with socket.create_connection(("127.0.0.1", sni_server.imaps_port), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname="mail.alpha.test") as s:
            f = s.makefile("rb")
            assert f.readline().startswith(b"* OK")
            s.sendall(b"a NOOP\r\n")
            assert f.readline().startswith(b"a OK")


def test_sni_checked_by_petrelctl(sni_server):
    r = sni_server.ctl("tls", "check", check=False)
    out = r.stdout.decode()
    assert r.returncode == 0, out
    assert "tls_sni mail.alpha.test:" in out and "tls_sni *.beta.test:" in out
    assert 'subject="CN=wild.beta.test"' in out


def test_sni_bad_certificate_refused(make_server, tmp_path):
    import petreltest
    d = str(tmp_path)
    cp, kp = certs.make("old.test", ["old.test"], days_from=-9, days_until=-1).write(d, "old")
    srv = make_server("tls_sni = old.test:%s:%s" % (cp, kp), start=False)
    with pytest.raises(petreltest.PetrelError):
        srv.start(timeout=20)
    assert "%s: error: certificate expired on" % cp in srv.stderr_text()
