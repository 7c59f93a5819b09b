"""smtp_latency - accept latency of an SMTP server, measured at the socket.

Opens N sessions in parallel (one thread each) and sends messages over them
one transaction at a time (no PIPELINING). For every message it times the
interval from sending the final "." line (RFC 5321 section 4.1.1.4) to
receiving the complete reply, which is the time the server needs to make
the message durable before it says 250. Used by bench/smtp-inbound; can
also be run by hand:

    python3 bench/smtp_latency.py 127.0.0.1:2525 --sessions 20 --messages 50
"""

import argparse
import socket
import threading
import time


def _body(size):
    """A message of about size bytes: a few headers, then 78-char lines."""
    head = (b"From: <from@bench.test>\r\n"
            b"To: <demo@example.test>\r\n"
            b"Subject: latency probe\r\n"
            b"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
            b"Message-ID: <probe@bench.test>\r\n\r\n")
    line = b"X" * 76 + b"\r\n"
    lines = max(1, (size - len(head)) // len(line))
    return head + line * lines


class _Session:
    """One SMTP client connection speaking plain lock-step SMTP."""

    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb")

    def reply(self):
        """Read one (possibly multi-line) reply; return its 3-digit code."""
        for _ in range(1000):  # bounded: EHLO replies have a dozen lines
            line = self.rfile.readline(4096)
            if not line:
                raise ConnectionError("server closed the connection")
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3])
        raise ConnectionError("reply longer than 1000 lines")

    def cmd(self, text, want):
        self.sock.sendall(text.encode() + b"\r\n")
        code = self.reply()
        if code != want:
            raise ConnectionError("%s -> %d" % (text.split(":")[0], code))

    def close(self):
        try:
            self.sock.sendall(b"QUIT\r\n")
            self.reply()
        except OSError:
            pass
        self.rfile.close()
        self.sock.close()


def _worker(host, port, count, body, rcpt, deadline, timeout, out, lock):
    lat, errors = [], []
    try:
        s = _Session(host, port, timeout)
        try:
            if s.reply() != 220:
                raise ConnectionError("no 220 greeting")
            s.cmd("EHLO latency.bench.test", 250)
            for _ in range(count):
                if time.monotonic() > deadline:
                    break
                s.cmd("MAIL FROM:<from@bench.test>", 250)
                s.cmd("RCPT TO:<%s>" % rcpt, 250)
                s.cmd("DATA", 354)
                s.sock.sendall(body)
                t0 = time.perf_counter()
                s.sock.sendall(b".\r\n")
                code = s.reply()
                t1 = time.perf_counter()
                if code == 250:
                    lat.append(t1 - t0)
                else:
                    errors.append("end of data -> %d" % code)
        finally:
            s.close()
    except (OSError, ValueError) as e:
        errors.append(str(e))
    with lock:
        out["lat"].extend(lat)
        out["errors"].extend(errors)


def percentile(sorted_vals, p):
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1,
                   int(-(-p * len(sorted_vals) // 100)) - 1))
    return sorted_vals[k]


def measure(host, port, sessions, per_session, size=4096,
            rcpt="demo@example.test", max_seconds=20.0, timeout=30.0):
    """Run the probe; return a dict with count, errors, p50/p99/max (s)."""
    body = _body(size)
    out = {"lat": [], "errors": []}
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds
    threads = [threading.Thread(target=_worker,
                                args=(host, port, per_session, body, rcpt,
                                      deadline, timeout, out, lock),
                                daemon=True)
               for _ in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        # Bounded: each worker stops at the deadline or on its socket timeout.
        t.join(max_seconds + timeout + 5)
    lat = sorted(out["lat"])
    return {
        "sessions": sessions,
        "count": len(lat),
        "errors": len(out["errors"]),
        "first_errors": out["errors"][:5],
        "p50": percentile(lat, 50),
        "p99": percentile(lat, 99),
        "max": lat[-1] if lat else float("nan"),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("target", help="host:port")
    ap.add_argument("--sessions", type=int, default=1)
    ap.add_argument("--messages", type=int, default=200,
                    help="messages per session")
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--rcpt", default="demo@example.test")
    ap.add_argument("--max-seconds", type=float, default=20.0)
    a = ap.parse_args()
    host, _, port = a.target.rpartition(":")
    r = measure(host, int(port), a.sessions, a.messages, a.size, a.rcpt,
                a.max_seconds)
    print("sessions=%d count=%d errors=%d p50=%.2fms p99=%.2fms max=%.2fms"
          % (r["sessions"], r["count"], r["errors"], r["p50"] * 1e3,
             r["p99"] * 1e3, r["max"] * 1e3))
    for e in r["first_errors"]:
        print("error:", e)


if __name__ == "__main__":
    main()
