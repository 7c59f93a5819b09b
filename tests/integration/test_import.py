"""test_import.py - CSV bulk import of mailboxes through the admin API
(curl) and petrelctl mailbox import: generated and given passwords and an
IMAP login with one; BOM, semicolons, quoted fields with commas and line
breaks, pre-hashed Argon2id passwords and groups; every kind of bad row
reported together with nothing created; dry runs; the plan limit; the
domain's password policy (also on mailbox add); 413 and 415."""

import imaplib
import json
import os
import re
import ssl
import subprocess

import pytest

import petreltest

STRONG = "Tr1cky-horse-88"


@pytest.fixture(scope="module")
def srv():
    for s in petreltest.running():
        yield s


@pytest.fixture(scope="module")
def token(srv):
    out = srv.ctl("token", "add", "import-tests").stdout.decode()
    return re.search(r"(ptk_[A-Za-z0-9_-]{43})", out).group(1)


_n = [0]


def new_domain(srv, max_mailboxes=None):
    _n[0] += 1
    d = "imp%d.test" % _n[0]
    srv.ctl("domain", "add", d)
    if max_mailboxes:
        srv.ctl("domain", "plan", d, "--max-mailboxes", str(max_mailboxes))
    return d


def mailboxes(srv, domain):
    out = srv.ctl("mailbox", "list").stdout.decode()
    return sorted(l.split()[0] for l in out.splitlines()
                  if l.split() and l.split()[0].endswith("@" + domain))


def curl(srv, token, path, data, ctype="text/csv"):
    """(status, parsed JSON body) of a POST with curl."""
    cmd = ["curl", "-sS", "--max-time", "600",
           "--cacert", os.path.join(srv.data_dir, "tls", "cert.pem"),
           "-H", "Authorization: Bearer " + token,
           "-w", "\n%{http_code}", "--data-binary", "@-",
           "https://localhost:%d%s" % (srv.admin_port, path)]
    if ctype is not None:
        cmd[1:1] = ["-H", "Content-Type: " + ctype]
    p = subprocess.run(cmd, input=data, capture_output=True, timeout=620)
    assert p.returncode == 0, p.stderr
    body, _, status = p.stdout.decode().rpartition("\n")
    return int(status), json.loads(body) if body.strip() else None


def ctl_import(srv, tmp_path, data, *args, check=False):
    f = tmp_path / "users.csv"
    f.write_bytes(data)
    return srv.ctl("mailbox", "import", str(f), *args, check=check)


def imap_login(srv, user, password):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=ctx,
                          timeout=20)
    try:
        m.login(user, password)
        typ, _ = m.select("INBOX")
        m.logout()
        return typ == "OK"
    except imaplib.IMAP4.error:
        return False


# ------------------------------------------------------------------ API

def test_api_good_file_then_imap_login(srv, token):
    d = new_domain(srv)
    srv.ctl("group", "add", "all@" + d)
    srv.ctl("group", "add", "sales@" + d)
    data = ("address,display_name,password,quota,groups\r\n"
            "alice@%s,Alice Liddell,%s,1G,all@%s sales@%s\r\n"
            "bob@%s,\"Builder, Bob\",,,all@%s\r\n"
            "Carol@%s,Carol,,500M,\r\n" % (d, STRONG, d, d, d, d, d)).encode()
    st, body = curl(srv, token, "/api/v1/domains/%s/mailboxes/import" % d,
                    data)
    assert st == 201, body
    assert body["created"] == 3 and body["errors"] == []
    gen = {p["address"]: p["password"] for p in body["passwords"]}
    assert sorted(gen) == ["Carol@" + d, "bob@" + d]  # as written
    assert all(len(p) >= 16 for p in gen.values())
    assert mailboxes(srv, d) == ["Carol@" + d, "alice@" + d, "bob@" + d]
    assert imap_login(srv, "alice@" + d, STRONG)
    assert imap_login(srv, "bob@" + d, gen["bob@" + d])
    assert not imap_login(srv, "bob@" + d, STRONG)
    show = srv.ctl("mailbox", "show", "bob@" + d).stdout.decode()
    assert "Builder, Bob" in show
    groups = srv.ctl("group", "list", d).stdout.decode()
    assert "alice@" + d in groups and "bob@" + d in groups


