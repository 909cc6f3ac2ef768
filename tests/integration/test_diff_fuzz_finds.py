"""What the fuzz targets of tests/fuzz found (fuzz_commands, fuzz_hll,
fuzz_glob), each replayed against redis-server 7.0: the same reply, byte
for byte, where Keel once crashed, tripped a sanitizer or answered
otherwise."""

import pytest

import harness
from harness import RawConn, assert_same_bytes


def same(keel, oracle, *cmd):
    with RawConn(keel.port) as k, RawConn(oracle.port) as o:
        assert_same_bytes(k.call(*cmd), o.call(*cmd), " ".join(map(str, cmd)))


# A Lua number that does not fit a long long (NaN, infinities, 2^63 and
# up) as a script's integer reply: Redis 7.0 answers LLONG_MIN (its C cast
# on x86-64); Keel's cast was undefined behaviour (UBSan).
@pytest.mark.parametrize("arg", ["18446744073709551615", "9223372036854775807",
                                 "-9223372036854775809", "1e19", "inf", "-inf", "nan",
                                 "1.5", "-1.5", "-9223372036854775808"])
def test_script_number_reply_out_of_range(keel, oracle, arg):
    same(keel, oracle, "EVAL", "return tonumber(ARGV[1])", "0", arg)
    same(keel, oracle, "EVAL", "return {tonumber(ARGV[1]), 1e30}", "0", arg)


# redis.setresp, redis.log and redis.set_repl read their number as an int:
# out of range it is refused, as Redis.
@pytest.mark.parametrize("script", ["redis.setresp(0/0)", "redis.setresp(1e300)",
                                    "redis.setresp(-1e300)", "redis.log(0/0, 'x')",
                                    "redis.log(1e300, 'x')", "redis.set_repl(1e300)",
                                    "redis.set_repl(0/0)", "redis.setresp(3.5)"])
def test_script_int_arguments_out_of_range(keel, oracle, script):
    same(keel, oracle, "EVAL", script, "0")


HLL_HDR_DENSE = b"HYLL\x00\x00\x00\x00" + b"\x00" * 7 + b"\x80"  # cached count stale


# A dense HLL whose registers are all above 50 (the largest a real element
# sets): the estimate is infinite; Redis 7.0 answers -9223372036854775808
# and caches 2^63 (the stale bit), Keel's conversion was undefined (UBSan).
@pytest.mark.parametrize("body", [b"\xff" * 12288, b"\x33" * 12288,
                                  bytes(i % 256 for i in range(12288)),
                                  b"\xcf\xf3\xfc" * 4096])
def test_hll_dense_registers_out_of_range(keel, oracle, body):
    for port in (keel.port, oracle.port):
        with RawConn(port) as c:
            c.call("DEL", "fz:h", "fz:h3")
            assert c.call("SET", "fz:h", HLL_HDR_DENSE + body) == b"+OK\r\n"
    for cmd in (["PFCOUNT", "fz:h", "fz:h"], ["PFCOUNT", "fz:h"], ["GETRANGE", "fz:h", "8", "15"],
                ["PFMERGE", "fz:h3", "fz:h"], ["PFCOUNT", "fz:h3"], ["PFADD", "fz:h", "zz"],
                ["PFCOUNT", "fz:h"], ["DEL", "fz:h", "fz:h3"]):
        same(keel, oracle, *cmd)


# A blocking timeout so far away that now + timeout overflows a long long:
# Redis 7.0 blocks (its sum wraps into a timeout that never comes); Keel's
# sum was undefined (UBSan, WAIT under fuzz_commands; XREAD BLOCK the same).
# Both wait until woken, then answer the same. CLIENT UNBLOCK [ERROR] wakes
# a WAIT as Redis (it answered 0 and left the WAIT waiting).
@pytest.mark.parametrize("cmd,wake", [
    (["WAIT", "1", "9223372036854775807"], []),
    (["WAIT", "1", "9223372036854775807"], ["ERROR"]),
    (["WAIT", "1", "0"], ["TIMEOUT"]),
    (["XREAD", "BLOCK", "9223372036854775807", "STREAMS", "fz:st", "$"],
     ["XADD", "fz:st", "1-1", "f", "v"]),
    (["XREAD", "BLOCK", "9223372036854775000", "STREAMS", "fz:st", "$"],
     ["XADD", "fz:st", "2-1", "f", "v"]),
])
def test_timeout_past_the_end_of_time_blocks(keel, oracle, cmd, wake):
    out = []
    for port in (keel.port, oracle.port):
        with RawConn(port) as a, RawConn(port) as b:
            b.call("DEL", "fz:st")
            cid = a.call("CLIENT", "ID")[1:-2].decode()
            a.send(harness.encode(cmd))
            with pytest.raises(harness.ReplyTimeout):
                a.read_reply(timeout=0.3)  # blocked
            if wake and wake[0] not in ("ERROR", "TIMEOUT"):
                b.call(*wake)
            else:
                assert b.call("CLIENT", "UNBLOCK", cid, *wake) == b":1\r\n"
            out.append(a.read_reply())
            b.call("DEL", "fz:st")
    assert_same_bytes(out[0], out[1], " ".join(cmd))


