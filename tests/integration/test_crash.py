"""test_crash.py - the durability contract under SIGKILL: clients send
uniquely tagged messages while petreld is killed at a random moment and
restarted on the same data directory, several times. Every message that
got 250 must be in the store exactly once and intact, in every mailbox
it was for; nothing may be stored twice; `petrelctl store check` must be
ok after each crash (before recovery) and at the end."""

import random
import threading
import time

from petreltest import SMTPConn, make_message, split_trace

ROUNDS = 5
THREADS = 6
PER_THREAD_PER_ROUND = 60    # a cap; the kill comes first


def test_sigkill_loses_nothing_acknowledged(make_server):
    srv = make_server()
    # (petrelctl with petreld stopped: this test is about crashes only)
    srv.stop_and_check()
    boxes = [srv.add_mailbox("crash1@example.test"), srv.add_mailbox("crash2@example.test")]
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    print("crash test seed", seed)

    acked = {}        # marker -> (body, recipients)
    unsure = {}       # sent, no reply seen: may or may not be stored
    interrupted = []  # clients cut off by a kill
    lock = threading.Lock()
    progress = threading.Condition(lock)
    round_acked = [0]
    done = [0]

    def client(round_no, t, stop):
        r = random.Random(seed * 1000 + round_no * 10 + t)
        c = None
        try:
            c = SMTPConn(srv.port, timeout=15)
            c.ehlo()
            for k in range(PER_THREAD_PER_ROUND):
                if stop.is_set():
                    break
                marker = "crash-r%d-t%d-%03d-%s" % (round_no, t, k, seed)
                rcpts = boxes if r.random() < 0.3 else [r.choice(boxes)]
                size = r.choice([200, 2000, 20000, 200000])
                body = (b"%s " % marker.encode() + b"z" * 70 + b"\r\n") * (size // 100)
                msg = make_message(marker, to=rcpts[0], body=body)
                c.mail_rcpt("crash@remote.test", rcpts)
                with lock:
                    unsure[marker] = (msg, rcpts)
                if r.random() < 0.3:
                    reply = c.bdat(msg, last=True)
                else:
                    reply = c.data(msg)
                if reply.code != 250:
                    c.fail("message refused")
                with lock:
                    acked[marker] = unsure.pop(marker)
                    round_acked[0] += 1
                    progress.notify_all()
        except Exception:
            # the kill: connection reset, EOF, refused
            with lock:
                interrupted.append((round_no, t))
        finally:
            with lock:
                done[0] += 1
                progress.notify_all()
            if c is not None:
                c.close()

    deadline = time.monotonic() + 60
    for round_no in range(ROUNDS):
        srv.start(new_ports=False)
        stop = threading.Event()
        threads = [threading.Thread(target=client, args=(round_no, t, stop), daemon=True)
                   for t in range(THREADS)]
        with lock:
            round_acked[0] = 0
            done[0] = 0
        # the random moment of the crash: after a random number of
        # acknowledged messages, plus a random few milliseconds
        target = rng.randrange(1, THREADS * PER_THREAD_PER_ROUND * 3 // 4)
        for t in threads:
            t.start()
        with progress:
            progress.wait_for(lambda: round_acked[0] >= target or done[0] == THREADS,
                              timeout=30)
        time.sleep(rng.uniform(0, 0.01))
        srv.kill()
        stop.set()
        for t in threads:
            t.join(20)
        assert not any(t.is_alive() for t in threads), "client hung after the kill"
        rc, out = srv.store_check()
        assert rc == 0 and "store ok" in out, \
            "store check after SIGKILL in round %d: %s" % (round_no, out)
        assert time.monotonic() < deadline, "crash rounds took too long"

    # a clean last run: recovery done, SIGTERM, exit 0
    srv.start(new_ports=False)
    srv.stop_and_check()
    rc, out = srv.store_check()
    assert rc == 0 and "store ok" in out, out
    print("acknowledged %d, unsure %d" % (len(acked), len(unsure)))
    assert acked, "no message was acknowledged before the kills; nothing tested"
    assert interrupted, "no kill came while clients were sending; nothing tested"

    seen_in = {}
    for box in boxes:
        stored = srv.messages(box)
        seen = seen_in[box] = {}
        for m in stored:
            rp, _, rest = split_trace(m)
            marker = rest.split(b"Subject: test ", 1)[1].split(b"\r\n", 1)[0].decode()
            assert marker not in seen, "stored twice in %s: %s" % (box, marker)
            seen[marker] = rest
        for marker, (msg, rcpts) in acked.items():
            if box in rcpts:
                assert marker in seen, "acknowledged message lost in %s: %s" % (box, marker)
                assert seen[marker] == msg, "acknowledged message damaged: %s" % marker
        for marker, rest in seen.items():
            if marker in acked:
                continue
            assert marker in unsure, "stored message nobody sent: %s" % marker
            msg, rcpts = unsure[marker]
            assert box in rcpts and rest == msg, "unacknowledged message damaged: %s" % marker
    # an unacknowledged multi-recipient message is all or nothing
    for marker, (msg, rcpts) in unsure.items():
        if len(rcpts) > 1:
            present = [marker in seen_in[b] for b in rcpts]
            assert len(set(present)) == 1, "half-delivered %s: %r" % (marker, present)
