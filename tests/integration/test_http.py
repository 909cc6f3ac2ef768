"""Keel's HTTP/JSON adapter (issue 5) as decided in http_common.txt: every
point of the issue against a spawned Keel with an HTTP port, with Python's
http.client, raw sockets (pipelining, partial requests, chunked streams,
timeouts) and curl. Byte-for-byte comparisons with Webdis live in
test_http_webdis.py; this file checks Keel's own documented behaviour,
including where it deliberately goes beyond Webdis.

Servers (each a Keel process with `--http-port N`, module-scoped, checked
after every test for crashes and sanitizer reports):
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


# ==========================================================================
# Connections: keep-alive, HTTP/1.0, pipelining, partial requests

def test_keepalive_http_client(kh):
    kh.flushall()
    conn = http.client.HTTPConnection(HOST, kh.http, timeout=5)
    try:
        conn.request("GET", "/SET/ka/1")
        r = conn.getresponse()
        assert r.status == 200 and json.loads(r.read()) == {"SET": [True, "OK"]}
        sock = conn.sock
        for i in range(2, 12):
            conn.request("GET", "/INCR/ka")
            r = conn.getresponse()
            assert r.status == 200
            assert json.loads(r.read()) == {"INCR": i}
            assert not r.will_close
            assert conn.sock is sock, "the connection was not kept alive"
    finally:
        conn.close()


def test_keepalive_curl(kh):
    if not shutil.which("curl"):
        pytest.skip("curl missing")
    kh.flushall()
    base = "http://%s:%d" % (HOST, kh.http)
    p = subprocess.run(["curl", "-sv", base + "/SET/c/1", base + "/INCR/c", base + "/GET/c"],
                       capture_output=True, timeout=20)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b'{"SET":[true,"OK"]}{"INCR":2}{"GET":"2"}'
    assert b"Re-using existing connection" in p.stderr or b"Reusing existing" in p.stderr, \
        p.stderr.decode(errors="replace")[-1500:]


def test_http10_closes_unless_keepalive(kh):
    with HttpConn(kh.http) as c:
        c.send(b"GET /PING HTTP/1.0\r\n\r\n")
        r = c.read_response()
        assert r.status == 200 and r.json() == {"PING": [True, "PONG"]}
        assert c.wait_closed(2), "HTTP/1.0 without keep-alive must close"
    with HttpConn(kh.http) as c:
        for _ in range(3):
            c.send(b"GET /PING HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            r = c.read_response()
            assert r.status == 200 and r.json() == {"PING": [True, "PONG"]}
        assert not c.wait_closed(0.3)


def test_connection_close_11(kh):
    with HttpConn(kh.http) as c:
        c.send(b"GET /PING HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        r = c.read_response()
        assert r.status == 200
        assert (r.header("connection") or "").lower() == "close"
        assert c.wait_closed(2)


def test_pipelined_in_order(kh):
    kh.flushall()
    n = 200
    reqs = [b"GET /SET/p/0 HTTP/1.1\r\nHost: x\r\n\r\n"]
    reqs += [b"GET /INCR/p HTTP/1.1\r\nHost: x\r\n\r\n"] * n
    reqs += [b"GET /GET/p.txt HTTP/1.1\r\nHost: x\r\n\r\n",
             b"GET /NOPE HTTP/1.1\r\nHost: x\r\n\r\n",
             b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nGET/p",
             b"GET /GET/p.raw HTTP/1.1\r\nHost: x\r\n\r\n"]
    with HttpConn(kh.http, timeout=20) as c:
        c.send(b"".join(reqs))
        rs = c.read_responses(len(reqs))
    assert rs[0].json() == {"SET": [True, "OK"]}
    assert [r.json()["INCR"] for r in rs[1:n + 1]] == list(range(1, n + 1))
    assert rs[n + 1].body == str(n).encode()
    assert rs[n + 2].json()["NOPE"][0] is False
    assert rs[n + 3].json() == {"GET": str(n)}
    assert rs[n + 4].body == b"$%d\r\n%d\r\n" % (len(str(n)), n)


def test_pipelined_behind_blocking_command(kh):
    """A request pipelined behind a blocking BLPOP is answered after it, and
    a push from another client releases the BLPOP in order."""
    kh.flushall()
    reqs = (b"GET /BLPOP/bq/1 HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /PING HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /BLPOP/bq/5 HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /ECHO/last HTTP/1.1\r\nHost: x\r\n\r\n")
    with HttpConn(kh.http, timeout=10) as c:
        t0 = time.monotonic()
        c.send(reqs)
        r1 = c.read_response()
        assert r1.json() == {"BLPOP": None}
        assert time.monotonic() - t0 >= 0.9
        assert c.read_response().json() == {"PING": [True, "PONG"]}
        assert not c.wait_closed(0.3)      # reads whatever arrives meanwhile
        assert not c.buf, "answered before the BLPOP was served: %r" % bytes(c.buf)
        assert kh.resp("RPUSH", "bq", "v") == 1
        assert c.read_response().json() == {"BLPOP": ["bq", "v"]}
        assert c.read_response().json() == {"ECHO": "last"}


def test_pipelined_split_at_random_points(kh):
    kh.flushall()
    reqs = []
    for i in range(40):
        if i % 3 == 0:
            reqs.append(build_request("PUT", "/RPUSH/sp", body=b"v%d" % i))
        elif i % 3 == 1:
            reqs.append(build_request("POST", "/", {"Content-Type": "application/json"},
                                      json.dumps(["RPUSH", "sp", "v%d" % i])))
        else:
            reqs.append(build_request("GET", "/RPUSH/sp/v%d" % i))
    data = b"".join(reqs)
    rnd = random.Random(5)
    with HttpConn(kh.http, timeout=10) as c:
        pos = 0
        while pos < len(data):
            step = rnd.randint(1, 60)
            c.send(data[pos:pos + step])
            pos += step
            if rnd.random() < 0.2:
                time.sleep(0.002)
        rs = c.read_responses(len(reqs))
    assert [list(r.json().values())[0] for r in rs] == list(range(1, 41))
    assert kh.resp("LRANGE", "sp", "0", "-1") == [b"v%d" % i for i in range(40)]


def test_request_byte_by_byte(kh):
    data = build_request("PUT", "/SET/bb", {"X-Pad": "1"}, b"slowly")
    with HttpConn(kh.http) as c:
        for i in range(len(data)):
            c.send(data[i:i + 1])
            time.sleep(0.001)
        r = c.read_response()
    assert r.json() == {"SET": [True, "OK"]}
    assert kh.resp("GET", "bb") == b"slowly"


def test_chunked_request_bodies(kh):
    kh.flushall()
    te = {"Transfer-Encoding": "chunked"}
    r = request(kh.http, "POST", "/", te, b"3\r\nSET\r\n5;ext=1\r\n/ck/v\r\n0\r\nX-Trailer: y\r\n\r\n")
    assert r.json() == {"SET": [True, "OK"]}
    body = json.dumps(["GET", "ck"]).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (1, body[i:i + 1]) for i in range(len(body))) + b"0\r\n\r\n"
    r = request(kh.http, "POST", "/", {"Transfer-Encoding": "chunked",
                                       "Content-Type": "application/json"}, chunked)
    assert r.json() == {"GET": "v"}
    r = request(kh.http, "PUT", "/SET/ck2", te, b"4\r\n\x00\xff\r\n\r\n0\r\n\r\n")
    assert r.json() == {"SET": [True, "OK"]}
    assert kh.resp("GET", "ck2") == b"\x00\xff\r\n"


def test_expect_100_continue(kh):
    kh.flushall()
    with HttpConn(kh.http) as c:
        c.send(b"PUT /SET/up HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n"
               b"Expect: 100-continue\r\n\r\n")
        interim = c.read_response(timeout=3)
        assert interim.status == 100 and interim.raw == b"HTTP/1.1 100 Continue\r\n\r\n"
        c.send(b"up\x00\xffed")
        r = c.read_response()
        assert r.json() == {"SET": [True, "OK"]}
        # a JSON POST with Expect on the same connection
        body = json.dumps(["GET", "up"]).encode()
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % len(body))
        assert c.read_response(timeout=3).status == 100
        c.send(body)
        assert c.read_response().json() == {"GET": {"base64": base64.b64encode(b"up\x00\xffed").decode()}}
    assert kh.resp("GET", "up") == b"up\x00\xffed"


def test_expect_100_continue_curl_upload(kh, tmp_path):
    if not shutil.which("curl"):
        pytest.skip("curl missing")
    data = bytes(range(256)) * 64
    f = tmp_path / "blob.bin"
    f.write_bytes(data)
    p = subprocess.run(["curl", "-sv", "-H", "Expect: 100-continue", "--upload-file", str(f),
                        "http://%s:%d/SET/blob" % (HOST, kh.http)],
                       capture_output=True, timeout=20)
    assert p.returncode == 0, p.stderr
    assert b"HTTP/1.1 100 Continue" in p.stderr
    assert p.stdout == b'{"SET":[true,"OK"]}'
    r = get(kh.http, "/GET/blob.bin")
    assert r.status == 200 and r.body == data
    assert ctype(r) == "application/octet-stream"


def test_methods(kh):
    for m in ("DELETE", "PATCH", "TRACE", "HEAD"):
        with HttpConn(kh.http) as c:
            c.request(m, "/GET/k")
            r = c.read_response(head=(m == "HEAD"))
            assert r.status == 405, (m, r)


# ==========================================================================
# Replies: JSON shapes

def test_json_reply_shapes(kh, rc):
    with HttpConn(kh.http) as c:
        def g(path):
            r = c.get(path)
            assert r.status == 200, r
            return J(r)
        assert g("/SET/k/v") == {"SET": [True, "OK"]}
        assert g("/GET/k") == {"GET": "v"}
        assert g("/get/k") == {"get": "v"}
        assert g("/GET/nokey") == {"GET": None}
        assert g("/INCR/n") == {"INCR": 1}
        assert g("/TYPE/k") == {"TYPE": [True, "string"]}
        assert g("/LPUSH/k/x") == {"LPUSH": [False, "WRONGTYPE Operation against a key holding "
                                                    "the wrong kind of value"]}
        assert g("/NOPE/a") == {"NOPE": [False, "ERR unknown command 'NOPE', with args "
                                                "beginning with: 'a' "]}
        assert g("/RPUSH/l/a/b") == {"RPUSH": 2}
        assert g("/LRANGE/l/0/-1") == {"LRANGE": ["a", "b"]}
        assert g("/LRANGE/nokey/0/-1") == {"LRANGE": []}
        assert g("/MGET/k/nokey") == {"MGET": ["v", None]}
        assert g("/HSET/h/f1/v1/f2/v2") == {"HSET": 2}
        assert g("/HGETALL/h") == {"HGETALL": {"f1": "v1", "f2": "v2"}}
        assert g("/HGETALL/nokey") == {"HGETALL": {}}
        assert g("/ZADD/z/1.5/a") == {"ZADD": 1}
        assert g("/ZSCORE/z/a") == {"ZSCORE": "1.5"}
        assert g("/ZINCRBY/z/1/a") == {"ZINCRBY": "2.5"}
        # nested arrays are kept (Webdis shows them as null)
        assert g("/SCAN/0/MATCH/k") == {"SCAN": ["0", ["k"]]}
        assert g("/SCAN/0/MATCH/none*") == {"SCAN": ["0", []]}


def test_json_exact_bytes(kh):
    kh.flushall()
    assert get(kh.http, "/SET/k/v").body == b'{"SET":[true,"OK"]}'
    assert get(kh.http, "/GET/k").body == b'{"GET":"v"}'
    assert get(kh.http, "/GET/none").body == b'{"GET":null}'
    assert get(kh.http, "/EXISTS/k").body == b'{"EXISTS":1}'
    assert get(kh.http, "/MGET/k/none").body == b'{"MGET":["v",null]}'


def test_64bit_integers_exact(kh):
    kh.flushall()
    r = get(kh.http, "/SET/big/9223372036854775806")
    r = get(kh.http, "/INCR/big")
    assert r.body == b'{"INCR":9223372036854775807}'
    assert r.json()["INCR"] == 2 ** 63 - 1
    r = get(kh.http, "/DECRBY/neg/9223372036854775807")
    r = get(kh.http, "/DECR/neg")
    assert r.body == b'{"DECR":-9223372036854775808}'


def test_config_get_is_an_object(kh_open):
    r = get(kh_open.http, "/CONFIG/GET/maxmemory")
    assert r.status == 200
    # Keel shows CONFIG GET's map as an object (Webdis: a flat array).
    assert J(r) == {"CONFIG": {"maxmemory": "0"}}


def test_non_utf8_as_base64(kh, rc):
    rc.set("bin", b"\xff\xfe\x00ab")
    rc.set("nul", b"a\x00b\x01\x1f\x7f")
    rc.set("utf", "été 😀".encode())
    rc.rpush("l", b"ok", b"\xc3\x28", b"")
    r = get(kh.http, "/GET/bin")
    assert J(r) == {"GET": {"base64": base64.b64encode(b"\xff\xfe\x00ab").decode()}}
    assert r.body == b'{"GET":{"base64":"//4AYWI="}}'
    r = get(kh.http, "/GET/nul")
    assert r.body == b'{"GET":"a\\u0000b\\u0001\\u001F\x7f"}'  # jansson: upper-case hex
    assert J(r) == {"GET": "a\x00b\x01\x1f\x7f"}
    assert J(get(kh.http, "/GET/utf")) == {"GET": "été 😀"}
    assert J(get(kh.http, "/LRANGE/l/0/-1")) == {"LRANGE": ["ok", {"base64": "wyg="}, ""]}
    # the raw formats keep the bytes
    assert get(kh.http, "/GET/bin.bin").body == b"\xff\xfe\x00ab"
    assert get(kh.http, "/GET/bin.raw").body == b"$5\r\n\xff\xfe\x00ab\r\n"


def test_binary_safe_url_arguments(kh, rc):
    r = get(kh.http, "/SET/a%00%2Fb%FF/v%00%0D%0A+%2B%25")
    assert J(r) == {"SET": [True, "OK"]}
    assert rc.get(b"a\x00/b\xff") == b"v\x00\r\n +%"
    # an unknown .suffix stays part of the argument; %2E hides a dot
    J(get(kh.http, "/SET/file.tar.gz/x"))
    assert rc.get("file.tar.gz") == b"x"
    J(get(kh.http, "/SET/k%2Ejson/y"))
    assert rc.get("k.json") == b"y"
    J(get(kh.http, "/SET/e/"))
    assert rc.get("e") == b""


def test_db_prefix(kh, rc):
    assert J(get(kh.http, "/7/SET/k/seven")) == {"SET": [True, "OK"]}
    assert rc.get("k") is None
    r7 = redis.Redis(host=HOST, port=kh.port, db=7)
    try:
        assert r7.get("k") == b"seven"
    finally:
        r7.close()
    assert J(get(kh.http, "/7/GET/k")) == {"GET": "seven"}
    assert J(get(kh.http, "/GET/k")) == {"GET": None}
    # the prefix does not stick to the connection
    with HttpConn(kh.http) as c:
        assert c.get("/7/GET/k").json() == {"GET": "seven"}
        assert c.get("/GET/k").json() == {"GET": None}


def test_put_and_post_forms(kh, rc):
    r = request(kh.http, "PUT", "/SET/put", body=b"a/b+c%2F\x00\xff")
    assert J(r) == {"SET": [True, "OK"]}
    assert rc.get("put") == b"a/b+c%2F\x00\xff"
    r = request(kh.http, "POST", "/", body=b"SET/form/a%2Fb+c")
    assert J(r) == {"SET": [True, "OK"]}
    assert rc.get("form") == b"a/b c"
    r = request(kh.http, "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"},
                body=b"GET/form.txt")
    assert r.status == 200 and ctype(r) == "text/plain" and r.body == b"a/b c"


# ==========================================================================
# Formats

FORMATS = [("json", "application/json"), ("txt", "text/plain"), ("html", "text/html"),
           ("xml", "text/xml"), ("png", "image/png"), ("jpg", "image/jpeg"),
           ("css", "text/css"), ("bin", "application/octet-stream")]


@pytest.mark.parametrize("ext,mime", FORMATS)
def test_format_content_types(kh, ext, mime):
    kh.flushall()
    kh.resp("SET", "k", b"v\x00\xff")
    r = get(kh.http, "/GET/k." + ext)
    assert r.status == 200
    assert ctype(r) == mime
    if ext == "json":
        assert r.json() == {"GET": {"base64": base64.b64encode(b"v\x00\xff").decode()}}
    else:
        assert r.body == b"v\x00\xff"
    assert r.header("etag") == etag_of(r.body)
    if ext != "json":
        n = get(kh.http, "/GET/nokey." + ext)
        assert n.status == 404, n


def test_format_raw_keeps_nils_and_nesting(kh):
    kh.flushall()
    kh.resp("SET", "k", "v")
    r = get(kh.http, "/MGET/k/nokey/k.raw")
    assert r.status == 200 and r.body == b"*3\r\n$1\r\nv\r\n$-1\r\n$1\r\nv\r\n"
    r = get(kh.http, "/SCAN/0/MATCH/k.raw")
    assert r.body == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"
    assert get(kh.http, "/GET/nokey.raw").body == b"$-1\r\n"
    assert get(kh.http, "/PING.raw").body == b"+PONG\r\n"
    assert get(kh.http, "/INCR/n.raw").body == b":1\r\n"
    assert get(kh.http, "/NOPE.raw").body == \
        b"-ERR unknown command 'NOPE', with args beginning with: \r\n"
    assert get(kh.http, "/HGETALL/nokey.raw").body == b"*0\r\n"


def test_type_and_sep(kh):
    kh.flushall()
    kh.resp("RPUSH", "l", "a", "b", "c")
    r = get(kh.http, "/LRANGE/l/0/-1.txt?sep=,")
    assert (r.status, ctype(r), r.body) == (200, "text/plain", b"a,b,c")
    r = get(kh.http, "/LRANGE/l/0/-1.txt")
    assert r.body == b"abc"
    r = get(kh.http, "/LRANGE/l/0/-1?type=text/csv&sep=;")
    assert (ctype(r), r.body) == ("text/csv", b"a;b;c")
    r = get(kh.http, "/LINDEX/l/0?type=application/x-thing")
    assert (ctype(r), r.body) == ("application/x-thing", b"a")
    r = get(kh.http, "/LINDEX/l/9?type=application/x-thing")
    assert r.status == 404


@pytest.mark.parametrize("param", ["jsonp", "callback"])
@pytest.mark.parametrize("name", ["cb", "_x", "$", "a.b.c", "$jq_1.ok$", "A9"])
def test_jsonp_valid(kh, param, name):
    kh.flushall()
    kh.resp("SET", "k", "v")
    r = get(kh.http, "/GET/k?%s=%s" % (param, name))
    assert r.status == 200
    assert ctype(r) == "application/javascript"
    assert r.body.startswith(name.encode() + b'({"GET":"v"});'), r.body
    assert r.header("etag") == etag_of(r.body)


@pytest.mark.parametrize("name", ["1a", "a-b", "a(b)", "a%20b", "%3Cscript%3E", "a;alert(1)",
                                  "a[0]", "x.1y%22", ".a"])
def test_jsonp_invalid_is_400(kh, name):
    # the name must match [A-Za-z_$][A-Za-z0-9_$.]* (".a": no leading dot)
    r = get(kh.http, "/GET/k?jsonp=" + name)
    assert_json_error(r, 400)


def test_etag_and_304(kh):
    kh.flushall()
    kh.resp("SET", "k", "v")
    with HttpConn(kh.http) as c:
        for path in ("/GET/k", "/GET/k.txt", "/GET/k.raw", "/GET/k?jsonp=f", "/EXISTS/k"):
            r = c.get(path)
            assert r.status == 200
            tag = r.header("etag")
            assert tag == etag_of(r.body), (path, tag)
            hit = c.roundtrip("GET", path, {"If-None-Match": tag})
            assert hit.status == 304, (path, hit)
            assert hit.body == b"" and hit.header("content-length") in (None, "0")
            miss = c.roundtrip("GET", path, {"If-None-Match": '"ffffffffffffffffffffffffffffffff"'})
            assert miss.status == 200 and miss.body == r.body
        # the connection is still in sync after the 304s
        assert c.get("/GET/k").json() == {"GET": "v"}


def test_cors_every_response(kh):
    o = {"Origin": "http://app.example"}
    for method, path in (("GET", "/PING"), ("GET", "/GET/nokey.txt"), ("DELETE", "/PING"),
                         ("GET", "/FLUSHALL"), ("GET", "/_nope"), ("GET", "/_health"),
                         ("GET", "/GET/k?jsonp=1x")):
        r = request(kh.http, method, path, o)
        assert r.header("access-control-allow-origin") == "*", (method, path, r)


def test_cors_preflight(kh):
    kh.flushall()
    r = request(kh.http, "OPTIONS", "/SET/pre/v",
                {"Origin": "http://app.example", "Access-Control-Request-Method": "PUT",
                 "Access-Control-Request-Headers": "X-Foo, Content-Type"})
    assert r.status == 204, r
    assert r.body == b""
    assert r.header("access-control-allow-origin") == "*"
    assert r.header("access-control-allow-methods") == "GET, POST, PUT, OPTIONS"
    assert r.header("access-control-allow-headers") == "X-Foo, Content-Type"
    r = request(kh.http, "OPTIONS", "/GET/x", {"Origin": "http://app.example",
                                               "Access-Control-Request-Method": "GET"})
    assert r.status == 204
    assert r.header("access-control-allow-headers") == "Content-Type, Authorization"
    # a preflight runs nothing
    assert kh.resp("EXISTS", "pre") == 0


def test_cors_allowed_origins_list(kh_open):
    try:
        assert kh_open.resp("CONFIG", "SET", "http-allowed-origins",
                            "http://a.example https://b.example") == b"OK"
        r = get(kh_open.http, "/PING", {"Origin": "http://a.example"})
        assert r.status == 200 and r.header("access-control-allow-origin") == "http://a.example"
        r = get(kh_open.http, "/PING", {"Origin": "https://b.example"})
        assert r.header("access-control-allow-origin") == "https://b.example"
        r = request(kh_open.http, "OPTIONS", "/PING", {"Origin": "https://b.example",
                                                      "Access-Control-Request-Method": "GET"})
        assert r.status == 204 and r.header("access-control-allow-origin") == "https://b.example"
        r = get(kh_open.http, "/PING", {"Origin": "http://evil.example"})
        assert r.header("access-control-allow-origin") not in ("*", "http://evil.example")
    finally:
        kh_open.resp("CONFIG", "SET", "http-allowed-origins", "*")


# ==========================================================================
# JSON bodies

def test_json_single_command(kh, rc):
    r = post_json(kh.http, ["SET", "k", "v"])
    assert r.status == 200 and r.body == b'{"SET":[true,"OK"]}'
    assert J(post_json(kh.http, ["get", "k"])) == {"get": "v"}
    assert J(post_json(kh.http, ["SET", "u", "é\u0000x"])) == {"SET": [True, "OK"]}
    assert rc.get("u") == "é\x00x".encode()
    assert J(post_json(kh.http, ["NOPE"])) == {"NOPE": [False, "ERR unknown command 'NOPE', "
                                                              "with args beginning with: "]}
    assert J(post_json(kh.http, ["GET"])) == {
        "GET": [False, "ERR wrong number of arguments for 'get' command"]}


def test_json_numbers(kh, rc):
    assert J(post_json(kh.http, b'["SET","n",9223372036854775807]'))["SET"] == [True, "OK"]
    assert rc.get("n") == b"9223372036854775807"
    assert post_json(kh.http, b'["INCRBY","n",-9223372036854775807]').body == b'{"INCRBY":0}'
    post_json(kh.http, b'["SET","m",-9223372036854775808]')
    assert rc.get("m") == b"-9223372036854775808"
    for lit, want in ((b"1.5", b"1.5"), (b"-2.25", b"-2.25"), (b"0.5", b"0.5"),
                      (b"1000.0", b"1000"), (b"1e3", b"1000")):
        post_json(kh.http, b'["SET","f",' + lit + b"]")
        assert rc.get("f") == want, lit
    assert post_json(kh.http, b'["INCRBY","i",7]').body == b'{"INCRBY":7}'
    assert post_json(kh.http, b'["EXPIRE","i",100]').body == b'{"EXPIRE":1}'


def test_json_batch(kh, rc):
    r = post_json(kh.http, [["SET", "k", "v"], ["GET", "k"], ["NOPE"], ["INCR", "k"],
                            ["RPUSH", "l", "a", 1, 2.5], ["LRANGE", "l", 0, -1]])
    assert r.status == 200
    assert J(r) == [{"SET": [True, "OK"]}, {"GET": "v"},
                    {"NOPE": [False, "ERR unknown command 'NOPE', with args beginning with: "]},
                    {"INCR": [False, "ERR value is not an integer or out of range"]},
                    {"RPUSH": 3}, {"LRANGE": ["a", "1", "2.5"]}]
    # single-element batch is still an array of replies
    assert J(post_json(kh.http, [["PING"]])) == [{"PING": [True, "PONG"]}]


def test_json_batch_atomic(kh, rc):
    r = post_json(kh.http, [["SET", "a", "1"], ["INCR", "a"], ["GET", "a"]], path="/?atomic=1")
    assert J(r) == [{"SET": [True, "OK"]}, {"INCR": 2}, {"GET": "2"}]
    # a runtime error inside EXEC is that command's answer; the others run
    r = post_json(kh.http, [["SET", "s", "x"], ["INCR", "s"], ["SET", "t", "y"]],
                  path="/?atomic=1")
    assert J(r) == [{"SET": [True, "OK"]},
                    {"INCR": [False, "ERR value is not an integer or out of range"]},
                    {"SET": [True, "OK"]}]
    assert rc.get("t") == b"y"
    # a queueing error aborts the whole transaction
    for bad in (["NOPE"], ["SET", "b"]):
        r = post_json(kh.http, [["SET", "b", "1"], bad, ["SET", "c", "1"]], path="/?atomic=1")
        assert r.status == 200
        assert J(r) == {"EXEC": [False, "EXECABORT Transaction discarded because of previous "
                                        "errors."]}
        assert rc.exists("b", "c") == 0


def test_json_atomic_runs_alone(kh, rc):
    """While an atomic batch runs nothing else interleaves: 20 clients each
    run INCR x; GET x atomically; the GET always sees its own INCR."""
    errors = []

    def worker():
        try:
            for _ in range(15):
                r = post_json(kh.http, [["INCR", "x"], ["GET", "x"]], path="/?atomic=1")
                a, b = J(r)
                if str(a["INCR"]) != b["GET"]:
                    errors.append((a, b))
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    ts = [threading.Thread(target=worker) for _ in range(20)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors, errors[:5]
    assert rc.get("x") == b"300"


def test_json_failed_watch_exec_null(kh, rc):
    with HttpConn(kh.http) as c:
        assert c.get("/WATCH/w").json() == {"WATCH": [True, "OK"]}
        rc.set("w", "changed")
        c.request("POST", "/?atomic=1", {"Content-Type": "application/json"},
                  json.dumps([["SET", "w", "mine"]]))
        r = c.read_response()
        assert J(r) == {"EXEC": None}
    assert rc.get("w") == b"changed"


@pytest.mark.parametrize("body", [b"", b"[", b"{}", b'{"cmd":["GET","k"]}', b"[]", b"[[]]",
                                  b"[true]", b'["GET",null]', b'["GET",{"a":1}]',
                                  b'[["GET","k"],"x"]', b'[["GET","k"],[]]', b'"GET"', b"42",
                                  b'["GET","k"] trailing', b"\xff\xfe"])
def test_json_malformed_is_400(kh, body):
    with HttpConn(kh.http) as c:
        c.request("POST", "/", {"Content-Type": "application/json"}, body)
        r = c.read_response()
        assert_json_error(r, 400)
        usable_or_closed(c, kh.http)


# ==========================================================================
# MULTI/EXEC/WATCH across requests on one connection

def test_disabled_command_inside_multi_aborts_exec(kh, rc):
    """A command refused over HTTP between MULTI and EXEC dooms the
    transaction, as a command the server rejects does (Redis: EXECABORT)."""
    with HttpConn(kh.http) as c:
        assert c.get("/MULTI").json() == {"MULTI": [True, "OK"]}
        assert c.get("/SET/dm/v").json() == {"SET": [True, "QUEUED"]}
        assert c.get("/FLUSHDB").status == 403
        assert c.get("/EXEC").json() == {
            "EXEC": [False, "EXECABORT Transaction discarded because of previous errors."]}
    assert rc.exists("dm") == 0


def test_multi_exec_across_requests(kh, rc):
    with HttpConn(kh.http) as c:
        assert c.get("/MULTI").json() == {"MULTI": [True, "OK"]}
        assert c.get("/SET/m/v").json() == {"SET": [True, "QUEUED"]}
        assert c.get("/INCR/mc").json() == {"INCR": [True, "QUEUED"]}
        # nothing ran yet: another client sees nothing
        assert rc.exists("m", "mc") == 0
        assert c.get("/EXEC").json() == {"EXEC": [[True, "OK"], 1]}
        assert c.get("/EXEC").json() == {"EXEC": [False, "ERR EXEC without MULTI"]}
        assert c.get("/MULTI").json() == {"MULTI": [True, "OK"]}
        assert c.get("/INCR/mc").json() == {"INCR": [True, "QUEUED"]}
        assert c.get("/DISCARD").json() == {"DISCARD": [True, "OK"]}
    assert rc.get("mc") == b"1"
    # a JSON command inside a MULTI opened by a URL request
    with HttpConn(kh.http) as c:
        c.get("/MULTI")
        c.request("POST", "/", {"Content-Type": "application/json"}, b'["INCR","mc"]')
        assert c.read_response().json() == {"INCR": [True, "QUEUED"]}
        assert c.get("/EXEC.raw").body == b"*1\r\n:2\r\n"


def test_watch_across_requests(kh, rc):
    rc.set("w", "1")
    with HttpConn(kh.http) as c:
        assert c.get("/WATCH/w").json() == {"WATCH": [True, "OK"]}
        rc.set("w", "2")
        c.get("/MULTI")
        c.get("/SET/w/mine")
        assert c.get("/EXEC").json() == {"EXEC": None}
        # unwatched after EXEC: a second transaction goes through
        c.get("/MULTI")
        c.get("/SET/w/mine")
        assert c.get("/EXEC").json() == {"EXEC": [[True, "OK"]]}
    assert rc.get("w") == b"mine"


def test_transaction_dies_with_connection(kh, rc):
    c = HttpConn(kh.http)
    c.get("/MULTI")
    c.get("/SET/lost/v")
    c.close()
    time.sleep(0.2)
    with HttpConn(kh.http) as c2:
        # a new connection is a new client: not in MULTI
        assert c2.get("/GET/lost").json() == {"GET": None}
        assert c2.get("/EXEC").json() == {"EXEC": [False, "ERR EXEC without MULTI"]}
    assert rc.exists("lost") == 0


# ==========================================================================
# Pub/sub: chunked streams and Server-Sent Events

def _wait_numsub(srv, channel, want, timeout=3.0):
    deadline = time.monotonic() + timeout
    while True:
        got = srv.resp("PUBSUB", "NUMSUB", channel)[1]
        if got == want:
            return
        assert time.monotonic() < deadline, "PUBSUB NUMSUB %s = %r, want %r" % (channel, got, want)
        time.sleep(0.05)


def test_subscribe_chunks(kh):
    with HttpConn(kh.http) as c:
        c.request("GET", "/SUBSCRIBE/c1/c2")
        head = c.read_stream_head()
        assert head.status == 200
        assert (head.header("transfer-encoding") or "").lower() == "chunked"
        assert ctype(head) == "application/json"
        assert head.header("access-control-allow-origin") == "*"
        assert json.loads(c.read_chunk()) == {"SUBSCRIBE": ["subscribe", "c1", 1]}
        assert json.loads(c.read_chunk()) == {"SUBSCRIBE": ["subscribe", "c2", 2]}
        assert kh.resp("PUBLISH", "c1", "hello") == 1
        assert c.read_chunk() == b'{"SUBSCRIBE":["message","c1","hello"]}'
        kh.resp("PUBLISH", "c2", b"\xff\x00")
        assert json.loads(c.read_chunk()) == {
            "SUBSCRIBE": ["message", "c2", {"base64": base64.b64encode(b"\xff\x00").decode()}]}
        for i in range(50):
            kh.resp("PUBLISH", "c1", "m%d" % i)
        for i in range(50):
            assert json.loads(c.read_chunk()) == {"SUBSCRIBE": ["message", "c1", "m%d" % i]}


def test_psubscribe_chunks(kh):
    with HttpConn(kh.http) as c:
        c.request("GET", "/PSUBSCRIBE/news.*")
        head = c.read_stream_head()
        assert head.status == 200
        assert json.loads(c.read_chunk()) == {"PSUBSCRIBE": ["psubscribe", "news.*", 1]}
        kh.resp("PUBLISH", "news.tech", "hi")
        assert json.loads(c.read_chunk()) == {"PSUBSCRIBE": ["pmessage", "news.*", "news.tech",
                                                             "hi"]}


def test_publish_from_redis_cli_reaches_http(kh):
    with HttpConn(kh.http) as c:
        c.request("GET", "/SUBSCRIBE/xproto")
        c.read_stream_head()
        c.read_chunk()
        p = subprocess.run(["redis-cli", "-p", str(kh.port), "PUBLISH", "xproto", "from cli"],
                           capture_output=True, timeout=10)
        assert p.stdout.strip() == b"1"
        assert json.loads(c.read_chunk()) == {"SUBSCRIBE": ["message", "xproto", "from cli"]}


def test_publish_from_http_reaches_resp(kh):
    if redis is None:
        pytest.skip("redis-py missing")
    r = redis.Redis(host=HOST, port=kh.port, socket_timeout=5)
    ps = r.pubsub()
    try:
        ps.subscribe("tohttp")
        assert ps.get_message(timeout=2)["type"] == "subscribe"
        assert J(get(kh.http, "/PUBLISH/tohttp/hey")) == {"PUBLISH": 1}
        m = ps.get_message(timeout=2)
        assert m["type"] == "message" and m["data"] == b"hey"
    finally:
        ps.close()
        r.close()


def test_disconnect_unsubscribes(kh):
    c = HttpConn(kh.http)
    c.request("GET", "/SUBSCRIBE/bye1/bye2")
    c.read_stream_head()
    c.read_chunk()
    c.read_chunk()
    _wait_numsub(kh, "bye1", 1)
    c.close()
    _wait_numsub(kh, "bye1", 0)
    _wait_numsub(kh, "bye2", 0)
    # patterns too
    c = HttpConn(kh.http)
    c.request("GET", "/PSUBSCRIBE/byep*")
    c.read_stream_head()
    c.read_chunk()
    assert kh.resp("PUBSUB", "NUMPAT") >= 1
    c.close()
    deadline = time.monotonic() + 3
    while kh.resp("PUBSUB", "NUMPAT") != 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # a PUBLISH after the subscriber vanished reaches nobody and harms nothing
    assert kh.resp("PUBLISH", "bye1", "x") == 0


def test_disconnect_while_messages_flow(kh):
    """Subscribers that vanish while messages are being delivered."""
    conns = []
    for i in range(10):
        c = HttpConn(kh.http)
        c.request("GET", "/SUBSCRIBE/flow")
        conns.append(c)
    for c in conns:
        c.read_stream_head()
    _wait_numsub(kh, "flow", 10)
    stop = threading.Event()

    def pub():
        with HttpConn(kh.port) as p:
            n = 0
            while not stop.is_set() and n < 2000:
                p.send(b"*3\r\n$7\r\nPUBLISH\r\n$4\r\nflow\r\n$100\r\n" + b"x" * 100 + b"\r\n")
                n += 1

    t = threading.Thread(target=pub)
    t.start()
    for c in conns:
        time.sleep(0.01)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()   # RST with unread data
    stop.set()
    t.join(10)
    _wait_numsub(kh, "flow", 0)


def _sse_events(data):
    """Parse a text/event-stream: list of ('data', json) and ('comment', text)."""
    out = []
    for block in data.decode("utf-8").split("\n\n"):
        if not block:
            continue
        for line in block.split("\n"):
            if line.startswith(":"):
                out.append(("comment", line[1:].strip()))
            elif line.startswith("data:"):
                out.append(("data", json.loads(line[5:].strip())))
    return out


def test_sse_stream_and_heartbeat(kh_lim):
    with HttpConn(kh_lim.http) as c:
        c.request("GET", "/SUBSCRIBE/ev", {"Accept": "text/event-stream"})
        head = c.read_stream_head()
        assert head.status == 200
        assert ctype(head) == "text/event-stream"
        assert head.header("access-control-allow-origin") == "*"
        got = c.read_stream_bytes(b"\n\n")
        assert got.startswith(b'data: {"SUBSCRIBE":["subscribe","ev",1]}\n\n'), got
        kh_lim.resp("PUBLISH", "ev", "hello")
        got = c.read_stream_bytes(b'hello"]}\n\n')
        assert b'data: {"SUBSCRIBE":["message","ev","hello"]}\n\n' in got
        # heartbeat every second (http-sse-heartbeat 1)
        t0 = time.monotonic()
        got = c.read_stream_bytes(b": keepalive\n\n", timeout=4)
        assert time.monotonic() - t0 < 3.0
        got += c.read_stream_bytes(b": keepalive\n\n", timeout=4)
        events = _sse_events(got)
        assert events.count(("comment", "keepalive")) >= 2
        # the stream is not closed by the idle timeout (2 s) while it lives
        time.sleep(2.5)
        kh_lim.resp("PUBLISH", "ev", "later")
        got = c.read_stream_bytes(b'later"]}\n\n')
        assert ("data", {"SUBSCRIBE": ["message", "ev", "later"]}) in _sse_events(got)
    _wait_numsub(kh_lim, "ev", 0)


def test_sse_psubscribe(kh_lim):
    with HttpConn(kh_lim.http) as c:
        c.request("GET", "/PSUBSCRIBE/ev*", {"Accept": "text/event-stream"})
        assert c.read_stream_head().status == 200
        c.read_stream_bytes(b"\n\n")
        kh_lim.resp("PUBLISH", "evx", "p")
        got = c.read_stream_bytes(b'"p"]}\n\n')
        assert ("data", {"PSUBSCRIBE": ["pmessage", "ev*", "evx", "p"]}) in _sse_events(got)


# ==========================================================================
# Auth

AUTH_BODY = {"error": "authentication required"}


def _basic(user, pw):
    return "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()


def test_auth_required(kh_auth):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer "},
                    {"Authorization": _basic("default", "wrong")},
                    {"Authorization": "Basic !!!notbase64"},
                    {"Authorization": "Digest secret"}, {"Authorization": "secret"}):
        r = get(kh_auth.http, "/PING", headers)
        assert r.status == 401, (headers, r)
        assert r.header("www-authenticate") == 'Basic realm="keel"'
        assert J(r) == AUTH_BODY
        assert r.header("access-control-allow-origin") == "*"
    r = post_json(kh_auth.http, ["SET", "k", "v"])
    assert r.status == 401
    # RESP clients still authenticate with AUTH
    assert isinstance(kh_auth.resp("GET", "k"), Err)


def test_auth_accepted(kh_auth):
    for headers in ({"Authorization": "Bearer secret"}, {"Authorization": "bearer secret"},
                    {"Authorization": _basic("default", "secret")},
                    {"Authorization": _basic("someone", "secret")}):
        r = get(kh_auth.http, "/PING", headers)
        assert r.status == 200, (headers, r)
        assert J(r) == {"PING": [True, "PONG"]}
    r = post_json(kh_auth.http, ["ECHO", "ok"], headers={"Authorization": "Bearer secret"})
    assert J(r) == {"ECHO": "ok"}
    if shutil.which("curl"):
        p = subprocess.run(["curl", "-s", "-u", "default:secret",
                            "http://%s:%d/ECHO/curl" % (HOST, kh_auth.http)],
                           capture_output=True, timeout=10)
        assert p.stdout == b'{"ECHO":"curl"}'


def test_auth_per_request_on_one_connection(kh_auth):
    with HttpConn(kh_auth.http) as c:
        r = c.get("/PING")
        assert r.status == 401
        if not c.wait_closed(0.2):
            r = c.roundtrip("GET", "/PING", {"Authorization": "Bearer secret"})
            assert r.status == 200
            # authorization is per request: the next one without it is refused
            assert c.get("/PING").status == 401


# ==========================================================================
# Network allow lists

def test_network_denied(kh_deny):
    with HttpConn(kh_deny.http) as c:
        c.request("GET", "/PING")
        r = c.read_response()
        assert_json_error(r, 403)
        assert c.wait_closed(2), "a denied peer's connection must be closed"
    # RESP is not governed by the HTTP allow list
    assert kh_deny.resp("PING") == b"PONG"


def test_network_list_changes_apply(kh_deny):
    try:
        for nets, ok in (("127.0.0.0/8", True), ("10.0.0.0/8 127.0.0.1/32", True),
                         ("127.0.0.2/32", False), ("0.0.0.0/0", True), ("::/0", False),
                         ("10.0.0.0/8", False)):
            assert kh_deny.resp("CONFIG", "SET", "http-allow-networks", nets) == b"OK"
            r = get(kh_deny.http, "/PING")
            assert r.status == (200 if ok else 403), (nets, r)
    finally:
        kh_deny.resp("CONFIG", "SET", "http-allow-networks", "10.0.0.0/8")


@pytest.mark.skipif(not HAVE_V6, reason="no IPv6 loopback on this machine")
def test_ipv6_allow_list(kh_v6):
    try:
        r = get(kh_v6.http, "/PING", host="::1")
        assert r.status == 200 and J(r) == {"PING": [True, "PONG"]}
        for nets, ok in (("fe80::/10", False), ("::/0", True), ("10.0.0.0/8", False),
                         ("::1", True), ("0:0:0:0:0:0:0:1/128 10.0.0.0/8", True),
                         ("::2/128", False), ("::/127", True)):
            assert kh_v6.resp("CONFIG", "SET", "http-allow-networks", nets) == b"OK"
            r = get(kh_v6.http, "/PING", host="::1")
            assert r.status == (200 if ok else 403), (nets, r)
    finally:
        kh_v6.resp("CONFIG", "SET", "http-allow-networks", "::1/128")


def test_bad_network_config_rejected(kh_open):
    for bad in ("10.0.0.0/33", "not-a-net", "::1/129", "10.0.0.0/8 x"):
        r = kh_open.resp("CONFIG", "SET", "http-allow-networks", bad)
        assert isinstance(r, Err), (bad, r)
    assert kh_open.resp("CONFIG", "GET", "http-allow-networks")[1] == b"0.0.0.0/0 ::/0"


# ==========================================================================
# Disabled commands

DEFAULT_DISABLED = ["FLUSHALL", "FLUSHDB", "CONFIG/GET/maxmemory", "DEBUG/SLEEP/0",
                    "SHUTDOWN", "KEYS/*", "flushall", "Config/get/port", "keys/*"]


@pytest.mark.parametrize("path", DEFAULT_DISABLED)
def test_default_disabled_commands(kh, path):
    kh.flushall()
    kh.resp("SET", "keep", "me")
    r = get(kh.http, "/" + path)
    assert_json_error(r, 403)
    assert kh.resp("GET", "keep") == b"me"


def test_disabled_in_json_and_post_forms(kh):
    kh.flushall()
    kh.resp("SET", "keep", "me")
    assert_json_error(post_json(kh.http, ["FLUSHALL"]), 403)
    assert_json_error(request(kh.http, "POST", "/", body=b"FLUSHDB"), 403)
    assert_json_error(request(kh.http, "PUT", "/KEYS", body=b"*"), 403)
    assert_json_error(get(kh.http, "/3/FLUSHDB"), 403)
    assert kh.resp("GET", "keep") == b"me"
    # the other commands of those groups are not blocked
    assert J(get(kh.http, "/SCAN/0"))["SCAN"][0] == "0"
    assert J(get(kh.http, "/DBSIZE")) == {"DBSIZE": 1}


def test_disabled_exact_match(kh_open):
    r = get(kh_open.http, "/SETEX/k/10/v")
    assert_json_error(r, 403)
    assert_json_error(get(kh_open.http, "/setex/k/10/v"), 403)
    # Webdis's prefix match would block SET too
    assert J(get(kh_open.http, "/SET/k/v")) == {"SET": [True, "OK"]}
    assert J(get(kh_open.http, "/SETNX/k2/v")) == {"SETNX": 1}
    try:
        assert kh_open.resp("CONFIG", "SET", "http-disabled-commands", "SET") == b"OK"
        assert_json_error(get(kh_open.http, "/SET/k/v"), 403)
        assert J(get(kh_open.http, "/SETEX/k/10/v")) == {"SETEX": [True, "OK"]}
        assert J(get(kh_open.http, "/GETSET/k/w")) == {"GETSET": "v"}
        # FLUSHALL is no longer in the list
        assert J(get(kh_open.http, "/FLUSHALL")) == {"FLUSHALL": [True, "OK"]}
    finally:
        kh_open.resp("CONFIG", "SET", "http-disabled-commands", "SETEX")


# ==========================================================================
# Endpoints

def _cmd_entry(table, name):
    return table.get(name.lower(), table.get(name.upper()))


def test_commands_endpoint(kh):
    r = get(kh.http, "/_commands")
    assert r.status == 200
    t = J(r)
    assert isinstance(t, dict) and len(t) > 100
    g = _cmd_entry(t, "get")
    assert g["arity"] == 2
    assert "readonly" in [f.lower() for f in g["flags"]]
    assert g["group"] == "string"
    assert g["since"] == "1.0.0"
    assert isinstance(g["key_specs"], list) and g["key_specs"]
    assert g["arguments"][0]["name"] == "key"
    s = _cmd_entry(t, "set")
    assert s["arity"] == -3
    names = [a["name"] for a in s["arguments"]]
    assert names[:2] == ["key", "value"]
    cfg = _cmd_entry(t, "config")
    subs = cfg["subcommands"]
    assert any(k.lower() in ("get", "config|get") for k in subs), list(subs)[:10]
    assert r.header("etag") == etag_of(r.body)


def test_health_endpoint(kh, rc):
    rc.mset({"h1": 1, "h2": 2})
    r7 = redis.Redis(host=HOST, port=kh.port, db=7)
    r7.set("h3", 3)
    r = get(kh.http, "/_health")
    assert r.status == 200
    h = J(r)
    assert set(h) >= {"status", "uptime_in_seconds", "connected_clients", "keys"}
    assert h["status"] == "ok"
    assert isinstance(h["uptime_in_seconds"], int) and h["uptime_in_seconds"] >= 0
    assert isinstance(h["connected_clients"], int) and h["connected_clients"] >= 2
    assert h["keys"] == 3
    r7.close()


METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$')


def _metrics(port):
    r = get(port, "/_metrics")
    assert r.status == 200
    assert ctype(r) == "text/plain"
    vals = {}
    for line in r.body.decode().splitlines():
        if not line or line.startswith("#"):
            assert not line or line.startswith("# HELP ") or line.startswith("# TYPE "), line
            continue
        m = METRIC_LINE.match(line)
        assert m, "not a Prometheus sample line: %r" % line
        vals[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return vals


def test_metrics_endpoint(kh, rc):
    rc.set("m1", "x")
    rc.set("m2", "y", ex=100)
    extra = HttpConn(kh.http)
    extra.get("/PING")
    try:
        before = _metrics(kh.http)
        for _ in range(3):
            get(kh.http, "/GET/m1")
        after = _metrics(kh.http)
    finally:
        extra.close()
    assert after["redis_up"] == 1
    assert after["redis_uptime_in_seconds"] >= 0
    assert after['redis_connected_clients{protocol="http"}'] >= 1
    assert after['redis_connected_clients{protocol="resp"}'] >= 1
    assert 'redis_connected_clients{protocol="ws"}' in after
    assert after['redis_commands_total{cmd="get"}'] - before['redis_commands_total{cmd="get"}'] == 3
    assert 'redis_commands_duration_seconds_total{cmd="get"}' in after
    assert after['redis_db_keys{db="db0"}'] == 2
    assert after['redis_db_keys_expiring{db="db0"}'] == 1
    assert after["redis_memory_used_bytes"] > 0
    assert after["redis_keyspace_hits_total"] >= 3
    assert "redis_keyspace_misses_total" in after
    assert after["redis_connections_received_total"] >= \
        before["redis_connections_received_total"] + 3


def test_unknown_underscore_path_404(kh):
    for path in ("/_nope", "/_health/x", "/_"):
        r = get(kh.http, path)
        assert_json_error(r, 404)


# ==========================================================================
# Limits

def test_url_too_long_414(kh_lim):
    with HttpConn(kh_lim.http) as c:
        c.request("GET", "/GET/" + "a" * 2000)
        r = c.read_response()
        assert_json_error(r, 414)
    # just below the limit is fine
    r = get(kh_lim.http, "/GET/" + "a" * 900)
    assert r.status == 200 and J(r) == {"GET": None}


def test_headers_too_large_431(kh_lim):
    r = get(kh_lim.http, "/PING", {"X-Big": "a" * 5000})
    assert_json_error(r, 431)
    r = get(kh_lim.http, "/PING", [("X-H%d" % i, "v") for i in range(200)])
    assert_json_error(r, 431)
    r = get(kh_lim.http, "/PING", {"X-Big": "a" * 2000})
    assert r.status == 200


def test_body_too_large_413(kh_lim):
    # declared too large: answered without waiting for the body
    with HttpConn(kh_lim.http) as c:
        c.send(b"PUT /SET/big HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n")
        r = c.read_response(timeout=3)
        assert_json_error(r, 413)
    with HttpConn(kh_lim.http) as c:
        c.send(b"PUT /SET/big HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n"
               b"Expect: 100-continue\r\n\r\n")
        r = c.read_response(timeout=3)
        assert_json_error(r, 413)
    r = post_json(kh_lim.http, ["SET", "big", "x" * 20000])
    assert_json_error(r, 413)
    # chunked: the sum of chunks counts
    with HttpConn(kh_lim.http) as c:
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(4):
                c.send(b"1000\r\n" + b"x" * 4096 + b"\r\n")
                time.sleep(0.05)
        except OSError:
            pass    # the server answered and closed early
        r = c.read_response(timeout=3)
        assert_json_error(r, 413)
    assert kh_lim.resp("EXISTS", "big") == 0
    r = request(kh_lim.http, "PUT", "/SET/big", body=b"x" * 9000)
    assert J(r) == {"SET": [True, "OK"]}


def test_header_timeout_408(kh_lim):
    with HttpConn(kh_lim.http) as c:
        c.send(b"GET /PING HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        r = c.read_response(timeout=5)
        assert_json_error(r, 408)
        assert 0.8 <= time.monotonic() - t0 < 4
        assert c.wait_closed(2)


def test_header_timeout_slowloris(kh_lim):
    """Headers trickling in byte by byte still time out after
    http-header-timeout seconds from the request's start."""
    with HttpConn(kh_lim.http) as c:
        t0 = time.monotonic()
        c.send(b"GET /PING HTTP/1.1\r\n")
        status = None
        while time.monotonic() - t0 < 5:
            try:
                c.send(b"X")
            except OSError:
                break
            if c.wait_closed(0.2) or c.buf:
                break
        if c.buf:
            r = c.read_response(timeout=2)
            status = r.status
        assert status == 408 or c.closed
        assert time.monotonic() - t0 < 4


