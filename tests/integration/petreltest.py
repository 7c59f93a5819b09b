"""petreltest - helpers for petrel's integration tests.

Starts a real petreld on free loopback ports with its own temporary data
directory (class Petrel), talks SMTP to it byte by byte (class SMTPConn,
which records the dialogue for assertion messages and checks every reply
line for an RFC 2034 enhanced status code), reads the store back through
petrelctl, and reads the shared third-party test data (a small reader for
the flow-style YAML files in ../shared/testdata).
"""

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_TESTDATA = os.path.join(os.path.dirname(REPO), "shared", "testdata")

HOSTNAME = "mx.petrel.test"
DEMO = "demo@example.test"
DEMO_PASSWORD = "Demo-Passw0rd-for-tests"

# Seconds. Sanitizer builds start and run several times slower.
START_TIMEOUT = float(os.environ.get("PETREL_START_TIMEOUT", "30"))
STOP_TIMEOUT = float(os.environ.get("PETREL_STOP_TIMEOUT", "30"))
NET_TIMEOUT = float(os.environ.get("PETREL_NET_TIMEOUT", "20"))
CTL_TIMEOUT = 60

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                     "ThreadSanitizer")

# Servers started and not yet stopped; conftest shows their stderr when a
# test fails.
LIVE = set()
_LIVE_LOCK = threading.Lock()


def build_dir():
    b = os.environ.get("PETREL_BUILD", "build")
    return b if os.path.isabs(b) else os.path.join(REPO, b)


def binary(name):
    path = os.path.join(build_dir(), name)
    if not os.access(path, os.X_OK):
        raise RuntimeError("%s not found: run `make` in %s (PETREL_BUILD=%s)"
                           % (path, REPO, os.environ.get("PETREL_BUILD", "build")))
    return path


_SANITIZED = {}


def sanitized_build():
    """True if petreld is built with ASan/UBSan (make test-asan)."""
    path = binary("petreld")
    if path not in _SANITIZED:
        with open(path, "rb") as f:
            data = f.read()
        _SANITIZED[path] = b"__asan_init" in data or b"__ubsan_handle" in data
    return _SANITIZED[path]


def chroot_setting():
    """LeakSanitizer reads /proc/PID/task at exit, which a chroot into the
    data dir hides ("LeakSanitizer has encountered a fatal error"); so the
    sanitizer build runs without chroot and the plain build (the same
    tests) covers the chroot. PETREL_TEST_CHROOT=yes|no overrides."""
    v = os.environ.get("PETREL_TEST_CHROOT")
    if v in ("yes", "no"):
        return v
    return "no" if sanitized_build() else None


# A loopback port nothing listens on (a low one that needs root to bind,
# which the tests never do).
DEAD_PORT = 9


_GIVEN_PORTS = set()


def free_port():
    """A loopback port free now and not handed out before in this run:
    the kernel may offer a just-closed port again, and two listeners of
    one server on the same port would both bind it (SO_REUSEPORT)."""
    for _ in range(1000):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _GIVEN_PORTS:
            _GIVEN_PORTS.add(port)
            return port
    raise RuntimeError("no fresh loopback port")


