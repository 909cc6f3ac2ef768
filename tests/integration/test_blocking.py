"""Blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX
BZMPOP) with several real clients interleaving: FIFO wake order, wake-ups by
another client's push, by EXEC, by a type change; fractional timeouts; a
blocked client's pipelined commands waiting their turn; CLIENT UNBLOCK;
disconnects while blocked; non-blocking behaviour inside MULTI. Every
scenario runs on Keel and on redis-server 7.0 and the bytes each client
receives are compared."""

import time

import pytest

from harness import RawConn, cmds, encode


def send(c, *lines):
    c.send(b"".join(encode(x) for x in cmds(*lines)))


def wait_blocked(port, n, timeout=5):
    """Until INFO clients shows n blocked clients."""
    deadline = time.monotonic() + timeout
    with RawConn(port) as c:
        while time.monotonic() < deadline:
            c.send(encode(["INFO", "clients"]))
            info = c.read_replies(1)[0]
            for line in info.split(b"\r\n"):
                if line.startswith(b"blocked_clients:") and int(line.split(b":")[1]) == n:
                    return
            time.sleep(0.01)
    raise AssertionError("never saw %d blocked clients" % n)


def scenario(port, steps):
    """steps: list of (client index, command lines, replies to read). Returns
    the bytes each read produced, in order."""
    conns = {}
    out = []
    with RawConn(port) as c:
        c.send(encode(["FLUSHALL"]))
        c.read_replies(1)
    try:
        for step in steps:
            if step[0] == "wait":
                wait_blocked(port, step[1])
                continue
            if step[0] == "sleep":
                time.sleep(step[1])
                continue
            if step[0] == "close":
                conns.pop(step[1]).close()
                continue
            if step[0] == "hello3":  # switch a client to RESP3; its reply (with ids) is dropped
                conns[step[1]].send(encode(["HELLO", "3"]))
                conns[step[1]].read_replies(1)
                continue
            who, lines, nread = step
            if who not in conns:
                conns[who] = RawConn(port)
                conns[who].send(encode(["PING"]))
                conns[who].read_replies(1)
            if lines:
                send(conns[who], *lines)
            if nread:
                out.append((who, conns[who].read_replies(nread, timeout=5)))
    finally:
        for c in conns.values():
            c.close()
    return out


def both(keel, oracle, steps):
    a = scenario(keel.port, steps)
    b = scenario(oracle.port, steps)
    assert a == b


def test_blpop_ready_data(keel, oracle):
    both(keel, oracle, [(0, ["RPUSH l a b c", "BLPOP l 0", "BRPOP l 0", "BLPOP x l 0"], 4)])


def test_blpop_woken_by_push(keel, oracle):
    both(keel, oracle, [(1, ["BLPOP l 0"], 0), ("wait", 1), (0, ["RPUSH l v"], 1), (1, [], 1)])


def test_fifo_order(keel, oracle):
    both(keel, oracle, [
        (1, ["BLPOP l 0"], 0), ("wait", 1),
        (2, ["BLPOP l 0"], 0), ("wait", 2),
        (3, ["BRPOP l 0"], 0), ("wait", 3),
        (0, ["RPUSH l a b"], 1),
        (1, [], 1), (2, [], 1),
        (0, ["RPUSH l c"], 1), (3, [], 1),
    ])


def test_multiple_keys_first_nonempty(keel, oracle):
    both(keel, oracle, [(1, ["BLPOP a b c 0"], 0), ("wait", 1), (0, ["RPUSH c x", "RPUSH b y"], 2),
                        (1, [], 1)])


def test_woken_inside_exec(keel, oracle):
    both(keel, oracle, [(1, ["BRPOP l 0"], 0), ("wait", 1),
                        (0, ["MULTI", "RPUSH l a", "RPUSH l b", "EXEC"], 4), (1, [], 1),
                        (0, ["LRANGE l 0 -1"], 1)])


def test_type_change_wakes_with_error(keel, oracle):
    both(keel, oracle, [(1, ["BLPOP l 0"], 0), ("wait", 1), (0, ["SET l x"], 1),
                        (0, ["DEL l", "RPUSH l v"], 2), (1, [], 1)])