def test_api_bom_semicolons_quoted_newlines(srv, token):
    d = new_domain(srv)
    data = ("\ufeffLocal_Part;Display_Name;Password\n"
            "x1;\"Line one\nline two; with semicolon\";%s\n"
            "x2;\"He said \"\"hi\"\"\";\n" % STRONG).encode()
    st, body = curl(srv, token, "/api/v1/domains/%s/mailboxes/import" % d,
                    data, ctype="text/csv; charset=utf-8")
    assert st == 201, body
    assert body["created"] == 2
    show = srv.ctl("mailbox", "show", "x2@" + d).stdout.decode()
    assert 'He said "hi"' in show
    show = srv.ctl("mailbox", "show", "x1@" + d).stdout.decode()
    assert "Line one line two; with semicolon" in show
    assert imap_login(srv, "x1@" + d, STRONG)


def test_api_every_bad_row_reported_nothing_created(srv, token):
    d = new_domain(srv)
    srv.ctl("mailbox", "add", "taken@" + d)
    rows = [
        "address,password,quota,groups",
        "good1@%s,%s,," % (d, STRONG),                 # 2 fine
        "no-at-sign,%s,," % STRONG,                    # 3 invalid address
        "good1@%s,%s,," % (d, STRONG),                 # 4 duplicate
        "taken@%s,%s,," % (d, STRONG),                 # 5 already exists
        "weak@%s,password123,," % d,                   # 6 weak (common)
        "short@%s,Ab1-x,," % d,                        # 7 weak (length)
        "q@%s,,lots," % d,                             # 8 bad quota
        "g@%s,,,nogroup@%s" % (d, d),                  # 9 unknown group
        "other@elsewhere.test,,,",                     # 10 other domain
        "bad..dots@%s,,," % d,                         # 11 invalid address
        "fields@%s" % d,                               # 12 field count
        "hash@%s,$argon2id$v=19$garbage,," % d,        # 13 bad hash
        "samename@%s,SameName@123,," % d,              # 14 fine
    ]
    data = ("\n".join(rows) + "\n").encode()
    st, body = curl(srv, token, "/api/v1/domains/%s/mailboxes/import" % d,
                    data)
    assert st == 422, body
    assert body["error"]["code"] == "invalid_rows"
    assert body["created"] == 0 and body["passwords"] == []
    got = {(e["line"], e["column"]): e for e in body["errors"]}
    want = {3: "address", 4: "address", 5: "address", 6: "password",
            7: "password", 8: "quota", 9: "groups", 10: "address",
            11: "address", 12: "", 13: "password"}
    for line, col in want.items():
        assert (line, col) in got, (line, col, body["errors"])
    assert "duplicate" in got[(4, "address")]["reason"]
    assert "line 2" in got[(4, "address")]["reason"]
    assert "already exists" in got[(5, "address")]["reason"]
    assert "weak password" in got[(6, "password")]["reason"]
    assert got[(6, "password")]["value"] == "(hidden)"
    assert "bad quota" in got[(8, "quota")]["reason"]
    assert got[(8, "quota")]["value"] == "lots"
    assert "unknown group" in got[(9, "groups")]["reason"]
    assert "invalid address" in got[(3, "address")]["reason"]
    assert got[(3, "address")]["value"] == "no-at-sign"
    assert not any(e["line"] == 2 for e in body["errors"])
    assert mailboxes(srv, d) == ["taken@" + d]


def test_api_dry_run(srv, token):
    d = new_domain(srv)
    data = ("address\nd1@%s\nd2@%s\n" % (d, d)).encode()
    st, body = curl(srv, token,
                    "/api/v1/domains/%s/mailboxes/import?dry_run=true" % d,
                    data)
    assert st == 200, body
    assert body["dry_run"] is True and body["rows"] == 2
    assert body["created"] == 0 and body["passwords"] == []
    assert mailboxes(srv, d) == []


def test_api_over_plan_limit(srv, token):
    d = new_domain(srv, max_mailboxes=20)
    for i in range(18):
        srv.ctl("mailbox", "add", "pre%d@%s" % (i, d))
    data = ("address\n" + "".join("n%d@%s\n" % (i, d)
                                  for i in range(4))).encode()
    st, body = curl(srv, token, "/api/v1/domains/%s/mailboxes/import" % d,
                    data)
    assert st == 422, body
    assert [e["line"] for e in body["errors"]] == [4, 5]
    assert all("plan's limit of 20" in e["reason"] for e in body["errors"])
    assert len(mailboxes(srv, d)) == 18


def test_api_413_415_404(srv, token):
    d = new_domain(srv)
    path = "/api/v1/domains/%s/mailboxes/import" % d
    st, body = curl(srv, token, path, b"address\nx@%s\n" % d.encode(),
                    ctype="application/json")
    assert st == 415 and body["error"]["code"] == "unsupported_media_type"
    big = b"address\n" + b"x" * (3 * 1024 * 1024 + 10) + b"\n"
    st, body = curl(srv, token, path, big)
    assert st == 413 and body["error"]["code"] == "too_large"
    st, body = curl(srv, token, "/api/v1/domains/nope.test/mailboxes/import",
                    b"address\nx@nope.test\n")
    assert st == 404
    st, body = curl(srv, token, path, b"address\n\"unterminated\n")
    assert st == 422 and "not CSV" in body["errors"][0]["reason"]
    assert mailboxes(srv, d) == []


