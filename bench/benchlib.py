"""benchlib - what the bench/ harnesses against Dovecot share.

The deterministic mailbox, the private petreld and Dovecot instances, the
machine measurements (CPU, memory, waiting for a quiet machine), the
multi-process client runner and the results output. Used by
bench/pop3-retr, bench/imap-ops, bench/imap-idle and bench/outbound (the
private Postfix relay; bench/smtp-inbound keeps its own copies). Python 3,
standard library only.
"""

import base64
import datetime
import os
import platform
import queue
import random
import resource
import shlex
import shutil
import signal
import smtplib
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

PASSWORD = "bench-Passw0rd-not-secret"
DOMAIN = "example.test"
SENDER = "from@bench.test"
CLK_TCK = os.sysconf("SC_CLK_TCK")
DISTURBED = 0.20  # share of the machine used by others that spoils a cell
QUIET = 0.10      # wait (bounded) for other load below this before a run
MAIL_UID = 65534  # nobody: owner of Dovecot's Maildirs (petreld drops to it too)
NET_TIMEOUT = 60  # seconds any one socket operation may take
STANDARD_PORTS = (110, 995, 143, 993, 25, 587, 465)

_name = ["bench"]


def set_name(name):
    """The prefix of log lines (the harness's name)."""
    _name[0] = name


def log(msg):
    print(_name[0] + ": " + msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------
# Helpers (bench/smtp-inbound has its own copies).

def run(cmd, timeout=60, check=True, **kw):
    """Run a command (argv list, never a shell) with a time bound."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, text=True, **kw)
    if check and r.returncode != 0:
        raise BenchError("%s failed (%d): %s" % (" ".join(cmd), r.returncode,
                                                 (r.stderr or r.stdout).strip()))
    return r


def port_free(port):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def pick_port(preferred, taken):
    """preferred if free, else one the kernel hands out (never a standard
    mail port, never one already given to another listener)."""
    for _ in range(50):
        if preferred not in taken and preferred not in STANDARD_PORTS \
                and port_free(preferred):
            taken.add(preferred)
            return preferred
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        preferred = s.getsockname()[1]
        s.close()
    raise BenchError("no free loopback port")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def proc_stat(pid):
    """(ppid, utime+stime, cutime+cstime) in seconds, or None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(")") + 2:].split()
    ppid = int(rest[1])
    own = (int(rest[11]) + int(rest[12])) / CLK_TCK
    kids = (int(rest[13]) + int(rest[14])) / CLK_TCK
    return ppid, own, kids


def children_of(pid):
    """Live direct children of pid."""
    kids = []
    for ent in os.listdir("/proc"):
        if ent.isdigit():
            st = proc_stat(int(ent))
            if st and st[0] == pid:
                kids.append(int(ent))
    return kids


PF_KTHREAD = 0x00200000


def kthread_cpu():
    """CPU seconds used so far by kernel threads (journal, writeback, ...)."""
    total = 0
    for ent in os.listdir("/proc"):
        if not ent.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % ent) as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(")") + 2:].split()
        if int(rest[6]) & PF_KTHREAD:
            total += int(rest[11]) + int(rest[12])
    return total / CLK_TCK


