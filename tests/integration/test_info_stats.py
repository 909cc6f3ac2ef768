"""INFO commandstats, errorstats and stats against redis-server 7.0: the
same command stream (plain commands, syntax and type errors, unknown
commands and wrong arity, transactions that succeed, fail inside, abort
with EXECABORT or lose a WATCH, refusals in subscribed mode, NOAUTH-free
AUTH errors) gives the same calls / rejected_calls / failed_calls per
command (times masked: they differ), the same errorstat_<CODE> counts and
the same total_error_replies; EXEC counts as failed only for its own error,
not for those of the commands it ran. The Stats section has Redis's fields
in Redis's order; CONFIG RESETSTAT clears the counters."""

import re

import pytest

from harness import RawConn, encode, parse_one

STREAM = [
    ["SET", "a", "1"], ["GET"], ["NOSUCH"], ["LPUSH", "a", "x"], ["SET", "a", "b", "XX", "NX"],
    ["MULTI"], ["SET", "x", "1"], ["INCR", "a"], ["LPUSH", "a", "1"], ["EXEC"],
    ["MULTI"], ["SET", "x", "1"], ["GET"], ["EXEC"],
    ["MULTI"], ["NOSUCH"], ["EXEC"],
    ["WATCH", "w"], ["MULTI"], ["PING"], ["EXEC"],
    ["MULTI"], ["INCR", "x"], ["SET", "y", "z"], ["EXEC"],
    ["EXEC"], ["DISCARD"], ["CLIENT", "NOPE"], ["CONFIG", "GET"], ["OBJECT", "ENCODING", "none"],
    ["AUTH", "x"], ["SELECT", "100"], ["INCR", "x"], ["MULTI"], ["MULTI"], ["WATCH", "x"],
    ["DISCARD"], ["INCRBYFLOAT", "x", "abc"], ["ZADD", "z", "nan", "m"], ["XX"],
    ["SUBSCRIBE", "c"], ["GET", "a"], ["PING"], ["RESET"],
]


def section(c, name):
    text = parse_one(c.call("INFO", name))[0].decode()
    out = {}
    for line in text.split("\r\n")[1:]:
        if line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def run_stream(port, stream):
    with RawConn(port) as c:
        c.call("CONFIG", "RESETSTAT")
        for cmd in stream:
            c.call(*cmd)
        cs = {k: re.sub(r"usec=\d+,usec_per_call=[\d.]+,", "", v)
              for k, v in section(c, "commandstats").items()}
        es = section(c, "errorstats")
        st = section(c, "stats")
    return cs, es, st


@pytest.fixture
def both(keel, oracle):
    yield keel, oracle
    for srv in (keel, oracle):
        with RawConn(srv.port) as c:
            c.call("FLUSHALL")
            c.call("CONFIG", "RESETSTAT")


def test_command_and_error_stats(both):
    k, o = (run_stream(srv.port, STREAM) for srv in both)
    assert k[0] == o[0]
    assert k[1] == o[1]
    assert k[2]["total_error_replies"] == o[2]["total_error_replies"]
    assert k[0]["cmdstat_exec"] == "calls=6,rejected_calls=0,failed_calls=3"
    assert k[0]["cmdstat_get"].endswith("rejected_calls=3,failed_calls=0")


def test_stats_fields_in_order(both):
    fields = []
    for srv in both:
        with RawConn(srv.port) as c:
            fields.append(list(section(c, "stats")))
    assert fields[0] == fields[1]


def test_counters_count_and_reset(keel):
    with RawConn(keel.port) as c:
        c.call("CONFIG", "RESETSTAT")
        c.call("SET", "k", "v", "PX", "1")
        for _ in range(3):
            c.call("GET", "k")
        st = section(c, "stats")
        assert int(st["total_reads_processed"]) >= 4
        assert int(st["total_writes_processed"]) >= 4
        assert int(st["expire_cycle_cpu_milliseconds"]) >= 0
        c.call("CONFIG", "RESETSTAT")
        st = section(c, "stats")
        assert int(st["total_reads_processed"]) <= 2 and st["total_error_replies"] == "0"
        assert section(c, "errorstats") == {}
        assert list(section(c, "commandstats")) == ["cmdstat_config|resetstat"] or \
            set(section(c, "commandstats")) <= {"cmdstat_config|resetstat", "cmdstat_info"}


def test_protocol_errors_and_replies_off_are_counted(both):
    import socket
    import time
    out = []
    for srv in both:
        with RawConn(srv.port) as c:
            c.call("CONFIG", "RESETSTAT")
        for data in (b"*x\r\n", b"CLIENT REPLY OFF\r\nGET\r\nINCR\r\nSET a b\r\nLPUSH a x\r\n"
                                b"CLIENT REPLY ON\r\n"):
            s = socket.create_connection(("127.0.0.1", srv.port))
            s.sendall(data)
            time.sleep(0.2)
            s.recv(1000)
            s.close()
        with RawConn(srv.port) as c:
            cs = {k: re.sub(r"usec=\d+,usec_per_call=[\d.]+,", "", v)
                  for k, v in section(c, "commandstats").items() if "info" not in k}
            out.append((section(c, "stats")["total_error_replies"], section(c, "errorstats"), cs))
    assert out[0] == out[1], out
    assert out[0][0] == "4"


def test_fork_figures(keel):
    import time
    with RawConn(keel.port) as c:
        c.call("CONFIG", "RESETSTAT")
        assert section(c, "stats")["total_forks"] == "0"
        assert c.call("BGSAVE").startswith(b"+")
        deadline = time.time() + 10
        while section(c, "persistence")["rdb_bgsave_in_progress"] != "0":
            assert time.time() < deadline
            time.sleep(0.05)
        st = section(c, "stats")
        assert st["total_forks"] == "1" and int(st["latest_fork_usec"]) > 0
        c.call("CONFIG", "RESETSTAT")
        st = section(c, "stats")
        assert st["total_forks"] == "0" and st["latest_fork_usec"] == "0"
