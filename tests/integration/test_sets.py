"""Set commands, Keel vs redis-server 7.0: SADD SREM SMEMBERS SISMEMBER SMISMEMBER
SCARD SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE
SDIFF SDIFFSTORE SSCAN.

- CASES: byte-exact differential sequences (RESP2, and RESP3 for those whose
  shape changes), errors included. Sets of at most set-max-intset-entries
  integers are intsets on both servers, iterated in ascending order, so their
  replies (SMEMBERS, SUNION/SDIFF results that stay intsets, SINTER over an
  intset, SRANDMEMBER/SPOP of the whole set) are compared byte for byte;
  replies that come from hash tables (hash order, seeded) as multisets.
- Encoding conversions: OBJECT ENCODING around the threshold, CONFIG SET of
  set-max-intset-entries, the encoding of STORE results and of SPOP's rebuilt set.
- SPOP / SRANDMEMBER: random parts compared by shape and membership.
- SSCAN: the full-iteration guarantee on hash tables, intsets whole with cursor 0.
- Keyspace events, COPY / RENAME of sets, and a randomized run comparing
  every reply with the oracle and a Python model.
"""

import random

import pytest

from harness import Parsed, RawConn, Sorted, cmds, encode, parse_one
from helpers import key_events, with_config

WT = "WRONGTYPE"


def S(line):
    """A command whose reply array may come in hash-table order."""
    return Sorted(cmds(line)[0])


def ints(n, start=0, key="s"):
    return ["SADD", key] + [str(i) for i in range(start, start + n)]


def strs(n, key="s", prefix="m"):
    return ["SADD", key] + ["%s%d" % (prefix, i) for i in range(n)]


