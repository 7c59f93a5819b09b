"""test_tcp.py - TCP behaviour of accepted connections against a real
petreld: keep-alive (tcp_keepalive_idle, tcp_keepalive_timeout) as the
kernel reports it for the server's end of the connection (`ss -tnoi`,
iproute2), and per-address connection caps by address range
(connections_per_ip_ranges) with SMTP clients bound to different
loopback source addresses."""

import re
import shutil
import socket
import subprocess
import time

import pytest

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
