"""test_autoconfig.py - client autoconfiguration on the public listeners
(listen_autoconfig HTTPS, listen_autoconfig_http; decision 0041), driven
with curl and Python's http.client, every document read with a real
parser: Mozilla config-v1.1 (ElementTree: the ISPDB format's required
elements, the values of the running server, which a real IMAP and SMTP
login then uses), Microsoft Autodiscover (Outlook's request as Outlook
sends it, the POX response and error schema, the v2 JSON pointer), the
Apple profile (CMS signature verified with `openssl cms` and `openssl
smime` against the server's certificate, payload read with plistlib),
the settings page (headless Chromium: DOM dump, a screenshot, and its QR
code read back with zbarimg),
`petrelctl domain settings`, public names and ports shared with the SRV
records, which are read back with dig from NSD (dnsserver.py). Bad input:
unknown domains (one 404 for all, saying nothing more), malformed
addresses, XML bombs, huge bodies (413), and the admin API absent."""

import http.client
import imaplib
import json
import os
import plistlib
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

import pytest

import petreltest
from dnsserver import DnsServer

DOMAIN = "example.test"
DEMO = petreltest.DEMO
AD_REQ_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
AD_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
AD_OUTLOOK_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
NOT_HERE = b"This server has no mail settings for that domain."


def outlook_request(addr, schema=AD_OUTLOOK_NS):
    # byte for byte the shape Outlook 2016+ posts (with CRLF and BOM-less utf-8)
    return ('<?xml version="1.0" encoding="utf-8"?>\r\n'
            '<Autodiscover xmlns="%s">\r\n'
            '  <Request>\r\n'
            '    <EMailAddress>%s</EMailAddress>\r\n'
            '    <AcceptableResponseSchema>%s</AcceptableResponseSchema>\r\n'
            '  </Request>\r\n'
            '</Autodiscover>\r\n' % (AD_REQ_NS, addr, schema)).encode()


@pytest.fixture(scope="module")
def srv():
    yield from petreltest.running()


def request(srv, method, path, body=None, host=None, https=False, headers=None):
    """(status, headers dict lower-cased, body bytes)."""
    if https:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", srv.autoconfig_port,
                                        context=ctx, timeout=20)
    else:
        c = http.client.HTTPConnection("127.0.0.1", srv.autoconfig_http_port,
                                       timeout=20)
    h = dict(headers or {})
    if host:
        h["Host"] = host
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    c.close()
    return out


