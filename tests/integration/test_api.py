"""test_api.py - the admin REST API (/api/v1) on a real petreld over
HTTPS, with curl and Python's http.client: health, the token lifecycle
through petrelctl token (create, use, list shows the last use, revoke),
401/403/404/405/413/429 with JSON errors, the queue endpoints against
real queue entries (mail submitted for a domain whose DNS fails, so it
stays deferred), pages and filters, tokens scoped to a domain, plain HTTP
only with admin_plaintext, and every curl example of docs/api.md run as
written."""

import http.client
import json
import os
import re
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

import petreltest
from petreltest import DEMO, DEMO_PASSWORD, ctx_noverify, free_port

DOCS = os.path.join(petreltest.REPO, "docs", "api.md")
OTHER = "user@other.test"
OTHER_PASSWORD = "Secret-pass-123"


def conf():
    # nothing answers DNS: every remote recipient stays deferred
    return ("dns_forwarder = 127.0.0.1@%d" % free_port(), "dns_timeout = 1",
            "auth_failure_delay = 0")


@pytest.fixture(scope="module")
def srv():
    for s in petreltest.running(*conf()):
        s.ctl("domain", "add", "other.test")
        s.add_mailbox(OTHER)
        yield s


def cafile(srv):
    return os.path.join(srv.data_dir, "tls", "cert.pem")


def base(srv):
    return "https://localhost:%d" % srv.admin_port


def make_token(srv, name, domain=None):
    args = ["token", "add", name] + (["--domain", domain] if domain else [])
    out = srv.ctl(*args).stdout.decode()
    m = re.search(r"^token (\d+) .*\n(ptk_[A-Za-z0-9_-]{43})$", out, re.M)
    assert m, out
    return int(m.group(1)), m.group(2)


@pytest.fixture(scope="module")
def token(srv):
    return make_token(srv, "tests")[1]


def request(srv, method, path, token=None, body=None, ctype=None,
            source=None, headers=None):
    """(status, headers, parsed JSON or None) through http.client, the
    certificate checked against the server's own."""
    ctx = ssl.create_default_context(cafile=cafile(srv))
    conn = http.client.HTTPSConnection(
        "localhost", srv.admin_port, context=ctx, timeout=30,
        source_address=(source, 0) if source else None)
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if ctype is not None:
        h["Content-Type"] = ctype
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()
    parsed = json.loads(data) if data else None
    if parsed is not None:
        assert hdrs["content-type"].startswith("application/json")
    return r.status, hdrs, parsed


def api(srv, method, path, token, body=None, want=200, **kw):
    status, hdrs, parsed = request(srv, method, path, token, body, **kw)
    assert status == want, (method, path, status, parsed)
    return parsed


def assert_error(parsed, code, field=None):
    e = parsed["error"]
    assert e["code"] == code, parsed
    assert e["message"]
    if field is not None:
        assert e["field"] == field, parsed
    else:
        assert "field" not in e, parsed


def curl(srv, *args):
    """curl's body and HTTP status, the certificate checked."""
    p = subprocess.run(["curl", "-sS", "--cacert", cafile(srv),
                        "-w", "\n%{http_code}"] + list(args),
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    body, _, status = p.stdout.decode().rpartition("\n")
    return int(status), json.loads(body) if body.strip() else None


def submit(srv, to, sender=DEMO, password=DEMO_PASSWORD):
    with smtplib.SMTP("127.0.0.1", srv.submission_port, timeout=30) as s:
        s.starttls(context=ctx_noverify())
        s.login(sender, password)
        marker = petreltest.unique("api")
        msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n%s\r\n"
               % (sender, to[0], marker, marker)).encode()
        assert s.sendmail(sender, to, msg) == {}


def queue_all(srv, token, query=""):
    """Every entry, following the pages."""
    items, cursor = [], None
    while True:
        q = query + ("&" if query else "") + "limit=2"
        if cursor:
            q += "&cursor=" + cursor
        page = api(srv, "GET", "/api/v1/queue?" + q, token)
        assert len(page["items"]) <= 2
        items += page["items"]
        cursor = page["next"]
        if cursor is None:
            return items


def ctl_queue_ids(srv):
    out = srv.ctl("queue", "list").stdout.decode()
    return sorted(int(l.split()[0]) for l in out.splitlines()
                  if l[:1].isdigit() and "message(s)" not in l)


