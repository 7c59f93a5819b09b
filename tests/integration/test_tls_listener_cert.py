"""test_tls_listener_cert.py - a certificate and key per listener
(`listen_imaps = ADDR cert=PATH key=PATH`): two listeners with their own
certificates present them to openssl s_client and Python's ssl, the
others keep tls_cert, tls_sni names still win on every listener, `petrelctl
tls check` checks them, a bad one stops petreld with the key and the
listener named, and SIGHUP reloads a per-listener certificate."""

import os
import signal
import socket
import ssl
import subprocess

from cryptography import x509

import certs
from petreltest import HOSTNAME, Petrel, PetrelError, binary
from test_tls_reload import wait_log
from test_tls_sni import served_subject


def owned_like_data_dir(srv, paths):
    """The service user reads these after the privilege drop (reload)."""
    st = os.stat(srv.data_dir)
    for p in paths:
        os.chown(p, st.st_uid, st.st_gid)


def configure(srv, *lines):
    """The written config plus lines (later keys win), ports unchanged."""
    with open(srv.conf, "a") as f:
        f.write("\n".join(lines) + "\n")


def python_subject(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        with ctx.wrap_socket(raw) as s:
            der = s.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


def listener_server(make_server, tmp_path, extra=()):
    """imaps with a certificate under data_dir (relative path), pop3s with
    one given by absolute path (also under data_dir: a chrooted petreld
    reads only those on SIGHUP), the rest on petreld's own."""
    srv = make_server(start=False)
    srv.write_conf()
    tls_dir = os.path.join(srv.data_dir, "tls")
    os.makedirs(tls_dir, exist_ok=True)
    imap = certs.make("imap.listener.test", ["imap.listener.test"]).write(tls_dir, "imap")
    pop = certs.make("pop.listener.test", ["pop.listener.test"]).write(tls_dir, "pop")
    configure(srv,
              "listen_imaps = 127.0.0.1:%d cert=tls/imap.crt key=tls/imap.key" % srv.imaps_port,
              "listen_pop3s = 127.0.0.1:%d cert=%s key=%s" % ((srv.pop3s_port,) + pop),
              *extra)
    srv.start(new_ports=False)
    owned_like_data_dir(srv, imap + pop)
    return srv


def test_each_listener_presents_its_certificate(make_server, tmp_path):
    a = certs.make("mail.alpha.test", ["mail.alpha.test"]).write(str(tmp_path), "alpha")
    srv = listener_server(make_server, tmp_path,
                          ("tls_sni = mail.alpha.test:%s:%s" % a,))
    assert served_subject(srv.imaps_port) == "CN=imap.listener.test"
    assert served_subject(srv.pop3s_port) == "CN=pop.listener.test"
    assert python_subject(srv.imaps_port) == "CN=imap.listener.test"
    assert python_subject(srv.pop3s_port) == "CN=pop.listener.test"
    # listeners without cert= keep tls_cert (petreld's self-signed one)
    assert served_subject(srv.port, starttls="smtp") == "CN=%s" % HOSTNAME
    assert served_subject(srv.imap_port, starttls="imap") == "CN=%s" % HOSTNAME
    # a tls_sni name is served on every listener, its own cert or not
    for port in (srv.imaps_port, srv.pop3s_port):
        assert served_subject(port, name="mail.alpha.test") == "CN=mail.alpha.test"
    # an unknown name gets the listener's certificate
    assert served_subject(srv.imaps_port, name="other.test") == "CN=imap.listener.test"
    # the session behind it works
    with socket.create_connection(("127.0.0.1", srv.imaps_port), timeout=30) as raw:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with ctx.wrap_socket(raw) as s:
            assert s.recv(1024).startswith(b"* OK")
    # the config dump gives the options back
    dump = srv.ctl("config", "dump").stdout.decode()
    assert "listen_imaps = 127.0.0.1:%d cert=tls/imap.crt key=tls/imap.key" % srv.imaps_port in dump
    # petrelctl tls check covers the listeners, named by key and address
    r = srv.ctl("tls", "check", check=False)
    out = r.stdout.decode()
    assert r.returncode == 0, out
    assert "listen_imaps (127.0.0.1:%d):" % srv.imaps_port in out
    assert "listen_pop3s (127.0.0.1:%d):" % srv.pop3s_port in out
    assert "imap.listener.test" in out


def test_bad_listener_certificate_stops_startup(tmp_path):
    expired = certs.make("old.listener.test", ["old.listener.test"],
                         days_from=-20, days_until=-1).write(str(tmp_path), "old")
    p = Petrel()
    try:
        p.write_conf()
        configure(p, "listen_pop3s = 127.0.0.1:%d cert=%s key=%s" % ((p.pop3s_port,) + expired))
        r = p.ctl("tls", "check", check=False)
        out = r.stdout.decode()
        assert r.returncode == 1, out
        assert "listen_pop3s (127.0.0.1:%d):" % p.pop3s_port in out
        assert "certificate expired on" in out
        try:
            p.start(new_ports=False)
            raise AssertionError("petreld started with an expired listener certificate")
        except PetrelError:
            pass
        err = p.stderr_text()
        assert "listen_pop3s (127.0.0.1:%d)" % p.pop3s_port in err, err
        assert "certificate expired on" in err

        # a key that does not match the certificate
        other = certs.make("x.listener.test").write(str(tmp_path), "x")
        configure(p, "listen_pop3s = 127.0.0.1:%d cert=%s key=%s"
                  % (p.pop3s_port, other[0], expired[1]))
        try:
            p.start(new_ports=False)
            raise AssertionError("petreld started with a mismatched listener key")
        except PetrelError:
            pass
        assert "listen_pop3s (127.0.0.1:%d)" % p.pop3s_port in p.stderr_text()
    finally:
        if p.proc is not None:
            p.stop()
        p.cleanup()


def test_listener_option_syntax(tmp_path):
    p = Petrel()
    try:
        for bad, why in (("cert=a.pem", "cert= and key= go together"),
                         ("cert=a.pem key=b.key color=red", "unknown option 'color'"),
                         ("cert=a.pem cert=b.pem key=c.key", "cert= is given twice")):
            p.write_conf()
            configure(p, "listen_imaps = 127.0.0.1:%d %s" % (p.imaps_port, bad))
            r = subprocess.run([binary("petreld"), "-c", p.conf, "-t"],
                               capture_output=True, timeout=60)
            text = r.stderr.decode()
            assert r.returncode != 0
            assert "listen_imaps" in text and why in text, text
    finally:
        p.cleanup()


def test_sighup_reloads_listener_certificate(make_server, tmp_path):
    srv = listener_server(make_server, tmp_path)
    assert served_subject(srv.imaps_port) == "CN=imap.listener.test"
    tls_dir = os.path.join(srv.data_dir, "tls")
    cp, kp = certs.make("imap2.listener.test", ["imap2.listener.test"]).write(tls_dir, "new")
    owned_like_data_dir(srv, (cp, kp))
    os.rename(kp, os.path.join(tls_dir, "imap.key"))
    os.rename(cp, os.path.join(tls_dir, "imap.crt"))
    srv.proc.send_signal(signal.SIGHUP)
    wait_log(srv, "TLS certificates reloaded", 1)
    assert served_subject(srv.imaps_port) == "CN=imap2.listener.test"
    assert served_subject(srv.pop3s_port) == "CN=pop.listener.test"

    # a broken listener certificate: nothing reloaded, the current stay
    bad = certs.make("imap3.listener.test", days_from=-20, days_until=-1).write(tls_dir, "bad")
    owned_like_data_dir(srv, bad)
    os.rename(bad[1], os.path.join(tls_dir, "imap.key"))
    os.rename(bad[0], os.path.join(tls_dir, "imap.crt"))
    srv.proc.send_signal(signal.SIGHUP)
    wait_log(srv, "TLS certificates not reloaded", 1)
    assert "listen_imaps" in srv.stderr_text()
    assert served_subject(srv.imaps_port) == "CN=imap2.listener.test"