def cpu_jiffies():
    """(busy, total, irq+softirq) jiffies over all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        vals = [int(v) for v in f.readline().split()[1:]]
    idle = vals[3] + vals[4]
    total = sum(vals[:8])
    return total - idle, total, vals[5] + vals[6]


def mem_kb(pid):
    """(RSS, PSS) of a process in KB from smaps_rollup, or (0, 0) if gone."""
    rss = pss = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def fs_type(path):
    """File system type of path ("ext4", "tmpfs", ...)."""
    r = run(["findmnt", "-n", "-o", "FSTYPE", "-T", path], check=False)
    if r.returncode == 0 and r.stdout.strip():
        return r.stdout.strip()
    return run(["stat", "-f", "-c", "%T", path]).stdout.strip()


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def pct(vals, p):
    """p-th percentile (nearest rank) of a list, or None."""
    if not vals:
        return None
    s = sorted(vals)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


class QuietWaiter:
    """Before each run, wait until the machine is nearly idle: this is a
    shared machine and other work would be charged to whichever server runs
    at that moment. Bounded per run and in total."""

    def __init__(self, per_run, total):
        self.per_run, self.left = per_run, total

    def wait(self):
        t0 = time.monotonic()
        load = 1.0
        for _ in range(1000):  # also bounded by the time checks below
            b0, j0, _ = cpu_jiffies()
            time.sleep(0.25)
            b1, j1, _ = cpu_jiffies()
            load = (b1 - b0) / max(1, j1 - j0)
            waited = time.monotonic() - t0
            if load < QUIET or waited >= min(self.per_run, self.left):
                break
        self.left = max(0.0, self.left - (time.monotonic() - t0))
        return load


# --------------------------------------------------------------------------
# The mailbox: deterministic, realistic messages of 2-50 KB.

WORDS = ("the of and to in is that for it with as was on be by this are from "
         "at or an have not which but all were when we there can been has "
         "more if will one would their what so about out up into than them "
         "other some could time these two may then do first any my now such "
         "like our over man me even most made after also did many before must "
         "through back years where much your way well down should because "
         "each just those people how too little state good very make world "
         "still own see men work long get here between both life being under "
         "never day same another know while last might us great old year off "
         "come since against go came right used take three invoice meeting "
         "quarter budget report customer project deadline schedule review "
         "shipment contract proposal delivery agenda minutes office server "
         "account password update attached please regards thanks tomorrow "
         "monday friday afternoon morning team release version figures").split()
NAMES = ("Alice Martin", "Bob Chen", "Carla Rossi", "David Okafor", "Eva Novak",
         "Farid Haddad", "Grace Kim", "Hugo Lefebvre", "Ines Garcia",
         "Jonas Berg", "Keiko Sato", "Liam Walsh", "Maya Patel", "Nils Larsen")


def message_id(i):
    return "<bench.%05d@bench.test>" % i


def make_lines(rng, n):
    """n text lines of 30-76 characters: prose, quoted replies, lists, and
    now and then a line starting with a dot (dot-stuffing on the wire)."""
    lines = []
    for _ in range(n):
        width = rng.randint(30, 76)
        words, length = [], 0
        while length < width:
            w = rng.choice(WORDS)
            words.append(w)
            length += len(w) + 1
        line = " ".join(words)[:76]
        r = rng.random()
        if r < 0.08:
            line = "> " + line[:74]
        elif r < 0.11:
            line = "- " + line[:74]
        elif r < 0.13:
            line = "." + line[:75]
        elif r < 0.14:
            line = ""
        lines.append(line.encode())
    return lines


def make_messages(n, seed):
    """n messages as bytes with CRLF line ends, sizes log-uniform in
    2-50 KB; about 60% text/plain, 25% multipart/alternative (text and
    HTML), 15% multipart/mixed with a base64 attachment."""
    rng = random.Random("pop3-retr/%d" % seed)
    pool = make_lines(rng, 4000)
    msgs = []
    base = datetime.datetime(2026, 1, 5, 8, 0, tzinfo=datetime.timezone.utc)
    for i in range(n):
        target = int(2048 * (25 ** rng.random()))     # 2 KB .. 50 KB
        frm = rng.choice(NAMES)
        date = base + datetime.timedelta(minutes=37 * i)
        subject = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 8)))
        kind = rng.random()
        hdr = [
            b"From: %s <%s@partner.test>" % (frm.encode(), frm.split()[0].lower().encode()),
            b"To: Bench Users <pop@example.test>",
            b"Subject: " + subject.capitalize().encode(),
            b"Date: " + date.strftime("%a, %d %b %Y %H:%M:%S +0000").encode(),
            b"Message-ID: " + message_id(i).encode(),
            b"MIME-Version: 1.0",
        ]
        if rng.random() < 0.3:
            hdr.insert(4, b"In-Reply-To: " + message_id(rng.randrange(max(1, i))).encode())
        # Text lines are about 55 bytes each on average.
        if kind < 0.60:
            hdr.append(b"Content-Type: text/plain; charset=us-ascii")
            hdr.append(b"Content-Transfer-Encoding: 7bit")
            body = rng.choices(pool, k=max(5, (target - 400) // 55))
        elif kind < 0.85:
            bnd = b"=_alt_%05d" % i
            hdr.append(b'Content-Type: multipart/alternative; boundary="%s"' % bnd)
            text = rng.choices(pool, k=max(3, (target - 600) // 110))
            html = [b"<p>" + line + b"</p>" for line in
                    rng.choices(pool, k=max(3, (target - 600) // 110))]
            body = ([b"This is a multi-part message in MIME format.", b"",
                     b"--" + bnd, b"Content-Type: text/plain; charset=us-ascii", b""]
                    + text + [b"", b"--" + bnd,
                              b"Content-Type: text/html; charset=us-ascii", b"",
                              b"<html><body>"] + html
                    + [b"</body></html>", b"", b"--" + bnd + b"--"])
        else:
            bnd = b"=_mix_%05d" % i
            hdr.append(b'Content-Type: multipart/mixed; boundary="%s"' % bnd)
            text = rng.choices(pool, k=rng.randint(5, 30))
            raw = rng.randbytes(max(300, (target - 600 - 55 * len(text)) * 3 // 4))
            b64 = base64.encodebytes(raw).rstrip(b"\n").split(b"\n")
            body = ([b"--" + bnd, b"Content-Type: text/plain; charset=us-ascii", b""]
                    + text + [b"", b"--" + bnd,
                              b'Content-Type: application/pdf; name="report-%d.pdf"' % i,
                              b"Content-Transfer-Encoding: base64",
                              b'Content-Disposition: attachment; filename="report-%d.pdf"' % i,
                              b""] + b64 + [b"", b"--" + bnd + b"--"])
        msgs.append(b"\r\n".join(hdr + [b""] + body) + b"\r\n")
    return msgs


def message_index(data):
    """The generated index of a message (from its Message-ID), or None."""
    i = data.find(b"\r\nMessage-ID: <bench.")
    if i < 0:
        return None
    try:
        return int(data[i + 21:i + 26])
    except ValueError:
        return None



def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def wait_greeting(port, seconds, expect, proc=None):
    """Wait until a server greets over implicit TLS on 127.0.0.1:port with a
    line starting with expect (b"+OK", b"* OK")."""
    end = time.monotonic() + seconds
    ctx = tls_context()
    last = None
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise BenchError("server exited (%d) before listening on %d"
                             % (proc.returncode, port))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with ctx.wrap_socket(raw) as s:
                    line = b""
                    while b"\r\n" not in line and len(line) < 4096:
                        data = s.recv(4096)
                        if not data:
                            break
                        line += data
                    if line.startswith(expect):
                        return
                    last = "greeting %r" % line[:80]
        except (OSError, ssl.SSLError) as e:
            last = e
        time.sleep(0.1)
    raise BenchError("no greeting on 127.0.0.1:%d within %ds (%s)" % (port, seconds, last))


# --------------------------------------------------------------------------
# The two servers. Each: start(), cpu_seconds(), mem_sample(), check_alive(),
# log_lines(), stop(); attribute name and one <listener>_port attribute per
# listener (smtp_port, pop3s_port, imaps_port, ...).

PETREL_LISTENERS = ("smtp", "smtps", "pop3", "pop3s", "imap", "imaps",
                    "submission", "submissions", "admin")


class Petrel:
    """petreld with its own data_dir, listening on 127.0.0.1 high ports:
    listeners maps "smtp", "pop3s", "imaps", ... to a port; every other
    listener is off. conf is extra "key = value" settings (a dict)."""

    name = "petrel"

    def __init__(self, root, listeners, petreld, petrelctl, workers, extra_env,
                 conf=None, ready_port=None, ready_expect=b"+OK"):
        self.root = root
        self.listeners = dict(listeners)
        for k, port in self.listeners.items():
            if k not in PETREL_LISTENERS:
                raise BenchError("unknown petreld listener %r" % k)
            setattr(self, k + "_port", port)
        self.petreld, self.petrelctl = petreld, petrelctl
        self.conf = os.path.join(root, "petrel.conf")
        self.workers = workers
        self.extra_env = extra_env
        self.extra_conf = dict(conf or {})
        self.ready_port, self.ready_expect = ready_port, ready_expect
        self.proc = None
        self.errlog = None
        self.stdout_lines = []
        self.hwm_at_start_kb = None
        self.exit_status = None

    def ctl(self, *args, timeout=120, input=None):
        return run([self.petrelctl, "-c", self.conf] + list(args),
                   timeout=timeout, input=input)

    def write_conf(self):
        lines = ["# written by %s" % _name[0],
                 "hostname = petrel.bench.test",
                 "data_dir = %s/var" % self.root]
        for k in PETREL_LISTENERS:
            port = self.listeners.get(k)
            lines.append("listen_%s = %s" % (k, "127.0.0.1:%d" % port if port else ""))
        keys = {"log_level": "warn", "workers": str(self.workers),
                "default_quota": "0", "smtp_max_message_size": "50M",
                "max_connections": "10000",
                # every client of the benches is the same user, as with
                # Dovecot's mail_max_userip_connections raised in its template
                "imap_max_sessions_per_user": "0",
                # the peers run no SPF/DKIM/DMARC checks: like for like
                # (bench/msgauth measures them)
                "msgauth_inbound": "no",
                # nor a spam filter (bench/filter measures it)
                "filter": "no"}
        keys.update(self.extra_conf)
        lines += ["%s = %s" % kv for kv in keys.items()]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        os.makedirs(os.path.join(self.root, "var"), exist_ok=True)
        self.write_conf()
        run([self.petreld, "-c", self.conf, "-t"])
        env = dict(os.environ, DEMO_PASSWORD=PASSWORD)
        env.update(self.extra_env)
        self.errlog = open(os.path.join(self.root, "petreld.stderr"), "a")
        self.stdout_lines = []
        self.exit_status = None
        self.proc = subprocess.Popen([self.petreld, "-c", self.conf],
                                     stdout=subprocess.PIPE, stderr=self.errlog,
                                     stdin=subprocess.DEVNULL, env=env,
                                     text=True, cwd=self.root)
        ready = threading.Event()
        proc, lines = self.proc, self.stdout_lines

        def reader():
            for line in proc.stdout:  # ends when petreld closes stdout
                lines.append(line.rstrip("\n"))
                if line.strip() == "petreld ready":
                    ready.set()

        threading.Thread(target=reader, daemon=True).start()
        end = time.monotonic() + 30
        while not ready.is_set() and time.monotonic() < end:
            if self.proc.poll() is not None:
                raise BenchError("petreld exited (%d) before ready; see %s"
                                 % (self.proc.returncode, self.errlog.name))
            ready.wait(0.1)
        if not ready.is_set():
            raise BenchError("petreld not ready after 30s")
        if self.ready_port:
            wait_greeting(self.ready_port, 10, self.ready_expect, proc=self.proc)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def reset_hwm(self):
        """Forget start-up and set-up peaks (Argon2id hashing of mailbox
        passwords, delivery) so VmHWM shows the peak while serving."""
        self.hwm_at_start_kb = self.vmhwm_kb()
        try:
            with open("/proc/%d/clear_refs" % self.proc.pid, "w") as f:
                f.write("5")
        except OSError:
            pass

    def add_mailboxes(self, users):
        for u in users:
            self.ctl("mailbox", "add", u, "--password-stdin", input=PASSWORD + "\n")

    def check_alive(self):
        if self.proc is not None and self.proc.poll() is not None:
            self.errlog.flush()
            raise BenchError("petreld exited during the bench with status %d; "
                             "last log lines:\n%s" % (self.proc.returncode,
                                                      self.log_tail()))

    def log_tail(self, n=10):
        try:
            with open(self.errlog.name) as f:
                return "".join(f.readlines()[-n:])
        except (OSError, AttributeError):
            return ""

    def log_lines(self):
        try:
            with open(os.path.join(self.root, "petreld.stderr")) as f:
                return [ln.rstrip("\n") for ln in f if ln.strip()]
        except OSError:
            return []

    def cpu_seconds(self):
        st = proc_stat(self.proc.pid) if self.proc else None
        return st[1] if st else 0.0

    def mem_sample(self):
        return mem_kb(self.proc.pid) if self.proc else (0, 0)

    def vmhwm_kb(self):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except (OSError, AttributeError):
            pass
        return None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                log("petreld %d ignored SIGTERM for 30s; sending SIGKILL" % self.proc.pid)
                self.proc.kill()
                self.proc.wait(10)
        self.exit_status = self.proc.returncode
        self.errlog.close()
        self.proc = None


DOVECOT_PORTS = ("pop3", "pop3s", "imap", "imaps")


class ProcessTree:
    """CPU and memory of a master process and its children (Dovecot,
    Postfix); the subclass's pids() lists them."""

    def cpu_seconds(self):
        """CPU of the master and all its (live and reaped) children: reaped
        ones' CPU is in the master's cutime/cstime."""
        total = 0.0
        for pid in self.pids():
            st = proc_stat(pid)
            if st:
                total += st[1] + st[2]
        return total

    def mem_sample(self):
        rss = pss = 0
        for pid in self.pids():
            r, p = mem_kb(pid)
            rss += r
            pss += p
        return rss, pss


