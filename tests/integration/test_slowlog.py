"""SLOWLOG against redis-server 7.0: GET/LEN/RESET/HELP, the entries'
shape (ids, timestamps, durations and client addresses masked), argument
trimming, slowlog-max-len trimming, error texts, commands flagged
SKIP_SLOWLOG (EXEC) not logged while the commands inside EXEC are, and the
two config entries. Both servers are session-wide: every test restores
slowlog-log-slower-than / slowlog-max-len to their defaults."""

import re
import time

import pytest

from harness import Err, RawConn, parse_one


@pytest.fixture
def both(keel, oracle):
    conns = [RawConn(keel.port), RawConn(oracle.port)]
    for c in conns:
        c.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
        c.call("SLOWLOG", "RESET")
    yield conns
    for c in conns:
        c.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
        c.call("CONFIG", "SET", "slowlog-max-len", "128")
        c.call("SLOWLOG", "RESET")
        c.call("FLUSHALL")
        c.close()


def run(conns, *cmds):
    """Run each command on both servers; the replies (parsed) must agree."""
    out = []
    for cmd in cmds:
        k, o = (parse_one(c.call(*cmd))[0] for c in conns)
        assert k == o, (cmd, k, o)
        out.append(k)
    return out


def masked(c, *count):
    """SLOWLOG GET as (argv, name) pairs; checks the masked fields' shape."""
    now = int(time.time())
    entries = parse_one(c.call("SLOWLOG", "GET", *count))[0]
    out = []
    ids = []
    for e in entries:
        assert len(e) == 6, e
        ident, ts, dur, argv, addr, name = e
        assert isinstance(ident, int) and isinstance(dur, int) and dur >= 0
        assert abs(ts - now) <= 5
        assert re.fullmatch(rb"127\.0\.0\.1:\d+", bytes(addr)), addr
        ids.append(ident)
        out.append(([bytes(a) for a in argv], bytes(name)))
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    return out


def same_log(conns, *count):
    k, o = (masked(c, *count) for c in conns)
    assert k == o
    return k


def test_get_shape_and_order(both):
    run(both, ["SET", "a", "1"], ["GET", "a"], ["CLIENT", "SETNAME", "nm"], ["LPUSH", "a", "x"],
        ["INCR", "nosuch"])
    log = same_log(both)
    assert log[0] == ([b"INCR", b"nosuch"], b"nm")
    assert log[-1][0] == [b"SLOWLOG", b"RESET"]
    same_log(both, "2")
    same_log(both, "-1")
    same_log(both, "0")


def test_len_and_reset(both):
    run(both, ["PING"], ["PING"], ["SLOWLOG", "LEN"], ["SLOWLOG", "RESET"], ["SLOWLOG", "LEN"],
        ["SLOWLOG", "LEN"])
    same_log(both)


def test_max_len_trimming(both):
    run(both, ["CONFIG", "SET", "slowlog-max-len", "5"])
    run(both, *[["PING", str(i)] for i in range(20)])
    run(both, ["SLOWLOG", "LEN"])
    log = same_log(both)
    assert len(log) == 5
    run(both, ["CONFIG", "SET", "slowlog-max-len", "2"], ["SLOWLOG", "LEN"])
    run(both, ["CONFIG", "SET", "slowlog-max-len", "0"], ["SLOWLOG", "LEN"])


def test_argument_trimming(both):
    run(both, ["SADD", "set"] + [str(i) for i in range(3, 34)])
    run(both, ["SADD", "s2"] + [str(i) for i in range(30)])
    run(both, ["SADD", "s3", "foo", "A" * 129, "B" * 128, "C" * 1000])
    run(both, ["SET", "big", "x" * 5000])
    log = same_log(both)
    assert log[3][0][-1] == b"... (2 more arguments)"
    assert log[1][0][3] == b"A" * 128 + b"... (1 more bytes)"


