"""DEBUG as operators and Redis's own tooling use it, against redis-server 7.0
(an oracle started with --enable-debug-command yes):

- DIGEST and DIGEST-VALUE: the same 40 hex digits for the same data, every
  type and encoding, TTLs, several databases, missing keys;
- PROTOCOL <type>: byte-identical replies in RESP2 and RESP3 (attributes,
  big numbers, verbatim strings, booleans, push, doubles, maps, sets);
- STRINGMATCH-TEST, REPLYBUFFER, QUICKLIST-PACKED-THRESHOLD: the same
  replies and errors;
- plain quicklist nodes (elements over the packed threshold): DUMP payloads
  byte for byte after pushes, LSET, LINSERT, pops and LREM, with and without
  list-compress-depth, RESTORE of each server's payload on the other, and
  DEBUG RELOAD keeping them;
- LOADAOF: the dataset (by its digest) is what the log rebuilds.
"""

import pytest

import harness
from harness import C, RawConn, ServerProcess, parse_one


@pytest.fixture(scope="module")
def debug_oracle():
    def argv(port):
        return harness.oracle_argv(port) + ["--enable-debug-command", "yes"]
    srv = ServerProcess("redis-oracle-debug", argv)
    srv.start()
    yield srv
    srv.stop()
    srv.cleanup()


@pytest.fixture
def ddiff(keel, debug_oracle):
    d = harness.Differ(keel.port, debug_oracle.port)
    yield d
    # DEBUG QUICKLIST-PACKED-THRESHOLD is process-wide: restore the default
    for port in d.ports.values():
        with RawConn(port) as c:
            c.call("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")
            c.call("CONFIG", "SET", "list-compress-depth", "0")
            c.call("CONFIG", "SET", "list-max-listpack-size", "-2")
            c.call("CONFIG", "SET", "rdbcompression", "yes")


def sample_data():
    big_zset = ["ZADD", "bz"] + sum([[repr(i * 0.37), "m%d" % i] for i in range(200)], [])
    big_hash = ["HSET", "bh"] + sum([["f%d" % i, "v%d" % i] for i in range(600)], [])
    return [
        C("SET s hello"), C("SET i 12345"), C("SET neg -7"), ["SET", "raw", "x" * 100],
        C("RPUSH l a b c 1 2 -3"), C("SADD st a b c"), C("SADD is 1 2 3 -40"),
        C("ZADD z 1 a 2.5 b 3 c"), C("ZADD zz 1e300 x -inf y 0.1 z +inf w -0 q"),
        C("HSET h f v g 123 e ''"), C("SET e v EX 1000"), C("RPUSH le a PX"),
        C("PEXPIRE le 100000"),
        big_zset, big_hash, ["SADD", "bs"] + ["m%d" % i for i in range(600)],
        ["RPUSH", "bl"] + ["e%d" % i for i in range(1000)],
        ["SADD", "bis"] + [str(i * 7) for i in range(700)],
        C("SELECT 3"), C("SET s x"), C("HSET h a b"), C("SELECT 0"),
    ]


def test_digest_same_as_redis(ddiff):
    keys = "s i neg raw l st is z zz h e le bz bh bs bl bis nokey".split()
    ddiff(sample_data() + [
        C("DEBUG DIGEST"),
        ["DEBUG", "DIGEST-VALUE"] + keys,
        C("DEBUG DIGEST-VALUE"),
        C("SELECT 3"), C("DEBUG DIGEST-VALUE s h l"), C("SELECT 0"),
        C("DEBUG DIGEST extra"),
        # changes move the digest the same way
        C("LPUSH l z"), C("DEBUG DIGEST"), C("PERSIST e"), C("DEBUG DIGEST-VALUE e"),
        C("ZINCRBY z 0.5 a"), C("DEBUG DIGEST-VALUE z"),
        C("FLUSHDB"), C("DEBUG DIGEST"), C("FLUSHALL"), C("DEBUG DIGEST"),
    ])


