"""test_credentials.py - credentials besides the mailbox password, as a
user and an administrator meet them: app passwords made with petrelctl
and used by real clients (imaplib, poplib, smtplib) over IMAP, POP3 and
submission, revoked and refused at the next login; a domain that requires
two-factor authentication refusing the mailbox password on all three;
TOTP codes from Python's hmac and from oathtool checked by `petrelctl
totp verify`; and the audit log: entries for admin actions and logins,
`audit verify` passing, and failing after a row is edited with SQLite."""

import hashlib
import hmac
import imaplib
import os
import poplib
import re
import shutil
import smtplib
import sqlite3
import struct
import subprocess
import time
import base64

import pytest

import petreltest
from petreltest import tls_ctx

PASSWORD = "Secret-pass-123"    # what Petrel.add_mailbox sets
APP_RE = re.compile(r"^\s+([a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4})$", re.M)


@pytest.fixture(scope="module")
def server():
    yield from petreltest.running("auth_failure_delay = 0")


def app_password(srv, address, name="Phone"):
    out = srv.ctl("apppass", "add", address, name).stdout.decode()
    m = APP_RE.search(out)
    assert m, out
    ident = int(re.search(r"app password (\d+) for", out).group(1))
    return ident, m.group(1)


def new_domain(srv):
    domain = "corp-%s.test" % os.urandom(3).hex()
    srv.ctl("domain", "add", domain)
    address = "user@" + domain
    srv.add_mailbox(address)
    return domain, address


def imap_login(srv, user, password):
    """(ok, text of the tagged reply)."""
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=tls_ctx(),
                          timeout=20)
    try:
        typ, data = m.login(user, password)
        m.select("INBOX")
        m.logout()
        return True, data[0].decode()
    except imaplib.IMAP4.error as e:
        return False, str(e)
    finally:
        try:
            m.shutdown()
        except OSError:
            pass


def pop3_login(srv, user, password):
    p = poplib.POP3_SSL("127.0.0.1", srv.pop3s_port, context=tls_ctx(),
                        timeout=20)
    try:
        p.user(user)
        p.pass_(password)
        p.stat()
        p.quit()
        return True, ""
    except poplib.error_proto as e:
        return False, e.args[0].decode()
    finally:
        p.close()


def smtp_login(srv, user, password):
    s = smtplib.SMTP_SSL("127.0.0.1", srv.submissions_port, context=tls_ctx(),
                         local_hostname="client.petrel.test", timeout=20)
    try:
        s.login(user, password)
        return True, 235, ""
    except smtplib.SMTPAuthenticationError as e:
        return False, e.smtp_code, e.smtp_error.decode()
    finally:
        s.close()


def app_list(srv, address):
    """{id: (status, last_used, last_ip, name)} from `app-password list`."""
    rows = {}
    out = srv.ctl("apppass", "list", address).stdout.decode()
    for line in out.splitlines()[1:]:
        f = line.split()
        # ID STATUS CREATED(2 fields) LAST-USED(2 fields or "-") IP NAME
        if f[4] == "-":
            used, rest = "-", f[5:]
        else:
            used, rest = f[4] + " " + f[5], f[6:]
        rows[int(f[0])] = (f[1], used, rest[0], " ".join(rest[1:]))
    return rows


def wait_for(fn, what):
    """Poll fn until true: logins reach the store through the audit
    thread, a moment after the client heard its answer."""
    for _ in range(200):
        if fn():
            return
        time.sleep(0.05)
    raise AssertionError("never happened: " + what)


def audit_rows(srv):
    out = srv.ctl("audit", "show").stdout.decode()
    return out.splitlines()[1:]


def test_app_password_works_on_all_protocols(server):
    address = server.new_mailbox("app")
    ident, pw = app_password(server, address, "Work laptop")
    assert imap_login(server, address, pw)[0]
    assert pop3_login(server, address, pw)[0]
    assert smtp_login(server, address, pw)[0]
    # typed as one word in capitals, the way people copy it
    assert imap_login(server, address, pw.replace("-", "").upper())[0]
    # the mailbox password keeps working beside it
    assert imap_login(server, address, PASSWORD)[0]

    def recorded():
        status, used, ip, name = app_list(server, address)[ident]
        return status == "valid" and used != "-" and ip == "127.0.0.1" \
            and name == "Work laptop"
    wait_for(recorded, "last use with the client's address")


