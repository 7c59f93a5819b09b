"""test_dmarc_vectors.py - third-party DMARC vectors and aggregate reports
run through src/msgauth/dmarc*.c by tests/tools/dmarc-tool.

  - mailauth-dmarc-cases.yaml: each case's DNS becomes an ma_zone table, the
    call runs as `dmarc-tool eval` (verifyDmarc) or `dmarc-tool discover`
    (getDmarcRecord) and mailauth's assertions are checked against our
    result (the field mapping is MAILAUTH_FIELDS below).
  - opendmarc-parse-alignment.yaml: the record table through `dmarc-tool
    parse`, the alignment table through `dmarc-tool align`.
  - /work/shared/testdata/dmarc-reports: every aggregate report (.xml,
    .xml.gz, .xml.zip, and the .eml that carry one) is read; the valid ones must parse (and match
    Stalwart's expected JSON where there is one), the invalid ones must be
    refused with a reason; each valid one is written back as .xml.gz under
    its RFC 7489 7.2.1.1 name and must read back equal.

Cases where a suite asks for something RFC 7489 does not are listed in
DISAGREE with the reason; they are reported as skipped (and must still
disagree, so the list stays true). Nothing else is left out; the failure
(ruf=, RFC 6591), ARF and TLS-RPT samples in the same folder are other
kinds of report, not read by this code.
"""

import glob
import json
import os
import subprocess

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(REPO, os.environ.get("PETREL_BUILD", "build"))
TOOL = os.path.join(BUILD, "tests", "tools", "dmarc-tool")
DATA = os.path.join(REPO, "..", "shared", "testdata")
VECTORS = os.path.join(DATA, "dmarc-vectors")
REPORTS = os.path.join(DATA, "dmarc-reports")

RFC9989 = ("RFC 9989 (DMARCbis) behaviour; petrel implements RFC 7489, whose "
           "6.6.3 discovery uses the public suffix list, not the DNS tree walk "
           "or psd= (decision 0028)")
DISAGREE = {
    ("mailauth", "uses a record published at an intermediate label marked psd=n as the org domain"): RFC9989,
    ("mailauth", "walks every label and caps a >8-label author at 8 queries in the exact RFC sequence (§4.10)"): RFC9989,
    ("mailauth", "B.4.3: psd=y stops the walk and the org domain is one label below the PSD"): RFC9989,
    ("mailauth", "does not expose a pct property on the result"):
        "RFC 9989 makes pct historic; RFC 7489 6.3 defines pct and 6.6.4 applies it",
    ("mailauth", "Should handle invalid pct value as 0"):
        "RFC 7489 6.3: an invalid tag is discarded in favour of its default, pct=100, not 0",
    ("opendmarc", "record 5"):
        "RFC 7489 6.3 ABNF: p is exactly none / quarantine / reject; 'p=n' is invalid "
        "(OpenDMARC accepts a prefix)",
}

# Aggregate reports that must be refused, and why (the reason is checked
# to contain the word given).
INVALID_REPORTS = {
    "parsedmarc/aggregate/invalid_xml.xml": "well-formed",
    "parsedmarc/aggregate/invalid_utf_8.xml": "well-formed",
    "parsedmarc/aggregate/ikea.com!example.de!1538690400!1538776800.xml": "root element",
    "parsedmarc/aggregate_invalid/report_with_upper_cased_pass.xml": "None",
    "parsedmarc/empty.xml": "empty",
    "opendmarc/bad.com!example.com!1337140800!1337227200.xml": "policy",
}
# ikea.com: <feedback> sits inside an <xs:schema> that is never closed, so
# it is not XML at all; parsedmarc recovers with a lenient parser, we
# refuse at the root element (appendix C: the root is <feedback>).


def run(*args):
    out = subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.startswith("{") else out.stdout.strip()


def summary(name, passed, failed, skipped):
    """Print the listed disagreements, the failures and the count line."""
    for s in skipped:
        print("  disagrees with RFC 7489:", s)
    for f in failed:
        print("  FAILED:", f)
    print(f"dmarc {name}: {passed} passed, {len(failed)} failed, {len(skipped)} skipped")


# ---- mailauth ------------------------------------------------------------

