"""test_config.py - petreld's command line and petrel.conf: "FILE:LINE:
message" and exit status 1 for unknown keys and bad values, -t, -o
overrides, the demo password printed on first start only, and the
lifecycle: SIGTERM/SIGINT answer open sessions 421 and exit 0."""

import os
import re
import signal
import subprocess

import pytest

import petreltest
from petreltest import DEMO, Petrel, SMTPConn, find_marker, make_message, unique


@pytest.fixture
def conf_only():
    """A Petrel with a written petrel.conf that is not started."""
    made = []

    def factory(*extra):
        p = Petrel(extra_conf=extra)
        p.write_conf()
        made.append(p)
        return p

    yield factory
    for p in made:
        p.cleanup()


def petreld(p, *args, timeout=30):
    """Run petreld in p's base dir with -c petrel.conf (relative, so that
    messages read "petrel.conf:LINE: ...")."""
    r = subprocess.run([petreltest.binary("petreld"), "-c", "petrel.conf"] + list(args),
                       cwd=p.base, env=p.environ(), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    err = r.stderr.decode("utf-8", "replace")
    assert not any(m in err for m in petreltest.SANITIZER_MARKERS), \
        "sanitizer report from petreld %s:\n%s" % (" ".join(args), err)
    return r


def conf_line_of(p, text):
    with open(p.conf) as f:
        for n, line in enumerate(f, 1):
            if line.rstrip("\n") == text:
                return n
    raise AssertionError("%r not in %s" % (text, p.conf))


@pytest.mark.parametrize("check_only", [False, True])
def test_unknown_key(conf_only, check_only):
    p = conf_only("no_such_key = 1")
    line = conf_line_of(p, "no_such_key = 1")
    r = petreld(p, *(["-t"] if check_only else []))
    err = r.stderr.decode()
    assert r.returncode == 1, (r.returncode, err)
    assert "petrel.conf:%d: unknown key" % line in err, err
    assert b"petreld ready" not in r.stdout


@pytest.mark.parametrize("bad", [
    "workers = lots",
    "workers = -1",
    "smtp_max_message_size = 10Q",
    "smtp_max_message_size = 99999999999999999999999",
    "smtp_max_recipients = 0",
    "smtp_command_timeout = 5x",
    "listen_smtp = 127.0.0.1:99999",
    "listen_smtp = 127.0.0.1:",
    "tls_min_version = TLSv1.1",
    "log_level = loud",
    "chroot = maybe",
])
def test_bad_value(conf_only, bad):
    p = conf_only(bad)
    line = conf_line_of(p, bad)
    r = petreld(p)
    err = r.stderr.decode()
    assert r.returncode == 1, (r.returncode, err)
    assert "petrel.conf:%d: bad value" % line in err, err


def test_check_only_ok(conf_only):
    p = conf_only()
    r = petreld(p, "-t")
    out = (r.stdout + r.stderr).decode()
    assert r.returncode == 0, out
    assert "config ok" in out
    assert "petreld ready" not in out


def test_override_on_command_line(conf_only):
    p = conf_only()
    r = petreld(p, "-t", "-o", "no_such_key=1")
    assert r.returncode == 1
    assert "unknown key" in r.stderr.decode()
    r = petreld(p, "-t", "-o", "workers=many")
    assert r.returncode == 1 and "bad value" in r.stderr.decode(), r.stderr
    r = petreld(p, "-t", "-o", "workers=1", "-o", "smtp_max_recipients=5")
    assert r.returncode == 0, r.stderr


def test_override_takes_effect(make_server):
    """-o comes after the file: the server listens where -o says."""
    port = petreltest.free_port()
    srv = make_server(start=False)
    srv.args = ["-o", "listen_smtp=127.0.0.1:%d" % port, "-o", "smtp_max_message_size=2M"]
    srv.start()
    with SMTPConn(port) as c:
        c.ehlo()
        assert c.features["SIZE"] == str(2 * 1024 * 1024)
        c.quit()


def test_missing_config_file(conf_only):
    p = conf_only()
    r = petreld(p, "-c", "/nonexistent/petrel.conf", "-t")
    assert r.returncode == 1
    assert b"/nonexistent/petrel.conf" in r.stderr


DEMO_LINE = re.compile(r"^demo mailbox: demo@example\.test password: (\S+)$")


def test_demo_password_printed_on_first_start_only(make_server):
    srv = make_server(env={"DEMO_PASSWORD": None})
    lines = [l for l in srv.stdout_lines if DEMO_LINE.match(l)]
    assert len(lines) == 1, srv.stdout_lines
    pw = DEMO_LINE.match(lines[0]).group(1)
    assert len(pw) >= 12, "short random password %r" % pw
    assert srv.stdout_lines.index(lines[0]) < srv.stdout_lines.index("petreld ready")
    assert pw not in srv.stderr_text(), "password written to the log"
    srv.stop_and_check()
    srv.start(new_ports=False)
    assert not [l for l in srv.stdout_lines if "password" in l], srv.stdout_lines


def test_demo_password_from_environment_not_printed(make_server):
    srv = make_server()
    out = "\n".join(srv.stdout_lines)
    assert petreltest.DEMO_PASSWORD not in out
    assert petreltest.DEMO_PASSWORD not in srv.stderr_text()


def test_second_server_on_same_data_dir_refused(make_server):
    srv = make_server()
    other = Petrel(base=srv.base, name="second")
    other.conf = os.path.join(srv.base, "second.conf")
    other.data_dir = srv.data_dir
    other.write_conf()
    try:
        with pytest.raises(petreltest.PetrelError):
            other.start(new_ports=False, timeout=20)
    finally:
        if other.proc is not None:
            other.kill()
    # (a leak report from the refused one's early exit is not looked at;
    # memory errors are)
    err = other.stderr_text()
    assert "ERROR: AddressSanitizer" not in err and "runtime error:" not in err, err
    srv.assert_alive()


# ---------------------------------------------------------------- lifecycle

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_answers_sessions_421_and_exits_0(make_server, sig):
    srv = make_server()
    idle = SMTPConn(srv.port)
    idle.ehlo()
    in_tx = SMTPConn(srv.port)
    in_tx.ehlo()
    in_tx.expect("MAIL FROM:<a@remote.test>", 250)
    srv.proc.send_signal(sig)
    for c in (idle, in_tx):
        r = c.reply(timeout=20)
        if r.code != 421 or not r.esc.startswith("4."):
            c.fail("after SIGTERM: expected 421 4.x.x")
        c.expect_eof(10)
        c.close()
    rc = srv.stop()
    assert rc == 0, "exit status %s\n%s" % (rc, petreltest.tail(srv.stderr_text()))
    assert not srv.sanitizer_reports()


def test_sigterm_during_data(make_server):
    """A session in the middle of a message when SIGTERM comes: either it
    may finish (then 250 means stored) or it gets 421 (then nothing is
    stored)."""
    srv = make_server()
    marker = unique("termdata")
    msg = make_message(marker, body=b"first half\r\n" * 100 + b"second half\r\n" * 100)
    c = SMTPConn(srv.port)
    c.ehlo()
    c.mail_rcpt("t@remote.test", [DEMO])
    c.expect("DATA", 354)
    c.send(msg[:len(msg) // 2])
    srv.proc.send_signal(signal.SIGTERM)
    try:
        c.send(msg[len(msg) // 2:] + b".\r\n")
        r = c.reply(timeout=20)
        code = r.code
    except (EOFError, ConnectionResetError, BrokenPipeError):
        code = None
    c.close()
    rc = srv.stop()
    assert rc == 0, petreltest.tail(srv.stderr_text())
    srv.start(new_ports=False)
    got = find_marker(srv.messages(DEMO), marker)
    if code == 250:
        assert len(got) == 1, "250 during shutdown, but the message is gone"
    else:
        assert code in (None, 421), c.dialogue()
        assert got == [], "not acknowledged (%s) but stored" % code


LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (error|warn|info|debug) \S+ ")


def test_log_lines(make_server):
    """stderr: "<UTC time> <level> <subsys> <session-id> key=value ..."."""
    srv = make_server()
    with SMTPConn(srv.port) as c:
        c.ehlo()
        port = c.sock.getsockname()[1]
        c.quit()
    srv.stop_and_check()
    lines = srv.stderr_text().splitlines()
    bad = [l for l in lines if l and not LOG_LINE.match(l)]
    assert not bad, "log lines not in the documented format: %r" % bad[:5]
    connect = [l for l in lines
               if re.search(r" info smtp [0-9a-zA-Z]+ connect ip=127\.0\.0\.1 port=%d( |$)" % port, l)]
    assert len(connect) == 1, "no connect line for port %d:\n%s" % (port, "\n".join(lines))
