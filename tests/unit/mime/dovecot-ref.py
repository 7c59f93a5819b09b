#!/usr/bin/python3
"""dovecot-ref.py - record what Dovecot answers for ENVELOPE, BODY and
BODYSTRUCTURE of the MIME test messages, as the reference that
test_mime_dovecot.c compares petrel's output with.

Dovecot runs as a private imap process over a pipe (PREAUTH, no network,
no daemon), on a throw-away maildir, and exits at LOGOUT. Each message is
given with every bare LF turned into CRLF, as SMTP stores it, so sizes
agree. Usage (from the repository root, needs Debian's dovecot-imapd):

    tests/unit/mime/dovecot-ref.py > tests/unit/mime/dovecot.ref

Output: per message "M <path>\\n" then "E <n>\\n", "B <n>\\n", "S <n>\\n",
each followed by n bytes and a newline. Messages Dovecot refuses are left
out.
"""
import glob
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile

TESTDATA = "../shared/testdata"
SETS = [
    "mime-stalwart-mailparser/eml/*/*.eml",
    "mime-cpython-email/msg_*.txt",
    "mime-mimekit/messages/*.txt",
    "mime-nodemailer-mailparser/*.eml",
]
MAX_SIZE = 200_000  # keep the reference file small


def crlf(data):
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def read_item(buf, pos):
    """Read one IMAP value (list, string, literal, atom) from buf at pos."""
    if buf[pos:pos + 1] == b"(":
        depth, i = 0, pos
        while True:
            c = buf[i:i + 1]
            if c == b"(":
                depth += 1
                i += 1
            elif c == b")":
                depth -= 1
                i += 1
                if depth == 0:
                    return buf[pos:i], i
            elif c == b'"':
                i += 1
                while buf[i:i + 1] != b'"':
                    i += 2 if buf[i:i + 1] == b"\\" else 1
                i += 1
            elif c == b"{":
                j = buf.index(b"}", i)
                n = int(buf[i + 1:j])
                i = j + 3 + n
            else:
                i += 1
    raise ValueError("not a list at %d" % pos)


def main():
    files = []
    for pattern in SETS:
        files += sorted(glob.glob(os.path.join(TESTDATA, pattern)))
    tmp = tempfile.mkdtemp(prefix="petrel-dovecot-")
    try:
        nobody = pwd.getpwnam("nobody")
        for d in ("mail/cur", "mail/new", "mail/tmp", "run"):
            os.makedirs(os.path.join(tmp, d))
        conf = os.path.join(tmp, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(f"""protocols = imap
mail_location = maildir:{tmp}/mail
log_path = {tmp}/log
base_dir = {tmp}/run
ssl = no
mail_uid = nobody
mail_gid = nogroup
""")
        for root, dirs, _ in os.walk(tmp):
            for d in dirs:
                os.chown(os.path.join(root, d), nobody.pw_uid, nobody.pw_gid)
        os.chown(tmp, nobody.pw_uid, nobody.pw_gid)
        script = bytearray()
        kept = []
        for i, path in enumerate(files):
            data = open(path, "rb").read()
            if len(data) > MAX_SIZE or b"\0" in data:
                continue
            data = crlf(data)
            script += b"a%d APPEND INBOX {%d+}\r\n" % (i, len(data)) + data + b"\r\n"
            kept.append(path)
        script += b"s SELECT INBOX\r\nf FETCH 1:* (ENVELOPE BODY BODYSTRUCTURE)\r\nz LOGOUT\r\n"
        env = dict(USER="nobody", HOME=tmp, PATH="/usr/bin:/bin")
        out = subprocess.run(["/usr/lib/dovecot/imap", "-c", conf], input=bytes(script),
                             capture_output=True, env=env, timeout=120).stdout
        appended = [kept[k] for k, m in enumerate(re.finditer(rb"\r\na\d+ (OK|NO|BAD)", out))
                    if m.group(1) == b"OK"]
        res = sys.stdout.buffer
        for m in re.finditer(rb"\* (\d+) FETCH \(", out):
            seq = int(m.group(1))
            pos = m.end()
            items = {}
            for _ in range(3):
                name_end = out.index(b" ", pos)
                name = out[pos:name_end]
                val, pos = read_item(out, name_end + 1)
                items[name] = val
                if out[pos:pos + 1] == b" ":
                    pos += 1
            path = os.path.relpath(appended[seq - 1], TESTDATA)
            res.write(b"M %s\n" % path.encode())
            for tag, key in ((b"E", b"ENVELOPE"), (b"B", b"BODY"), (b"S", b"BODYSTRUCTURE")):
                res.write(b"%s %d\n" % (tag, len(items[key])) + items[key] + b"\n")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
