"""opendkim_verify.py - run OpenDKIM's verifier (opendkim-testmsg) on a
message with DNS answered by NSD, inside a network and mount namespace of
its own: OpenDKIM's library asks only the resolvers of /etc/resolv.conf
on port 53, so the namespace gets its own loopback, its own resolv.conf
(bind-mounted over the real one, visible only inside) and NSD on
127.0.0.1:53 there. Nothing leaves the namespace.

    unshare --net --mount /usr/bin/python3 opendkim_verify.py ZONES.json MSG

ZONES.json: {origin: [[owner, type, rdata], ...]} as DnsServer takes.
Prints opendkim-testmsg's exit status and output, exits with its status.
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsserver import DnsServer  # noqa: E402


def main():
    zones_path, msg_path = sys.argv[1], sys.argv[2]
    with open(zones_path) as f:
        zones = {k: [tuple(r) for r in v] for k, v in json.load(f).items()}
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".resolv", delete=False) as r:
        r.write("nameserver 127.0.0.1\noptions attempts:1 timeout:2\n")
    subprocess.run(["mount", "--bind", r.name, "/etc/resolv.conf"], check=True)
    with DnsServer(zones=zones, servfail=(), port=53):
        with open(msg_path, "rb") as m:
            p = subprocess.run(["opendkim-testmsg"], stdin=m,
                               capture_output=True, timeout=60)
    os.unlink(r.name)
    sys.stdout.write("rc=%d\n" % p.returncode)
    sys.stdout.write(p.stdout.decode(errors="replace"))
    sys.stdout.write(p.stderr.decode(errors="replace"))
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
