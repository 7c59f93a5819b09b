"""test_dns.py - petreld's resolver against a real DNS server (NSD, from
dnsserver.py) through `petrelctl dns route|addr`, which prints the mail
route the queue would use: MX order, equal-preference shuffling, the
implicit MX, null MX, NXDOMAIN, SERVFAIL and timeouts, IPv6, address
literals."""

import subprocess

import pytest

import petreltest
from dnsserver import DnsServer

OK, PERM, TEMP = 0, 1, 75


@pytest.fixture(scope="module")
def dns():
    with DnsServer() as d:
        yield d


def ctl(forwarder, *args, timeout_s=10):
    p = subprocess.run([petreltest.binary("petrelctl"),
                        "-o", "dns_forwarder=" + forwarder,
                        "-o", "dns_timeout=%d" % timeout_s,
                        "-o", "data_dir=/nonexistent"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    return p


def route(dns, domain, **kw):
    """(exit status, first line, [(pref, host, [addresses], note)])"""
    p = ctl(dns.forwarder, "dns", "route", domain, **kw)
    lines = p.stdout.splitlines()
    assert lines, p.stderr
    targets = []
    for line in lines[1:]:
        note = ""
        if " (" in line:
            line, note = line.split(" (", 1)
        words = line.split()
        targets.append((int(words[0]), words[1], words[2:], note.rstrip(")")))
    return p.returncode, lines[0], targets, p.stderr


def test_mx_in_preference_order(dns):
    rc, head, t, _ = route(dns, "mx.test")
    assert rc == OK and head == "mx.test: ok"
    assert [x[0] for x in t] == [10, 20, 20, 30]
    assert t[0][1:3] == ("mx1.mx.test", ["127.0.0.2"])
    assert {x[1] for x in t[1:3]} == {"mx2a.mx.test", "mx2b.mx.test"}
    assert t[3][1:3] == ("mx3.mx.test", ["127.0.0.5", "::1"])


def test_equal_preferences_are_shuffled(dns):
    seen = set()
    for _ in range(40):
        _, _, t, _ = route(dns, "mx.test")
        seen.add((t[1][1], t[2][1]))
        if len(seen) == 2:
            break
    # the chance of 40 runs all in one order is 2**-39
    assert seen == {("mx2a.mx.test", "mx2b.mx.test"),
                    ("mx2b.mx.test", "mx2a.mx.test")}


def test_no_mx_falls_back_to_the_domain_address(dns):
    rc, head, t, _ = route(dns, "afallback.test")
    assert rc == OK
    assert t == [(0, "afallback.test", ["127.0.0.6", "::1"],
                  "no MX: the domain itself")]


def test_null_mx_is_permanent(dns):
    rc, head, t, _ = route(dns, "nullmx.test")
    assert rc == PERM and t == []
    assert head.startswith("nullmx.test: nullmx")


def test_nxdomain_is_permanent(dns):
    rc, head, t, _ = route(dns, "nosuch.test")
    assert rc == PERM and head == "nosuch.test: nxdomain: no such domain"


def test_servfail_is_temporary(dns):
    rc, head, _, _ = route(dns, "servfail.test")
    assert rc == TEMP and head.startswith("servfail.test: tempfail")


def test_timeout_is_temporary(dns):
    p = ctl(dns.blackhole, "dns", "route", "mx.test", timeout_s=1)
    assert p.returncode == TEMP
    assert p.stdout.startswith("mx.test: tempfail: timed out")


def test_mx_host_with_failing_lookup_is_kept_and_flagged(dns):
    rc, _, t, _ = route(dns, "halfbroken.test")
    assert rc == OK
    assert t[0][:3] == (10, "mx1.mx.test", ["127.0.0.2"])
    assert t[1] == (20, "host.servfail.test", [], "temporary failure")


def test_mx_hosts_without_address_are_permanent(dns):
    rc, head, _, _ = route(dns, "noaddr.test")
    assert rc == PERM and "noaddr" in head
    rc, head, _, _ = route(dns, "empty.test")
    assert rc == PERM and head == "empty.test: noaddr: no MX record and no address"


def test_ipv6_only_mx(dns):
    rc, _, t, _ = route(dns, "v6.test")
    assert rc == OK and t == [(10, "mx.v6.test", ["::1"], "")]


def test_mx_naming_an_address_or_alias_is_used_and_logged(dns):
    rc, _, t, err = route(dns, "literal.test")
    assert rc == OK and t == [(10, "127.0.0.8", ["127.0.0.8"], "")]
    assert "MX is an address" in err
    rc, _, t, err = route(dns, "cname.test")
    assert rc == OK and t == [(10, "alias.cname.test", ["127.0.0.2"], "")]
    assert "MX host is an alias" in err


def test_refusing_mx_still_resolves(dns):
    # connection refusal is the SMTP client's business; DNS gives the host
    rc, _, t, _ = route(dns, "refused.test")
    assert rc == OK and t == [(10, "mx.refused.test", ["127.0.0.7"], "")]


def test_address_literals_never_ask_dns(dns):
    # the blackhole would time out any query: these answer at once
    for lit, addr in (("[127.0.0.9]", "127.0.0.9"), ("[IPv6:::1]", "::1"),
                      ("[ipv6:::1]", "::1")):
        p = ctl(dns.blackhole, "dns", "route", lit, timeout_s=30)
        assert p.returncode == OK, p.stdout
        assert p.stdout.splitlines()[1].split()[:3] == ["0", lit, addr]


def test_bad_names_are_refused(dns):
    for bad in ("[1.2.3]", "[IPv6:1.2.3.4]", "a..b", "-" * 64 + ".test",
                "sp ace.test"):
        p = ctl(dns.blackhole, "dns", "route", bad, timeout_s=30)
        assert p.returncode == PERM and ": badname:" in p.stdout, bad


def test_dns_addr_for_smarthost_names(dns):
    p = ctl(dns.forwarder, "dns", "addr", "mx3.mx.test")
    assert p.returncode == OK
    assert p.stdout.splitlines()[1].split()[1:] == ["mx3.mx.test", "127.0.0.5", "::1"]
    p = ctl(dns.forwarder, "dns", "addr", "nosuch.test")
    assert p.returncode == PERM and "nxdomain" in p.stdout


def test_bad_forwarder_is_a_config_error(dns):
    p = ctl("not-an-address", "dns", "route", "mx.test")
    assert p.returncode == 1
    assert "dns_forwarder" in p.stderr