def test_idle_timeout_closes_silently(kh_lim):
    with HttpConn(kh_lim.http) as c:
        assert c.get("/PING").status == 200
        t0 = time.monotonic()
        assert c.wait_closed(6), "idle keep-alive connection not closed"
        assert 1.5 <= time.monotonic() - t0 < 5
        assert bytes(c.buf) == b"", "an idle close must send nothing"
    with HttpConn(kh_lim.http) as c:
        assert c.wait_closed(6)
        assert bytes(c.buf) == b""


def test_version_505(kh):
    for v in (b"HTTP/2.0", b"HTTP/0.9", b"HTTP/3.0"):
        with HttpConn(kh.http) as c:
            c.send(b"GET /PING " + v + b"\r\nHost: x\r\n\r\n")
            r = c.read_response()
            assert_json_error(r, 505)


def test_transfer_coding_501(kh):
    for te in (b"gzip", b"gzip, chunked", b"deflate"):
        with HttpConn(kh.http) as c:
            c.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te + b"\r\n\r\n")
            r = c.read_response()
            assert_json_error(r, 501)


@pytest.mark.parametrize("data", [
    b"garbage\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /PING\r\n\r\n",
    b"GET /PING HTTP/1.1 extra\r\n\r\n",
    b"GET PING HTTP/1.1\r\n\r\n",
    b"GET /PING HTTP/1.1\r\nNoColon\r\n\r\n",
    b"GET /PING HTTP/1.1\r\n: empty-name\r\n\r\n",
    b"GET /PING HTTP/1.1\r\nBad Name: x\r\n\r\n",
    b"GET /PING HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    b"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX",
    b"GET /PI\x00NG HTTP/1.1\r\n\r\n",
    b"GET /PING HTTP/1.1\r\nX: a\x01b\r\n\r\n",
])
def test_malformed_requests_400(kh, data):
    with HttpConn(kh.http) as c:
        c.send(data)
        r = c.read_response()
        assert_json_error(r, 400)
        assert c.wait_closed(2), "a framing error must close the connection"


