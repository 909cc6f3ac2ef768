"""pytest fixtures for Keel's integration tests.

- keel (session): a Keel server ($KEEL_BIN, else build-test/keel, else build/keel)
  on a free 127.0.0.1 port, started with `--port N --bind 127.0.0.1` and no config
  file. After every test that used it, the test FAILS if the server died or wrote
  a sanitizer report (ASan/LSan/UBSan); a dead server is restarted for the next test.
- oracle (session): Debian's redis-server 7.0 on a free port, --save '' --appendonly no.
- r / ro: redis-py clients (decode_responses=False) on Keel / the oracle, FLUSHALL first.
- diff: harness.Differ comparing raw reply bytes of Keel and the oracle.
- raw: harness.raw(port, bytes, n=1) -> bytes of the first n complete replies.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import ServerProcess, Differ  # noqa: E402

try:
    import redis
except ImportError:  # pragma: no cover - the wrong interpreter
    redis = None


def pytest_report_header(config):
    try:
        b = harness.keel_bin()
    except RuntimeError as e:
        b = str(e)
    return ["keel binary: %s" % b, "oracle: %s" % harness.oracle_bin()]


def _session_server(request, name, argv_fn):
    srv = ServerProcess(name, argv_fn)
    srv.start()
    yield srv
    problem = srv.stop()
    srv.cleanup()
    if problem:
        pytest.fail("at shutdown: " + problem, pytrace=False)


@pytest.fixture(scope="session")
def keel(request):
    yield from _session_server(request, "keel", harness.keel_argv)


@pytest.fixture(scope="session")
def oracle(request):
    yield from _session_server(request, "redis-oracle", harness.oracle_argv)


@pytest.fixture(autouse=True)
def _server_health(request):
    """Blame the test after which a server died or reported a sanitizer error."""
    servers = []
    for name in ("keel", "oracle"):
        if name in request.fixturenames:
            srv = request.getfixturevalue(name)
            srv.ensure_running()
            srv.health()  # forget output that belongs to an earlier test
            servers.append(srv)
    yield
    problems = [p for p in (s.health(probe=True) for s in servers) if p]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def _client(port):
    if redis is None:
        pytest.skip("redis-py missing: run with /usr/bin/python3")
    c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    c.flushall()
    return c


@pytest.fixture
def r(keel):
    c = _client(keel.port)
    yield c
    c.close()


@pytest.fixture
def ro(oracle):
    c = _client(oracle.port)
    yield c
    c.close()


@pytest.fixture
def diff(keel, oracle):
    return Differ(keel.port, oracle.port)


@pytest.fixture
def raw():
    return harness.raw