def fresh_entry(srv, token, rcpts=("bob@nowhere.test",), sender=DEMO,
                password=DEMO_PASSWORD):
    before = {e["id"] for e in queue_all(srv, token)}
    submit(srv, list(rcpts), sender, password)
    new = [e for e in queue_all(srv, token) if e["id"] not in before]
    assert len(new) == 1, new
    return new[0]


# ---------------------------------------------------------------- basics

def test_health_without_token_over_verified_tls(srv):
    status, body = curl(srv, base(srv) + "/api/v1/health")
    assert (status, body) == (200, {"status": "ok"})
    assert request(srv, "GET", "/api/v1/health")[2] == {"status": "ok"}
    # the server's address table names the API
    assert any("admin REST API" in l and str(srv.admin_port) in l
               for l in srv.stdout_lines)


def test_plain_http_is_refused_on_the_tls_port(srv):
    conn = http.client.HTTPConnection("127.0.0.1", srv.admin_port, timeout=10)
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        conn.request("GET", "/api/v1/health")
        r = conn.getresponse()
        r.read()
        raise http.client.HTTPException("answered plain HTTP: %d" % r.status)
    conn.close()


def test_missing_and_malformed_credentials_are_401(srv):
    status, hdrs, body = request(srv, "GET", "/api/v1/queue")
    assert status == 401
    assert hdrs["www-authenticate"].startswith("Bearer")
    assert_error(body, "unauthorized")
    for value in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer ptk_short",
                  "Bearer " + "ptk_" + "A" * 43):
        status, hdrs, body = request(srv, "GET", "/api/v1/queue",
                                     headers={"Authorization": value},
                                     source="127.0.0.7")
        assert status == 401, value
        assert 'error="invalid_token"' in hdrs["www-authenticate"]
        assert_error(body, "invalid_token")


def test_token_lifecycle(srv):
    tid, tok = make_token(srv, "lifecycle")
    listing = srv.ctl("token", "list").stdout.decode()
    row = [l for l in listing.splitlines() if l.split()[:2] == [str(tid), "lifecycle"]]
    assert row and "(global)" in row[0] and row[0].rstrip().endswith("active")
    assert "127.0.0.1" not in row[0]    # never used yet
    # the store keeps only a hash: the token's text is nowhere in it
    with open(os.path.join(srv.data_dir, "petrel.db"), "rb") as f:
        assert tok.encode() not in f.read()

    assert api(srv, "GET", "/api/v1/queue/stats", tok)["entries"] >= 0
    row = [l for l in srv.ctl("token", "list").stdout.decode().splitlines()
           if l.startswith(str(tid) + " ")]
    assert "127.0.0.1" in row[0]

    assert srv.ctl("token", "revoke", tid).returncode == 0
    status, _, body = request(srv, "GET", "/api/v1/queue/stats", tok,
                              source="127.0.0.8")
    assert status == 401
    assert_error(body, "invalid_token")
    assert "revoked" in srv.ctl("token", "list").stdout.decode()
    p = srv.ctl("token", "revoke", "999999", check=False)
    assert p.returncode == 1 and b"no token" in p.stderr
    p = srv.ctl("token", "add", "x", "--domain", "nothosted.test", check=False)
    assert p.returncode == 1 and b"not hosted" in p.stderr


def test_unknown_paths_methods_and_ids(srv, token):
    status, _, body = request(srv, "GET", "/api/v1/nothing", token)
    assert status == 404
    assert_error(body, "not_found")
    status, hdrs, body = request(srv, "PUT", "/api/v1/queue/1/hold", token)
    assert status == 405 and hdrs["allow"] == "POST"
    assert_error(body, "method_not_allowed")
    status, hdrs, body = request(srv, "DELETE", "/api/v1/queue", token)
    assert status == 405 and hdrs["allow"] == "GET"
    status, _, body = request(srv, "GET", "/api/v1/queue/abc", token)
    assert status == 400
    assert_error(body, "invalid_id", "id")
    status, _, body = request(srv, "GET", "/api/v1/queue/999999999", token)
    assert status == 404
    assert_error(body, "not_found", "id")
    status, _, body = request(srv, "GET", "/api/v1/queue?limit=5000", token)
    assert status == 400
    assert_error(body, "invalid_parameter", "limit")
    status, _, body = request(srv, "GET", "/api/v1/queue?bogus=1", token)
    assert status == 400
    assert_error(body, "unknown_parameter", "bogus")