class Dovecot(ProcessTree):
    """A private Dovecot (`dovecot -F -c FILE`, a child of this script) under
    root/, on 127.0.0.1 high ports (ports maps "pop3", "pop3s", "imap",
    "imaps" to a port; missing ones are 0, i.e. not listening), Maildirs
    under root/mail, serving `protocols` (e.g. "pop3" or "imap").
    bench/dovecot/dovecot.conf.in is the configuration; `extra` is appended
    to it (later settings win; service blocks merge)."""

    name = "dovecot"

    def __init__(self, root, ports, scheme, protocols):
        self.root = root
        self.ports = {k: int(ports.get(k) or 0) for k in DOVECOT_PORTS}
        for k, port in self.ports.items():
            setattr(self, k + "_port", port)
        self.scheme = scheme
        self.protocols = protocols
        self.conf = os.path.join(root, "dovecot.conf")
        self.logfile = os.path.join(root, "dovecot.log")
        self.proc = None
        self.errlog = None
        self.extra = ""

    def prepare(self, users, cert, key, extra=""):
        for d in ("run", "state", "tls", "mail"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        os.chmod(self.root, 0o755)
        shutil.copyfile(cert, os.path.join(self.root, "tls", "cert.pem"))
        shutil.copyfile(key, os.path.join(self.root, "tls", "key.pem"))
        os.chmod(os.path.join(self.root, "tls", "key.pem"), 0o600)
        h = run(["doveadm", "pw", "-s", self.scheme, "-p", PASSWORD]).stdout.strip()
        with open(os.path.join(self.root, "users"), "w") as f:
            for u in users:
                f.write("%s:%s:%d:%d::%s/home/%s::\n" % (
                    u, h, MAIL_UID, MAIL_UID, self.root, u.split("@")[0]))
        self.configure(extra)

    def configure(self, extra=""):
        """(Re)write the configuration: the template plus extra."""
        subst = {"@ROOT@": self.root, "@PROTOCOLS@": self.protocols}
        for k, port in self.ports.items():
            subst["@%s_PORT@" % k.upper()] = str(port)
        with open(os.path.join(HERE, "dovecot", "dovecot.conf.in")) as f:
            text = f.read()
        for k, v in subst.items():
            text = text.replace(k, v)
        if extra:
            text += "\n# added by %s\n%s\n" % (_name[0], extra)
        self.extra = extra
        with open(self.conf, "w") as f:
            f.write(text)
        return run(["doveconf", "-c", self.conf, "-n"])

    def start(self, nofile=None):
        """Start the master; nofile raises its open-file limit (Dovecot
        sizes each service's limit from its client_limit), up to the hard
        limit (raising that needs CAP_SYS_RESOURCE)."""
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if nofile and hard != resource.RLIM_INFINITY:
            nofile = min(nofile, hard)

        def limits():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))

        self.errlog = open(os.path.join(self.root, "dovecot.stderr"), "a")
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", self.conf],
                                     stdout=self.errlog, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.root,
                                     preexec_fn=limits)
        if self.ports["pop3s"]:
            wait_greeting(self.ports["pop3s"], 30, b"+OK", proc=self.proc)
        else:
            wait_greeting(self.ports["imaps"], 30, b"* OK", proc=self.proc)
        self.check_ports()

    def check_ports(self):
        """The instance must listen on its own ports and nothing else."""
        r = run(["ss", "-Hltnp"], check=False)
        mine = [ln for ln in r.stdout.splitlines()
                if "pid=%d," % self.proc.pid in ln]
        ports = set()
        for ln in mine:
            try:
                ports.add(int(ln.split()[3].rsplit(":", 1)[1]))
            except (IndexError, ValueError):
                pass
        want = {p for k, p in self.ports.items()
                if p and k.rstrip("s") in self.protocols.split()}
        if ports and ports != want:
            raise BenchError("the bench Dovecot listens on %s, want only %s"
                             % (sorted(ports), sorted(want)))

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def check_alive(self):
        if self.proc is not None and self.proc.poll() is not None:
            raise BenchError("the bench Dovecot exited (%d); see %s"
                             % (self.proc.returncode, self.logfile))

    def pids(self):
        """The master and its children (every Dovecot process is one)."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        return [self.proc.pid] + children_of(self.proc.pid)

    def log_lines(self):
        try:
            with open(self.logfile) as f:
                return [ln.rstrip("\n") for ln in f if ln.strip()]
        except OSError:
            return []

    def stop(self, timeout=30):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log("dovecot master %d ignored SIGTERM for %ds; sending SIGKILL"
                    % (self.proc.pid, timeout))
                kids = children_of(self.proc.pid)
                self.proc.kill()
                self.proc.wait(10)
                for k in kids:
                    try:
                        os.kill(k, signal.SIGKILL)
                    except OSError:
                        pass
        self.errlog.close()
        self.proc = None


def running_master(pidfiles):
    """The live pid named by the first of pidfiles that names one, or None."""
    for pidfile in pidfiles:
        try:
            with open(pidfile) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        if pid_alive(pid):
            return pid
    return None


def stop_system_dovecot():
    """The packaged instance must not run during the bench (or ever be used)."""
    pid = running_master(("/run/dovecot/master.pid", "/var/run/dovecot/master.pid"))
    if pid is None:
        return
    log("stopping the system Dovecot (master pid %d)" % pid)
    os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + 15
    while pid_alive(pid) and time.monotonic() < end:
        time.sleep(0.1)


class Postfix(ProcessTree):
    """A private Postfix instance under root/ (its own config, queue and
    data directories), smtpd on 127.0.0.1:port. main.cf comes from
    bench/postfix/<main_template>, master.cf from master.cf.in; @ROOT@,
    @LISTEN@, @LOGGING@ and the keys of subst are filled in. With tls, a
    certificate and key (PEM files) are copied to root/tls/ for smtpd."""

    name = "postfix"

    def __init__(self, root, port, main_template, subst=None, maillog=False):
        self.root, self.port = root, port
        self.etc = os.path.join(root, "etc")
        self.spool = os.path.join(root, "spool")
        self.main_template = main_template
        self.subst = dict(subst or {})
        self.maillog = maillog
        self.started = False

    def prepare(self, cert=None, key=None):
        for d in ("etc", "spool", "data", "tls"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        os.chmod(self.root, 0o755)
        pw = run(["getent", "passwd", "postfix"], check=False)
        if pw.returncode != 0:
            raise BenchError("no 'postfix' user: is the postfix package installed?")
        os.chown(os.path.join(self.root, "data"), int(pw.stdout.split(":")[2]), -1)
        if cert and key:
            shutil.copyfile(cert, os.path.join(self.root, "tls", "cert.pem"))
            shutil.copyfile(key, os.path.join(self.root, "tls", "key.pem"))
            os.chmod(os.path.join(self.root, "tls", "key.pem"), 0o600)
        subst = {"@ROOT@": self.root, "@LISTEN@": "127.0.0.1:%d" % self.port,
                 "@LOGGING@": ("maillog_file = %s/postfix.log" % self.root)
                 if self.maillog else ""}
        subst.update(self.subst)
        for name, tmpl in (("main.cf", self.main_template),
                           ("master.cf", "master.cf.in")):
            with open(os.path.join(HERE, "postfix", tmpl)) as f:
                text = f.read()
            for k, v in subst.items():
                text = text.replace(k, str(v))
            with open(os.path.join(self.etc, name), "w") as f:
                f.write(text)
        run(["postfix", "-c", self.etc, "check"])

    def start(self):
        self.started = True
        run(["postfix", "-c", self.etc, "start"])
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    if s.recv(512).startswith(b"220"):
                        s.sendall(b"QUIT\r\n")
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise BenchError("the bench Postfix did not greet on 127.0.0.1:%d in 30 s"
                         % self.port)

    def master_pid(self):
        try:
            with open(os.path.join(self.spool, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    @property
    def pid(self):
        return self.master_pid()

    def queued(self):
        """Messages in the queue directories (not yet delivered or bounced)."""
        n = 0
        for q in ("maildrop", "incoming", "active", "deferred", "hold"):
            for _, _, files in os.walk(os.path.join(self.spool, q)):
                n += len(files)
        return n

    def drain(self, seconds):
        """Wait until the queue is empty; the seconds it took, or None."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            if self.queued() == 0:
                return time.monotonic() - t0
            time.sleep(0.05)
        return None

    def check_alive(self):
        mpid = self.master_pid()
        if mpid is None or not pid_alive(mpid):
            raise BenchError("the bench Postfix master is gone (stopped from outside?)")

    def pids(self):
        mpid = self.master_pid()
        if mpid is None or not pid_alive(mpid):
            return []
        return [mpid] + children_of(mpid)

    def stop(self):
        if not self.started:
            return
        mpid = self.master_pid()
        run(["postfix", "-c", self.etc, "stop"], check=False, timeout=30)
        end = time.monotonic() + 15
        while mpid and pid_alive(mpid) and time.monotonic() < end:
            time.sleep(0.1)
        if mpid and pid_alive(mpid):
            log("postfix master %d still running; sending SIGKILL" % mpid)
            os.kill(mpid, signal.SIGKILL)
        self.started = False