CASES = {
    # ------------------------------------------------------------- SADD/SREM
    "sadd_basic": ["SADD s a b c", "SADD s a d", "SCARD s", S("SMEMBERS s"), "TYPE s",
                   "OBJECT ENCODING s"],
    "sadd_ints": ["SADD s 5 3 1 3 -2", "SMEMBERS s", "OBJECT ENCODING s", "SADD s 4", "SMEMBERS s",
                  "SCARD s"],
    "sadd_int_upgrades": ["SADD s 1 -1", "SADD s 40000 -40000", "SMEMBERS s",
                          "SADD s 5000000000 -5000000000", "SMEMBERS s",
                          "SADD s 9223372036854775807 -9223372036854775808", "SMEMBERS s",
                          "OBJECT ENCODING s", "SREM s 9223372036854775807", "SMEMBERS s"],
    "sadd_int_like_strings": ["SADD s 1 2", "SADD s 007", "OBJECT ENCODING s", S("SMEMBERS s"),
                              "SADD t 1 -0", "OBJECT ENCODING t",
                              "SADD u 1 +1", "OBJECT ENCODING u",
                              "SADD v 1 9223372036854775808", "OBJECT ENCODING v",
                              "SADD w 1 ' 1'", "OBJECT ENCODING w", "SADD x 1 1.0",
                              "OBJECT ENCODING x", "SISMEMBER s 7", "SISMEMBER s 007",
                              "SISMEMBER t -0", "SISMEMBER t 0"],
    "sadd_first_member_decides": ["SADD a x 1 2", "OBJECT ENCODING a", "SADD b 1 2 x",
                                  "OBJECT ENCODING b", "SREM b x", "OBJECT ENCODING b",
                                  S("SMEMBERS b")],
    "sadd_binary": [["SADD", "s", b"a\x00b", b"\r\n", b"\xff", ""], ["SCARD", "s"],
                    ["SISMEMBER", "s", b"a\x00b"], ["SISMEMBER", "s", b"a"],
                    ["SISMEMBER", "s", ""], Sorted(["SMEMBERS", "s"]),
                    ["SREM", "s", ""], ["SCARD", "s"]],
    "sadd_errors": ["SADD", "SADD s", "SET str x", "SADD str a", "GET str", "EXISTS s"],
    "srem": ["SADD s a b c 1", "SREM s a x", "SREM s x y", "SCARD s", "SREM s b c 1 a",
             "EXISTS s", "SREM s a", "SREM nokey a", "SREM s", "SREM", "SET str x",
             "SREM str a"],
    "srem_intset": ["SADD s 1 2 3", "SREM s 2 007 x", "SMEMBERS s", "SREM s 1 3 1",
                    "EXISTS s"],
    "srem_stops_when_emptied": ["SADD s a", "SREM s a a a", "EXISTS s"],
    # ---------------------------------------------------------- reads
    "sismember": ["SADD s a 1", "SISMEMBER s a", "SISMEMBER s b", "SISMEMBER s 1",
                  "SISMEMBER nokey a", "SISMEMBER s", "SISMEMBER s a b", "SET str x",
                  "SISMEMBER str a"],
    "smismember": ["SADD s a 1", "SMISMEMBER s a b 1 2 a", "SMISMEMBER nokey a b",
                   "SMISMEMBER s", "SET str x", "SMISMEMBER str a", "SADD i 1 2 3",
                   "SMISMEMBER i 3 4 x 1"],
    "scard": ["SCARD nokey", "SADD s a b", "SCARD s", "SCARD", "SCARD s t", "SET str x",
              "SCARD str"],
    "smembers": ["SMEMBERS nokey", "SADD i 3 1 2", "SMEMBERS i", "SMEMBERS", "SMEMBERS i j",
                 "SET str x", "SMEMBERS str"],
    # ------------------------------------------------------------------ SPOP
    "spop_errors": ["SADD s 1 2 3", "SPOP s abc", "SPOP s -1", "SPOP nokey abc", "SPOP s 1 2",
                    "SPOP", "SPOP s 1.5", "SPOP s 99999999999999999999", "SET str x",
                    "SPOP str", "SPOP str 2", "SPOP str -1", "SCARD s"],
    "spop_missing": ["SPOP nokey", "SPOP nokey 0", "SPOP nokey 5", "EXISTS nokey"],
    "spop_zero": ["SADD s a b", "SPOP s 0", "SCARD s"],
    "spop_whole_intset": ["SADD s 3 1 2", "SPOP s 3", "EXISTS s", "SADD s 3 1 2",
                          "SPOP s 100", "EXISTS s"],
    "spop_whole_intlike_hashtable": ["SADD s 5 x 3", "SREM s x", "OBJECT ENCODING s",
                                     "SPOP s 9"],
    "spop_single_member": ["SADD s 7", "SPOP s", "EXISTS s", "SADD s abc", "SPOP s",
                           "EXISTS s"],
    # ----------------------------------------------------------- SRANDMEMBER
    "srandmember_errors": ["SADD s 1 2", "SRANDMEMBER s abc", "SRANDMEMBER s 1 2",
                           "SRANDMEMBER s -9223372036854775808", "SRANDMEMBER nokey abc",
                           "SRANDMEMBER", "SRANDMEMBER s 1.5", "SET str x",
                           "SRANDMEMBER str", "SRANDMEMBER str 1", "SRANDMEMBER str abc"],
    "srandmember_missing": ["SRANDMEMBER nokey", "SRANDMEMBER nokey 5", "SRANDMEMBER nokey -5",
                            "SRANDMEMBER nokey 0"],
    "srandmember_whole": ["SADD s 9 -1 4", "SRANDMEMBER s 3", "SRANDMEMBER s 10",
                          "SRANDMEMBER s 9223372036854775807", "SRANDMEMBER s 0",
                          "SADD one 5", "SRANDMEMBER one", "SRANDMEMBER one -3",
                          "SRANDMEMBER one 1", "SRANDMEMBER one -1", "SCARD s"],
    # ----------------------------------------------------------------- SMOVE
    "smove": ["SADD a 1 2 x", "SADD b 3", "SMOVE a b 1", "SMEMBERS b", "OBJECT ENCODING b",
              "SMOVE a b x", "OBJECT ENCODING b", S("SMEMBERS b"), "SMOVE a b nope",
              "SMOVE a c 2", "EXISTS a", "SMEMBERS c", "OBJECT ENCODING c"],
    "smove_same_key": ["SADD a 1 2", "SMOVE a a 1", "SMOVE a a 9", "SMEMBERS a"],
    "smove_new_dst_encoding": ["SADD a x y", "SMOVE a n1 x", "OBJECT ENCODING n1",
                               "SADD b 5 6", "SMOVE b n2 5", "OBJECT ENCODING n2"],
    "smove_dst_has_member": ["SADD a 1 2", "SADD b 1", "SMOVE a b 1", "SMEMBERS a",
                             "SMEMBERS b"],
    "smove_errors": ["SET str x", "SADD a 1", "SMOVE str a 1", "SMOVE a str 1",
                     "SMOVE a str 9", "SMOVE nokey str 1", "SMOVE str str 1", "SMOVE a b",
                     "SMOVE a b 1 2", "SMEMBERS a"],
    # ----------------------------------------------------------------- SINTER
    "sinter_intsets": ["SADD a 1 2 3 4 5", "SADD b 5 4 3 9", "SADD c 3 4 5 6 7 8",
                       "SINTER a b", "SINTER a b c", "SINTER c b a", "SINTER a", "SINTER a a"],
    "sinter_mixed": ["SADD a 1 2 3 x y", "SADD b 3 2 1 0", "SADD c x y 1",
                     "SINTER a b", S("SINTER a c"), S("SINTER c a"), "SINTER b a c"],
    "sinter_smallest_intset_first": ["SADD h 1 2 3 x", "SADD i 3 2 1", "SINTER h i",
                                     "SINTER i h"],
    "sinter_equal_sizes": ["SADD i 3 2 1", "SADD h 1 2 x", "SREM h x", "SADD h 3",
                           S("SINTER h i"), "SINTER i h"],
    "sinter_missing": ["SADD a 1 2", "SINTER a nokey", "SINTER nokey a", "SINTER nokey"],
    "sinter_wrongtype": ["SADD a 1", "SET str x", "SINTER a str", "SINTER str a",
                         "SINTER nokey str", "SINTER str nokey", "SINTER"],
    "sinterstore": ["SADD a 1 2 3", "SADD b 2 3 4", "SINTERSTORE d a b", "SMEMBERS d",
                    "OBJECT ENCODING d", "SADD c x 2 3", "SINTERSTORE d a c", "SMEMBERS d",
                    "OBJECT ENCODING d", "SINTERSTORE d c c", "OBJECT ENCODING d",
                    "SINTERSTORE d a nokey", "EXISTS d", "SINTERSTORE d", "SINTERSTORE"],
    "sinterstore_overwrites": ["SET d x", "EXPIRE d 100", "SADD a 1", "SINTERSTORE d a",
                               "TYPE d", "TTL d", "SET str v", "SINTERSTORE str a str",
                               "GET str", "SINTERSTORE a a a", "SMEMBERS a"],
    "sinterstore_empty_result": ["SADD a 1", "SADD b 2", "SET d v", "SINTERSTORE d a b",
                                 "EXISTS d", "SINTERSTORE d a b", "EXISTS d"],
    "sintercard": ["SADD a 1 2 3 x", "SADD b 2 3 x y", "SINTERCARD 2 a b",
                   "SINTERCARD 2 a b LIMIT 0", "SINTERCARD 2 a b LIMIT 1",
                   "SINTERCARD 2 a b LIMIT 3", "SINTERCARD 2 a b LIMIT 100",
                   "SINTERCARD 1 a", "SINTERCARD 2 a nokey", "SINTERCARD 1 nokey",
                   "SINTERCARD 2 a b limit 2", "SINTERCARD 1 a LIMIT 1 LIMIT 2"],
    "sintercard_errors": ["SADD a 1", "SET str x", "SINTERCARD 0 a", "SINTERCARD -1 a",
                          "SINTERCARD abc a", "SINTERCARD 2 a", "SINTERCARD 1 a LIMIT",
                          "SINTERCARD 1 a LIMIT -1", "SINTERCARD 1 a LIMIT abc",
                          "SINTERCARD 1 a FOO", "SINTERCARD 1 a FOO 1", "SINTERCARD 1 str",
                          "SINTERCARD 2 str nokey", "SINTERCARD 2 nokey str",
                          "SINTERCARD 1 LIMIT", "SINTERCARD 2 a LIMIT", "SINTERCARD",
                          "SINTERCARD 1", "SINTERCARD 1 str LIMIT -1",
                          "SINTERCARD 9223372036854775807 a",
                          "SINTERCARD 99999999999999999999 a"],
    # --------------------------------------------------------- SUNION / SDIFF
    "sunion_intsets": ["SADD a 5 1 3", "SADD b 2 4 3", "SUNION a b", "SUNION b a",
                       "SUNION a nokey b", "SUNION nokey", "SUNION a a"],
    "sunion_mixed": ["SADD a 1 2", "SADD b x y", S("SUNION a b"), S("SUNION b a")],
    "sunion_intlike_hashtable": ["SADD h 1 2 x", "SREM h x", "SADD i 9", "SUNION h i"],
    "sunion_wrongtype": ["SADD a 1", "SET str x", "SUNION a str", "SUNION nokey str",
                         "SUNION", "SUNIONSTORE d a str", "EXISTS d"],
    "sunionstore": ["SADD a 1 2", "SADD b 2 3", "SUNIONSTORE d a b", "SMEMBERS d",
                    "OBJECT ENCODING d", "SADD c z", "SUNIONSTORE d a c",
                    "OBJECT ENCODING d", S("SMEMBERS d"), "SUNIONSTORE d nokey", "EXISTS d",
                    "SUNIONSTORE a a b", "SMEMBERS a", "SUNIONSTORE d", "SUNIONSTORE"],
    "sdiff_intsets": ["SADD a 1 2 3 4 5", "SADD b 2 4", "SADD c 5 6", "SDIFF a b",
                      "SDIFF a b c", "SDIFF a nokey", "SDIFF nokey a", "SDIFF a a",
                      "SDIFF a b a", "SDIFF b a"],
    "sdiff_mixed": ["SADD a 1 2 x y", "SADD b x 2", S("SDIFF a b"), "SDIFF b a",
                    "SADD c 1 y", "SDIFF a b c"],
    "sdiff_algorithms": [ints(600, key="big"), "SADD small 1 2 3 700", "SDIFF small big",
                         "SDIFF big small big", "SADD few 5 6", "SDIFFSTORE d big few",
                         "SCARD d", "OBJECT ENCODING d", "SDIFFSTORE d big big few",
                         "EXISTS d", S("SDIFF small few big")],
    "sdiff_algo2_result_encoding": [ints(600, key="big"), ints(598, key="most"),
                                    "SDIFF big most", "SDIFFSTORE d big most",
                                    "OBJECT ENCODING d", "SMEMBERS d"],
    "sdiff_wrongtype": ["SADD a 1", "SET str x", "SDIFF a str", "SDIFF str a",
                        "SDIFF nokey str", "SDIFF", "SDIFFSTORE d str", "SDIFFSTORE d"],
    "sdiffstore": ["SADD a 1 2 3", "SADD b 3", "SDIFFSTORE d a b", "SMEMBERS d",
                   "OBJECT ENCODING d", "SDIFFSTORE d b a", "EXISTS d", "SET d x",
                   "SDIFFSTORE d a b", "TYPE d", "SDIFFSTORE a a b", "SMEMBERS a"],
    "many_keys": ["SADD k%d 1 2 3 %d" % (i, i) for i in range(20)] + [
        "SINTER " + " ".join("k%d" % i for i in range(20)),
        "SUNION " + " ".join("k%d" % i for i in range(20)),
        "SDIFF " + " ".join("k%d" % i for i in range(20)),
        "SINTERCARD 20 " + " ".join("k%d" % i for i in range(20)) + " LIMIT 2",
        "SINTERSTORE d " + " ".join("k%d" % i for i in range(20)), "SMEMBERS d",
        "SUNIONSTORE d " + " ".join("k%d" % i for i in range(20)) + " nokey", "SMEMBERS d"],
    # ------------------------------------------------------------------ SSCAN
    "sscan_intset": ["SADD s 5 1 3 100 -7", "SSCAN s 0", "SSCAN s 0 COUNT 1",
                     "SSCAN s 0 MATCH 1*", "SSCAN s 0 MATCH * COUNT 2", "SSCAN s 123",
                     "SSCAN s -1", "SSCAN s 0 MATCH -*", "SSCAN s 0 MATCH [0-3]"],
    "sscan_errors": ["SADD s 1", "SSCAN s abc", "SSCAN s 0 COUNT abc", "SSCAN s 0 COUNT 0",
                     "SSCAN s 0 COUNT -1", "SSCAN s 0 FOO", "SSCAN s 0 MATCH",
                     "SSCAN s 18446744073709551616", "SSCAN s ' 1'", "SSCAN s 1x",
                     "SSCAN s", "SSCAN", "SET str x", "SSCAN str 0", "SSCAN str abc",
                     "SSCAN str 0 COUNT abc", "SSCAN nokey 0", "SSCAN nokey abc",
                     "SSCAN nokey 0 COUNT abc", "SSCAN nokey 0 COUNT 0",
                     "SSCAN s 0 COUNT 1 COUNT 5", "SSCAN s 0 MATCH a MATCH *"],
    # ---------------------------------------------------------- others' view
    "type_and_keys": ["SADD s a", "TYPE s", "EXISTS s", "DEL s", "EXISTS s", "TYPE s"],
    "copy_rename": ["SADD i 1 2 3", "SADD h a b", "COPY i i2", "OBJECT ENCODING i2",
                    "SMEMBERS i2", "COPY h h2", "OBJECT ENCODING h2", S("SMEMBERS h2"),
                    "SADD i2 4", "SCARD i", "RENAME h h3", S("SMEMBERS h3"), "EXISTS h",
                    "COPY i h3", "COPY i h3 REPLACE", "SMEMBERS h3"],
    "ttl_kept_by_changes": ["SADD s a b c d", "EXPIRE s 100", "SADD s e", "SREM s a", "TTL s",
                            "SMOVE s t b", "TTL s", "TTL t",
                            Parsed(["SPOP", "s"], lambda v: v in (b"c", b"d", b"e")), "TTL s",
                            Parsed(["SPOP", "s", "1"], len), "TTL s", "SCARD s"],
    "wrongtype_every_command": ["SET l a", "SADD l a", "SREM l a", "SMEMBERS l",
                                "SISMEMBER l a", "SMISMEMBER l a", "SCARD l", "SPOP l",
                                "SPOP l 1", "SRANDMEMBER l", "SRANDMEMBER l 1", "SMOVE l s a",
                                "SINTER l", "SINTERCARD 1 l", "SINTERSTORE d l", "SUNION l",
                                "SUNIONSTORE d l", "SDIFF l", "SDIFFSTORE d l", "SSCAN l 0"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_sets(diff, name):
    diff([x if not isinstance(x, str) else cmds(x)[0] for x in CASES[name]])


# RESP3: sets are ~, nulls are _, SRANDMEMBER and SMISMEMBER stay arrays.
RESP3_CASES = ["sadd_ints", "smembers", "spop_missing", "spop_whole_intset", "spop_zero",
               "srandmember_missing", "srandmember_whole", "sinter_intsets", "sinter_missing",
               "sunion_intsets", "sdiff_intsets", "smismember", "sscan_intset", "sscan_errors",
               "sintercard", "sinterstore", "spop_single_member", "sinter_mixed",
               "sdiff_mixed"]


@pytest.mark.parametrize("name", RESP3_CASES)
def test_sets_resp3(diff, name):
    diff.resp3([x if not isinstance(x, str) else cmds(x)[0] for x in CASES[name]])


def test_sets_inline(diff):
    diff.inline(["SADD s 1 2 3", "SMEMBERS s", "SADD s \"a b\" 'c d'", "SCARD s",
                 "SISMEMBER s \"a b\"", "SREM s 'c d'", "SCARD s"])


# -------------------------------------------------------------- encodings


def test_encoding_threshold_default(diff):
    enc = ["OBJECT", "ENCODING", "s"]
    diff([ints(511), enc, ["SADD", "s", "511"], enc, ["SADD", "s", "511"], enc,
          ["SCARD", "s"], ["SMEMBERS", "s"], ["SADD", "s", "512"], enc, ["SCARD", "s"],
          Sorted(["SMEMBERS", "s"]), ["SISMEMBER", "s", "512"], ["SISMEMBER", "s", "0"]])
    # one SADD crossing the threshold
    diff([ints(500), enc, ints(20, 500), enc, ["SCARD", "s"]])
    # negative and wide values count the same way
    diff([["SADD", "s"] + [str(-(1 << 40) - i) for i in range(512)], enc,
          ["SMEMBERS", "s"], ["SADD", "s", "1"], enc])


def test_encoding_config_set(diff):
    enc = lambda k: ["OBJECT", "ENCODING", k]  # noqa: E731
    seq = [["SADD", "a", "1", "2", "3"], enc("a"), ["SADD", "a", "4"], enc("a"),
           ["SADD", "b", "1", "2", "3", "4"], enc("b"), ["SADD", "c", "1"], enc("c"),
           ["SINTERSTORE", "d", "b", "b"], enc("d"), ["SUNIONSTORE", "e", "a", "c"], enc("e"),
           Sorted(["SMEMBERS", "a"]), ["SMEMBERS", "c"],
           ["CONFIG", "GET", "set-max-intset-entries"]]
    with_config(diff, [("set-max-intset-entries", "3")], seq)
    with_config(diff, [("set-max-intset-entries", "3")], seq, resp3=True)
    seq0 = [["SADD", "z", "1"], enc("z"), ["SMEMBERS", "z"], ["SMOVE", "z", "y", "1"], enc("y")]
    with_config(diff, [("set-max-intset-entries", "0")], seq0)
    # raising the limit does not convert existing sets back
    seqb = [ints(10), enc("s"), ["CONFIG", "SET", "set-max-intset-entries", "100"],
            ["SADD", "s", "10"], enc("s"), ints(5, key="t"), enc("t")]
    with_config(diff, [("set-max-intset-entries", "5")], seqb)


def test_encoding_never_converts_back(diff):
    seq = [["SADD", "s", "1", "2", "x"], ["OBJECT", "ENCODING", "s"], ["SREM", "s", "x"],
           ["OBJECT", "ENCODING", "s"], Sorted(["SMEMBERS", "s"]), ints(700),
           ["SREM", "s"] + [str(i) for i in range(3, 700)], ["OBJECT", "ENCODING", "s"],
           Sorted(["SMEMBERS", "s"])]
    diff(seq)


def test_encoding_of_results(diff):
    enc = lambda k: ["OBJECT", "ENCODING", k]  # noqa: E731
    diff([ints(300, key="a"), ints(300, 250, key="b"), ["SUNIONSTORE", "u", "a", "b"], enc("u"),
          ["SINTERSTORE", "i", "a", "b"], enc("i"), ["SMEMBERS", "i"],
          ["SDIFFSTORE", "d", "a", "b"], enc("d"), ["SDIFF", "b", "a"],
          ints(400, 1000, key="c"), ["SUNIONSTORE", "u2", "a", "c"], enc("u2"),
          ["SCARD", "u2"]])


def test_spop_rebuilds_set(diff):
    """Redis's SPOP with a count close to the size keeps the rest in a new set:
    an intset again when the members are integers."""
    enc = ["OBJECT", "ENCODING", "big"]
    diff([ints(600, key="big"), enc, Parsed(["SPOP", "big", "550"], len), enc,
          ["SCARD", "big"]])
    diff([ints(600, key="big"), Parsed(["SPOP", "big", "50"], len), enc, ["SCARD", "big"]])
    diff([strs(600, key="big"), Parsed(["SPOP", "big", "590"], len), enc, ["SCARD", "big"]])


# ------------------------------------------------------- hash-table sets


def test_hashtable_reads(diff):
    big = strs(1000)
    diff([big, ["SCARD", "s"], Sorted(["SMEMBERS", "s"]), ["SISMEMBER", "s", "m999"],
          ["SMISMEMBER", "s", "m1", "nope", "m500"], ["SADD", "s", "m1", "new"],
          ["SREM", "s", "m1", "m2", "nope"], ["SCARD", "s"],
          strs(50, key="t", prefix="m"), Sorted(["SINTER", "s", "t"]),
          ["SINTERCARD", "2", "s", "t"], ["SINTERCARD", "2", "t", "s", "LIMIT", "7"],
          Sorted(["SDIFF", "t", "s"]), ["SDIFFSTORE", "d", "s", "t"], ["SCARD", "d"],
          ["SUNIONSTORE", "u", "s", "t"], ["SCARD", "u"], Sorted(["SUNION", "t", "s"])])


def test_hashtable_emptied(diff):
    seq = [strs(100)] + [["SREM", "s", "m%d" % i] for i in range(100)] + [["EXISTS", "s"]]
    diff(seq)
    seq = [strs(100)] + [["SPOP", "s", "30"]] * 3 + [["SCARD", "s"], ["SPOP", "s", "30"],
                                                      ["EXISTS", "s"]]
    diff([seq[0]] + [Parsed(c, len) if c[0] == "SPOP" else c for c in seq[1:]])


# ------------------------------------------------------------ SPOP / SRANDMEMBER


def _call(port, resp3, *args):
    with RawConn(port) as c:
        if resp3:
            c.call("HELLO", "3")
        return c.call(*args)


def _setup(port, members):
    with RawConn(port) as c:
        c.call("FLUSHALL")
        c.send(encode(["SADD", "s"] + list(members)))
        c.read_reply()


SIZES = {"intset": [str(i) for i in range(40)],
         "hashtable": ["m%d" % i for i in range(40)],
         "big_intset": [str(i * 7) for i in range(500)],
         "big_hashtable": ["x%d" % i for i in range(3000)]}


@pytest.mark.parametrize("resp3", [False, True])
@pytest.mark.parametrize("kind", sorted(SIZES))
def test_srandmember_shapes(keel, oracle, resp3, kind):
    members = SIZES[kind]
    universe = {m.encode() for m in members}
    for port in (keel.port, oracle.port):
        _setup(port, members)
    for count in (1, 2, 5, 13, 14, 20, 39, 40, 41, 100, -1, -5, -100, len(members) - 1,
                  len(members) // 3, len(members) // 3 + 1):
        shapes = []
        for port in (keel.port, oracle.port):
            raw = _call(port, resp3, "SRANDMEMBER", "s", str(count))
            v, _ = parse_one(raw)
            assert raw[:1] == b"*", raw[:20]  # always an array, RESP3 too
            assert set(v) <= universe
            if count > 0:
                assert len(v) == len(set(v)) == min(count, len(members))
            else:
                assert len(v) == -count
            shapes.append(len(v))
        assert shapes[0] == shapes[1], (count, shapes)
    for port in (keel.port, oracle.port):
        v, _ = parse_one(_call(port, resp3, "SRANDMEMBER", "s"))
        assert v in universe
        assert parse_one(_call(port, resp3, "SCARD", "s"))[0] == len(members)


@pytest.mark.parametrize("resp3", [False, True])
@pytest.mark.parametrize("kind", sorted(SIZES))
def test_spop_shapes(keel, oracle, resp3, kind):
    members = SIZES[kind]
    n = len(members)
    for count in (1, 3, n // 6, n // 6 + 1, n // 2, n - 1, n, n + 5):
        results = []
        for port in (keel.port, oracle.port):
            _setup(port, members)
            raw = _call(port, resp3, "SPOP", "s", str(count))
            assert raw[:1] == (b"~" if resp3 else b"*"), raw[:20]
            popped, _ = parse_one(raw)
            rest, _ = parse_one(_call(port, resp3, "SMEMBERS", "s"))
            assert len(popped) == len(set(popped)) == min(count, n)
            assert set(popped) | set(rest) == {m.encode() for m in members}
            assert not set(popped) & set(rest)
            enc, _ = parse_one(_call(port, False, "OBJECT", "ENCODING", "s"))
            results.append((len(popped), len(rest), enc))
        assert results[0] == results[1], (count, results)


def test_spop_one_by_one_drains(keel, oracle):
    for kind in ("intset", "hashtable"):
        members = SIZES[kind]
        for port in (keel.port, oracle.port):
            _setup(port, members)
            got = set()
            with RawConn(port) as c:
                for _ in members:
                    got.add(parse_one(c.call("SPOP", "s"))[0])
                assert c.call("EXISTS", "s") == b":0\r\n"
                assert c.call("SPOP", "s") == b"$-1\r\n"
            assert got == {m.encode() for m in members}


def test_srandmember_distribution(r):
    r.sadd("s", *["m%d" % i for i in range(10)])
    counts = {}
    for v in r.srandmember("s", -20000):
        counts[v] = counts.get(v, 0) + 1
    assert len(counts) == 10
    assert min(counts.values()) > 1500
    icounts = {}
    r.sadd("i", *range(10))
    for _ in range(3000):
        v = r.srandmember("i")
        icounts[v] = icounts.get(v, 0) + 1
    assert len(icounts) == 10 and min(icounts.values()) > 150


# ------------------------------------------------------------------ SSCAN


def _full_scan(port, key, count=None, match=None, resp3=False):
    seen = []
    cursor = b"0"
    calls = 0
    with RawConn(port) as c:
        if resp3:
            c.call("HELLO", "3")
        while True:
            args = ["SSCAN", key, cursor]
            if match is not None:
                args += ["MATCH", match]
            if count is not None:
                args += ["COUNT", str(count)]
            v, _ = parse_one(c.call(*args))
            cursor, items = v
            seen.extend(items)
            calls += 1
            if cursor == b"0":
                return seen, calls


@pytest.mark.parametrize("count,match", [(None, None), (1, None), (7, None), (1000, None),
                                         (5, "m1*"), (None, "*9")])
def test_sscan_hashtable_full_iteration(keel, oracle, count, match):
    members = ["m%d" % i for i in range(1500)]
    out = []
    for port in (keel.port, oracle.port):
        _setup(port, members)
        seen, calls = _full_scan(port, "s", count, match)
        out.append(set(seen))
        if count == 1000:
            assert calls <= 3
    import fnmatch
    want = {m.encode() for m in members if match is None or fnmatch.fnmatchcase(m, match)}
    assert out[0] == out[1] == want


def test_sscan_intset_is_whole(keel, oracle):
    for port in (keel.port, oracle.port):
        _setup(port, [str(i) for i in range(500)])
        seen, calls = _full_scan(port, "s", count=1)
        assert calls == 1 and seen == [str(i).encode() for i in range(500)]


def test_sscan_guarantee_under_changes(r):
    members = ["m%d" % i for i in range(2000)]
    r.sadd("s", *members)
    cursor = 0
    seen = set()
    k = 0
    while True:
        cursor, items = r.sscan("s", cursor, count=20)
        seen.update(items)
        # churn: grow and shrink the table while iterating
        r.sadd("s", *["n%d" % (k + i) for i in range(30)])
        r.srem("s", *["n%d" % (k + i) for i in range(25)])
        k += 30
        if cursor == 0:
            break
    assert {m.encode() for m in members} <= seen


def test_sscan_resp3(diff):
    diff.resp3(cmds("SADD s 1 2", "SSCAN s 0", "SSCAN s 0 MATCH 1", "SSCAN nokey 0"))


# ------------------------------------------------------------ keyspace events

EVENT_SEQ = [
    "SADD s a b", "SADD s a", "SREM s zz", "SREM s a", "SREM s b", "SADD s 1 2 3", "SPOP s",
    "SPOP s 0", "SPOP s 10", "SADD a 1 2", "SADD b 3", "SMOVE a b 1", "SMOVE a b 2",
    "SMOVE b c 3", "SMOVE b b 1", "SADD x 1 2", "SINTERSTORE d x b", "SINTERSTORE d x nokey",
    "SUNIONSTORE d x b", "SUNIONSTORE d nokey", "SADD d 1", "SDIFFSTORE d x x",
    "SDIFFSTORE d x b", "SET str v", "SADD str a", "SINTER x b", "SPOP x 1",
]


def test_keyspace_events(keel, oracle):
    assert key_events(keel.port, EVENT_SEQ) == key_events(oracle.port, EVENT_SEQ)


def test_keyspace_stats(keel, oracle):
    """Reads count hits/misses (the STORE variants' sources too); writes do not."""
    seq = ["SINTERSTORE d n1 n2", "SUNIONSTORE d n1 n2", "SDIFFSTORE d n1", "SMOVE n1 n2 a",
           "SPOP n1", "SREM n1 a", "SADD s a", "SISMEMBER s a", "SCARD n1", "SMEMBERS s",
           "SRANDMEMBER s", "SSCAN s 0", "SINTERCARD 2 s n1", "SMISMEMBER s a"]
    out = []
    for port in (keel.port, oracle.port):
        with RawConn(port) as c:
            c.call("FLUSHALL")
            c.call("CONFIG", "RESETSTAT")
            for line in seq:
                c.call(*cmds(line)[0])
            info = parse_one(c.call("INFO", "stats"))[0].decode()
            out.append([x for x in info.split("\r\n") if x.startswith("keyspace_")])
    assert out[0] == out[1]


# ----------------------------------------------------- randomized vs oracle/model


class Model:
    """Sets as Python sets of bytes; replies as parsed RESP2 values."""

    def __init__(self):
        self.s = {}

    def get(self, k):
        return self.s.get(k, set())

    def put(self, k, v):
        if v:
            self.s[k] = v
        else:
            self.s.pop(k, None)

    def run(self, cmd):
        op = cmd[0]
        if op == "SADD":
            cur = set(self.get(cmd[1]))
            n = len(set(cmd[2:]) - cur)
            cur |= set(cmd[2:])
            self.put(cmd[1], cur)
            return n
        if op == "SREM":
            cur = set(self.get(cmd[1]))
            n = len(set(cmd[2:]) & cur)
            self.put(cmd[1], cur - set(cmd[2:]))
            return n
        if op == "SISMEMBER":
            return int(cmd[2] in self.get(cmd[1]))
        if op == "SMISMEMBER":
            return [int(m in self.get(cmd[1])) for m in cmd[2:]]
        if op == "SCARD":
            return len(self.get(cmd[1]))
        if op == "SMEMBERS":
            return sorted(self.get(cmd[1]))
        if op == "SMOVE":
            src, dst, m = cmd[1], cmd[2], cmd[3]
            if m not in self.get(src):
                return 0
            if src != dst:
                self.put(src, self.get(src) - {m})
                self.put(dst, self.get(dst) | {m})
            return 1
        if op in ("SINTER", "SUNION", "SDIFF", "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"):
            store = op.endswith("STORE")
            keys = cmd[2:] if store else cmd[1:]
            sets = [self.get(k) for k in keys]
            if op.startswith("SINTER"):
                res = set.intersection(*sets)
            elif op.startswith("SUNION"):
                res = set().union(*sets)
            else:
                res = sets[0].difference(*sets[1:])
            if store:
                self.put(cmd[1], set(res))
                return len(res)
            return sorted(res)
        if op in ("SPOP", "SRANDMEMBER"):  # counts larger than any set here
            cur = self.get(cmd[1])
            if op == "SPOP":
                self.put(cmd[1], set())
            return sorted(cur)
        if op == "SSCAN":  # COUNT 1000: one call returns everything here
            return [b"0", sorted(self.get(cmd[1]))]
        if op == "SINTERCARD":
            n = int(cmd[1])
            res = set.intersection(*[self.get(k) for k in cmd[2:2 + n]])
            limit = int(cmd[-1]) if len(cmd) > 2 + n else 0
            return min(len(res), limit) if limit else len(res)
        raise AssertionError(op)


SORTED_REPLIES = {"SMEMBERS", "SINTER", "SUNION", "SDIFF", "SPOP", "SRANDMEMBER"}


def _norm(cmd, v):
    if hasattr(v, "msg"):
        return v.msg.decode()
    if cmd[0] in SORTED_REPLIES:
        return sorted(v)
    if cmd[0] == "SSCAN":
        return [v[0], sorted(v[1])]
    return v


def _random_cmd(rng):
    keys = ["k%d" % i for i in range(4)]
    key = lambda: rng.choice(keys)  # noqa: E731

    def member():
        k = rng.random()
        if k < 0.6:
            return str(rng.randrange(-20, 40))
        if k < 0.65:
            return str(rng.choice([1 << 40, -(1 << 40), 70000, -70000]))
        return rng.choice(["a", "b", "c", "xy", "007", ""])

    op = rng.choice(["SADD"] * 6 + ["SREM"] * 2 + ["SISMEMBER", "SMISMEMBER", "SCARD",
                                                   "SMEMBERS", "SMOVE", "SINTER", "SUNION",
                                                   "SDIFF", "SINTERSTORE", "SUNIONSTORE",
                                                   "SDIFFSTORE", "SINTERCARD", "SPOP",
                                                   "SRANDMEMBER", "SSCAN"])
    if op in ("SADD", "SREM", "SMISMEMBER"):
        return [op, key()] + [member() for _ in range(rng.randrange(1, 6))]
    if op == "SISMEMBER":
        return [op, key(), member()]
    if op in ("SCARD", "SMEMBERS"):
        return [op, key()]
    if op == "SMOVE":
        return [op, key(), key(), member()]
    if op in ("SPOP", "SRANDMEMBER"):
        return [op, key(), "100"]
    if op == "SSCAN":
        return [op, key(), "0", "COUNT", "1000"]
    nk = rng.randrange(1, 4)
    if op == "SINTERCARD":
        c = [op, str(nk)] + [key() for _ in range(nk)]
        if rng.random() < 0.5:
            c += ["LIMIT", str(rng.randrange(0, 5))]
        return c
    if op.endswith("STORE"):
        return [op, key()] + [key() for _ in range(nk)]
    return [op] + [key() for _ in range(nk)]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_randomized_against_oracle_and_model(keel, oracle, seed):
    rng = random.Random(seed)
    model = Model()
    conns = {"keel": RawConn(keel.port), "redis": RawConn(oracle.port)}
    limit = rng.choice(["4", "16", "512"])
    try:
        for c in conns.values():
            c.call("FLUSHALL")
            c.call("CONFIG", "SET", "set-max-intset-entries", limit)
        for i in range(1500):
            cmd = _random_cmd(rng)
            raw = {n: c.call(*cmd) for n, c in conns.items()}
            vals = {n: parse_one(r)[0] for n, r in raw.items()}
            want = model.run([cmd[0]] + [x.encode() for x in cmd[1:]])
            k, r = _norm(cmd, vals["keel"]), _norm(cmd, vals["redis"])
            assert k == r, "#%d %s: keel %r redis %r" % (i, cmd, raw["keel"], raw["redis"])
            assert k == want, "#%d %s: keel %r model %r" % (i, cmd, k, want)
            # where Redis's order is deterministic (intsets), bytes must match too
            if cmd[0] in ("SMEMBERS", "SINTER", "SUNION", "SDIFF", "SRANDMEMBER", "SSCAN"):
                enc = {n: c.call("OBJECT", "ENCODING", cmd[1]) for n, c in conns.items()}
                assert enc["keel"] == enc["redis"], (cmd, enc)
                if enc["keel"] == b"$6\r\nintset\r\n" and (len(cmd) == 2 or cmd[0] in (
                        "SRANDMEMBER", "SSCAN")):
                    assert raw["keel"] == raw["redis"], cmd
            if i % 100 == 0:
                for kk in ("k0", "k1", "k2", "k3"):
                    e = {n: c.call("OBJECT", "ENCODING", kk) for n, c in conns.items()}
                    assert e["keel"] == e["redis"], (i, kk, e)
    finally:
        for c in conns.values():
            c.call("CONFIG", "SET", "set-max-intset-entries", "512")
            c.close()


def _watch_fires(port, setup, change, key):
    """True if `change` (run by another client) makes a WATCH on key abort EXEC."""
    with RawConn(port) as a, RawConn(port) as b:
        a.call("FLUSHALL")
        for line in setup:
            a.call(*cmds(line)[0])
        a.call("WATCH", key)
        b.call(*cmds(change)[0])
        a.call("MULTI")
        a.call("PING")
        return parse_one(a.call("EXEC"))[0] is None


WATCH_CASES = [
    (["SADD s a"], "SADD s b", "s"), (["SADD s a"], "SADD s a", "s"),
    (["SADD s a b"], "SREM s a", "s"), (["SADD s a"], "SREM s zz", "s"),
    (["SADD s a"], "SREM s a", "s"), (["SADD s a b"], "SPOP s", "s"),
    (["SADD s a b"], "SPOP s 0", "s"), (["SADD s a b"], "SPOP s 5", "s"),
    (["SADD s a", "SADD t b"], "SMOVE s t a", "s"), (["SADD s a", "SADD t b"], "SMOVE s t a", "t"),
    (["SADD s a", "SADD t a"], "SMOVE s t a", "t"), (["SADD s a"], "SMOVE s t zz", "s"),
    (["SADD s a"], "SINTERSTORE d s", "d"), (["SADD s a"], "SINTERSTORE d nokey", "d"),
    (["SADD s a", "SET d x"], "SINTERSTORE d nokey", "d"), (["SADD s a"], "SUNIONSTORE d s", "d"),
    (["SADD s a"], "SDIFFSTORE d s s", "d"), (["SADD s a", "SADD d 1"], "SDIFFSTORE d s", "d"),
    (["SADD s a"], "SINTER s s", "s"), (["SADD s a"], "SRANDMEMBER s 5", "s"),
]


def test_watch_sees_set_changes(keel, oracle):
    for setup, change, key in WATCH_CASES:
        k = _watch_fires(keel.port, setup, change, key)
        r = _watch_fires(oracle.port, setup, change, key)
        assert k == r, (setup, change, key, k, r)