# ------------------------------------------------------------------ CLI

def test_cli_import_with_progress_and_passwords(srv, tmp_path):
    d = new_domain(srv)
    data = ("address,password\nc1@%s,\nc2@%s,%s\n" % (d, d, STRONG)).encode()
    p = ctl_import(srv, tmp_path, data, check=True)
    out, err = p.stdout.decode(), p.stderr.decode()
    assert "2 mailboxes created in %s" % d in out
    assert re.search(r"hashing 2/2", err), err
    m = re.search(r"^c1@%s\s+(\S+)$" % re.escape(d), out, re.M)
    assert m, out
    assert imap_login(srv, "c1@" + d, m.group(1))
    assert imap_login(srv, "c2@" + d, STRONG)


def test_cli_local_parts_need_domain_and_json(srv, tmp_path):
    d = new_domain(srv)
    data = b"local_part,name\nj1,J One\n"
    p = ctl_import(srv, tmp_path, data)
    assert p.returncode == 1
    p = ctl_import(srv, tmp_path, data, "--domain", d, "--json", check=True)
    body = json.loads(p.stdout)
    assert body["created"] == 1 and body["passwords"][0]["address"] == "j1@" + d


def test_cli_errors_human_readable_and_dry_run(srv, tmp_path):
    d = new_domain(srv)
    data = ("address,password\nok@%s,%s\nbad@@%s,\n" % (d, STRONG, d)).encode()
    p = ctl_import(srv, tmp_path, data)
    assert p.returncode == 1
    err = p.stderr.decode()
    assert "line 3, address \"bad@@%s\": invalid address" % d in err, err
    assert "1 error in" in err and "nothing created" in err
    assert mailboxes(srv, d) == []
    p = ctl_import(srv, tmp_path, ("address\nok@%s\n" % d).encode(),
                   "--dry-run", check=True)
    assert "1 rows checked, no errors (dry run" in p.stdout.decode()
    assert mailboxes(srv, d) == []


def test_cli_prehashed_password(srv, tmp_path):
    d = new_domain(srv)
    # a real Argon2id hash, made by petrelctl for another mailbox
    srv.ctl("mailbox", "add", "src@" + d, "--password-stdin",
            input=(STRONG + "\n").encode())
    import sqlite3
    db = sqlite3.connect(os.path.join(srv.data_dir, "petrel.db"), timeout=10)
    h = db.execute("SELECT password_hash FROM mailboxes "
                   "WHERE local_part = 'src'").fetchone()[0]
    db.close()
    # the hash has commas ("m=65536,t=2,p=1"): quoted, as spreadsheets do
    data = ("address,password\nmigrated@%s,\"%s\"\n" % (d, h)).encode()
    ctl_import(srv, tmp_path, data, check=True)
    assert imap_login(srv, "migrated@" + d, STRONG)


# ------------------------------------------------------------------ policy

def test_password_policy_command_and_mailbox_add(srv):
    d = new_domain(srv)
    out = srv.ctl("domain", "password-policy", d).stdout.decode()
    assert "at least 10 characters, 3 of 4" in out
    p = srv.ctl("mailbox", "add", "pa@" + d, "--password-stdin",
                input=b"Short-1\n", check=False)
    assert p.returncode == 1 and b"weak password" in p.stderr
    p = srv.ctl("mailbox", "add", "pa@" + d, "--password-stdin",
                input=b"Passw0rd!\n", check=False)
    assert p.returncode == 1
    srv.ctl("domain", "password-policy", d, "--min-length", "6",
            "--classes", "1", "--common", "allow")
    out = srv.ctl("domain", "password-policy", d).stdout.decode()
    assert "at least 6 characters, 1 of 4" in out and "common passwords allowed" in out
    srv.ctl("mailbox", "add", "pa@" + d, "--password-stdin", input=b"abcdefg\n")
    p = srv.ctl("mailbox", "add", "pb@" + d, "--password-stdin",
                input=b"pb\n", check=False)
    assert p.returncode == 1
    p = srv.ctl("mailbox", "add", "longname@" + d, "--password-stdin",
                input=b"LongName\n", check=False)
    assert p.returncode == 1 and b"same as the mailbox" in p.stderr