def test_digest_after_conversions(ddiff):
    """Encodings reached by conversion (listpack -> hash table, intset -> hash
    table, listpack -> skiplist) hash like the originals."""
    ddiff([
        C("SADD s 1 2 3"), C("DEBUG DIGEST-VALUE s"), C("SADD s x"), C("SREM s x"),
        C("OBJECT ENCODING s"), C("DEBUG DIGEST-VALUE s"),
        C("HSET h a 1"), ["HSET", "h", "big", "v" * 100], C("HDEL h big"),
        C("OBJECT ENCODING h"), C("DEBUG DIGEST-VALUE h"),
        C("ZADD z 1 a"), ["ZADD", "z", "2", "m" * 100], ["ZREM", "z", "m" * 100],
        C("OBJECT ENCODING z"), C("DEBUG DIGEST-VALUE z"), C("DEBUG DIGEST"),
    ])


PROTOCOL_TYPES = "string integer double bignum null array set map attrib push verbatim true false".split()


@pytest.mark.parametrize("resp3", [False, True])
def test_protocol_types(ddiff, resp3):
    lines = [["DEBUG", "PROTOCOL", t] for t in PROTOCOL_TYPES]
    lines += [C("DEBUG PROTOCOL Attrib"), C("DEBUG PROTOCOL nosuch"), C("DEBUG PROTOCOL"),
              C("DEBUG PROTOCOL a b")]
    if resp3:
        # push is followed by the real reply: read it too
        out = {}
        for name, port in ddiff.ports.items():
            with RawConn(port) as c:
                c.call("HELLO", "3")
                got = []
                for cmd in lines:
                    c.send(harness.encode(cmd))
                    rep = c.read_reply()
                    if rep.startswith(b">"):  # an attribute comes with its reply
                        rep += c.read_reply()
                    got.append(rep)
                out[name] = got
        for i, cmd in enumerate(lines):
            assert out["keel"][i] == out["redis"][i], (cmd, out["keel"][i], out["redis"][i])
    else:
        ddiff(lines)


def test_protocol_attribute_bytes(keel):
    """The attribute's exact RESP3 framing: |1, the key, the value, then the reply."""
    with RawConn(keel.port) as c:
        c.call("HELLO", "3")
        c.send(harness.encode(["DEBUG", "PROTOCOL", "attrib"]))
        rep = c.read_reply()  # the attribute and the reply it describes
    assert rep == (b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n"
                   b"$39\r\nSome real reply following the attribute\r\n")


def test_stringmatch_test(keel, debug_oracle):
    """Redis runs its glob fuzzer for seconds: a longer reply timeout."""
    d = harness.Differ(keel.port, debug_oracle.port, timeout=60)
    d([C("DEBUG STRINGMATCH-TEST"), C("DEBUG STRINGMATCH-TEST x"), C("DEBUG STRINGMATCH-LEN")])


def test_debug_tuning_subcommands(ddiff):
    ddiff([
        C("DEBUG REPLYBUFFER"), C("DEBUG REPLYBUFFER PEAK-RESET-TIME"),
        C("DEBUG REPLYBUFFER PEAK-RESET-TIME x"), C("DEBUG REPLYBUFFER PEAK-RESET-TIME 1.5"),
        C("DEBUG REPLYBUFFER PEAK-RESET-TIME never"), C("DEBUG REPLYBUFFER peak-reset-time RESET"),
        C("DEBUG REPLYBUFFER PEAK-RESET-TIME 100"), C("DEBUG REPLYBUFFER PEAK-RESET-TIME -5"),
        C("DEBUG REPLYBUFFER RESIZING 0"), C("DEBUG REPLYBUFFER RESIZING x"),
        C("DEBUG REPLYBUFFER RESIZING 1"), C("DEBUG REPLYBUFFER FOO 1"),
        C("DEBUG REPLYBUFFER RESIZING 1 2"),
        C("DEBUG QUICKLIST-PACKED-THRESHOLD"), C("DEBUG QUICKLIST-PACKED-THRESHOLD 1x"),
        C("DEBUG QUICKLIST-PACKED-THRESHOLD 5gb"), C("DEBUG QUICKLIST-PACKED-THRESHOLD 4gb"),
        C("DEBUG QUICKLIST-PACKED-THRESHOLD 4294967296"),
        C("DEBUG QUICKLIST-PACKED-THRESHOLD 4293918720"),
        C("DEBUG QUICKLIST-PACKED-THRESHOLD 4293918721"),
        C("DEBUG QUICKLIST-PACKED-THRESHOLD -1"), C("DEBUG QUICKLIST-PACKED-THRESHOLD 1kb"),
        C("DEBUG QUICKLIST-PACKED-THRESHOLD 1"), C("DEBUG QUICKLIST-PACKED-THRESHOLD 0"),
        C("DEBUG QUICKLIST-PACKED-THRESHOLD 0 1"),
    ])


