"""test_api_tenants.py - the tenant endpoints of the admin REST API on a
real petreld over HTTPS (http.client and curl): a domain's whole life
(domain, plan, mailbox, alias, group, app password, an IMAP login with
that app password through imaplib, revoke, the login fails), password
reset, usage, a domain alias and catch-all, tokens scoped to a domain
getting 403 elsewhere, 409 and 422 with the field at fault and nothing
made, pages and ?q= filters, and mailbox users logging in with password
and TOTP (codes computed here with hmac) to a session token that reaches
only their own mailbox."""

import base64
import hashlib
import hmac
import imaplib
import os
import re
import struct
import time

import pytest

import petreltest
from petreltest import tls_ctx
from test_api import api, assert_error, base, cafile, curl, make_token, \
    request

PASSWORD = "Secret-pass-123"    # what Petrel.add_mailbox sets


@pytest.fixture(scope="module")
def srv():
    yield from petreltest.running("auth_failure_delay = 0")


@pytest.fixture(scope="module")
def token(srv):
    return make_token(srv, "tenants")[1]


def fresh(prefix="corp"):
    return "%s-%s.test" % (prefix, os.urandom(3).hex())


def imap_ok(srv, user, password):
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.imaps_port, ssl_context=tls_ctx(),
                          timeout=20)
    try:
        m.login(user, password)
        m.logout()
        return True
    except imaplib.IMAP4.error:
        return False
    finally:
        try:
            m.shutdown()
        except OSError:
            pass


