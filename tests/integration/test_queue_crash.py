"""test_queue_crash.py - the outbound queue under SIGKILL: messages for a
remote domain are submitted while petreld delivers them to a real SMTP
server (aiosmtpd on 127.0.0.2, found through NSD), and petreld is killed
at random moments and restarted on the same data directory. Every
message that got 250 at submission must reach the remote server at least
once; a second copy is only allowed where the remote accepted it and the
kill came before petreld committed that (decision 0019); the test prints
how many there were. The queue ends empty and `petrelctl store check` is
ok after every crash."""

import os
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
    with DnsServer() as dns, RemoteMTA("127.0.0.2", port, data_delay=0.005) as mx:
        srv = make_server("dns_forwarder = " + dns.forwarder,
                          "outbound_port = %d" % port,
                          "queue_retry_schedule = 1s", "dns_timeout = 5",
                          "submission_max_messages_per_hour = 100000",
                          "log_level = " + os.environ.get("PETREL_QCRASH_LEVEL", "info"))
        rng = random.Random()
        seed = rng.randrange(1 << 30)
        rng.seed(seed)
        print("queue crash test seed", seed)
        acked = set()
        kills = []
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
            kills.append(time.time())
            srv.kill()
            stop.set()
            t.join(20)
            rc, out = srv.store_check()
            assert rc == 0 and "store ok" in out, out

        srv.start(new_ports=False)
        deadline = time.time() + 120
        while time.time() < deadline:
            if "queue is empty" in srv.ctl("queue", "list").stdout.decode():
                break
            time.sleep(0.3)
        assert "queue is empty" in srv.ctl("queue", "list").stdout.decode()
        with mx.lock:
            got = [(m.content, m.at) for m in mx.messages]
        counts, first_at = {}, {}
        for content, at in got:
            subj = content.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0].decode()
            counts[subj] = counts.get(subj, 0) + 1
            first_at[subj] = min(at, first_at.get(subj, at))
        missing = [mk for mk in acked if mk not in counts]
        # A duplicate whose first copy the remote accepted after the kill
        # is RFC 1047's: all its data was sent, petreld died before the
        # reply came. One accepted before the kill was answered while
        # petreld lived: the 250 was on its way, or its commit pending.
        dups = [s_ for s_, c in counts.items() if c > 1]
        before = [s_ for s_ in dups
                  if first_at[s_] <= kills[int(s_.split("-")[1])]]
        if os.environ.get("PETREL_QCRASH_LOG"):
            with open(os.environ["PETREL_QCRASH_LOG"], "w") as f:
                f.write(srv.stderr_text(all_runs=True))
        print("queue crash: acknowledged %d, delivered %d, duplicates %d "
              "(first copy accepted before the kill: %d)"
              % (len(acked), len(counts), sum(counts[d] - 1 for d in dups),
                 len(before)))
        assert not missing, "acknowledged but never delivered: %s" % missing[:5]
        assert acked, "nothing was acknowledged; nothing tested"
        rc, out = srv.store_check()
        assert rc == 0 and "store ok" in out, out