def stop_system_postfix():
    """The packaged instance must not run during the bench (or ever be used)."""
    pid = running_master(("/var/spool/postfix/pid/master.pid",))
    if pid is None:
        return
    log("stopping the system Postfix (master pid %d)" % pid)
    run(["postfix", "stop"], check=False, timeout=30)
    end = time.monotonic() + 15
    while pid_alive(pid) and time.monotonic() < end:
        time.sleep(0.1)
    if pid_alive(pid):
        os.kill(pid, signal.SIGTERM)


def check_tools(need_dovecot_binaries):
    if os.geteuid() != 0:
        raise BenchError("run as root: a private Dovecot master must start as root")
    for tool in ("dovecot", "doveadm", "doveconf", "ss"):
        if shutil.which(tool) is None:
            raise BenchError("%s not found: run scripts/install-deps bench" % tool)
    for b in need_dovecot_binaries:
        if not os.path.exists("/usr/lib/dovecot/" + b):
            raise BenchError("Dovecot's %s is missing: run scripts/install-deps bench" % b)


# --------------------------------------------------------------------------
# Setting up the mailboxes.

def deliver_petrel(pt, msgs, users, conns=4):
    """Every message once, over SMTP, to all users (one RCPT each: petrel
    stores the message once). conns connections in parallel."""
    chunks = [list(range(c, len(msgs), conns)) for c in range(conns)]
    errors = []

    def sender(idx):
        try:
            s = smtplib.SMTP("127.0.0.1", pt.smtp_port, timeout=NET_TIMEOUT)
            s.ehlo("sender.bench.test")
            for i in idx:
                refused = s.sendmail(SENDER, users, msgs[i])
                if refused:
                    raise BenchError("recipients refused: %r" % refused)
            s.quit()
        except Exception as e:  # reported by the caller
            errors.append("%s: %s" % (type(e).__name__, e))

    threads = [threading.Thread(target=sender, args=(c,), daemon=True) for c in chunks]
    for t in threads:
        t.start()
    end = time.monotonic() + 900
    for t in threads:
        t.join(max(1.0, end - time.monotonic()))
    if errors or any(t.is_alive() for t in threads):
        raise BenchError("delivery to petrel failed: %s" % "; ".join(errors[:3]))