def test_oversized_bodies_are_413(srv, token):
    entry = fresh_entry(srv, token)
    path = "/api/v1/queue/%d/bounce" % entry["id"]
    big = b'{"reason": "' + b"a" * (1024 * 1024) + b'"}'
    status, _, body = request(srv, "POST", path, token, body=big,
                              ctype="application/json")
    assert status == 413
    assert_error(body, "payload_too_large")
    # past what libevent reads at all: its own 413, then a close
    p = subprocess.run(
        ["curl", "-sS", "--cacert", cafile(srv), "-o", "/dev/null",
         "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer " + token,
         "-H", "Content-Type: application/json", "--data-binary", "@-",
         base(srv) + path], input=b"x" * (5 * 1024 * 1024),
        capture_output=True, timeout=60)
    assert p.stdout.decode() == "413", p
    # malformed and wrong JSON: nothing changes
    for raw, want, code, field in (
            (b'{"reason": ', 400, "malformed_json", None),
            (b'{"reason": 5}', 422, "wrong_type", "reason"),
            (b'{"colour": "red"}', 422, "unknown_field", "colour"),
            (b'["x"]', 422, "wrong_type", None)):
        status, _, body = request(srv, "POST", path, token, body=raw,
                                  ctype="application/json")
        assert status == want, raw
        assert_error(body, code, field)
    status, _, body = request(srv, "POST", path, token, body=b"reason=x",
                              ctype="application/x-www-form-urlencoded")
    assert status == 415
    assert api(srv, "GET", "/api/v1/queue/%d" % entry["id"], token)[
        "recipients"][0]["state"] == "pending"
    api(srv, "DELETE", "/api/v1/queue/%d" % entry["id"], token, want=204)


def test_failed_auth_is_rate_limited_per_address(srv, token):
    # its own source address, so other tests are not limited
    src = "127.0.0.9"
    for i in range(10):
        status, _, _ = request(srv, "GET", "/api/v1/queue", "ptk_" + "B" * 43,
                               source=src)
        assert status == 401, i
    status, hdrs, body = request(srv, "GET", "/api/v1/queue",
                                 "ptk_" + "B" * 43, source=src)
    assert status == 429
    assert 1 <= int(hdrs["retry-after"]) <= 60
    assert_error(body, "too_many_requests")
    # a good token from that address waits too; other addresses do not
    assert request(srv, "GET", "/api/v1/queue", token, source=src)[0] == 429
    assert request(srv, "GET", "/api/v1/queue", token)[0] == 200
    # health needs no token and is not limited
    assert request(srv, "GET", "/api/v1/health", source=src)[0] == 200


# ---------------------------------------------------------------- the queue

def test_queue_list_show_and_pages(srv, token):
    entries = [fresh_entry(srv, token, ("a%d@nowhere.test" % i,
                                        "b%d@nowhere.test" % i))
               for i in range(3)]
    listed = queue_all(srv, token)
    ids = [e["id"] for e in listed]
    assert ids == sorted(set(ids), key=ids.index)      # no repeats
    assert sorted(ids) == ctl_queue_ids(srv)           # what petrelctl sees
    for e in entries:
        got = [x for x in listed if x["id"] == e["id"]][0]
        assert got["sender"] == DEMO
        assert got["recipient_count"] == 2
        assert got["held"] is False
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", got["created"])
        assert got["size"] > 0

    one = api(srv, "GET", "/api/v1/queue/%d" % entries[0]["id"], token)
    assert [r["address"] for r in one["recipients"]] == \
        ["a0@nowhere.test", "b0@nowhere.test"]
    for r in one["recipients"]:
        assert r["state"] == "pending"
        assert set(r) >= {"attempts", "last_try", "next_try", "last_reply"}

    status, body = curl(srv, "-H", "Authorization: Bearer " + token,
                        base(srv) + "/api/v1/queue?limit=1")
    assert status == 200 and len(body["items"]) == 1 and body["next"]
    status, body = curl(srv, "-H", "Authorization: Bearer " + token,
                        base(srv) + "/api/v1/queue?sender=nobody%40x.test")
    assert (status, body) == (200, {"items": [], "next": None})
    for e in entries:
        api(srv, "DELETE", "/api/v1/queue/%d" % e["id"], token, want=204)