# LIMIT offset count at LLONG_MIN: a negative count is no limit and a
# negative offset skips everything, as Redis 7.0; Keel counted them down
# past LLONG_MIN (UBSan, fuzz_commands).
@pytest.mark.parametrize("cmd", [
    ["ZRANGEBYSCORE", "fz:z", "-inf", "+inf", "LIMIT", "0", "-9223372036854775808"],
    ["ZRANGEBYSCORE", "fz:z", "-inf", "+inf", "LIMIT", "-9223372036854775808", "5"],
    ["ZRANGEBYSCORE", "fz:z", "-inf", "+inf", "LIMIT", "1", "-1"],
    ["ZREVRANGEBYSCORE", "fz:z", "+inf", "-inf", "LIMIT", "0", "-9223372036854775808"],
    ["ZRANGEBYLEX", "fz:z", "-", "+", "LIMIT", "0", "-9223372036854775808"],
    ["ZREVRANGEBYLEX", "fz:z", "+", "-", "LIMIT", "-9223372036854775808", "-9223372036854775808"],
    ["ZRANGE", "fz:z", "(0", "+inf", "BYSCORE", "LIMIT", "1", "-9223372036854775808"],
    ["ZRANGESTORE", "fz:d", "fz:z", "-inf", "+inf", "BYSCORE", "LIMIT", "0",
     "-9223372036854775808"],
    ["ZRANGESTORE", "fz:d", "fz:z", "-", "+", "BYLEX", "LIMIT", "-9223372036854775808", "1"],
])
def test_zrange_limit_extremes(keel, oracle, cmd):
    for port in (keel.port, oracle.port):
        with RawConn(port) as c:
            c.call("DEL", "fz:z", "fz:d")
            c.call("ZADD", "fz:z", "1", "a", "2", "b", "3", "c")
    same(keel, oracle, *cmd)
    same(keel, oracle, "ZRANGE", "fz:d", "0", "-1", "WITHSCORES")
    same(keel, oracle, "DEL", "fz:z", "fz:d")


# fuzz_hll's input that made PFADD merge two VAL opcodes at the very end
# of a sparse value's buffer (Keel moved one byte too many, the sds
# terminator Redis has and an rstr has not: a read past the buffer under
# ASan; tests/unit/test_hll.c's sparse_merge_at_the_buffer_end builds that
# buffer): the same replies and bytes as Redis.
def test_hll_sparse_merge_at_the_end(keel, oracle):
    body = b"\xff" * 13 + b"\x10zht" + b"\x90" * 5
    value = b"HYLL\x01\x00\x00\x00" + b"\x00" * 7 + b"\x80" + body
    els = [str(i) for i in range(1, 15)]
    for port in (keel.port, oracle.port):
        with RawConn(port) as c:
            c.call("DEL", "fz:h", "fz:h2", "fz:h3")
    same(keel, oracle, "SET", "fz:h", value)
    same(keel, oracle, "PFADD", "fz:h2", "a", "x", "1", "2", "3")
    for cmd in (["PFADD", "fz:h"] + els, ["PFMERGE", "fz:h3", "fz:h", "fz:h2"],
                ["PFADD", "fz:h", "a", "b", "c"], ["PFADD", "fz:h", "a", "b", "c"],
                ["PFCOUNT", "fz:h"], ["GET", "fz:h"], ["PFDEBUG", "DECODE", "fz:h"],
                ["DEL", "fz:h", "fz:h2", "fz:h3"]):
        same(keel, oracle, *cmd)


# A sparse HLL whose last opcode is an XZERO cut short (one byte of two):
# PFADD replaces it as if whole, writing 5 bytes from the value's last
# byte, past Keel's 3 spare bytes (fuzz_hll; Redis writes onto its sds
# terminator). The same replies and bytes as Redis.
def test_hll_sparse_cut_xzero_at_the_end(keel, oracle):
    value = b"HYLL\x01\x00\x00\x00" + b"\x00" * 7 + b"\x80" + b"\x40\xfe\x7f"
    for cmd in (["SET", "fz:h", value], ["PFCOUNT", "fz:h"], ["PFADD", "fz:h", "a"],
                ["GET", "fz:h"], ["PFADD", "fz:h", "b", "c", "d"], ["GET", "fz:h"],
                ["PFDEBUG", "DECODE", "fz:h"], ["PFCOUNT", "fz:h"], ["DEL", "fz:h"]):
        same(keel, oracle, *cmd)


# FUNCTION LOAD's unknown option named in the error with its CR/LF turned
# into spaces, as Redis (fuzz_matcher: the word went out as it was).
@pytest.mark.parametrize("opt", ["SET\rE", "a\nb", "\r\n"])
def test_function_load_option_with_line_breaks(keel, oracle, opt):
    same(keel, oracle, "FUNCTION", "LOAD", opt, "x")