def check_stored(stored, msgs, what):
    """stored (message bytes in the mailbox's order) must be the delivered
    messages, each once, with petrel's trace header fields (Return-Path,
    Received) in front."""
    seen = set()
    for k, data in enumerate(stored, 1):
        i = message_index(data)
        if i is None or i in seen or not data.endswith(msgs[i]):
            raise BenchError("petrel %s %d is not a delivered message" % (what, k))
        trace = data[:len(data) - len(msgs[i])]
        if not trace.startswith(b"Return-Path: <%s>\r\nReceived: " % SENDER.encode()) \
                or b"\r\n\r\n" in trace:
            raise BenchError("petrel %s %d: unexpected text before the message: %r"
                             % (what, k, trace[:200]))
        seen.add(i)
    if len(seen) != len(msgs):
        raise BenchError("petrel holds %d of the %d messages" % (len(seen), len(msgs)))


def write_maildirs(dc, stored, users):
    """Dovecot's Maildirs: the stored bytes with LF line ends (as Maildir
    keeps them) in cur/, named as Dovecot's own delivery names them, with
    ,S= (file size) and ,W= (size with CRLF), so Dovecot never has to read a
    file for its size. The seconds part of the name gives the order
    (Dovecot assigns UIDs in that order): message k is message k on both
    servers. The first mailbox holds the files; the others are hard links."""
    base = 1767600000
    first = None
    for n, u in enumerate(users):
        md = os.path.join(dc.root, "mail", u.split("@")[0])
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
            os.chown(os.path.join(md, sub), MAIL_UID, MAIL_UID)
        os.chown(md, MAIL_UID, MAIL_UID)
        if n == 0:
            first = []
            for k, data in enumerate(stored):
                if data.count(b"\n") != data.count(b"\r\n") or \
                        data.count(b"\r") != data.count(b"\r\n") or \
                        not data.endswith(b"\r\n"):
                    raise BenchError("message %d has bare CR or LF; Maildir "
                                     "cannot hold it byte for byte" % (k + 1))
                lf = data.replace(b"\r\n", b"\n")
                name = "%d.M%dP1.bench,S=%d,W=%d:2," % (base + k, k, len(lf), len(data))
                path = os.path.join(md, "cur", name)
                with open(path, "wb") as f:
                    f.write(lf)
                os.chown(path, MAIL_UID, MAIL_UID)
                first.append((path, name))
        else:
            for path, name in first:
                os.link(path, os.path.join(md, "cur", name))
    os.chown(os.path.join(dc.root, "mail"), MAIL_UID, MAIL_UID)
    os.makedirs(os.path.join(dc.root, "home"), exist_ok=True)
    os.chown(os.path.join(dc.root, "home"), MAIL_UID, MAIL_UID)


