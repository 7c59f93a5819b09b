"""dnsserver.py - a real DNS server (NSD) on loopback for integration tests.

    from dnsserver import DnsServer, DEFAULT_ZONES

    with DnsServer() as dns:               # DEFAULT_ZONES
        srv = make_server("dns_forwarder = " + dns.forwarder)
        ...

    DnsServer(zones=None, servfail=("servfail.test",))

zones     {origin: [(owner, type, rdata), ...]}; owners are absolute
          ("mx.test.") or relative to the origin ("mx1.mx", "@"); SOA and
          NS are added. Any name under an origin that has no records is
          NXDOMAIN; a name with records but not of the type asked is
          NODATA. Default: DEFAULT_ZONES (see below for what each name
          tests).
servfail  zones NSD is configured for but has no data for: every query
          under them is answered SERVFAIL at once (a broken zone, not a
          slow one, so the resolver's view of the server stays healthy).

Attributes once started:
  dns.port        the UDP/TCP port on 127.0.0.1
  dns.forwarder   "127.0.0.1@PORT", the value for dns_forwarder
  dns.blackhole   "127.0.0.1@PORT" of a UDP socket that reads nothing and
                  answers nothing: dns_forwarder = dns.blackhole makes every
                  query time out (use a small dns_timeout). Give it to its
                  own petreld: a resolver whose server timed out backs off it.
  dns.dir         the temp dir (zone files, nsd.conf, nsd.log)
  dns.records     the zones served, as given

stop() (or leaving the with block) terminates NSD and removes the dir
(PETREL_KEEP=1 keeps it). Check records by hand with
`dig @127.0.0.1 -p PORT mx.test MX`.

Why NSD: records are plain zone files (null MX, IP-looking MX targets and
CNAMEs are written exactly as a zone would have them), a configured zone
without data answers SERVFAIL instantly, and it never recurses, so nothing
leaves loopback.
"""

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

NSD = "/usr/sbin/nsd"
START_TIMEOUT = float(os.environ.get("PETREL_START_TIMEOUT", "20"))

# The host addresses are distinct 127.0.0.x so a test can see which MX was
# used; nothing listens on them unless the test starts a server there.
DEFAULT_ZONES = {
    "test.": [
        # MX in preference order; mx2a and mx2b share 20 (shuffled)
        ("mx.test.", "MX", "10 mx1.mx.test."),
        ("mx.test.", "MX", "20 mx2a.mx.test."),
        ("mx.test.", "MX", "20 mx2b.mx.test."),
        ("mx.test.", "MX", "30 mx3.mx.test."),
        ("mx1.mx.test.", "A", "127.0.0.2"),
        ("mx2a.mx.test.", "A", "127.0.0.3"),
        ("mx2b.mx.test.", "A", "127.0.0.4"),
        ("mx3.mx.test.", "A", "127.0.0.5"),
        ("mx3.mx.test.", "AAAA", "::1"),
        # no MX: the domain's own A/AAAA (RFC 5321 5.1)
        ("afallback.test.", "A", "127.0.0.6"),
        ("afallback.test.", "AAAA", "::1"),
        # RFC 7505 null MX
        ("nullmx.test.", "MX", "0 ."),
        # an MX whose address refuses connections (nothing listens there)
        ("refused.test.", "MX", "10 mx.refused.test."),
        ("mx.refused.test.", "A", "127.0.0.7"),
        # IPv6 only
        ("v6.test.", "MX", "10 mx.v6.test."),
        ("mx.v6.test.", "AAAA", "::1"),
        # an MX naming an address and one naming an alias: used, logged
        ("literal.test.", "MX", "10 127.0.0.8."),
        ("cname.test.", "MX", "10 alias.cname.test."),
        ("alias.cname.test.", "CNAME", "mx1.mx.test."),
        # MX hosts with no address at all: permanent
        ("noaddr.test.", "MX", "10 nohost.noaddr.test."),
        # a domain that exists but has neither MX nor address: permanent
        ("empty.test.", "TXT", "\"no mail here\""),
        # one MX host fine, the other under the SERVFAIL zone: route ok,
        # second target flagged temporary
        ("halfbroken.test.", "MX", "10 mx1.mx.test."),
        ("halfbroken.test.", "MX", "20 host.servfail.test."),
        # nosuch.test and anything else unlisted: NXDOMAIN
    ],
}
DEFAULT_SERVFAIL = ("servfail.test.",)


def _free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


def _absolute(owner, origin):
    if owner == "@":
        return origin
    return owner if owner.endswith(".") else owner + "." + origin