def test_empty_command(kh):
    # GET / and an empty POST body are no command (Webdis: 403); Keel answers
    # with a 4xx JSON error (http_common.txt leaves the code open).
    for method, body in (("GET", None), ("POST", b"")):
        r = request(kh.http, method, "/", body=body)
        assert 400 <= r.status < 500, r
        assert isinstance(J(r).get("error"), str)


# ==========================================================================
# Isolation: bad clients do not affect others

def test_bad_clients_do_not_affect_others(kh, rc):
    rc.set("good", "0")
    stop = threading.Event()
    errors = []

    def bad(kind):
        try:
            while not stop.is_set():
                s = socket.create_connection((HOST, kh.http), timeout=2)
                try:
                    if kind == "garbage":
                        s.sendall(b"\x00\xff" * 500 + b"\r\n\r\n")
                    elif kind == "half":
                        s.sendall(b"GET /SET/half/")
                    elif kind == "bighdr":
                        s.sendall(b"GET /PING HTTP/1.1\r\nX: " + b"a" * 40000 + b"\r\n\r\n")
                    elif kind == "shortbody":
                        s.sendall(b"PUT /SET/sb HTTP/1.1\r\nContent-Length: 100000\r\n\r\nabc")
                    elif kind == "subscribe":
                        s.sendall(b"GET /SUBSCRIBE/bad HTTP/1.1\r\n\r\n")
                    elif kind == "flood":
                        s.sendall(b"GET /LRANGE/biglist/0/-1 HTTP/1.1\r\n\r\n" * 20)
                        time.sleep(0.2)
                    elif kind == "json":
                        s.sendall(b"POST / HTTP/1.1\r\nContent-Type: application/json\r\n"
                                  b"Content-Length: 9\r\n\r\n[[[[[[[[[")
                    elif kind == "slow":
                        s.sendall(b"GET /PING HTTP/1.1\r\n")
                        time.sleep(0.3)
                    time.sleep(0.02)
                finally:
                    s.close()
        except OSError:
            pass
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    rc.rpush("biglist", *[b"x" * 100] * 1000)
    kinds = ["garbage", "half", "bighdr", "shortbody", "subscribe", "flood", "json", "slow"]
    threads = [threading.Thread(target=bad, args=(k,)) for k in kinds]
    for t in threads:
        t.start()
    try:
        with HttpConn(kh.http, timeout=5) as c:
            for i in range(1, 201):
                t0 = time.monotonic()
                r = c.get("/INCR/good")
                assert r.status == 200 and r.json() == {"INCR": i}, r
                assert time.monotonic() - t0 < 2.0, "a good request took %.2fs" % (
                    time.monotonic() - t0)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert not errors, errors
    assert rc.get("good") == b"200"
    assert rc.exists("half", "sb") == 0
    _wait_numsub(kh, "bad", 0)