# --------------------------------------------------------------------------
# Measuring.

class MemSampler:
    """Peak of the server's summed RSS and PSS, sampled twice a second."""

    def __init__(self, srv):
        self.srv = srv
        self.peak_rss = self.peak_pss = 0
        self.stop_ev = threading.Event()
        self.t = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        while not self.stop_ev.is_set():
            self.sample()
            self.stop_ev.wait(0.5)

    def sample(self):
        rss, pss = self.srv.mem_sample()
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        self.t.join(5)
        self.sample()


def worker_main(specs, ready_q, start_ev, out_q, loop_fn, new_res):
    """A client process: one thread per client spec, each running
    loop_fn(spec, res) with res = new_res()."""
    results = [new_res() for _ in specs]
    threads = [threading.Thread(target=loop_fn, args=(sp, r), daemon=True)
               for sp, r in zip(specs, results)]
    ready_q.put(os.getpid())
    if not start_ev.wait(120):
        out_q.put({"pid": os.getpid(), "results": [], "cpu": 0.0})
        return
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    out_q.put({"pid": os.getpid(), "results": results, "cpu": cpu})


def run_clients(srv, specs, loop_fn, new_res, quiet, limit, what):
    """Run one timed load: waits for a quiet machine, forks client
    processes (up to 2 per core; clients are threads in them), starts them
    all at once and waits for them (at most limit + 30 s). Every spec gets
    "deadline" (now + limit) set. Returns the clients' results (one per
    spec) and what the run cost the machine, the server and the clients."""
    import multiprocessing
    load_before = quiet.wait()
    nprocs = min(len(specs), max(2, 2 * (os.cpu_count() or 1)))
    deadline = time.monotonic() + limit
    per_proc = [[] for _ in range(nprocs)]
    for c, sp in enumerate(specs):
        sp["deadline"] = deadline
        per_proc[c % nprocs].append(sp)
    mp = multiprocessing.get_context("fork")
    ready_q, out_q, start_ev = mp.Queue(), mp.Queue(), mp.Event()
    procs = [mp.Process(target=worker_main,
                        args=(sp, ready_q, start_ev, out_q, loop_fn, new_res),
                        daemon=True) for sp in per_proc]
    outs = []
    try:
        for p in procs:
            p.start()
        try:
            for _ in procs:
                ready_q.get(timeout=60)
        except queue.Empty:
            raise BenchError("client processes did not start within 60 s")
        kt0 = kthread_cpu()
        self0 = resource.getrusage(resource.RUSAGE_SELF)
        cpu0, (busy0, tot0, irq0) = srv.cpu_seconds(), cpu_jiffies()
        with MemSampler(srv) as mem:
            t0 = time.monotonic()
            start_ev.set()
            for _ in procs:
                left = deadline + 30 - time.monotonic()
                try:
                    outs.append(out_q.get(timeout=max(1.0, left)))
                except queue.Empty:
                    raise BenchError("%s: clients still busy %.0f s after "
                                     "the run's time limit" % (what, 30))
            elapsed = time.monotonic() - t0
            busy1, tot1, irq1 = cpu_jiffies()
            kt1 = kthread_cpu()
            self1 = resource.getrusage(resource.RUSAGE_SELF)
            time.sleep(0.2)  # let Dovecot's master reap exited processes
            cpu1 = srv.cpu_seconds()
        for p in procs:
            p.join(10)
    except Exception:
        for p in procs:
            if p.is_alive():
                p.kill()
        raise
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join(5)
    srv.check_alive()
    client_cpu = sum(o["cpu"] for o in outs)
    capacity = (tot1 - tot0) / CLK_TCK
    busy = (busy1 - busy0) / CLK_TCK
    irq = (irq1 - irq0) / CLK_TCK
    harness = (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
    server_cpu = cpu1 - cpu0
    return {
        "results": [r for o in outs for r in o["results"]],
        "elapsed": elapsed, "client_cpu": client_cpu, "server_cpu": server_cpu,
        "nprocs": nprocs,
        "busy": busy / capacity if capacity else 0.0,
        "other": max(0.0, busy - irq - (kt1 - kt0) - server_cpu - client_cpu
                     - harness) / capacity if capacity else 0.0,
        "load_before": load_before, "peak_rss": mem.peak_rss, "peak_pss": mem.peak_pss,
    }


def machine_info(workdir):
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1])
    dv = run(["dovecot", "--version"], check=False).stdout.strip()
    rev = run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
              check=False).stdout.strip() or "no commit yet"
    ossl = " ".join(run(["openssl", "version"], check=False).stdout.split()[:2])
    return {
        "nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
        "mem_gb": round(mem / 1024 / 1024, 1), "fs": fs_type(workdir),
        "dovecot": dv.split()[0] if dv else "?", "petrel_rev": rev,
        "python": platform.python_version(), "openssl": ossl,
    }


