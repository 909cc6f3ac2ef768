"""MONITOR against redis-server 7.0: the same command stream runs on both
servers while a monitor client watches each; the lines must agree once the
timestamp and the client address are masked (the database stays). Covers
quoting (Redis's sdscatrepr), MULTI/EXEC (MULTI, the queued commands, then
EXEC), DISCARD, EXECABORT, rejected commands (unknown, arity: not shown),
syntax errors (shown), ADMIN commands (hidden), AUTH/HELLO redaction,
SELECT, a blocking command served later (shown once), the monitor's own
commands, RESET leaving monitor mode, a second MONITOR, MONITOR inside
MULTI, QUIT. Then Keel only: WebSocket clients (JSON pushes
{"push":["monitor","<line>"]} and RESP-mode status lines) and HTTP's
refusal."""

import json
import re
import socket
import time

import pytest
import websocket

from harness import RawConn, encode, parse_one
from test_http_helpers import check_health, keel_http_fixture

LINE = re.compile(rb"^\+(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\] (.*)$")
END = ["ECHO", "--end-of-stream--"]


class Monitor:
    """A RESP client in monitor mode; lines() reads until the END marker."""

    def __init__(self, port):
        self.c = RawConn(port)
        self.buf = b""
        assert self.c.call("MONITOR") == b"+OK\r\n"

    def _line(self, timeout=5.0):
        deadline = time.time() + timeout
        while b"\r\n" not in self.buf:
            self.c.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                d = self.c.sock.recv(65536)
            except socket.timeout:
                raise AssertionError("no monitor line; have %r" % self.buf)
            if not d:
                raise AssertionError("monitor closed; have %r" % self.buf)
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def lines(self):
        out = []
        while True:
            line = self._line()
            m = LINE.match(line)
            assert m, line
            secs, usecs, db, addr, args = m.groups()
            assert abs(int(secs) - time.time()) < 10
            assert addr == b"lua" or re.fullmatch(rb"127\.0\.0\.1:\d+", addr), addr
            out.append((int(db), args))
            if args == b'"ECHO" "--end-of-stream--"':
                return out

    def quiet(self, wait=0.2):
        """Nothing more arrives."""
        self.c.sock.settimeout(wait)
        try:
            d = self.c.sock.recv(65536)
        except socket.timeout:
            d = b""
        return self.buf + d == b""

    def close(self):
        self.c.close()


def stream(port, cmds):
    """Run cmds on a fresh connection (replies read one by one), then END."""
    c = RawConn(port)
    replies = []
    for cmd in cmds:
        c.send(encode(cmd))
        replies.append(parse_one(c.read_reply())[0])
    c.call(*END)
    c.close()
    return replies


def both_lines(keel, oracle, cmds, replies_too=True):
    out = []
    for srv in (keel, oracle):
        m = Monitor(srv.port)
        try:
            replies = stream(srv.port, cmds)
            out.append((m.lines(), replies))
        finally:
            m.close()
    (kl, kr), (ol, orr) = out
    assert kl == ol
    if replies_too:
        assert kr == orr
    return kl


@pytest.fixture(autouse=True)
def _flush(keel, oracle):
    for srv in (keel, oracle):
        with RawConn(srv.port) as c:
            c.call("FLUSHALL")
    yield


def test_plain_commands_and_quoting(keel, oracle):
    lines = both_lines(keel, oracle, [
        ["SET", "k", "v"],
        ["GET", "k"],
        ["SET", "sp ace", b'q"uote\\back\nnl\rcr\ttab\x07bell\x08bs\x01\xff\x7f'],
        ["APPEND", "k", ""],
        ["INCRBY", "n", "12"],
        ["SET", "n", "007"],
        ["PING"],
        ["ECHO", "\u00e9t\u00e9"],
    ])
    assert lines[0] == (0, b'"SET" "k" "v"')
    assert lines[2][1] == (b'"SET" "sp ace" "q\\"uote\\\\back\\nnl\\rcr\\ttab\\abell\\bbs'
                           b'\\x01\\xff\\x7f"')


def test_transactions(keel, oracle):
    lines = both_lines(keel, oracle, [
        ["MULTI"], ["SET", "x", "1"], ["INCR", "x"], ["EXEC"],
        ["MULTI"], ["SET", "y", "1"], ["DISCARD"],
        ["MULTI"], ["NOSUCHCMD"], ["SET", "z", "1"], ["EXEC"],
        ["MULTI"], ["GET"], ["EXEC"],
        ["MULTI"], ["CONFIG", "GET", "maxmemory"], ["LPUSH", "x", "a"], ["EXEC"],
    ])
    args = [a for _, a in lines]
    assert args[:4] == [b'"MULTI"', b'"SET" "x" "1"', b'"INCR" "x"', b'"EXEC"']


