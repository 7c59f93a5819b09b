"""filterlib - what bench/filter/accuracy and bench/filter/speed share.

The labelled training corpus (../shared/testdata/spam-corpus-train),
unpacked into a temp dir and sampled deterministically; the three
classifiers behind one interface (train on directories of messages, score
files); and a child process's own CPU time. Python 3, standard library
only; the peers are Debian's bogofilter and spamassassin/spamd/spamc.

Every external command has a time bound; every loop is over a finite list.
"""

import base64
import concurrent.futures
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import benchlib as bl  # noqa: E402

CORPUS = os.path.join(os.path.dirname(bl.ROOT), "shared", "testdata",
                      "spam-corpus-train")
ARCHIVES = ("spamassassin-ham", "spamassassin-spam", "trec07p-ham",
            "trec07p-spam")
NOBODY = ("nobody", "nogroup")
SPAMC_MAX = 64 * 1024 * 1024  # spamc's -s: scan every message, however big


# --------------------------------------------------------------------------
# The corpus.

class Message:
    __slots__ = ("member", "label", "corpus", "size", "sha256", "name")

    def __init__(self, member, label, corpus, size, sha256):
        self.member, self.label, self.corpus = member, label, corpus
        self.size, self.sha256 = size, sha256
        # a flat, unique file name that keeps where the message came from
        self.name = member.replace("/", "_")

    @property
    def stratum(self):
        return self.corpus + "/" + self.label


def read_labels(corpus=CORPUS):
    msgs = []
    with open(os.path.join(corpus, "labels.tsv")) as f:
        head = f.readline().rstrip("\n").split("\t")
        col = {k: i for i, k in enumerate(head)}
        for line in f:
            v = line.rstrip("\n").split("\t")
            if len(v) != len(head):
                continue
            msgs.append(Message(v[col["member"]], v[col["label"]],
                                v[col["corpus"]], int(v[col["bytes"]]),
                                v[col["sha256"]]))
    if not msgs:
        raise bl.BenchError("no messages in %s/labels.tsv" % corpus)
    return msgs


def unpack(work, corpus=CORPUS):
    """Unpack the four archives into work/corpus (never into the repo)."""
    dest = os.path.join(work, "corpus")
    os.makedirs(dest, exist_ok=True)
    for a in ARCHIVES:
        path = os.path.join(corpus, a + ".tar.zst")
        z = subprocess.Popen(["zstd", "-dcq", path], stdout=subprocess.PIPE)
        t = subprocess.run(["tar", "-x", "-C", dest], stdin=z.stdout,
                           timeout=600, capture_output=True)
        z.stdout.close()
        if z.wait(timeout=60) != 0 or t.returncode != 0:
            raise bl.BenchError("unpacking %s failed: %s" % (path, t.stderr))
    return dest


def stratified_sample(msgs, n, seed):
    """n messages (all if n <= 0 or n >= len), each stratum (corpus x
    label) in proportion, chosen by a seeded shuffle: the same set on
    every machine and for every tool."""
    strata = {}
    for m in sorted(msgs, key=lambda m: m.member):
        strata.setdefault(m.stratum, []).append(m)
    for key, ms in strata.items():
        random.Random("%s:%s" % (seed, key)).shuffle(ms)
    if n <= 0 or n >= len(msgs):
        return strata
    # largest remainder: the shares add up to exactly n
    exact = {k: len(v) * n / len(msgs) for k, v in strata.items()}
    take = {k: int(e) for k, e in exact.items()}
    for k in sorted(exact, key=lambda k: (int(exact[k]) - exact[k], k))[
            :n - sum(take.values())]:
        take[k] += 1
    return {k: v[:take[k]] for k, v in strata.items()}


def folds_of(strata, k):
    """k folds, stratified: every stratum dealt out in turn (it is shuffled
    already), so each fold holds the same mix."""
    folds = [[] for _ in range(k)]
    for key in sorted(strata):
        for i, m in enumerate(strata[key]):
            folds[i % k].append(m)
    return folds