def test_queue_changes(srv, token):
    e = fresh_entry(srv, token)
    path = "/api/v1/queue/%d" % e["id"]
    assert api(srv, "POST", path + "/hold", token) == {"id": e["id"], "held": True}
    assert api(srv, "GET", path, token)["held"] is True
    held = queue_all(srv, token, "held=true")
    assert e["id"] in [x["id"] for x in held]
    assert e["id"] not in [x["id"] for x in queue_all(srv, token, "held=false")]
    out = srv.ctl("queue", "list").stdout.decode()
    assert [l for l in out.splitlines() if l.startswith(str(e["id"]) + " ")][0] \
        .split()[4] == "held"
    stats = api(srv, "GET", "/api/v1/queue/stats", token)
    assert stats["held"] >= 1 and stats["entries"] >= 1
    assert stats["oldest_age"] >= 0 and stats["bytes"] > 0
    assert api(srv, "POST", path + "/release", token) == {"id": e["id"], "held": False}
    assert api(srv, "POST", path + "/retry", token, want=202)["id"] == e["id"]
    assert api(srv, "POST", "/api/v1/queue/retry-all", token, want=202)["retried"] >= 1

    # bounce: the sender gets the report, the entry leaves the queue
    b = api(srv, "POST", path + "/bounce", token,
            body={"reason": "cancelled by the API test"}, want=202)
    assert b == {"id": e["id"], "status": "bouncing"}
    got = wait_for(lambda: request(srv, "GET", path, token)[0] == 404)
    assert got
    # the report's Diagnostic-Code may be folded: unfold before looking
    assert wait_for(lambda: any(
        b"cancelled by the postmaster: cancelled by the API test"
        in re.sub(rb"\r?\n[ \t]+", b" ", m) for m in srv.messages(DEMO)))

    e2 = fresh_entry(srv, token)
    status, body = curl(srv, "-X", "DELETE", "-H", "Authorization: Bearer " + token,
                        base(srv) + "/api/v1/queue/%d" % e2["id"])
    assert (status, body) == (204, None)
    assert e2["id"] not in ctl_queue_ids(srv)
    assert request(srv, "DELETE", "/api/v1/queue/%d" % e2["id"], token)[0] == 404