def test_slow_reader_does_not_block_others(kh, rc):
    """A client that pipelines big replies and never reads them."""
    rc.rpush("big", *[b"y" * 1000] * 1000)
    s = socket.create_connection((HOST, kh.http))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        try:
            s.settimeout(3)
            for _ in range(100):
                s.sendall(b"GET /LRANGE/big/0/-1 HTTP/1.1\r\nHost: x\r\n\r\n")
        except (socket.timeout, OSError):
            pass
        t0 = time.monotonic()
        with HttpConn(kh.http) as c:
            for _ in range(20):
                assert c.get("/PING").status == 200
        assert time.monotonic() - t0 < 3
    finally:
        s.close()


def test_pipeline_flood_from_vanished_client(kh, rc):
    """A client pipelines many requests with big answers and disconnects
    without reading: the server must not spend seconds computing answers
    nobody reads while others wait (Redis reads 16 KB at a time and drops
    the client at the first failed write). Expected: backpressure (stop
    executing a connection's pipelined requests while its unsent output is
    large) and dropping the connection once the peer is gone."""
    rc.rpush("fl", *[b"z" * 100] * 100)          # ~10 KB per answer
    req = b"GET /LRANGE/fl/0/-1 HTTP/1.1\r\nHost: x\r\n\r\n"
    s = socket.create_connection((HOST, kh.http))
    s.settimeout(2)
    try:
        s.sendall(req * 20000)                    # ~200 MB of answers if all run
    except (socket.timeout, OSError):
        pass                                      # the server stopped reading: fine
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    t0 = time.monotonic()
    with HttpConn(kh.http, timeout=30) as c:
        assert c.get("/PING").status == 200
    assert time.monotonic() - t0 < 2.0, "PING waited %.1fs behind a vanished client's pipeline" \
        % (time.monotonic() - t0)


