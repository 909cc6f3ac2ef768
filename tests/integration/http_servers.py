"""http_servers.py — what the HTTP test files share: the Keel servers
(module-scoped, restarted if a test killed one) and the small helpers for
reading responses. Each test module gets its own servers:

  kh        default configuration
  kh_open   --http-disabled-commands SETEX (CONFIG allowed: CONFIG GET, the
            allow-list and CORS origin tests change settings over RESP)
  kh_auth   requirepass "secret" (set over RESP around each test, so that the
            harness's PING probe works between tests)
  kh_deny   --http-allow-networks 10.0.0.0/8
  kh_v6     --http-bind ::1 --http-allow-networks ::1/128 (skipped without ::1)
  kh_lim    small limits and timeouts, SSE heartbeat of 1 s
"""

import base64
import http.client
import json
import random
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from harness import Err, RawConn, encode
from test_http_helpers import (HOST, HttpConn, build_request, check_health, etag_of, get,
                               keel_http_fixture, post_json, request)

try:
    import redis
except ImportError:  # pragma: no cover - the wrong interpreter
    redis = None


def server_fixtures(name, args=(), **kw):
    """A module-scoped server and a function-scoped handle on it that
    restarts it if an earlier test killed it and blames the test after
    which it died or wrote a sanitizer report."""

    @pytest.fixture(scope="module", name="_srv_" + name)
    def _srv():
        yield from keel_http_fixture(args, name=name, **kw)

    @pytest.fixture(name=name)
    def _handle(request):
        srv = request.getfixturevalue("_srv_" + name)
        srv.ensure_running()
        srv.health()
        yield srv
        check_health(srv)

    return _srv, _handle


def _have_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


HAVE_V6 = _have_ipv6_loopback()

_s1, kh = server_fixtures("kh")
_s2, kh_open = server_fixtures("kh_open", ["--http-disabled-commands", "SETEX"])
_s3, _kh_auth_plain = server_fixtures("kh_auth_plain")
_s4, kh_deny = server_fixtures("kh_deny", ["--http-allow-networks", "10.0.0.0/8"])
_s5, kh_v6 = server_fixtures("kh_v6", ["--http-bind", "::1", "--http-allow-networks", "::1/128"],
                             http_host="::1")
_s6, kh_lim = server_fixtures("kh_lim", [
    "--http-max-url-length", "1024", "--http-max-header-size", "4096",
    "--http-max-body-size", "10000", "--http-header-timeout", "1",
    "--http-idle-timeout", "2", "--http-sse-heartbeat", "1"])


@pytest.fixture
def kh_auth(kh_auth_plain):
    """A server with requirepass "secret" (set over RESP for the test and
    removed after it, so that the harness's PING probe keeps working)."""
    srv = kh_auth_plain
    assert srv.resp("CONFIG", "SET", "requirepass", "secret") == b"OK"
    yield srv
    with RawConn(srv.port) as c:
        c.send(encode(["AUTH", "secret"]) + encode(["CONFIG", "SET", "requirepass", ""]))
        assert c.read_replies(2) == [b"+OK\r\n", b"+OK\r\n"]


@pytest.fixture
def rc(kh):
    """redis-py on kh's RESP port, after FLUSHALL."""
    if redis is None:
        pytest.skip("redis-py missing: run with /usr/bin/python3")
    c = redis.Redis(host=HOST, port=kh.port, socket_timeout=10)
    c.flushall()
    yield c
    c.close()


def J(r):
    """The JSON body of a response."""
    assert r.content_type and r.content_type.split(";")[0].strip() == "application/json", r
    return r.json()


def assert_json_error(r, status):
    """An HTTP-level failure: that status, a JSON body {"error": "..."}."""
    assert r.status == status, r
    body = J(r)
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], r
    assert r.header("access-control-allow-origin") == "*", "no CORS header on %r" % r


def ctype(r):
    return (r.content_type or "").split(";")[0].strip()


def usable_or_closed(c, port):
    """After an error the connection is either closed or still answers."""
    if c.wait_closed(0.3):
        return "closed"
    c.request("GET", "/PING")
    r = c.read_response()
    assert r.status == 200 and r.json() == {"PING": [True, "PONG"]}, r
    return "open"



def _wait_numsub(srv, channel, want, timeout=3.0):
    deadline = time.monotonic() + timeout
    while True:
        got = srv.resp("PUBSUB", "NUMSUB", channel)[1]
        if got == want:
            return
        assert time.monotonic() < deadline, "PUBSUB NUMSUB %s = %r, want %r" % (channel, got, want)
        time.sleep(0.05)


__all__ = ["_wait_numsub", "server_fixtures", "HAVE_V6", "_s1", "kh", "_s2", "kh_open", "_s3", "_kh_auth_plain",
           "_s4", "kh_deny", "_s5", "kh_v6", "_s6", "kh_lim", "kh_auth", "rc", "J",
           "assert_json_error", "ctype", "usable_or_closed", "redis", "base64", "http",
           "json", "random", "re", "shutil", "socket", "subprocess", "threading", "time",
           "pytest", "Err", "RawConn", "encode", "HOST", "HttpConn", "build_request",
           "check_health", "etag_of", "get", "keel_http_fixture", "post_json", "request"]
