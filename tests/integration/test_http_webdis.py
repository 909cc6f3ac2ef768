"""Keel's HTTP adapter against Webdis (issue 5): the same requests to Keel's
HTTP port and to Debian's webdis 0.1.9 in front of redis-server 7.0, with
status, the relevant headers (Content-Type, ETag, Access-Control-Allow-Origin)
and the body compared byte for byte.

Every case is a sequence of requests played on one keep-alive connection to
each server after FLUSHALL on both backends (over RESP: FLUSHALL is disabled
over Keel's HTTP by default). Where Keel deliberately differs from Webdis
(decided in /work/briefs/http_common.txt) the case compares only what is
shared and a Keel-only test below (or in test_http.py) checks Keel's
documented behaviour; each such place says so in a comment.

What Webdis does (recorded from webdis 0.1.9 + redis-server 7.0.15), for the
reader who has to match it:
- headers on every answer: Server: Webdis, Allow: GET,POST,PUT,OPTIONS,
  Access-Control-Allow-Methods: GET,POST,PUT,OPTIONS,
  Access-Control-Allow-Origin: *, Access-Control-Allow-Headers:
  X-Requested-With, Content-Type, Authorization, then Content-Type, ETag
  (200 only), Connection: Keep-Alive | Close, Content-Length.
- JSON: {"<cmd as typed>": v}; status [true,"OK"]; error [false,"ERR ..."]
  (HTTP 200); integers as numbers (64-bit exact); strings escaped like
  jansson (\\" \\\\ \\n \\r \\t \\b \\f \\u0001; DEL 0x7f, '/', U+2028 and
  non-ASCII UTF-8 left raw); HGETALL an object; empty array []; ZSCORE "1.5".
- .raw: RESP bytes with Content-Type "binary/octet-stream"; .txt/.html/.xml/
  .png/.jpg/.jpeg/.css/.xhtml/.js: text/plain, text/html, text/xml, image/png,
  image/jpeg, image/jpeg, text/css, application/xhtml+xml,
  application/javascript; a string's raw bytes, an integer in decimal, a
  status as "+OK", an error as "-ERR ...", an array its strings concatenated
  (?sep=, joins them), nil -> "404 Not found" with an empty body and no
  Content-Type. ?type=x/y sets the Content-Type of any of those.
- an unknown suffix (".msg", ".JSON") stays part of the last argument;
  "%2E" hides a dot; "+" and "%20" are spaces; "%2F" and "%00" are bytes of
  the argument; a trailing "/" is one more, empty, argument; /7/CMD selects
  db 7.
- JSONP (?jsonp=cb or ?callback=cb): body "cb(<json>);\\n", ETag of that body.
- If-None-Match equal to the ETag -> "304 Not Modified", no body, no ETag.
- POST / with body "CMD/arg/..." (any Content-Type, the URL is ignored), a
  chunked POST body works too; PUT /CMD/arg... with the raw body as last
  argument; "Expect: 100-continue" -> "HTTP/1.1 100 Continue\\r\\n\\r\\n" first.
- OPTIONS -> 200 with Content-Type text/html and an empty body; DELETE/HEAD
  -> 405 with an empty body; an empty command (GET /, POST with empty body)
  -> 403; MULTI/EXEC/WATCH/SELECT -> 403.
- SUBSCRIBE: 200, application/json, Transfer-Encoding: chunked, one chunk per
  message: {"SUBSCRIBE":["subscribe","c1",1]}, {"SUBSCRIBE":["message","c1","hi"]}.
Webdis defects Keel fixes (Keel-only tests): pipelined answers in reverse
order; nested arrays shown as null; strings with NUL truncated and non-UTF-8
strings shown as {}; nils and integers silently dropped from arrays in the
raw-bytes formats; HTTP/2.0 answered as 1.0; unknown Transfer-Encoding
ignored. INFO is an object of fields in both (Keel: one per field:value
line, as today's Webdis; test_http_webdis_today.py).
"""

import os
import subprocess
import time

import pytest

from test_http_helpers import (HttpConn, WebdisPair, check_health, etag_of,
                               have_webdis, keel_http_fixture)

# Webdis's Content-Type for .raw. http_common.txt names no type for .raw (it
# gives .bin application/octet-stream, where Webdis says binary/octet-stream),
# so Keel must match Webdis's here.
RAW_TYPE = "binary/octet-stream"


