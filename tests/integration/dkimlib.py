"""dkimlib.py - helpers for the DKIM and ARC tests: run
build/tests/tools/dkim-tool on messages with a zone of TXT records, and
count suite cases.

  verify(msg, records, now=None, max_sigs=None) -> [(result, fields)] or
      None when the tool says the input is not a message
  sign(msg, domain, selector, key=PEM path | seed=base64 file, **opts)
      -> signed message bytes, or None when signing was refused
  Tally(suite)  .check(name, ok, detail) and .report() which prints
      "dkim <suite>: N passed, N failed" and returns the failures
"""

import os
import subprocess
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(REPO, os.environ.get("PETREL_BUILD", "build"))
TOOL = os.path.join(BUILD, "tests", "tools", "dkim-tool")
TESTDATA = os.path.join(os.path.dirname(REPO), "shared", "testdata")


def read(*parts):
    with open(os.path.join(TESTDATA, *parts), "rb") as f:
        return f.read()


def zone_text(records):
    """records: {name: txt} or [(name, txt)]; a value may be a list of
    strings (one record each)."""
    items = records.items() if isinstance(records, dict) else records
    lines = []
    for name, val in items:
        for v in val if isinstance(val, list) else [val]:
            v = v.replace("\r", "").replace("\n", "")
            v = v.replace("\\", "\\\\").replace('"', '\\"')
            lines.append('%s TXT "%s"' % (name, v))
    return "\n".join(lines) + "\n"


def _run(args):
    return subprocess.run([TOOL] + args, capture_output=True, timeout=120)


def _check(cmd, msg, records, now=None, extra=()):
    """Run a verifying command on msg with records as the zone: its
    output lines split into (word, {key: value, "reason": ...}), or None
    when the tool says msg is not a message."""
    with tempfile.TemporaryDirectory() as d:
        zpath, mpath = os.path.join(d, "zone"), os.path.join(d, "msg")
        with open(zpath, "w") as f:
            f.write(zone_text(records))
        with open(mpath, "wb") as f:
            f.write(msg)
        args = [cmd, "--zone", zpath] + list(extra)
        if now is not None:
            args += ["--now", str(now)]
        p = _run(args + [mpath])
    if p.returncode == 2 and p.stdout.startswith(b"error"):
        return None
    assert p.returncode == 0, p.stderr.decode()
    out = []
    for line in p.stdout.decode().splitlines():
        if line.startswith("unchecked="):
            out.append(("unchecked", {"n": int(line.split("=")[1])}))
            continue
        word, rest = line.split(" ", 1)
        fields, reason = rest.split(" reason=", 1)
        kv = dict(x.split("=", 1) for x in fields.split(" "))
        kv["reason"] = reason
        out.append((word, kv))
    return out


def verify(msg, records, now=None, max_sigs=None):
    extra = ["--max-sigs", str(max_sigs)] if max_sigs is not None else []
    return _check("verify", msg, records, now, extra)


def results(msg, records, **kw):
    """Just the result words of verify(), None for a malformed message."""
    r = verify(msg, records, **kw)
    return None if r is None else [x[0] for x in r]


def sign(msg, domain, selector, key=None, seed=None, t=None, x=None,
         canon=None, headers=None, identity=None):
    with tempfile.TemporaryDirectory() as d:
        mpath = os.path.join(d, "msg")
        with open(mpath, "wb") as f:
            f.write(msg)
        args = ["sign", "--domain", domain, "--selector", selector]
        args += ["--key", key] if key else ["--seed", seed]
        for flag, v in (("--t", t), ("--x", x), ("--canon", canon),
                        ("--headers", headers), ("--identity", identity)):
            if v is not None:
                args += [flag, str(v)]
        p = _run(args + [mpath])
    if p.returncode == 1:
        return None
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout


def arc_verify(msg, records, now=None):
    """(cv, fields) from dkim-tool arc-verify; None for a non-message."""
    r = _check("arc-verify", msg, records, now)
    return None if r is None else r[0]


def arc_seal(msg, domain, selector, cv, aar, key=None, seed=None, t=None, headers=None):
    """The sealed message, or None when the chain has ended (exit 3)."""
    with tempfile.TemporaryDirectory() as d:
        mpath, apath = os.path.join(d, "msg"), os.path.join(d, "aar")
        with open(mpath, "wb") as f:
            f.write(msg)
        with open(apath, "w") as f:
            f.write(aar)
        args = ["arc-seal", "--domain", domain, "--selector", selector, "--cv", cv,
                "--aar-file", apath]
        args += ["--key", key] if key else ["--seed", seed]
        if t is not None:
            args += ["--t", str(t)]
        if headers is not None:
            args += ["--headers", headers]
        p = _run(args + [mpath])
    if p.returncode == 3:
        return None
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout


def canon(kind, what, data):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "in")
        with open(path, "wb") as f:
            f.write(data)
        p = _run(["canon-" + kind, what, path])
    assert p.returncode == 0
    return p.stdout


def pem_body(pem):
    return "".join(l for l in pem.decode().splitlines() if not l.startswith("-----"))


class Tally:
    def __init__(self, suite, prefix="dkim"):
        self.suite, self.prefix = suite, prefix
        self.passed, self.failed = 0, []

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed.append("%s: %s" % (name, detail))

    def report(self):
        print("%s %s: %d passed, %d failed" % (self.prefix, self.suite, self.passed,
                                              len(self.failed)))
        for f in self.failed:
            print("  FAILED " + f)
        return self.failed
