"""test_dmarc_reports.py - DMARC aggregate reports (RFC 7489 7.2), end to
end: mail from domains that publish rua= comes in over SMTP and is checked
against a real NSD on loopback; `petrelctl dmarc send --day <today>` has
petreld send the reports: one rua address is a hosted mailbox, one an
external domain whose MX is an aiosmtpd server on 127.0.0.2 and which
authorises the reports (RFC 7489 7.1 _report._dmarc record), one external
domain without that record (skipped). The reports are read back with
python's gzip and xml, and summarised with `petrelctl dmarc report`; so
are real reports from ../shared/testdata/dmarc-reports sent in as mail."""

import gzip
import email
import email.policy
import json
import os
import smtplib
import time
import xml.etree.ElementTree as ET
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

import petreltest
from dnsserver import DnsServer
from petreltest import free_port
from remotemta import RemoteMTA

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(REPO, "..", "shared", "testdata", "dmarc-reports")
RUA_LOCAL = "dmarc-reports@example.test"


def txt(s):
    return '"%s"' % s


ZONES = {
    "test.": [
        # passes SPF; reports to a hosted mailbox, an authorising external
        # domain and one that does not authorise (RFC 7489 7.1)
        ("pass.test.", "TXT", txt("v=spf1 ip4:127.0.0.1 -all")),
        ("_dmarc.pass.test.", "TXT", txt(
            "v=DMARC1; p=none; rua=mailto:" + RUA_LOCAL +
            ",mailto:agg@ext.test,mailto:agg@noauth.test")),
        ("pass.test._report._dmarc.example.test.", "TXT", txt("v=DMARC1")),
        ("pass.test._report._dmarc.ext.test.", "TXT", txt("v=DMARC1")),
        ("ext.test.", "MX", "10 mx.ext.test."),
        ("mx.ext.test.", "A", "127.0.0.2"),
        ("noauth.test.", "MX", "10 mx.ext.test."),
        # fails SPF, p=none: delivered, reported as failing
        ("fail.test.", "TXT", txt("v=spf1 -all")),
        ("_dmarc.fail.test.", "TXT", txt("v=DMARC1; p=none; rua=mailto:" + RUA_LOCAL)),
        ("fail.test._report._dmarc.example.test.", "TXT", txt("v=DMARC1")),
        # a report mail cannot fit in 100 bytes (RFC 7489 6.2 "!size")
        ("small.test.", "TXT", txt("v=spf1 ip4:127.0.0.1 -all")),
        ("_dmarc.small.test.", "TXT", txt("v=DMARC1; p=none; rua=mailto:" + RUA_LOCAL + "!100")),
        ("small.test._report._dmarc.example.test.", "TXT", txt("v=DMARC1")),
        # no rua: nothing recorded
        ("norua.test.", "TXT", txt("v=spf1 ip4:127.0.0.1 -all")),
        ("_dmarc.norua.test.", "TXT", txt("v=DMARC1; p=none")),
    ],
}


@pytest.fixture(scope="module")
def dns():
    with DnsServer(zones=ZONES) as d:
        yield d


@pytest.fixture(scope="module")
def port():
    return free_port()


@pytest.fixture(scope="module")
def srv(dns, port):
    yield from petreltest.running(
        "dns_forwarder = " + dns.forwarder, "dns_timeout = 5",
        "msgauth_inbound = yes", "outbound_port = %d" % port,
        "queue_retry_schedule = 1s", "dmarc_report_org = Petrel Test")


def send(srv, mail_from, marker, rcpt=petreltest.DEMO, body=None):
    msg = body or (
        "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n"
        "Message-ID: <%s@client.test>\r\n\r\nhello\r\n"
        % (mail_from, rcpt, marker, marker)).encode()
    with smtplib.SMTP("127.0.0.1", srv.port, local_hostname="client.test",
                      timeout=30) as s:
        s.sendmail(mail_from, [rcpt], msg)


