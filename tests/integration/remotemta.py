"""remotemta.py - remote SMTP servers for the outbound queue's tests: a
real aiosmtpd server bound to one loopback address and port, recording
what it was sent, with replies scripted per recipient and per attempt.

    with RemoteMTA("127.0.0.2", port) as mx:
        ...
        mx.wait_messages(1)
        mx.messages[0].rcpt_tos, mx.messages[0].content

    RemoteMTA(host, port, rcpt_replies={"bob@x.test": ["451 4.7.1 later",
                                                       None]})
        None (or running out of the list) means accept.
    RemoteMTA(..., data_reply="550 5.7.1 no")   every DATA refused so
    RemoteMTA(..., tls=(cert_path, key_path))     STARTTLS offered
    RemoteMTA(..., auth={"user": "pass"})         AUTH PLAIN/LOGIN over TLS

Attributes: messages (each with mail_from, rcpt_tos, content, tls, auth),
sessions (distinct connections that sent MAIL), rcpt_attempts.
"""

import ssl
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Received:
    def __init__(self, envelope, session):
        self.mail_from = envelope.mail_from
        self.rcpt_tos = list(envelope.rcpt_tos)
        self.content = envelope.original_content or envelope.content
        if isinstance(self.content, str):
            self.content = self.content.encode()
        self.tls = session.ssl is not None
        self.auth = getattr(session, "authenticated", False)
        self.session = id(session)
        self.at = time.time()       # when it was accepted


class _Handler:
    def __init__(self, mta):
        self.mta = mta

    async def handle_MAIL(self, server, session, envelope, address, options):
        with self.mta.lock:
            self.mta.sessions.add(id(session))
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        with self.mta.lock:
            n = self.mta.rcpt_attempts.get(address.lower(), 0)
            self.mta.rcpt_attempts[address.lower()] = n + 1
            script = self.mta.rcpt_replies.get(address.lower(), [])
            reply = script[n] if n < len(script) else None
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.mta.data_reply is not None:
            return self.mta.data_reply
        if self.mta.data_delay:
            time.sleep(self.mta.data_delay)
        with self.mta.lock:
            self.mta.messages.append(Received(envelope, session))
        return "250 2.0.0 OK queued"


def _authenticator(users):
    def check(server, session, envelope, mechanism, auth_data):
        user = auth_data.login.decode() if auth_data.login else ""
        ok = users.get(user) == (auth_data.password.decode()
                                 if auth_data.password else None)
        if ok:
            session.authenticated = True
        return AuthResult(success=ok)
    return check


class RemoteMTA:
    def __init__(self, host, port, rcpt_replies=None, data_reply=None,
                 tls=None, auth=None, data_delay=0.0):
        self.host = host
        self.port = port
        self.rcpt_replies = {k.lower(): v for k, v in (rcpt_replies or {}).items()}
        self.data_reply = data_reply
        self.data_delay = data_delay
        self.messages = []
        self.sessions = set()
        self.rcpt_attempts = {}
        self.lock = threading.Lock()
        kw = {}
        if tls is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(tls[0], tls[1])
            kw["tls_context"] = ctx
        if auth is not None:
            kw["authenticator"] = _authenticator(auth)
            kw["auth_require_tls"] = True
        self.controller = Controller(_Handler(self), hostname=host, port=port,
                                     server_hostname="remote.%s" % host,
                                     ready_timeout=10, **kw)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def wait_messages(self, n, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.1)
        raise AssertionError("%s:%d got %d message(s), not %d in %ds"
                             % (self.host, self.port, len(self.messages), n,
                                timeout))


class LineMTA:
    """A small scripted SMTP server on host:port that offers the EHLO
    keywords given (e.g. DSN, which aiosmtpd lacks), accepts every
    command and message, and records each session's command lines
    (without the message text) in .commands."""

    def __init__(self, host, port, keywords=("PIPELINING", "DSN")):
        import socketserver

        mta = self
        self.commands = []
        self.messages = []
        self.lock = threading.Lock()

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 line.mta ESMTP\r\n")
                while True:
                    line = self.rfile.readline(4096)
                    if not line:
                        return
                    cmd = line.rstrip(b"\r\n")
                    with mta.lock:
                        mta.commands.append(cmd)
                    verb = cmd[:4].upper()
                    if verb == b"EHLO":
                        out = b"250-line.mta\r\n"
                        for k in keywords:
                            out += b"250-" + k.encode() + b"\r\n"
                        self.wfile.write(out + b"250 HELP\r\n")
                    elif verb == b"DATA":
                        self.wfile.write(b"354 go\r\n")
                        body = b""
                        while True:
                            l2 = self.rfile.readline(65536)
                            if not l2 or l2 == b".\r\n":
                                break
                            body += l2
                        with mta.lock:
                            mta.messages.append(body)
                        self.wfile.write(b"250 2.0.0 ok\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 2.0.0 ok\r\n")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def wait_messages(self, n, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.1)
        raise AssertionError("got %d message(s), not %d" % (len(self.messages), n))