def test_replybuffer_resizing_keeps_big_buffers(keel):
    """RESIZING 0 keeps a grown output buffer; the replies are unchanged."""
    with RawConn(keel.port) as c:
        assert c.call("DEBUG", "REPLYBUFFER", "RESIZING", "0") == b"+OK\r\n"
        try:
            c.call("SET", "big", "x" * 3000000)
            rep = c.call("GET", "big")
            assert rep == b"$3000000\r\n" + b"x" * 3000000 + b"\r\n"
            assert c.call("PING") == b"+PONG\r\n"
        finally:
            assert c.call("DEBUG", "REPLYBUFFER", "RESIZING", "1") == b"+OK\r\n"
            c.call("DEL", "big")


# --------------------------------------------------------------------------
# plain quicklist nodes

B = "B" * 150
CC = "c" * 300
NUM = "0123456789" * 30


def plain_sequence(depth, fill):
    return [
        C("CONFIG SET list-compress-depth " + depth), C("CONFIG SET list-max-listpack-size " + fill),
        C("DEBUG QUICKLIST-PACKED-THRESHOLD 100"),
        ["RPUSH", "l", "a", "b", B, "c", "d", "e", "f", "g"], ["LPUSH", "l", CC],
        ["RPUSH", "l", B, B, "x", "y", "z"], C("DUMP l"), C("LRANGE l 0 -1"),
        C("LSET l 2 small"), C("DUMP l"), ["LSET", "l", "3", "q" * 120], C("DUMP l"),
        C("LSET l 0 tiny"), C("DUMP l"), ["LINSERT", "l", "BEFORE", "x", CC], C("DUMP l"),
        ["LINSERT", "l", "AFTER", "x", CC], C("DUMP l"),
        ["RPUSH", "l2", NUM], C("DUMP l2"), C("LPOP l 3"), C("DUMP l"),
        ["LREM", "l", "0", B], C("DUMP l"), C("DEBUG DIGEST-VALUE l l2"),
        ["RPUSH", "l3"] + ["e%d" % i for i in range(50)] + [B] + ["f%d" % i for i in range(50)]
        + [CC, "1234" * 40],
        C("DUMP l3"), ["LSET", "l3", "10", CC], C("DUMP l3"), C("LSET l3 50 x"), C("DUMP l3"),
        C("LRANGE l3 45 55"), C("LINDEX l3 101"), C("LLEN l3"), C("OBJECT ENCODING l3"),
        C("DEBUG QUICKLIST-PACKED-THRESHOLD 0"), ["RPUSH", "l3", B], C("DUMP l3"),
    ]


@pytest.mark.parametrize("depth", ["0", "1", "2"])
@pytest.mark.parametrize("fill", ["-2", "3"])
def test_plain_nodes_dump(ddiff, depth, fill):
    ddiff(plain_sequence(depth, fill))


def test_plain_nodes_dump_rdbcompression_off(ddiff):
    """Compressed nodes are written as LZF blobs even with rdbcompression no."""
    ddiff([C("CONFIG SET rdbcompression no")] + plain_sequence("1", "-2"))


def _dump(port, key):
    with RawConn(port) as c:
        v, _ = parse_one(c.call("DUMP", key))
    return v


