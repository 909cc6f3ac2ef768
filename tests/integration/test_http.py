"""Keel's HTTP/JSON adapter (issue 5): every
point of the issue against a spawned Keel with an HTTP port, with Python's
http.client, raw sockets (pipelining, partial requests, chunked streams,
timeouts) and curl. Byte-for-byte comparisons with Webdis live in
test_http_webdis.py; this file checks Keel's own documented behaviour,
including where it deliberately goes beyond Webdis.

Servers (kh, kh_open, kh_auth, kh_deny, kh_v6, kh_lim): http_servers.py,
each a Keel process with `--http-port N`, module-scoped, checked after every
test for crashes and sanitizer reports. Access, endpoints, limits and
isolation are in test_http_access.py.
"""

from http_servers import *  # noqa: F401,F403 (fixtures and helpers)


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
    assert ctype(r) == "binary/octet-stream"


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
           ("css", "text/css"), ("bin", "binary/octet-stream")]


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