def message_bytes(corpus_dir, m):
    """The message as an MTA's filter would see it: checked against its
    sha256, and without the mbox "From " separator TREC files begin with
    (the envelope it carries is not part of the message)."""
    with open(os.path.join(corpus_dir, m.member), "rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != m.sha256:
        raise bl.BenchError("%s: sha256 differs from labels.tsv" % m.member)
    if data.startswith(b"From "):
        nl = data.find(b"\n")
        data = data[nl + 1:] if nl >= 0 else b""
    return data


SIGNERS = ("gmail.com", "outlook.com", "example.com", "mail.example.net",
           "news.example.org")


def modern_fields(name):
    """About 3 KB of the signature and state fields mail of today carries
    on top (ARC, DKIM, a provider's own), with random hash values and
    times and a signer drawn from SIGNERS, seeded by the message's name
    (the same for spam and ham, so they say nothing of the label): how
    the filter does when a message's first kilobytes are signatures."""
    rnd = random.Random("modern-" + name)

    def b64(n):
        return base64.b64encode(rnd.randbytes(n)).decode()

    def fold(v, w=76):
        return "\r\n        ".join(v[i:i + w] for i in range(0, len(v), w))

    d = rnd.choice(SIGNERS)
    t = rnd.randrange(1600000000, 1700000000)
    h = ("h=to:subject:message-id:date:from:mime-version:from:to:cc:"
         "subject:date:message-id:reply-to")
    sig = ("a=rsa-sha256; c=relaxed/relaxed;\r\n        d=%s; s=20230601; "
           "t=%d; x=%d;\r\n        %s;\r\n        bh=%s;\r\n        b=%s")
    f = [
        "ARC-Seal: i=1; a=rsa-sha256; t=%d; cv=none;\r\n        d=google.com;"
        " s=arc-20160816;\r\n        b=%s" % (t, fold(b64(256))),
        "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; "
        "d=google.com; s=arc-20160816;\r\n        %s;\r\n        bh=%s;\r\n"
        "        b=%s" % (h, b64(32), fold(b64(256))),
        "ARC-Authentication-Results: i=1; mx.google.com;\r\n       dkim=pass "
        "header.i=@%s header.s=20230601 header.b=%s;\r\n       spf=pass "
        "smtp.mailfrom=sender@%s;\r\n       dmarc=pass header.from=%s"
        % (d, b64(6), d, d),
        "DKIM-Signature: v=1; " + sig % (d, t, t + 604800, h, b64(32),
                                         fold(b64(256))),
        "X-Google-DKIM-Signature: v=1; " + sig % ("1e100.net", t, t + 604800,
                                                  h, b64(32), fold(b64(256))),
        "X-Gm-Message-State: %s" % fold(b64(70)),
        "X-Google-Smtp-Source: %s" % fold(b64(70)),
    ]
    return ("\r\n".join(f) + "\r\n").encode()


def write_set(corpus_dir, msgs, dest, copies=1, modern=False):
    """Write msgs into dest/spam and dest/ham (copies > 1: the same files
    again under other names, hard links; modern: modern_fields() on top
    of each). Returns {file name: message}."""
    out = {}
    for lab in ("spam", "ham"):
        os.makedirs(os.path.join(dest, lab), exist_ok=True)
    for m in msgs:
        first = os.path.join(dest, m.label, m.name)
        with open(first, "wb") as f:
            if modern:
                f.write(modern_fields(m.name))
            f.write(message_bytes(corpus_dir, m))
        out[m.name] = m
        for c in range(1, copies):
            name = "r%d_%s" % (c, m.name)
            os.link(first, os.path.join(dest, m.label, name))
            out[name] = m
    return out


def files_in(dirs):
    out = []
    for d in dirs:
        out += sorted(os.path.join(d, f) for f in os.listdir(d))
    return out


# --------------------------------------------------------------------------
# A child's own CPU time (wait4), so that the harness's work is not counted.

def run_timed(cmd, stdin=None, stdout=None, timeout=600, env=None):
    """Run cmd; returns (wall seconds, CPU seconds, exit code). stdin and
    stdout are file paths (or None)."""
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    fout = open(stdout, "wb") if stdout else subprocess.DEVNULL
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=fin, stdout=fout,
                             stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                raise bl.BenchError("%s: over %d s" % (cmd[0], timeout))
            time.sleep(0.005)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err = p.stderr.read().decode(errors="replace")
        p.stderr.close()
        return wall, ru.ru_utime + ru.ru_stime, p.returncode, err
    finally:
        if stdin:
            fin.close()
        if stdout:
            fout.close()


def as_nobody(cmd):
    """SpamAssassin's tools refuse (spamd) or should not (sa-learn) run as
    root: drop to nobody when we are root."""
    if os.geteuid() != 0:
        return cmd
    return ["setpriv", "--reuid=" + NOBODY[0], "--regid=" + NOBODY[1],
            "--clear-groups"] + cmd


def give_to_nobody(path):
    if os.geteuid() != 0:
        return
    subprocess.run(["chown", "-R", "%s:%s" % NOBODY, path], check=True,
                   timeout=120)


# --------------------------------------------------------------------------
# The classifiers. Each has train(spam_dirs, ham_dirs), start() (spamd),
# score(files) ->
# {file name: (score, caught at its default threshold)} and stop().
# Scores grow with spamminess for all three.

class Bogofilter:
    name = "bogofilter"

    def __init__(self, root):
        self.db = os.path.join(root, "bogofilter")
        os.makedirs(self.db, exist_ok=True)

    @staticmethod
    def version():
        r = bl.run(["bogofilter", "-V"], check=False)
        return (r.stdout or r.stderr).split("\n")[0].strip()

    def _list(self, files):
        path = os.path.join(self.db, "list-%d" % len(files))
        with open(path, "w") as f:
            f.write("".join(p + "\n" for p in files))
        return path

    def train(self, spam_dirs, ham_dirs):
        for flag, dirs in (("-s", spam_dirs), ("-n", ham_dirs)):
            lst = self._list(files_in(dirs))
            w, c, rc, err = run_timed(["bogofilter", "-d", self.db, flag, "-b"],
                                      stdin=lst, timeout=3600)
            if rc != 0:
                raise bl.BenchError("bogofilter %s: %s" % (flag, err))

    def score(self, files, deadline=None):
        # -T: terse "file S|H|U spamicity" per message; -b: names on stdin
        lst = self._list(files)
        out = lst + ".out"
        w, c, rc, err = run_timed(["bogofilter", "-d", self.db, "-T", "-b"],
                                  stdin=lst, stdout=out, timeout=3600)
        if rc not in (0, 1, 2):
            raise bl.BenchError("bogofilter -T: %d %s" % (rc, err))
        res = {}
        with open(out) as f:
            for line in f:
                v = line.rsplit(None, 2)
                if len(v) == 3:
                    res[os.path.basename(v[0])] = (float(v[2]), v[1] == "S")
        return res

    def start(self):
        pass

    def stop(self):
        pass


class SpamAssassin:
    """SpamAssassin as Debian ships it, its Bayes trained with sa-learn
    and no network tests: a private site configuration (a copy of
    /etc/spamassassin plus zz_bench.cf) and a private spamd on a loopback
    port, asked by spamc."""
    name = "SpamAssassin"
    BENCH_CF = """# bench/filter: local tests only, Bayes from sa-learn on the folds
use_network_tests 0
dns_available no
skip_rbl_checks 1
use_razor2 0
use_pyzor 0
use_dcc 0
bayes_auto_learn 0
bayes_auto_expire 0
lock_method flock
bayes_path %s
"""

    def __init__(self, root, children=2):
        self.root = os.path.join(root, "sa")
        self.site = os.path.join(self.root, "site")
        self.home = os.path.join(self.root, "home")
        self.db = os.path.join(self.root, "bayes")
        for d in (self.site, self.home, self.db):
            os.makedirs(d, exist_ok=True)
        for f in os.listdir("/etc/spamassassin"):
            if f.endswith((".pre", ".cf")):
                shutil.copy(os.path.join("/etc/spamassassin", f), self.site)
        with open(os.path.join(self.site, "zz_bench.cf"), "w") as f:
            f.write(self.BENCH_CF % os.path.join(self.db, "bayes"))
        give_to_nobody(self.root)
        self.env = dict(os.environ, HOME=self.home)
        self.children = children
        self.proc = None
        self.port = None

    @staticmethod
    def version():
        r = bl.run(["spamassassin", "-V"], check=False)
        return r.stdout.split("\n")[0].strip()

    def learn_cmd(self, flag, dirs):
        return as_nobody(["sa-learn", "--siteconfigpath", self.site,
                          "--dbpath", self.db, flag] + list(dirs))

    def train(self, spam_dirs, ham_dirs):
        for flag, dirs in (("--spam", spam_dirs), ("--ham", ham_dirs)):
            w, c, rc, err = run_timed(self.learn_cmd(flag, dirs), timeout=3600,
                                      env=self.env)
            if rc != 0:
                raise bl.BenchError("sa-learn %s: %s" % (flag, err))

    def magic(self):
        """(nspam, nham) the Bayes database holds."""
        r = bl.run(as_nobody(["sa-learn", "--siteconfigpath", self.site,
                              "--dbpath", self.db, "--dump", "magic"]),
                   timeout=120, check=False, env=self.env)
        return {k: int(v) for v, k in re.findall(
            r"\s(\d+)\s+0\s+non-token data: (nspam|nham)", r.stdout)}

    def start(self):
        if self.proc is not None:
            return
        self.port = bl.pick_port(17830, set())
        cmd = ["spamd", "-L", "-x", "--siteconfigpath", self.site,
               "-i", "127.0.0.1", "-A", "127.0.0.1", "-p", str(self.port),
               "-m", str(self.children), "--min-children", str(self.children),
               "--min-spare", "1", "--max-spare", str(self.children),
               "--max-conn-per-child", "1000000", "--timeout-child", "300",
               "-s", "stderr"]
        if os.geteuid() == 0:
            cmd += ["-u", NOBODY[0]]
        self.log = open(os.path.join(self.root, "spamd.log"), "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log,
                                     env=self.env, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise bl.BenchError("spamd exited (%s)" % self.log.name)
            r = subprocess.run(["spamc", "-p", str(self.port), "-K"],
                               capture_output=True, timeout=30)
            if r.returncode == 0 and len(bl.children_of(self.proc.pid)) >= \
                    self.children:
                return
            time.sleep(0.5)
        raise bl.BenchError("spamd did not answer within 120 s")

    def spamc(self, path):
        """(score, caught) for one message, or None on an error."""
        cmd = ["spamc", "-x", "-c", "-s", str(SPAMC_MAX), "-t", "300",
               "-p", str(self.port)]
        with open(path, "rb") as f:
            r = subprocess.run(cmd, stdin=f, capture_output=True, timeout=330)
        m = re.match(rb"\s*(-?[0-9.]+)/(-?[0-9.]+)", r.stdout)
        if r.returncode not in (0, 1) or not m:
            return None
        return float(m.group(1)), r.returncode == 1

    def score(self, files, deadline=None):
        """Scores with as many spamc clients as spamd has children; past
        deadline (time.monotonic()) the rest stay unscored."""
        if self.proc is None:
            self.start()
        res = {}

        def one(p):
            if deadline and time.monotonic() > deadline:
                return p, None
            return p, self.spamc(p)

        with concurrent.futures.ThreadPoolExecutor(self.children + 1) as ex:
            for p, r in ex.map(one, files):
                if r is not None:
                    res[os.path.basename(p)] = r
        return res

    def cpu_seconds(self):
        """spamd's CPU: the master and its children (live and reaped)."""
        if self.proc is None:
            return 0.0
        total = 0.0
        for pid in [self.proc.pid] + bl.children_of(self.proc.pid):
            st = bl.proc_stat(pid)
            if st:
                total += st[1] + st[2]
        return total

    def stop(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        except ProcessLookupError:
            pass
        self.proc = None
        self.log.close()


def petrelctl_path():
    b = os.environ.get("PETREL_BUILD", "build")
    return os.path.join(b if os.path.isabs(b) else os.path.join(bl.ROOT, b),
                        "petrelctl")


def petrel_missing_note(petrelctl):
    shown = petrelctl
    if petrelctl.startswith(bl.ROOT + os.sep):
        shown = os.path.relpath(petrelctl, bl.ROOT)
    if not os.access(petrelctl, os.X_OK):
        return "not measured: %s is not built (make)" % shown
    return ("not measured: %s has no `filter train` / `filter score` yet"
            % shown)


def petrel_has_filter(petrelctl):
    """True if this petrelctl has `filter train` and `filter score`."""
    if not os.access(petrelctl, os.X_OK):
        return False
    r = bl.run([petrelctl, "--help"], check=False)
    text = r.stdout + r.stderr
    return bool(re.search(r"filter\s+train", text)) and \
        bool(re.search(r"filter\s+score", text))


class Petrel:
    """petrel's filter through petrelctl, with its own fresh data dir:
    `filter train --spam DIR... --ham DIR...` and `filter score --json`.
    A message is caught when its action is not "deliver"."""
    name = "petrel"

    def __init__(self, root, petrelctl, settings=()):
        self.root = os.path.join(root, "petrel")
        os.makedirs(os.path.join(self.root, "var"), exist_ok=True)
        self.ctl = petrelctl
        self.conf = os.path.join(self.root, "petrel.conf")
        keys = {"hostname": "petrel.bench.test",
                "data_dir": os.path.join(self.root, "var"),
                "log_level": "warn",
                # no network: the peers run no SPF/DKIM/DMARC or DNS checks
                "msgauth_inbound": "no"}
        for kv in settings:
            k, _, v = kv.partition("=")
            keys[k.strip()] = v.strip()
        with open(self.conf, "w") as f:
            f.write("# written by bench/filter\n")
            f.write("".join("%s = %s\n" % kv for kv in keys.items()))
        r = bl.run([self.ctl, "-c", self.conf, "init", "--domain",
                    "example.test"], timeout=300, check=False,
                   env=dict(os.environ, DEMO_PASSWORD=bl.PASSWORD))
        if r.returncode != 0:
            raise bl.BenchError("petrelctl init: %s" % (r.stderr or r.stdout))

    @staticmethod
    def version():
        return bl.run(["git", "-C", bl.ROOT, "describe", "--always", "--dirty"],
                      check=False).stdout.strip()

    def train(self, spam_dirs, ham_dirs):
        cmd = [self.ctl, "-c", self.conf, "filter", "train", "--spam"] + \
            list(spam_dirs) + ["--ham"] + list(ham_dirs)
        w, c, rc, err = run_timed(cmd, timeout=3600)
        if rc != 0:
            raise bl.BenchError("petrelctl filter train: %s" % err)

    def score_cmd(self, paths):
        # the issue measures the "enterprise" protection level
        return [self.ctl, "-c", self.conf, "filter", "score", "--json",
                "--level", "enterprise"] + list(paths)

    def score(self, paths, deadline=None):
        """paths: directories or files."""
        out = os.path.join(self.root, "score.json")
        w, c, rc, err = run_timed(self.score_cmd(paths), stdout=out,
                                  timeout=3600)
        if rc != 0:
            raise bl.BenchError("petrelctl filter score: %s" % err)
        with open(out) as f:
            doc = json.load(f)
        res = {}
        for m in doc.get("messages", []):
            if "file" in m and "score" in m:
                res[os.path.basename(m["file"])] = (
                    float(m["score"]), m.get("action", "deliver") != "deliver")
        return res

    def start(self):
        pass

    def stop(self):
        pass
