"""test_spf_dns.py - the SPF check over real DNS: NSD (dnsserver.py)
serves SPF records and petrel's libunbound backend (ma_dns_ub.c) asks
it through tests/tools/spf-check --forwarder. The same records loaded
into the zone-table backend must give the same answers, TXT records
split into several strings are read whole, CNAMEs are followed, SERVFAIL
is a temperror, and several threads sharing one resolver agree."""

import json
import os
import subprocess
import tempfile

import pytest

import petreltest
from dnsserver import DnsServer

# owner, type, rdata (zone-file syntax); all under spf.test.
RECORDS = [
    # a record split into strings: joined without spaces (RFC 7208 3.3)
    ("spf.test.", "TXT", '"v=spf1 ip4:192.0.2.0/24 " "mx a:host.spf.test " '
                         '"include:inc.spf.test -all exp=why.spf.test"'),
    ("spf.test.", "TXT", '"some other TXT record"'),
    ("spf.test.", "MX", "10 mx.spf.test."),
    ("mx.spf.test.", "A", "127.0.0.20"),
    ("mx.spf.test.", "AAAA", "::1"),
    ("host.spf.test.", "A", "127.0.0.21"),
    ("why.spf.test.", "TXT", '"%{i} may not send for %{d} (ask %{r})"'),
    # include through a CNAME
    ("inc.spf.test.", "CNAME", "real.spf.test."),
    ("real.spf.test.", "TXT", '"v=spf1 ip4:198.51.100.7 ~all"'),
    # two SPF records: permerror
    ("two.spf.test.", "TXT", '"v=spf1 -all"'),
    ("two.spf.test.", "TXT", '"v=spf1 +all"'),
    # an include under a SERVFAIL zone: temperror
    ("broken.spf.test.", "TXT", '"v=spf1 include:x.servfail.test -all"'),
    # redirect and a loop that the lookup limit stops
    ("redir.spf.test.", "TXT", '"v=spf1 redirect=spf.test"'),
    ("loop.spf.test.", "TXT", '"v=spf1 include:loop.spf.test -all"'),
    # ptr and %{p}: 127.0.0.22 has a PTR that validates
    ("ptr.spf.test.", "TXT", '"v=spf1 ptr -all exp=pmsg.spf.test"'),
    ("pmsg.spf.test.", "TXT", '"connect from %{p}"'),
    ("client.ptr.spf.test.", "A", "127.0.0.22"),
    # exists with a macro
    ("ex.spf.test.", "TXT", '"v=spf1 exists:%{ir}.bl.spf.test ?all"'),
    ("20.0.0.127.bl.spf.test.", "A", "127.0.0.2"),
    # no SPF record
    ("none.spf.test.", "TXT", '"hello"'),
]
REVERSE = [
    ("22.0.0.127.in-addr.arpa.", "PTR", "client.ptr.spf.test."),
    ("20.0.0.127.in-addr.arpa.", "PTR", "mx.spf.test."),
]

# mode, client ip, MAIL FROM, HELO -> expected result
QUERIES = [
    (("mailfrom", "192.0.2.55", "a@spf.test", "h.example"), "pass"),
    (("mailfrom", "127.0.0.20", "a@spf.test", "h.example"), "pass"),
    (("mailfrom", "::1", "a@spf.test", "h.example"), "pass"),
    (("mailfrom", "127.0.0.21", "a@spf.test", "h.example"), "pass"),
    (("mailfrom", "198.51.100.7", "a@spf.test", "h.example"), "pass"),
    (("mailfrom", "203.0.113.9", "a@spf.test", "h.example"), "fail"),
    (("mailfrom", "203.0.113.9", "a@two.spf.test", "h.example"), "permerror"),
    (("mailfrom", "203.0.113.9", "a@broken.spf.test", "h.example"), "temperror"),
    (("mailfrom", "203.0.113.9", "a@redir.spf.test", "h.example"), "fail"),
    (("mailfrom", "192.0.2.1", "a@redir.spf.test", "h.example"), "pass"),
    (("mailfrom", "203.0.113.9", "a@loop.spf.test", "h.example"), "permerror"),
    (("mailfrom", "127.0.0.22", "a@ptr.spf.test", "h.example"), "pass"),
    (("mailfrom", "127.0.0.20", "a@ptr.spf.test", "h.example"), "fail"),
    (("mailfrom", "127.0.0.20", "a@ex.spf.test", "h.example"), "pass"),
    (("mailfrom", "127.0.0.23", "a@ex.spf.test", "h.example"), "neutral"),
    (("mailfrom", "203.0.113.9", "a@none.spf.test", "h.example"), "none"),
    (("mailfrom", "203.0.113.9", "a@nosuch.spf.test", "h.example"), "none"),
    (("helo", "192.0.2.9", "", "spf.test"), "pass"),
    (("mailfrom", "203.0.113.9", "", "spf.test"), "fail"),
]