def curl(*args):
    r = subprocess.run(["curl", "-sS", "--max-time", "20"] + list(args),
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


# ---------------------------------------------------------------- Mozilla

def check_mozilla(root, domain, want):
    """config-v1.1 as the ISPDB format requires it; want: the services
    [(type, hostname, port, socketType)] in order."""
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    prov = root.find("emailProvider")
    assert prov is not None and prov.get("id") == domain
    assert prov.findtext("domain") == domain
    assert prov.findtext("displayName") and prov.findtext("displayShortName")
    got = []
    for el in prov:
        if el.tag not in ("incomingServer", "outgoingServer"):
            continue
        for req in ("hostname", "port", "socketType", "authentication", "username"):
            assert el.find(req) is not None, (el.get("type"), req)
        assert el.findtext("username") == "%EMAILADDRESS%"
        assert el.findtext("authentication") == "password-cleartext"
        assert (el.tag == "outgoingServer") == (el.get("type") == "smtp")
        got.append((el.get("type"), el.findtext("hostname"),
                    int(el.findtext("port")), el.findtext("socketType")))
    assert got == want


def want_default(srv, host=petreltest.HOSTNAME):
    return [("imap", host, srv.imaps_port, "SSL"),
            ("imap", host, srv.imap_port, "STARTTLS"),
            ("pop3", host, srv.pop3s_port, "SSL"),
            ("pop3", host, srv.pop3_port, "STARTTLS"),
            ("smtp", host, srv.submissions_port, "SSL"),
            ("smtp", host, srv.submission_port, "STARTTLS")]


def test_mozilla_autoconfig_both_urls(srv):
    # Thunderbird: autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=
    body = curl("-H", "Host: autoconfig." + DOMAIN,
                "http://127.0.0.1:%d/mail/config-v1.1.xml?emailaddress=%s"
                % (srv.autoconfig_http_port, DEMO))
    check_mozilla(ET.fromstring(body), DOMAIN, want_default(srv))
    # ... and DOMAIN/.well-known/autoconfig/..., over HTTPS, Host only
    st, h, body = request(srv, "GET", "/.well-known/autoconfig/mail/config-v1.1.xml",
                          host=DOMAIN, https=True)
    assert st == 200 and h["content-type"].startswith("application/xml")
    check_mozilla(ET.fromstring(body), DOMAIN, want_default(srv))


def test_documents_describe_real_servers(srv):
    """What the document says is what works: log in to IMAP (implicit TLS)
    and submit over STARTTLS at the ports it names."""
    root = ET.fromstring(request(srv, "GET", "/mail/config-v1.1.xml?emailaddress="
                                 + DEMO)[2])
    servers = {(e.get("type"), e.findtext("socketType")): int(e.findtext("port"))
               for e in root.find("emailProvider")
               if e.tag.endswith("Server")}
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    m = imaplib.IMAP4_SSL("127.0.0.1", servers["imap", "SSL"], ssl_context=ctx,
                          timeout=20)
    assert m.login(DEMO, petreltest.DEMO_PASSWORD)[0] == "OK"
    m.logout()
    s = smtplib.SMTP("127.0.0.1", servers["smtp", "STARTTLS"], timeout=20)
    s.starttls(context=ctx)
    s.login(DEMO, petreltest.DEMO_PASSWORD)
    s.quit()


def test_mozilla_bad_input(srv):
    for path, host in (("/mail/config-v1.1.xml?emailaddress=a@nothere.test", None),
                       ("/mail/config-v1.1.xml", "autoconfig.nothere.test"),
                       ("/mail/config-v1.1.xml", "127.0.0.1"),
                       ("/mail/config-v1.1.xml", "localhost:8080")):
        st, h, body = request(srv, "GET", path, host=host)
        assert (st, body.strip()) == (404, NOT_HERE), (path, host)
        assert h["content-type"].startswith("text/plain")
    for bad in ("demo", "demo@", "a%20b@example.test", "%3Cx%3E@example.test",
                "x" * 65 + "@example.test", "demo@example.test%0A"):
        st, _, body = request(srv, "GET", "/mail/config-v1.1.xml?emailaddress=" + bad)
        assert st == 400, bad
        assert b"not an e-mail address" in body
    # a NUL is refused by the target parser, before any handler
    st, _, _ = request(srv, "GET", "/mail/config-v1.1.xml?emailaddress=demo@example.test%00")
    assert st == 400


# ---------------------------------------------------------------- Outlook

def ad_post(srv, body, path="/autodiscover/autodiscover.xml", https=False):
    return request(srv, "POST", path, body=body, https=https,
                   host="autodiscover." + DOMAIN,
                   headers={"Content-Type": "text/xml",
                            "User-Agent": "Microsoft Office/16.0 (Windows NT 10.0; "
                                          "Microsoft Outlook 16.0.17328; Pro)"})


def ad_error(body):
    root = ET.fromstring(body)
    assert root.tag == "{%s}Autodiscover" % AD_NS
    err = root.find("{%s}Response/{%s}Error" % (AD_NS, AD_NS))
    assert err is not None and err.get("Time") and err.get("Id")
    assert err.find("{%s}DebugData" % AD_NS) is not None
    return int(err.findtext("{%s}ErrorCode" % AD_NS)), err.findtext("{%s}Message" % AD_NS)


def test_autodiscover_outlook(srv):
    for path, https in (("/autodiscover/autodiscover.xml", False),
                        ("/Autodiscover/Autodiscover.xml", True)):
        st, h, body = ad_post(srv, outlook_request(DEMO), path, https)
        assert st == 200 and h["content-type"].startswith("text/xml"), body
        root = ET.fromstring(body)
        assert root.tag == "{%s}Autodiscover" % AD_NS
        resp = root.find("{%s}Response" % AD_OUTLOOK_NS)
        assert resp is not None
        acct = resp.find("{%s}Account" % AD_OUTLOOK_NS)
        n = lambda e, t: e.findtext("{%s}%s" % (AD_OUTLOOK_NS, t))
        assert n(acct, "AccountType") == "email" and n(acct, "Action") == "settings"
        protos = {}
        for p in acct.findall("{%s}Protocol" % AD_OUTLOOK_NS):
            for req in ("Type", "Server", "Port", "LoginName", "SSL",
                        "AuthRequired", "SPA", "DomainRequired"):
                assert n(p, req) is not None, req
            protos[n(p, "Type")] = (n(p, "Server"), int(n(p, "Port")),
                                    n(p, "Encryption"), n(p, "LoginName"))
        H = petreltest.HOSTNAME
        assert protos == {"IMAP": (H, srv.imaps_port, "SSL", DEMO),
                          "SMTP": (H, srv.submissions_port, "SSL", DEMO),
                          "POP3": (H, srv.pop3s_port, "SSL", DEMO)}


def test_autodiscover_errors(srv):
    st, _, body = ad_post(srv, outlook_request("someone@nothere.test"))
    assert st == 404 and ad_error(body) == (500, NOT_HERE.decode())
    st, _, body = ad_post(srv, b"<Autodiscover><Request>")
    assert st == 400 and ad_error(body)[0] == 600
    st, _, body = ad_post(srv, outlook_request("not-an-address"))
    assert st == 400 and ad_error(body)[0] == 600
    st, _, body = ad_post(srv, outlook_request(
        DEMO, "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"))
    assert st == 400 and ad_error(body)[0] == 601
    # billion laughs: refused at the DTD, at once, and the server lives
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
            "".join('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10)
                    for i in range(1, 10)) +
            ']><Autodiscover xmlns="%s"><Request><EMailAddress>&lol9;</EMailAddress>'
            '</Request></Autodiscover>' % AD_REQ_NS).encode()
    t = time.monotonic()
    st, _, body = ad_post(srv, bomb)
    assert st == 400 and ad_error(body)[0] == 600 and time.monotonic() - t < 5
    xxe = ('<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           '<Autodiscover><Request><EMailAddress>&x;</EMailAddress></Request>'
           '</Autodiscover>').encode()
    st, _, body = ad_post(srv, xxe)
    assert st == 400 and b"root:" not in body
    # huge bodies: ours (the protocol's error) and evhttp's backstop
    st, _, body = ad_post(srv, outlook_request(DEMO) + b"<!--" + b"x" * 100000 + b"-->")
    assert st == 413 and ad_error(body)[0] == 600
    # past evhttp's backstop the Content-Length alone is refused, before
    # any of the body is read (so send none: the server closes at once)
    with socket.create_connection(("127.0.0.1", srv.autoconfig_http_port),
                                  timeout=20) as sk:
        sk.sendall(b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\n"
                   b"Host: autodiscover.example.test\r\nContent-Type: text/xml\r\n"
                   b"Content-Length: %d\r\n\r\n" % (2 * 1024 * 1024))
        assert sk.recv(100).startswith(b"HTTP/1.1 413 ")
    # GET is not the protocol
    st, _, _ = request(srv, "GET", "/autodiscover/autodiscover.xml")
    assert st == 405
    srv.assert_alive()


