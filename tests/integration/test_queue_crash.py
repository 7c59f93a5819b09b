"""test_queue_crash.py - the outbound queue under SIGKILL: messages for a
remote domain are submitted while petreld delivers them to a real SMTP
server (aiosmtpd on 127.0.0.2, found through NSD), and petreld is killed
at random moments and restarted on the same data directory. Every
message that got 250 at submission must reach the remote server at least
once; a second copy is only allowed where the remote accepted it and the
kill came before petreld committed that (decision 0019); the test prints
how many there were. The queue ends empty and `petrelctl store check` is
ok after every crash."""

import random
import smtplib
import threading
import time

import petreltest
from petreltest import DEMO, DEMO_PASSWORD, ctx_noverify, free_port
from dnsserver import DnsServer
from remotemta import RemoteMTA

ROUNDS = 3
PER_ROUND = 40


def test_sigkill_while_delivering_loses_nothing(make_server):
    port = free_port()
    with DnsServer() as dns, RemoteMTA("127.0.0.2", port, data_delay=0.01) as mx:
        srv = make_server("dns_forwarder = " + dns.forwarder,
                          "outbound_port = %d" % port,
                          "queue_retry_schedule = 1s", "dns_timeout = 5",
                          "submission_max_messages_per_hour = 100000")
        rng = random.Random()
        seed = rng.randrange(1 << 30)
        rng.seed(seed)
        print("queue crash test seed", seed)
        acked = set()
        for round_no in range(ROUNDS):
            if round_no > 0:
                srv.start(new_ports=False)
            stop = threading.Event()
            lock = threading.Lock()

            def client():
                try:
                    with smtplib.SMTP("127.0.0.1", srv.submission_port,
                                      timeout=15) as s:
                        s.starttls(context=ctx_noverify())
                        s.login(DEMO, DEMO_PASSWORD)
                        for k in range(PER_ROUND):
                            if stop.is_set():
                                return
                            marker = "qcrash-%d-%03d-%d" % (round_no, k, seed)
                            msg = ("From: <%s>\r\nTo: <x@mx.test>\r\n"
                                   "Subject: %s\r\n\r\n%s\r\n"
                                   % (DEMO, marker, marker)).encode()
                            s.sendmail(DEMO, ["x%d@mx.test" % k], msg)
                            with lock:
                                acked.add(marker)
                except (OSError, smtplib.SMTPException):
                    pass    # the kill

            t = threading.Thread(target=client, daemon=True)
            t.start()
            # kill once the remote has some of this round, mid-stream
            target = rng.randrange(3, PER_ROUND // 2)
            deadline = time.time() + 60
            while time.time() < deadline:
                with mx.lock:
                    n = sum(1 for m in mx.messages
                            if b"qcrash-%d-" % round_no in m.content)
                if n >= target:
                    break
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.02))
            srv.kill()
            stop.set()
            t.join(20)
            rc, out = srv.store_check()
            assert rc == 0 and "store ok" in out, out

        srv.start(new_ports=False)
        deadline = time.time() + 120
        while time.time() < deadline:
            if "queue is empty" in srv.ctl("queue", "list").stdout:
                break
            time.sleep(0.3)
        assert "queue is empty" in srv.ctl("queue", "list").stdout
        with mx.lock:
            got = [m.content for m in mx.messages]
        counts = {}
        for content in got:
            subj = content.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0]
            counts[subj.decode()] = counts.get(subj.decode(), 0) + 1
        missing = [mk for mk in acked if mk not in counts]
        dups = sum(c - 1 for c in counts.values() if c > 1)
        print("queue crash: acknowledged %d, delivered %d, duplicates %d"
              % (len(acked), len(counts), dups))
        assert not missing, "acknowledged but never delivered: %s" % missing[:5]
        assert acked, "nothing was acknowledged; nothing tested"
        rc, out = srv.store_check()
        assert rc == 0 and "store ok" in out, out