@pytest.fixture(scope="module")
def webdis():
    if not have_webdis():
        pytest.skip("webdis not installed (apt-get install webdis)")
    w = WebdisPair()
    try:
        w.start()
    except RuntimeError as e:
        w.stop()
        pytest.skip(str(e))
    yield w
    w.stop()


class _WebdisAsKeel(WebdisPair):
    """WEBDIS_SELFTEST=1: a second webdis stands in for Keel, to validate the
    comparisons themselves (the Keel-only assertions then fail, as they must)."""

    @property
    def port(self):
        return self.redis_port

    def health(self):
        return None

    def ensure_running(self):
        pass


@pytest.fixture(scope="module")
def kh():
    if os.environ.get("WEBDIS_SELFTEST"):
        if not have_webdis():
            pytest.skip("webdis not installed")
        w = _WebdisAsKeel().start()
        yield w
        w.stop()
        return
    yield from keel_http_fixture()


@pytest.fixture(autouse=True)
def _health(kh):
    kh.ensure_running()
    kh.health()
    yield
    check_health(kh)


# --------------------------------------------------------------------------
# The comparison

ALL = ("status", "content-type", "etag", "origin", "body")


class R:
    """One request of a case and what of its answer is compared."""

    def __init__(self, path, method="GET", headers=None, body=None, cmp=ALL):
        self.path, self.method, self.headers, self.body = path, method, headers, body
        self.cmp = cmp

    def __repr__(self):
        return "%s %s%s" % (self.method, self.path,
                            (" body=%r" % self.body) if self.body is not None else "")


def _step(x):
    return x if isinstance(x, R) else R(x)


def _fields(resp, cmp):
    out = {}
    if "status" in cmp:
        out["status"] = resp.status
    if "content-type" in cmp:
        out["content-type"] = resp.content_type
    if "etag" in cmp:
        out["etag"] = resp.header("etag")
    if "origin" in cmp:
        out["origin"] = resp.header("access-control-allow-origin")
    if "body" in cmp:
        out["body"] = resp.body
    return out


def play(port, steps):
    out = []
    with HttpConn(port) as c:
        for s in steps:
            c.request(s.method, s.path, s.headers, s.body)
            out.append(c.read_response())
    return out


def same(kh, webdis, *steps):
    """Play steps on both; assert the compared fields are equal. Returns
    (keel responses, webdis responses)."""
    steps = [_step(s) for s in steps]
    kh.flushall()
    webdis.flushall()
    kr = play(kh.http, steps)
    wr = play(webdis.http, steps)
    bad = []
    for i, s in enumerate(steps):
        fk, fw = _fields(kr[i], s.cmp), _fields(wr[i], s.cmp)
        if fk != fw:
            bad.append("#%d %r\n    keel:   %r\n    webdis: %r" % (i, s, fk, fw))
        if kr[i].status == 200 and kr[i].header("etag") != etag_of(kr[i].body):
            bad.append("#%d %r: Keel's ETag %r is not the md5 of its body"
                       % (i, s, kr[i].header("etag")))
    assert not bad, "%d/%d answers differ:\n%s" % (len(bad), len(steps), "\n".join(bad))
    return kr, wr


# --------------------------------------------------------------------------
# JSON replies

def test_string_commands(kh, webdis):
    same(kh, webdis, "/SET/hello/world", "/GET/hello", "/GET/nokey", "/STRLEN/hello",
         "/APPEND/hello/!", "/GETRANGE/hello/0/2", "/SET/k/v/EX/abc", "/EXISTS/hello/nokey")


def test_integers(kh, webdis):
    same(kh, webdis, "/INCR/n", "/INCR/n", "/INCRBY/n/-5", "/SET/big/9223372036854775806",
         "/INCR/big", "/INCR/big", "/DECRBY/neg/9223372036854775807", "/DECR/neg", "/DECR/neg",
         "/TTL/big", "/OBJECT/ENCODING/big")


def test_status_and_errors(kh, webdis):
    same(kh, webdis, "/PING", "/PING/hello", "/SET/k/v", "/TYPE/k", "/TYPE/nokey",
         "/LPUSH/k/x", "/GET", "/GET/a/b", "/NOPE", "/NOPE/a/b", "/ECHO/x")