def test_wrong_app_password_fails(server):
    address = server.new_mailbox("wrong")
    app_password(server, address)
    ok, text = imap_login(server, address, "abcd-efgh-ijkl-mnop")
    assert not ok and "AUTHENTICATIONFAILED" in text
    assert not pop3_login(server, address, "abcd-efgh-ijkl-mnop")[0]
    ok, code, _ = smtp_login(server, address, "abcd-efgh-ijkl-mnop")
    assert not ok and code == 535
    # another mailbox's app password is no good here
    other = server.new_mailbox("other")
    _, pw = app_password(server, other)
    assert not imap_login(server, address, pw)[0]


def test_revoked_app_password_stops_at_once(server):
    address = server.new_mailbox("revoke")
    ident, pw = app_password(server, address)
    keep_id, keep = app_password(server, address, "Tablet")
    # twice each: a login cache must not keep a revoked one working
    for _ in range(2):
        assert imap_login(server, address, pw)[0]
        assert pop3_login(server, address, pw)[0]
        assert smtp_login(server, address, pw)[0]
    out = server.ctl("apppass", "revoke", address, ident).stdout.decode()
    assert "revoked" in out
    assert not imap_login(server, address, pw)[0]
    assert not pop3_login(server, address, pw)[0]
    assert not smtp_login(server, address, pw)[0]
    # the other device's goes on working
    assert imap_login(server, address, keep)[0]
    rows = app_list(server, address)
    assert rows[ident][0] == "revoked" and rows[keep_id][0] == "valid"
    # revoking twice, or someone else's, is an error
    p = server.ctl("apppass", "revoke", address, ident, check=False)
    assert p.returncode == 1 and b"no valid app password" in p.stderr


def test_domain_requiring_2fa_takes_only_app_passwords(server):
    domain, address = new_domain(server)
    _, pw = app_password(server, address)
    assert imap_login(server, address, PASSWORD)[0]     # now cached
    out = server.ctl("domain", "2fa", domain, "on").stdout.decode()
    assert "required" in out

    ok, text = imap_login(server, address, PASSWORD)
    assert not ok
    assert "[AUTHENTICATIONFAILED]" in text and "app password" in text
    ok, text = pop3_login(server, address, PASSWORD)
    assert not ok and text.startswith("-ERR [AUTH]") and "app password" in text
    ok, code, text = smtp_login(server, address, PASSWORD)
    assert not ok and code == 534 and text.startswith("5.7.9")
    # an unknown user of the domain gets the same answer
    ok, text = imap_login(server, "nobody@" + domain, PASSWORD)
    assert not ok and "app password" in text

    assert imap_login(server, address, pw)[0]
    assert pop3_login(server, address, pw)[0]
    assert smtp_login(server, address, pw)[0]

    server.ctl("domain", "2fa", domain, "off")
    assert imap_login(server, address, PASSWORD)[0]
    p = server.ctl("domain", "2fa", "nowhere.test", "on", check=False)
    assert p.returncode == 1


def totp_code(secret_b32, t):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", t // 30), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7fffffff)
                     % 1000000)


