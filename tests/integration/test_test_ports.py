"""Every server the test suites start listens on ports of its own: nothing
here may take the default ports (6379 RESP, 7379 HTTP), which a server
started with scripts/run can hold while scripts/test runs.

A static check of the node and browser test files (the pytest servers go
through harness.keel_argv, checked directly): each Keel they spawn gets
--http-port, and no test names the default ports."""

import glob
import os
import re

import harness

TEST_DIRS = [os.path.join(harness.REPO, "tests", "integration", "node"),
             os.path.join(harness.REPO, "tests", "browser")]


def _js_tests():
    out = []
    for d in TEST_DIRS:
        out += glob.glob(os.path.join(d, "*.test.mjs")) + glob.glob(os.path.join(d, "*.test.js"))
    return sorted(out)


def test_harness_keel_has_no_default_port():
    argv = harness.keel_argv(12345)
    assert argv[argv.index("--port") + 1] == "12345"
    if not harness.is_redis_server(argv[0]):
        assert argv[argv.index("--http-port") + 1] == "0"


def test_js_spawns_pass_http_port():
    files = _js_tests()
    assert files, "no node/browser tests found"
    for path in files:
        with open(path) as f:
            src = f.read()
        # a Keel spawn (redis-server, a cluster node, has no HTTP port)
        if re.search(r"\bspawn\((?!\s*\"redis-server\")", src):
            assert '"--http-port"' in src, "%s spawns a server without --http-port" % path
        assert not re.search(r"\b(6379|7379)\b", src), "%s names a default port" % path


def test_python_tests_name_no_default_port():
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, "*.py"))):
        if os.path.basename(path) == os.path.basename(__file__):
            continue
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if re.search(r"\b(6379|7379)\b", line) and "noqa: default-port" not in line:
                    raise AssertionError("%s:%d names a default port: %s" % (path, n, line.strip()))
