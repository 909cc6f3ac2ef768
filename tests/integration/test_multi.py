"""MULTI / EXEC / DISCARD / WATCH / UNWATCH and CLIENT REPLY: differential
tables against redis-server 7.0 (one connection), and multi-client tests of
WATCH broken by another client's write, by expiry, by FLUSHALL and SWAPDB."""

import time

import pytest
import redis

from harness import RawConn, cmds, encode, parse_one

CASES = {
    "basic": ["MULTI", "SET a 1", "INCR a", "GET a", "EXEC", "GET a"],
    "empty": ["MULTI", "EXEC"],
    "runtime_error_no_rollback": ["SET s abc", "MULTI", "SET a 1", "INCR s", "INCR a", "EXEC",
                                  "GET a"],
    "queue_error_aborts": ["MULTI", "SET a 1", "FOO bar", "EXEC", "GET a"],
    "arity_error_aborts": ["MULTI", "SET a", "SET b 2", "EXEC", "EXISTS b"],
    "syntax_error_runs": ["MULTI", "SET a 1 NX XX", "SET b 2", "EXEC", "GET b"],
    "exec_without_multi": ["EXEC", "DISCARD"],
    "nested_multi": ["MULTI", "MULTI", "SET a 1", "EXEC", "GET a"],
    "watch_inside_multi": ["MULTI", "WATCH a", "SET a 1", "EXEC"],
    "discard": ["MULTI", "SET a 1", "DISCARD", "GET a", "EXEC"],
    "watch_own_write_breaks": ["WATCH a", "SET a 1", "MULTI", "GET a", "EXEC"],
    "watch_untouched": ["WATCH a", "MULTI", "SET a 1", "EXEC", "GET a"],
    "unwatch": ["WATCH a", "SET a 1", "UNWATCH", "MULTI", "GET a", "EXEC"],
    "watch_then_discard_keeps_nothing": ["WATCH a", "MULTI", "DISCARD", "SET a 2", "MULTI",
                                         "GET a", "EXEC"],
    "select_inside": ["MULTI", "SELECT 1", "SET x 1", "SELECT 0", "EXISTS x", "EXEC",
                      "SELECT 1", "GET x"],
    "wrongtype_in_exec": ["SET a x", "MULTI", "INCR a", "APPEND a y", "EXEC", "GET a"],
    "watch_missing_key_then_created": ["WATCH nokey", "SET nokey 1", "MULTI", "PING", "EXEC"],
    "watch_many": ["WATCH a b c", "SET c 1", "MULTI", "PING", "EXEC"],
    "watch_arity": ["WATCH", "UNWATCH x"],
    "flushall_breaks_existing": ["SET a 1", "WATCH a", "FLUSHALL", "MULTI", "PING", "EXEC"],
    "flushall_spares_missing": ["WATCH a", "FLUSHALL", "MULTI", "PING", "EXEC"],
    "swapdb_breaks": ["SELECT 1", "SET a 1", "SELECT 0", "WATCH a", "SWAPDB 0 1", "MULTI",
                      "PING", "EXEC"],
    "reset_discards": ["MULTI", "SET a 1", "RESET", "EXEC", "GET a"],
    "queued_then_quit_not_queued": ["MULTI", "PING", "DISCARD"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_multi_resp2(diff, name):
    diff(cmds(*CASES[name]))


@pytest.mark.parametrize("name", sorted(CASES))
def test_multi_resp3(diff, name):
    diff(cmds(*CASES[name]), resp3=True)


def _pair(port):
    a = redis.Redis(port=port, single_connection_client=True)
    b = redis.Redis(port=port, single_connection_client=True)
    a.flushall()
    return a, b


def _exec(conn, *lines):
    """Send raw commands on one RawConn and return the parsed replies."""
    conn.send(b"".join(encode(c) for c in cmds(*lines)))
    return conn.read_replies(len(lines))


def test_watch_broken_by_other_client(keel):
    a, b = _pair(keel.port)
    a.set("k", 1)
    with a.pipeline() as p:
        p.watch("k")
        b.set("k", 2)
        p.multi()
        p.set("k", 3)
        with pytest.raises(redis.WatchError):
            p.execute()
    assert a.get("k") == b"2"


def test_watch_not_broken_by_read(keel):
    a, b = _pair(keel.port)
    a.set("k", 1)
    with a.pipeline() as p:
        p.watch("k")
        b.get("k")
        p.multi()
        p.incr("k")
        assert p.execute() == [2]


@pytest.mark.parametrize("lazy", [True, False])
def test_watch_broken_by_expiry(keel, lazy):
    a, b = _pair(keel.port)
    if not lazy:
        a.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    else:
        a.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        a.set("k", 1, px=100)
        with a.pipeline() as p:
            p.watch("k")
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and b.exists("k") if lazy else b.dbsize():
                time.sleep(0.02)
            time.sleep(0.15)
            p.multi()
            p.set("x", 1)
            with pytest.raises(redis.WatchError):
                p.execute()
    finally:
        a.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_watch_expired_at_exec_without_access(keel):
    """Redis 7.0 fails EXEC when a watched key's time passed, even if
    nothing touched it (the key is still in the table)."""
    a, _ = _pair(keel.port)
    a.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        a.set("k", 1, px=50)
        with a.pipeline() as p:
            p.watch("k")
            time.sleep(0.1)
            p.multi()
            p.set("x", 1)
            with pytest.raises(redis.WatchError):
                p.execute()
    finally:
        a.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_exec_replies_follow_resp3(keel):
    c = RawConn(keel.port)
    out = _exec(c, "HELLO 3", "MULTI", "SET k v", "EXEC", "PING")
    c.close()
    assert out[3] == b"*1\r\n+OK\r\n"


def _conversation(port, lines, settle=0.3):
    """Everything the server writes for these commands (some answer
    nothing: CLIENT REPLY OFF/SKIP), as one byte string."""
    c = RawConn(port)
    c.send(b"".join(encode(x) for x in cmds(*lines)))
    time.sleep(settle)
    data = c.read_available() if hasattr(c, "read_available") else None
    if data is None:
        c.sock.settimeout(0.2)
        data = b""
        try:
            while True:
                chunk = c.sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
    c.close()
    return data


def test_client_reply_matches_redis(keel, oracle):
    lines = ["CLIENT REPLY SKIP", "PING a", "PING b", "CLIENT REPLY OFF", "PING c", "SET k v",
             "CLIENT REPLY ON", "GET k", "CLIENT REPLY FOO", "CLIENT REPLY", "PING end"]
    assert _conversation(keel.port, lines) == _conversation(oracle.port, lines)


def test_disconnect_in_multi_leaves_nothing(keel):
    for _ in range(50):
        c = RawConn(keel.port)
        _exec(c, "WATCH a b c", "MULTI", "SET a 1")
        c.close()
    a, b = _pair(keel.port)
    with a.pipeline() as p:
        p.watch("a")
        p.multi()
        p.set("a", 2)
        assert p.execute() == [True]
