"""The Lua debugger (SCRIPT DEBUG YES|SYNC|NO, core/script/script_ldb.c),
side by side with redis-server 7.0: `redis-cli --ldb --eval` and
`--ldb-sync-mode` sessions fed on stdin, their output compared as printed;
raw-socket sessions compared byte for byte (the debugger's request reader,
its refusals, RESP3 replies); forked sessions roll back and leave the server
serving others, sync sessions keep their changes; a client that goes away
mid-session neither crashes nor hangs the server; HTTP refuses SCRIPT DEBUG;
a forked session over TLS writes output larger than the socket buffers
blocking (its socket is, nothing on the shared epoll) while the parent
serves others."""

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

from conftest import _session_server
from harness import RawConn, encode, keel_argv
from test_http_helpers import check_health, keel_http_fixture, post_json

CLI = shutil.which("redis-cli")
REFUSAL = "ERR SCRIPT DEBUG is only available over RESP connections (TCP or TLS, io-backend libevent)"
ANSI = re.compile(rb"\x1b\[[0-9;]*m")

pytestmark = pytest.mark.skipif(CLI is None, reason="redis-cli missing")


@pytest.fixture(scope="module")
def keel(request):
    """A Keel of this module's own on the libevent path, whichever path the
    suite runs on: on the ring SCRIPT DEBUG is refused
    (test_refused_on_the_ring)."""
    yield from _session_server(request, "keel-ldb",
                               lambda p: keel_argv(p) + ["--io-backend", "libevent"])


def cli_session(port, script, stdin, keys=(), args=(), sync=False):
    """Run redis-cli --ldb --eval on script with the debugger commands in
    stdin (one a line); its stdout, colours kept."""
    d = tempfile.mkdtemp(prefix="keel-ldb-")
    try:
        path = os.path.join(d, "script.lua")
        with open(path, "w") as f:
            f.write(script)
        argv = [CLI, "-p", str(port), "--ldb-sync-mode" if sync else "--ldb", "--eval", path]
        argv += list(keys)
        if args:
            argv += [","] + list(args)
        p = subprocess.run(argv, input=("\n".join(stdin) + "\n").encode(), capture_output=True, timeout=30,
                           text=False)
        return p.stdout + p.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


def both(keel, oracle, *a, **kw):
    k = cli_session(keel.port, *a, **kw)
    o = cli_session(oracle.port, *a, **kw)
    return k, o


def flush(*servers):
    for s in servers:
        with RawConn(s.port) as c:
            assert c.call("FLUSHALL") == b"+OK\r\n"


def call(port, *cmd):
    with RawConn(port) as c:
        return c.call(*cmd)


SCRIPT = """local a = redis.call('set', KEYS[1], ARGV[1])
local b = {1, 2, 'x', {y = 'z'}}
redis.debug('hello', b, 3.5, nil, true)
local c = redis.call('get', KEYS[1])
redis.breakpoint()
local d = c .. '!'
return d
"""