def _zone_text(origin, records):
    lines = [
        "$ORIGIN %s" % origin,
        "$TTL 300",
        "@ IN SOA ns.%s hostmaster.%s 1 3600 600 86400 300" % (origin, origin),
        "@ IN NS ns.%s" % origin,
        "ns.%s IN A 127.0.0.1" % origin,
    ]
    for owner, rtype, rdata in records:
        lines.append("%s IN %s %s" % (_absolute(owner, origin), rtype, rdata))
    return "\n".join(lines) + "\n"


def query(port, name, qtype=1, timeout=1.0):
    """One UDP query to 127.0.0.1:port; the rcode, or None without answer.
    Used to wait for NSD; tests should use dig or petrelctl instead."""
    qid = os.getpid() & 0xFFFF
    qname = b"".join(bytes([len(l)]) + l.encode()
                     for l in name.rstrip(".").split(".")) + b"\0"
    pkt = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + \
        struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(pkt, ("127.0.0.1", port))
        try:
            data, _ = s.recvfrom(4096)
        except socket.timeout:
            return None
    if len(data) < 12 or struct.unpack(">H", data[:2])[0] != qid:
        return None
    return data[3] & 0x0F


class DnsServer:
    def __init__(self, zones=None, servfail=DEFAULT_SERVFAIL, port=None):
        self.records = DEFAULT_ZONES if zones is None else zones
        self.fixed_port = port
        self.servfail = tuple(servfail)
        self.dir = None
        self.proc = None
        self.port = None
        self._hole = None

    @property
    def forwarder(self):
        return "127.0.0.1@%d" % self.port

    @property
    def blackhole(self):
        return "127.0.0.1@%d" % self._hole.getsockname()[1]

    def _write_conf(self):
        d = self.dir
        conf = [
            "server:",
            "  ip-address: 127.0.0.1@%d" % self.port,
            "  port: %d" % self.port,
            "  do-ip6: no",
            "  username: \"\"",
            "  chroot: \"\"",
            "  zonesdir: \"%s\"" % d,
            "  database: \"\"",
            "  zonelistfile: \"%s/zone.list\"" % d,
            "  xfrdfile: \"%s/xfrd.state\"" % d,
            "  xfrdir: \"%s\"" % d,
            "  pidfile: \"%s/nsd.pid\"" % d,
            "  logfile: \"%s/nsd.log\"" % d,
            "  server-count: 1",
            "  verbosity: 1",
            "  hide-version: yes",
            "remote-control:",
            "  control-enable: no",
        ]
        for i, (origin, records) in enumerate(self.records.items()):
            name = "z%d.zone" % i
            with open(os.path.join(d, name), "w") as f:
                f.write(_zone_text(origin, records))
            conf += ["zone:", "  name: \"%s\"" % origin,
                     "  zonefile: \"%s\"" % name]
        for origin in self.servfail:
            # configured, file never written: NSD serves SERVFAIL
            conf += ["zone:", "  name: \"%s\"" % origin,
                     "  zonefile: \"missing-%s.zone\"" % origin.rstrip(".")]
        with open(os.path.join(d, "nsd.conf"), "w") as f:
            f.write("\n".join(conf) + "\n")

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="petrel-dns-", dir="/tmp")
        self._hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._hole.bind(("127.0.0.1", 0))
        for _ in range(3):  # the port may be taken between probe and bind
            self.port = self.fixed_port or _free_port()
            self._write_conf()
            self.proc = subprocess.Popen(
                [NSD, "-d", "-c", os.path.join(self.dir, "nsd.conf")],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if self._wait_ready():
                return self
            self._kill()
        raise RuntimeError("nsd did not start: %s" % self.log_text())

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        probe = next(iter(self.records), "test.")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if query(self.port, probe, qtype=6, timeout=0.2) == 0:
                return True
        return False

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "nsd.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def _kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def stop(self):
        self._kill()
        if self._hole:
            self._hole.close()
            self._hole = None
        if self.dir and not os.environ.get("PETREL_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    # By hand (README, "Sending to other domains"): serve DEFAULT_ZONES on
    # 127.0.0.1:PORT until interrupted.
    import signal
    import sys

    def _stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    srv = DnsServer(port=int(sys.argv[1]) if len(sys.argv) > 1 else None)
    srv.start()
    print("dnsserver: serving the test zones; dns_forwarder = %s"
          % srv.forwarder, flush=True)
    try:
        while srv.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
