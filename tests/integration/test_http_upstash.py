"""The Upstash REST API under /_upstash (adapters/web/upstash.c): the
shapes of results and errors, base64 encoding, /pipeline (ordered, not
atomic), /multi-exec (atomic), the path form, ?_token=, the read-only
token; and what a POST's URL path means beside a body carrying the
command (test_http.py covers the Webdis forms themselves). The real SDK
runs in node/upstash.test.mjs."""

from http_servers import *  # noqa: F401,F403 (fixtures and helpers)
from test_http_helpers import b64

_su, ku = server_fixtures("ku", ["--http-readonly-token", "ro-tok",
                                 "--http-disabled-commands", "SHUTDOWN DEBUG"])

U = "/_upstash"


def up(srv, cmd, path="", headers=None):
    body = cmd if isinstance(cmd, (bytes, str)) else json.dumps(cmd)
    return request(srv.http, "POST", U + path, headers or {}, body)


def b64h():
    return {"Upstash-Encoding": "base64"}


def test_single_command_shapes(ku):
    ku.resp("FLUSHALL")
    cases = [
        (["SET", "k", "v"], {"result": "OK"}),
        (["GET", "k"], {"result": "v"}),
        (["GET", "nokey"], {"result": None}),
        (["PING"], {"result": "PONG"}),
        (["INCR", "n"], {"result": 1}),
        (["RPUSH", "l", "a", "b"], {"result": 2}),
        (["LRANGE", "l", "0", "-1"], {"result": ["a", "b"]}),
        (["LRANGE", "none", "0", "-1"], {"result": []}),
        (["HSET", "h", "f", "v"], {"result": 1}),
        (["HGETALL", "h"], {"result": ["f", "v"]}),
        (["ZADD", "z", "1.5", "m"], {"result": 1}),
        (["ZSCORE", "z", "m"], {"result": "1.5"}),
        (["ZRANGE", "z", "0", "-1", "WITHSCORES"], {"result": ["m", "1.5"]}),
        (["SET", "num", 12], {"result": "OK"}),
        (["GET", "num"], {"result": "12"}),
    ]
    for cmd, want in cases:
        r = up(ku, cmd)
        assert r.status == 200 and J(r) == want, (cmd, r)
    for cmd, err in ((["INCR", "k"], "ERR value is not an integer or out of range"),
                     (["LPUSH", "k", "x"],
                      "WRONGTYPE Operation against a key holding the wrong kind of value"),
                     (["GET"], "ERR wrong number of arguments for 'get' command"),
                     (["NOSUCH"], "ERR unknown command 'NOSUCH', with args beginning with: ")):
        r = up(ku, cmd)
        assert r.status == 400 and J(r) == {"error": err}, (cmd, r)


def test_base64_encoding(ku):
    ku.resp("FLUSHALL")
    raw = b"\xff\x00bin\r\n\x80"
    ku.resp("SET", "bin", raw)
    ku.resp("RPUSH", "l", raw, "text")
    r = up(ku, ["GET", "bin"], headers=b64h())
    assert J(r) == {"result": b64(raw)}
    assert base64.b64decode(J(r)["result"]) == raw
    assert J(up(ku, ["LRANGE", "l", "0", "-1"], headers=b64h())) == \
        {"result": [b64(raw), b64(b"text")]}
    # The status OK stays plain where it is a result; other strings encode.
    assert J(up(ku, ["SET", "k", "OK"], headers=b64h())) == {"result": "OK"}
    assert J(up(ku, ["GET", "k"], headers=b64h())) == {"result": b64(b"OK")}
    assert J(up(ku, ["PING"], headers=b64h())) == {"result": b64(b"PONG")}
    assert J(up(ku, ["INCR", "n"], headers=b64h())) == {"result": 1}
    r = up(ku, ["INCR", "k"], headers=b64h())
    assert r.status == 400 and J(r) == {"error": "ERR value is not an integer or out of range"}
    assert J(up(ku, [["SET", "a", "1"], ["GET", "a"], ["GET", "none"]], "/pipeline",
                headers=b64h())) == [{"result": "OK"}, {"result": b64(b"1")}, {"result": None}]
    # Without base64 a non-UTF-8 value is escaped byte by byte (lossy):
    # binary values want the encoding.
    assert J(up(ku, ["GET", "bin"]))["result"] == "\xff\x00bin\r\n\x80"


