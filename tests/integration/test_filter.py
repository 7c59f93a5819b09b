"""test_filter.py - the spam and phishing filter on the MX port, end to
end: smtplib sends to petreld, and what the recipient would see is
checked: the X-Spam fields that explain the verdict on the stored
message (and no outside copy of them), INBOX, Junk, quarantine or a
550 5.7.1 refusal according to the domain's protection level, an
allow list honoured only when SPF authenticates the sender, a block list
refusing, the [External] tag, a user's moves into Junk over IMAP
changing the next verdict, a quarantine release delivering, and the
display-name impersonation of the organisation's CEO caught and
explained. A real NSD on loopback serves the senders' SPF records."""

import imaplib
import json
import os
import random
import smtplib
import time

import pytest

import petreltest
from dnsserver import DnsServer
from test_api import api, make_token

DEMO = petreltest.DEMO
DATE = "Thu, 26 Nov 2026 12:00:00 +0000"

ZONES = {
    "test.": [
        # SPF passes for the test's client address
        ("good.test.", "TXT", '"v=spf1 ip4:127.0.0.1 -all"'),
        ("_dmarc.good.test.", "TXT", '"v=DMARC1; p=none"'),
        # no SPF at all: anyone can claim it
        ("nospf.test.", "A", "192.0.2.1"),
        # blocklists: 192.0.2.66 on an IP list, listed.test on a domain
        # list (filter score --dns)
        ("66.2.0.192.bl.test.", "A", "127.0.0.2"),
        ("listed.test.dbl.test.", "A", "127.0.1.2"),
    ],
}

# Weights that make the verdicts of the crafted messages known: an
# IP-address link scores 8, an executable attachment 25.
WEIGHTS = "URL_IP 8\nATTACH_EXECUTABLE 25\n"


@pytest.fixture(scope="module")
def dns():
    with DnsServer(zones=ZONES) as d:
        yield d


@pytest.fixture(scope="module")
def srv(dns, tmp_path_factory):
    weights = tmp_path_factory.mktemp("w") / "weights.conf"
    weights.write_text(WEIGHTS)
    yield from petreltest.running(
        "filter = yes", "msgauth_inbound = yes", "dmarc_reports = no",
        "dns_forwarder = " + dns.forwarder, "filter_weights = %s" % weights,
        "filter_dnsbl_ip = bl.test",
        "filter_dnsbl_domain = dbl.test=127.0.1.2-127.0.1.99")


def message(from_hdr, marker, body="hello", extra=""):
    return ("From: %s\r\nTo: <%s>\r\nSubject: %s\r\nDate: %s\r\n"
            "Message-ID: <%s@client.test>\r\n%s\r\n%s %s\r\n"
            % (from_hdr, DEMO, marker, DATE, marker, extra, body,
               marker)).encode()


def ip_link(marker, sender="ann@good.test"):
    return message("Ann <%s>" % sender, marker,
                   body="see http://192.0.2.1/offer now")


def exe_attachment(marker):
    return ("From: <ann@good.test>\r\nTo: <%s>\r\nSubject: %s\r\n"
            "Date: %s\r\nMessage-ID: <%s@client.test>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
            "--b\r\nContent-Type: text/plain\r\n\r\ninvoice %s\r\n"
            "--b\r\nContent-Type: application/octet-stream; "
            "name=invoice.exe\r\nContent-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=invoice.exe\r\n\r\n"
            "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\r\n--b--\r\n"
            % (DEMO, marker, DATE, marker, marker)).encode()


def send(srv, mail_from, msg, rcpt=DEMO):
    with smtplib.SMTP("127.0.0.1", srv.port, local_hostname="client.test",
                      timeout=30) as s:
        return s.sendmail(mail_from, [rcpt], msg)


def find(srv, marker, folder="INBOX", who=DEMO):
    return [m for m in srv.messages(who, folder) if marker.encode() in m]


def stored(srv, marker, folder="INBOX", who=DEMO):
    got = find(srv, marker, folder, who)
    assert len(got) == 1, (marker, folder, len(got))
    return got[0]


def fields(msg):
    """{lower-case name: [unfolded values]} of a stored message's header."""
    head = msg.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    out, cur = {}, None
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and cur is not None:
            cur[1] += " " + line.strip()
            continue
        if ":" in line:
            name, value = line.split(":", 1)
            cur = [name.strip().lower(), value.strip()]
            out.setdefault(cur[0], []).append(cur)
    return {k: [v[1] for v in vs] for k, vs in out.items()}


def level(srv, name, tag="off"):
    srv.ctl("filter", "settings", "example.test", "--level", name,
            "--external-tag", tag)


