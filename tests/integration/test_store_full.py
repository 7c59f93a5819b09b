"""test_store_full.py - when the store cannot write, petreld answers
451 4.3.0 and loses nothing it has acknowledged. The failure is made
real with RLIMIT_FSIZE in petreld (with SIGXFSZ ignored, writes past the
limit fail with EFBIG, as on a full disk): send random, incompressible
messages until 451 4.3.0 comes; then, restarted without the limit, every
250'd message must be readable and intact, and `store check` ok."""

import base64
import os
import resource
import signal

from petreltest import SMTPConn, find_marker, make_message, split_trace, unique


def dir_max_file_size(d):
    biggest = 0
    for root, _, files in os.walk(d):
        for f in files:
            try:
                biggest = max(biggest, os.path.getsize(os.path.join(root, f)))
            except OSError:
                pass
    return biggest


def test_store_failure_answers_451_and_keeps_acknowledged(make_server):
    srv = make_server()
    # (petrelctl with petreld stopped: this test is about the store)
    srv.stop_and_check()
    mbox = srv.add_mailbox("full@example.test")
    srv.start(new_ports=False)
    # one message first, so that the store has done its first writes
    first = unique("full-first")
    with srv.connect() as c:
        c.ehlo()
        c.send_mail("f@remote.test", [mbox], make_message(first, to=mbox))
        c.quit()
    srv.stop_and_check()

    limit = dir_max_file_size(srv.data_dir) + 2 * 1024 * 1024

    def limit_file_size():
        # in the child, before exec: ignored signals stay ignored
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    srv.start(new_ports=False, preexec_fn=limit_file_size)
    acked = {first: None}
    refused = []
    outcomes = []
    with SMTPConn(srv.port, timeout=60) as c:
        c.ehlo()
        sizes = [256 * 1024] * 24 + [limit + 1024 * 1024]   # the last can never fit
        for i, size in enumerate(sizes):
            marker = unique("full%02d" % i)
            body = base64.encodebytes(os.urandom(size * 3 // 4)).replace(b"\n", b"\r\n")
            msg = make_message(marker, to=mbox, body=body)
            c.mail_rcpt("f@remote.test", [mbox])
            r = c.data(msg)
            outcomes.append(r.code)
            if r.code == 250:
                acked[marker] = msg
            elif r.is_(451, "4.3.0"):
                refused.append(marker)
                if len(refused) >= 3:
                    break
            else:
                c.fail("store failure: expected 451 4.3.0")
        c.quit()
    print("outcomes with RLIMIT_FSIZE=%d: %r" % (limit, outcomes))
    assert refused, "no 451 4.3.0 though writes past %d bytes fail: %r" % (limit, outcomes)
    srv.assert_alive()
    srv.stop_and_check()

    rc, out = srv.store_check()
    assert rc == 0 and "store ok" in out, out
    stored = srv.messages(mbox)
    for marker, msg in acked.items():
        got = find_marker(stored, marker)
        assert len(got) == 1, "acknowledged %s: found %d times" % (marker, len(got))
        if msg is not None:
            assert split_trace(got[0])[2] == msg, "acknowledged %s damaged" % marker
    for marker in refused:
        assert find_marker(stored, marker) == [], \
            "%s got 451 but is stored: the client's retry will duplicate it" % marker
    # and, without the limit, the store works again
    srv.start(new_ports=False)
    with srv.connect() as c:
        c.ehlo()
        c.send_mail("f@remote.test", [mbox], make_message(unique("full-after"), to=mbox))
        c.quit()
