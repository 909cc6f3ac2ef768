"""Lists: Keel vs redis-server 7.0, raw reply bytes.

- CASES: command sequences for every list command and option (errors, nil
  shapes, index edge cases, wrong types, emptied keys), compared byte for byte
  in RESP2 and in RESP3.
- Node sizes and compression: the same sequences under small
  list-max-listpack-size values (many nodes, splits and merges in LINSERT /
  LSET) and with list-compress-depth on; OBJECT ENCODING (7.0 answers
  "quicklist" for every list) and the config aliases.
- Keyspace events of every list command (lpush ... ltrim, "del" when emptied,
  LMOVE's push then pop), compared with the oracle.
- Randomized: long random command sequences over a few keys compared with the
  oracle reply by reply, under several node configurations; and a Python
  model of lists checked against Keel alone on a longer run.
"""

import random

import pytest

from harness import RawConn, cmds, parse_one
from helpers import key_events

BIG = "x" * 5000
LLMAX = "9223372036854775807"
LLMIN = "-9223372036854775808"
NUMS = " ".join(str(i) for i in range(300))

CASES = {
    # ------------------------------------------------------------ push
    "lpush": ["LPUSH l a b c", "LRANGE l 0 -1", "LLEN l", "TYPE l", "LPUSH l d", "LRANGE l 0 -1"],
    "rpush": ["RPUSH l a b c", "LRANGE l 0 -1", "RPUSH l d e", "LRANGE l 0 -1", "LLEN l"],
    "push_wrongtype": ["SET s v", "LPUSH s a", "RPUSH s a", "LPUSHX s a", "RPUSHX s a", "GET s",
                       "HSET h f v", "LPUSH h a", "TYPE h"],
    "pushx": ["LPUSHX l a", "RPUSHX l a", "EXISTS l", "RPUSH l x", "LPUSHX l a b",
              "RPUSHX l c d", "LRANGE l 0 -1"],
    "push_arity": ["LPUSH", "LPUSH l", "RPUSH l", "LPUSHX l", "RPUSHX", "EXISTS l"],
    "push_binary": [["RPUSH", "l", b"\x00\xff", b"", b"a\r\nb", b"\xff" * 70], "LRANGE l 0 -1",
                    ["LPOS", "l", b""], ["LREM", "l", "0", b"\x00\xff"], "LRANGE l 0 -1"],
    "push_integers": ["RPUSH l 0 -1 127 128 -4096 4095 4096 32767 -32768 32768 8388607 "
                      "-8388608 8388608 2147483647 -2147483648 2147483648 " + LLMAX + " " +
                      LLMIN + " 18446744073709551616 007 +1 1.5 ' 1' -0 00",
                      "LRANGE l 0 -1", "LINDEX l 3", "LPOS l 128", "LPOS l 007", "LPOS l 7",
                      "LREM l 0 -0", "LREM l 0 0", "LRANGE l 0 -1"],
    "push_many": ["RPUSH l " + NUMS, "LLEN l", "LRANGE l 0 -1", "LRANGE l 100 110",
                  "LINDEX l 277", "LINDEX l -277", "LPUSH l " + NUMS, "LRANGE l 295 305"],
    "push_big_elements": ["RPUSH l a " + BIG + " b " + BIG, "LLEN l", "LRANGE l 0 -1",
                          "LINDEX l 1", "LINSERT l AFTER b " + BIG, "LSET l 0 " + BIG,
                          "LRANGE l 0 -1", "LREM l 0 " + BIG, "LRANGE l 0 -1"],
    "push_returns_length_after_all": ["RPUSH l a", "RPUSH l b c d", "LPUSH l e f"],
    # ------------------------------------------------------------- pop
    "lpop": ["RPUSH l a b c", "LPOP l", "LPOP l", "LRANGE l 0 -1", "LPOP l", "LPOP l",
             "EXISTS l"],
    "rpop": ["RPUSH l a b c", "RPOP l", "RPOP l", "LRANGE l 0 -1", "RPOP l", "RPOP l",
             "EXISTS l"],
    "pop_count": ["RPUSH l a b c d e f g", "LPOP l 2", "RPOP l 2", "LRANGE l 0 -1",
                  "LPOP l 1", "RPOP l 1", "LPOP l 10", "EXISTS l", "LPOP l 2"],
    "pop_count_all": ["RPUSH l a b c", "RPOP l 3", "EXISTS l", "RPUSH l a b c", "LPOP l " + LLMAX,
                      "EXISTS l"],
    "pop_count_zero": ["RPUSH l a", "LPOP l 0", "RPOP l 0", "LPOP nokey 0", "RPOP nokey 0",
                       "LLEN l"],
    "pop_count_bad": ["RPUSH l a", "LPOP l -1", "LPOP l abc", "RPOP l 1.5", "LPOP l ''",
                      "LPOP l 99999999999999999999", "LPOP l " + LLMIN, "LPOP l 1 2",
                      "RPOP l a b", "LPOP l 1 2 3", "LPOP nokey -1", "LPOP nokey x", "LLEN l"],
    "pop_missing": ["LPOP nokey", "RPOP nokey", "LPOP nokey 1", "RPOP nokey 5"],
    "pop_wrongtype": ["SET s v", "LPOP s", "RPOP s", "LPOP s 0", "LPOP s 2", "LPOP s -1",
                      "RPOP s x"],
    "pop_arity": ["LPOP", "RPOP"],
    "pop_integers": ["RPUSH l 1 -2 300 " + LLMAX + " " + LLMIN, "LPOP l", "RPOP l", "LPOP l 2",
                     "RPOP l 5"],
    # ------------------------------------------------------------- llen
    "llen": ["LLEN nokey", "SET s v", "LLEN s", "RPUSH l a b", "LLEN l", "LLEN", "LLEN a b"],
    # ----------------------------------------------------------- lrange
    "lrange_indexes": ["RPUSH l a b c d e", "LRANGE l 0 -1", "LRANGE l -100 100",
                       "LRANGE l 2 1", "LRANGE l 5 10", "LRANGE l 4 10", "LRANGE l -1 -1",
                       "LRANGE l -3 -2", "LRANGE l 0 0", "LRANGE l -5 -5", "LRANGE l -6 -6",
                       "LRANGE l 1 -2", "LRANGE l -2 1",
                       "LRANGE l " + LLMAX + " " + LLMIN, "LRANGE l " + LLMIN + " " + LLMAX,
                       "LRANGE l " + LLMIN + " " + LLMIN, "LRANGE l 0 " + LLMIN],
    "lrange_errors": ["RPUSH l a", "LRANGE l a 1", "LRANGE l 1 b", "LRANGE l 1.0 2",
                      "LRANGE nokey a b", "LRANGE nokey 0 -1", "SET s v", "LRANGE s 0 -1",
                      "LRANGE s a 0", "LRANGE l 0", "LRANGE l 0 1 2", "LRANGE l 99999999999999999999 1"],
    # ----------------------------------------------------------- lindex
    "lindex": ["RPUSH l a b c", "LINDEX l 0", "LINDEX l -1", "LINDEX l 2", "LINDEX l 3",
               "LINDEX l -3", "LINDEX l -4", "LINDEX l 100", "LINDEX l " + LLMAX,
               "LINDEX l " + LLMIN],
    "lindex_errors": ["RPUSH l a", "LINDEX l abc", "LINDEX l 1.5", "LINDEX nokey abc",
                      "LINDEX nokey 0", "SET s v", "LINDEX s abc", "LINDEX s 0",
                      "LINDEX l 99999999999999999999", "LINDEX l", "LINDEX l 0 1"],
    # ------------------------------------------------------------- lset
    "lset": ["RPUSH l a b c", "LSET l 0 x", "LSET l -1 y", "LSET l 1 " + BIG, "LRANGE l 0 -1",
             "LSET l 1 12345", "LINDEX l 1", "LSET l 3 z", "LSET l -4 z", "LSET l " + LLMIN + " z",
             "LRANGE l 0 -1"],
    "lset_errors": ["RPUSH l a", "LSET l abc z", "LSET nokey abc z", "LSET nokey 0 z",
                    "SET s v", "LSET s 0 z", "LSET s abc z", "LSET l 0", "LSET l 0 a b",
                    "LRANGE l 0 -1"],
    # ---------------------------------------------------------- linsert
    "linsert": ["RPUSH l a b c", "LINSERT l BEFORE b x", "LINSERT l AFTER b y",
                "LINSERT l before a first", "LINSERT l after c last", "LRANGE l 0 -1",
                "LINSERT l AFTER nope x", "LINSERT nokey BEFORE a x", "EXISTS nokey"],
    "linsert_dup_pivot": ["RPUSH l a b a b", "LINSERT l AFTER b x", "LINSERT l BEFORE a y",
                          "LRANGE l 0 -1"],
    "linsert_integers": ["RPUSH l 1 2 3 10", "LINSERT l AFTER 1 x", "LINSERT l BEFORE 10 9",
                         "LINSERT l BEFORE 01 z", "LINSERT l AFTER 3 " + LLMAX, "LRANGE l 0 -1"],
    "linsert_errors": ["RPUSH l a", "LINSERT l MIDDLE a x", "LINSERT nokey MIDDLE a x",
                       "SET s v", "LINSERT s BEFORE a x", "LINSERT s MIDDLE a x",
                       "LINSERT l BEFORE a", "LINSERT l BEFORE a x y", "LRANGE l 0 -1"],
    # ------------------------------------------------------------- lrem
    "lrem": ["RPUSH l a b a c a b", "LREM l 1 a", "LRANGE l 0 -1", "LREM l -1 b",
             "LRANGE l 0 -1", "LREM l 0 a", "LRANGE l 0 -1", "LREM l 0 nope", "LREM l 5 c",
             "LREM l 0 b", "EXISTS l"],
    "lrem_counts": ["RPUSH l x 1 x 2 x 3 x", "LREM l 2 x", "LRANGE l 0 -1", "LREM l -1 x",
                    "LRANGE l 0 -1", "RPUSH l x x x", "LREM l " + LLMIN + " x", "LRANGE l 0 -1",
                    "RPUSH l x x", "LREM l " + LLMAX + " x", "LRANGE l 0 -1"],
    "lrem_errors": ["RPUSH l a", "LREM l abc a", "LREM nokey 0 a", "LREM nokey x a",
                    "SET s v", "LREM s 0 a", "LREM s x a", "LREM l 0", "LREM l 0 a b"],
    "lrem_integers": ["RPUSH l 1 01 1 -1 1", "LREM l 0 1", "LRANGE l 0 -1", "LREM l 0 01",
                      "LRANGE l 0 -1"],
    # ------------------------------------------------------------ ltrim
    "ltrim": ["RPUSH l a b c d e", "LTRIM l 1 -2", "LRANGE l 0 -1", "LTRIM l 0 0",
              "LRANGE l 0 -1", "LTRIM l 5 10", "EXISTS l"],
    "ltrim_ranges": ["RPUSH l a b c d e", "LTRIM l -100 100", "LRANGE l 0 -1",
                     "LTRIM l -3 -1", "LRANGE l 0 -1", "LTRIM l 2 1", "EXISTS l",
                     "RPUSH l a b c", "LTRIM l " + LLMIN + " " + LLMAX, "LRANGE l 0 -1",
                     "LTRIM l 1 " + LLMIN, "EXISTS l"],
    "ltrim_errors": ["RPUSH l a", "LTRIM l a 1", "LTRIM l 0 b", "LTRIM nokey 0 1",
                     "LTRIM nokey a 1", "SET s v", "LTRIM s 0 1", "LTRIM s a 1", "LTRIM l 0",
                     "LRANGE l 0 -1"],
    "ltrim_many": ["RPUSH l " + NUMS, "LTRIM l 10 -10", "LLEN l", "LRANGE l 0 3",
                   "LRANGE l -3 -1", "LTRIM l 100 150", "LRANGE l 0 -1"],
    # ------------------------------------------------------------- lpos
    "lpos": ["RPUSH l a b c 1 2 3 c c", "LPOS l c", "LPOS l 1", "LPOS l nope", "LPOS l c RANK 2",
             "LPOS l c RANK -1", "LPOS l c RANK -3", "LPOS l c RANK 4", "LPOS l c RANK -4",
             "LPOS l c COUNT 0", "LPOS l c COUNT 2", "LPOS l c COUNT 2 RANK -1",
             "LPOS l c RANK 2 COUNT 0", "LPOS l c MAXLEN 3", "LPOS l c MAXLEN 2",
             "LPOS l c COUNT 0 MAXLEN 7", "LPOS l c RANK -1 MAXLEN 1", "LPOS l c RANK -1 MAXLEN 2",
             "LPOS l nope COUNT 3", "LPOS l c MAXLEN 0 COUNT 0 RANK 1",
             "lpos l c rank 1 count 1 maxlen 0"],
    "lpos_rank_extremes": ["RPUSH l a b a", "LPOS l a RANK " + LLMAX, "LPOS l a RANK " + LLMIN,
                           "LPOS l a RANK " + LLMIN + " COUNT 1",
                           "LPOS l a RANK " + LLMIN + " COUNT 0",
                           "LPOS l a RANK -" + LLMAX + " COUNT 1", "LPOS l a COUNT " + LLMAX,
                           "LPOS l a MAXLEN " + LLMAX],
    "lpos_repeated_options": ["RPUSH l a b a", "LPOS l a RANK 1 RANK 2", "LPOS l a COUNT 1 COUNT 0",
                              "LPOS l a MAXLEN 1 MAXLEN 0"],
    "lpos_errors": ["RPUSH l a", "LPOS l a RANK 0", "LPOS l a COUNT -1", "LPOS l a MAXLEN -1",
                    "LPOS l a RANK abc", "LPOS l a COUNT abc", "LPOS l a MAXLEN abc",
                    "LPOS l a RANK", "LPOS l a COUNT", "LPOS l a MAXLEN", "LPOS l a FOO 1",
                    "LPOS l a RANK 1 FOO", "LPOS l", "LPOS nokey a RANK 0",
                    "LPOS nokey a COUNT -1", "LPOS l a RANK 1.5", "LPOS l a COUNT 1.5"],
    "lpos_missing_wrongtype": ["LPOS nokey a", "LPOS nokey a COUNT 0", "LPOS nokey a COUNT 2",
                               "LPOS nokey a RANK -1", "SET s v", "LPOS s a", "LPOS s a COUNT 1",
                               "LPOS s a RANK 0"],
    # -------------------------------------------------- lmove / rpoplpush
    "rpoplpush": ["RPUSH a 1 2 3", "RPOPLPUSH a b", "RPOPLPUSH a b", "LRANGE a 0 -1",
                  "LRANGE b 0 -1", "RPOPLPUSH a b", "EXISTS a", "RPOPLPUSH a b", "LRANGE b 0 -1"],
    "rpoplpush_rotate": ["RPUSH a 1 2 3", "RPOPLPUSH a a", "LRANGE a 0 -1", "DEL a",
                         "RPUSH a x", "RPOPLPUSH a a", "LRANGE a 0 -1", "RPUSH a " + BIG,
                         "RPOPLPUSH a a", "LRANGE a 0 -1"],
    "rpoplpush_errors": ["SET s v", "RPUSH a 1", "RPOPLPUSH a s", "LRANGE a 0 -1",
                         "RPOPLPUSH s a", "RPOPLPUSH nokey s", "RPOPLPUSH s nokey",
                         "RPOPLPUSH a", "RPOPLPUSH a b c"],
    "lmove": ["RPUSH a 1 2 3 4", "LMOVE a b LEFT LEFT", "LMOVE a b LEFT RIGHT",
              "LMOVE a b RIGHT LEFT", "LMOVE a b right right", "LRANGE a 0 -1", "LRANGE b 0 -1",
              "EXISTS a", "LMOVE a b LEFT LEFT", "LMOVE b b LEFT RIGHT", "LRANGE b 0 -1",
              "LMOVE b b RIGHT LEFT", "LRANGE b 0 -1"],
    "lmove_errors": ["RPUSH a 1", "SET s v", "LMOVE a b UP LEFT", "LMOVE a b LEFT DOWN",
                     "LMOVE a s LEFT LEFT", "LMOVE s a LEFT LEFT", "LMOVE nokey s LEFT LEFT",
                     "LMOVE a b LEFT", "LMOVE a b LEFT LEFT LEFT", "LMOVE nokey b UP LEFT",
                     "LRANGE a 0 -1"],
    # ------------------------------------------------------------ lmpop
    "lmpop": ["RPUSH a 1 2 3", "RPUSH b x y", "LMPOP 2 nokey a LEFT", "LMPOP 2 b a RIGHT",
              "LMPOP 1 a left", "LMPOP 3 x y z RIGHT", "LMPOP 1 a LEFT", "EXISTS a",
              "LMPOP 2 a b LEFT", "LMPOP 2 a b LEFT", "EXISTS b"],
    "lmpop_errors": ["RPUSH a 1", "SET s v", "LMPOP 0 a LEFT", "LMPOP -1 a LEFT",
                     "LMPOP abc a LEFT", "LMPOP 2 a LEFT", "LMPOP 1 a b LEFT", "LMPOP 1 a UP",
                     "LMPOP 1 a", "LMPOP 1", "LMPOP 2 nokey s LEFT", "LMPOP 2 s a LEFT",
                     "LMPOP 2 a s LEFT", "LRANGE a 0 -1", "LMPOP 5 a b LEFT",
                     "LMPOP " + LLMAX + " a LEFT"],
    "lmpop_count": ["RPUSH a 1 2 3 4 5", "RPUSH b x", "LMPOP 1 a LEFT COUNT 2",
                    "LMPOP 2 nokey a RIGHT COUNT 2", "LMPOP 1 a LEFT count 10", "EXISTS a",
                    "LMPOP 1 b RIGHT COUNT 0", "LMPOP 1 b RIGHT COUNT -1",
                    "LMPOP 1 b RIGHT COUNT x", "LMPOP 1 b LEFT COUNT",
                    "LMPOP 1 b LEFT COUNT 1 FOO", "LMPOP 2 b nokey LEFT COUNT 5",
                    "LMPOP 1 b LEFT COUNT " + LLMAX, "RPUSH b y", "LMPOP 1 b COUNT 1 LEFT",
                    "LMPOP 2 b COUNT 1", "LMPOP 0 a FOO", "LMPOP abc", "LMPOP abc a LEFT",
                    "LMPOP 3 a LEFT", "LMPOP 2 a LEFT COUNT"],
    # ------------------------------------------------------------- misc
    "encoding": ["RPUSH l a", "OBJECT ENCODING l", "RPUSH l " + NUMS, "OBJECT ENCODING l",
                 "RPUSH l " + BIG, "OBJECT ENCODING l", "LPUSH n 1", "OBJECT ENCODING n"],
    "list_type_commands": ["RPUSH l a b", "TYPE l", "EXISTS l", "COPY l l2", "LRANGE l2 0 -1",
                           "RENAME l l3", "LRANGE l3 0 -1", "DEL l3", "EXISTS l3",
                           "LRANGE l2 0 -1", "APPEND l2 x", "GET l2", "INCR l2"],
    "expired_list": ["RPUSH l a", "PEXPIREAT l 1", "LLEN l", "LPUSHX l a", "EXISTS l",
                     "RPUSH l b", "TTL l", "LRANGE l 0 -1"],
}