def wait_for(cond, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return False


def test_scoped_token_sees_only_its_domain(srv, token):
    _, scoped = make_token(srv, "other-admin", "other.test")
    mine = fresh_entry(srv, token, sender=OTHER, password=OTHER_PASSWORD)
    theirs = fresh_entry(srv, token)
    seen = [x["id"] for x in queue_all(srv, scoped)]
    assert mine["id"] in seen and theirs["id"] not in seen
    assert all(x["sender"].endswith("@other.test") for x in queue_all(srv, scoped))
    stats = api(srv, "GET", "/api/v1/queue/stats", scoped)
    assert stats["entries"] == len(seen)

    for method, suffix in (("GET", ""), ("POST", "/hold"), ("POST", "/retry"),
                           ("POST", "/bounce"), ("DELETE", "")):
        status, _, body = request(srv, method, "/api/v1/queue/%d%s"
                                  % (theirs["id"], suffix), scoped)
        assert status == 403, (method, suffix)
        assert_error(body, "forbidden", "id")
    assert api(srv, "GET", "/api/v1/queue/%d" % theirs["id"], token)["held"] is False
    assert api(srv, "POST", "/api/v1/queue/%d/hold" % mine["id"], scoped)["held"]
    # retry-all touches only its own entries
    assert api(srv, "POST", "/api/v1/queue/retry-all", scoped, want=202)[
        "retried"] == len(seen)
    for e in (mine, theirs):
        api(srv, "DELETE", "/api/v1/queue/%d" % e["id"], token, want=204)


# ---------------------------------------------------------------- docs

def doc_examples():
    """(command, expected status) for every ```sh block of docs/api.md
    followed by its status line."""
    with open(DOCS) as f:
        text = f.read()
    found = re.findall(r"```sh\n(.*?)```\n+`(\d{3})[^`]*`", text, re.S)
    assert len(found) >= 12, "docs/api.md examples not found"
    return [(cmd.strip(), int(st)) for cmd, st in found]


def test_every_doc_example_runs(srv, token):
    examples = doc_examples()
    ids = [fresh_entry(srv, token)["id"] for _ in range(2)]
    # the tenant examples: DOMAIN is made by the first of them; MAILBOX
    # exists, with an app password to revoke and a session to end
    out = srv.ctl("apppass", "add", OTHER, "doc-example").stdout.decode()
    appid = re.search(r"app password (\d+) for", out).group(1)
    status, _, sess = request(srv, "POST", "/api/v1/login", body={
        "user": OTHER, "password": OTHER_PASSWORD})
    assert status == 200, sess
    env = dict(os.environ, PETREL=base(srv), TOKEN=token, CA=cafile(srv),
               ID=str(ids[0]), ID2=str(ids[1]),
               DOMAIN="corp-%s.example" % os.urandom(3).hex(),
               MAILBOX=OTHER, PASSWORD=OTHER_PASSWORD, APPID=appid,
               SESSION=sess["token"])
    paths = run_doc_examples(examples, env)
    # every endpoint has its example
    routes = ("health", "queue", "queue/stats", "queue/$ID", "queue/$ID/hold",
              "queue/$ID/release", "queue/$ID/retry", "queue/$ID/bounce",
              "queue/retry-all", "queue/$ID2",
              "domains", "domains/$DOMAIN", "domains/$DOMAIN/mailboxes",
              "mailboxes/alice@$DOMAIN", "mailboxes/alice@$DOMAIN/password",
              "mailboxes/alice@$DOMAIN/usage",
              "mailboxes/alice@$DOMAIN/app-passwords",
              "mailboxes/$MAILBOX/app-passwords/$APPID",
              "domains/$DOMAIN/aliases", "aliases/sales@$DOMAIN",
              "aliases/sales@$DOMAIN/targets",
              "aliases/sales@$DOMAIN/targets/bob@$DOMAIN",
              "domains/$DOMAIN/groups", "groups/all@$DOMAIN",
              "groups/all@$DOMAIN/members",
              "groups/all@$DOMAIN/members/bob@$DOMAIN",
              "groups/all@$DOMAIN/senders", "login", "session", "logout",
              "audit")
    for r in routes:
        assert "/api/v1/" + r in paths, r


# ---------------------------------------------------------------- plain HTTP

def test_admin_plaintext_serves_plain_http(make_server):
    s = make_server("admin_plaintext = yes")
    assert any("plain HTTP" in l for l in s.stdout_lines)
    conn = http.client.HTTPConnection("127.0.0.1", s.admin_port, timeout=10)
    conn.request("GET", "/api/v1/health")
    r = conn.getresponse()
    assert (r.status, json.loads(r.read())) == (200, {"status": "ok"})
    conn.close()


def test_admin_listener_can_be_turned_off(make_server):
    s = make_server("listen_admin =")
    assert not any("admin REST API" in l for l in s.stdout_lines)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", s.admin_port), timeout=5).close()


def test_admin_listener_with_its_own_certificate(make_server):
    """listen_admin cert= key=: the API presents that pair, mail ports
    keep tls_cert."""
    import certs
    from cryptography import x509
    s = make_server(start=False)
    s.write_conf()
    tls_dir = os.path.join(s.data_dir, "tls")
    os.makedirs(tls_dir, exist_ok=True)
    certs.make("admin.listener.test", ["admin.listener.test"]).write(tls_dir, "admin")
    with open(s.conf, "a") as f:
        f.write("listen_admin = 127.0.0.1:%d cert=tls/admin.crt key=tls/admin.key\n"
                % s.admin_port)
    s.start(new_ports=False)
    ctx = ctx_noverify()
    with socket.create_connection(("127.0.0.1", s.admin_port), timeout=30) as raw:
        with ctx.wrap_socket(raw) as t:
            der = t.getpeercert(binary_form=True)
            t.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            reply = petreltest.recv_all(t)
    subject = x509.load_der_x509_certificate(der).subject.rfc4514_string()
    assert "admin.listener.test" in subject
    assert reply.startswith(b"HTTP/1.1 200 ")
    assert reply.rstrip().endswith(b'{"status":"ok"}')


def run_doc_examples(examples, env):
    """Run each (curl command, expected status) of the docs as written,
    with env; each must answer its status and JSON (or nothing). The
    set of /api/v1 paths they used."""
    paths = set()
    for cmd, want in examples:
        assert cmd.startswith("curl "), cmd
        script = ('curl() { command curl -w "\\n%%{http_code}" "$@"; }\n%s\n'
                  % cmd)
        p = subprocess.run(["sh", "-c", script], env=env, capture_output=True,
                           timeout=60)
        assert p.returncode == 0, (cmd, p.stderr)
        out = p.stdout.decode()
        body, _, status = out.rpartition("\n")
        assert int(status) == want, (cmd, out)
        if body.strip():
            json.loads(body)
        paths.update(re.findall(r"/api/v1/[A-Za-z0-9/{}$_@.-]*", cmd))
    return paths