def test_timeout_fractional(keel, oracle):
    both(keel, oracle, [(1, ["BLPOP l 0.05", "BLMOVE l m LEFT RIGHT 0.05", "BZPOPMIN z 0.05"], 3)])


def test_timeout_errors(keel, oracle):
    both(keel, oracle, [(0, ["BLPOP l -1", "BLPOP l abc", "BLPOP l inf", "BLPOP l 1e400",
                             "BRPOP", "BLMOVE a b UP LEFT 0", "BZPOPMAX z -0.5"], 7)])


def test_pipelined_commands_wait(keel, oracle):
    both(keel, oracle, [(1, ["BLPOP l 0", "PING", "SET after 1"], 0), ("wait", 1),
                        (0, ["EXISTS after"], 1), (0, ["RPUSH l v"], 1), (1, [], 3),
                        (0, ["EXISTS after"], 1)])


def test_inside_multi_does_not_block(keel, oracle):
    both(keel, oracle, [(0, ["MULTI", "BLPOP l 0", "BLMOVE a b LEFT LEFT 0", "BZPOPMIN z 0",
                             "EXEC"], 5)])


def test_client_unblock(keel, oracle):
    # Client ids differ between servers: unblock by the id each one reports.
    for srv in (keel, oracle):
        a, b = RawConn(srv.port), RawConn(srv.port)
        try:
            send(a, "CLIENT ID")
            cid = a.read_replies(1)[0][1:-2].decode()
            send(a, "BLPOP l 0")
            wait_blocked(srv.port, 1)
            send(b, "CLIENT UNBLOCK %s" % cid, "CLIENT UNBLOCK %s" % cid)
            assert b.read_replies(2) == [b":1\r\n", b":0\r\n"]
            assert a.read_replies(1) == [b"*-1\r\n"]
            send(a, "BLPOP l 0")
            wait_blocked(srv.port, 1)
            send(b, "CLIENT UNBLOCK %s ERROR" % cid)
            assert b.read_replies(1) == [b":1\r\n"]
            assert a.read_replies(1) == [b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"]
            send(b, "CLIENT UNBLOCK 999999", "CLIENT UNBLOCK %s FOO" % cid)
            assert b.read_replies(2) == [
                b":0\r\n", b"-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"]
        finally:
            a.close()
            b.close()


def test_disconnect_while_blocked(keel, oracle):
    both(keel, oracle, [(1, ["BLPOP l 0"], 0), ("wait", 1), ("close", 1), ("wait", 0),
                        (2, ["BLPOP l 0"], 0), ("wait", 1), (0, ["RPUSH l a b"], 1), (2, [], 1),
                        (0, ["LLEN l"], 1)])


def test_blmove_and_brpoplpush(keel, oracle):
    both(keel, oracle, [(1, ["BLMOVE src dst RIGHT LEFT 0"], 0), ("wait", 1),
                        (2, ["BRPOPLPUSH dst other 0"], 0), ("wait", 2),
                        (0, ["RPUSH src a"], 1), (1, [], 1), (2, [], 1),
                        (0, ["LRANGE src 0 -1", "LRANGE dst 0 -1", "LRANGE other 0 -1"], 3)])


def test_blmpop(keel, oracle):
    both(keel, oracle, [(0, ["BLMPOP 0.01 2 a b LEFT", "BLMPOP 0 0 a LEFT", "BLMPOP 0 2 a LEFT",
                             "BLMPOP 0 1 a LEFT COUNT 0", "BLMPOP -1 1 a LEFT",
                             "RPUSH b 1 2 3", "BLMPOP 0 2 a b RIGHT COUNT 3"], 7),
                        (1, ["BLMPOP 0 2 a b LEFT COUNT 5"], 0), ("wait", 1),
                        (0, ["RPUSH a x y"], 1), (1, [], 1)])


def test_bzpop(keel, oracle):
    both(keel, oracle, [(0, ["ZADD z 1 a 2 b 3 c", "BZPOPMIN z 0", "BZPOPMAX z 0"], 3),
                        (1, ["BZPOPMIN z2 z3 0"], 0), ("wait", 1),
                        (0, ["ZADD z3 5 q"], 1), (1, [], 1),
                        (1, ["BZPOPMAX z2 0"], 0), ("wait", 1),
                        (0, ["ZADD z2 1 x 9 y"], 1), (1, [], 1)])


def test_bzmpop(keel, oracle):
    both(keel, oracle, [(0, ["ZADD z 1 a 2 b", "BZMPOP 0 1 z MAX COUNT 5", "BZMPOP 0 0 z MIN"], 3),
                        (1, ["BZMPOP 0 2 y z MIN"], 0), ("wait", 1),
                        (0, ["ZADD y 3 c"], 1), (1, [], 1)])


def test_resp3_shapes(keel, oracle):
    both(keel, oracle, [(0, [], 0), ("hello3", 0),
                        (0, ["RPUSH l a", "BLPOP l 0.01", "BLPOP l 0.01",
                             "ZADD z 1 m", "BZPOPMIN z 0.01", "BZPOPMIN z 0.01",
                             "BLMOVE l m LEFT LEFT 0.01"], 7)])


# Positive timeouts under a millisecond (and every other sub-millisecond
# spelling) round UP to 1 ms, as Redis 7.0's getTimeoutFromObjectOrReply
# (ceill of seconds * 1000): they time out at once instead of waiting forever.
SUB_MS_TIMEOUTS = ["0.001", "0.0001", "0.0009", "1e-9", "1e-400"]
SUB_MS_CMDS = ["BLPOP l {t}", "BRPOP l {t}", "BLMOVE l m LEFT RIGHT {t}", "BRPOPLPUSH l m {t}",
               "BLMPOP {t} 1 l LEFT", "BZPOPMIN z {t}", "BZPOPMAX z {t}", "BZMPOP {t} 1 z MIN"]


@pytest.mark.parametrize("t", SUB_MS_TIMEOUTS)
def test_timeout_under_one_ms_times_out(keel, oracle, t):
    lines = [c.format(t=t) for c in SUB_MS_CMDS]
    for srv in (keel, oracle):
        with RawConn(srv.port, timeout=5) as c:
            start = time.monotonic()
            send(c, *lines)
            got = c.read_replies(len(lines), timeout=5)
            took = time.monotonic() - start
        assert got == [b"*-1\r\n"] * len(lines), (srv.name, got)
        # at once, not forever: redis-server times blocked clients out at
        # its 10 Hz cron, one after the other (1.6 s on a loaded machine)
        assert took < 4.5, (srv.name, took)


def test_timeout_negative_zero_waits(keel, oracle):
    """-0.0001 s rounds up to -0 ms, i.e. 0: no timeout (Redis 7.0 too)."""
    both(keel, oracle, [(1, ["BLPOP l -0.0001"], 0), ("wait", 1), (0, ["RPUSH l v"], 1),
                        (1, [], 1)])


def test_timeout_past_end_of_time_waits(keel, oracle):
    """A timeout whose deadline (now + ms) overflows waits (Redis 7.0 wraps
    and never times it out); Keel once overflowed a signed integer here."""
    both(keel, oracle, [(1, ["BLPOP l 9223372036854775"], 0), ("wait", 1),
                        (1, ["BZPOPMIN z 9223372036854775.807"], 0), ("sleep", 0.1),
                        (0, ["RPUSH l v", "ZADD z 1 m"], 2), (1, [], 2)])


def test_swapdb_wakes_waiting_clients(keel, oracle):
    """SWAPDB brings data under a waited-on key (Redis 7.0 rescans both
    databases): a list wakes the client; a key of another type does not."""
    both(keel, oracle, [(1, ["BLPOP k 0"], 0), (2, ["SELECT 1", "BZPOPMIN z 0"], 1),
                        ("wait", 2),
                        (0, ["SELECT 1", "SET k s", "RPUSH other x", "SWAPDB 0 1"], 4),
                        ("sleep", 0.1),
                        (0, ["SELECT 0", "TYPE k", "ZADD z 1 m", "SWAPDB 1 0"], 4), (2, [], 1),
                        (0, ["SELECT 1", "DEL k", "RPUSH k v", "SWAPDB 0 1"], 4), (1, [], 1)])