CASES = {
    "steps_print_break_list": (
        SCRIPT,
        ["s", "s", "p", "p b", "p nosuch", "p KEYS", "p ARGV", "b 6", "b", "b 6", "b 99",
         "b x", "b -2", "b -6", "b 0", "b", "w", "l", "l 2 1", "l 0 0", "t", "c", "c"]),
    "eval_and_redis": (
        SCRIPT,
        ["s", "e 1+1", "e b", "e a", "e (", "e", "e redis.pcall('get', KEYS[1])",
         "r incr n", "r get k", "r", "r nosuchcommand", "r get", "r set", "c", "c"]),
    "help_maxlen_unknown": (
        SCRIPT,
        ["h", "m", "m 10", "m 0", "m 100", "m -5", "foo", "list 1 1", "whole", "next",
         "continue", "c"]),
    "breakpoint_then_step": (
        SCRIPT,
        ["b 4", "c", "p", "s", "s", "s", "s"]),
    "redis_debug_only": (
        "redis.debug()\nredis.debug('a', {}, {1}, {k=1})\nreturn redis.breakpoint()\n",
        ["c"]),
    "trimmed_values": (
        "local t = {}\nfor i=1,100 do t[i] = i end\n"
        "local r = redis.call('ping', string.rep('x', 300))\nreturn 1\n",
        ["s", "s", "s", "s", "p", "p t", "m 0", "p t", "c"]),
    "script_error": (
        "redis.call('set', KEYS[1], 'new')\nlocal x = nil\nreturn x.y\n",
        ["s", "s", "c"]),
    "command_error": (
        "redis.call('set', KEYS[1], 'v')\nredis.pcall('lpush', KEYS[1], 'x')\n"
        "redis.call('lpush', KEYS[1], 'x')\nreturn 1\n",
        ["s", "s", "s", "s"]),
    "abort": (
        "redis.call('set', KEYS[1], 'new')\nlocal x = 1\nreturn x\n",
        ["s", "a"]),
    "compile_error": ("return (\n", ["c"]),
    "break_odd_numbers": (
        SCRIPT,
        ["b 4294967297", "b", "b -4294967297", "b -9223372036854775808",
         "b 9223372036854775807", "b 01", "b +1", "b -0", "b 1 2 3 x 0", "b " + "y" * 1000,
         "c", "c"]),
    "functions_and_trace": (
        "local function f(n)\n  local m = n * 2\n  return m\nend\nlocal r = f(3)\nreturn r\n",
        ["s", "s", "s", "t", "p", "s", "s", "t", "c"]),
    "nested_replies": (
        "redis.call('rpush', KEYS[1], 'a', 'b')\nredis.call('hset', 'h', 'f', 'v')\n"
        "local x = redis.call('lrange', KEYS[1], 0, -1)\nlocal y = redis.call('get', 'nokey')\n"
        "local z = redis.call('lpop', 'nolist', 2)\nreturn {x, y}\n",
        ["s", "s", "s", "s", "s", "s", "c"]),
}


