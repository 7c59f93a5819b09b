"""test_filter_bayes.py - the statistical classifier from the outside:
`petrelctl filter train|untrain|score|stats` (text and --json) on
message files, directories and mbox files, and learning from IMAP: a
user moving delivered mail into Junk (Python imaplib) makes a similar
message score as spam for that user only; moving it back out un-learns.
"""

import json
import os
import random
import time

from petreltest import SMTPConn, make_message, unique
from test_imap import login, ok

HAM_WORDS = ("meeting agenda quarterly report budget review project "
             "schedule minutes colleague deadline invoice draft team "
             "office lunch presentation planning roadmap").split()
SPAM_WORDS = ("viagra casino lottery winner cheap pills bitcoin prize "
              "claim urgent wire transfer guaranteed million unclaimed "
              "jackpot pharmacy discount").split()
NEWS_WORDS = ("zorblax gadgetron quibbleware snorkium flumbergast "
              "wizzlecorp").split()


def text_message(words, rnd, n=30, marker=None):
    marker = marker or unique("b")
    body = " ".join(rnd.choice(words) for _ in range(n))
    # a well-formed message, so that only the classifier scores it
    return make_message(marker, body=(body + "\r\n").encode(),
                        extra_headers=b"Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n")


def write_set(dirpath, words, count, seed):
    rnd = random.Random(seed)
    os.makedirs(dirpath, exist_ok=True)
    for i in range(count):
        with open(os.path.join(dirpath, "m%03d.eml" % i), "wb") as f:
            f.write(text_message(words, rnd))


def ctl_json(server, *args):
    return json.loads(server.ctl(*args, "--json").stdout)


def scope_counts(server, scope):
    for s in ctl_json(server, "filter", "stats")["scopes"]:
        if s["scope"] == scope:
            return s["spam"], s["ham"]
    return 0, 0


