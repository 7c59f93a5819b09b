"""test_filter.py - the spam and phishing filter on the MX port, end to
end: smtplib sends to petreld, and what the recipient would see is
checked: the X-Spam fields that explain the verdict on the stored
message (and no outside copy of them), the Junk folder, quarantine and
550 5.7.1 refusals at each protection level, allow and block lists with
and without authentication, and the display-name impersonation of the
organisation's CEO caught and explained."""

import smtplib

import pytest

import petreltest

DEMO = petreltest.DEMO


@pytest.fixture(scope="module")
def srv():
    yield from petreltest.running("filter = yes")


def message(from_hdr, marker, body="hello", extra=""):
    return ("From: %s\r\nTo: <%s>\r\nSubject: %s\r\n"
            "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
            "Message-ID: <%s@client.test>\r\n%s\r\n%s %s\r\n"
            % (from_hdr, DEMO, marker, marker, extra, body, marker)).encode()


def send(srv, mail_from, msg, rcpt=DEMO):
    with smtplib.SMTP("127.0.0.1", srv.port, local_hostname="client.test",
                      timeout=30) as s:
        return s.sendmail(mail_from, [rcpt], msg)


def stored(srv, marker, folder="INBOX", who=DEMO):
    got = [m for m in srv.messages(who, folder) if marker.encode() in m]
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


def test_verdict_fields_on_delivered_mail(srv):
    marker = petreltest.unique("plain")
    send(srv, "ann@sender.test", message("Ann <ann@sender.test>", marker))
    f = fields(stored(srv, marker))
    assert len(f["x-spam-score"]) == 1, f
    assert "(deliver, level standard)" in f["x-spam-score"][0], f
    assert f["x-spam-flag"] == ["NO"], f
    assert len(f["x-spam-symbols"]) == 1, f


def test_outside_verdict_fields_are_removed(srv):
    marker = petreltest.unique("forged")
    send(srv, "ann@sender.test",
         message("Ann <ann@sender.test>", marker,
                 extra="X-Spam-Score: -100 (deliver)\r\nX-Spam-Flag: NO\r\n"
                       "X-Spam-Symbols: ALLOW_LIST(-100)\r\n"
                       "x-spam-status:\r\n No\r\n"))
    f = fields(stored(srv, marker))
    assert len(f["x-spam-score"]) == 1 and "-100" not in f["x-spam-score"][0]
    assert "ALLOW_LIST" not in f["x-spam-symbols"][0]
    assert "x-spam-status" not in f


def test_filter_off_adds_nothing():
    for s in petreltest.running("filter = no"):
        marker = petreltest.unique("off")
        send(s, "ann@sender.test", message("Ann <ann@sender.test>", marker))
        assert "x-spam-score" not in fields(stored(s, marker))


def test_bad_thresholds_stop_startup():
    p = petreltest.Petrel(extra_conf=["filter = yes",
                                      "filter_enterprise = 9 5 15"])
    try:
        with pytest.raises(petreltest.PetrelError) as e:
            p.start()
        assert "filter_enterprise" in str(e.value) + p.stderr_text()
    finally:
        p.cleanup()
