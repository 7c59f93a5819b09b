"""conftest.py - pytest fixtures that run a real petreld for the
integration tests (helpers live in petreltest.py).

  server        one petreld per test module, default config (plus SMTPS)
  make_server   factory for a petreld with extra config lines, per test:
                make_server("smtp_max_recipients = 3", ...)
  ctl, messages shortcuts bound to `server`

Every server is stopped with SIGTERM at teardown and must exit 0 with no
AddressSanitizer/UBSan report in its stderr; the stderr of the servers
alive when a test fails is attached to that test's report.

Environment: PETREL_BUILD (build dir, default "build", relative to the
repo root), PETREL_KEEP=1 (keep the /tmp/petrel-it-* dirs),
PETREL_START_TIMEOUT / PETREL_STOP_TIMEOUT / PETREL_NET_TIMEOUT (seconds),
PETREL_TEST_CHROOT=yes|no (default: petreld's own default, except "no"
for a sanitizer build, whose LeakSanitizer needs /proc).
"""

import pytest

import petreltest
from petreltest import Petrel


@pytest.fixture(scope="module")
def server():
    yield from petreltest.running()


@pytest.fixture(autouse=True)
def _servers_still_healthy():
    """After each test: every server still up (module-scoped ones) is
    running with no sanitizer report, so a crash is blamed on the test
    that caused it. Runs after make_server's teardown."""
    yield
    for srv in list(petreltest.LIVE):
        srv.assert_alive()


@pytest.fixture
def make_server():
    made = []

    def factory(*extra_conf, env=None, smtps=True, start=True, preexec_fn=None):
        srv = Petrel(extra_conf=extra_conf, env=env, smtps=smtps)
        made.append(srv)
        if start:
            srv.start(preexec_fn=preexec_fn)
        return srv

    yield factory
    errors = []
    for srv in made:
        try:
            petreltest.finish(srv)
        except Exception as e:  # report all, not only the first
            errors.append(str(e))
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


@pytest.fixture
def ctl(server):
    return server.ctl


@pytest.fixture
def messages(server):
    return server.messages


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        for srv in list(petreltest.LIVE):
            rep.sections.append(
                ("petreld stderr (%s)" % srv.base,
                 petreltest.tail(srv.stderr_text(), 80)))