def list_edit(srv, *args):
    """A list edit through petrelctl; the filter reads the files again at
    most every second (FILTER_LIST_CHECK_SECONDS): wait that long."""
    srv.ctl("filter", *args)
    time.sleep(1.1)


def held(srv, marker):
    doc = json.loads(srv.ctl("quarantine", "list", "--json").stdout)
    items = doc if isinstance(doc, list) else doc.get("quarantine",
                                                      doc.get("items", []))
    return [q for q in items if q["subject"] == marker]


def test_verdict_fields_on_delivered_mail(srv):
    level(srv, "standard")
    marker = petreltest.unique("plain")
    send(srv, "ann@good.test", message("Ann <ann@good.test>", marker))
    f = fields(stored(srv, marker))
    assert len(f["x-spam-score"]) == 1, f
    assert "(deliver, level standard)" in f["x-spam-score"][0], f
    assert f["x-spam-flag"] == ["NO"], f
    assert "SPF_PASS" in f["x-spam-symbols"][0], f


def test_outside_verdict_fields_are_removed(srv):
    marker = petreltest.unique("forged")
    send(srv, "ann@good.test",
         message("Ann <ann@good.test>", marker,
                 extra="X-Spam-Score: -100 (deliver)\r\nX-Spam-Flag: NO\r\n"
                       "X-Spam-Symbols: ALLOW_LIST(-100)\r\n"
                       "x-spam-status:\r\n No\r\n"))
    f = fields(stored(srv, marker))
    assert len(f["x-spam-score"]) == 1 and "-100" not in f["x-spam-score"][0]
    assert "ALLOW_LIST" not in f["x-spam-symbols"][0]
    assert "x-spam-status" not in f


def test_standard_level_sends_to_junk(srv):
    level(srv, "standard")
    marker = petreltest.unique("junk")
    send(srv, "ann@good.test", ip_link(marker))
    assert find(srv, marker) == []
    f = fields(stored(srv, marker, "Junk"))
    assert f["x-spam-flag"] == ["YES"], f
    assert "(junk, level standard)" in f["x-spam-score"][0], f
    assert "URL_IP(8.00" in f["x-spam-symbols"][0], f


def test_strict_level_quarantines_and_release_delivers(srv):
    level(srv, "strict")
    try:
        marker = petreltest.unique("quar")
        send(srv, "ann@good.test", ip_link(marker))
        assert find(srv, marker) == [] and find(srv, marker, "Junk") == []
        q = held(srv, marker)
        assert len(q) == 1, q
        assert "URL_IP" in q[0]["symbols"] and q[0]["score"] >= 7
        shown = srv.ctl("quarantine", "show", str(q[0]["id"])).stdout
        assert b"URL_IP" in shown
        srv.ctl("quarantine", "release", str(q[0]["id"]))
        f = fields(stored(srv, marker))
        assert "(quarantine, level strict)" in f["x-spam-score"][0], f
        assert held(srv, marker) == []
    finally:
        level(srv, "standard")


def test_dangerous_attachment_refused_with_reason(srv):
    marker = petreltest.unique("exe")
    with pytest.raises(smtplib.SMTPDataError) as e:
        send(srv, "ann@good.test", exe_attachment(marker))
    assert e.value.smtp_code == 550, e.value
    assert b"5.7.1" in e.value.smtp_error
    assert b"ATTACH_EXECUTABLE" in e.value.smtp_error
    assert find(srv, marker) == [] and find(srv, marker, "Junk") == []


def test_block_list_refuses(srv):
    list_edit(srv, "block", "add", "--domain", "example.test", ".evil.test")
    try:
        marker = petreltest.unique("blocked")
        with pytest.raises(smtplib.SMTPDataError) as e:
            send(srv, "x@mail.evil.test",
                 message("X <x@mail.evil.test>", marker))
        assert e.value.smtp_code == 550 and b"block list" in e.value.smtp_error
        assert find(srv, marker) == []
    finally:
        list_edit(srv, "block", "remove", "--domain", "example.test",
                  ".evil.test")


def test_allow_list_needs_authentication(srv):
    """good.test's SPF passes for the client: its allow-listed sender
    skips the score. nospf.test has no SPF: anyone may claim to be its
    sender, so its allow entry is ignored and the spam still goes to
    Junk."""
    list_edit(srv, "allow", "add", "--user", DEMO, "ann@good.test",
              "ann@nospf.test")
    try:
        marker = petreltest.unique("allowed")
        send(srv, "ann@good.test", ip_link(marker))
        f = fields(stored(srv, marker))
        assert "ALLOW_LIST" in f["x-spam-symbols"][0], f
        marker = petreltest.unique("spoofed")
        send(srv, "ann@nospf.test", ip_link(marker, "ann@nospf.test"))
        assert find(srv, marker) == []
        f = fields(stored(srv, marker, "Junk"))
        assert "ALLOW_LIST_UNAUTH" in f["x-spam-symbols"][0], f
    finally:
        list_edit(srv, "allow", "remove", "--user", DEMO, "ann@good.test",
                  "ann@nospf.test")