def wait_counts(server, scope, want, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        got = scope_counts(server, scope)
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def score(server, path, *opts):
    doc = ctl_json(server, "filter", "score", path, *opts)
    assert len(doc["messages"]) == 1
    return doc["messages"][0]


def test_train_score_stats_untrain(server, tmp_path):
    write_set(tmp_path / "ham", HAM_WORDS, 15, 1)
    write_set(tmp_path / "spam1", SPAM_WORDS, 8, 2)
    # an mbox of 7 more spam, with a body line that must not split it
    rnd = random.Random(3)
    with open(tmp_path / "spam.mbox", "wb") as f:
        for i in range(7):
            f.write(b"From spammer@example.test Thu Nov 26 18:00:0%d 2026\n" % i)
            f.write(text_message(SPAM_WORDS, rnd).replace(b"\r\n", b"\n"))
            f.write(b"\nFrom the desk of the prize office\n\n")
    out = server.ctl("filter", "train", "--spam", tmp_path / "spam1",
                     tmp_path / "spam.mbox", "--ham", tmp_path / "ham").stdout
    assert b"learned 15 spam and 15 ham in global" in out, out
    # the same again changes nothing
    doc = ctl_json(server, "filter", "train", "--spam", tmp_path / "spam1",
                   "--ham", tmp_path / "ham")
    assert (doc["spam"], doc["ham"], doc["unchanged"]) == (0, 0, 23)
    assert doc["scope"] == "global"
    stats = {s["scope"]: s for s in ctl_json(server, "filter", "stats")["scopes"]}
    assert (stats["global"]["spam"], stats["global"]["ham"]) == (15, 15)
    assert stats["global"]["tokens"] > 20
    text = server.ctl("filter", "stats").stdout.decode()
    assert text.splitlines()[0].split() == ["SCOPE", "SPAM", "HAM", "TOKENS", "WEIGHTS"]

    rnd = random.Random(4)
    (tmp_path / "new-spam.eml").write_bytes(text_message(SPAM_WORDS, rnd))
    (tmp_path / "new-ham.eml").write_bytes(text_message(HAM_WORDS, rnd))
    s = score(server, tmp_path / "new-spam.eml")
    assert s["action"] == "junk" and s["score"] >= 5, s
    assert s["symbols"][0]["name"] == "BAYES_SPAM"
    assert s["symbols"][0]["detail"].startswith("p=")
    h = score(server, tmp_path / "new-ham.eml")
    assert h["action"] == "deliver" and h["score"] < 0, h
    assert h["symbols"][0]["name"] == "BAYES_HAM"
    line = server.ctl("filter", "score", tmp_path / "new-spam.eml").stdout.decode()
    f, sc, action, sym = line.split()
    assert f.endswith("new-spam.eml") and action == "junk"
    assert float(sc) >= 5 and sym.startswith("BAYES_SPAM(")
    # the mbox scores message by message, named FILE#N
    doc = ctl_json(server, "filter", "score", tmp_path / "spam.mbox")
    assert [m["file"][-2:] for m in doc["messages"]] == ["#%d" % i for i in range(1, 8)]

    # learning ham as spam then back: moved, not counted twice
    doc = ctl_json(server, "filter", "train", "--spam", tmp_path / "ham")
    assert (doc["spam"], doc["moved"]) == (15, 15)
    assert scope_counts(server, "global") == (30, 0)
    doc = ctl_json(server, "filter", "train", "--ham", tmp_path / "ham")
    assert scope_counts(server, "global") == (15, 15)
    doc = ctl_json(server, "filter", "untrain", tmp_path / "spam.mbox")
    assert doc["forgotten"] == 7
    assert scope_counts(server, "global") == (8, 15)
    server.ctl("filter", "train", "--spam", tmp_path / "spam.mbox")
    assert scope_counts(server, "global") == (15, 15)


def test_usage_and_errors(server, tmp_path):
    p = server.ctl("filter", "train", tmp_path, check=False)
    assert p.returncode == 2
    p = server.ctl("filter", "train", "--spam", tmp_path / "nope", check=False)
    assert p.returncode == 1 and b"nope" in p.stderr
    p = server.ctl("filter", "score", tmp_path / "nope", "--json", check=False)
    assert p.returncode == 1 and "error" in json.loads(p.stdout)
    p = server.ctl("filter", "train", "--spam", tmp_path, "--domain", "a.test",
                   "--user", "b@a.test", check=False)
    assert p.returncode == 2
    p = server.ctl("filter", "score", "--help")
    assert b"filter score PATH" in p.stdout


def deliver(server, mbox, msgs):
    c = SMTPConn(server.port)
    c.ehlo("client.petrel.test")
    for m in msgs:
        c.send_mail("sender@remote.test", [mbox], m)
    c.quit()


def test_imap_junk_moves_teach_the_user(server, tmp_path):
    # the installation knows some ham and spam (at least 10 of each)
    write_set(tmp_path / "ham", HAM_WORDS, 12, 11)
    write_set(tmp_path / "spam", SPAM_WORDS, 12, 12)
    server.ctl("filter", "train", "--spam", tmp_path / "spam", "--ham",
               tmp_path / "ham")
    mbox = server.new_mailbox("bayes")
    other = server.new_mailbox("bayes")
    scope = "user:" + mbox.lower()
    rnd = random.Random(13)
    news = [text_message(NEWS_WORDS, rnd, marker=unique("news")) for _ in range(3)]
    deliver(server, mbox, news)
    (tmp_path / "similar.eml").write_bytes(text_message(NEWS_WORDS, rnd))
    before = score(server, tmp_path / "similar.eml", "--user", mbox)
    assert before["action"] == "deliver", before

    m = login(server, mbox)
    ok(m.select("INBOX"))
    ok(m._simple_command("MOVE", "1:3", "Junk"))
    assert wait_counts(server, scope, (3, 0)) == (3, 0)
    after = score(server, tmp_path / "similar.eml", "--user", mbox)
    assert after["action"] == "junk" and after["score"] > before["score"], after
    assert after["symbols"][0]["name"] == "BAYES_SPAM"
    assert float(after["symbols"][0]["detail"].split()[0][2:]) >= 0.9
    # another user is not affected
    assert score(server, tmp_path / "similar.eml", "--user", other)["action"] == "deliver"

    # copying into Junk again is the same message: no double count
    ok(m.select("Junk"))
    ok(m.copy("1", "Junk"))
    # out of Junk into Trash teaches nothing; into INBOX teaches ham
    ok(m._simple_command("MOVE", "2", "Trash"))
    ok(m._simple_command("MOVE", "1", "INBOX"))
    assert wait_counts(server, scope, (2, 1)) == (2, 1)
    m.logout()


def bayes_margin(doc):
    """The logistic model's margin from the BAYES_* symbol's detail
    ("p=0.999 margin=7.31 tokens: ..."), 0 when there is no symbol."""
    for s in doc["symbols"]:
        if s["name"].startswith("BAYES_"):
            for part in s["detail"].split():
                if part.startswith("margin="):
                    return float(part[len("margin="):])
            raise AssertionError("no margin in %r" % s["detail"])
    return 0.0


def wait_margin(server, path, mbox, before, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        doc = score(server, path, "--user", mbox)
        if bayes_margin(doc) != before or time.monotonic() > deadline:
            return doc
        time.sleep(0.1)


def test_imap_judgement_moves_the_model(server, tmp_path):
    # 600 messages learned: the logistic model gives the verdict
    write_set(tmp_path / "ham", HAM_WORDS, 300, 21)
    write_set(tmp_path / "spam", SPAM_WORDS, 300, 22)
    server.ctl("filter", "train", "--spam", tmp_path / "spam", "--ham",
               tmp_path / "ham")
    rnd = random.Random(23)
    (tmp_path / "ham.eml").write_bytes(text_message(HAM_WORDS, rnd))
    (tmp_path / "spam.eml").write_bytes(text_message(SPAM_WORDS, rnd))
    ham = score(server, tmp_path / "ham.eml", "--level", "enterprise")
    spam = score(server, tmp_path / "spam.eml", "--level", "enterprise")
    assert ham["action"] == "deliver" and bayes_margin(ham) < -2, ham
    assert spam["action"] == "junk" and bayes_margin(spam) > 4, spam
    stats = {s["scope"]: s for s in ctl_json(server, "filter", "stats")["scopes"]}
    assert stats["global"]["weights"] > 1000, stats

    mbox = server.new_mailbox("model")
    other = server.new_mailbox("model")
    news = text_message(NEWS_WORDS + HAM_WORDS, rnd, marker=unique("news"))
    deliver(server, mbox, [news])
    m = login(server, mbox)
    ok(m.select("INBOX"))
    # the message as the user got it (with petrel's trace fields), which
    # is what the judgement teaches
    typ, data = m.fetch("1", "(BODY.PEEK[])")
    ok((typ, data))
    (tmp_path / "news.eml").write_bytes(data[0][1])
    before = bayes_margin(score(server, tmp_path / "news.eml", "--user", mbox))
    ok(m._simple_command("MOVE", "1", "Junk"))
    m.logout()
    # the judgement is one step of the user's model: that message, as
    # the user got it, is now 4 on the spam side for them
    after = wait_margin(server, tmp_path / "news.eml", mbox, before)
    assert bayes_margin(after) >= 3.99 and bayes_margin(after) > before, \
        (before, after)
    assert after["symbols"][0]["name"] == "BAYES_SPAM", after
    # nobody else's verdict moved
    assert bayes_margin(score(server, tmp_path / "news.eml", "--user",
                              other)) == before