def test_command_name_as_typed(kh, webdis):
    same(kh, webdis, "/set/k/v", "/get/k", "/GeT/k", "/GeT/k.json", "/Ping")


def test_arrays_and_objects(kh, webdis):
    same(kh, webdis, "/RPUSH/l/a/b/c", "/LRANGE/l/0/-1", "/LRANGE/nokey/0/-1",
         "/SET/k/v", "/MGET/k/nokey/k", "/HSET/h/f1/v1/f2/v2", "/HGETALL/h",
         "/HGETALL/nokey", "/HSET/hn/1/x", "/HGETALL/hn", "/SMEMBERS/nokey",
         "/SADD/s/only", "/SMEMBERS/s", "/LPOP/nokey", "/LPOP/l")


def test_zset_scores_are_strings(kh, webdis):
    same(kh, webdis, "/ZADD/z/1.5/a", "/ZSCORE/z/a", "/ZRANGE/z/0/-1/WITHSCORES",
         "/ZADD/z2/1e3/a", "/ZRANGE/z2/0/-1/WITHSCORES", "/ZINCRBY/z2/0.1/a",
         "/ZRANGE/nokey/0/-1/WITHSCORES")


def test_json_string_escapes(kh, webdis):
    same(kh, webdis, "/ECHO/%09%0D%08%0C%7F%2F%E2%80%A8%3C%3E%26%27",
         "/SET/q/%22%5C%0A%01%1F", "/GET/q", "/SET/u/%C3%A9t%C3%A9%20%F0%9F%98%80", "/GET/u")


# --------------------------------------------------------------------------
# URL decoding

def test_url_decoding(kh, webdis):
    same(kh, webdis, "/SET/a%2Fb/x%00y", "/STRLEN/a%2Fb", "/GET/a%2Fb.raw",
         "/SET/sp/a+b%20c", "/GET/sp", "/SET/pct/%25%2b", "/GET/pct",
         "/SET/lower/%2f%3f%23", "/GET/lower")


def test_extension_rules(kh, webdis):
    # An unknown suffix stays part of the argument; extensions are case-
    # sensitive; %2E hides a dot; the extension is the last dot of the URL.
    # (.msg is one for Keel, as for a webdis built with msgpack; Debian's is
    # not: test_http_webdis_today.py.)
    same(kh, webdis, "/SET/k.gz/vv", "/GET/k.gz", "/GET/k.gz.txt", "/GET/k.gz.json",
         "/SET/sr/x", "/GET/sr.JSON", "/GET/sr.TXT", "/GET/sr.", "/SET/d%2Ejson/dotted",
         "/GET/d%2Ejson", "/GET/d.json", "/SET/file.tar.gz/t", "/GET/file.tar.gz",
         "/GET/file.tar.gz.txt")


def test_empty_arguments(kh, webdis):
    # A trailing '/' is one more (empty) argument; '//' an empty one in between.
    same(kh, webdis, "/SET/e/", "/GET/e", "/STRLEN/e", "/SET//x", "/GET/", "/GET//",
         "/GET/e/")


def test_db_prefix(kh, webdis):
    same(kh, webdis, "/7/SET/k/seven", "/7/GET/k", "/GET/k", "/SET/k/zero", "/7/GET/k",
         "/0/GET/k", "/7/DBSIZE", "/DBSIZE")


# --------------------------------------------------------------------------
# Formats

EXT_TYPES = ["txt", "html", "xml", "png", "jpg", "jpeg", "css", "xhtml", "js"]


@pytest.mark.parametrize("ext", EXT_TYPES)
def test_format_of_string(kh, webdis, ext):
    # .js is JSON with another Content-Type: there a non-UTF-8 value is
    # {"base64":..} in Keel (http_common.txt) and cut at the NUL by Webdis.
    value = "v%C3%A9" if ext == "js" else "v%00%FF"
    same(kh, webdis, "/SET/k/" + value, "/GET/k." + ext, "/INCR/n." + ext)


