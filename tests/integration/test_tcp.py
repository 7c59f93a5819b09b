"""test_tcp.py - TCP behaviour of accepted connections against a real
petreld: keep-alive (tcp_keepalive_idle, tcp_keepalive_timeout) as the
kernel reports it for the server's end of the connection (`ss -tnoi`,
iproute2), and per-address connection caps (the default
max_connections_per_ip, max_connections_per_ip_ranges) with SMTP clients
bound to different loopback source addresses."""

import re
import shutil
import socket
import subprocess
import time

import pytest

from petreltest import binary

WAIT = 30                           # seconds: generous, for sanitizer builds

SS = shutil.which("ss")


def server_side(port):
    """ss's description of the server's end of each established connection
    on port (local port = the listener's); a list of strings."""
    out = subprocess.run([SS, "-H", "-tnoi", "state", "established",
                          "( sport = :%d )" % port],
                         capture_output=True, text=True, check=True,
                         timeout=WAIT).stdout
    # each socket is one line of addresses and timer, then one indented
    # line of tcp_info; keep the first of each pair
    return [l for l in out.splitlines() if l and not l[0].isspace()]


def connect(port, source="127.0.0.1"):
    s = socket.create_connection(("127.0.0.1", port), timeout=WAIT,
                                 source_address=(source, 0))
    return s, s.makefile("rb")


def reply(f):
    """One whole SMTP reply (its lines), or [] at end of stream."""
    lines = []
    while True:
        l = f.readline()
        if not l:
            return lines
        lines.append(l.rstrip(b"\r\n"))
        if l[3:4] != b"-":
            return lines


def keepalive_timer(port, client_port):
    """The server socket's timer field for the connection from
    client_port, e.g. "timer:(keepalive,29sec,0)", or None without one."""
    for line in server_side(port):
        if re.search(r":%d\s" % client_port, line + " "):
            m = re.search(r"timer:\(([^)]*)\)", line)
            return m.group(1) if m else None
    pytest.fail("no server socket for client port %d in ss output" % client_port)


# ---------------------------------------------------------------- keep-alive

@pytest.mark.skipif(SS is None, reason="iproute2 ss not installed")
def test_keepalive_default(make_server):
    """By default the server's end of an idle session carries the kernel's
    keep-alive timer, which starts at tcp_keepalive_idle (30 s)."""
    srv = make_server()
    s, f = connect(srv.port)
    try:
        assert reply(f)[0].startswith(b"220 ")
        timer = keepalive_timer(srv.port, s.getsockname()[1])
        assert timer is not None and timer.startswith("keepalive,"), timer
        # "keepalive,29sec,0": counting down from the idle time, no probe
        # sent yet
        m = re.match(r"keepalive,(?:(\d+)sec|(\d+)min[^,]*),(\d+)", timer)
        assert m, timer
        assert m.group(1) is not None and int(m.group(1)) <= 30, timer
        assert m.group(3) == "0", timer
    finally:
        s.close()


@pytest.mark.skipif(SS is None, reason="iproute2 ss not installed")
def test_keepalive_configured(make_server):
    """tcp_keepalive_idle sets the time to the first probe (here 20
    minutes); IMAP and POP3 sessions get it too."""
    srv = make_server("tcp_keepalive_idle = 20m", "tcp_keepalive_timeout = 2m")
    for port in (srv.port, srv.imap_port, srv.pop3_port):
        s, f = connect(port)
        try:
            assert f.readline()
            timer = keepalive_timer(port, s.getsockname()[1])
            assert timer is not None and re.match(r"keepalive,(19|20)min", timer), timer
        finally:
            s.close()


@pytest.mark.skipif(SS is None, reason="iproute2 ss not installed")
@pytest.mark.parametrize("off", ["tcp_keepalive_idle = 0",
                                 "tcp_keepalive_timeout = 0"])
def test_keepalive_off(make_server, off):
    """Either key at 0 turns keep-alive off: an idle session has no timer."""
    srv = make_server(off)
    s, f = connect(srv.port)
    try:
        assert reply(f)[0].startswith(b"220 ")
        assert keepalive_timer(srv.port, s.getsockname()[1]) is None
    finally:
        s.close()


# ---------------------------------------------------------------- caps by range

def open_sessions(port, source, n):
    """n SMTP sessions from source, each greeted with 220."""
    conns = []
    for i in range(n):
        s, f = connect(port, source)
        conns.append((s, f))
        r = reply(f)
        assert r and r[0].startswith(b"220 "), (source, i + 1, r)
    return conns