def totp(secret_b32, at=None):
    """RFC 6238 with SHA-1, 6 digits, 30 s steps."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    step = int((time.time() if at is None else at) // 30)
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 15
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7fffffff) % 10**6
    return "%06d" % code


def new_domain(srv, token, **plan):
    name = fresh()
    d = api(srv, "POST", "/api/v1/domains", token, {"name": name}, want=201)
    assert d["name"] == name and d["status"] == "active"
    if plan:
        api(srv, "PATCH", "/api/v1/domains/" + name, token, plan)
    return name


def new_mailbox(srv, token, domain, local="user", **extra):
    body = dict(local_part=local, password=PASSWORD, **extra)
    return api(srv, "POST", "/api/v1/domains/%s/mailboxes" % domain, token,
               body, want=201)


# ---------------------------------------------------------------- lifecycle

def test_full_lifecycle(srv, token):
    dom = new_domain(srv, token)
    d = api(srv, "PATCH", "/api/v1/domains/" + dom, token,
            {"max_mailboxes": 50, "mailbox_quota": 10 << 20,
             "domain_quota": 100 << 20})
    assert d["plan"] == {"max_mailboxes": 50, "mailbox_quota": 10 << 20,
                         "domain_quota": 100 << 20}
    assert d["aliases"] == [] and d["require_2fa"] is False

    # a generated password, shown once, works for IMAP
    mb = api(srv, "POST", "/api/v1/domains/%s/mailboxes" % dom, token,
             {"local_part": "alice", "display_name": "Alice Liddell"},
             want=201)
    alice = "alice@" + dom
    assert mb["address"] == alice and mb["quota"] == 10 << 20
    assert mb["display_name"] == "Alice Liddell" and mb["enabled"]
    assert len(mb["password"]) == 16
    assert imap_ok(srv, alice, mb["password"])
    shown = api(srv, "GET", "/api/v1/mailboxes/" + alice, token)
    assert "password" not in shown and shown["address"] == alice

    bob = new_mailbox(srv, token, dom, "bob", quota=1 << 20)["address"]
    assert api(srv, "GET", "/api/v1/mailboxes/" + bob, token)["quota"] == \
        1 << 20

    # alias and group
    a = api(srv, "POST", "/api/v1/domains/%s/aliases" % dom, token,
            {"local_part": "sales", "targets": [alice, bob]}, want=201)
    assert a == {"address": "sales@" + dom, "targets": [alice, bob]}
    g = api(srv, "POST", "/api/v1/domains/%s/groups" % dom, token,
            {"local_part": "all", "members": [alice], "senders": [bob],
             "posting": "senders"}, want=201)
    assert g["members"] == [alice] and g["senders"] == [bob]
    assert g["posting"] == "senders"
    g = api(srv, "POST", "/api/v1/groups/all@%s/members" % dom, token,
            {"address": bob})
    assert sorted(g["members"]) == sorted([alice, bob])
    api(srv, "DELETE", "/api/v1/groups/all@%s/members/%s" % (dom, alice),
        token, want=204)
    assert api(srv, "GET", "/api/v1/groups/all@" + dom, token)["members"] \
        == [bob]
    # an alias is not a group
    status, _, body = request(srv, "GET", "/api/v1/groups/sales@" + dom, token)
    assert status == 404
    api(srv, "DELETE", "/api/v1/aliases/sales@" + dom, token, want=204)
    assert request(srv, "GET", "/api/v1/aliases/sales@" + dom, token)[0] == 404

    # app password: made, listed, used over IMAP, revoked
    ap = api(srv, "POST", "/api/v1/mailboxes/%s/app-passwords" % alice, token,
             {"name": "Phone"}, want=201)
    assert re.fullmatch(r"[a-z]{4}(-[a-z]{4}){3}", ap["password"])
    assert imap_ok(srv, alice, ap["password"])
    listed = api(srv, "GET", "/api/v1/mailboxes/%s/app-passwords" % alice,
                 token)["items"]
    assert [(x["id"], x["name"], x["revoked"]) for x in listed] == \
        [(ap["id"], "Phone", None)]
    assert "password" not in listed[0]
    api(srv, "DELETE", "/api/v1/mailboxes/%s/app-passwords/%d"
        % (alice, ap["id"]), token, want=204)
    assert not imap_ok(srv, alice, ap["password"])
    status, _, body = request(srv, "DELETE", "/api/v1/mailboxes/%s/"
                              "app-passwords/%d" % (alice, ap["id"]), token)
    assert status == 404

    # password reset: generated, then given; the old one stops working
    old = mb["password"]
    r = api(srv, "POST", "/api/v1/mailboxes/%s/password" % alice, token)
    assert r["address"] == alice and len(r["password"]) == 16
    assert not imap_ok(srv, alice, old) and imap_ok(srv, alice, r["password"])
    r = api(srv, "POST", "/api/v1/mailboxes/%s/password" % alice, token,
            {"password": "Another-pass-456"})
    assert "password" not in r
    assert imap_ok(srv, alice, "Another-pass-456")

    # suspend and activate, forward, usage
    assert api(srv, "PATCH", "/api/v1/mailboxes/" + alice, token,
               {"enabled": False})["enabled"] is False
    assert not imap_ok(srv, alice, "Another-pass-456")
    m = api(srv, "PATCH", "/api/v1/mailboxes/" + alice, token,
            {"enabled": True, "forward": "alice@elsewhere.test",
             "display_name": "A. L."})
    assert m["enabled"] and m["forward"] == "alice@elsewhere.test"
    assert m["display_name"] == "A. L."
    assert api(srv, "PATCH", "/api/v1/mailboxes/" + alice, token,
               {"forward": None})["forward"] is None
    u = api(srv, "GET", "/api/v1/mailboxes/%s/usage" % alice, token)
    assert u["used"] == 0 and u["quota"] == 10 << 20
    assert "INBOX" in [f["name"] for f in u["folders"]]
    assert all(f["messages"] == 0 for f in u["folders"])

    # catch-all, domain alias, status
    d = api(srv, "PATCH", "/api/v1/domains/" + dom, token,
            {"catchall": bob, "require_2fa": True})
    assert d["catchall"] == bob and d["require_2fa"] is True
    other = fresh("alias")
    da = api(srv, "POST", "/api/v1/domains", token,
             {"name": other, "alias_of": dom}, want=201)
    assert da["alias_of"] == dom
    d = api(srv, "GET", "/api/v1/domains/" + dom, token)
    assert d["aliases"] == [other] and d["mailboxes"] == 2
    d = api(srv, "PATCH", "/api/v1/domains/" + dom, token,
            {"catchall": None, "require_2fa": False, "status": "suspended"})
    assert d["catchall"] is None and d["status"] == "suspended"

    # every change is in the audit log under the token's name
    out = srv.ctl("audit", "show").stdout.decode()
    for kind in ("domain.add", "mailbox.add", "mailbox.password",
                 "app-password.revoke", "group.add", "mailbox.suspend"):
        assert re.search(r"%s\s+api:tenants" % re.escape(kind), out), kind


def test_unicode_domain_and_curl(srv, token):
    label = "b\u00fccher-%s" % os.urandom(2).hex()
    status, body = curl(srv, "-X", "POST", base(srv) + "/api/v1/domains",
                        "-H", "Authorization: Bearer " + token,
                        "-H", "Content-Type: application/json",
                        "--data-binary", '{"name": "%s.test"}' % label)
    assert status == 201, body
    assert body["name"].startswith("xn--") and body["unicode"] == \
        label + ".test"
    status, body = curl(srv, base(srv) + "/api/v1/domains/" + body["name"],
                        "-H", "Authorization: Bearer " + token)
    assert status == 200 and body["unicode"] == label + ".test"


# ---------------------------------------------------------------- errors

def test_conflicts_and_validation(srv, token):
    dom = new_domain(srv, token)
    path = "/api/v1/domains/%s/mailboxes" % dom
    new_mailbox(srv, token, dom, "carol")

    def err(method, p, body, status, code, field=None, **kw):
        st, _, parsed = request(srv, method, p, token, body, **kw)
        assert st == status, (p, body, st, parsed)
        assert_error(parsed, code, field)

    err("POST", "/api/v1/domains", {"name": dom}, 409, "exists", "name")
    err("POST", path, {"local_part": "carol", "password": PASSWORD}, 409,
        "exists", "local_part")
    err("POST", "/api/v1/domains/%s/aliases" % dom,
        {"local_part": "carol", "targets": ["x@y.test"]}, 409, "exists",
        "local_part")
    err("POST", path, {"local_part": "dave", "password": "short"}, 422,
        "weak_password", "password")
    err("POST", path, {"local_part": "dave", "pasword": PASSWORD}, 422,
        "unknown_field", "pasword")
    err("POST", path, {"local_part": 7}, 422, "wrong_type", "local_part")
    err("POST", path, {"password": PASSWORD}, 422, "missing_field",
        "local_part")
    err("POST", path, {"local_part": "dave", "quota": -1}, 422,
        "invalid_value", "quota")
    err("POST", path, {"local_part": "x'; DROP TABLE mailboxes;--"}, 422,
        "invalid_value", "local_part")
    err("POST", path, {"local_part": "dave", "forward": "nowhere"}, 422,
        "invalid_value", "forward")
    err("POST", path, b"{\"local_part\": ", 400, "malformed_json",
        ctype="application/json")
    err("POST", "/api/v1/domains", {"name": "bad..name"}, 422,
        "invalid_value", "name")
    err("POST", "/api/v1/domains/%s/aliases" % dom, {"local_part": "e"}, 422,
        "missing_field", "targets")
    err("POST", "/api/v1/domains/%s/groups" % dom,
        {"local_part": "g", "posting": "everyone"}, 422, "invalid_value",
        "posting")
    err("PATCH", "/api/v1/domains/" + dom, {"max_mailboxes": 5}, 422,
        "invalid_value", "max_mailboxes")
    err("PATCH", "/api/v1/domains/" + dom, {"status": "gone"}, 422,
        "invalid_value", "status")
    err("PATCH", "/api/v1/mailboxes/carol@" + dom, {"enabled": "no"}, 422,
        "wrong_type", "enabled")
    err("GET", "/api/v1/domains/nothere.test", None, 404, "not_found",
        "domain")
    err("GET", "/api/v1/mailboxes/nobody@" + dom, None, 404, "not_found",
        "address")
    err("GET", "/api/v1/domains/..", None, 404, "not_found", "domain")
    err("PUT", "/api/v1/mailboxes/carol@" + dom, None, 405,
        "method_not_allowed")
    err("POST", path, b"x" * (2 << 20), 413, "payload_too_large",
        ctype="application/json")
    # none of that made anything
    items = api(srv, "GET", path, token)["items"]
    assert [m["address"] for m in items] == ["carol@" + dom]


def test_plan_limit_is_409_with_nothing_created(srv, token):
    dom = new_domain(srv, token, max_mailboxes=20)
    for i in range(20):
        new_mailbox(srv, token, dom, "u%02d" % i)
    st, _, parsed = request(srv, "POST", "/api/v1/domains/%s/mailboxes" % dom,
                            token, {"local_part": "one-more",
                                    "password": PASSWORD})
    assert st == 409, parsed
    assert_error(parsed, "limit_reached", "local_part")
    assert request(srv, "GET", "/api/v1/mailboxes/one-more@" + dom,
                   token)[0] == 404
    assert api(srv, "GET", "/api/v1/domains/" + dom, token)["mailboxes"] == 20


def test_pages_and_filter(srv, token):
    dom = new_domain(srv, token)
    for local in ("ann", "anna", "bert", "carl", "anton"):
        new_mailbox(srv, token, dom, local)
    path = "/api/v1/domains/%s/mailboxes" % dom
    seen, cursor = [], None
    while True:
        q = "?limit=2" + ("&cursor=" + cursor if cursor else "")
        page = api(srv, "GET", path + q, token)
        assert len(page["items"]) <= 2
        seen += [m["address"].split("@")[0] for m in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == ["ann", "anna", "anton", "bert", "carl"]
    page = api(srv, "GET", path + "?q=an&limit=2", token)
    assert [m["address"].split("@")[0] for m in page["items"]] == \
        ["ann", "anna"]
    page = api(srv, "GET", path + "?q=an&cursor=" + page["next"], token)
    assert [m["address"].split("@")[0] for m in page["items"]] == ["anton"]
    assert page["next"] is None
    assert [d["name"] for d in api(srv, "GET", "/api/v1/domains?q=" + dom,
                                   token)["items"]] == [dom]
    st, _, parsed = request(srv, "GET", path + "?sort=name", token)
    assert st == 400 and parsed["error"]["code"] == "unknown_parameter"


# ---------------------------------------------------------------- scopes

def test_scoped_token_sees_only_its_domain(srv, token):
    mine, theirs = new_domain(srv, token), new_domain(srv, token)
    new_mailbox(srv, token, mine, "me")
    new_mailbox(srv, token, theirs, "them")
    scoped = make_token(srv, "scoped-" + mine, mine)[1]
    doms = api(srv, "GET", "/api/v1/domains", scoped)["items"]
    assert [d["name"] for d in doms] == [mine]
    for method, path, body in (
            ("GET", "/api/v1/domains/" + theirs, None),
            ("GET", "/api/v1/domains/unhosted.test", None),
            ("GET", "/api/v1/domains/%s/mailboxes" % theirs, None),
            ("POST", "/api/v1/domains/%s/mailboxes" % theirs,
             {"local_part": "x", "password": PASSWORD}),
            ("GET", "/api/v1/mailboxes/them@" + theirs, None),
            ("POST", "/api/v1/mailboxes/them@%s/password" % theirs, {}),
            ("GET", "/api/v1/mailboxes/them@%s/app-passwords" % theirs, None),
            ("POST", "/api/v1/domains", {"name": fresh()}),
            ("PATCH", "/api/v1/domains/" + mine, {"max_mailboxes": 100}),
            ("PATCH", "/api/v1/domains/" + mine, {"status": "suspended"})):
        st, _, parsed = request(srv, method, path, scoped, body)
        assert st == 403, (method, path, parsed)
        assert parsed["error"]["code"] == "forbidden"
    # its own domain it manages
    new_mailbox(srv, scoped, mine, "colleague")
    assert api(srv, "PATCH", "/api/v1/domains/" + mine, scoped,
               {"require_2fa": True})["require_2fa"] is True
    assert api(srv, "GET", "/api/v1/mailboxes/me@" + mine, scoped)[
        "address"] == "me@" + mine
    # the other domain is untouched
    them = api(srv, "GET", "/api/v1/domains/%s/mailboxes" % theirs, token)
    assert [m["address"] for m in them["items"]] == ["them@" + theirs]


# ---------------------------------------------------------------- login

def login(srv, user, password, code=None):
    body = {"user": user, "password": password}
    if code is not None:
        body["totp"] = code
    return request(srv, "POST", "/api/v1/login", None, body)


def test_login_session_scope_and_logout(srv, token):
    dom = new_domain(srv, token)
    me = new_mailbox(srv, token, dom, "me")["address"]
    other = new_mailbox(srv, token, dom, "other")["address"]
    st, _, parsed = login(srv, me, "wrong-password")
    assert st == 401 and parsed["error"]["code"] == "invalid_credentials"
    st2, _, parsed2 = login(srv, "nobody@" + dom, "wrong-password")
    assert st2 == 401 and parsed2["error"] == parsed["error"]
    st, _, s = login(srv, me, PASSWORD)
    assert st == 200 and s["address"] == me
    sess = s["token"]
    assert re.fullmatch(r"pss_[A-Za-z0-9_-]{43}", sess)
    assert api(srv, "GET", "/api/v1/session", sess)["address"] == me
    assert api(srv, "GET", "/api/v1/mailboxes/" + me, sess)["address"] == me
    assert api(srv, "GET", "/api/v1/mailboxes/%s/usage" % me, sess)["quota"] \
        is not None
    ap = api(srv, "POST", "/api/v1/mailboxes/%s/app-passwords" % me, sess,
             {"name": "Laptop"}, want=201)
    assert imap_ok(srv, me, ap["password"])
    api(srv, "DELETE", "/api/v1/mailboxes/%s/app-passwords/%d"
        % (me, ap["id"]), sess, want=204)
    # nothing beyond its own mailbox
    for method, path, body in (
            ("GET", "/api/v1/mailboxes/" + other, None),
            ("GET", "/api/v1/mailboxes/%s/app-passwords" % other, None),
            ("POST", "/api/v1/mailboxes/%s/password" % other, {}),
            ("GET", "/api/v1/domains", None),
            ("GET", "/api/v1/domains/" + dom, None),
            ("PATCH", "/api/v1/mailboxes/" + me, {"quota": 0}),
            ("GET", "/api/v1/queue", None)):
        st, _, parsed = request(srv, method, path, sess, body)
        assert st == 403, (method, path, parsed)
    # changing its own password takes the current one
    st, _, parsed = request(srv, "POST", "/api/v1/mailboxes/%s/password" % me,
                            sess, {"password": "New-password-789"})
    assert st == 422 and parsed["error"]["field"] == "current_password"
    st, _, parsed = request(srv, "POST", "/api/v1/mailboxes/%s/password" % me,
                            sess, {"password": "New-password-789",
                                   "current_password": "guess-guess"})
    assert st == 403 and parsed["error"]["code"] == "wrong_password"
    api(srv, "POST", "/api/v1/mailboxes/%s/password" % me, sess,
        {"password": "New-password-789", "current_password": PASSWORD})
    assert imap_ok(srv, me, "New-password-789")
    # an administrator's reset ends the user's other sessions
    st, _, s2 = login(srv, me, "New-password-789")
    assert st == 200
    api(srv, "POST", "/api/v1/mailboxes/%s/password" % me, token,
        {"password": "Reset-by-admin-1"})
    assert request(srv, "GET", "/api/v1/session", s2["token"])[0] == 401
    assert request(srv, "GET", "/api/v1/session", sess)[0] == 401
    st, _, s = login(srv, me, "Reset-by-admin-1")
    sess = s["token"]
    # an API token does not log out; the session does, once
    assert request(srv, "POST", "/api/v1/logout", token)[0] == 403
    api(srv, "POST", "/api/v1/logout", sess, want=204)
    st, _, parsed = request(srv, "GET", "/api/v1/session", sess)
    assert st == 401 and parsed["error"]["code"] == "invalid_token"
    out = srv.ctl("audit", "show").stdout.decode()
    assert re.search(r"login\.ok\s+%s" % re.escape(me), out) or me in out


def test_login_with_totp(srv, token):
    dom = new_domain(srv, token)
    me = new_mailbox(srv, token, dom, "totp")["address"]
    out = srv.ctl("2fa", "enable", me, "--no-qr").stdout.decode()
    secret = re.search(r"^secret: ([A-Z2-7]+)$", out, re.M).group(1)
    st, _, parsed = login(srv, me, PASSWORD)
    assert st == 401
    assert_error(parsed, "totp_required", "totp")
    st, _, parsed = login(srv, me, PASSWORD, "%06d" % ((int(totp(secret)) + 1)
                                                     % 10**6))
    assert st == 401
    assert_error(parsed, "invalid_totp", "totp")
    # a right code with a wrong password is still no
    st, _, parsed = login(srv, me, "wrong-password", totp(secret))
    assert st == 401 and parsed["error"]["code"] == "invalid_credentials"
    code = totp(secret)
    st, _, s = login(srv, me, PASSWORD, code)
    assert st == 200, s
    assert api(srv, "GET", "/api/v1/session", s["token"])["address"] == me
    # the same code twice is a replay
    st, _, parsed = login(srv, me, PASSWORD, code)
    assert st == 401 and parsed["error"]["code"] == "invalid_totp"

    # a domain requiring 2FA: no TOTP, no session
    plain = new_mailbox(srv, token, dom, "plain")["address"]
    api(srv, "PATCH", "/api/v1/domains/" + dom, token, {"require_2fa": True})
    st, _, parsed = login(srv, plain, PASSWORD)
    assert st == 403 and parsed["error"]["code"] == "totp_not_enrolled"