def test_format_raw(kh, webdis):
    kr, _ = same(kh, webdis, "/SET/k/v", "/GET/k.raw", "/GET/nokey.raw", "/RPUSH/l/a/b/c",
                 "/LRANGE/l/0/-1.raw", "/LRANGE/nokey/0/-1.raw", "/HSET/h/f1/v1/f2/v2",
                 "/HGETALL/h.raw", "/EXISTS/k.raw", "/NOPE.raw", "/PING.raw", "/TYPE/k.raw",
                 "/LRANGE/l/0/-1.raw?sep=,")
    assert kr[1].content_type == RAW_TYPE


def test_format_bin(kh, webdis):
    # .bin: binary/octet-stream, as Webdis (issue 16).
    same(kh, webdis, "/SET/k/%FF%00v", "/GET/k.bin", "/INCR/n.bin")


def test_format_text_forms(kh, webdis):
    # Webdis's text forms: "+STATUS", "-ERR ...", integers in decimal, the
    # strings of an array concatenated (or joined with ?sep=).
    same(kh, webdis, "/PING.txt", "/SET/k/v.txt", "/TYPE/k.txt", "/NOPE.txt", "/LPUSH/k/x.txt",
         "/RPUSH/l/a/b/c.txt", "/LRANGE/l/0/-1.txt", "/LRANGE/l/0/-1.txt?sep=,",
         "/LRANGE/l/0/-1.html?sep=<br>", "/LRANGE/l/0/-1.txt?sep=--",
         "/LRANGE/nokey/0/-1.txt", "/HSET/h/f1/v1/f2/v2", "/HGETALL/h.txt",
         "/HGETALL/h.txt?sep=:", "/LRANGE/l/0/-1.json?sep=,")


def test_nil_in_text_formats_is_404(kh, webdis):
    # Webdis: 404 with an empty body and no Content-Type; Keel may carry a
    # JSON error body (http_common.txt), so only the status is compared.
    st = ("status",)
    same(kh, webdis, R("/GET/nokey.txt", cmp=st), R("/GET/nokey.bin", cmp=st),
         R("/GET/nokey.png", cmp=st), R("/GET/nokey.html", cmp=st), R("/LPOP/nokey.txt", cmp=st),
         "/GET/nokey.json", "/GET/nokey.raw")


def test_type_query(kh, webdis):
    same(kh, webdis, "/SET/k/v", "/GET/k?type=application/pdf", "/GET/k.txt?type=foo/bar",
         "/RPUSH/l/a/b", "/LRANGE/l/0/-1?type=text/csv&sep=,", "/LRANGE/l/0/-1.txt?sep=;",
         # ?type= wins over .json and .raw: the bare value, errors as -ERR, nil 404
         "/GET/k.json?type=text/plain", "/GET/k.raw?type=text/plain", "/GET/nokey.json?type=a/b",
         "/INCR/k.raw?type=text/plain", "/LRANGE/l/0/-1.json?type=text/plain",
         "/GET/k.json?type=text/plain&jsonp=f")


def test_query_values_not_decoded(kh, webdis):
    # Webdis takes ?type=, ?sep= and ?jsonp= values verbatim, %XX included:
    # type=text/plain%3B... is sent as that Content-Type, sep=%3Cbr%3E joins
    # with the 9 characters "%3Cbr%3E". http_common.txt does not say Keel
    # decodes them, so Webdis's behaviour is the spec here.
    same(kh, webdis, "/SET/k/v", "/GET/k?type=text/plain%3B+charset%3Dutf-8",
         "/RPUSH/l/a/b", "/LRANGE/l/0/-1.txt?sep=%2C")


def test_jsonp_body(kh, webdis):
    # JSONP: Keel sends Content-Type application/javascript where Webdis says
    # application/json (http_common.txt); the body "cb(<json>);\n" and its
    # ETag must be Webdis's.
    cmp = ("status", "etag", "origin", "body")
    kr, _ = same(kh, webdis, "/SET/k/v", R("/GET/k?jsonp=cb", cmp=cmp),
                 R("/GET/k?callback=cb", cmp=cmp), R("/GET/nokey?jsonp=my.cb_1$", cmp=cmp),
                 R("/LRANGE/nokey/0/-1?callback=_x", cmp=cmp))
    assert kr[1].content_type.split(";")[0] == "application/javascript"


# --------------------------------------------------------------------------
# Methods and bodies