def test_autodiscover_json(srv):
    st, h, body = request(srv, "GET", "/autodiscover/autodiscover.json?Email=%s"
                          "&Protocol=AutodiscoverV1" % DEMO)
    assert st == 200 and h["content-type"].startswith("application/json")
    assert json.loads(body) == {
        "Protocol": "AutodiscoverV1",
        "Url": "https://autodiscover.%s:%d/autodiscover/autodiscover.xml"
               % (DOMAIN, srv.autoconfig_port)}
    st, _, body = request(srv, "GET", "/autodiscover/autodiscover.json/v1.0/%s"
                          "?Protocol=AutodiscoverV1&RedirectCount=1" % DEMO)
    assert st == 200 and json.loads(body)["Protocol"] == "AutodiscoverV1"
    st, _, body = request(srv, "GET", "/autodiscover/autodiscover.json?Email=%s"
                          "&Protocol=ActiveSync" % DEMO)
    assert st == 400 and json.loads(body)["ErrorCode"] == "InvalidProtocol"
    st, _, body = request(srv, "GET", "/autodiscover/autodiscover.json?Email=x"
                          "&Protocol=AutodiscoverV1")
    assert st == 400 and json.loads(body)["ErrorCode"] == "InvalidUser"
    st, _, body = request(srv, "GET", "/autodiscover/autodiscover.json?Email=a@no.test"
                          "&Protocol=AutodiscoverV1")
    assert st == 404