def assert_refused(port, source):
    """The next connection from source gets 421 4.7.0 and is closed."""
    s, f = connect(port, source)
    try:
        r = reply(f)
        assert r and r[0].startswith(b"421 4.7.0 "), (source, r)
        assert f.read() == b""          # and the server closes
    finally:
        s.close()


def still_serves(conns):
    """Every session in conns still answers a command."""
    for s, f in conns:
        s.sendall(b"NOOP\r\n")
        r = reply(f)
        assert r and r[0].startswith(b"250"), r


def close_all(conns):
    for s, _ in conns:
        s.close()


def test_default_per_ip_cap(make_server):
    """Without ranges an address may hold max_connections_per_ip (default
    20) connections; the 21st gets 421 4.7.0. Loopback counts here only
    because of limit_loopback."""
    srv = make_server("limit_loopback = yes")
    conns = open_sessions(srv.port, "127.0.0.1", 20)
    try:
        assert_refused(srv.port, "127.0.0.1")
        still_serves(conns[:1])
    finally:
        close_all(conns)
    assert "reason=too_many_connections_from_ip max=20" in srv.stderr_text()


def test_per_ip_cap_by_range(make_server):
    """Each address gets the limit of the longest range holding it: 1 for
    127.0.0.2/32, 2 for the rest of 127.0.0.0/24, none for 127.0.0.4 (0),
    and max_connections_per_ip (3) outside every range. A refused client
    does not disturb the sessions already open."""
    srv = make_server("limit_loopback = yes", "max_connections_per_ip = 3",
                      "max_connections_per_ip_ranges = 127.0.0.2/32=1, "
                      "127.0.0.0/24=2, 127.0.0.4=0")
    conns = []
    try:
        conns += open_sessions(srv.port, "127.0.0.2", 1)
        assert_refused(srv.port, "127.0.0.2")
        conns += open_sessions(srv.port, "127.0.0.3", 2)
        assert_refused(srv.port, "127.0.0.3")
        # the /24's limit is per address, not shared by the range
        conns += open_sessions(srv.port, "127.0.0.5", 2)
        assert_refused(srv.port, "127.0.0.5")
        # 0: no per-address limit (past the /24's 2 and the default 20)
        conns += open_sessions(srv.port, "127.0.0.4", 25)
        # no range: max_connections_per_ip
        conns += open_sessions(srv.port, "127.0.1.1", 3)
        assert_refused(srv.port, "127.0.1.1")
        still_serves(conns)
        # a slot comes back when its session ends
        s, f = conns.pop(0)             # the one from 127.0.0.2
        s.sendall(b"QUIT\r\n")
        assert reply(f)[0].startswith(b"221")
        s.close()
        for _ in range(100):            # the close is seen asynchronously
            t, g = connect(srv.port, "127.0.0.2")
            r = reply(g)
            if r and r[0].startswith(b"220 "):
                conns.append((t, g))
                break
            t.close()
            time.sleep(0.05)
        else:
            pytest.fail("the freed slot of 127.0.0.2 never came back")
    finally:
        close_all(conns)
    err = srv.stderr_text()
    assert "reject ip=127.0.0.2 reason=too_many_connections_from_ip max=1" in err
    assert "reject ip=127.0.0.3 reason=too_many_connections_from_ip max=2" in err
    assert "reject ip=127.0.1.1 reason=too_many_connections_from_ip max=3" in err
    assert "reject ip=127.0.0.4" not in err


def test_ranges_leave_loopback_exempt(make_server):
    """Without limit_loopback a range over 127.0.0.0/8 does not apply:
    loopback stays exempt, as with max_connections_per_ip."""
    srv = make_server("max_connections_per_ip_ranges = 127.0.0.0/8=1")
    conns = open_sessions(srv.port, "127.0.0.2", 3)
    try:
        still_serves(conns)
    finally:
        close_all(conns)


def test_bad_range_stops_startup(make_server):
    """A bad range is reported as file:line and petreld does not start."""
    srv = make_server("max_connections_per_ip_ranges = 10.0.0.0/8=50, 10.0.0.1/8=5",
                      start=False)
    srv.write_conf()
    r = subprocess.run([binary("petreld"), "-c", srv.conf, "-t"],
                       capture_output=True, text=True, timeout=WAIT)
    assert r.returncode != 0
    assert re.search(r"petrel\.conf:\d+: bad value for max_connections_per_ip_ranges: "
                     r"'10\.0\.0\.1/8' has address bits set past the prefix",
                     r.stderr), r.stderr