def test_pipeline_is_ordered_not_atomic(ku):
    ku.resp("FLUSHALL")
    r = up(ku, [["SET", "a", "x"], ["INCR", "a"], ["APPEND", "a", "y"], ["GET", "a"],
                ["GET"]], "/pipeline")
    assert r.status == 200
    assert J(r) == [{"result": "OK"},
                    {"error": "ERR value is not an integer or out of range"},
                    {"result": 2}, {"result": "xy"},
                    {"error": "ERR wrong number of arguments for 'get' command"}]
    # One command is still an array of one.
    assert J(up(ku, [["GET", "a"]], "/pipeline")) == [{"result": "xy"}]
    for bad in ('["GET","a"]', "[]", "{}", "nope", '[["GET",{"a":1}]]'):
        r = up(ku, bad, "/pipeline")
        assert_json_error(r, 400)


def test_multi_exec_is_atomic(ku):
    ku.resp("FLUSHALL")
    r = up(ku, [["SET", "a", "1"], ["INCR", "a"], ["LPUSH", "a", "x"], ["GET", "a"]],
           "/multi-exec")
    assert r.status == 200
    assert J(r) == [{"result": "OK"}, {"result": 2},
                    {"error": "WRONGTYPE Operation against a key holding the wrong kind of value"},
                    {"result": "2"}]
    # A queue-time error: nothing runs, 400 EXECABORT.
    r = up(ku, [["SET", "a", "changed"], ["GET"]], "/multi-exec")
    assert r.status == 400
    assert J(r) == {"error": "EXECABORT Transaction discarded because of previous errors."}
    assert ku.resp("GET", "a") == b"2"
    # A disabled command aborts it too; transaction commands are refused.
    r = up(ku, [["SET", "a", "changed"], ["SHUTDOWN"]], "/multi-exec")
    assert r.status == 400 and "EXECABORT" in J(r)["error"]
    r = up(ku, [["SET", "a", "changed"], ["EXEC"]], "/multi-exec")
    assert_json_error(r, 400)
    assert ku.resp("GET", "a") == b"2"
    assert J(up(ku, [["GET", "a"]], "/multi-exec", headers=b64h())) == [{"result": b64(b"2")}]


def test_path_form(ku):
    ku.resp("FLUSHALL")
    r = request(ku.http, "POST", U + "/set/pk?EX=100", {}, b"body /with+plus\x00")
    assert J(r) == {"result": "OK"}
    assert ku.resp("GET", "pk") == b"body /with+plus\x00"
    assert 90 < ku.resp("TTL", "pk") <= 100
    assert J(get(ku.http, U + "/set/a%2Fb/c+d")) == {"result": "OK"}
    assert ku.resp("GET", "a/b") == b"c+d"
    assert J(get(ku.http, U + "/GET/a%2Fb")) == {"result": "c+d"}
    assert J(get(ku.http, U + "/zadd/z/1/one/2/two")) == {"result": 2}
    assert J(get(ku.http, U + "/zrange/z/0/-1")) == {"result": ["one", "two"]}
    r = get(ku.http, U + "/incr/pk")
    assert r.status == 400 and J(r) == {"error": "ERR value is not an integer or out of range"}
    r = get(ku.http, U)  # GET of the root: no command
    assert_json_error(r, 400)


def test_token_forms(kh_auth):
    srv = kh_auth
    r = up(srv, ["SET", "t", "v"])
    assert r.status == 401 and J(r) == {"error": "authentication required"}
    r = up(srv, ["SET", "t", "v"], "?_token=secret")
    assert r.status == 200 and J(r) == {"result": "OK"}
    r = up(srv, ["GET", "t"], headers={"Authorization": "Bearer secret"})
    assert J(r) == {"result": "v"}
    assert J(get(srv.http, U + "/get/t?_token=secret")) == {"result": "v"}
    assert get(srv.http, U + "/get/t?_token=wrong").status == 401
    # ?_token= works for the Webdis form too, and is not an argument.
    assert J(get(srv.http, "/GET/t?_token=secret")) == {"GET": "v"}


