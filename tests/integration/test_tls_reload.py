"""test_tls_reload.py - SIGHUP reloads the TLS certificates: a session
open across the reload keeps working, new connections (IMAPS, SMTP
STARTTLS) get the new certificate, and a broken new certificate is
refused with an error logged while the previous one stays in service."""

import imaplib
import os
import signal
import time


import certs
import petreltest
from petreltest import DEMO, DEMO_PASSWORD, HOSTNAME, ctx_noverify
from test_tls_sni import served_subject

from cryptography import x509


def install(srv, cert):
    """Put cert as data_dir/tls/cert.pem and key.pem the way an operator
    would: new files renamed over the old, owned like the data dir (the
    service user reads them after the privilege drop)."""
    d = os.path.join(srv.data_dir, "tls")
    os.makedirs(d, exist_ok=True)
    cp, kp = cert.write(d, "new")
    st = os.stat(srv.data_dir) if srv.proc else os.stat(d)
    for p in (cp, kp):
        os.chown(p, st.st_uid, st.st_gid)
    os.rename(kp, os.path.join(d, "key.pem"))
    os.rename(cp, os.path.join(d, "cert.pem"))


def wait_log(srv, text, count):
    """Wait (no time limit of our own beyond the test's safety bound) for
    the count-th occurrence of text in petreld's stderr."""
    for _ in range(600):
        if srv.stderr_text().count(text) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("%r not logged:\n%s" % (text, srv.stderr_text()[-3000:]))


def peer_cn(imap):
    der = imap.sock.getpeercert(binary_form=True)
    cert = x509.load_der_x509_certificate(der)
    return cert.subject.rfc4514_string()


def test_sighup_reloads_certificates(make_server):
    srv = make_server(start=False)
    install(srv, certs.make(HOSTNAME, [HOSTNAME]))
    srv.start()
    old = petreltest_imap(srv)
    try:
        assert peer_cn(old) == "CN=%s" % HOSTNAME
        install(srv, certs.make("reloaded.petrel.test", [HOSTNAME]))
        srv.proc.send_signal(signal.SIGHUP)
        wait_log(srv, "TLS certificates reloaded", 1)
        # the session from before the reload goes on with its certificate
        assert old.noop()[0] == "OK"
        assert old.select("INBOX")[0] == "OK"
        assert peer_cn(old) == "CN=%s" % HOSTNAME
        # new connections see the new one
        assert served_subject(srv.imaps_port) == "CN=reloaded.petrel.test"
        assert served_subject(srv.port, starttls="smtp") == "CN=reloaded.petrel.test"
        new = petreltest_imap(srv)
        assert peer_cn(new) == "CN=reloaded.petrel.test"
        new.logout()

        # a broken certificate: refused, logged, the current one stays
        install(srv, certs.make(HOSTNAME, [HOSTNAME], days_from=-20, days_until=-1))
        srv.proc.send_signal(signal.SIGHUP)
        wait_log(srv, "TLS certificates not reloaded", 1)
        assert "certificate expired on" in srv.stderr_text()
        assert served_subject(srv.imaps_port) == "CN=reloaded.petrel.test"
        assert old.noop()[0] == "OK"
    finally:
        old.logout()


def petreltest_imap(srv):
    c = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=ctx_noverify(),
                          timeout=petreltest.NET_TIMEOUT)
    c.login(DEMO, DEMO_PASSWORD)
    return c