# ==========================================================================
# Cross-protocol

def test_resp_and_http_see_each_other(kh, rc):
    rc.set("from_resp", b"r\x00v")
    r = get(kh.http, "/GET/from_resp.bin")
    assert r.body == b"r\x00v"
    assert J(get(kh.http, "/SET/from_http/h")) == {"SET": [True, "OK"]}
    assert rc.get("from_http") == b"h"
    assert J(post_json(kh.http, ["HSET", "hh", "f", "v"])) == {"HSET": 1}
    assert rc.hgetall("hh") == {b"f": b"v"}
    rc.zadd("zz", {"m": 2})
    assert J(get(kh.http, "/ZSCORE/zz/m")) == {"ZSCORE": "2"}


def test_http_push_wakes_resp_blpop(kh, rc):
    out = {}

    def blpop():
        c = redis.Redis(host=HOST, port=kh.port, socket_timeout=10)
        out["v"] = c.blpop("q", timeout=5)
        c.close()

    t = threading.Thread(target=blpop)
    t.start()
    time.sleep(0.2)
    assert J(get(kh.http, "/RPUSH/q/job")) == {"RPUSH": 1}
    t.join(10)
    assert out["v"] == (b"q", b"job")


def test_http_blocking_command(kh, rc):
    """BLPOP over HTTP waits on its connection and answers when a RESP client
    pushes; other HTTP clients are not blocked meanwhile."""
    res = {}

    def http_blpop():
        res["r"] = get(kh.http, "/BLPOP/hq/5", timeout=10)

    t = threading.Thread(target=http_blpop)
    t.start()
    time.sleep(0.2)
    assert J(get(kh.http, "/PING")) == {"PING": [True, "PONG"]}
    rc.rpush("hq", "x")
    t.join(10)
    assert J(res["r"]) == {"BLPOP": ["hq", "x"]}