def mem_available_kb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def make_workdir(parent, prefix):
    work = tempfile.mkdtemp(prefix=prefix, dir=parent or "/var/tmp")
    os.chmod(work, 0o755)  # petreld's and Dovecot's users traverse it
    return work


# --------------------------------------------------------------------------
# Output.

def fmt(v, f="%.0f"):
    return "-" if v is None or v != v else f % v


def fmt_sig(v):
    """Three significant digits (0.215, 2.07, 27.8, 1793)."""
    if v is None or v != v:
        return "-"
    if v >= 100:
        return "%.0f" % v
    return "%.3g" % v if v >= 1 else "%.3f" % v


def fmt_ratio(v):
    return "-" if v is None else ("%.2fx" % v if v >= 0.1 else "%.3fx" % v)


def fmt_ms(v):
    return "-" if v is None or v != v else "%.2f" % (v * 1e3)


def command_line(prog):
    """How the bench was started, for the results."""
    if os.environ.get("MAKELEVEL"):
        return "make bench"
    return ("bench/%s %s" % (prog, " ".join(shlex.quote(a) for a in sys.argv[1:]))).strip()


def update_docs(name, block, prog=None):
    """Replace the generated block of docs/benchmarks.md between the
    markers <!-- NAME:begin (generated by bench/PROG) --> and
    <!-- NAME:end --> (PROG: NAME unless given)."""
    begin = "<!-- %s:begin (generated by bench/%s) -->" % (name, prog or name)
    end = "<!-- %s:end -->" % name
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        log("docs/benchmarks.md missing; not updated")
        return
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        log("docs/benchmarks.md has no %s markers; not updated" % name)
        return
    text = text[:i + len(begin)] + "\n" + block + text[j:]
    with open(path, "w") as f:
        f.write(text)
    log("updated docs/benchmarks.md")