@pytest.mark.parametrize("sync", [False, True], ids=["forked", "sync"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_session_same_as_redis(keel, oracle, name, sync):
    script, stdin = CASES[name]
    flush(keel, oracle)
    k, o = both(keel, oracle, script, stdin, keys=["k"], args=["v"], sync=sync)
    assert k == o
    ended = b"Eval debugging session can't start" if name == "compile_error" else \
        b"Lua debugging session ended"
    assert ended in ANSI.sub(b"", k)


def test_yes_rolls_back_sync_keeps(keel, oracle):
    script = "redis.call('set', KEYS[1], ARGV[1])\nreturn redis.call('get', KEYS[1])\n"
    for srv in (keel, oracle):
        flush(srv)
        assert call(srv.port, "SET", "k", "old") == b"+OK\r\n"
        out = cli_session(srv.port, script, ["c"], keys=["k"], args=["new"])
        assert b"dataset changes rolled back" in out
        assert call(srv.port, "GET", "k") == b"$3\r\nold\r\n"
        out = cli_session(srv.port, script, ["c"], keys=["k"], args=["new"], sync=True)
        assert b"rolled back" not in out
        assert call(srv.port, "GET", "k") == b"$3\r\nnew\r\n"


def test_timeout_stop(keel, oracle):
    """A script that runs past busy-reply-threshold without stopping is
    stopped by the debugger ("timeout reached, infinite loop?")."""
    script = "local i = 0\nwhile true do\n  i = i + 1\nend\n"
    outs = []
    for srv in (keel, oracle):
        old = call(srv.port, "CONFIG", "GET", "busy-reply-threshold")
        assert call(srv.port, "CONFIG", "SET", "busy-reply-threshold", "200") == b"+OK\r\n"
        try:
            out = cli_session(srv.port, script, ["c", "a"])
        finally:
            val = old.split(b"\r\n")[-2].decode()
            call(srv.port, "CONFIG", "SET", "busy-reply-threshold", val)
        outs.append(out)
    assert outs[0] == outs[1]
    assert b"timeout reached, infinite loop?" in outs[0]


S = "local a = 1\nlocal b = redis.call('ping')\nreturn a\n"

RAW = {
    "in_multi": [("send", encode(["MULTI"])), ("read", 1),
                 ("send", encode(["SCRIPT", "DEBUG", "YES"])), ("read", 1),
                 ("send", encode(["EXEC"])), ("read", 1)],
    "in_pipeline": [("send", encode(["PING"]) + encode(["SCRIPT", "DEBUG", "YES"])), ("read", 2)],
    "evalsha": [("send", encode(["SCRIPT", "DEBUG", "YES"])), ("read", 1),
                ("send", encode(["EVALSHA", "a" * 40, "0"])), ("read", 1)],
    "no_turns_it_off": [("send", encode(["SCRIPT", "DEBUG", "YES"])), ("read", 1),
                        ("send", encode(["SCRIPT", "DEBUG", "NO"])), ("read", 1),
                        ("send", encode(["EVAL", S, "0"])), ("read", 1)],
    "bad_mode": [("send", encode(["SCRIPT", "DEBUG", "MAYBE"])), ("read", 1)],
    "evalsha_short": [("send", encode(["SCRIPT", "DEBUG", "YES"])), ("read", 1),
                      ("send", encode(["EVALSHA", "abc", "0"])), ("read", 1),
                      ("send", encode(["EVALSHA_RO", "b" * 40, "0"])), ("read", 1)],
    "eval_ro": [("send", encode(["SCRIPT", "DEBUG", "SYNC"])), ("read", 1),
                ("send", encode(["EVAL_RO", S, "0"])), ("read", 1),
                ("send", encode(["c"])), ("close", 0)],
    "not_resp": [("send", encode(["SCRIPT", "DEBUG", "SYNC"])), ("read", 1),
                 ("send", encode(["EVAL", S, "0"])), ("read", 1),
                 ("send", b"hello\r\n"), ("close", 0)],
    "empty_word": [("send", encode(["SCRIPT", "DEBUG", "YES"])), ("read", 1),
                   ("send", encode(["EVAL", S, "0"])), ("read", 1),
                   ("send", b"*1\r\n$0\r\n\r\n"), ("close", 0)],
    "long_word": [("send", encode(["SCRIPT", "DEBUG", "YES"])), ("read", 1),
                  ("send", encode(["EVAL", S, "0"])), ("read", 1),
                  ("send", encode(["e", "x" * 1025])), ("close", 0)],
    "pipelined_requests": [("send", encode(["SCRIPT", "DEBUG", "YES"])), ("read", 1),
                           ("send", encode(["EVAL", S, "0"])), ("read", 1),
                           ("send", encode(["s"]) + encode(["s"])), ("read", 1),
                           ("send", encode(["c"])), ("close", 0)],
    "split_request": [("send", encode(["SCRIPT", "DEBUG", "YES"])), ("read", 1),
                      ("send", encode(["EVAL", S, "0"])), ("read", 1),
                      ("send", b"xx*2\r\n$1\r\n"), ("pause", 0), ("send", b"p\r\n$1\r\na\r\n"),
                      ("read", 1), ("send", encode(["c"])), ("close", 0)],
    "wrong_numkeys": [("send", encode(["SCRIPT", "DEBUG", "YES"])), ("read", 1),
                      ("send", encode(["EVAL", S, "5"])), ("close", 0)],
    "resp3": [("send", encode(["HELLO", "3", "SETNAME", "x"])), ("skip", 1),
              ("send", encode(["SCRIPT", "DEBUG", "YES"])), ("read", 1),
              ("send", encode(["EVAL", "redis.setresp(3)\nlocal x = redis.call('hgetall','nokey')"
                               "\nlocal y = redis.call('get','nokey')\nreturn {1,2}", "0"])),
              ("read", 1), ("send", encode(["s"])), ("read", 1), ("send", encode(["s"])),
              ("read", 1), ("send", encode(["s"])), ("read", 1), ("send", encode(["c"])),
              ("close", 0)],
}


SHAPES = ("redis.call('hset', 'h', 'f', 'v', 'g', 'w', 'a', 'b')\n"
          "redis.call('zadd', 'z', 1.5, 'a', 2, 'b')\n"
          "redis.call('xadd', 's', '1-1', 'k', 'v')\n"
          "local a = redis.call('hgetall', 'h')\n"
          "local b = redis.call('zrange', 'z', 0, -1, 'withscores')\n"
          "local c = redis.call('zscore', 'z', 'a')\n"
          "local d = redis.call('keys', 'h*')\n"
          "local e = redis.call('xrange', 's', '-', '+')\n"
          "local f = redis.call('exists', 'h', 'nokey')\n"
          "local g = redis.call('lpop', 'nolist', 2)\n"
          "return 1\n")


def shapes(resp):
    body = ("redis.setresp(3)\n" if resp == 3 else "redis.setresp(2)\n") + SHAPES
    steps = [("send", encode(["FLUSHALL"])), ("skip", 1),
             ("send", encode(["SCRIPT", "DEBUG", "YES"])), ("read", 1),
             ("send", encode(["EVAL", body, "0"])), ("read", 1)]
    steps += [("send", encode(["s"])), ("read", 1)] * 11
    return steps + [("send", encode(["c"])), ("close", 0)]


RAW["resp2_reply_shapes"] = shapes(2)
RAW["resp3_reply_shapes"] = shapes(3)


def run_raw(port, steps):
    out = []
    with RawConn(port, timeout=5) as c:
        for kind, data in steps:
            if kind == "send":
                c.send(data)
            elif kind == "pause":
                time.sleep(0.1)
            elif kind in ("read", "skip"):
                got = b"".join(c.read_replies(data))
                if kind == "read":
                    out.append(got)
            elif kind == "close":
                out.append(c.read_until_close(3.0))
    return out


@pytest.mark.parametrize("name", sorted(RAW))
def test_raw_session_same_as_redis(keel, oracle, name):
    assert run_raw(keel.port, RAW[name]) == run_raw(oracle.port, RAW[name])


def test_other_clients_served_during_forked_session(keel):
    flush(keel)
    with RawConn(keel.port) as dbg:
        assert dbg.call("SCRIPT", "DEBUG", "YES") == b"+OK\r\n"
        dbg.send(encode(["EVAL", "redis.call('set', 'x', 'in-session')\nreturn 1\n", "0"]))
        stop = dbg.read_reply()
        assert stop.startswith(b"*2\r\n+* Stopped at 1")
        # the session waits for its client; the server answers others
        assert call(keel.port, "SET", "y", "1") == b"+OK\r\n"
        assert call(keel.port, "PING") == b"+PONG\r\n"
        dbg.send(encode(["s"]))
        logs = dbg.read_reply()
        assert b"<redis> set x in-session" in logs
        assert call(keel.port, "GET", "x") == b"$-1\r\n"  # the child's, not ours
        dbg.send(encode(["c"]))
        data, closed = dbg.read_until_close(5.0)
        assert data == b"*1\r\n+<endsession>\r\n:1\r\n" and closed
    assert call(keel.port, "GET", "x") == b"$-1\r\n"
    assert call(keel.port, "GET", "y") == b"$1\r\n1\r\n"


@pytest.mark.parametrize("mode", ["YES", "SYNC"])
def test_monitor_sees_the_debugged_eval(keel, oracle, mode):
    """MONITOR shows the EVAL that starts a session (fed before the fork, as
    Redis does); in SYNC mode the script's commands follow it."""
    seen = []
    for srv in (keel, oracle):
        with RawConn(srv.port) as mon, RawConn(srv.port) as dbg:
            assert mon.call("MONITOR") == b"+OK\r\n"
            assert dbg.call("SCRIPT", "DEBUG", mode) == b"+OK\r\n"
            dbg.send(encode(["EVAL", "redis.call('set', 'mk', '1')\nreturn 1\n", "0"]))
            assert dbg.read_reply().startswith(b"*2\r\n+* Stopped at 1")
            dbg.send(encode(["c"]))
            dbg.read_until_close(5.0)
            lines = [re.sub(rb"^\+[0-9.]+ \[0 [^\]]*\] ", b"", l)
                     for l in mon.read_replies(3 if mode == "SYNC" else 2)]
            seen.append(lines)
    assert seen[0] == seen[1]
    assert seen[0][0] == b'"SCRIPT" "DEBUG" "%s"\r\n' % mode.encode()
    assert seen[0][1].startswith(b'"EVAL"')


def test_client_gone_mid_sync_session(keel):
    """The client closes while the script is stopped: the session ends (the
    script runs to its end without stopping) and the server goes on."""
    flush(keel)
    dbg = RawConn(keel.port)
    assert dbg.call("SCRIPT", "DEBUG", "SYNC") == b"+OK\r\n"
    dbg.send(encode(["EVAL", "redis.call('set', 'x', '1')\nredis.breakpoint()\n"
                     "redis.call('set', 'x', '2')\nreturn 1\n", "0"]))
    assert dbg.read_reply().startswith(b"*2\r\n+* Stopped at 1")
    dbg.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if call(keel.port, "GET", "x") == b"$1\r\n2\r\n":
                break
        except Exception:
            pass
        time.sleep(0.1)
    assert call(keel.port, "GET", "x") == b"$1\r\n2\r\n"
    assert call(keel.port, "PING") == b"+PONG\r\n"


def test_client_gone_mid_forked_session(keel):
    flush(keel)
    dbg = RawConn(keel.port)
    assert dbg.call("SCRIPT", "DEBUG", "YES") == b"+OK\r\n"
    dbg.send(encode(["EVAL", "while true do end", "0"]))
    assert dbg.read_reply().startswith(b"*2\r\n+* Stopped at 1")
    dbg.close()
    assert call(keel.port, "PING") == b"+PONG\r\n"
    assert call(keel.port, "DBSIZE") == b":0\r\n"


def test_client_gone_in_a_timeout_stop(keel):
    """Stopped by the timeout, the client gone: the script is killed rather
    than left looping (Redis's rule)."""
    old = call(keel.port, "CONFIG", "GET", "busy-reply-threshold").split(b"\r\n")[-2].decode()
    assert call(keel.port, "CONFIG", "SET", "busy-reply-threshold", "100") == b"+OK\r\n"
    try:
        dbg = RawConn(keel.port)
        assert dbg.call("SCRIPT", "DEBUG", "SYNC") == b"+OK\r\n"
        dbg.send(encode(["EVAL", "local i = 0\nwhile true do\n  i = i + 1\nend\n", "0"]))
        assert dbg.read_reply().startswith(b"*2\r\n+* Stopped at 1")
        dbg.send(encode(["c"]))
        assert b"timeout reached" in dbg.read_reply(timeout=10)
        dbg.close()
        assert call(keel.port, "PING") == b"+PONG\r\n"
    finally:
        call(keel.port, "CONFIG", "SET", "busy-reply-threshold", old)


@pytest.fixture(scope="module")
def web():
    yield from keel_http_fixture([], name="keel-ldb-web")


def test_script_debug_refused_over_http(web):
    for mode in ("YES", "SYNC"):
        r = post_json(web.http, ["SCRIPT", "DEBUG", mode])
        body = json.loads(r.body)
        assert body == {"SCRIPT": [False, REFUSAL]}
    r = post_json(web.http, ["SCRIPT", "DEBUG", "NO"])
    assert json.loads(r.body) == {"SCRIPT": [True, "OK"]}
    r = post_json(web.http, ["EVAL", "return 1", "0"])
    assert json.loads(r.body) == {"EVAL": 1}
    check_health(web)


def test_script_debug_refused_over_websocket(web):
    import websocket
    refusal = REFUSAL
    ws = websocket.create_connection("ws://127.0.0.1:%d/" % web.http, timeout=5)
    try:
        ws.send(json.dumps(["SCRIPT", "DEBUG", "SYNC"]))
        assert json.loads(ws.recv()) == {"SCRIPT": [False, refusal]}
    finally:
        ws.close()
    # the WebSocket RESP mode speaks RESP, but over frames: no session either
    ws = websocket.create_connection("ws://127.0.0.1:%d/.raw" % web.http, timeout=5,
                                     subprotocols=["resp2"])
    try:
        ws.send_binary(encode(["SCRIPT", "DEBUG", "YES"]))
        assert ws.recv() == ("-%s\r\n" % refusal).encode()
        ws.send_binary(encode(["EVAL", "return 1", "0"]))
        assert ws.recv() == b":1\r\n"
    finally:
        ws.close()
    check_health(web)


@pytest.mark.parametrize("sync", [False, True], ids=["forked", "sync"])
def test_cli_restart_and_quit(keel, oracle, sync):
    """redis-cli's own session commands: restart (a new connection, SCRIPT
    DEBUG and EVAL again) and quit, the old session left behind."""
    flush(keel, oracle)
    k, o = both(keel, oracle, SCRIPT, ["s", "restart", "s", "quit", "ping"], keys=["k"],
                args=["v"], sync=sync)
    assert k == o
    assert ANSI.sub(b"", k).count(b"Lua debugging session started") == 2
    assert call(keel.port, "PING") == b"+PONG\r\n"


def test_sync_session_blocks_the_server(keel):
    """SYNC: other clients wait until the session ends (as Redis)."""
    from harness import ReplyTimeout
    flush(keel)
    with RawConn(keel.port) as dbg, RawConn(keel.port) as other:
        assert dbg.call("SCRIPT", "DEBUG", "SYNC") == b"+OK\r\n"
        dbg.send(encode(["EVAL", "redis.call('set', 'x', '1')\nreturn 1\n", "0"]))
        assert dbg.read_reply().startswith(b"*2\r\n+* Stopped at 1")
        other.send(encode(["GET", "x"]))
        with pytest.raises(ReplyTimeout):
            other.read_reply(timeout=0.3)
        dbg.send(encode(["c"]))
        data, closed = dbg.read_until_close(5.0)
        assert data == b"*1\r\n+<endsession>\r\n:1\r\n" and closed
        assert other.read_reply() == b"$1\r\n1\r\n"


# ---- over TLS (the fixtures of test_tls.py: Keel and redis-server 7.0 with a TLS port) ----

from test_tls import certs, tkeel, toracle  # noqa: E402,F401  (pytest fixtures)


def tls_session(srv, certs, script, stdin, sync):
    d = tempfile.mkdtemp(prefix="keel-ldb-tls-")
    try:
        path = os.path.join(d, "script.lua")
        with open(path, "w") as f:
            f.write(script)
        argv = [CLI, "-h", "localhost", "-p", str(srv.tls), "--tls", "--cacert", certs["ca.crt"],
                "--cert", certs["client.crt"], "--key", certs["client.key"],
                "--ldb-sync-mode" if sync else "--ldb", "--eval", path, "k", ",", "v"]
        # After a forked session ends the server closes the socket; redis-cli
        # then sends COMMAND DOCS on it and, over TLS, a close_notify. When
        # the peer's RST for the first has arrived, the second raises SIGPIPE
        # and redis-cli dies with its last lines still in its stdout buffer
        # (a terminal's line buffering would have shown them). redis-cli keeps
        # Python's ignored SIGPIPE, so it sees EPIPE and exits normally.
        p = subprocess.run(argv, input=("\n".join(stdin) + "\n").encode(), capture_output=True,
                           timeout=30, restore_signals=False)
        assert p.returncode == 0, (p.returncode, p.stderr)
        return p.stdout + p.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("sync", [False, True], ids=["forked", "sync"])
def test_tls_session_same_as_redis(tkeel, toracle, oracle, certs, sync):
    """SYNC over TLS is compared with redis-server's over TLS. A forked
    session over TLS fails on redis-server 7.0 (its parent closes the
    client with a close_notify the child's session cannot survive: "Server
    closed the connection"); Keel's parent closes without one, and the
    session is compared with redis-server's over plain TCP."""
    script, stdin = CASES["steps_print_break_list"]
    flush(oracle)
    assert tkeel.plain("FLUSHALL") == b"OK" and toracle.plain("FLUSHALL") == b"OK"
    k = tls_session(tkeel, certs, script, stdin, sync)
    if sync:
        o = tls_session(toracle, certs, script, stdin, sync)
    else:
        o = cli_session(oracle.port, script, stdin, keys=["k"], args=["v"])
    assert k == o
    assert b"Lua debugging session ended" in ANSI.sub(b"", k)
    assert tkeel.plain("PING") == b"PONG"
    problem = tkeel.srv.health(probe=True)
    assert problem is None, problem


@pytest.mark.parametrize("mode", ["YES", "SYNC"])
def test_publish_from_a_session(keel, oracle, mode):
    """A forked session's PUBLISH reaches no subscriber (the child writes to
    no other client); a synchronous session's does, as on redis-server."""
    got = []
    for srv in (keel, oracle):
        with RawConn(srv.port) as sub, RawConn(srv.port) as dbg:
            sub.send(encode(["SUBSCRIBE", "ldbch"]))
            sub.read_reply()
            assert dbg.call("SCRIPT", "DEBUG", mode) == b"+OK\r\n"
            dbg.send(encode(["EVAL", "redis.call('publish', 'ldbch', 'hi')\nreturn 1\n", "0"]))
            dbg.read_reply()
            dbg.send(encode(["c"]))
            dbg.read_until_close(5.0)
            data, _ = sub.read_until_close(0.5)
            got.append(data)
            sub.send(encode(["PING"]))  # the parent still serves it
            assert sub.read_reply() == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    assert got[0] == got[1]
    assert (b"hi" in got[0]) == (mode == "SYNC")


def test_refused_on_the_ring():
    """io-backend uring: the ring owns the socket's receives, no session."""
    from test_io_backend import info_backend, start, uring_possible
    if not uring_possible():
        pytest.skip("io_uring is disabled on this machine")
    srv = start("--io-backend", "uring")
    try:
        if info_backend(srv.port) != "uring":
            pytest.skip("no ring on this machine")
        with RawConn(srv.port) as c:
            assert c.call("SCRIPT", "DEBUG", "YES") == ("-%s\r\n" % REFUSAL).encode()
            assert c.call("SCRIPT", "DEBUG", "NO") == b"+OK\r\n"
            assert c.call("EVAL", "return 1", "0") == b":1\r\n"
    finally:
        problem = srv.stop()
        srv.cleanup()
    assert not problem, problem


def tls_raw(srv, certs, timeout=30.0, rcvbuf=None):
    """A RawConn over TLS to srv's TLS port (client certificate given)."""
    ctx = ssl.create_default_context(cafile=certs["ca.crt"])
    ctx.load_cert_chain(certs["client.crt"], certs["client.key"])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", srv.tls))
    c = RawConn.__new__(RawConn)
    c.port, c.timeout, c.buf, c.closed = srv.tls, timeout, b"", False
    c.sock = ctx.wrap_socket(s, server_hostname="localhost")
    return c


def live_children(pid):
    out = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if st[0] != "Z" and int(st[1]) == pid:
            out.add(int(d))
    return out


def sockets_of(pid):
    """{fd: socket inode} of pid's open sockets."""
    out = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            out[int(fd)] = int(target[8:-1])
    return out


def epoll_targets(pid):
    """The inodes of every file registered on pid's epoll instances."""
    inos = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != "anon_inode:[eventpoll]":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                for line in f:
                    m = re.search(r"^tfd:.*\sino:([0-9a-f]+)", line)
                    if m:
                        inos.add(int(m.group(1), 16))
        except OSError:
            continue
    return inos


def tx_queue(pid, ino):
    """Bytes the socket ino holds unsent (the child's output pending)."""
    for name in ("tcp", "tcp6"):
        with open("/proc/%d/net/%s" % (pid, name)) as f:
            for line in f.readlines()[1:]:
                v = line.split()
                if int(v[9]) == ino:
                    return int(v[4].split(":")[0], 16)
    return None


def test_tls_forked_session_large_output(tkeel, certs):
    """A forked session over TLS whose output (a 4 MB "<retval>" line,
    maxlen 0) outgrows the socket buffers while its client does not read:
    the child's socket is blocking (as Redis's connBlock; nothing it does
    registers an event on the epoll instance it shares with its parent),
    its output arrives whole, and meanwhile the parent answers another
    client right, round after round."""
    big = 4000000
    parent = tkeel.srv.proc.pid
    assert tkeel.plain("FLUSHALL") == b"OK"
    before = live_children(parent)
    dbg = tls_raw(tkeel, certs, rcvbuf=4096)
    try:
        assert dbg.call("SCRIPT", "DEBUG", "YES") == b"+OK\r\n"
        dbg.send(encode(["EVAL", "local a = 1\nreturn a\n", "0"]))
        assert dbg.read_reply().startswith(b"*2\r\n+* Stopped at 1")
        child = None
        deadline = time.monotonic() + 5
        while child is None and time.monotonic() < deadline:
            new = live_children(parent) - before
            child = new.pop() if len(new) == 1 else None
        assert child, "the session's child"
        socks = sockets_of(child)
        assert len(socks) == 1, socks  # the session's; the others are /dev/null
        (fd, ino), = socks.items()
        with open("/proc/%d/fdinfo/%d" % (child, fd)) as f:
            flags = int(re.search(r"flags:\s*([0-7]+)", f.read()).group(1), 8)
        assert not flags & os.O_NONBLOCK, oct(flags)
        assert b"unlimited" in dbg.call("maxlen", "0")
        dbg.send(encode(["eval", "return string.rep('x', %d)" % big]))
        # the child writes 4 MB to a client that reads nothing yet
        deadline = time.monotonic() + 5
        while not tx_queue(child, ino) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert tx_queue(child, ino), "the output waits in the socket"
        other = RawConn(tkeel.port)
        try:
            for i in range(1, 201):
                assert other.call("INCR", "n") == b":%d\r\n" % i
                if i % 50 == 0:
                    time.sleep(0.1)
            assert other.call("GET", "n") == b"$3\r\n200\r\n"
            assert tx_queue(child, ino), "still pending while the parent served"
        finally:
            other.sock.close()
        assert ino not in epoll_targets(parent)
        assert ino not in epoll_targets(child)
        out = dbg.read_reply(timeout=60)
        assert out == b"*1\r\n+<retval> \"%s\"\r\n" % (b"x" * big), (len(out), out[:40])
        dbg.send(encode(["c"]))
        data, closed = dbg.read_until_close(10.0)
        assert data == b"*1\r\n+<endsession>\r\n:1\r\n" and closed
    finally:
        dbg.sock.close()
    assert tkeel.plain("GET", "n") == b"200"
    assert tkeel.plain("PING") == b"PONG"