# ---------------------------------------------------------------- Apple

def test_apple_profile_signed(srv, tmp_path):
    out = tmp_path / "p.mobileconfig"
    curl("-k", "-o", str(out), "-H", "Host: autoconfig." + DOMAIN,
         "https://127.0.0.1:%d/apple/mail.mobileconfig?email=%s"
         % (srv.autoconfig_port, DEMO))
    cert = os.path.join(srv.data_dir, "tls", "cert.pem")
    plist = tmp_path / "p.plist"
    r = subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-in", str(out),
                        "-CAfile", cert, "-purpose", "any", "-out", str(plist)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "Verification successful" in r.stderr, r.stderr
    r = subprocess.run(["openssl", "smime", "-verify", "-inform", "DER", "-in", str(out),
                        "-CAfile", cert, "-purpose", "any", "-noout"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # the signer is the server's certificate
    signers = tmp_path / "signer.pem"
    subprocess.run(["openssl", "cms", "-verify", "-noverify", "-inform", "DER",
                    "-in", str(out), "-signer", str(signers), "-out", os.devnull],
                   check=True, capture_output=True)
    fp = lambda p: subprocess.run(["openssl", "x509", "-noout", "-fingerprint",
                                   "-sha256", "-in", p], capture_output=True,
                                  text=True, check=True).stdout
    assert fp(str(signers)) == fp(cert)
    p = plistlib.loads(plist.read_bytes())
    assert p["PayloadType"] == "Configuration" and p["PayloadVersion"] == 1
    for k in ("PayloadIdentifier", "PayloadUUID", "PayloadDisplayName"):
        assert p[k]
    (mail,) = p["PayloadContent"]
    assert mail["PayloadType"] == "com.apple.mail.managed"
    for k in ("PayloadIdentifier", "PayloadUUID", "PayloadVersion"):
        assert mail[k]
    assert mail["EmailAccountType"] == "EmailTypeIMAP"
    assert mail["EmailAddress"] == DEMO
    assert (mail["IncomingMailServerHostName"], mail["IncomingMailServerPortNumber"],
            mail["IncomingMailServerUseSSL"]) == (petreltest.HOSTNAME, srv.imaps_port, True)
    assert (mail["OutgoingMailServerHostName"], mail["OutgoingMailServerPortNumber"],
            mail["OutgoingMailServerUseSSL"]) == (petreltest.HOSTNAME,
                                                  srv.submissions_port, True)
    assert mail["IncomingMailServerUsername"] == DEMO
    assert mail["IncomingMailServerAuthentication"] == "EmailAuthPassword"
    assert mail["OutgoingPasswordSameAsIncomingPassword"] is True


def test_apple_profile_domain_only_and_bad_input(srv):
    st, h, body = request(srv, "GET", "/apple/mail.mobileconfig",
                          host="autoconfig." + DOMAIN)
    assert st == 200 and h["content-type"] == "application/x-apple-aspen-config"
    assert body[:1] == b"\x30"      # DER: a SEQUENCE
    st, _, _ = request(srv, "GET", "/apple/mail.mobileconfig?email=<script>@x.test")
    assert st == 400
    st, _, body = request(srv, "GET", "/apple/mail.mobileconfig?domain=nothere.test")
    assert (st, body.strip()) == (404, NOT_HERE)


# ---------------------------------------------------------------- the page

def chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return name
    pytest.skip("chromium is not installed (scripts/install-deps)")


def run_chromium(*args):
    home = tempfile.mkdtemp(prefix="petrel-chromium-")
    try:
        r = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                            "--no-first-run", "--user-data-dir=" + home] + list(args),
                           capture_output=True, timeout=120,
                           env=dict(os.environ, HOME=home))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return r


