"""What the fuzz targets of tests/fuzz found (fuzz_commands, fuzz_hll,
fuzz_glob), each replayed against redis-server 7.0: the same reply, byte
for byte, where Keel once crashed, tripped a sanitizer or answered
otherwise."""

import pytest

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