def test_readonly_token(ku):
    ku.resp("FLUSHALL")
    ku.resp("SET", "k", "v")
    ro = {"Authorization": "Bearer ro-tok"}
    assert J(up(ku, ["GET", "k"], headers=ro)) == {"result": "v"}
    assert J(up(ku, ["OBJECT", "ENCODING", "k"], headers=ro)) == {"result": "embstr"}
    for cmd, name in ((["SET", "k", "w"], "set"), (["DEL", "k"], "del"),
                      (["CONFIG", "GET", "maxmemory"], "config|get"), (["PING"], "ping")):
        r = up(ku, cmd, headers=ro)
        assert r.status == 400, r
        assert J(r) == {"error": "NOPERM this user has no permissions to run the '%s' command"
                        % name}
    r = up(ku, [["GET", "k"], ["SET", "k", "w"], ["STRLEN", "k"]], "/pipeline", headers=ro)
    assert J(r) == [{"result": "v"},
                    {"error": "NOPERM this user has no permissions to run the 'set' command"},
                    {"result": 1}]
    r = up(ku, [["GET", "k"], ["SET", "k", "w"]], "/multi-exec", headers=ro)
    assert r.status == 400 and "NOPERM" in J(r)["error"]
    assert J(get(ku.http, U + "/get/k?_token=ro-tok")) == {"result": "v"}
    # The Webdis forms: 403 for one command, an error entry in a batch.
    r = get(ku.http, "/SET/k/w", ro)
    assert r.status == 403 and "NOPERM" in J(r)["error"]
    assert J(get(ku.http, "/GET/k", ro)) == {"GET": "v"}
    r = post_json(ku.http, [["GET", "k"], ["SET", "k", "w"]], headers=ro)
    assert J(r)[1] == {"SET": [False,
                               "NOPERM this user has no permissions to run the 'set' command"]}
    r = post_json(ku.http, [["SET", "k", "w"]], path="/?atomic=1", headers=ro)
    assert "EXECABORT" in json.dumps(J(r))
    # No WebSocket with it (its protocol has no per-message check).
    r = request(ku.http, "GET", "/.json", {"Upgrade": "websocket", "Connection": "Upgrade",
                                           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                           "Sec-WebSocket-Version": "13", **ro})
    assert r.status == 403
    assert ku.resp("GET", "k") == b"v"


def test_subscribe_refused(ku):
    r = up(ku, ["SUBSCRIBE", "ch"])
    assert_json_error(r, 400)
    assert "Webdis form" in J(r)["error"]
    assert J(up(ku, ["PING"])) == {"result": "PONG"}


# ==========================================================================
# A POST's URL path beside a body carrying the command


def test_post_path_with_json_body(ku):
    ku.resp("FLUSHALL")
    # The ambiguous case: the path names a command, the body another.
    r = post_json(ku.http, ["SET", "zzz", "1"], path="/GET/zzz")
    assert_json_error(r, 400)
    assert "URL path may give only the database and the format" in J(r)["error"]
    assert ku.resp("EXISTS", "zzz") == 0
    r = request(ku.http, "POST", "/GET/zzz", {}, "SET/zzz/1")
    assert_json_error(r, 400)
    # The path may choose the database and the format.
    assert J(post_json(ku.http, ["SET", "d7", "x"], path="/7")) == {"SET": [True, "OK"]}
    r = post_json(ku.http, ["GET", "d7"], path="/7/.raw")
    assert r.status == 200 and r.body == b"$1\r\nx\r\n"
    assert J(post_json(ku.http, ["GET", "d7"], path="/7.json")) == {"GET": "x"}
    assert J(post_json(ku.http, ["GET", "d7"], path="/")) == {"GET": None}
    assert ku.resp("EXISTS", "d7") == 0


def test_post_json_sniffed_without_content_type(ku):
    ku.resp("FLUSHALL")
    r = request(ku.http, "POST", "/", {}, ' \n["SET","s","a/b"]')
    assert J(r) == {"SET": [True, "OK"]}
    assert ku.resp("GET", "s") == b"a/b"
    r = request(ku.http, "POST", "/", {}, '[["GET","s"],["STRLEN","s"]]')
    assert J(r) == [{"GET": "a/b"}, {"STRLEN": 3}]
    # Not starting with '[': the Webdis URL syntax, as before.
    assert J(request(ku.http, "POST", "/", {}, "GET/s")) == {"GET": "a/b"}
    # A Content-Type that is not JSON keeps the URL syntax even for '['.
    r = request(ku.http, "POST", "/", {"Content-Type": "text/plain"}, "[x")
    assert r.status == 200 and "[x" in r.body.decode()