def test_post_form_body(kh, webdis):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    same(kh, webdis,
         R("/", "POST", body="SET/pk/a%2Fb+c"),
         R("/", "POST", body="GET/pk"),
         R("/", "POST", form, body="GET/pk"),
         R("/", "POST", body="GET/pk.raw"),
         R("/", "POST", body="GET/pk.txt"),
         R("/?jsonp=f", "POST", body="GET/pk", cmp=("status", "etag", "body")),
         R("/", "POST", body="7/SET/pk/seven"),
         R("/", "POST", body="7/GET/pk"))


def test_post_chunked_body(kh, webdis):
    te = {"Transfer-Encoding": "chunked"}
    same(kh, webdis, "/SET/pp/2",
         R("/", "POST", te, body=b"6\r\nGET/pp\r\n0\r\n\r\n"),
         R("/", "POST", te, body=b"3\r\nGET\r\n3\r\n/pp\r\n0\r\n\r\n"))


def test_put_body_is_last_argument(kh, webdis):
    same(kh, webdis,
         R("/SET/put", "PUT", body=b"a/b+c%2F"),
         "/GET/put",
         R("/SET/put3", "PUT", body=b"\xff\x00z"),
         "/GET/put3.raw", "/STRLEN/put3",
         R("/SET/put4.txt", "PUT", body=b"z"),
         "/GET/put4",
         R("/RPUSH/pl/first", "PUT", body=b"second"),
         "/LRANGE/pl/0/-1")


