"""test_concurrency.py - many sessions at once, and clients that are slow
on purpose: 200 concurrent sessions each sending a few messages (each
stored exactly once), idle and drip-feeding clients and a client that
never reads its replies, none of which may hold up the others; and swaks
as a second, independent client implementation."""

import re
import socket
import subprocess
import threading
import time

from petreltest import DEMO, SMTPConn, find_marker, make_message, split_trace, unique

SESSIONS = 200
PER_SESSION = 3


def test_200_concurrent_sessions(server):
    mbox = server.new_mailbox("conc")
    tag = unique("conc")
    barrier = threading.Barrier(SESSIONS, timeout=90)
    sent = {}
    errors = []
    lock = threading.Lock()

    def session(i):
        c = None
        try:
            c = SMTPConn(server.port, timeout=90)
            c.ehlo("client%d.petrel.test" % i)
            barrier.wait()        # all 200 are connected and past EHLO
            for j in range(PER_SESSION):
                marker = "%s-%03d-%d" % (tag, i, j)
                msg = make_message(marker, to=mbox)
                if j == 1:          # one of them pipelined, one with BDAT
                    c.send(b"MAIL FROM:<c%d@remote.test>\r\nRCPT TO:<%s>\r\nDATA\r\n"
                           % (i, mbox.encode()))
                    c.expect_reply(250)
                    c.expect_reply(250)
                    c.expect_reply(354)
                    c.send(msg + b".\r\n")
                    c.expect_reply(250, what="end of data")
                elif j == 2:
                    c.mail_rcpt("c%d@remote.test" % i, [mbox])
                    r = c.bdat(msg, last=True)
                    if r.code != 250:
                        c.fail("BDAT LAST refused")
                else:
                    c.send_mail("c%d@remote.test" % i, [mbox], msg)
                with lock:
                    sent[marker] = msg
            c.quit()
        except threading.BrokenBarrierError:
            with lock:
                errors.append((i, "barrier broken"))
        except Exception as e:
            with lock:
                errors.append((i, repr(e)[:2000]))
            barrier.abort()
        finally:
            if c is not None:
                c.close()

    threads = [threading.Thread(target=session, args=(i,), daemon=True)
               for i in range(SESSIONS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 150
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "sessions still running after 150 s"
    real = [e for e in errors if e[1] != "barrier broken"]
    assert not real, "%d sessions failed; first: %s" % (len(real), real[0])
    assert not errors, errors[:3]
    assert len(sent) == SESSIONS * PER_SESSION

    stored = server.messages_parallel(mbox)
    counts = {}
    for m in stored:
        mm = re.search(rb"Subject: test (" + tag.encode() + rb"-\d{3}-\d)\r\n", m)
        assert mm, "unexpected message in %s: %r" % (mbox, m[:200])
        counts[mm.group(1).decode()] = counts.get(mm.group(1).decode(), 0) + 1
        assert split_trace(m)[2] == sent[mm.group(1).decode()]
    dup = {k: v for k, v in counts.items() if v != 1}
    assert not dup, "stored more than once: %r" % list(dup.items())[:10]
    missing = set(sent) - set(counts)
    assert not missing, "%d accepted messages missing, e.g. %s" % (len(missing), sorted(missing)[:5])
    assert len(stored) == SESSIONS * PER_SESSION


def test_slow_clients_do_not_hold_up_others(server):
    stop = threading.Event()
    idle = [SMTPConn(server.port, greeting=False) for _ in range(20)]
    drip_errors = []

    def drip(lines, pause=0.2):
        """Send bytes one at a time, slowly, until told to stop."""
        c = None
        try:
            c = SMTPConn(server.port, timeout=30)
            c.ehlo()
            data = b"".join(lines)
            i = 0
            while not stop.is_set() and i < len(data):
                c.sock.sendall(data[i:i + 1])
                i += 1
                stop.wait(pause)
        except Exception as e:
            drip_errors.append(repr(e))
        finally:
            if c is not None:
                c.close()

    mbox = server.new_mailbox("slow")
    drips = [
        threading.Thread(target=drip, args=([b"NOOP and some more words\r\n" * 50],), daemon=True),
        threading.Thread(target=drip, args=([b"MAIL FROM:<drip@remote.test>\r\n",
                                             b"RCPT TO:<" + mbox.encode() + b">\r\n",
                                             b"DATA\r\n",
                                             b"Subject: drip\r\n\r\n" + b"x" * 2000],),
                         daemon=True),
    ]

    # a client that pipelines commands and never reads the replies
    deaf = SMTPConn(server.port, timeout=10)
    deaf.ehlo()

    def deaf_writer():
        try:
            for _ in range(400):
                deaf.sock.sendall(b"NOOP\r\n" * 2000)
        except OSError:
            pass              # server stopped reading us (timeout) or closed

    deaf_thread = threading.Thread(target=deaf_writer, daemon=True)
    for t in drips + [deaf_thread]:
        t.start()
    try:
        markers = []
        for i in range(20):
            with SMTPConn(server.port, timeout=15) as c:
                m = unique("notslow%d" % i)
                c.ehlo()
                c.send_mail("fast@remote.test", [mbox], make_message(m, to=mbox))
                c.quit()
                markers.append(m)
        # new sessions still work while all that is going on
        stored = server.messages(mbox)
        for m in markers:
            assert len(find_marker(stored, m)) == 1
    finally:
        stop.set()
        for c in idle:
            c.close()
        try:
            deaf.sock.shutdown(socket.SHUT_RDWR)   # wakes the blocked sendall
        except OSError:
            pass
        deaf_thread.join(30)
        deaf.close()
        for t in drips:
            t.join(30)
    assert not deaf_thread.is_alive()
    assert not drip_errors, drip_errors


def run_swaks(server, marker, *extra):
    p = subprocess.run(
        ["swaks", "--server", "127.0.0.1", "--port", str(server.port),
         "--to", DEMO, "--from", "swaks@remote.test", "--helo", "client.petrel.test",
         "--timeout", "20", "--header", "Subject: swaks " + marker,
         "--body", "sent by swaks " + marker] + list(extra),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    return out


def test_swaks_single_send(server):
    marker = unique("swaks")
    run_swaks(server, marker)
    got = find_marker(server.messages(DEMO), marker)
    assert len(got) == 1
    rp, _, rest = split_trace(got[0])
    assert rp == b"swaks@remote.test"
    assert b"sent by swaks " + marker.encode() in rest


def test_swaks_pipelined(server):
    marker = unique("swakspipe")
    out = run_swaks(server, marker, "--pipeline")
    assert "PIPELINING" in out
    assert len(find_marker(server.messages(DEMO), marker)) == 1


def test_many_connections_open_and_close(server):
    """Connections opened and dropped at every stage must not leak or
    wedge anything."""
    for i in range(100):
        c = SMTPConn(server.port, greeting=(i % 4 != 0))
        if i % 4 == 1:
            c.ehlo()
        elif i % 4 == 2:
            c.ehlo()
            c.send(b"MAIL FROM:<a@remote.test>\r\nRCPT TO:<%s>\r\nDATA\r\nSubject: x\r\n"
                   % DEMO.encode())
        elif i % 4 == 3:
            c.ehlo()
            c.send(b"BDAT 1000\r\npartial")
        c.close()
    with SMTPConn(server.port) as c:
        c.ehlo()
        c.send_mail("after@remote.test", [DEMO], make_message(unique("afterdrops")))
        c.quit()


def test_thousands_of_open_sessions(server):
    """2,000 connections held open at once are all greeted, and a message
    sent meanwhile on another connection is stored: idle sessions cost
    descriptors and a little memory, not service."""
    import resource
    want = 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, want + 500), hard))
    mbox = server.new_mailbox("many")
    socks = []
    try:
        for _ in range(want):
            socks.append(socket.create_connection(("127.0.0.1", server.port), timeout=30))
        greeted = 0
        for s in socks:
            if s.recv(200).startswith(b"220 "):
                greeted += 1
        assert greeted == want
        marker = unique("many")
        c = SMTPConn(server.port, timeout=30)
        c.ehlo("client.petrel.test")
        c.send_mail("a@remote.test", [mbox], make_message(marker, to=mbox))
        c.quit()
    finally:
        for s in socks:
            s.close()
    assert len(find_marker(server.messages(mbox), marker)) == 1
