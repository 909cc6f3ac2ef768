"""Hash commands, Keel vs redis-server 7.0: HSET HSETNX HMSET HGET HMGET HDEL HLEN
HSTRLEN HEXISTS HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.

- CASES: byte-exact differential sequences (RESP2, and RESP3 for those whose
  shape changes), errors included. Small hashes are listpacks on both servers,
  so their order is Redis's insertion order and compared byte for byte;
  replies of hashtable-encoded hashes are compared as multisets / maps.
- Encoding conversions: OBJECT ENCODING around every threshold, CONFIG SET of
  the thresholds (and their ziplist aliases).
- HRANDFIELD / HSCAN: the random or hash-order parts compared by shape and
  membership; HSCAN's full-iteration guarantee.
- Keyspace events, COPY / RENAME of hashes, and a randomized run comparing
  every reply with the oracle and with a Python model.
"""

import random

import pytest

from harness import Parsed, RawConn, Sorted, cmds, parse_one
from helpers import key_events, with_config

LONG64 = "v" * 64
LONG65 = "v" * 65
F65 = "f" * 65


def _pairs_as_dict(v):
    """A flat [f, v, f, v...] list or a RESP3 map -> dict."""
    if isinstance(v, dict):
        return v
    if isinstance(v, list):
        return dict(zip(v[0::2], v[1::2]))
    return v


def AsMap(cmd):
    """HGETALL of a hashtable-encoded hash: same pairs, any order."""
    return Parsed(cmd, _pairs_as_dict)