def test_totp(server):
    address = server.new_mailbox("totp")
    out = server.ctl("2fa", "enable", address, "--no-qr").stdout.decode()
    secret = re.search(r"^secret: ([A-Z2-7]+)$", out, re.M).group(1)
    uri = re.search(r"^uri: (\S+)$", out, re.M).group(1)
    assert uri == ("otpauth://totp/petrel:%s?secret=%s&issuer=petrel"
                   % (address, secret))
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20

    code = totp_code(secret, int(time.time()))
    p = server.ctl("2fa", "verify", address, code, check=False)
    assert p.returncode == 0 and b"accepted" in p.stdout
    # the same code twice is a replay
    p = server.ctl("2fa", "verify", address, code, check=False)
    assert p.returncode == 1 and b"rejected" in p.stdout
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    assert server.ctl("2fa", "verify", address, wrong, check=False).returncode == 1
    assert server.ctl("2fa", "verify", address, "12ab56", check=False).returncode == 1

    # the secret is never in the audit log
    assert all(secret not in row for row in audit_rows(server))

    server.ctl("2fa", "disable", address)
    p = server.ctl("2fa", "verify", address, totp_code(secret, int(time.time())),
                   check=False)
    assert p.returncode == 1 and b"no TOTP" in p.stderr


@pytest.mark.skipif(shutil.which("oathtool") is None, reason="oathtool not installed")
def test_totp_matches_oathtool(server):
    address = server.new_mailbox("oath")
    out = server.ctl("2fa", "enable", address, "--no-qr").stdout.decode()
    secret = re.search(r"^secret: ([A-Z2-7]+)$", out, re.M).group(1)
    for t in (59, 1111111109, 1234567890, 2000000000):
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))
        theirs = subprocess.run(["oathtool", "--totp", "-b", "--now", when, secret],
                                stdout=subprocess.PIPE, check=True).stdout.decode().strip()
        assert theirs == totp_code(secret, t)
    now = int(time.time())
    code = subprocess.run(["oathtool", "--totp", "-b", secret],
                          stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    assert code in {totp_code(secret, now + d) for d in (-30, 0, 30)}
    assert server.ctl("2fa", "verify", address, code, check=False).returncode == 0


@pytest.mark.skipif(not os.access("/usr/bin/qrencode", os.X_OK),
                    reason="qrencode not installed")
def test_totp_qr(server):
    address = server.new_mailbox("qr")
    out = server.ctl("2fa", "enable", address, "--qr").stdout.decode()
    assert "\u2588" in out      # block characters of the code


def test_audit_log(server):
    domain, address = new_domain(server)
    ident, pw = app_password(server, address)
    assert imap_login(server, address, pw)[0]
    assert not pop3_login(server, address, "Wrong-password-1")[0]
    server.ctl("apppass", "revoke", address, ident)
    server.ctl("mailbox", "quota", address, "10M")

    def logged():
        rows = audit_rows(server)
        ok = [r for r in rows if " login.ok " in r and address in r
              and "127.0.0.1" in r and "proto=imap method=app-password" in r]
        bad = [r for r in rows if " login.fail " in r and address in r
               and "127.0.0.1" in r and "proto=pop3" in r]
        return ok and bad
    wait_for(logged, "login entries in the audit log")
    rows = audit_rows(server)
    for kind, subject in (("domain.add", domain), ("mailbox.add", address),
                          ("app-password.add", address),
                          ("app-password.revoke", address),
                          ("mailbox.quota", address)):
        assert any((" %s " % kind) in r and subject in r and "petrelctl:" in r
                   for r in rows), (kind, rows)
    since = server.ctl("audit", "show", "--since", "1h").stdout.decode()
    assert domain in since
    assert domain not in server.ctl("audit", "show", "--since", "2100-01-01").stdout.decode()

    p = server.ctl("audit", "verify")
    assert b"intact" in p.stdout

    # an administrator covering their tracks with sqlite3
    db = sqlite3.connect(os.path.join(server.data_dir, "petrel.db"), timeout=10)
    row = db.execute("SELECT id, subject FROM audit WHERE kind = 'domain.add' "
                     "AND subject = ?", (domain,)).fetchone()
    db.execute("UPDATE audit SET subject = 'innocent.test' WHERE id = ?", (row[0],))
    db.commit()
    p = server.ctl("audit", "verify", check=False)
    assert p.returncode == 1
    assert ("entry %d does not match" % row[0]).encode() in p.stdout
    db.execute("UPDATE audit SET subject = ? WHERE id = ?", (row[1], row[0]))
    db.commit()
    db.close()
    assert server.ctl("audit", "verify").returncode == 0