def make_base_dir(prefix="petrel-it-"):
    """A temporary directory outside pytest's 0700 tmp tree, mode 0755."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return d


# ---------------------------------------------------------------- petreld

class PetrelError(Exception):
    pass


class Petrel:
    """One petreld: config file, data dir, process, stdout lines, stderr file.

    extra_conf: further "key = value" lines for petrel.conf.
    env: extra environment; DEMO_PASSWORD is set unless env gives it None.
    """

    def __init__(self, extra_conf=(), env=None, smtps=True, base=None, args=(),
                 name="petreld"):
        self.base = base or make_base_dir()
        self.own_base = base is None
        self.data_dir = os.path.join(self.base, "data")
        self.conf = os.path.join(self.base, "petrel.conf")
        self.extra_conf = list(extra_conf)
        self.want_smtps = smtps
        self.env = dict(env or {})
        self.args = list(args)
        self.name = name
        self.proc = None
        self.port = None
        self.smtps_port = None
        self.pop3_port = None
        self.pop3s_port = None
        self.imap_port = None
        self.imaps_port = None
        self.submission_port = None
        self.submissions_port = None
        self.admin_port = None
        self.autoconfig_port = None
        self.autoconfig_http_port = None
        self.starts = 0
        self.stdout_lines = []
        self.stderr_path = None
        self.stderr_paths = []
        self._ready = threading.Event()
        self._reader = None
        self._mailbox_seq = 0

    # -- config

    def write_conf(self):
        self.port = free_port()
        self.smtps_port = free_port() if self.want_smtps else None
        self.pop3_port = free_port()
        self.pop3s_port = free_port()
        self.imap_port = free_port()
        self.imaps_port = free_port()
        self.submission_port = free_port()
        self.submissions_port = free_port()
        self.admin_port = free_port()
        self.autoconfig_port = free_port()
        self.autoconfig_http_port = free_port()
        lines = [
            "# written by tests/integration/petreltest.py",
            "hostname = %s" % HOSTNAME,
            "data_dir = %s" % self.data_dir,
            "workers = 2",
            "log_level = info",
            "listen_smtp = 127.0.0.1:%d" % self.port,
            "listen_smtps = %s" % ("127.0.0.1:%d" % self.smtps_port
                                   if self.smtps_port else ""),
            "listen_pop3 = 127.0.0.1:%d" % self.pop3_port,
            "listen_pop3s = 127.0.0.1:%d" % self.pop3s_port,
            "listen_imap = 127.0.0.1:%d" % self.imap_port,
            "listen_imaps = 127.0.0.1:%d" % self.imaps_port,
            "listen_submission = 127.0.0.1:%d" % self.submission_port,
            "listen_submissions = 127.0.0.1:%d" % self.submissions_port,
            # Tests talk only to loopback: the queue's resolver asks a
            # port where nothing answers (a query fails at once, so
            # remote mail stays deferred) unless a test sets its own
            # (tests/integration/dnsserver.py), and remote SMTP goes to
            # a port nothing listens on.
            "dns_forwarder = 127.0.0.1@%d" % DEAD_PORT,
            "dns_timeout = 5",
            "outbound_port = %d" % DEAD_PORT,
            "listen_admin = 127.0.0.1:%d" % self.admin_port,
            # the public autoconfig listeners (test_autoconfig.py)
            "listen_autoconfig = 127.0.0.1:%d" % self.autoconfig_port,
            "listen_autoconfig_http = 127.0.0.1:%d" % self.autoconfig_http_port,
            # Stored messages are compared byte for byte with what was
            # sent (split_trace): no Authentication-Results unless a test
            # turns the checks on (test_msgauth.py does, with its own DNS),
            # and no X-Spam fields unless a test turns the filter on
            # (test_filter*.py).
            "msgauth_inbound = no",
            "dkim_sign = no",
            "filter = no",
        ]
        if chroot_setting():
            lines.append("chroot = %s" % chroot_setting())
        lines += self.extra_conf
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def environ(self):
        e = dict(os.environ)
        e["DEMO_PASSWORD"] = DEMO_PASSWORD
        for k, v in self.env.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return e

    # -- process

    def start(self, preexec_fn=None, new_ports=None, timeout=START_TIMEOUT):
        """Start petreld and wait for "petreld ready". Retries on a port
        clash (free_port() is racy) when the ports are new."""
        if new_ports is None:
            new_ports = self.port is None
        for attempt in range(3):
            if new_ports:
                self.write_conf()
            try:
                self._start_once(preexec_fn, timeout)
                return self
            except PetrelError as e:
                text = self.stderr_text()
                if new_ports and attempt < 2 and "in use" in text:
                    continue
                raise PetrelError("%s\n--- petreld stderr ---\n%s" % (e, tail(text)))
        raise PetrelError("unreachable")

    def _start_once(self, preexec_fn, timeout):
        assert self.proc is None, "already running"
        self.starts += 1
        self.stderr_path = os.path.join(self.base, "%s-stderr-%d.log" % (self.name, self.starts))
        self.stderr_paths.append(self.stderr_path)
        self._ready = threading.Event()
        self.stdout_lines = []
        errf = open(self.stderr_path, "wb")
        try:
            self.proc = subprocess.Popen(
                [binary("petreld"), "-c", self.conf] + self.args,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errf,
                env=self.environ(), cwd=self.base, preexec_fn=preexec_fn)
        finally:
            errf.close()
        with _LIVE_LOCK:
            LIVE.add(self)
        proc, lines, ready = self.proc, self.stdout_lines, self._ready

        def read_stdout():
            # Drains stdout for the life of the process so that it can never
            # block on a full pipe.
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                lines.append(line)
                if line.strip() == "petreld ready":
                    ready.set()
            proc.stdout.close()
            ready.set()  # EOF: wake the waiter, who looks at proc

        self._reader = threading.Thread(target=read_stdout, daemon=True)
        self._reader.start()
        if not self._ready.wait(timeout):
            self.kill()
            raise PetrelError("petreld did not print 'petreld ready' within %gs"
                              % timeout)
        if "petreld ready" not in [l.strip() for l in self.stdout_lines]:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
            self._forget()
            raise PetrelError("petreld exited with status %s before it was ready"
                              "; stdout: %r" % (rc, self.stdout_lines))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def pid(self):
        return self.proc.pid

    def _forget(self):
        if self._reader is not None:
            self._reader.join(timeout=5)
        self.proc = None
        with _LIVE_LOCK:
            LIVE.discard(self)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Signal petreld and wait; returns the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
            self._forget()
            raise PetrelError("petreld did not exit within %gs of signal %d"
                              % (timeout, sig))
        self._forget()
        return rc

    def kill(self):
        """SIGKILL, as a crash."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        rc = self.proc.wait(timeout=STOP_TIMEOUT)
        self._forget()
        return rc

    def stop_and_check(self):
        """SIGTERM; fail unless exit status 0 and no sanitizer report."""
        rc = self.stop()
        problems = self.sanitizer_reports()
        if problems:
            raise PetrelError("sanitizer report in petreld stderr:\n%s"
                              % tail(problems, 200))
        if rc != 0:
            raise PetrelError("petreld exited with status %s after SIGTERM\n"
                              "--- petreld stderr ---\n%s" % (rc, tail(self.stderr_text())))

    def cleanup(self):
        if self.proc is not None:
            self.kill()
        if self.own_base and not os.environ.get("PETREL_KEEP"):
            shutil.rmtree(self.base, ignore_errors=True)

    # -- logs

    def stderr_text(self, all_runs=False):
        out = []
        for p in (self.stderr_paths if all_runs else self.stderr_paths[-1:]):
            try:
                with open(p, "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "".join(out)

    def sanitizer_reports(self):
        text = self.stderr_text(all_runs=True)
        if any(m in text for m in SANITIZER_MARKERS):
            return text
        return ""

    def assert_alive(self):
        if not self.running():
            rc = self.proc.returncode if self.proc is not None else None
            raise AssertionError("petreld is not running (exit status %s)\n"
                                 "--- petreld stderr ---\n%s"
                                 % (rc, tail(self.stderr_text())))
        problems = self.sanitizer_reports()
        if problems:
            raise AssertionError("sanitizer report in petreld stderr:\n%s"
                                 % tail(problems, 200))

    # -- petrelctl and the store

    def ctl(self, *args, input=None, check=True, timeout=CTL_TIMEOUT):
        """Run petrelctl with this server's config; returns CompletedProcess
        (stdout/stderr as bytes). check: raise unless exit status 0."""
        cmd = [binary("petrelctl"), "-c", self.conf] + [str(a) for a in args]
        p = subprocess.run(cmd, input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=self.environ(),
                           cwd=self.base, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("%s -> exit %d\nstdout: %r\nstderr: %r"
                                 % (" ".join(cmd[1:]), p.returncode,
                                    p.stdout[-2000:], p.stderr[-2000:]))
        return p

    def add_mailbox(self, address, quota=None):
        args = ["mailbox", "add", address, "--password-stdin"]
        if quota is not None:
            args += ["--quota", str(quota)]
        self.ctl(*args, input=b"Secret-pass-123\n")
        return address

    def new_mailbox(self, prefix="user", quota=None):
        """A mailbox no other test uses: <prefix><n>-<random>@example.test."""
        self._mailbox_seq += 1
        addr = "%s%d-%s@example.test" % (prefix, self._mailbox_seq,
                                         os.urandom(3).hex())
        return self.add_mailbox(addr, quota)

    def message_list(self, address, folder="INBOX"):
        """[(uid, size), ...] from `petrelctl message list`."""
        out = self.ctl("message", "list", address, folder).stdout.decode()
        rows = []
        for line in out.splitlines():
            f = line.split()
            if not f:
                continue
            rows.append((int(f[0]), int(f[1])))
        return rows

    def message_cat(self, address, folder, uid):
        return self.ctl("message", "cat", address, folder, uid).stdout

    def messages(self, address, folder="INBOX"):
        """Every stored message of a folder, as bytes, in UID order."""
        return [self.message_cat(address, folder, uid)
                for uid, _ in self.message_list(address, folder)]

    def messages_parallel(self, address, folder="INBOX", threads=4):
        from concurrent.futures import ThreadPoolExecutor
        uids = [uid for uid, _ in self.message_list(address, folder)]
        with ThreadPoolExecutor(threads) as ex:
            return list(ex.map(lambda u: self.message_cat(address, folder, u), uids))

    def mailbox_used(self, address):
        out = self.ctl("mailbox", "list").stdout.decode()
        for line in out.splitlines():
            f = line.split()
            if f and f[0].lower() == address.lower():
                return int(f[2])
        raise AssertionError("mailbox %s not in `mailbox list`: %r" % (address, out))

    def store_check(self):
        p = self.ctl("store", "check", check=False)
        return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")

    # -- clients

    def connect(self, **kw):
        return SMTPConn(self.port, **kw)

    def connect_tls(self, **kw):
        return SMTPConn(self.smtps_port, implicit_tls=True, **kw)

    def smtplib(self, timeout=NET_TIMEOUT):
        import smtplib
        return smtplib.SMTP("127.0.0.1", self.port, local_hostname="client.petrel.test",
                            timeout=timeout)


def finish(srv):
    """Teardown: SIGTERM, exit status 0, no sanitizer report; then remove
    the data directory."""
    try:
        if srv.proc is not None:
            srv.stop_and_check()
        else:
            problems = srv.sanitizer_reports()
            if problems:
                raise PetrelError("sanitizer report in petreld stderr:\n"
                                  + tail(problems, 200))
    finally:
        srv.cleanup()


def running(*extra_conf, **kw):
    """Generator for module-scoped fixtures: a started Petrel, finished at
    the end."""
    srv = Petrel(extra_conf=extra_conf, **kw)
    try:
        srv.start()
    except BaseException:
        srv.cleanup()
        raise
    yield srv
    finish(srv)


def tail(text, n=120):
    lines = text.splitlines()
    return "\n".join(lines[-n:])


def recv_all(sock):
    """Everything the peer sends until it closes (within the socket's
    timeout)."""
    got = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return got
        got += chunk


# ---------------------------------------------------------------- SMTP

# RFC 2034 / RFC 3463: "class.subject.detail", class matching the reply.
ESC_RE = re.compile(rb"^([245])\d\d[ -]([245])\.(\d{1,3})\.(\d{1,3})(?: |$)")
REPLY_RE = re.compile(rb"^(\d{3})([ -])(.*)$", re.S)


class Reply:
    def __init__(self, lines):
        self.raw = lines                      # [b"250-...", b"250 ..."]
        self.code = int(lines[0][:3])
        self.texts = [l[4:].decode("utf-8", "replace") for l in lines]

    @property
    def text(self):
        return "\n".join(self.texts)

    @property
    def esc(self):
        m = ESC_RE.match(self.raw[-1])
        return m.group(0)[4:].decode().strip() if m else None

    def is_(self, code, esc=None):
        return self.code == code and (esc is None or self.esc == esc)

    def __repr__(self):
        return "<%s>" % " | ".join(l.decode("utf-8", "replace") for l in self.raw)


class ProtocolError(AssertionError):
    pass


def ctx_noverify(min_version=None, max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


class SMTPConn:
    """A byte-level SMTP client that records the dialogue.

    check_esc: assert that every reply except the 220 greeting, EHLO/HELO
    replies and 3xx carries an enhanced status code whose class matches.
    """

    def __init__(self, port, host="127.0.0.1", timeout=NET_TIMEOUT,
                 implicit_tls=False, check_esc=True, greeting=True):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.log = []
        self.check_esc = check_esc
        self.tls = False
        self.eof = False
        if implicit_tls:
            self._wrap()
        self.banner = self.greeting() if greeting else None

    # -- transcript

    def _note(self, who, data):
        self.log.append((who, bytes(data)))

    def dialogue(self, limit=6000):
        out = []
        for who, data in self.log:
            s = data.decode("utf-8", "backslashreplace")
            if len(s) > 300:
                s = s[:200] + "...[%d bytes]..." % len(s) + s[-80:]
            s = s.replace("\r", "\\r").replace("\0", "\\0")
            for line in s.split("\n"):
                if line:
                    out.append("%s: %s" % (who, line))
        text = "\n".join(out)
        if len(text) > limit:
            text = "...\n" + text[-limit:]
        return "--- dialogue ---\n" + text

    def fail(self, msg):
        raise ProtocolError("%s\n%s" % (msg, self.dialogue()))

    # -- bytes

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._note("C", data)
        self.sock.sendall(data)

    def send_slowly(self, data, pause=0.001):
        """One byte per write, so that server reads split everywhere."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._note("C", data)
        for i in range(len(data)):
            self.sock.sendall(data[i:i + 1])
            time.sleep(pause)

    def _fill(self, timeout=None):
        self.sock.settimeout(self.timeout if timeout is None else timeout)
        try:
            chunk = self.sock.recv(65536)
        except ssl.SSLError as e:
            if "EOF" in str(e) or "shutdown" in str(e):
                chunk = b""
            else:
                raise
        if not chunk:
            self.eof = True
            raise EOFError("connection closed by server")
        self.buf += chunk

    def readline(self, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                self._note("S", line + b"\r\n")
                return line
            if len(self.buf) > 1 << 20:
                self.fail("reply line longer than 1 MiB")
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no complete reply line within timeout")
            self._fill(left)

    def reply(self, timeout=None, check_esc=None, exempt=False):
        """Read one (possibly multi-line) reply."""
        lines = []
        while True:
            try:
                line = self.readline(timeout)
            except EOFError:
                if lines:
                    self.fail("connection closed in the middle of a reply")
                raise
            except socket.timeout:
                self.fail("timed out waiting for a reply")
            m = REPLY_RE.match(line)
            if not m:
                self.fail("malformed reply line %r" % line)
            if lines and line[:3] != lines[0][:3]:
                self.fail("reply code changed inside a multi-line reply: %r" % line)
            lines.append(line)
            if m.group(2) == b" ":
                break
            if len(lines) > 1000:
                self.fail("reply with more than 1000 lines")
        r = Reply(lines)
        check = self.check_esc if check_esc is None else check_esc
        if check and not exempt and r.code // 100 in (2, 4, 5):
            for l in lines:
                m = ESC_RE.match(l)
                if not m or m.group(1) != m.group(2):
                    self.fail("reply line without a matching enhanced status "
                              "code (RFC 2034): %r" % l)
        return r

    def greeting(self):
        r = self.reply(exempt=True)
        if r.code != 220:
            # A refusal (421, 554) is an ordinary reply and needs its code.
            for l in r.raw:
                if self.check_esc and not ESC_RE.match(l):
                    self.fail("greeting refusal without enhanced status code")
        return r

    def cmd(self, line, **kw):
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send(line + b"\r\n")
        return self.reply(**kw)

    def expect(self, line, code, esc=None, **kw):
        r = self.cmd(line, **kw)
        if r.code != code or (esc is not None and r.esc != esc):
            self.fail("%r: expected %d%s, got %r"
                      % (line, code, " " + esc if esc else "", r))
        return r

    def expect_reply(self, code, esc=None, what="", **kw):
        r = self.reply(**kw)
        if r.code != code or (esc is not None and r.esc != esc):
            self.fail("%s: expected %d%s, got %r"
                      % (what or "reply", code, " " + esc if esc else "", r))
        return r

    def ehlo(self, name="client.petrel.test"):
        r = self.cmd("EHLO " + name, exempt=True)
        if r.code != 250:
            self.fail("EHLO refused: %r" % r)
        self.features = {}
        for t in r.texts[1:]:
            parts = t.split(None, 1)
            if parts:
                self.features[parts[0].upper()] = parts[1] if len(parts) > 1 else ""
        return r

    def helo(self, name="client.petrel.test"):
        return self.cmd("HELO " + name, exempt=True)

    def _wrap(self, ctx=None):
        ctx = ctx or ctx_noverify()
        self.sock.settimeout(self.timeout)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=HOSTNAME)
        self.tls = True

    def starttls(self, ctx=None):
        r = self.expect("STARTTLS", 220)
        if self.buf:
            self.fail("bytes after the 220 to STARTTLS in the clear: %r" % bytes(self.buf))
        self._wrap(ctx)
        return r

    def expect_eof(self, timeout=None):
        """True if the server closes the connection (EOF or reset) within the
        timeout without sending anything more."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            if self.buf:
                self.fail("expected the connection to close, got %r" % bytes(self.buf))
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail("connection still open after %gs" % (timeout or self.timeout))
            try:
                self._fill(left)
            except EOFError:
                return True
            except (ConnectionResetError, BrokenPipeError):
                self.eof = True
                return True
            except socket.timeout:
                continue

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def quit(self):
        try:
            self.expect("QUIT", 221)
        finally:
            self.close()

    # -- transactions

    def mail_rcpt(self, sender, rcpts, params=""):
        self.expect("MAIL FROM:<%s>%s" % (sender, " " + params if params else ""), 250)
        for r in rcpts:
            self.expect("RCPT TO:<%s>" % r, 250)

    def data(self, body, stuff=True):
        """DATA with body (bytes, CRLF lines); dot-stuffs unless told not to;
        appends CRLF if the body does not end with one. Returns the reply
        to the end of data."""
        self.expect("DATA", 354)
        wire = dot_stuff(body) if stuff else body
        if wire and not wire.endswith(b"\r\n"):
            wire += b"\r\n"
        self.send(wire + b".\r\n")
        return self.reply()

    def send_mail(self, sender, rcpts, body, params=""):
        self.mail_rcpt(sender, rcpts, params)
        r = self.data(body)
        if r.code != 250:
            self.fail("message refused: %r" % r)
        return r

    def bdat(self, chunk, last=False):
        self.send(b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"") + chunk)
        return self.reply()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def dot_stuff(body):
    if body.startswith(b"."):
        body = b"." + body
    return body.replace(b"\r\n.", b"\r\n..")


# ---------------------------------------------------------------- messages

def make_message(marker, sender="sender@remote.test", to=DEMO, body=None,
                 extra_headers=b""):
    """A small RFC 5322 message with CRLF line ends, identified by marker."""
    if isinstance(marker, str):
        marker = marker.encode()
    if body is None:
        body = b"This is test message " + marker + b".\r\nSecond line.\r\n"
    return (b"From: <" + sender.encode() + b">\r\n"
            b"To: <" + to.encode() + b">\r\n"
            b"Subject: test " + marker + b"\r\n"
            b"Message-ID: <" + marker + b"@client.petrel.test>\r\n"
            + extra_headers +
            b"\r\n" + body)


def unique(prefix="m"):
    return "%s-%s" % (prefix, os.urandom(8).hex())


TRACE_RP = re.compile(rb"^Return-Path: <([^>\r\n]*)>\r\n")


def split_trace(stored):
    """Split a stored message into (return_path, received_header, rest).

    petreld puts "Return-Path: <sender>" and one "Received:" header (possibly
    folded) above the message it got. Raises AssertionError if not."""
    m = TRACE_RP.match(stored)
    if not m:
        raise AssertionError("stored message does not start with "
                             "'Return-Path: <...>\\r\\n': %r" % stored[:200])
    rest = stored[m.end():]
    if not rest.startswith(b"Received: "):
        raise AssertionError("no 'Received:' header after Return-Path: %r"
                             % stored[:300])
    pos = 0
    while True:
        e = rest.find(b"\r\n", pos)
        if e < 0:
            raise AssertionError("unterminated Received header: %r" % rest[:300])
        pos = e + 2
        if rest[pos:pos + 1] not in (b" ", b"\t"):
            break
    received = rest[:pos]
    if b"\n" in received.replace(b"\r\n", b"") or b"\r" in received.replace(b"\r\n", b""):
        raise AssertionError("bare CR or LF in Received header: %r" % received)
    return m.group(1), received, rest[pos:]


def find_marker(msgs, marker):
    if isinstance(marker, str):
        marker = marker.encode()
    return [m for m in msgs if marker in m]


# ---------------------------------------------------------------- test data

def shared_data(*parts):
    return os.path.join(SHARED_TESTDATA, *parts)


_ESCAPES = {"r": "\r", "n": "\n", "t": "\t", "0": "\0", '"': '"', "\\": "\\",
            "/": "/", "a": "\a", "b": "\b", "e": "\x1b", " ": " ", "f": "\f",
            "v": "\v"}


class _Flow:
    """Parser for one YAML flow node: {k: v, ...}, [a, b], "double quoted"
    (with the escapes the testdata files use), 'single quoted', or a plain
    scalar (ints become int)."""

    def __init__(self, text):
        self.s = text
        self.i = 0

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def node(self):
        self.ws()
        c = self.s[self.i]
        if c == "{":
            return self.mapping()
        if c == "[":
            return self.seq()
        if c == '"':
            return self.dq()
        if c == "'":
            return self.sq()
        return self.plain()

    def mapping(self):
        self.i += 1
        out = {}
        while True:
            self.ws()
            if self.s[self.i] == "}":
                self.i += 1
                return out
            key = self.plain(stop=":")
            self.ws()
            if self.s[self.i] != ":":
                raise ValueError("expected ':' at %d in %r" % (self.i, self.s))
            self.i += 1
            out[key] = self.node()
            self.ws()
            if self.s[self.i] == ",":
                self.i += 1

    def seq(self):
        self.i += 1
        out = []
        while True:
            self.ws()
            if self.s[self.i] == "]":
                self.i += 1
                return out
            out.append(self.node())
            self.ws()
            if self.s[self.i] == ",":
                self.i += 1

    def dq(self):
        self.i += 1
        out = []
        while True:
            c = self.s[self.i]
            if c == '"':
                self.i += 1
                return "".join(out)
            if c == "\\":
                n = self.s[self.i + 1]
                if n == "x":
                    out.append(chr(int(self.s[self.i + 2:self.i + 4], 16)))
                    self.i += 4
                    continue
                if n not in _ESCAPES:
                    raise ValueError("unsupported escape \\%s in %r" % (n, self.s))
                out.append(_ESCAPES[n])
                self.i += 2
                continue
            out.append(c)
            self.i += 1

    def sq(self):
        self.i += 1
        out = []
        while True:
            c = self.s[self.i]
            if c == "'":
                if self.s[self.i + 1:self.i + 2] == "'":
                    out.append("'")
                    self.i += 2
                    continue
                self.i += 1
                return "".join(out)
            out.append(c)
            self.i += 1

    def plain(self, stop=""):
        j = self.i
        while self.i < len(self.s) and self.s[self.i] not in ",}]" + stop:
            self.i += 1
        v = self.s[j:self.i].strip()
        return int(v) if re.fullmatch(r"-?\d+", v) else v


def load_flow_list(path, section):
    """The items of a top-level block sequence `section:` whose entries are
    each one line "  - {flow mapping}". Enough for relay-tests.yaml and
    eod-variants.yaml; anything else in the file is skipped."""
    items = []
    cur = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            if not line[0].isspace():
                cur = line.split(":", 1)[0].strip()
                continue
            if cur != section:
                continue
            s = line.strip()
            if s.startswith("- {"):
                items.append(_Flow(s[2:]).node())
    if not items:
        raise ValueError("no items in section %r of %s" % (section, path))
    return items


# ---------------------------------------------------------------- clients

def tls_ctx():
    """A client TLS context that accepts the server's self-signed certificate."""
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def run_fetchmail(server, protocol, port, user, password, tmp_path, extra=""):
    """Run fetchmail once against server (STARTTLS/STLS, verifying the
    server's own certificate and name), keeping the mail on the server;
    returns what its MDA received."""
    import os
    import subprocess
    out = tmp_path / "mbox"
    rc = tmp_path / "fetchmailrc"
    rc.write_text(
        "poll 127.0.0.1 service %d protocol %s %s\n"
        "  user \"%s\" password \"%s\"\n"
        "  sslproto tls1.2+ sslcertck sslcertfile \"%s\" sslcommonname \"%s\"\n"
        "  keep\n"
        "  mda \"/usr/bin/tee -a %s\"\n" % (port, protocol, extra, user, password,
                                          os.path.join(server.data_dir, "tls", "cert.pem"),
                                          HOSTNAME, out))
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=str(tmp_path), FETCHMAILHOME=str(tmp_path))
    r = subprocess.run(["fetchmail", "-f", str(rc), "--nodetach", "--nosyslog"],
                       env=env, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode() + r.stdout.decode()
    return out.read_bytes()