def test_help_and_errors(both):
    run(both, ["SLOWLOG", "HELP"], ["slowlog", "help"], ["SLOWLOG", "GET", "-2"],
        ["SLOWLOG", "GET", "x"], ["SLOWLOG", "GET", "1.5"], ["SLOWLOG", "GET", "1", "2"],
        ["SLOWLOG", "LEN", "x"], ["SLOWLOG", "RESET", "x"], ["SLOWLOG", "HELP", "x"],
        ["SLOWLOG", "FOO"], ["SLOWLOG"], ["SLOWLOG", "GET", "99999999999999999999"],
        ["SLOWLOG", "GET", "-99999999999999999999"],
        ["SLOWLOG", "GET", "x", "2"], ["slowlog", "GeT", "1", "2"])
    same_log(both)


def test_exec_not_logged_but_its_commands_are(both):
    run(both, ["MULTI"], ["SET", "k", "v"], ["INCR", "c"], ["EXEC"])
    log = same_log(both)
    assert [a for a, _ in log[:3]] == [[b"INCR", b"c"], [b"SET", b"k", b"v"], [b"MULTI"]]
    run(both, ["MULTI"], ["DISCARD"])
    same_log(both)


def test_rejected_commands_not_logged(both):
    run(both, ["NOSUCHCMD"], ["GET"], ["SET", "a"], ["SLOWLOG", "LEN"])
    same_log(both)


def test_auth_redacted(both):
    run(both, ["AUTH", "secret"], ["AUTH", "u", "p"])
    run(both, ["HELLO", "2", "AUTH", "u", "p"])
    same_log(both)


def test_config_set_and_migrate_redacted(both):
    """Sensitive configs' values (requirepass, masterauth, masteruser) and MIGRATE's
    AUTH / AUTH2 words, as Redis 7.0 redacts them."""
    run(both, ["CONFIG", "SET", "masterauth", "x", "requirepass", "", "hz", "10"],
        ["CONFIG", "SET", "MASTERAUTH", ""], ["CONFIG", "SET", "nosuch", "x", "masterauth", "y"],
        ["CONFIG", "SET", "hz", "10", "masteruser", "u"], ["CONFIG", "SET", "masteruser", ""],
        ["MIGRATE", "127.0.0.1", "1", "nosuchkey", "0", "10", "AUTH2", "u", "p"],
        ["MIGRATE", "127.0.0.1", "1", "nosuchkey", "0", "10", "COPY", "AUTH", "pw", "KEYS", "a"],
        ["MIGRATE", "127.0.0.1", "1", "", "0", "10", "AUTH", "pw", "KEYS", "a", "AUTH", "b"])
    same_log(both)


def test_disabled_and_threshold(both):
    run(both, ["CONFIG", "SET", "slowlog-log-slower-than", "-1"], ["PING"], ["SLOWLOG", "LEN"])
    run(both, ["CONFIG", "SET", "slowlog-log-slower-than", "100000000"], ["PING"],
        ["SLOWLOG", "LEN"])


def test_config(both):
    k, o = (parse_one(c.call("CONFIG", "GET", "slowlog*"))[0] for c in both)
    assert dict(zip(k[::2], k[1::2])) == dict(zip(o[::2], o[1::2]))
    run(both,
        ["CONFIG", "SET", "slowlog-log-slower-than", "-2"],
        ["CONFIG", "SET", "slowlog-max-len", "-1"],
        ["CONFIG", "SET", "slowlog-max-len", "x"],
        ["CONFIG", "SET", "slowlog-log-slower-than", "5000"],
        ["CONFIG", "GET", "slowlog-log-slower-than"],
        ["CONFIG", "SET", "slowlog-log-slower-than", "0"])


def test_resp3(both):
    for c in both:
        c.call("HELLO", "3")
    run(both, ["SET", "a", "b"], ["SLOWLOG", "LEN"], ["SLOWLOG", "HELP"])
    same_log(both)
    for c in both:
        c.call("HELLO", "2")


def test_blocked_command_logged_when_served(both, keel, oracle):
    for port, c in zip((keel.port, oracle.port), both):
        with RawConn(port) as w:
            w.send(b"*3\r\n$5\r\nBLPOP\r\n$2\r\nbk\r\n$1\r\n0\r\n")
            time.sleep(0.1)
            c.call("LPUSH", "bk", "v")
            assert parse_one(w.read_reply())[0] == [b"bk", b"v"]
    log = same_log(both)
    assert [a for a, _ in log[:2]] == [[b"BLPOP", b"bk", b"0"], [b"LPUSH", b"bk", b"v"]]