def zq(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def zone_text(inp):
    lines = []
    if "dns_zone" in inp:
        for name, types in (inp["dns_zone"] or {}).items():
            for typ, vals in types.items():
                for v in vals:
                    if typ == "TXT":
                        lines.append(f"{name} TXT " + " ".join(zq(s) for s in v))
                    elif typ == "MX":
                        lines.append(f"{name} MX {v['priority']} {v['exchange']}")
                    else:
                        lines.append(f"{name} {typ} {v}")
    for key, val in (inp.get("dns_probed") or {}).items():
        name, typ = key.split(" ")
        if isinstance(val, dict):
            if val.get("error") == "ETIMEOUT":
                line = f"{name} TIMEOUT"
                if line not in lines:
                    lines.append(line)
            # ENODATA / ENOTFOUND: no record, as absent
        elif typ == "TXT":
            for v in val:
                lines.append(f"{name} TXT " + " ".join(zq(s) for s in v))
        # the probes' A/AAAA/MX answers are copies of the TXT data in one
        # case (not addresses) and never needed: left out
    return "\n".join(lines) + "\n"


def call_mailauth(call, tmp_path, i):
    inp = call["input"]
    zf = tmp_path / f"zone{i}"
    zf.write_text(zone_text(inp))
    if call["fn"] == "getDmarcRecord":
        return run("discover", str(zf), inp["domain"])
    args = ["eval", str(zf)]
    hf = inp["headerFrom"]
    if isinstance(hf, list):
        args += ["--from-header", "From: " + ", ".join(hf) + "\r\n"]
    elif "@" in hf:
        args += ["--from-header", f"From: {hf}\r\n"]
    else:
        args += ["--from", hf]
    for d in inp.get("spfDomains") or []:
        args += ["--spf", d["domain"] if isinstance(d, dict) else d]
    for d in inp.get("dkimDomains") or []:
        if isinstance(d, str):
            args += ["--dkim", d]
        elif d.get("underSized"):
            # a signature whose key is too small did not pass (RFC 8301 3.2)
            args += ["--dkim", f"{d['domain']}:weak={d['underSized']}"]
        else:
            args += ["--dkim", d["domain"]]
    if inp.get("arcResult"):
        args += ["--arc", inp["arcResult"]["status"]["result"]]
    return run(*args)


def fo_str(bits):
    return ":".join(c for b, c in ((1, "0"), (2, "1"), (4, "d"), (8, "s")) if bits & b)


def ar_comment(ar):
    return ar[ar.index("(") + 1:ar.index(")")] if "(" in ar else ""


MISSING = object()


def field(r, fn, subject):
    """Our answer for one of mailauth's subjects (MAILAUTH_FIELDS)."""
    if fn == "getDmarcRecord":
        found = r["found"] == "found"
        rec = r.get("record", {})
        if subject == "result":
            return rec if found else False
        if not found:
            return MISSING
        m = {
            "result.v": "DMARC1", "result.p": rec.get("p"), "result.adkim": rec.get("adkim"),
            "result.aspf": rec.get("aspf"), "result.pct": rec.get("pct"),
            "result.ri": rec.get("ri"), "result.fo": fo_str(rec.get("fo", 0)),
            "result.rua": ",".join(u["uri"] for u in rec.get("rua", [])),
            "result.ruf": ",".join(u["uri"] for u in rec.get("ruf", [])),
            "result.rr": r["text"], "result.isOrgRecord": r["org_record"],
            "typeof result.pct": "number", "typeof result.ri": "number",
            # unknown tags are not kept (RFC 7489 6.3: ignored)
            "result.tagonly": MISSING,
            # mailauth's quirk key; what matters is that the record parsed
            "result.false": "=value",
        }
        if subject == "result.sp":
            return rec["sp"] if rec.get("sp") != "unset" else MISSING
        return m[subject]
    if subject == "result":
        return False if r["from_rc"] != "ok" else r
    rec = r.get("record", {})
    m = {
        "result.status.result": r.get("result"),
        "result.policy": r["policy"] if r.get("have_record") else MISSING,
        "result.p": rec.get("p", MISSING), "result.pct": rec.get("pct", MISSING),
        "result.sp": rec["sp"] if rec.get("sp", "unset") != "unset" else MISSING,
        "result.alignment.dkim.strict": rec.get("adkim") == "s",
        "result.alignment.spf.strict": rec.get("aspf") == "s",
        "result.alignment.dkim.result": r.get("dkim_aligned") or MISSING,
        "result.alignment.spf.result": r.get("spf_aligned") or MISSING,
        "result.alignment.dkim.underSized": r.get("weak_key_bits") or MISSING,
        "result.domain": r.get("policy_domain") or MISSING,
        "result.rr": r.get("record_text") or MISSING,
        "result.info": r.get("auth_results", MISSING),
        "result.status.comment": ar_comment(r.get("auth_results", "")),
        "result.status.header.from": r.get("from_domain"),
        # mailauth reports the domain whose record applied as header.d
        "result.status.header.d": r.get("policy_domain") or MISSING,
        "result.error": r.get("reason", ""),
    }
    return m[subject]


def check(e, results, fn):
    subj, kind, args = e.get("subject"), e.get("assert"), e.get("args") or []
    if "must_throw_or_not_reach" in e:
        return all(r.get("found") == "temperror" for r in results)
    if subj.startswith("dns_query_sequence"):
        seq = [q.split(" ")[0] for r in results for q in r["queries"] if q.endswith(" TXT")]
        return seq == args[0]
    r = results[0]
    if subj == "result" and kind == "to.not.have.property":
        if args[0] == "policy":
            return not r.get("have_record")
        return False		# pct: see DISAGREE
    v = field(r, fn, subj)
    if kind == "to.equal":
        if subj == "result.error":
            return args[0].lower() in v.lower()	# our reason is longer
        return v is not MISSING and v == args[0]
    if kind == "to.be.false":
        return v is MISSING or v is False
    if kind == "to.be.true":
        return v is True
    if kind in ("to.not.be.ok", "to.be.undefined"):
        return v is MISSING or not v
    if kind in ("to.include", "to.contain"):
        return v is not MISSING and args[0] in v
    if kind == "to.be.a":
        return isinstance(v, str)
    if kind == "to.be.an":
        return isinstance(v, dict)
    raise AssertionError(f"unknown assertion {kind}")


def case_passes(case, tmp_path):
    results = [call_mailauth(c, tmp_path, i) for i, c in enumerate(case["calls"])]
    fn = case["calls"][0]["fn"]
    exp = case["expect"]
    if len(results) == 1:
        return all(check(e, results, fn) for e in exp)
    # Several calls: the assertions are listed in call order, so some
    # split of the list gives each call its own run of assertions; the
    # query sequence covers all calls.
    n = len(exp)
    for split in range(0, n + 1):
        ok = True
        for k, e in enumerate(exp):
            rs = results if str(e.get("subject", "")).startswith("dns_query") else \
                [results[0] if k < split else results[1]]
            if not check(e, rs, fn):
                ok = False
                break
        if ok:
            return True
    return False


def test_mailauth_vectors(tmp_path):
    data = yaml.safe_load(open(os.path.join(VECTORS, "mailauth-dmarc-cases.yaml")))
    passed, failed, skipped = 0, [], []
    for cases in data.values():
        for case in cases:
            ok = case_passes(case, tmp_path)
            why = DISAGREE.get(("mailauth", case["name"]))
            if why:
                assert not ok, f"listed as disagreeing but passes: {case['name']}"
                skipped.append(f"{case['name']}: {why}")
            elif ok:
                passed += 1
            else:
                failed.append(f"{case['suite']} > {case['name']}")
    summary("mailauth-dmarc-cases.yaml", passed, failed, skipped)
    assert not failed


# ---- OpenDMARC -----------------------------------------------------------

def opendmarc_verdict(r):
    if r["ok"]:
        return "ERROR_BAD_VALUE" if r["record"]["n_ignored"] else "OKAY"
    why = r["why"]
    if why.startswith("empty"):
        return "ERROR_EMPTY"
    if "v=DMARC1" in why:
        return "ERROR_BAD_VERSION"
    if why.startswith("no p="):
        return "ERROR_NO_REQUIRED_P"
    return "ERROR_BAD_VALUE"	# invalid p= / sp= without rua (6.6.3)


def test_opendmarc_vectors():
    data = yaml.safe_load(open(os.path.join(VECTORS, "opendmarc-parse-alignment.yaml")))
    passed, failed, skipped = 0, [], []
    for c in data["record_parse"]:
        got = opendmarc_verdict(run("parse", c["record"]))
        why = DISAGREE.get(("opendmarc", f"record {c['n']}"))
        if why:
            assert got != c["expect"]
            skipped.append(f"record {c['n']} {c['record']!r}: {why}")
        elif got == c["expect"]:
            passed += 1
        else:
            failed.append(f"record {c['n']} {c['record']!r}: want {c['expect']}, got {got}")
    for c in data["alignment"]:
        got = run("align", c["domain_a"], c["domain_b"], c["mode"])
        if got == c["expect"]:
            passed += 1
        else:
            failed.append(f"alignment {c['n']}: want {c['expect']}, got {got}")
    summary("opendmarc-parse-alignment.yaml", passed, failed, skipped)
    assert not failed


# ---- aggregate reports ---------------------------------------------------

def report_files():
    pats = ["parsedmarc/**/*.xml", "parsedmarc/**/*.xml.gz", "parsedmarc/**/*.xml.zip",
            "opendmarc/*.xml", "stalwart/dmarc-feedback/*.xml",
            # reports as rua= receives them: the attachment of an e-mail
            "parsedmarc/aggregate/*.eml", "stalwart/dmarc-feedback/*.eml"]
    files = set()
    for p in pats:
        files.update(glob.glob(os.path.join(REPORTS, p), recursive=True))
    return sorted(os.path.relpath(f, REPORTS) for f in files)


def stalwart_matches(rep, exp):
    """Compare with the values of Stalwart's expected JSON (its field
    names and capitalised enums are its own)."""
    md, pp = exp["report_metadata"], exp["policy_published"]
    if (rep["org_name"], rep["report_id"], rep["begin"], rep["end"], rep["domain"]) != \
       (md["org_name"], md["report_id"], md["date_range"]["begin"], md["date_range"]["end"],
            pp["domain"]):
        return "metadata differs"
    if rep["p"] != pp["p"].lower():
        return "p differs"
    if len(rep["records"]) != len(exp["record"]):
        return "record count differs"
    for got, want in zip(rep["records"], exp["record"]):
        row = want["row"]
        if (got["source_ip"], got["count"], got["disposition"], got["dkim"], got["spf"],
                got["header_from"]) != (
                row["source_ip"], row["count"], row["policy_evaluated"]["disposition"].lower(),
                row["policy_evaluated"]["dkim"].lower(), row["policy_evaluated"]["spf"].lower(),
                want["identifiers"]["header_from"]):
            return f"record {got['source_ip']} differs"
        wd = [(d["domain"], d["result"].lower()) for d in want["auth_results"]["dkim"]]
        if [(d["domain"], d["result"]) for d in got["dkim_results"]] != wd:
            return f"dkim results of {got['source_ip']} differ"
        ws = [(d["domain"], d["result"].lower()) for d in want["auth_results"]["spf"]]
        if [(d["domain"], d["result"]) for d in got["spf_results"]] != ws:
            return f"spf results of {got['source_ip']} differ"
    return None


def test_aggregate_reports(tmp_path):
    valid = invalid = 0
    failed = []
    for rel in report_files():
        rep = run("report", os.path.join(REPORTS, rel))
        if rel in INVALID_REPORTS:
            if rep["ok"] or INVALID_REPORTS[rel] not in rep["why"]:
                failed.append(f"{rel}: should be refused ({INVALID_REPORTS[rel]}): {rep}")
            else:
                invalid += 1
                print(f"  refused {rel}: {rep['why']}")
            continue
        if not rep["ok"]:
            failed.append(f"{rel}: {rep['why']}")
            continue
        exp_json = os.path.join(REPORTS, rel[:-4] + ".json") \
            if rel.endswith((".xml", ".eml")) else ""
        if rel.startswith("stalwart/") and os.path.exists(exp_json):
            diff = stalwart_matches(rep, json.load(open(exp_json)))
            if diff:
                failed.append(f"{rel}: {diff} from Stalwart's JSON")
                continue
        # round trip: written as .xml.gz under its 7.2.1.1 name, read back equal
        out = tmp_path / "rt"
        out.mkdir(exist_ok=True)
        w = run("regz", os.path.join(REPORTS, rel), "receiver.example", str(out))
        back = run("report", w["file"])
        name = f"receiver.example!{rep['domain']}!{rep['begin']}!{rep['end']}.xml.gz"
        if w["name"] != name:
            failed.append(f"{rel}: file name {w['name']}, want {name}")
        elif back != rep:
            failed.append(f"{rel}: written report reads back different")
        else:
            valid += 1
    print(f"  aggregate reports: {valid} valid read and written back, {invalid} invalid refused")
    summary("dmarc-reports", valid + invalid, failed, [])
    assert not failed
    assert valid >= 20 and invalid == len(INVALID_REPORTS)