def test_rejected_hidden_syntax_errors_shown(keel, oracle):
    both_lines(keel, oracle, [
        ["NOSUCHCMD", "a"],
        ["GET"],
        ["SET", "k", "v", "XX", "NX"],
        ["LPUSH", "k", "x"],
        ["INCR", "k"],
        ["CLIENT", "SUBCMDX"],
        ["OBJECT", "ENCODING", "nokey"],
    ])


def test_admin_commands_hidden(keel, oracle):
    lines = both_lines(keel, oracle, [
        ["CONFIG", "GET", "maxmemory"],
        ["CLIENT", "LIST"],
        ["CLIENT", "SETNAME", "me"],
        ["CLIENT", "GETNAME"],
        ["SLOWLOG", "LEN"],
        ["LATENCY", "LATEST"],
        ["INFO", "server"],
        ["DBSIZE"],
        ["DEBUG", "SLEEP", "0"],
        ["MONITOR"],
    ], replies_too=False)
    shown = {a.split(b" ")[0] for _, a in lines}
    assert b'"CONFIG"' not in shown and b'"DEBUG"' not in shown


def test_auth_and_hello_redacted(keel, oracle):
    lines = both_lines(keel, oracle, [
        ["AUTH", "secret"],
        ["AUTH", "default", "secret"],
        ["HELLO", "2", "AUTH", "default", "secret"],
        ["HELLO", "2", "SETNAME", "n", "AUTH", "default", "pw"],
        ["HELLO", "2"],
    ], replies_too=False)
    assert (0, b'"AUTH" "(redacted)"') in lines
    assert all(b"secret" not in a for _, a in lines)


def test_select_database_shown(keel, oracle):
    lines = both_lines(keel, oracle, [
        ["SELECT", "3"], ["SET", "a", "1"], ["SWAPDB", "3", "4"], ["SELECT", "0"], ["GET", "a"],
    ])
    assert (3, b'"SET" "a" "1"') in lines


def test_blocked_command_shown_once(keel, oracle):
    out = []
    for srv in (keel, oracle):
        m = Monitor(srv.port)
        b = RawConn(srv.port)
        b.send(encode(["BLPOP", "q", "0"]))
        time.sleep(0.2)
        stream(srv.port, [["RPUSH", "q", "a", "b"]])
        assert parse_one(b.read_reply())[0] == [b"q", b"a"]
        b.call("PING")
        b.close()
        stream(srv.port, [])
        out.append(m.lines())
        m.close()
    assert out[0] == out[1]
    assert [a for _, a in out[0]].count(b'"BLPOP" "q" "0"') == 1


def test_own_commands_reset_and_second_monitor(keel, oracle):
    for srv in (keel, oracle):
        m = Monitor(srv.port)
        m.c.send(encode(["MONITOR"]))  # already monitoring: no reply at all
        m.c.send(encode(["PING"]))
        assert m._line() == b"+PONG"  # the reply, then its own line
        assert LINE.match(m._line()).group(5) == b'"PING"'
        # a monitor is a replica to Redis: no keyspace commands
        m.c.send(encode(["SET", "own", "1"]))
        assert m._line() == b"-ERR Replica can't interact with the keyspace"
        m.c.send(encode(["GET", "own"]))
        assert m._line() == b"-ERR Replica can't interact with the keyspace"
        m.c.send(encode(["RESET"]))
        assert m._line() == b"+RESET"
        stream(srv.port, [["SET", "after", "reset"]])
        assert m.quiet()
        m.close()


def test_monitor_inside_multi_refused(keel, oracle):
    out = []
    for srv in (keel, oracle):
        c = RawConn(srv.port)
        r = [parse_one(c.call(*cmd))[0] for cmd in (["MULTI"], ["MONITOR"], ["EXEC"])]
        c.close()
        out.append(r)
    assert out[0] == out[1]


def test_quit_closes_a_monitor(keel):
    m = Monitor(keel.port)
    m.c.send(encode(["QUIT"]))
    assert m._line() == b"+OK"
    data, closed = m.c.read_until_close()
    assert data == b"" and closed
    with RawConn(keel.port) as c:
        assert c.call("PING") == b"+PONG\r\n"


def test_client_list_flag(keel, oracle):
    out = []
    for srv in (keel, oracle):
        m = Monitor(srv.port)
        with RawConn(srv.port) as c:
            lst = parse_one(c.call("CLIENT", "LIST"))[0]
        m.close()
        flags = re.findall(rb"flags=(\S+) .* cmd=(\S+)", lst)
        # the shared servers may hold other tests' connections (MIGRATE's
        # cached ones): only this test's two clients are compared
        out.append(sorted(f for f in flags if f[1] in (b"client|list", b"monitor")))
    assert out[0] == out[1] and (b"O", b"monitor") in out[0]