@pytest.fixture(scope="module")
def dns():
    zones = {"spf.test.": RECORDS, "0.0.127.in-addr.arpa.": REVERSE}
    with DnsServer(zones=zones, servfail=("servfail.test.",)) as d:
        yield d


def run(args, queries):
    cmd = [petreltest.binary("tests/tools/spf-check"), "--receiver",
           "mx.petrel.test", "--now", "1700000000"] + args + ["--batch"]
    p = subprocess.run(cmd, input="".join("\t".join(q) + "\n" for q in queries),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    out = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(out) == len(queries), p.stderr
    return out


def zone_table():
    """The same records as ma_zone text for the zone-table backend."""
    lines = []
    for owner, rtype, rdata in RECORDS + REVERSE:
        if rtype in ("MX", "CNAME", "PTR"):
            rdata = rdata.rstrip(".")
        lines.append("%s %s %s" % (owner, rtype, rdata))
    lines.append("x.servfail.test TIMEOUT")
    return "\n".join(lines) + "\n"


def test_spf_over_real_dns(dns):
    queries = [q for q, _ in QUERIES]
    out = run(["--forwarder", dns.forwarder, "--timeout", "5"], queries)
    for (q, want), o in zip(QUERIES, out):
        assert o["result"] == want, (q, o)
    fail = out[5]
    assert fail["explanation"] == \
        "203.0.113.9 may not send for spf.test (ask mx.petrel.test)"
    assert fail["mechanism"] == "-all"
    assert "Received-SPF: fail (mx.petrel.test:" in fail["received_spf"]
    assert out[4]["mechanism"] == "include:inc.spf.test"
    assert out[12]["explanation"] == "connect from mx.spf.test"
    assert out[10]["lookups"] == 10
    assert "more than 10" in out[10]["reason"]


def test_zone_table_agrees_with_real_dns(dns):
    queries = [q for q, _ in QUERIES]
    real = run(["--forwarder", dns.forwarder, "--timeout", "5"], queries)
    with tempfile.NamedTemporaryFile("w", suffix=".zone", delete=False) as f:
        f.write(zone_table())
        path = f.name
    try:
        table = run(["--zone", path], queries)
    finally:
        os.unlink(path)
    for q, a, b in zip(queries, real, table):
        for key in ("result", "explanation", "mechanism", "lookups",
                    "void_lookups", "queries"):
            assert a[key] == b[key], (q, key, a, b)


def test_threads_share_one_resolver(dns):
    """Eight threads run every query at the same time on one libunbound
    context; spf-check exits 1 if any answer differs between threads."""
    queries = [q for q, _ in QUERIES] * 3
    out = run(["--forwarder", dns.forwarder, "--timeout", "5", "--threads", "8"],
              queries)
    for (q, want), o in zip(QUERIES * 3, out):
        assert o["result"] == want, (q, o)


def test_dead_server_is_temperror(dns):
    """A forwarder that never answers: every lookup ends in temperror
    (libunbound gives up within its retries, each wait capped by
    --timeout; no timing is asserted)."""
    out = run(["--forwarder", dns.blackhole, "--timeout", "1"],
              [("mailfrom", "192.0.2.1", "a@spf.test", "h.example")])
    assert out[0]["result"] == "temperror"
    assert out[0]["reason"] == "DNS error looking up spf.test TXT"