def test_expect_100_continue(kh, webdis):
    out = {}
    for name, port in (("keel", kh.http), ("webdis", webdis.http)):
        with HttpConn(port) as c:
            c.send(b"PUT /SET/up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                   b"Expect: 100-continue\r\n\r\n")
            interim = c.read_response(timeout=3)
            c.send(b"hello")
            final = c.read_response()
            c.request("GET", "/GET/up")
            after = c.read_response()
            out[name] = (interim.status, interim.raw, final.status, final.body, after.body)
    assert out["keel"] == out["webdis"]
    assert out["keel"][1] == b"HTTP/1.1 100 Continue\r\n\r\n"


def test_delete_is_405(kh, webdis):
    # (PATCH: Webdis 400, Keel 405 "other methods" by http_common.txt; in
    # test_http.py.)
    same(kh, webdis, R("/GET/k", "DELETE", cmp=("status", "origin")),
         R("/SET/k/v", "DELETE", body=b"x", cmp=("status", "origin")))


def test_options_status_differs(kh, webdis):
    # Webdis answers OPTIONS with 200 (text/html, empty); Keel's preflight is
    # 204 with Allow-Methods "GET, POST, PUT, OPTIONS" (http_common.txt).
    with HttpConn(kh.http) as c:
        r = c.roundtrip("OPTIONS", "/GET/k", {"Origin": "http://a.example",
                                              "Access-Control-Request-Method": "GET"})
    assert r.status == 204
    assert r.body == b""
    assert r.header("access-control-allow-origin") == "*"
    with HttpConn(webdis.http) as c:
        w = c.roundtrip("OPTIONS", "/GET/k")
    assert w.status == 200


# --------------------------------------------------------------------------
# Caching and CORS headers

def test_etag_and_304(kh, webdis):
    kh.flushall()
    webdis.flushall()
    res = {}
    hit_tag = {}
    for name, port in (("keel", kh.http), ("webdis", webdis.http)):
        with HttpConn(port) as c:
            c.get("/SET/k/v")
            first = c.get("/GET/k")
            hit = c.roundtrip("GET", "/GET/k", {"If-None-Match": first.header("etag")})
            miss = c.roundtrip("GET", "/GET/k", {"If-None-Match": '"0123456789abcdef0123456789abcdef"'})
            c.get("/SET/k/w")
            changed = c.roundtrip("GET", "/GET/k", {"If-None-Match": first.header("etag")})
            # Webdis's 304 has no ETag; RFC 9110 15.4.5 wants the one a 200
            # would carry, which Keel may send: not compared, checked below.
            hit_tag[name] = hit.header("etag")
            res[name] = [(first.status, first.header("etag"), first.body),
                         (hit.status, hit.body),
                         (miss.status, miss.body),
                         (changed.status, changed.body)]
    assert res["keel"] == res["webdis"]
    assert res["keel"][1][0] == 304
    assert hit_tag["keel"] in (None, res["keel"][0][1])


def test_cors_origin_star(kh, webdis):
    o = {"Origin": "http://a.example"}
    same(kh, webdis, R("/SET/k/v", headers=o), R("/GET/k", headers=o),
         R("/GET/nokey.txt", headers=o, cmp=("status", "origin")),
         R("/GET/k", "DELETE", o, cmp=("status", "origin")))


# --------------------------------------------------------------------------
# Connection handling

def test_connection_close_and_http10(kh, webdis):
    res = {}
    for name, port in (("keel", kh.http), ("webdis", webdis.http)):
        got = []
        for req in (b"GET /PING HTTP/1.0\r\n\r\n",
                    b"GET /PING HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
            with HttpConn(port) as c:
                c.send(req)
                r = c.read_response()
                got.append((r.status, r.body, c.wait_closed(3.0)))
        with HttpConn(port) as c:
            c.send(b"GET /PING HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            r1 = c.read_response()
            c.send(b"GET /PING HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            r2 = c.read_response()
            got.append((r1.body, r2.body, r1.header("connection", "").lower()))
        res[name] = got
    assert res["keel"] == res["webdis"]


def test_pipelined_answers_in_order(kh, webdis):
    # Webdis answers pipelined requests out of order (here: reversed); Keel
    # answers in order, as HTTP/1.1 requires.
    kh.flushall()
    reqs = b"".join(b"GET /%s HTTP/1.1\r\nHost: x\r\n\r\n" % p
                    for p in (b"SET/pp/1", b"GET/pp", b"INCR/pp", b"GET/pp"))
    with HttpConn(kh.http) as c:
        c.send(reqs)
        bodies = [r.body for r in c.read_responses(4)]
    assert bodies == [b'{"SET":[true,"OK"]}', b'{"GET":"1"}', b'{"INCR":2}', b'{"GET":"2"}']


# --------------------------------------------------------------------------
# Pub/sub streaming

def _subscribe_transcript(port, redis_port, path, channel, messages):
    with HttpConn(port) as c:
        c.request("GET", path)
        head = c.read_stream_head()
        chunks = [c.read_chunk()]
        for m in messages:
            subprocess.run(["redis-cli", "-p", str(redis_port), "PUBLISH", channel, m],
                           check=True, capture_output=True, timeout=10)
            chunks.append(c.read_chunk())
        return (head.status, head.content_type.split(";")[0] if head.content_type else None,
                (head.header("transfer-encoding") or "").lower(), chunks)


@pytest.mark.parametrize("path,channel", [("/SUBSCRIBE/news", "news"),
                                          ("/PSUBSCRIBE/ne*", "news"),
                                          ("/subscribe/news", "news")])
def test_subscribe_stream(kh, webdis, path, channel):
    msgs = ["hello", "w\u00e9", 'q"uote']
    k = _subscribe_transcript(kh.http, kh.port, path, channel, msgs)
    w = _subscribe_transcript(webdis.http, webdis.redis_port, path, channel, msgs)
    assert k == w


def test_subscribe_jsonp_chunks(kh, webdis):
    # Same chunk bytes as Webdis (each "f(<json>);\n"); the Content-Type of
    # JSONP differs by design (application/javascript), so it is not compared.
    k = _subscribe_transcript(kh.http, kh.port, "/SUBSCRIBE/c3?jsonp=f", "c3", ["hi"])
    w = _subscribe_transcript(webdis.http, webdis.redis_port, "/SUBSCRIBE/c3?jsonp=f", "c3",
                              ["hi"])
    assert k[3] == w[3]
    assert k[0] == w[0] == 200


def test_subscriber_disconnect_unsubscribes(kh, webdis):
    for port, resp in ((kh.http, kh.resp), (webdis.http, webdis.resp)):
        c = HttpConn(port)
        c.request("GET", "/SUBSCRIBE/gone")
        c.read_stream_head()
        c.read_chunk()
        assert resp("PUBSUB", "NUMSUB", "gone") == [b"gone", 1]
        c.close()
        deadline = time.monotonic() + 3
        while resp("PUBSUB", "NUMSUB", "gone") != [b"gone", 0]:
            assert time.monotonic() < deadline, "still subscribed after the client left"
            time.sleep(0.05)