# --------------------------------------------------------------------------
# WebSocket and HTTP (Keel only)

@pytest.fixture(scope="module")
def web():
    yield from keel_http_fixture(name="keel-monitor-web")


def test_websocket_json_monitor(web):
    ws = websocket.create_connection("ws://127.0.0.1:%d/" % web.http, timeout=5)
    ws.send(json.dumps(["MONITOR"]))
    assert json.loads(ws.recv()) == {"MONITOR": [True, "OK"]}
    stream(web.port, [["SET", "k", "v w"]])
    got = []
    while True:
        msg = json.loads(ws.recv())
        assert list(msg) == ["push"] and msg["push"][0] == "monitor", msg
        got.append(msg["push"][1])
        if got[-1].endswith('"ECHO" "--end-of-stream--"'):
            break
    assert re.fullmatch(r'\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "k" "v w"', got[0]), got
    # its own commands still get their replies, and their lines as pushes
    ws.send(json.dumps(["PING"]))
    frames = [json.loads(ws.recv()), json.loads(ws.recv())]
    assert frames[0] == {"PING": [True, "PONG"]}, frames
    assert frames[1]["push"][1].endswith('"PING"'), frames
    ws.send(json.dumps(["GET", "k"]))
    assert json.loads(ws.recv()) == {"GET": [False, "ERR Replica can't interact with the keyspace"]}
    ws.send(json.dumps(["RESET"]))
    assert json.loads(ws.recv()) == {"RESET": [True, "RESET"]}
    stream(web.port, [["SET", "quiet", "1"]])
    ws.settimeout(0.3)
    with pytest.raises(websocket.WebSocketTimeoutException):
        ws.recv()
    ws.close()
    check_health(web)


def test_websocket_resp_monitor(web):
    ws = websocket.create_connection("ws://127.0.0.1:%d/.raw" % web.http, timeout=5,
                                     subprotocols=["resp2"])
    ws.send_binary(encode(["MONITOR"]))
    assert ws.recv() == b"+OK\r\n"
    stream(web.port, [["GET", "k"]])
    data = b""
    while b"--end-of-stream--" not in data:
        data += ws.recv()
    lines = data.split(b"\r\n")
    assert LINE.match(lines[0]).group(5) == b'"GET" "k"'
    ws.close()
    check_health(web)


def test_http_refuses_monitor(web):
    import urllib.request
    import urllib.error
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/MONITOR" % web.http, timeout=5) as r:
            body = r.read()
    except urllib.error.HTTPError as e:
        body = e.read()
    assert b"MONITOR isn't allowed for DENY BLOCKING client" in body
    check_health(web)


def test_connection_commands_and_quit(keel, oracle):
    out = []
    for srv in (keel, oracle):
        m = Monitor(srv.port)
        w = RawConn(srv.port)
        for cmd in (["HELLO", "3"], ["CLIENT", "SETNAME", "x"], ["RESET"], ["SELECT", "0"],
                    ["WATCH", "a"], ["UNWATCH"], END):
            w.call(*cmd)
        first = m.lines()
        w.send(encode(["QUIT"]))
        w.read_until_close()
        stream(srv.port, [])
        out.append((first, m.lines()))
        m.close()
    assert out[0] == out[1]
    assert [a for _, a in out[0][1]] == [b'"QUIT"', b'"ECHO" "--end-of-stream--"']


def test_scripts_shown_before_their_commands(keel, oracle):
    """EVAL/EVALSHA/FCALL are SKIP_MONITOR in Redis 7.0 and fed before the
    script runs: the call's line precedes its commands' lines (shown with
    the address `lua`), and a failing call is shown too."""
    lib = "#!lua name=mlib\nredis.register_function('mf', function(k) return redis.call('INCR', k[1]) end)"
    for srv in (keel, oracle):
        with RawConn(srv.port) as c:
            c.call("FUNCTION", "FLUSH")
            c.call("FUNCTION", "LOAD", lib)
    lines = both_lines(keel, oracle, [
        ["EVAL", "redis.call('SET', KEYS[1], '1'); return redis.call('GET', KEYS[1])", "1", "a"],
        ["EVAL", "return redis.call('nosuch')", "0"],
        ["EVALSHA", "0123456789012345678901234567890123456789", "0"],
        ["FCALL", "mf", "1", "n"],
        ["FCALL", "nofunc", "0"],
    ])
    args = [a for _db, a in lines]
    assert args[0].startswith(b'"EVAL" "redis.call(')
    assert args[1:3] == [b'"SET" "a" "1"', b'"GET" "a"']
    assert args[5] == b'"FCALL" "mf" "1" "n"' and args[6] == b'"INCR" "n"'
    for srv in (keel, oracle):
        with RawConn(srv.port) as c:
            c.call("FUNCTION", "FLUSH")