def test_plain_nodes_restore_both_ways(ddiff):
    """A payload with PLAIN containers from either server restores on the
    other into the same list (and the same payload)."""
    seq = [C("CONFIG SET list-compress-depth 1"), C("DEBUG QUICKLIST-PACKED-THRESHOLD 100"),
           ["RPUSH", "l", "a", B, "b", CC, NUM, "c"] + ["e%d" % i for i in range(300)] + [B]]
    ddiff(seq)
    k, r = ddiff.ports["keel"], ddiff.ports["redis"]
    pk, pr = _dump(k, "l"), _dump(r, "l")
    assert pk == pr
    for src, dst in ((k, r), (r, k)):
        payload = _dump(src, "l")
        with RawConn(dst) as c:
            assert c.call("RESTORE", "copy", "0", payload) == b"+OK\r\n"
            assert c.call("LRANGE", "copy", "0", "-1") == c.call("LRANGE", "l", "0", "-1")
        assert _dump(dst, "copy") == payload


def test_plain_nodes_survive_reload(ddiff):
    ddiff([C("CONFIG SET list-compress-depth 1"), C("DEBUG QUICKLIST-PACKED-THRESHOLD 100"),
           ["RPUSH", "l", "a", B, "b", CC, NUM, "c"], ["LPUSH", "l", B], C("DUMP l"),
           C("DEBUG RELOAD"), C("DUMP l"), C("LRANGE l 0 -1"), C("DEBUG DIGEST")])


# --------------------------------------------------------------------------
# LOADAOF

def _aof_server(kind):
    def argv(port):
        if kind == "keel":
            a = harness.keel_argv(port)
        else:
            a = harness.oracle_argv(port) + ["--enable-debug-command", "yes"]
            i = a.index("--appendonly")
            del a[i:i + 2]
        return a + ["--appendonly", "yes", "--appendfsync", "always"]
    return ServerProcess("%s-loadaof" % kind, argv)


@pytest.mark.parametrize("kind", ["keel", "redis"])
def test_loadaof_rebuilds_the_dataset(kind):
    srv = _aof_server(kind).start()
    try:
        with RawConn(srv.port) as c:
            for cmd in sample_data():
                c.call(*cmd)
            c.call("INCR", "counter")
            c.call("DEL", "raw")
            want = c.call("DEBUG", "DIGEST")
            assert want != b"+" + b"0" * 40 + b"\r\n"
            assert c.call("DEBUG", "LOADAOF") == b"+OK\r\n"
            assert c.call("DEBUG", "DIGEST") == want
            assert c.call("GET", "counter") == b"$1\r\n1\r\n"
            assert c.call("EXISTS", "raw") == b":0\r\n"
            # the log goes on: a write after LOADAOF is kept by the next one
            c.call("SET", "after", "1")
            assert c.call("DEBUG", "LOADAOF") == b"+OK\r\n"
            assert c.call("GET", "after") == b"$1\r\n1\r\n"
    finally:
        srv.stop()
        srv.cleanup()


def test_loadaof_digest_same_as_redis():
    """After LOADAOF both servers hold the same data (same digest)."""
    servers = [_aof_server("keel").start(), _aof_server("redis").start()]
    try:
        got = []
        for s in servers:
            with RawConn(s.port) as c:
                for cmd in sample_data():
                    c.call(*cmd)
                assert c.call("DEBUG", "LOADAOF") == b"+OK\r\n"
                got.append(c.call("DEBUG", "DIGEST"))
        assert got[0] == got[1]
    finally:
        for s in servers:
            s.stop()
            s.cleanup()


# --------------------------------------------------------------------------
# PFDEBUG and PFSELFTEST (no DEBUG permission needed)