def test_external_tag(srv):
    level(srv, "standard", "subject")
    try:
        marker = petreltest.unique("ext")
        send(srv, "ann@good.test", message("Ann <ann@good.test>", marker))
        f = fields(stored(srv, marker))
        assert f["subject"] == ["[External] " + marker], f
        level(srv, "standard", "banner")
        marker = petreltest.unique("banner")
        send(srv, "ann@good.test", message("Ann <ann@good.test>", marker))
        body = stored(srv, marker).split(b"\r\n\r\n", 1)[1]
        assert body.startswith(b"[External] This message came from outside")
    finally:
        level(srv, "standard")


WORDS_SPAM = ["viagra", "casino", "winner", "lottery", "crypto", "bonus",
              "prize", "jackpot", "pills", "discount"]
WORDS_HAM = ["meeting", "agenda", "budget", "review", "project", "minutes",
             "schedule", "report", "quarter", "team"]
WORDS_NEW = ["zanzibar", "quokka", "marzipan", "ptarmigan", "xylophone",
             "gazebo", "kumquat", "ocelot", "tamarind", "yodel"]


def corpus(path, words, n, seed):
    rnd = random.Random(seed)
    os.makedirs(path, exist_ok=True)
    for i in range(n):
        marker = "c%d-%d" % (seed, i)
        body = " ".join(rnd.choice(words) for _ in range(40))
        with open(os.path.join(path, "%d.eml" % i), "wb") as f:
            f.write(message("<s%d@good.test>" % i, marker, body=body))


def bayes_p(msg):
    for s in fields(msg)["x-spam-symbols"][0].split(", "):
        if s.startswith("BAYES_"):
            return s
    return None


def test_moving_into_junk_changes_the_next_verdict(srv, tmp_path):
    corpus(tmp_path / "spam", WORDS_SPAM, 12, 1)
    corpus(tmp_path / "ham", WORDS_HAM, 12, 2)
    srv.ctl("filter", "train", "--spam", tmp_path / "spam", "--ham",
            tmp_path / "ham")
    rnd = random.Random(3)

    def new_words(marker):
        body = " ".join(rnd.choice(WORDS_NEW) for _ in range(40))
        send(srv, "ann@good.test",
             message("Ann <ann@good.test>", marker, body=body))
        return stored(srv, marker)

    before = new_words(petreltest.unique("before"))
    assert bayes_p(before) is None, fields(before)   # words never seen
    moved = [petreltest.unique("move%d" % i) for i in range(4)]
    for m in moved:
        new_words(m)
    imap = imaplib.IMAP4("127.0.0.1", srv.imap_port)
    imap.starttls(petreltest.tls_ctx())
    imap.login(DEMO, petreltest.DEMO_PASSWORD)
    imap.select("INBOX")
    for m in moved:
        typ, data = imap.uid("SEARCH", None, "SUBJECT", m)
        assert typ == "OK" and data[0], data
        assert imap.uid("MOVE", data[0].decode(), "Junk")[0] == "OK"
    imap.logout()
    # the learner works on its own thread: wait for the user's scope
    deadline = time.time() + 30
    while time.time() < deadline:
        doc = json.loads(srv.ctl("filter", "stats", "--json").stdout)
        user = [s for s in doc["scopes"] if s["scope"] == "user:" + DEMO]
        if user and user[0]["spam"] == len(moved):
            break
        time.sleep(0.2)
    else:
        pytest.fail("the moves were not learned: %s" % doc)
    # the filter's copy of the counts is checked against the store's at
    # most every second (BAYES_CHECK_MS)
    time.sleep(1.1)
    marker = petreltest.unique("after")
    body = " ".join(rnd.choice(WORDS_NEW) for _ in range(40))
    send(srv, "ann@good.test",
         message("Ann <ann@good.test>", marker, body=body))
    got = find(srv, marker) + find(srv, marker, "Junk")
    assert len(got) == 1
    sym = bayes_p(got[0])
    assert sym is not None and sym.startswith("BAYES_SPAM"), fields(got[0])