# --------------------------------------------------------------------------
# A small IMAP client on raw sockets: implicit TLS, lock-step commands (a
# mail client waits for each answer), responses read in large chunks. A
# response without literals (LOGIN, SELECT, FETCH FLAGS, SEARCH, LOGOUT) is
# found by its tagged line without parsing each untagged line in Python, so
# that the client costs little CPU.

class ImapError(Exception):
    pass


def imap_quote(s):
    return b'"' + s.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


class Imap:
    def __init__(self, port, ctx, timeout=NET_TIMEOUT):
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s = ctx.wrap_socket(sock)
        self.buf = bytearray()
        self.n = 0
        ln = self.line()
        if not ln.startswith(b"* OK"):
            raise ImapError("greeting: " + ln.decode("ascii", "replace")[:200])

    def _fill(self):
        data = self.s.recv(262144)
        if not data:
            raise ImapError("connection closed by the server")
        self.buf += data

    def line(self):
        start = 0
        while True:
            i = self.buf.find(b"\r\n", start)
            if i >= 0:
                ln = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return ln
            if len(self.buf) > 1 << 20:
                raise ImapError("no CRLF in 1 MB")
            start = max(0, len(self.buf) - 1)
            self._fill()

    def literal(self, n):
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def send(self, text):
        """Send a command; returns its tag."""
        self.n += 1
        tag = b"a%d" % self.n
        self.s.sendall(tag + b" " + text + b"\r\n")
        return tag

    @staticmethod
    def _check(tag, tagged):
        if not tagged.startswith(tag + b" OK"):
            raise ImapError(tagged.decode("ascii", "replace")[:200])
        return tagged

    def simple(self, text):
        """A command whose response has no literals: returns (the untagged
        lines as one block of bytes, the tagged line)."""
        tag = self.send(text)
        return self.wait_simple(tag)

    def wait_simple(self, tag):
        needle = b"\r\n" + tag + b" "
        start = 0
        while True:
            # i + 2: where the tagged line starts
            i = -2 if self.buf.startswith(tag + b" ") else self.buf.find(needle, start)
            if i != -1:
                j = self.buf.find(b"\r\n", i + 2)
                if j >= 0:
                    block = bytes(self.buf[:i + 2])
                    tagged = bytes(self.buf[i + 2:j])
                    del self.buf[:j + 2]
                    return block, self._check(tag, tagged)
                start = max(0, i)
            else:
                start = max(0, len(self.buf) - len(needle))
            if len(self.buf) > 64 << 20:
                raise ImapError("response over 64 MB")
            self._fill()

    def command(self, text):
        """A command whose response may carry literals: returns (a list of
        untagged responses, each (text with the literals cut out, [the
        literals]), the tagged line)."""
        tag = self.send(text)
        out = []
        while True:
            ln = self.line()
            if ln.startswith(tag + b" "):
                return out, self._check(tag, ln)
            parts, lits = [], []
            while ln.endswith(b"}") and b"{" in ln:
                k = ln.rindex(b"{")
                try:
                    n = int(ln[k + 1:-1].rstrip(b"+"))
                except ValueError:
                    break
                parts.append(ln[:k])
                lits.append(self.literal(n))
                ln = self.line()
            parts.append(ln)
            out.append((b"".join(parts), lits))

    def login(self, user, password):
        return self.simple(b"LOGIN " + imap_quote(user) + b" " + imap_quote(password))

    def logout(self):
        """LOGOUT, then wait for the server to close (bounded by the socket
        timeout)."""
        self.simple(b"LOGOUT")
        try:
            for _ in range(100):
                if not self.s.recv(4096):
                    break
        except (OSError, ssl.SSLError):
            pass
        self.close()

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def imap_exists(block):
    """The message count of a SELECT response (its "* N EXISTS" line)."""
    for ln in block.split(b"\r\n"):
        if ln.startswith(b"* ") and ln.endswith(b" EXISTS"):
            return int(ln.split()[1])
    return None


def imap_search_uids(block):
    """The UIDs of a (UID) SEARCH response block."""
    out = []
    for ln in block.split(b"\r\n"):
        if ln.startswith(b"* SEARCH"):
            out.extend(int(x) for x in ln[8:].split())
    return sorted(out)


def fetch_uid(text):
    """The UID of an untagged FETCH response ("* 3 FETCH (UID 7 ...")."""
    i = text.find(b"UID ")
    if i < 0:
        raise ImapError("no UID in %r" % text[:100])
    j = i + 4
    while j < len(text) and 48 <= text[j] <= 57:
        j += 1
    return int(text[i + 4:j])
