"""test_doctor.py - DKIM keys and the DNS doctor through petrelctl and the
API, against a real DNS server (NSD, dnsserver.py): `dkim keygen|list|
rotate` with rotation times moved by config and `dkim list --at` (no
sleeping), `dns records` complete for a domain, `dns check` on a zone
built from that output (everything ok) and on zones with planted mistakes
(every mistake reported with a fix, nothing else; RFC 6186 SRV
records among them), and
GET /api/v1/domains/{d}/dns."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

import petreltest
from dnsserver import DnsServer

HOST = "mail.host.test"
BACKUP = "backup.host.test"
IPV4 = "11.22.33.44"
IPV6 = "2a00:1450::44"
BAD_IPV6 = "2a00:1450::45"     # its PTR names another host


def rev4(ip):
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa."


def rev6(ip):
    import ipaddress
    full = ipaddress.IPv6Address(ip).exploded.replace(":", "")
    return ".".join(reversed(full)) + ".ip6.arpa."


SITE = ("hostname=" + HOST, "mx_backup=" + BACKUP, "public_ipv4=" + IPV4,
        "public_ipv6=" + IPV6, "dns_timeout=5")


@pytest.fixture(scope="module")
def data_dir():
    d = tempfile.mkdtemp(prefix="petrel-doctor-")
    yield d
    if not os.environ.get("PETREL_KEEP"):
        shutil.rmtree(d, ignore_errors=True)


def ctl(data_dir, *args, conf=(), check=True):
    cmd = [petreltest.binary("petrelctl"), "-o", "data_dir=" + data_dir]
    for kv in SITE + tuple(conf):
        cmd += ["-o", kv]
    p = subprocess.run(cmd + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    if check:
        assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p


def records(data_dir, domain):
    p = ctl(data_dir, "dns", "records", domain, "--json")
    return json.loads(p.stdout)


def zone_records(recs):
    """dnsserver tuples from `dns records --json` zone lines."""
    out = []
    for r in recs["records"]:
        owner, _ttl, _in, rtype, rdata = r["zone"].split(" ", 4)
        out.append((owner, rtype, rdata))
    return out


def by_purpose(recs, purpose):
    return [r for r in recs["records"] if r["purpose"] == purpose]


# ------------------------------------------------------------------ DKIM keys

def test_dkim_keygen_list_rotate(data_dir):
    ctl(data_dir, "domain", "add", "keys.test")
    p = ctl(data_dir, "dkim", "keygen", "keys.test", "--algorithm", "rsa")
    assert re.search(r"made p\d{6}a for keys.test", p.stdout), p.stdout
    again = ctl(data_dir, "dkim", "keygen", "keys.test", "--algorithm", "rsa",
                check=False)
    assert again.returncode == 1 and "dkim rotate" in again.stderr
    ctl(data_dir, "dkim", "keygen", "keys.test", "--algorithm", "ed25519",
        "--selector", "custom1")
    bad = ctl(data_dir, "dkim", "keygen", "keys.test", "--selector", "x",
              check=False)
    assert bad.returncode == 2
    keys = json.loads(ctl(data_dir, "dkim", "list", "keys.test",
                          "--json").stdout)
    assert [(k["algorithm"], k["state"]) for k in keys] == [
        ("rsa-2048", "active"), ("ed25519", "active")]
    assert keys[1]["selector"] == "custom1"
    # RFC 8463: the Ed25519 p= is the raw 32-byte key
    import base64
    assert len(base64.b64decode(keys[1]["public_key"])) == 32
    assert "PRIVATE" not in ctl(data_dir, "dkim", "list", "--json").stdout

    now = int(time.time())
    ctl(data_dir, "dkim", "rotate", "keys.test",
        conf=("dkim_publish_ahead=2d", "dkim_retire_after=3d"))

    def states(at):
        ks = json.loads(ctl(data_dir, "dkim", "list", "keys.test", "--json",
                            "--at", str(at)).stdout)
        return [(k["selector"], k["state"]) for k in ks]

    first = states(now + 3600)
    assert [s for _, s in first] == ["active", "active", "next", "next"]
    new = [sel for sel, _ in first[2:]]
    assert re.fullmatch(r"p\d{6}[a-z]", new[0]) and new[0][1:] == new[1][1:]
    assert new[1].startswith("e")
    assert [s for _, s in states(now + 2 * 86400 + 3600)] == [
        "retiring", "retiring", "active", "active"]
    assert [s for _, s in states(now + 6 * 86400)] == [
        "retired", "retired", "active", "active"]
    # the published records follow: next and retiring keys are in DNS
    assert len(by_purpose(records(data_dir, "keys.test"), "dkim")) == 4

    # --now: the waiting keys never signed and leave DNS at once
    ctl(data_dir, "dkim", "rotate", "keys.test", "--now")
    now_states = states(int(time.time()) + 1)
    assert [s for _, s in now_states] == [
        "retiring", "retiring", "retired", "retired", "active", "active"]

    audit = ctl(data_dir, "audit", "show", "--kind", "dkim").stdout
    assert audit.count("dkim.keygen") == 2 and audit.count("dkim.rotate") == 4


def test_rotate_due_follows_dkim_rotate_days(data_dir):
    ctl(data_dir, "domain", "add", "due.test")
    ctl(data_dir, "dkim", "keygen", "due.test")
    # keys made a moment ago are not due at 90 days, nor at 0 (= never)
    for days in ("90", "0"):
        p = ctl(data_dir, "dkim", "rotate", "--due",
                conf=("dkim_rotate_days=" + days,))
        assert "due.test" not in p.stdout
    assert len(json.loads(ctl(data_dir, "dkim", "list", "due.test",
                              "--json").stdout)) == 2


# -------------------------------------------------------------- dns records

def test_dns_records_complete(data_dir):
    ctl(data_dir, "domain", "add", "good.test")
    recs = records(data_dir, "good.test")
    got = {(r["name"], r["type"]) for r in recs["records"]}
    for want in [("good.test", "MX"), ("good.test", "TXT"),
                 ("_dmarc.good.test", "TXT"), ("_mta-sts.good.test", "TXT"),
                 ("mta-sts.good.test", "CNAME"),
                 ("_smtp._tls.good.test", "TXT"),
                 ("autoconfig.good.test", "CNAME"),
                 ("autodiscover.good.test", "CNAME"),
                 ("_imaps._tcp.good.test", "SRV"),
                 ("_pop3s._tcp.good.test", "SRV"),
                 ("_submissions._tcp.good.test", "SRV"),
                 ("_submission._tcp.good.test", "SRV")]:
        assert want in got, want
    mx = [r["value"] for r in by_purpose(recs, "mx")]
    assert mx == ["10 " + HOST, "20 " + BACKUP]
    spf = by_purpose(recs, "spf")[0]["value"]
    assert spf == "v=spf1 mx ip4:%s ip6:%s -all" % (IPV4, IPV6)
    dkim = by_purpose(recs, "dkim")
    assert len(dkim) == 2     # made by the first `dns records`
    rsa = [r for r in dkim if "k=rsa" in r["value"]][0]
    # a 2048-bit key is longer than one character-string: split at 255
    parts = re.findall(r'"([^"]*)"', rsa["zone"])
    assert len(parts) == 2 and len(parts[0]) == 255
    assert "".join(parts) == rsa["value"]
    assert by_purpose(recs, "dmarc")[0]["value"] == (
        "v=DMARC1; p=none; rua=mailto:dmarc-reports@good.test")
    srv = [r for r in recs["records"] if r["name"].startswith("_imaps.")]
    assert srv[0]["value"].startswith("0 1 ") and srv[0]["value"].endswith(HOST)
    assert "mx: " + HOST in recs["mta_sts_policy"]
    text = ctl(data_dir, "dns", "records", "good.test").stdout
    assert "; zone file lines for good.test" in text
    assert "NAME" in text and "VALUE" in text


# ---------------------------------------------------------------- dns check

def host_zones():
    return {
        "host.test.": [
            ("mail.host.test.", "A", IPV4),
            ("mail.host.test.", "AAAA", IPV6),
            ("backup.host.test.", "A", "11.22.33.45"),
            ("other.host.test.", "AAAA", BAD_IPV6),
        ],
        "33.22.11.in-addr.arpa.": [(rev4(IPV4), "PTR", HOST + ".")],
        "0.0.0.0.0.0.0.0.0.5.4.1.0.0.a.2.ip6.arpa.": [
            (rev6(IPV6), "PTR", HOST + "."),
            (rev6(BAD_IPV6), "PTR", "other.host.test."),
        ],
    }


@pytest.fixture(scope="module")
def zones(data_dir):
    """good.test as `dns records` says; bad.test and bad2.test with
    planted mistakes; and the DNS server serving them."""
    for d in ("good.test", "bad.test", "bad2.test"):
        if d != "good.test":
            ctl(data_dir, "domain", "add", d)
    good = records(data_dir, "good.test")
    bad = records(data_dir, "bad.test")
    bad2 = records(data_dir, "bad2.test")
    z = host_zones()
    z["good.test."] = zone_records(good)

    def keep(recs, *drop):
        return [t for t, r in zip(zone_records(recs), recs["records"])
                if r["purpose"] not in drop]

    dk = {("rsa" if "k=rsa" in r["value"] else "ed"): r
          for r in by_purpose(bad, "dkim")}
    good_ed = [r for r in by_purpose(good, "dkim") if "k=ed25519" in r["value"]][0]
    rsa_first = re.findall(r'"[^"]*"', dk["rsa"]["zone"])[0]
    z["bad.test."] = [t for t in keep(bad, "mx", "spf", "dkim", "dmarc")
                      if not t[0].startswith("_imaps._tcp.")] + [
        # IMAPS announced on the plain IMAP port
        ("_imaps._tcp.bad.test.", "SRV", "0 1 143 %s." % HOST),
        # priorities inverted
        ("bad.test.", "MX", "10 %s." % BACKUP),
        ("bad.test.", "MX", "20 %s." % HOST),
        # two SPF records
        ("bad.test.", "TXT", '"v=spf1 mx -all"'),
        ("bad.test.", "TXT", '"v=spf1 ip4:%s -all"' % IPV4),
        # the RSA key cut at its first character-string
        (dk["rsa"]["name"] + ".", "TXT", rsa_first),
        # a valid key, but another domain's
        (dk["ed"]["name"] + ".", "TXT",
         '"%s"' % good_ed["value"]),
        # a DMARC syntax error
        ("_dmarc.bad.test.", "TXT",
         '"v=DMARC1; p=rejected; rua=mailto:dmarc-reports@bad.test"'),
    ]
    dk2 = {("rsa" if "k=rsa" in r["value"] else "ed"): r
           for r in by_purpose(bad2, "dkim")}
    rsa_parts = re.findall(r'"[^"]*"', dk2["rsa"]["zone"])
    z["bad2.test."] = [t for t in keep(bad2, "mx", "spf", "dkim", "dmarc",
                                       "tls-rpt")
                       if not t[0].startswith("autoconfig.")] + [
        # autoconfig leads to another server
        ("autoconfig.bad2.test.", "A", "11.22.33.99"),
        ("bad2.test.", "MX", "10 %s." % HOST),
        ("bad2.test.", "MX", "20 %s." % BACKUP),
        # an MX pointing to a server that is not ours
        ("bad2.test.", "MX", "30 mx.elsewhere.test."),
        # +all, 4 includes of 3 lookups each (16 in all), and not
        # this server's addresses
        ("bad2.test.", "TXT", '"v=spf1 include:i1.bad2.test '
         'include:i2.bad2.test include:i3.bad2.test include:i4.bad2.test +all"'),
    ] + [("i%d.bad2.test." % i, "TXT", '"v=spf1 a mx ptr ?all"')
         for i in range(1, 5)] + [
        # a line break pasted into the key: two records
        (dk2["rsa"]["name"] + ".", "TXT", rsa_parts[0]),
        (dk2["rsa"]["name"] + ".", "TXT", rsa_parts[1]),
        # the Ed25519 key, the DMARC and the TLS-RPT records are missing
    ]
    with DnsServer(zones=z, servfail=()) as dns:
        yield dns


def check(data_dir, dns, domain, *conf):
    p = ctl(data_dir, "dns", "check", domain, "--json",
            conf=("dns_forwarder=" + dns.forwarder,) + conf, check=False)
    out = json.loads(p.stdout)
    return p.returncode, out


def problems(out):
    return sorted((c["check"], c["status"], c["name"]) for c in out["checks"]
                  if c["status"] != "ok")


def test_correct_zone_is_all_ok(data_dir, zones):
    rc, out = check(data_dir, zones, "good.test")
    assert problems(out) == [], out["checks"]
    assert rc == 0 and out["ok"] is True
    checked = {c["check"] for c in out["checks"]}
    assert checked == {"mx", "spf", "dkim", "dmarc", "mta-sts", "tls-rpt",
                       "autoconfig", "srv", "ptr"}
    assert out["max_ttl"] == 300
    text = ctl(data_dir, "dns", "check", "good.test",
               conf=("dns_forwarder=" + zones.forwarder,)).stdout
    assert "all records are right" in text


def test_broken_zone_lists_every_mistake(data_dir, zones):
    rc, out = check(data_dir, zones, "bad.test", "public_ipv6=" + BAD_IPV6)
    assert rc == 1 and out["ok"] is False
    dk = {("rsa" if "k=rsa" in r["value"] else "ed"): r["name"]
          for r in by_purpose(records(data_dir, "bad.test"), "dkim")}
    assert problems(out) == sorted([
        ("mx", "wrong", "bad.test"),
        ("spf", "wrong", "bad.test"),
        ("dkim", "wrong", dk["rsa"]),
        ("dkim", "wrong", dk["ed"]),
        ("dmarc", "wrong", "_dmarc.bad.test"),
        ("srv", "wrong", "_imaps._tcp.bad.test"),
        ("ptr", "wrong", rev6(BAD_IPV6).rstrip(".")),
    ]), out["checks"]
    found = {(c["check"], c["name"]): c for c in out["checks"]
             if c["status"] != "ok"}
    assert "priorities inverted" in found["mx", "bad.test"]["found"]
    assert "2 SPF records" in found["spf", "bad.test"]["found"]
    assert "base64" in found["dkim", dk["rsa"]]["found"]
    assert "not the key" in found["dkim", dk["ed"]]["found"]
    assert "p= must be" in found["dmarc", "_dmarc.bad.test"]["found"]
    assert "other.host.test" in found["ptr", rev6(BAD_IPV6).rstrip(".")]["found"]
    srv = found["srv", "_imaps._tcp.bad.test"]
    imaps = [r for r in records(data_dir, "bad.test")["records"]
             if r["name"] == "_imaps._tcp.bad.test"][0]
    port = imaps["value"].split()[2]
    assert "0 1 143 %s" % HOST in srv["found"], srv
    assert "port %s" % port in srv["found"], srv
    assert imaps["zone"] in srv["fix"], srv
    for c in found.values():
        assert c["fix"], c
    # the fix for a key is the exact record to publish
    assert dk["ed"] + ". 3600 IN TXT" in found["dkim", dk["ed"]]["fix"]
    text = ctl(data_dir, "dns", "check", "bad.test", check=False,
               conf=("dns_forwarder=" + zones.forwarder,)).stdout
    assert "up to the record's TTL" in text and "300 seconds" in text


def test_second_broken_zone(data_dir, zones):
    rc, out = check(data_dir, zones, "bad2.test")
    assert rc == 1
    dk = {("rsa" if "k=rsa" in r["value"] else "ed"): r["name"]
          for r in by_purpose(records(data_dir, "bad2.test"), "dkim")}
    assert problems(out) == sorted([
        ("mx", "wrong", "bad2.test"),
        ("spf", "wrong", "bad2.test"),     # +all
        ("spf", "wrong", "bad2.test"),     # 16 lookups
        ("spf", "wrong", "bad2.test"),     # our addresses not allowed
        ("dkim", "wrong", dk["rsa"]),      # split into two records
        ("dkim", "missing", dk["ed"]),
        ("dmarc", "missing", "_dmarc.bad2.test"),
        ("tls-rpt", "missing", "_smtp._tls.bad2.test"),
        ("autoconfig", "wrong", "autoconfig.bad2.test"),
    ]), out["checks"]
    spf = " | ".join(c["found"] for c in out["checks"] if c["check"] == "spf")
    assert "+all" in spf and "16 DNS lookups" in spf and IPV4 in spf
    mx = [c for c in out["checks"] if c["check"] == "mx"][0]
    assert "mx.elsewhere.test" in mx["found"]


# ---------------------------------------------------------------------- API

@pytest.fixture(scope="module")
def srv(zones):
    yield from petreltest.running(*[kv.replace("=", " = ", 1) for kv in SITE],
                                  "dns_forwarder = " + zones.forwarder)


def test_api_dns_endpoint(srv):
    for s in (srv,):
        s.ctl("domain", "add", "api.host.test")
        out = s.ctl("token", "add", "doctor").stdout.decode()
        token = re.search(r"^(ptk_\S+)$", out, re.M).group(1)
        ca = os.path.join(s.data_dir, "tls", "cert.pem")
        url = "https://localhost:%d/api/v1/domains/api.host.test/dns" % s.admin_port

        def get(u):
            p = subprocess.run(["curl", "-sS", "--cacert", ca, "-w", "\n%{http_code}",
                                "-H", "Authorization: Bearer " + token, u],
                               capture_output=True, text=True, timeout=120)
            body, _, status = p.stdout.rpartition("\n")
            return int(status), json.loads(body)

        status, body = get(url + "?check=false")
        assert status == 200, body
        assert "checks" not in body
        assert {r["purpose"] for r in body["records"]} >= {
            "mx", "spf", "dkim", "dmarc", "mta-sts", "tls-rpt", "srv"}
        status, body = get(url)
        assert status == 200, body
        # nothing is published for api.test: MX, SPF, DKIM ... missing
        assert body["ok"] is False
        missing = {c["check"] for c in body["checks"]
                   if c["status"] == "missing"}
        assert {"mx", "spf", "dkim", "dmarc"} <= missing
        ptr = [c for c in body["checks"] if c["check"] == "ptr"]
        assert ptr and all(c["status"] == "ok" for c in ptr)
        status, body = get(url.replace("api.host.test", "nosuch.test"))
        assert status == 404, body