def report_of(raw):
    """(subject, file name, parsed XML root) of a report e-mail."""
    m = email.message_from_bytes(raw, policy=email.policy.default)
    att = [p for p in m.walk() if p.get_content_type() == "application/gzip"]
    assert len(att) == 1, m
    return (str(m["Subject"]), att[0].get_filename(),
            ET.fromstring(gzip.decompress(att[0].get_content())))


def rows(root):
    out = []
    for rec in root.findall("record"):
        out.append({
            "ip": rec.findtext("row/source_ip"),
            "count": int(rec.findtext("row/count")),
            "disposition": rec.findtext("row/policy_evaluated/disposition"),
            "dkim": rec.findtext("row/policy_evaluated/dkim"),
            "spf": rec.findtext("row/policy_evaluated/spf"),
            "header_from": rec.findtext("identifiers/header_from"),
            "spf_auth": (rec.findtext("auth_results/spf/domain"),
                         rec.findtext("auth_results/spf/result")),
        })
    return out


def test_reports_sent_local_external_and_skipped(srv, port):
    srv.add_mailbox(RUA_LOCAL)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    for i in range(2):
        send(srv, "ann@pass.test", petreltest.unique("pass%d" % i))
    send(srv, "bob@fail.test", petreltest.unique("fail"))
    send(srv, "cy@norua.test", petreltest.unique("norua"))
    with RemoteMTA("127.0.0.2", port) as mx:
        dry = json.loads(srv.ctl("dmarc", "send", "--day", today,
                                 "--dry-run", "--json").stdout)
        assert dry["dry_run"] is True
        assert sorted(r["domain"] for r in dry["reports"]) == ["fail.test", "pass.test"]
        p = srv.ctl("dmarc", "send", "--day", today)
        out = p.stdout.decode()
        print(out)
        assert "pass.test report" in out and "fail.test report" in out, out
        assert "sent to %s" % RUA_LOCAL in out, out
        assert "sent to agg@ext.test" in out, out
        assert "skipped agg@noauth.test" in out and "RFC 7489 7.1" in out, out
        got = mx.wait_messages(1)
    # the external report
    assert got[0].rcpt_tos == ["agg@ext.test"]
    subject, fname, root = report_of(got[0].content)
    assert subject.startswith("Report Domain: pass.test Submitter: %s Report-ID: <"
                              % petreltest.HOSTNAME), subject
    assert fname.startswith("%s!pass.test!" % petreltest.HOSTNAME), fname
    assert fname.endswith(".xml.gz"), fname
    assert root.findtext("report_metadata/org_name") == "Petrel Test"
    assert root.findtext("report_metadata/email") == "dmarc-noreply@" + petreltest.HOSTNAME
    assert root.findtext("policy_published/domain") == "pass.test"
    assert root.findtext("policy_published/p") == "none"
    assert rows(root) == [{
        "ip": "127.0.0.1", "count": 2, "disposition": "none", "dkim": "fail",
        "spf": "pass", "header_from": "pass.test",
        "spf_auth": ("pass.test", "pass")}]
    # the local ones, one per policy domain; nothing for norua.test
    local = [report_of(m) for m in srv.messages(RUA_LOCAL)]
    by_domain = {r[2].findtext("policy_published/domain"): r for r in local}
    assert sorted(by_domain) == ["fail.test", "pass.test"]
    assert rows(by_domain["fail.test"][2]) == [{
        "ip": "127.0.0.1", "count": 1, "disposition": "none", "dkim": "fail",
        "spf": "fail", "header_from": "fail.test",
        "spf_auth": ("fail.test", "fail")}]
    # sent rows are gone: a second run has nothing
    again = json.loads(srv.ctl("dmarc", "send", "--day", today, "--json").stdout)
    assert again["reports"] == []

    # the receiving side: petrelctl dmarc report on what arrived
    s = json.loads(srv.ctl("dmarc", "report", "fail.test", "--mailbox",
                           RUA_LOCAL, "--json").stdout)
    assert (s["messages"], s["pass"], s["fail"]) == (1, 0, 1), s
    assert s["failing_sources"] == [{"source_ip": "127.0.0.1", "messages": 1,
                                     "spf_fail": 1, "dkim_fail": 1}]
    assert s["other_domains"] == 1 and s["unreadable"] == []
    text = srv.ctl("dmarc", "report", "pass.test", "--mailbox", RUA_LOCAL).stdout.decode()
    print(text)
    assert "Petrel Test" in text and "Total: 2 messages in 1 reports, 2 pass DMARC, 0 fail" in text