def test_pfdebug_same_as_redis(diff):
    many = ["PFADD", "h2"] + ["e%d" % i for i in range(3000)]
    diff([
        C("PFDEBUG ENCODING nokey"), C("PFDEBUG nosuch nokey"), C("PFDEBUG GETREG"),
        C("PFDEBUG GETREG a b"), C("SET str notanhll"), C("PFDEBUG ENCODING str"),
        C("RPUSH list a"), C("PFDEBUG ENCODING list"), C("SET n 10"), C("PFDEBUG DECODE n"),
        C("PFADD h a b c d e f g"), C("PFDEBUG ENCODING h"), C("PFDEBUG DECODE h"),
        C("PFDEBUG nosuch h"), C("PFDEBUG encoding h"), C("PFADD e"), C("PFDEBUG DECODE e"),
        C("GET h"), C("PFDEBUG GETREG h"), C("PFDEBUG ENCODING h"), C("GET h"),
        C("PFDEBUG DECODE h"), C("PFDEBUG TODENSE h"), C("PFCOUNT h"),
        C("PFADD s x y"), C("PFDEBUG TODENSE s"), C("PFDEBUG TODENSE s"), C("PFDEBUG ENCODING s"),
        C("GET s"), C("PFCOUNT s"),
        many, C("PFDEBUG ENCODING h2"), C("PFCOUNT h2"), C("PFDEBUG GETREG h2"),
        ["SET", "bad", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff"],
        C("PFDEBUG DECODE bad"), C("PFDEBUG TODENSE bad"),
    ])


def test_pfdebug_todense_keeps_watch(diff):
    """TODENSE/GETREG on a sparse HLL change its encoding: Redis counts it as
    a change without a keyspace event, so a WATCH on it is not broken."""
    got = {}
    for name, port in diff.ports.items():
        with RawConn(port) as c, RawConn(port) as w:
            c.call("FLUSHALL")
            c.call("PFADD", "h", "a", "b")
            c.call("PFADD", "g", "a", "b")
            w.call("WATCH", "h", "g")
            got[name] = [c.call("PFDEBUG", "TODENSE", "h"), c.call("PFDEBUG", "GETREG", "g")[:20],
                         w.call("MULTI"), w.call("PFCOUNT", "h"), w.call("EXEC")]
    assert got["keel"] == got["redis"]
    assert got["keel"][-1] == b"*1\r\n:2\r\n"


def test_pfselftest(diff):
    d = harness.Differ(*diff.ports.values(), timeout=60)
    d([C("PFSELFTEST"), C("PFSELFTEST x")])


def test_debug_help_is_redis_lines(keel, debug_oracle):
    """DEBUG HELP lists Redis's own lines for the subcommands Keel has, in
    Redis's order, and every subcommand listed there exists."""
    def lines(port):
        with RawConn(port) as c:
            v, _ = parse_one(c.call("DEBUG", "HELP"))
        return [x.decode() if isinstance(x, bytes) else str(x) for x in v]
    k, r = lines(keel.port), lines(debug_oracle.port)
    assert k[0] == r[0] and k[-2:] == r[-2:]
    pos = 0
    for line in k:
        assert line in r[pos:], line
        pos = r.index(line, pos) + 1
    with RawConn(keel.port) as c:
        for line in k[1:-2]:
            if line.startswith(" "):
                continue
            word = line.split()[0]
            if word == "LOADAOF":  # without an AOF, Redis (and Keel) exit
                continue
            rep = c.call("DEBUG", word)
            if "<" in line:  # it takes arguments: at most a wrong count (DIGEST-VALUE: none)
                assert not rep.startswith(b"-") or rep.startswith(
                    b"-ERR unknown subcommand or wrong number of arguments for '%s'" % word.encode()
                ), (word, rep)
            else:
                assert not rep.startswith(b"-"), (word, rep)


@pytest.mark.parametrize("kind", ["keel", "redis"])
def test_loadaof_without_a_log_exits(kind):
    """As redis-server 7.0: with no AOF to load, DEBUG LOADAOF ends the
    process (exit status 1) and the client sees the connection close."""
    def argv(port):
        if kind == "keel":
            return harness.keel_argv(port)
        return harness.oracle_argv(port) + ["--enable-debug-command", "yes"]
    srv = ServerProcess("%s-loadaof-none" % kind, argv).start()
    try:
        with RawConn(srv.port) as c:
            c.call("SET", "k", "v")
            c.send(harness.encode(["DEBUG", "LOADAOF"]))
            assert c.read_until_close(5.0)[1] is True
        assert srv.proc.wait(10) == 1
    finally:
        srv.stop()  # its "exited with status 1" is the point here
        srv.cleanup()


def _changes(v):
    for line in v.split(b"\r\n"):
        if line.startswith(b"rdb_changes_since_last_save:"):
            return line
    return None


def test_populate(ddiff):
    ddiff([
        C("SET key:3 mine"), C("DEBUG POPULATE 10"), C("DBSIZE"), C("GET key:3"), C("GET key:9"),
        C("OBJECT ENCODING key:1"), C("DEBUG POPULATE 5 p 3"), C("GET p:1"), C("STRLEN p:4"),
        C("DEBUG POPULATE 3 z 50"), C("STRLEN z:2"), C("GETRANGE z:2 0 9"),
        C("OBJECT ENCODING z:2"), C("DEBUG POPULATE 2 ''"), C("GET :1"),
        ["DEBUG", "POPULATE", "2", "x" * 200], C("KEYS xxxxx*"), C("DEBUG POPULATE 0"),
        C("DEBUG POPULATE -1"), C("DEBUG POPULATE x"), C("DEBUG POPULATE 1 a -5"),
        C("DEBUG POPULATE 1 a y"), C("DEBUG POPULATE"), C("DEBUG POPULATE 1 2 3 4"),
        C("DBSIZE"), C("DEBUG DIGEST"),
    ])
    # not a change: rdb_changes_since_last_save does not move (not propagated)
    for port in ddiff.ports.values():
        with RawConn(port) as c:
            before = _changes(parse_one(c.call("INFO", "persistence"))[0])
            assert c.call("DEBUG", "POPULATE", "100", "nochange") == b"+OK\r\n"
            assert _changes(parse_one(c.call("INFO", "persistence"))[0]) == before


def test_skip_checksum_validation(ddiff):
    """RESTORE of a payload with a wrong CRC: refused, then accepted while
    DEBUG SET-SKIP-CHECKSUM-VALIDATION is 1."""
    payload = b"\x00\x05hello\n\x00" + b"\x01" * 8  # a string, version 10, a bad CRC
    try:
        ddiff([
            ["RESTORE", "k", "0", payload], C("DEBUG SET-SKIP-CHECKSUM-VALIDATION 1"),
            ["RESTORE", "k", "0", payload], C("GET k"),
            C("DEBUG SET-SKIP-CHECKSUM-VALIDATION x"), ["RESTORE", "k3", "0", payload],
            C("DEBUG SET-SKIP-CHECKSUM-VALIDATION"), C("DEBUG SET-SKIP-CHECKSUM-VALIDATION 1 2"),
        ])
    finally:
        for port in ddiff.ports.values():
            with RawConn(port) as c:
                c.call("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0")


def _object_fields(v):
    """DEBUG OBJECT without the address and the LRU clock."""
    return [f for f in v.split() if not f.startswith((b"at:", b"lru:", b"lru_seconds_idle:"))]


def test_plain_nodes_debug_object_and_watch(ddiff):
    """serializedlength counts PLAIN containers as Redis does, and the
    quicklist's shape fields (ql_nodes ... ql_uncompressed_size); POPULATE
    touches WATCHed keys (a new key is a change for WATCH)."""
    ddiff([C("CONFIG SET list-compress-depth 1"), C("DEBUG QUICKLIST-PACKED-THRESHOLD 100"),
           ["RPUSH", "l", "a", B, "b", CC, NUM, "c"] + ["e%d" % i for i in range(300)],
           harness.Parsed(["DEBUG", "OBJECT", "l"], _object_fields),
           C("CONFIG SET list-compress-depth 0"), C("CONFIG SET list-max-listpack-size 5"),
           ["RPUSH", "l2"] + ["e%d" % i for i in range(23)], C("RPUSH l3 x"),
           harness.Parsed(["DEBUG", "OBJECT", "l2"], _object_fields),
           harness.Parsed(["DEBUG", "OBJECT", "l3"], _object_fields)])
    got = {}
    for name, port in ddiff.ports.items():
        with RawConn(port) as c:
            c.call("FLUSHALL")
            got[name] = [c.call("WATCH", "key:1"), c.call("DEBUG", "POPULATE", "3"),
                         c.call("MULTI"), c.call("PING"), c.call("EXEC")]
    assert got["keel"] == got["redis"]