CASES = {
    # ------------------------------------------------------------- HSET/HGET
    "hset_hget": ["HSET h a 1", "HGET h a", "HGET h b", "HGET nokey a", "HSET h a 2", "HGET h a",
                  "HLEN h", "TYPE h", "OBJECT ENCODING h"],
    "hset_multi": ["HSET h a 1 b 2 c 3", "HSET h a 1 d 4", "HGETALL h", "HLEN h",
                   "HSET h a x a y a z", "HGET h a", "HGETALL h"],
    "hset_arity": ["HSET", "HSET h", "HSET h a", "HSET h a 1 b", "HSET h a 1 b 2 c",
                   "EXISTS h", "HMSET h a", "HMSET h a 1 b", "HMSET h", "EXISTS h"],
    "hset_wrongtype": ["SET s x", "HSET s a 1", "HSET s a 1 b", "HMSET s a 1", "HSETNX s a 1",
                       "GET s"],
    "hset_binary": [["HSET", "h", b"f\x00\xff", b"\r\n\x00"], ["HGET", "h", b"f\x00\xff"],
                    ["HGETALL", "h"], ["HSTRLEN", "h", b"f\x00\xff"],
                    ["HSET", "h", "", ""], ["HGET", "h", ""], ["HEXISTS", "h", ""]],
    "hset_integers": ["HSET h 1 2 -3 -4 007 08 9223372036854775807 -9223372036854775808",
                      "HSET h 9223372036854775808 x 1.5 2.50 +1 -0", "HGETALL h", "HGET h 1",
                      "HGET h 007", "HGET h 7", "HGET h -0", "HSTRLEN h -3", "HSTRLEN h 007",
                      "HKEYS h", "HVALS h"],
    "hmset": ["HMSET h a 1 b 2", "HGETALL h", "HMSET h a 3", "HGET h a", "HMSET h a"],
    "hsetnx": ["HSETNX h a 1", "HSETNX h a 2", "HGET h a", "HSETNX h b 3", "HGETALL h",
               "HSETNX h", "HSETNX h a", "HSETNX h a 1 2"],
    "hget_arity": ["HGET", "HGET h", "HGET h a b"],
    # ------------------------------------------------------------------ HMGET
    "hmget": ["HSET h a 1 b 2", "HMGET h a b c", "HMGET h c", "HMGET nokey a b", "HMGET h",
              "HMGET h a a", "SET s x", "HMGET s a"],
    # ------------------------------------------------------- HLEN/HSTRLEN/...
    "hlen_hstrlen_hexists": ["HSET h a hello b 123 c ''", "HLEN h", "HLEN nokey",
                             "HSTRLEN h a", "HSTRLEN h b", "HSTRLEN h c", "HSTRLEN h x",
                             "HSTRLEN nokey a", "HEXISTS h a", "HEXISTS h x",
                             "HEXISTS nokey a", "HLEN", "HLEN h x", "HSTRLEN h",
                             "HEXISTS h", "HEXISTS h a b"],
    "read_wrongtype": ["SET l a", "HGET l a", "HMGET l a", "HLEN l", "HSTRLEN l a",
                       "HEXISTS l a", "HKEYS l", "HVALS l", "HGETALL l", "HRANDFIELD l",
                       "HRANDFIELD l 2", "HRANDFIELD l -2 WITHVALUES", "HSCAN l 0",
                       "HDEL l a", "HINCRBY l a 1", "HINCRBYFLOAT l a 1", "GET l"],
    # ------------------------------------------------------ HKEYS/HVALS/HGETALL
    "hkeys_hvals_hgetall": ["HSET h z 1 y 2 x 3", "HKEYS h", "HVALS h", "HGETALL h",
                            "HKEYS nokey", "HVALS nokey", "HGETALL nokey", "HKEYS",
                            "HGETALL h x"],
    # ------------------------------------------------------------------- HDEL
    "hdel": ["HSET h a 1 b 2 c 3", "HDEL h a", "HDEL h a", "HDEL h b x b", "HGETALL h",
             "HDEL nokey a", "HDEL h", "HDEL h c", "EXISTS h", "TYPE h", "HLEN h"],
    "hdel_empties": ["HSET h a 1 b 2", "HDEL h a b c", "EXISTS h", "HSET h a 1",
                     "HDEL h a a", "EXISTS h"],
    "hdel_ttl_gone": ["HSET h a 1", "EXPIRE h 100", "TTL h", "HDEL h a", "TTL h",
                      "HSET h a 1", "TTL h"],
    # --------------------------------------------------------------- HINCRBY
    "hincrby": ["HINCRBY h a 5", "HINCRBY h a -7", "HGET h a", "HINCRBY h b 0",
                "HGETALL h", "HINCRBY h a 9223372036854775807",
                "HINCRBY h a -9223372036854775808", "HGET h a"],
    "hincrby_overflow": ["HSET h a 9223372036854775807 b -9223372036854775808",
                         "HINCRBY h a 1", "HINCRBY h b -1", "HINCRBY h a 0",
                         "HINCRBY h a -9223372036854775808", "HINCRBY h b 9223372036854775807",
                         "HGETALL h"],
    "hincrby_bad": ["HSET h s abc f 1.5 sp ' 1' z 007 e ''", "HINCRBY h s 1", "HINCRBY h f 1",
                    "HINCRBY h sp 1", "HINCRBY h z 1", "HINCRBY h e 1",
                    "HINCRBY h a x", "HINCRBY h a 1.0", "HINCRBY h a 99999999999999999999",
                    "HINCRBY h a ''", "HINCRBY h a", "HINCRBY h a 1 2", "HGETALL h",
                    "HINCRBY nokey a x", "EXISTS nokey"],
    "hincrby_new_key_error_order": ["SET s x", "HINCRBY s a x", "HINCRBY s a 1"],
    # ---------------------------------------------------------- HINCRBYFLOAT
    "hincrbyfloat": ["HINCRBYFLOAT h a 1.5", "HINCRBYFLOAT h a 0.1", "HINCRBYFLOAT h a -1.6",
                     "HGET h a", "HINCRBYFLOAT h b 10", "HINCRBYFLOAT h b 5.0e3",
                     "HINCRBYFLOAT h c 1e-20", "HINCRBYFLOAT h d 3.0", "HGETALL h",
                     "HINCRBY h d 1", "HSET h i 10", "HINCRBYFLOAT h i 0.5"],
    "hincrbyfloat_bad": ["HSET h s abc e ''", "HINCRBYFLOAT h s 1", "HINCRBYFLOAT h e 1",
                         "HINCRBYFLOAT h a x", "HINCRBYFLOAT h a nan", "HINCRBYFLOAT h a inf",
                         "HINCRBYFLOAT h a -inf", "HINCRBYFLOAT h a ''",
                         "HINCRBYFLOAT h a ' 1'", "HINCRBYFLOAT h a 1e5000",
                         "HINCRBYFLOAT nokey a inf", "EXISTS nokey", "HINCRBYFLOAT h a",
                         "HSET h big 1.7e308", "HINCRBYFLOAT h big 1.7e308",
                         "HINCRBYFLOAT h big -1e308", "HSET h huge 1e4932",
                         "HINCRBYFLOAT h huge 1e4932", "HINCRBYFLOAT h huge -1e4932",
                         "HINCRBYFLOAT h x 1e4933", AsMap(["HGETALL", "h"])],
    "hincrbyfloat_formats": ["HINCRBYFLOAT h a 1e308", "HINCRBYFLOAT h b 0.1",
                             "HINCRBYFLOAT h b 0.2", "HINCRBYFLOAT h c -0.0",
                             "HINCRBYFLOAT h d 5.0000000000000001",
                             "HINCRBYFLOAT h e 1.23456789012345678",
                             "HINCRBYFLOAT h f 0x10", "HINCRBYFLOAT h g 1E2",
                             AsMap(["HGETALL", "h"]),
                             "OBJECT ENCODING h"],
    # ------------------------------------------------------------ HRANDFIELD
    "hrandfield_basic": ["HSET h a 1", "HRANDFIELD h", "HRANDFIELD h 1", "HRANDFIELD h -1",
                         "HRANDFIELD h 1 WITHVALUES", "HRANDFIELD h -3 WITHVALUES",
                         "HRANDFIELD h 0", "HRANDFIELD h 0 WITHVALUES",
                         "HRANDFIELD nokey", "HRANDFIELD nokey 5",
                         "HRANDFIELD nokey -5 WITHVALUES"],
    "hrandfield_whole": ["HSET h a 1 b 2 c 3", "HRANDFIELD h 3", "HRANDFIELD h 100 WITHVALUES",
                         "HRANDFIELD h 9223372036854775807"],
    "hrandfield_errors": ["HSET h a 1", "HRANDFIELD h x", "HRANDFIELD h 1 x",
                          "HRANDFIELD h x WITHVALUES", "HRANDFIELD h 1 WITHVALUES x",
                          "HRANDFIELD h 1.5", "HRANDFIELD h -9223372036854775808",
                          "HRANDFIELD h 9223372036854775807 WITHVALUES",
                          "HRANDFIELD h -9223372036854775807 WITHVALUES",
                          "HRANDFIELD h 4611686018427387904 WITHVALUES",
                          "HRANDFIELD h -4611686018427387904 WITHVALUES",
                          "HRANDFIELD nokey 4611686018427387904 WITHVALUES",
                          "HRANDFIELD h abc foo", "HRANDFIELD", "HRANDFIELD h withvalues",
                          "HRANDFIELD h 2 WITHVALUES WITHVALUES", "HRANDFIELD h 2 withvalues",
                          "HRANDFIELD h '' WITHVALUES", "HRANDFIELD h 1 2"],
    # ----------------------------------------------------------------- HSCAN
    "hscan_listpack": ["HSET h a 1 b 2 c 3 ab 4", "HSCAN h 0", "HSCAN h 123", "HSCAN h -1",
                       "HSCAN h 0 MATCH a*", "HSCAN h 0 match *b COUNT 1",
                       "HSCAN h 0 MATCH nomatch", "HSCAN h 0 MATCH *", "HSCAN h 0 COUNT 1000",
                       "HSCAN h 18446744073709551615"],
    "hscan_errors": ["HSET h a 1", "HSCAN h x", "HSCAN h 1.5", "HSCAN h ' 1'",
                     "HSCAN h 18446744073709551616", "HSCAN h 0 COUNT 0", "HSCAN h 0 COUNT -1",
                     "HSCAN h 0 COUNT x", "HSCAN h 0 COUNT", "HSCAN h 0 MATCH",
                     "HSCAN h 0 FOO", "HSCAN h 0 TYPE hash", "HSCAN h", "HSCAN",
                     "HSCAN nokey 0", "HSCAN nokey x", "HSCAN nokey 0 COUNT x",
                     "HSCAN nokey 0 COUNT 0", "SET s x", "HSCAN s 0", "HSCAN s x",
                     "HSCAN s 0 COUNT x", "HSCAN h +5", "HSCAN h ''"],
    "hscan_integer_fields": ["HSET h 1 a 22 b 333 c -4 d", "HSCAN h 0 MATCH 2*",
                             "HSCAN h 0 MATCH -*", "HSCAN h 0"],
    # ------------------------------------------------------------- encodings
    "encoding_value_len": ["HSET h a " + LONG64, "OBJECT ENCODING h", "HSET h b " + LONG65,
                           "OBJECT ENCODING h", "HDEL h b", "OBJECT ENCODING h",
                           "HSET h2 " + F65 + " 1", "OBJECT ENCODING h2",
                           "HSET h3 a 1", "HSETNX h3 a " + LONG65, "OBJECT ENCODING h3",
                           "HSETNX h3 b " + LONG65, "OBJECT ENCODING h3"],
    "encoding_incr_long_field": ["HINCRBY h " + F65 + " 1", "OBJECT ENCODING h",
                                 "HSET h2 a 1", "HINCRBYFLOAT h2 " + F65 + " 1.5",
                                 "OBJECT ENCODING h2"],
    "encoding_try_conversion_lookahead": ["HSET h a 1 b " + LONG65 + " c 3",
                                          "OBJECT ENCODING h", "HDEL h b",
                                          "OBJECT ENCODING h"],
    "encoding_incrbyfloat_long_result": ["HINCRBYFLOAT h a 1e308", "OBJECT ENCODING h"],
    "copy_rename": ["HSET h a 1 b 2", "COPY h h2", "HSET h a 9", "HGETALL h2", "HGETALL h",
                    "RENAME h2 h3", "HGETALL h3", "OBJECT ENCODING h3", "EXISTS h2",
                    "COPY h h3", "COPY h h3 REPLACE", "HGETALL h3", "DEL h h3", "EXISTS h h3"],
    "hash_with_ttl": ["HSET h a 1", "EXPIRE h 100", "HSET h b 2", "TTL h", "HINCRBY h c 1",
                      "TTL h", "HDEL h a", "TTL h", "PERSIST h", "TTL h"],
    "set_overwrites_hash": ["HSET h a 1", "SET h x", "TYPE h", "HGET h a", "DEL h",
                            "HSET h a 1", "TYPE h"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hashes(diff, name):
    diff(cmds(*CASES[name]))


RESP3_CASES = ["hset_hget", "hmget", "hkeys_hvals_hgetall", "hrandfield_basic", "hrandfield_whole",
               "hscan_listpack", "hincrbyfloat", "hincrby", "hdel", "hset_integers",
               "hlen_hstrlen_hexists", "read_wrongtype", "hrandfield_errors", "hscan_errors"]


@pytest.mark.parametrize("name", RESP3_CASES)
def test_hashes_resp3(diff, name):
    diff.resp3(cmds(*CASES[name]))


def test_hashes_inline(diff):
    diff.inline(["HSET h a 1 b \"x y\"", "HGETALL h", "HINCRBY h a 2", "HMGET h a b c"])


# ------------------------------------------------------------ encodings


def _fill(n, key="h", vlen=3):
    return ["HSET", key] + [x for i in range(n) for x in ("f%d" % i, "v" * vlen)]


def test_encoding_entries_threshold(diff):
    diff([_fill(512), ["OBJECT", "ENCODING", "h"], ["HLEN", "h"],
          ["HSET", "h", "f0", "new"], ["OBJECT", "ENCODING", "h"],
          ["HSET", "h", "extra", "1"], ["OBJECT", "ENCODING", "h"], ["HLEN", "h"],
          ["HDEL", "h", "extra", "f1", "f2"], ["OBJECT", "ENCODING", "h"],
          Sorted(["HKEYS", "h"]), Sorted(["HVALS", "h"]), AsMap(["HGETALL", "h"]),
          ["HGET", "h", "f0"], ["HGET", "h", "f511"], ["HSTRLEN", "h", "f7"]])
    # One HSET taking a listpack past the count: converted at the first extra field.
    diff([_fill(500), ["OBJECT", "ENCODING", "h"], _fill(520), ["OBJECT", "ENCODING", "h"],
          ["HLEN", "h"]])


def test_encoding_config_set(diff):
    seq = cmds("HSET h a 1 b 2 c 3", "OBJECT ENCODING h", "HSET h d 4", "OBJECT ENCODING h",
               "HSET h2 a 12345", "OBJECT ENCODING h2", "HSET h3 a 123456", "OBJECT ENCODING h3",
               "HSET h4 abcdef 1", "OBJECT ENCODING h4", "HINCRBYFLOAT h5 a 1.5",
               "OBJECT ENCODING h5", "HINCRBY h6 a 10000", "OBJECT ENCODING h6",
               "HINCRBY h6 a 100000", "OBJECT ENCODING h6",
               "CONFIG GET hash-max-listpack-entries", "CONFIG GET hash-max-ziplist-value")
    with_config(diff, [("hash-max-listpack-entries", "3"), ("hash-max-listpack-value", "5")], seq)
    with_config(diff, [("hash-max-ziplist-entries", "3"), ("hash-max-ziplist-value", "5")], seq)


def test_encoding_zero_thresholds(diff):
    seq = cmds("HSET h a 1", "OBJECT ENCODING h", "HSET h2 '' ''", "OBJECT ENCODING h2",
               "HGETALL h", "HGETALL h2")
    with_config(diff, [("hash-max-listpack-entries", "0")], seq)
    with_config(diff, [("hash-max-listpack-value", "0")], seq)


def test_encoding_big_listpack_entries(diff):
    """Listpack strings of every header size (6-, 12- and 32-bit lengths)."""
    seq = [["HSET", "h", "a", "x" * 63, "b", "y" * 64, "c", "z" * 4095, "d", "w" * 4096,
            "e", "q" * 70000, "f" * 5000, "1"], ["OBJECT", "ENCODING", "h"], ["HGETALL", "h"],
           ["HSTRLEN", "h", "e"], ["HGET", "h", "f" * 5000], ["HDEL", "h", "c"],
           ["HSET", "h", "d", "short"], ["HGETALL", "h"], ["HSCAN", "h", "0", "MATCH", "f*"]]
    with_config(diff, [("hash-max-listpack-value", "100000")], seq)


def test_encoding_never_converts_back(diff):
    seq = [_fill(20), ["OBJECT", "ENCODING", "h"]] + [["HDEL", "h", "f%d" % i] for i in range(19)]
    seq += [["OBJECT", "ENCODING", "h"], ["HGETALL", "h"], ["CONFIG", "SET",
            "hash-max-listpack-entries", "128"], ["HSET", "h", "x", "1"],
            ["OBJECT", "ENCODING", "h"]]
    with_config(diff, [("hash-max-listpack-entries", "10")], seq)


def test_hashtable_reads(diff):
    big = _fill(1000, vlen=5)
    diff([big, ["HLEN", "h"], Sorted(["HKEYS", "h"]), Sorted(["HVALS", "h"]),
          AsMap(["HGETALL", "h"]), ["HMGET", "h", "f1", "nope", "f999"],
          ["HINCRBY", "h", "n", "5"], ["HINCRBYFLOAT", "h", "n", "0.5"],
          ["HSTRLEN", "h", "f5"], ["HEXISTS", "h", "f5"], ["HDEL", "h", "f5", "f6", "zz"],
          ["HSET", "h", "f7", "a much longer value than before"], ["HGET", "h", "f7"],
          ["HSETNX", "h", "f8", "x"], ["HSETNX", "h", "new", "x"], ["HLEN", "h"]])
    diff.resp3([big, AsMap(["HGETALL", "h"]), Sorted(["HKEYS", "h"]), ["HGETALL", "nokey"]])


def test_hashtable_emptied_by_hdel(diff):
    seq = [_fill(600)] + [["HDEL", "h"] + ["f%d" % i for i in range(k, k + 100)]
                          for k in range(0, 600, 100)]
    diff(seq + [["EXISTS", "h"], ["HLEN", "h"]])


# ------------------------------------------------------------ HRANDFIELD


def _hrand(port, resp3, *args):
    with RawConn(port) as c:
        if resp3:
            c.call("HELLO", "3")
        return parse_one(c.call("HRANDFIELD", *args))[0]


@pytest.mark.parametrize("resp3", [False, True])
@pytest.mark.parametrize("size", [5, 300, 1000])
def test_hrandfield_shapes(keel, oracle, resp3, size):
    content = {b"f%d" % i: b"%d" % (i * 3) for i in range(size)}
    for port in (keel.port, oracle.port):
        with RawConn(port) as c:
            c.call("DEL", "h")
            c.call("HSET", "h", *[x for kv in content.items() for x in kv])
    for count in (1, 2, 3, size // 3, size // 2, size - 1, size, size + 5, -1, -3, -size,
                  -(size * 2)):
        if count == 0:
            continue
        for wv in (False, True):
            args = ["h", str(count)] + (["WITHVALUES"] if wv else [])
            got = {}
            for name, port in (("keel", keel.port), ("redis", oracle.port)):
                v = _hrand(port, resp3, *args)
                n = abs(count) if count < 0 else min(count, size)
                assert isinstance(v, list), (name, args, v)
                if wv and not resp3:
                    assert len(v) == 2 * n, (name, args, len(v))
                    pairs = list(zip(v[0::2], v[1::2]))
                elif wv:
                    assert len(v) == n and all(isinstance(p, list) and len(p) == 2 for p in v), \
                        (name, args, v[:3])
                    pairs = [tuple(p) for p in v]
                else:
                    assert len(v) == n, (name, args, len(v))
                    pairs = [(f, content.get(f)) for f in v]
                for f, val in pairs:
                    assert f in content and val == content[f], (name, args, f, val)
                if count > 0:
                    assert len(set(p[0] for p in pairs)) == len(pairs), (name, args)
                got[name] = pairs
            if count >= size:
                assert sorted(got["keel"]) == sorted(got["redis"])


def test_hrandfield_distribution(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3, "d": 4})
    seen = {}
    for _ in range(400):
        f = r.hrandfield("h")
        seen[f] = seen.get(f, 0) + 1
    assert set(seen) == {b"a", b"b", b"c", b"d"} and min(seen.values()) > 40
    many = r.hrandfield("h", -4000)
    assert len(many) == 4000 and min(many.count(x) for x in (b"a", b"b", b"c", b"d")) > 700
    # distinct picks from a big table (sparse-pick path) and a listpack (index path)
    r.hset("big", mapping={"f%d" % i: i for i in range(5000)})
    for count in (10, 100, 1000, 2000, 4999):
        got = r.hrandfield("big", count)
        assert len(got) == count == len(set(got))


# ----------------------------------------------------------------- HSCAN


def _full_scan(port, key, count=None, match=None, resp3=False):
    out = []
    cursor = b"0"
    calls = 0
    with RawConn(port) as c:
        if resp3:
            c.call("HELLO", "3")
        while True:
            args = ["HSCAN", key, cursor]
            if match is not None:
                args += ["MATCH", match]
            if count is not None:
                args += ["COUNT", str(count)]
            v = parse_one(c.call(*args))[0]
            cursor, items = v
            assert len(items) % 2 == 0
            out += list(zip(items[0::2], items[1::2]))
            calls += 1
            if cursor == b"0":
                return out, calls


@pytest.mark.parametrize("count,match", [(None, None), (1, None), (7, None), (100, None),
                                         (5000, None), (10, "f1*"), (3, "*9"), (50, "zz*")])
def test_hscan_hashtable_full_iteration(keel, oracle, count, match):
    content = {b"f%d" % i: b"%d" % i for i in range(1500)}
    for port in (keel.port, oracle.port):
        with RawConn(port) as c:
            c.call("DEL", "h")
            c.call("HSET", "h", *[x for kv in content.items() for x in kv])
    results = {}
    for name, port in (("keel", keel.port), ("redis", oracle.port)):
        pairs, calls = _full_scan(port, "h", count, match)
        for f, v in pairs:   # (a field may come twice across resizes; none here)
            assert content[f] == v
        assert len(set(f for f, _ in pairs)) == len(pairs)
        results[name] = set(f for f, _ in pairs)
        if count == 5000:
            assert calls == 1
    assert results["keel"] == results["redis"]
    import fnmatch
    want = {f for f in content if match is None or fnmatch.fnmatchcase(f.decode(), match)}
    assert results["keel"] == want


def test_hscan_guarantee_under_changes(r):
    """Fields present for the whole scan are returned; growth/shrink in between."""
    r.hset("h", mapping={"f%d" % i: i for i in range(2000)})
    cursor, seen, step = 0, set(), 0
    while True:
        cursor, items = r.hscan("h", cursor, count=20)
        seen.update(items)
        step += 1
        if step == 10:
            r.hset("h", mapping={"g%d" % i: i for i in range(5000)})   # grow
        if step == 40:
            r.hdel("h", *["g%d" % i for i in range(5000)])              # shrink back
            r.hdel("h", *["f%d" % i for i in range(1000, 2000)])
        if cursor == 0:
            break
    assert {b"f%d" % i for i in range(1000)} <= seen


def test_hscan_resp3(diff):
    diff.resp3(cmds("HSET h a 1 b 2", "HSCAN h 0", "HSCAN h 0 MATCH a", "HSCAN nokey 0"))


# ------------------------------------------------------------ keyspace events

EVENT_SEQ = [
    "HSET h a 1 b 2", "HSET h a 1", "HMSET h c 3", "HSETNX h a 1", "HSETNX h d 4",
    "HSETNX n x 1", "HDEL h zz", "HDEL h a b", "HINCRBY h i 5", "HINCRBYFLOAT h j 1.5",
    "HINCRBY h c x", "HDEL h c d i j", "EXISTS h", "HINCRBY n2 a 1", "HINCRBYFLOAT n3 a 2",
    "HDEL n x", "HGET n2 a", "HGETALL n3", "HSET s", "SET str v", "HSET str a 1",
    "HINCRBY n2 a 9223372036854775807", "HSET big " + " ".join("f%d v" % i for i in range(600)),
    "HDEL big " + " ".join("f%d" % i for i in range(600)),
]


def test_keyspace_events(keel, oracle):
    assert key_events(keel.port, EVENT_SEQ) == key_events(oracle.port, EVENT_SEQ)


def test_watch_sees_hash_changes(keel):
    with RawConn(keel.port) as a, RawConn(keel.port) as b:
        a.call("HSET", "h", "a", "1")
        for change in (["HSET", "h", "a", "2"], ["HDEL", "h", "a"], ["HINCRBY", "h", "n", "1"],
                       ["HINCRBYFLOAT", "h", "n", "1"], ["HSETNX", "h", "z", "1"]):
            a.call("WATCH", "h")
            b.call(*change)
            a.call("MULTI")
            a.call("HGET", "h", "a")
            assert parse_one(a.call("EXEC"))[0] is None, change
        # no change: EXEC runs
        a.call("WATCH", "h")
        b.call("HSETNX", "h", "z", "2")
        b.call("HDEL", "h", "nothing")
        a.call("MULTI")
        a.call("HLEN", "h")
        assert parse_one(a.call("EXEC"))[0] is not None


# ----------------------------------------------------- randomized vs oracle/model


class Model:
    """Hashes as Python dicts; replies as parsed RESP2 values."""

    def __init__(self):
        self.h = {}

    def run(self, cmd, oracle_reply=None):
        op = cmd[0]
        key = cmd[1]
        d = self.h.get(key)
        if op == "HSET":
            d = self.h.setdefault(key, {})
            new = 0
            for f, v in zip(cmd[2::2], cmd[3::2]):
                new += f not in d
                d[f] = v
            return new
        if op == "HSETNX":
            d = self.h.setdefault(key, {})
            if cmd[2] in d:
                return 0
            d[cmd[2]] = cmd[3]
            return 1
        if op == "HGET":
            return None if d is None else d.get(cmd[2])
        if op == "HMGET":
            return [None if d is None else d.get(f) for f in cmd[2:]]
        if op == "HDEL":
            if d is None:
                return 0
            n = 0
            for f in cmd[2:]:
                if f in d:
                    del d[f]
                    n += 1
                    if not d:
                        break
            if not d:
                del self.h[key]
            return n
        if op == "HLEN":
            return 0 if d is None else len(d)
        if op == "HSTRLEN":
            return 0 if d is None or cmd[2] not in d else len(d[cmd[2]])
        if op == "HEXISTS":
            return int(d is not None and cmd[2] in d)
        if op == "HINCRBY":
            d = self.h.setdefault(key, {})
            cur = d.get(cmd[2], b"0")
            try:
                if cur != str(int(cur)).encode():
                    raise ValueError
                val = int(cur)
            except ValueError:
                return "ERR hash value is not an integer"
            val += int(cmd[3])
            if not -(1 << 63) <= val < (1 << 63):
                return "ERR increment or decrement would overflow"
            d[cmd[2]] = str(val).encode()
            return val
        if op == "HINCRBYFLOAT":
            # the value's text is Redis's long double formatting: taken from
            # the oracle's reply (compared byte for byte with Keel's)
            if isinstance(oracle_reply, bytes):
                self.h.setdefault(key, {})[cmd[2]] = oracle_reply
            return oracle_reply
        if op == "HSCAN":
            return sorted((d or {}).items())
        if op == "HRANDFIELD":
            return sorted((d or {}).items())
        if op in ("HKEYS", "HVALS", "HGETALL"):
            if d is None:
                return []
            if op == "HKEYS":
                return sorted(d)
            if op == "HVALS":
                return sorted(d.values())
            return sorted(d.items())
        raise AssertionError(op)


def _norm(cmd, v):
    if isinstance(v, Exception) or (hasattr(v, "msg")):
        return v.msg.decode()
    if cmd[0] == "HKEYS" or cmd[0] == "HVALS":
        return sorted(v)
    if cmd[0] == "HGETALL" or cmd[0] == "HRANDFIELD":
        return sorted(zip(v[0::2], v[1::2]))
    if cmd[0] == "HSCAN":
        assert v[0] == b"0"
        return sorted(zip(v[1][0::2], v[1][1::2]))
    return v


def _random_cmd(rng):
    key = "h%d" % rng.randrange(3)
    field = lambda: "f%d" % rng.randrange(24)  # noqa: E731

    def value():
        k = rng.random()
        if k < 0.3:
            return str(rng.randrange(-1000, 1000))
        if k < 0.35:
            return "x" * rng.randrange(60, 70)  # around the value threshold
        return "".join(rng.choice("abcxyz") for _ in range(rng.randrange(0, 8)))

    op = rng.choice(["HSET"] * 5 + ["HSETNX", "HGET", "HMGET", "HDEL", "HDEL", "HLEN",
                                    "HSTRLEN", "HEXISTS", "HINCRBY", "HKEYS", "HVALS",
                                    "HGETALL", "HINCRBYFLOAT", "HSCAN", "HRANDFIELD"])
    if op == "HSET":
        n = rng.randrange(1, 4)
        return [op, key] + [x for _ in range(n) for x in (field(), value())]
    if op == "HSETNX":
        return [op, key, field(), value()]
    if op in ("HGET", "HSTRLEN", "HEXISTS"):
        return [op, key, field()]
    if op in ("HMGET", "HDEL"):
        return [op, key] + [field() for _ in range(rng.randrange(1, 6))]
    if op == "HINCRBY":
        return [op, key, field(), str(rng.choice([1, -1, 7, 1 << 62, -(1 << 62), 0]))]
    if op == "HINCRBYFLOAT":
        return [op, key, field(), rng.choice(["1.5", "-0.25", "3", "1e3", "0.1", "-7"])]
    if op == "HSCAN":   # one call covers a hash of < 1000 fields, in either encoding
        return [op, key, "0", "COUNT", "1000"]
    if op == "HRANDFIELD":   # a count past the size: the whole hash
        return [op, key, "100", "WITHVALUES"]
    return [op, key]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_randomized_against_oracle_and_model(keel, oracle, seed):
    rng = random.Random(seed)
    model = Model()
    conns = {"keel": RawConn(keel.port), "redis": RawConn(oracle.port)}
    try:
        for c in conns.values():
            c.call("FLUSHALL")
            c.call("CONFIG", "SET", "hash-max-listpack-entries", "16")
        for i in range(3000):
            cmd = _random_cmd(rng)
            got = {n: parse_one(c.call(*cmd))[0] for n, c in conns.items()}
            k, o = _norm(cmd, got["keel"]), _norm(cmd, got["redis"])
            bcmd = [cmd[0]] + [x.encode() for x in cmd[1:]]
            m = _norm(cmd, model.run(bcmd, got["redis"])) if cmd[0] == "HINCRBYFLOAT" \
                else model.run(bcmd)
            assert k == o, (i, cmd, k, o)
            if isinstance(m, str):
                assert k == m, (i, cmd, k, m)
            else:
                assert k == m, (i, cmd, k, m)
            if i % 200 == 0:
                for key in ("h0", "h1", "h2"):
                    enc = {n: c.call("OBJECT", "ENCODING", key) for n, c in conns.items()}
                    assert enc["keel"] == enc["redis"], (i, key, enc)
    finally:
        for c in conns.values():
            c.call("CONFIG", "SET", "hash-max-listpack-entries", "512")
            c.close()