def test_size_limit_and_rows_kept_across_restart(srv):
    """Rows still in memory are written at shutdown; a report larger than
    the address's !size is not sent to it."""
    today = time.strftime("%Y-%m-%d", time.gmtime())
    send(srv, "dee@small.test", petreltest.unique("small"))
    srv.stop()
    srv.start()
    res = json.loads(srv.ctl("dmarc", "send", "--day", today, "--domain",
                             "small.test", "--json").stdout)
    assert len(res["reports"]) == 1, res
    r = res["reports"][0]
    assert (r["domain"], r["messages"], r["sent"]) == ("small.test", 1, []), r
    assert r["skipped"][0]["address"] == RUA_LOCAL
    assert "over the 100 the address accepts" in r["skipped"][0]["reason"], r


def sample_mail(path, to, data=None):
    if data is None:
        with open(path, "rb") as f:
            data = f.read()
    m = MIMEMultipart()
    m["From"] = "reports@sender.test"
    m["To"] = to
    m["Subject"] = "Report " + os.path.basename(path)
    m.attach(MIMEText("report attached"))
    m.attach(MIMEApplication(gzip.compress(data), "gzip",
                             Name=os.path.basename(path) + ".gz"))
    return m.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def expected(path):
    root = ET.parse(path).getroot()
    total = passed = 0
    for rec in root.findall("record"):
        n = int(rec.findtext("row/count"))
        total += n
        pe = rec.find("row/policy_evaluated")
        if pe.findtext("dkim") == "pass" or pe.findtext("spf") == "pass":
            passed += n
    return root.findtext("report_metadata/org_name"), total, passed


def test_summary_of_real_reports(srv):
    box = srv.new_mailbox("dmarcrx")
    agg = os.path.join(SAMPLES, "parsedmarc", "aggregate")
    paths = [os.path.join(SAMPLES, "opendmarc", n) for n in (
        "163.com!example.com!1337270400!1337356799.20120518163.xml",
        "yeah.net!example.com!1337270400!1337356799.20120518.xml")]
    paths += [os.path.join(agg, n) for n in (
        "addisonfoods.com!example.com!1536105600!1536191999.xml",
        "usssa.com!example.com!1538784000!1538870399.xml")]
    for p in paths:
        send(srv, "reports@sender.test", "x", rcpt=box, body=sample_mail(p, box))
    # not well-formed (refused, named), and one about another domain
    bad = os.path.join(SAMPLES, "opendmarc", "bad.com!example.com!1337140800!1337227200.xml")
    send(srv, "reports@sender.test", "x", rcpt=box, body=sample_mail(bad, box))
    veeam = os.path.join(agg, "veeam.com!example.com!1530133200!1530219600.xml")
    with open(veeam, "rb") as f:
        other = f.read().replace(b"<domain>example.com</domain>",
                                 b"<domain>example.org</domain>")
    send(srv, "reports@sender.test", "x", rcpt=box, body=sample_mail(veeam, box, other))
    want = [expected(p) for p in paths]
    s = json.loads(srv.ctl("dmarc", "report", "example.com", "--mailbox", box,
                           "--json").stdout)
    got = sorted((r["org_name"], r["messages"], r["pass"]) for r in s["reports"])
    assert got == sorted(want), (got, want)
    assert s["messages"] == sum(w[1] for w in want)
    assert s["pass"] == sum(w[2] for w in want)
    assert s["other_domains"] == 1
    assert len(s["unreadable"]) == 1, s["unreadable"]
    text = srv.ctl("dmarc", "report", "example.com", "--mailbox", box).stdout.decode()
    print(text)
    assert "Top failing sources" in text and "Unreadable: UID" in text