# Redis range-checks LMPOP's COUNT and LPOS's RANK/COUNT/MAXLEN when its loop
# meets them (so such an error wins over a later syntax error or a later
# bad value), and refuses a second LMPOP COUNT: the schemas say so
# (keel_parse_in_order, keel_min, keel_nonzero, keel_once).
ORDER_CASES = {
    "lmpop_error_order": ["RPUSH b x", "LMPOP 1 b LEFT COUNT 1 COUNT 1",
                          "LMPOP 1 b LEFT COUNT 0 FOO", "LMPOP 1 b LEFT COUNT -1 COUNT 1",
                          "LMPOP 1 b LEFT COUNT x COUNT 1", "LMPOP 1 b LEFT COUNT"],
    "blmpop_error_order": ["RPUSH b x", "BLMPOP x 1 b LEFT COUNT 0", "BLMPOP x 0 b LEFT",
                           "BLMPOP x 1 b FOO", "BLMPOP x 1 b LEFT COUNT",
                           "BLMPOP 0.01 1 b LEFT COUNT 1 COUNT 1", "BLMPOP x 1 b LEFT",
                           "BLMPOP -1 1 b LEFT COUNT 1"],
    "lpos_error_order": ["RPUSH l a", "LPOS l a COUNT -1 RANK x", "LPOS l a RANK 0 FOO",
                         "LPOS l a RANK 0 RANK 1", "LPOS l a MAXLEN -1 COUNT x",
                         "LPOS l a RANK 1 RANK 0", "LPOS l a COUNT x MAXLEN -1"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_lists(diff, name):
    diff(cmds(*CASES[name]))


@pytest.mark.parametrize("name", sorted(CASES))
def test_lists_resp3(diff, name):
    diff.resp3(cmds(*CASES[name]))


@pytest.mark.parametrize("name", sorted(ORDER_CASES))
def test_lists_error_order(diff, name):
    diff.both(cmds(*ORDER_CASES[name]))


# --------------------------------------------- node sizes and compression

def _with_config(fill, depth, seq):
    return (["CONFIG SET list-max-listpack-size %s" % fill,
             "CONFIG SET list-compress-depth %s" % depth] + seq +
            ["CONFIG SET list-max-listpack-size -2", "CONFIG SET list-compress-depth 0"])


MIDDLE_SEQ = [
    "RPUSH l " + NUMS, "LLEN l", "OBJECT ENCODING l",
    "LINSERT l AFTER 150 mid1", "LINSERT l BEFORE 150 mid0", "LINSERT l BEFORE 0 first",
    "LINSERT l AFTER 299 last", "LSET l 77 " + BIG, "LSET l 78 short", "LINSERT l AFTER 10 " + BIG,
    "LINDEX l 151", "LINDEX l -151", "LRANGE l 140 160", "LREM l 0 " + BIG, "LREM l -2 1",
    "LPOS l 200", "LPOS l 5 RANK -1", "LTRIM l 3 -3", "LRANGE l 0 -1",
    "LPUSH l " + NUMS, "RPOP l 50", "LPOP l 50", "LRANGE l 0 -1", "LREM l 0 120",
    "LRANGE l 0 -1", "LTRIM l 100 99", "EXISTS l",
]

FILLS = ["-1", "-2", "-5", "1", "2", "3", "16", "0", "-6", "100000"]


@pytest.mark.parametrize("fill", FILLS)
@pytest.mark.parametrize("depth", ["0", "1", "3"])
def test_node_sizes_and_compression(diff, fill, depth):
    diff(cmds(*_with_config(fill, depth, MIDDLE_SEQ)))


LAYOUTS = [("2", "1"), ("3", "2"), ("8", "1"), ("-2", "1"), ("2", "0")]


@pytest.mark.parametrize("fill,depth", LAYOUTS)
def test_lset_leaves_node_compressed(diff, fill, depth):
    """LSET compresses its node outside the depth even when the node did
    not compress before (Redis's quicklistCompress after the replace).
    MEMORY USAGE ... SAMPLES 0 sizes every node, raw or LZF."""
    x = "x" * 63
    diff(cmds(*_with_config(fill, depth, [
        "RPUSH l a b c d e 1 2 3 4 5 6 7 8 9 10 11 12", "LPOP l 3", "RPOP l 2",
        "MEMORY USAGE l SAMPLES 0", "LSET l 5 " + x, "MEMORY USAGE l SAMPLES 0",
        "LSET l -4 " + x, "MEMORY USAGE l SAMPLES 0", "LRANGE l 0 -1"])))


@pytest.mark.parametrize("fill,depth", LAYOUTS)
def test_restore_keeps_dumped_nodes(r, ro, fill, depth):
    """A restored list keeps the dump's nodes whatever their fill (Redis
    appends each listpack as a node), compressed as the depth says."""
    out = []
    for c in (r, ro):
        c.flushall()
        c.config_set("list-max-listpack-size", "1")
        c.rpush("l", *(["a", "b", "x" * 63, "1", "2"] * 6))
        c.lrem("l", 3, "a")
        payload = c.dump("l")
        c.config_set("list-max-listpack-size", fill)
        c.config_set("list-compress-depth", depth)
        c.restore("m", 0, payload)
        got = [c.execute_command("MEMORY", "USAGE", "m", "SAMPLES", "0")]
        c.rpush("m", "tail")
        c.linsert("m", "BEFORE", "2", "y" * 30)
        got += [c.execute_command("MEMORY", "USAGE", "m", "SAMPLES", "0"), c.lrange("m", 0, -1)]
        c.config_set("list-max-listpack-size", "-2")
        c.config_set("list-compress-depth", "0")
        out.append(got)
    assert out[0] == out[1]


@pytest.mark.parametrize("fill,depth", LAYOUTS + [("3", "0")])
def test_linsert_split_and_merge(diff, fill, depth):
    """LINSERT into the middle of a full node splits it at the entry, the
    value starting (after) or ending (before) the new node, then merges
    around the node as Redis 7.0's _quicklistMergeNodes: the node layout
    (DUMP) and sizes (MEMORY USAGE ... SAMPLES 0) match."""
    x = "x" * 65
    diff(cmds(*_with_config(fill, depth, [
        "RPUSH l 3.5 %s 9223372036854775807 xxxxxxxx xxxx 98736 50879 xxxxxxxxx xx 81733 "
        "xx 1e2 -858 66558 41997 1e2 51331 37524 %s" % (x, x), "LPOP l",
        "LINSERT l AFTER 9223372036854775807 56266", "DUMP l", "MEMORY USAGE l SAMPLES 0",
        "LINSERT l BEFORE 98736 before", "DUMP l", "MEMORY USAGE l SAMPLES 0",
        "LINSERT l AFTER 66558 " + x, "DUMP l", "MEMORY USAGE l SAMPLES 0", "LRANGE l 0 -1"])))


def test_linsert_new_node_compressed(diff):
    """The node LINSERT's split creates is compressed as the depth says
    (7.0's __quicklistInsertNode compresses the old node and the new one)."""
    x = "x" * 64
    diff(cmds(*_with_config("8", "1", [
        "RPUSH l " + " ".join("e%d" % i for i in range(40)), "LINSERT l AFTER e18 " + x,
        "DUMP l", "MEMORY USAGE l SAMPLES 0", "LINSERT l BEFORE e27 " + x, "DUMP l",
        "MEMORY USAGE l SAMPLES 0"])))


@pytest.mark.parametrize("fill,depth", [("3", "0"), ("2", "1")])
def test_sort_store_list_keeps_quicklist_defaults(diff, fill, depth):
    """SORT ... STORE makes its list with quicklist's defaults (fill -2, no
    compression), whatever list-max-listpack-size and list-compress-depth
    say, and the list keeps them for later pushes."""
    diff(cmds(*_with_config(fill, depth, [
        "RPUSH src 3.5 1e2 xxx 7 a " + "x" * 40 + " b c d e f g", "SORT src ALPHA STORE dst",
        "DUMP dst", "MEMORY USAGE dst SAMPLES 0", "RPUSH dst " + " ".join("n%d" % i for i in range(20)),
        "DUMP dst", "MEMORY USAGE dst SAMPLES 0"])))


def test_lset_in_place_past_the_fill(diff):
    """Redis 7.0 replaces a packed node's entry in place even when the node
    then exceeds list-max-listpack-size (a size class or an entry count)."""
    y = " ".join(["y" * 150] * 20)
    diff(cmds(*_with_config("-1", "0", [
        "RPUSH l " + y, "LSET l 3 " + "z" * 3000, "DUMP l", "MEMORY USAGE l SAMPLES 0",
        "CONFIG SET list-max-listpack-size 3", "SORT l STORE m", "LSET m 2 v", "DUMP m",
        "LSET m 10 " + "w" * 100, "DUMP m", "LRANGE m 0 3"])))


def test_memory_usage_sum_rounding(diff):
    """MEMORY USAGE adds the sampled estimate to the fixed part in double
    before truncating, as Redis does (a 1-byte difference otherwise)."""
    diff(cmds(*_with_config("1", "0", [
        "RPUSH l a a a a %s a a a a a a a a a a" % ("x" * 45), "MEMORY USAGE l",
        "MEMORY USAGE l SAMPLES 0"])))


def test_config_names_and_aliases(diff):
    diff(cmds("CONFIG GET list-max-listpack-size", "CONFIG GET list-max-ziplist-size",
              "CONFIG GET list-compress-depth", "CONFIG SET list-max-ziplist-size 7",
              "CONFIG GET list-max-listpack-size", "CONFIG SET list-max-listpack-size -2",
              "CONFIG SET list-compress-depth -1", "CONFIG GET list-compress-depth",
              "CONFIG SET list-max-listpack-size abc", "CONFIG GET list-max-listpack-size"))


def test_config_change_keeps_existing_lists(diff):
    """A list keeps the node size it was created with; new lists get the new one."""
    diff(cmds(*_with_config("2", "1", [
        "RPUSH a " + NUMS, "CONFIG SET list-max-listpack-size -2",
        "CONFIG SET list-compress-depth 0", "RPUSH b " + NUMS, "LINSERT a AFTER 5 x",
        "LINSERT b AFTER 5 x", "LRANGE a 0 10", "LRANGE b 0 10", "OBJECT ENCODING a",
        "OBJECT ENCODING b", "LRANGE a 0 -1"])))


def test_one_element_per_node_big_list(r, ro):
    """fill 1: a node per element; every operation still agrees."""
    for c in (r, ro):
        c.config_set("list-max-listpack-size", "1")
        c.config_set("list-compress-depth", "2")
    try:
        rng = random.Random(7)
        for c in (r, ro):
            c.rpush("l", *range(2000))
        for _ in range(200):
            i = rng.randrange(-2100, 2100)
            v = rng.choice(["x", "12", BIG[:rng.randrange(1, 300)]])
            op = rng.randrange(4)
            cnt = rng.randrange(-2, 3)
            res = []
            for c in (r, ro):
                try:
                    if op == 0:
                        res.append(c.lindex("l", i))
                    elif op == 1:
                        res.append(c.lset("l", i, v))
                    elif op == 2:
                        res.append(c.linsert("l", "AFTER", str(i), v))
                    else:
                        res.append(c.lrem("l", cnt, v))
                except Exception as e:  # noqa: BLE001 - compare the error text
                    res.append(str(e))
            assert res[0] == res[1], (op, i, v, res)
        assert r.lrange("l", 0, -1) == ro.lrange("l", 0, -1)
    finally:
        for c in (r, ro):
            c.config_set("list-max-listpack-size", "-2")
            c.config_set("list-compress-depth", "0")


# ------------------------------------------------------------- events

EVENT_SEQ = [
    "LPUSH l a b", "RPUSH l c", "LPUSHX l x", "RPUSHX l y", "LPUSHX nokey a", "RPUSHX nokey a",
    "LPOP l", "RPOP l", "LPOP l 0", "LPOP l 1", "RPOP l 1", "LSET l 0 z", "LSET l 9 z",
    "LINSERT l BEFORE z w", "LINSERT l BEFORE nope w", "LREM l 1 w", "LREM l 1 nope",
    "LTRIM l 0 -1", "LTRIM nokey 0 1", "RPUSH m 1 2 3", "RPOPLPUSH m n", "LMOVE m n LEFT RIGHT",
    "LMOVE n n LEFT LEFT", "LMOVE m n LEFT LEFT", "LMPOP 2 nokey n RIGHT", "LMPOP 1 n LEFT",
    "LMPOP 1 n LEFT", "LREM l 0 z", "RPUSH t a b", "LTRIM t 5 6", "RPUSH u a", "LPOP u 5",
    "RPUSH v a", "RPOP v", "RPUSH w a", "LREM w 0 a", "RPUSH q a", "RPOPLPUSH q q",
    "RPOPLPUSH q q2", "LPOS q2 a",
]


def test_keyspace_events(keel, oracle):
    assert key_events(keel.port, EVENT_SEQ) == key_events(oracle.port, EVENT_SEQ)


def test_watch_sees_list_changes(keel):
    with RawConn(keel.port) as a, RawConn(keel.port) as b:
        for change in (["RPUSH", "l", "x"], ["LPOP", "l"], ["LSET", "l", "0", "y"],
                       ["LINSERT", "l", "BEFORE", "a", "z"], ["LREM", "l", "1", "a"],
                       ["LTRIM", "l", "0", "-1"], ["RPOPLPUSH", "l", "l"],
                       ["LMPOP", "1", "l", "RIGHT"]):
            a.call("DEL", "l")
            a.call("RPUSH", "l", "a", "b")
            a.call("WATCH", "l")
            b.call(*change)
            a.call("MULTI")
            a.call("LLEN", "l")
            assert parse_one(a.call("EXEC"))[0] is None, change
        # failed or no-op commands do not touch the key
        a.call("WATCH", "l")
        b.call("LSET", "l", "99", "x")
        b.call("LINSERT", "l", "BEFORE", "nope", "x")
        b.call("LREM", "l", "0", "nope")
        b.call("LPUSHX", "nokey", "x")
        a.call("MULTI")
        a.call("LLEN", "l")
        assert parse_one(a.call("EXEC"))[0] is not None


# ----------------------------------------------------------- randomized

KEYS = ["l1", "l2", "l3", "s"]


def _rand_elem(rng):
    k = rng.randrange(10)
    if k < 4:
        return rng.choice("abcde")
    if k < 7:
        return str(rng.randrange(-3, 10))
    if k < 8:
        return rng.choice(["007", "", "-0", LLMAX, "1.5"])
    return rng.choice("ab") * rng.randrange(1, 400)


def _rand_index(rng):
    return str(rng.choice([rng.randrange(-12, 12), rng.randrange(-300, 300), 0, -1]))


def _rand_cmd(rng):
    k = rng.choice(KEYS)
    k2 = rng.choice(KEYS)
    side = lambda: rng.choice(["LEFT", "RIGHT"])  # noqa: E731
    op = rng.randrange(20)
    if op < 4:
        return [rng.choice(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), k] + \
            [_rand_elem(rng) for _ in range(rng.randrange(1, 6))]
    if op < 6:
        c = [rng.choice(["LPOP", "RPOP"]), k]
        if rng.random() < 0.5:
            c.append(str(rng.randrange(-1, 8)))
        return c
    if op == 6:
        return ["LRANGE", k, _rand_index(rng), _rand_index(rng)]
    if op == 7:
        return ["LINDEX", k, _rand_index(rng)]
    if op == 8:
        return ["LSET", k, _rand_index(rng), _rand_elem(rng)]
    if op == 9:
        return ["LINSERT", k, rng.choice(["BEFORE", "AFTER"]), _rand_elem(rng), _rand_elem(rng)]
    if op == 10:
        return ["LREM", k, str(rng.randrange(-3, 4)), _rand_elem(rng)]
    if op == 11:
        return ["LTRIM", k, _rand_index(rng), _rand_index(rng)]
    if op == 12:
        c = ["LPOS", k, _rand_elem(rng)]
        for opt in ("RANK", "COUNT", "MAXLEN"):
            if rng.random() < 0.4:
                c += [opt, str(rng.randrange(-3, 5))]
        return c
    if op == 13:
        return ["RPOPLPUSH", k, k2]
    if op == 14:
        return ["LMOVE", k, k2, side(), side()]
    if op == 15:
        n = rng.randrange(1, 4)
        c = ["LMPOP", str(n)] + [rng.choice(KEYS) for _ in range(n)] + [side()]
        if rng.random() < 0.5:
            c += ["COUNT", str(rng.randrange(1, 5))]
        return c
    if op == 16:
        return ["LLEN", k]
    if op == 17:
        return ["SET", "s", "v"] if rng.random() < 0.3 else ["EXISTS", k]
    if op == 18:
        return ["LRANGE", k, "0", "-1"]
    return [rng.choice(["RPUSH", "LPUSH"]), k] + [_rand_elem(rng) for _ in range(20)]


@pytest.mark.parametrize("fill,depth,seed", [("-2", "0", 1), ("2", "0", 2), ("3", "1", 3),
                                             ("-1", "2", 4), ("1", "1", 5), ("5", "0", 6)])
def test_random_vs_oracle(diff, fill, depth, seed):
    rng = random.Random(seed)
    seq = [_rand_cmd(rng) for _ in range(1500)] + [["LRANGE", k, "0", "-1"] for k in KEYS]
    setup = [["CONFIG", "SET", "list-max-listpack-size", fill],
             ["CONFIG", "SET", "list-compress-depth", depth]]
    reset = [["CONFIG", "SET", "list-max-listpack-size", "-2"],
             ["CONFIG", "SET", "list-compress-depth", "0"]]
    diff(setup + seq + reset)


class Model:
    """Lists as Python lists; replies as redis-py returns them (RESP2)."""

    def __init__(self):
        self.d = {}

    @staticmethod
    def _norm(llen, start, end):
        if start < 0:
            start += llen
        if end < 0:
            end += llen
        start = max(start, 0)
        if start > end or start >= llen:
            return None
        return start, min(end, llen - 1)

    def run(self, cmd):
        name, key, args = cmd[0].upper(), cmd[1], cmd[2:]
        lst = self.d.get(key)
        if name in ("LPUSH", "RPUSH"):
            lst = self.d.setdefault(key, [])
            for a in args:
                if name == "LPUSH":
                    lst.insert(0, a)
                else:
                    lst.append(a)
            return len(lst)
        if lst is None:
            return {"LPOP": None, "RPOP": None, "LRANGE": [], "LINDEX": None, "LLEN": 0,
                    "LREM": 0, "LINSERT": 0, "LTRIM": True}[name]
        if name in ("LPOP", "RPOP"):
            v = lst.pop(0) if name == "LPOP" else lst.pop()
            res = v
        elif name == "LRANGE":
            r = self._norm(len(lst), int(args[0]), int(args[1]))
            return [] if r is None else lst[r[0]:r[1] + 1]
        elif name == "LINDEX":
            i = int(args[0])
            return lst[i] if -len(lst) <= i < len(lst) else None
        elif name == "LLEN":
            return len(lst)
        elif name == "LINSERT":
            if args[1] not in lst:
                return -1
            i = lst.index(args[1])
            lst.insert(i if args[0] == "BEFORE" else i + 1, args[2])
            return len(lst)
        elif name == "LREM":
            cnt, v = int(args[0]), args[1]
            idx = [i for i, x in enumerate(lst) if x == v]
            if cnt < 0:
                idx = idx[::-1][:-cnt]
            elif cnt > 0:
                idx = idx[:cnt]
            for i in sorted(idx, reverse=True):
                del lst[i]
            res = len(idx)
        elif name == "LTRIM":
            r = self._norm(len(lst), int(args[0]), int(args[1]))
            lst[:] = [] if r is None else lst[r[0]:r[1] + 1]
            res = True
        if not lst:
            del self.d[key]
        return res


def test_random_vs_model(r):
    """A longer run against a Python model (Keel only), with big lists."""
    rng = random.Random(99)
    model = Model()
    r.config_set("list-max-listpack-size", "4")
    r.config_set("list-compress-depth", "1")
    try:
        for step in range(6000):
            key = rng.choice(["a", "b"])
            op = rng.randrange(9)
            elem = _rand_elem(rng)
            if op == 0:
                cmd = [rng.choice(["LPUSH", "RPUSH"]), key] + \
                    [_rand_elem(rng) for _ in range(rng.randrange(1, 30))]
            elif op == 1:
                cmd = [rng.choice(["LPOP", "RPOP"]), key]
            elif op == 2:
                cmd = ["LRANGE", key, _rand_index(rng), _rand_index(rng)]
            elif op == 3:
                cmd = ["LINDEX", key, _rand_index(rng)]
            elif op == 4:
                cmd = ["LLEN", key]
            elif op == 5:
                cmd = ["LINSERT", key, rng.choice(["BEFORE", "AFTER"]), _rand_elem(rng), elem]
            elif op == 6:
                cmd = ["LREM", key, str(rng.randrange(-2, 3)), elem]
            elif op == 7:
                cmd = ["LTRIM", key, str(rng.randrange(-5, 5)), str(rng.randrange(-5, 400))]
            else:
                cmd = ["LRANGE", key, "0", "-1"]
            want = model.run(cmd)
            got = r.execute_command(*cmd)
            if isinstance(got, bytes):
                got = got.decode()
            elif isinstance(got, list):
                got = [x.decode() for x in got]
            elif got == b"OK" or got is True:
                got = True
            assert got == want, (step, cmd, got, want)
        for key in ("a", "b"):
            assert [x.decode() for x in r.lrange(key, 0, -1)] == model.d.get(key, [])
    finally:
        r.config_set("list-max-listpack-size", "-2")
        r.config_set("list-compress-depth", "0")