def test_settings_page_in_chromium(srv, tmp_path):
    url = "http://127.0.0.1:%d/settings/%s" % (srv.autoconfig_http_port, DOMAIN)
    r = run_chromium("--dump-dom", url)
    assert r.returncode == 0, r.stderr[-2000:]
    dom = r.stdout.decode()
    # rendered: both tables, every offered service with its port
    for table in ("servers-en", "servers-zh"):
        assert 'id="%s"' % table in dom
    for port in (srv.imaps_port, srv.imap_port, srv.pop3s_port, srv.pop3_port,
                 srv.submissions_port, srv.submission_port):
        assert '<td class="port">%d</td>' % port in dom
    assert dom.count('class="service"') == 12
    assert "收信服务器" in dom and "App passwords" in dom and "客户端专用密码" in dom
    assert "/apple/mail.mobileconfig" in dom and "<svg" in dom
    shot = tmp_path / "settings.png"
    r = run_chromium("--screenshot=" + str(shot), "--window-size=1000,1400", url)
    assert r.returncode == 0, r.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000


def test_settings_page_qr_code_decodes(srv, tmp_path):
    """The QR code, drawn by Chromium and read back by zbarimg, is the
    profile's address."""
    if not shutil.which("zbarimg"):
        pytest.skip("zbarimg is not installed (zbar-tools, scripts/install-deps)")
    _, _, body = request(srv, "GET", "/settings/" + DOMAIN)
    page = body.decode()
    svg = page[page.index("<svg"):page.index("</svg>") + 6]
    (tmp_path / "qr.svg").write_text(svg)
    shot = tmp_path / "qr.png"
    r = run_chromium("--screenshot=" + str(shot), "--window-size=400,400",
                     "file://" + str(tmp_path / "qr.svg"))
    assert r.returncode == 0, r.stderr[-2000:]
    r = subprocess.run(["zbarimg", "--raw", "-q", str(shot)], capture_output=True,
                       text=True, timeout=60)
    assert r.stdout.strip() == ("https://autoconfig.%s:%d/apple/mail.mobileconfig"
                                % (DOMAIN, srv.autoconfig_port)), r.stderr


def test_settings_page_unknown_domain(srv):
    bodies = set()
    for d in ("nothere.test", "localhost", "x%20y", "a" * 300 + ".test"):
        st, h, body = request(srv, "GET", "/settings/" + d)
        assert st == 404 and h["content-type"].startswith("text/html"), d
        bodies.add(body)
    assert len(bodies) == 1     # the same words for every name
    assert b"no mail settings for that domain" in bodies.pop()


def test_public_listeners_have_no_admin_api(srv):
    for https in (False, True):
        st, _, _ = request(srv, "GET", "/api/v1/health", https=https)
        assert st == 404
        st, _, _ = request(srv, "POST", "/api/v1/login", body=b"{}", https=https,
                           headers={"Content-Type": "application/json"})
        assert st == 404
    # nor the admin port the autoconfig documents
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", srv.admin_port, context=ctx, timeout=20)
    c.request("GET", "/settings/" + DOMAIN)
    assert c.getresponse().status == 404
    c.close()


def test_ctl_domain_settings(srv):
    out = json.loads(srv.ctl("domain", "settings", DOMAIN, "--json").stdout)
    got = [(s["protocol"], s["host"], s["port"], s["security"]) for s in out["services"]]
    want = [(t.replace("smtp", "smtp"), h, p, "SSL/TLS" if s == "SSL" else s)
            for t, h, p, s in want_default(srv)]
    assert got == want
    assert out["profile_url"] == ("https://autoconfig.%s:%d/apple/mail.mobileconfig"
                                  % (DOMAIN, srv.autoconfig_port))
    text = srv.ctl("domain", "settings", DOMAIN).stdout.decode()
    assert "Incoming mail (IMAP)" in text and str(srv.imaps_port) in text
    p = srv.ctl("domain", "settings", "nothere.test", check=False)
    assert p.returncode == 1 and b"no domain nothere.test" in p.stderr


# ---------------------------------------------------------------- one source

