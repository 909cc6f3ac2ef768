"""EVAL, EVALSHA and FCALL from curl-style HTTP requests (URL form and JSON
bodies) and from WebSocket JSON messages: the same kernel path as RESP, no
adapter knows about scripts."""

import json
import urllib.parse

import pytest
import websocket

from test_http_helpers import check_health, get, keel_http_fixture, post_json


@pytest.fixture(scope="module")
def srv():
    yield from keel_http_fixture([], name="keel-lua-web")


@pytest.fixture(autouse=True)
def _health(srv):
    srv.ensure_running()
    srv.flushall()
    yield
    check_health(srv)


def q(s):
    return urllib.parse.quote(s, safe="")


def test_eval_over_http(srv):
    r = get(srv.http, "/EVAL/%s/1/k/v" % q("return redis.call('SET', KEYS[1], ARGV[1])"))
    assert r.status == 200 and json.loads(r.body) == {"EVAL": [True, "OK"]}
    r = get(srv.http, "/EVAL/%s/0" % q("return {1, 'two', {3}}"))
    assert json.loads(r.body) == {"EVAL": [1, "two", [3]]}
    r = post_json(srv.http, ["EVAL", "return redis.call('GET', KEYS[1])", "1", "k"])
    assert json.loads(r.body) == {"EVAL": "v"}
    r = post_json(srv.http, ["SCRIPT", "LOAD", "return ARGV[1] .. '!'"])
    sha = json.loads(r.body)["SCRIPT"]
    r = get(srv.http, "/EVALSHA/%s/0/hi" % sha)
    assert json.loads(r.body) == {"EVALSHA": "hi!"}
    r = get(srv.http, "/EVAL/%s/0" % q("error('boom')"))
    body = json.loads(r.body)["EVAL"]
    assert body[0] is False and body[1].startswith("ERR user_script:1: boom script:")


def test_eval_and_fcall_over_websocket(srv):
    ws = websocket.create_connection("ws://127.0.0.1:%d/" % srv.http, timeout=5)
    try:
        def call(obj):
            ws.send(json.dumps(obj))
            return json.loads(ws.recv())
        assert call(["EVAL", "return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, "n", 5]) == \
            {"EVAL": 5}
        assert call(["EVAL", "redis.setresp(3) return redis.call('HGETALL', KEYS[1])", 1, "h"]) \
            == {"EVAL": {}}
        code = "#!lua name=weblib\nredis.register_function('twice', " \
               "function(keys, args) return tonumber(args[1]) * 2 end)"
        assert call(["FUNCTION", "LOAD", "REPLACE", code]) == {"FUNCTION": "weblib"}
        assert call(["FCALL", "twice", 0, 21]) == {"FCALL": 42}
        assert call({"id": 9, "cmd": ["EVAL", "return {err='nope'}", 0]}) == \
            {"id": 9, "reply": [False, "nope"]}
    finally:
        ws.close()