def test_ceo_impersonation_caught_and_explained(dns, tmp_path):
    """The demo domain's CEO, Jane Smith, is written to from an outside
    free-mail address under her name: FROM_IMPERSONATION says whom it
    imitates."""
    for s in petreltest.running("filter = yes", "msgauth_inbound = yes",
                                "dmarc_reports = no",
                                "dns_forwarder = " + dns.forwarder):
        token = make_token(s, "ceo")[1]
        api(s, "POST", "/api/v1/domains/example.test/mailboxes", token,
            {"local_part": "ceo", "display_name": "Jane Smith",
             "password": "Secret-pass-123"}, want=201)
        marker = petreltest.unique("wire")
        send(s, "jane.smith@good.test",
             message('"Jane Smith" <jane.smith@good.test>', marker,
                     body="Please wire the payment today, I am in a meeting"))
        got = find(s, marker) + find(s, marker, "Junk")
        assert len(got) == 1
        f = fields(got[0])
        syms = f["x-spam-symbols"][0]
        assert "FROM_IMPERSONATION" in syms, f
        assert "ceo@example.test" in syms, syms


def test_symbols_and_score_from_the_command_line(srv, tmp_path):
    doc = json.loads(srv.ctl("filter", "symbols", "--json").stdout)
    by = {s["name"]: s for s in doc}
    assert by["URL_IP"]["weight"] == 8 and by["URL_IP"]["default"] == 1.5
    assert by["BAYES_SPAM"]["meaning"]
    f = tmp_path / "m.eml"
    f.write_bytes(b"Return-Path: <ann@good.test>\r\n"
                  b"Received: from mail.good.test ([192.0.2.7])\r\n"
                  b"\tby mx.example.test (petrel); " + DATE.encode() +
                  b"\r\nAuthentication-Results: mx.example.test; spf=fail "
                  b"smtp.mailfrom=ann@good.test\r\n" +
                  ip_link("cli"))
    levels = {"standard": (6, 12, 20), "strict": (4, 7, 12)}
    for lvl, (junk, quar, reject) in levels.items():
        out = json.loads(srv.ctl("filter", "score", f, "--level", lvl,
                                 "--json").stdout)["messages"][0]
        names = [s["name"] for s in out["symbols"]]
        assert "URL_IP" in names and "SPF_FAIL" in names, out
        sc = out["score"]   # the classifier may add to it: other tests train it
        want = ("reject" if sc >= reject else "quarantine" if sc >= quar
                else "junk" if sc >= junk else "deliver")
        assert out["action"] == want and out["level"] == lvl, out
    p = srv.ctl("filter", "score", f, "--level", "lax", check=False)
    assert p.returncode == 2


def test_score_from_the_command_line_judges_the_clients_name(srv, tmp_path):
    """filter score reads the client's reverse name from the receiving
    MTA's Received field: none ("unknown", Sendmail's bare address) and a
    name made from the address are signs of a spam source; a server's
    own name and petreld's unlooked-up form are not."""
    def symbols(rcvd):
        f = tmp_path / "rdns.eml"
        f.write_bytes(rcvd.encode() + b" by mx.example.test; " +
                      DATE.encode() + b"\r\n" +
                      message("<x@sender.test>", "rdns"))
        out = json.loads(srv.ctl("filter", "score", f, "--json").stdout)
        return {s["name"] for s in out["messages"][0]["symbols"]}

    assert "RDNS_NONE" in symbols(
        "Received: from mail.sender.test (unknown [198.51.100.7])")
    assert "RDNS_NONE" in symbols(
        "Received: from mail.sender.test ([198.51.100.7])")
    assert "RDNS_DYNAMIC" in symbols(
        "Received: from mail.sender.test (dsl-198-51-100-7.isp.test "
        "[198.51.100.7])")
    for fine in ("Received: from mail.sender.test (mx.sender.test "
                 "[198.51.100.7])",
                 "Received: from mail.sender.test ([198.51.100.7])\r\n"
                 "\tby mx.example.test (petrel) with ESMTP id x.1;"):
        got = symbols(fine)
        assert not got & {"RDNS_NONE", "RDNS_DYNAMIC"}, (fine, got)


def test_score_from_the_command_line_asks_blocklists_with_dns(srv, tmp_path):
    """filter score --dns asks the configured blocklists about the client
    of the message's Received field and its links' domains, through
    dns_forwarder, as petreld would; without --dns it asks nothing."""
    f = tmp_path / "listed.eml"
    f.write_bytes(b"Received: from mail.spam.test ([192.0.2.66])\r\n"
                  b"\tby mx.example.test (petrel); " + DATE.encode() +
                  b"\r\n" + message("<x@spam.test>", "bl",
                                     body="see http://www.listed.test/offer"))

    def names(*opts):
        out = json.loads(srv.ctl("filter", "score", f, "--json",
                                 *opts).stdout)["messages"][0]
        return {s["name"]: s["detail"] for s in out["symbols"]}

    quiet = names()
    assert "DNSBL_IP" not in quiet and "DNSBL_DOMAIN" not in quiet, quiet
    asked = names("--dns")
    assert "bl.test" in asked.get("DNSBL_IP", ""), asked
    assert "listed.test" in asked.get("DNSBL_DOMAIN", ""), asked