def test_public_names_and_srv_records(make_server):
    s = make_server("public_imap_host = imap.public.test",
                    "public_smtp_host = smtp.public.test",
                    "public_imaps_port = 993", "public_submissions_port = 465",
                    "public_autoconfig_port = 443", "listen_pop3 = ")
    root = ET.fromstring(request(s, "GET", "/mail/config-v1.1.xml?emailaddress="
                                 + DEMO)[2])
    H = petreltest.HOSTNAME
    check_mozilla(root, DOMAIN, [
        ("imap", "imap.public.test", 993, "SSL"),
        ("imap", "imap.public.test", s.imap_port, "STARTTLS"),
        ("pop3", H, s.pop3s_port, "SSL"),
        ("smtp", "smtp.public.test", 465, "SSL"),
        ("smtp", "smtp.public.test", s.submission_port, "STARTTLS")])
    js = json.loads(request(s, "GET", "/autodiscover/autodiscover.json?Email=%s"
                            "&Protocol=AutodiscoverV1" % DEMO)[2])
    assert js["Url"] == "https://autodiscover.%s/autodiscover/autodiscover.xml" % DOMAIN
    # the same names and ports in the SRV records, served by NSD, read by dig
    recs = json.loads(s.ctl("dns", "records", DOMAIN, "--json").stdout)
    zone = []
    for r in recs["records"]:
        owner, _ttl, _in, rtype, rdata = r["zone"].split(" ", 4)
        zone.append((owner, rtype, rdata))
    names = {r["name"]: r for r in recs["records"]}
    assert "_pop3._tcp." + DOMAIN not in names      # not offered
    assert names["autoconfig." + DOMAIN]["type"] == "CNAME"
    assert names["autodiscover." + DOMAIN]["type"] == "CNAME"
    want = {"_imaps._tcp": "0 1 993 imap.public.test.",
            "_imap._tcp": "0 1 %d imap.public.test." % s.imap_port,
            "_pop3s._tcp": "0 1 %d %s." % (s.pop3s_port, H),
            "_submissions._tcp": "0 1 465 smtp.public.test.",
            "_submission._tcp": "0 1 %d smtp.public.test." % s.submission_port}
    with DnsServer(zones={DOMAIN + ".": zone, H + ".": [(H + ".", "A", "127.0.0.1")]},
                   servfail=()) as dns:
        for name, rdata in want.items():
            r = subprocess.run(["dig", "@127.0.0.1", "-p", str(dns.port), "+short",
                                "%s.%s" % (name, DOMAIN), "SRV"],
                               capture_output=True, text=True, timeout=30)
            assert r.stdout.strip() == rdata, (name, r.stdout, r.stderr)
        for name in ("autoconfig", "autodiscover"):
            r = subprocess.run(["dig", "@127.0.0.1", "-p", str(dns.port), "+short",
                                "%s.%s" % (name, DOMAIN), "CNAME"],
                               capture_output=True, text=True, timeout=30)
            assert r.stdout.strip() == H + "."
        # and the doctor checks them: all ok against this zone
        p = s.ctl("-o", "dns_forwarder=" + dns.forwarder, "dns", "check", DOMAIN,
                  "--json", check=False)
        out = json.loads(p.stdout)
        mine = [c for c in out["checks"] if c["check"] in ("srv", "autoconfig")]
        assert len(mine) == 7, mine
        assert all(c["status"] == "ok" for c in mine), mine


def test_plain_listener_caps_open_connections(srv):
    """The plain listener counts its connections as the HTTPS one does:
    at 64 open it stops accepting (a request waits in the kernel's
    queue), and every close is counted, so when the holders go the
    waiting client is served; three rounds show no count is lost."""
    addr = ("127.0.0.1", srv.autoconfig_http_port)
    cap_line = "autoconfig connections at the cap max=64"
    for rnd in range(1, 4):
        held = [socket.create_connection(addr, timeout=20) for _ in range(64)]
        try:
            deadline = time.monotonic() + 20
            while srv.stderr_text().count(cap_line) < rnd:
                assert time.monotonic() < deadline, "the cap was never reached"
                time.sleep(0.05)
            waiting = socket.create_connection(addr, timeout=20)
            waiting.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n"
                            b"Connection: close\r\n\r\n")
            waiting.settimeout(1)
            with pytest.raises(socket.timeout):
                waiting.recv(1)     # not accepted while the cap holds
        finally:
            for s in held:
                s.close()
        waiting.settimeout(20)
        got = petreltest.recv_all(waiting)
        waiting.close()
        assert got.startswith(b"HTTP/1.1 404"), got[:200]
    srv.assert_alive()
    # and the listener serves normally afterwards
    st, _, _ = request(srv, "GET", "/api/v1/health")
    assert st == 404
