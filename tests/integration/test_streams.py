"""Streams (issue 14), Keel vs redis-server 7.0: XADD XRANGE XREVRANGE XLEN
XDEL XTRIM XSETID XREAD, consumer groups (XGROUP, XREADGROUP, XACK, XPENDING,
XCLAIM, XAUTOCLAIM) and XINFO.

- CASES: byte-exact differential sequences with explicit ids, errors
  included (RESP2, and RESP3 for the map-shaped replies); times (idle,
  seen-time, delivery time) are masked; XINFO's radix-tree-nodes is
  compared (Keel counts the nodes Redis's rax has for the same ids).
- DUMP payloads of the same stream are byte-identical (the node listpacks,
  ids and counters are Redis 7.0's RDB type 19).
- RDB both ways with groups and PELs; RESTORE of Redis's DUMP; COPY.
- AOF: XADD *, approximate trimming, XREADGROUP / XCLAIM / XAUTOCLAIM replay
  to the same entries and PELs.
- Blocking XREAD / XREADGROUP over RESP and HTTP, woken in arrival order,
  timeouts, "$", key deletion and group destruction.
- Keyspace events, and a randomized run against the oracle and a model.
"""

import os
import random
import shutil
import socket
import tempfile
import time

import pytest

import harness
from harness import Parsed, RawConn, cmds, parse_one
from helpers import key_events, with_config
from test_rdb import Srv, servers, tmpdir_rdb  # noqa: F401 (fixtures)

redis = pytest.importorskip("redis")

IDLE_KEYS = {b"idle", b"seen-time"}


def _mask(v):
    """Zero the time-dependent parts of XINFO / XPENDING replies."""
    if isinstance(v, dict):
        return {k: (0 if k in IDLE_KEYS else _mask(x)) for k, x in v.items()}
    if isinstance(v, list):
        out = []
        skip = False
        for i, x in enumerate(v):
            if skip:
                out.append(0)
                skip = False
                continue
            if isinstance(x, bytes) and x in IDLE_KEYS and i % 2 == 0:
                out.append(x)
                skip = True
                continue
            out.append(_mask(x))
        return out
    return v


def M(line):
    return Parsed(harness.C(line), _mask)


def _pending_ext(v):
    """XPENDING's extended form: [id, consumer, idle, count] with idle masked."""
    if isinstance(v, list):
        return [[e[0], e[1], 0, e[3]] if isinstance(e, list) and len(e) == 4 else e for e in v]
    return v


def P(line):
    return Parsed(harness.C(line), _pending_ext)


def _full_mask(v):
    """XINFO STREAM FULL: delivery times and seen-times masked."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in IDLE_KEYS:
                out[k] = 0
            elif k == b"pending" and isinstance(x, list):
                out[k] = [[e[0]] + ([e[1]] if len(e) == 4 else []) + [0, e[-1]] for e in x]
            else:
                out[k] = _full_mask(x)
        return out
    if isinstance(v, list):
        if len(v) % 2 == 0 and all(isinstance(k, bytes) for k in v[0::2]) and v[:1] and \
                v[0] in (b"length", b"name"):
            return _full_mask(dict(zip(v[0::2], v[1::2])))
        return [_full_mask(x) for x in v]
    return v


def F(line):
    return Parsed(harness.C(line), _full_mask)


def fill(key, n, start=1):
    return ["XADD %s %d-1 f %d name v%d" % (key, i, i, i) for i in range(start, start + n)]


CASES = {
    # ------------------------------------------------------------------ XADD
    "xadd_ids": ["XADD s 1-1 a 1 b 2", "XADD s 1-* a 3 b 4", "XADD s 2 c 3", "XADD s 1-1 a 1",
                 "XADD s 2-0 a 1", "XADD s 0-0 a 1", "XADD s2 0-0 a 1", "XADD s2 0-* a 1",
                 "XADD s2 0-* a 1", "XRANGE s - +", "XRANGE s2 - +", "XLEN s", "TYPE s",
                 "OBJECT ENCODING s"],
    "xadd_errors": ["XADD s 9 a", "XADD s 9", "XADD s xx a b", "XADD s 1-x a b",
                    "XADD s -1 a b", "XADD s 18446744073709551616 a b", "XADD s 1- a b",
                    "XADD s MAXLEN abc * a b", "XADD s MAXLEN -1 * a b",
                    "XADD s MAXLEN = 1 LIMIT 5 * a b", "XADD s MAXLEN ~ 1 LIMIT -1 * a b",
                    "XADD s MAXLEN 1 MINID 3 * a b", "XADD s MINID x * a b", "EXISTS s",
                    "SET str x", "XADD str * a b", "XADD"],
    "xadd_max_id": ["XADD s 18446744073709551615-18446744073709551615 a b", "XADD s * a b",
                    "XADD s 18446744073709551615-* a b",
                    "XADD t 18446744073709551615-18446744073709551614 a b",
                    "XADD t 18446744073709551615-* a b", "XADD t 18446744073709551615-* a b"],
    "xadd_nomkstream": ["XADD s NOMKSTREAM * a b", "EXISTS s", "XADD s 1-1 a b",
                        "XADD s NOMKSTREAM 2-1 c d", "XADD s NOMKSTREAM MAXLEN 1 3-1 e f",
                        "XRANGE s - +"],
    "xadd_trim": fill("s", 30) + ["XADD s MAXLEN 10 31-1 f x", "XLEN s", "XRANGE s - + COUNT 2",
                                  "XADD s MINID 25 32-1 f x", "XLEN s", "XRANGE s - + COUNT 1",
                                  "XADD s MAXLEN = 3 33-1 f y", "XRANGE s - +"],
    "xadd_trim_approx": fill("s", 250) + ["XADD s MAXLEN ~ 10 251-1 f x", "XLEN s",
                                          "XADD s MINID ~ 120 252-1 f x", "XLEN s",
                                          "XADD s MAXLEN ~ 0 LIMIT 100 253-1 f x", "XLEN s",
                                          "XRANGE s - + COUNT 1"],
    "xadd_fields_shapes": ["XADD s 1-1 a 1 b 2", "XADD s 2-1 a 1 b 2", "XADD s 3-1 b 2 a 1",
                           "XADD s 4-1 a 1", "XADD s 5-1 a 1 b 2 c 3", "XADD s 6-1 10 -20 30 x",
                           "XRANGE s - +", "XREVRANGE s + -", "XADD s 7-1 '' ''", "XRANGE s 7 7"],
    # ------------------------------------------------------- XRANGE XREVRANGE
    "xrange": fill("s", 12) + ["XRANGE s - +", "XRANGE s 3 5", "XRANGE s 3-1 5-0", "XRANGE s (3-1 (5-1",
                               "XRANGE s - + COUNT 3", "XRANGE s - + COUNT 0",
                               "XRANGE s - + COUNT -1", "XRANGE s 5 3", "XRANGE nokey - +",
                               "XREVRANGE s + - COUNT 3", "XREVRANGE s 5 3", "XREVRANGE s (5 (2",
                               "XRANGE s (- +", "XRANGE s (+ +", "XRANGE s - (0",
                               "XRANGE s x +", "XRANGE s - x", "XRANGE s - + COUNT x",
                               "XRANGE s - + FOO", "XRANGE s - + COUNT", "XRANGE s 1-1-1 +",
                               "XRANGE s ( +", "XREVRANGE s ( -",
                               "XRANGE s 18446744073709551615 +", "XREVRANGE s + - COUNT 0"],
    "xrange_many_nodes": fill("s", 350) + ["XRANGE s 99 102", "XREVRANGE s 202 198",
                                           "XRANGE s - + COUNT 5", "XREVRANGE s + - COUNT 5",
                                           "XLEN s"],
    # ------------------------------------------------------------- XDEL XLEN
    "xdel": fill("s", 5) + ["XDEL s 2-1 4-1 9-9", "XDEL s 2-1", "XLEN s", "XRANGE s - +",
                            "XDEL s 1-1 3-1 5-1", "XLEN s", "EXISTS s", "XRANGE s - +",
                            "XDEL s x", "XDEL s -", "XDEL nokey 1", "XLEN nokey",
                            "XADD s 6-1 a b", "XRANGE s - +"],
    "xdel_node_emptied": fill("s", 250) + ["XDEL s " + " ".join("%d-1" % i for i in range(1, 101)),
                                           "XLEN s", "XRANGE s - + COUNT 2", "XTRIM s MAXLEN 10",
                                           "XLEN s", "XRANGE s - + COUNT 1"],
    # ----------------------------------------------------------------- XTRIM
    "xtrim": fill("s", 30) + ["XTRIM s MAXLEN 20", "XLEN s", "XTRIM s MINID 15", "XLEN s",
                              "XTRIM s MINID = 18", "XRANGE s - + COUNT 1", "XTRIM s MAXLEN ~ 1",
                              "XTRIM s MAXLEN 0", "XLEN s", "EXISTS s", "XTRIM nokey MAXLEN 0",
                              "XTRIM s MAXLEN x", "XTRIM s MAXLEN -1", "XTRIM s FOO 1",
                              "XTRIM s MAXLEN = 1 LIMIT 1", "XTRIM s MINID bad"],
    "xtrim_approx": fill("s", 350) + ["XTRIM s MAXLEN ~ 120", "XLEN s", "XTRIM s MINID ~ 290",
                                      "XLEN s", "XTRIM s MAXLEN ~ 0 LIMIT 10", "XLEN s",
                                      "XTRIM s MAXLEN ~ 0 LIMIT 200", "XLEN s"],
    # ---------------------------------------------------------------- XSETID
    "xsetid": fill("s", 3) + ["XSETID s 1", "XSETID s 5", "XADD s 4 a b", "XSETID s 99 ENTRIESADDED 0",
                              "XSETID s 99 ENTRIESADDED 3 MAXDELETEDID 5", "XADD s 98 a b",
                              "XSETID s 99 MAXDELETEDID 100", "XSETID s 99 ENTRIESADDED -1",
                              "XSETID s x", "XSETID nokey 1", "XSETID s 100 ENTRIESADDED 9",
                              "XDEL s 1-1", "XSETID s 100 MAXDELETEDID 50", "XSETID s 10",
                              "XSETID s 100 FOO 1", "XINFO STREAM s"],
    # ----------------------------------------------------------------- XREAD
    "xread": fill("s", 5) + ["XREAD STREAMS s 0", "XREAD COUNT 2 STREAMS s 0", "XREAD STREAMS s 3",
                             "XREAD STREAMS s $", "XREAD STREAMS s 5-1", "XREAD STREAMS s nokey 0 0",
                             "XREAD COUNT 1 STREAMS s s 0 2", "XREAD STREAMS nokey 0",
                             "XREAD STREAMS s", "XREAD STREAMS s t 0", "XREAD STREAMS",
                             "XREAD COUNT 1 STREAMS s", "XREAD STREAMS s >", "XREAD STREAMS s x",
                             "XREAD COUNT x STREAMS s 0", "XREAD COUNT -1 STREAMS s 4",
                             "XREAD BLOCK -1 STREAMS s 0", "XREAD BLOCK x STREAMS s 0",
                             "XREAD BLOCK 10 STREAMS s $", "XREAD BLOCK 10 STREAMS nokey 0",
                             "XREAD FOO STREAMS s 0", "SET str x", "XREAD STREAMS str 0",
                             "XREAD STREAMS s str 0 0", "MULTI", "XREAD BLOCK 0 STREAMS s $",
                             "EXEC"],
    # ---------------------------------------------------------------- groups
    "xgroup": ["XGROUP CREATE s g $", "XGROUP CREATE s g $ MKSTREAM", "XGROUP CREATE s g $ MKSTREAM",
               "XGROUP CREATE s g2 0 ENTRIESREAD -5", "XGROUP CREATE s g3 0 ENTRIESREAD 2",
               "XGROUP CREATE s g4 x", "XGROUP CREATE s g5 0 FOO", "XGROUP CREATE nokey g 0",
               "XGROUP SETID s g 0 ENTRIESREAD 3", "XGROUP SETID s nog 0", "XGROUP SETID s g $",
               "XGROUP SETID s g x", "XGROUP CREATECONSUMER s g c9", "XGROUP CREATECONSUMER s g c9",
               "XGROUP CREATECONSUMER s nog c", "XGROUP DELCONSUMER s g c9",
               "XGROUP DELCONSUMER s g zz", "XGROUP DESTROY s g3", "XGROUP DESTROY s g3",
               "XGROUP DESTROY nokey g", "XGROUP FOO s g", "SET str x", "XGROUP CREATE str g 0",
               "XINFO GROUPS s", "XGROUP CREATE s g6 0 ENTRIESREAD -1", "XINFO GROUPS s"],
    "xreadgroup": ["XGROUP CREATE s g $ MKSTREAM"] + fill("s", 5) + [
        "XREADGROUP GROUP g c1 COUNT 2 STREAMS s >", "XREADGROUP GROUP g c2 STREAMS s >",
        "XREADGROUP GROUP g c1 STREAMS s 0", "XREADGROUP GROUP g c1 COUNT 1 STREAMS s 1-1",
        "XREADGROUP GROUP g c1 STREAMS s $", "XREAD STREAMS s >",
        "XREADGROUP GROUP nog c STREAMS s >", "XREADGROUP GROUP g c STREAMS nokey >",
        "XREADGROUP GROUP g c STREAMS s", "XREADGROUP GROUP g c STREAMS s x",
        "XREADGROUP COUNT 1 NOACK STREAMS s >", "XREADGROUP COUNT 1 GROUP g c4 STREAMS s 0",
        "XREADGROUP COUNT 1 GROUP g c GROUP nog c2 STREAMS s >", "XREAD GROUP g c STREAMS s >",
        "XREAD NOACK STREAMS s 0", "XREAD COUNT 1 NOACK STREAMS s 0",
        "XREADGROUP GROUP g c3 NOACK STREAMS s 0", "XREADGROUP GROUP g c STREAMS s >",
        "XADD s 6-1 f 6", "XADD s 7-1 f 7", "XREADGROUP GROUP g c3 NOACK STREAMS s >",
        "XDEL s 3-1", "XREADGROUP GROUP g c2 STREAMS s 0", P("XPENDING s g - + 10"),
        "XPENDING s g", M("XINFO CONSUMERS s g"), "XINFO GROUPS s", M("XINFO STREAM s")],
    "xack_xpending": ["XGROUP CREATE s g $ MKSTREAM"] + fill("s", 5) + [
        "XREADGROUP GROUP g c1 COUNT 2 STREAMS s >", "XREADGROUP GROUP g c2 STREAMS s >",
        "XPENDING s g", P("XPENDING s g - + 10"), P("XPENDING s g - + 10 c2"),
        P("XPENDING s g - + 1"), P("XPENDING s g (1-1 (5-1 10"), "XPENDING s g IDLE 100000 - + 10",
        "XPENDING s g - + 10 nobody", "XPENDING s nog", "XPENDING nokey g",
        "XPENDING s g - + x", "XPENDING s g x + 1", "XPENDING s g IDLE 5 - + 10 c1 x y",
        "XPENDING s g IDLE x - + 1", "XPENDING s g - +",
        "XACK s g 1-1 2-1 9-9", "XACK s g 1-1", "XACK s g bad", "XACK s nog 1-1",
        "XACK nokey g 1-1", "XPENDING s g", "XACK s g 3-1 4-1 5-1", "XPENDING s g"],
    "xclaim": ["XGROUP CREATE s g $ MKSTREAM"] + fill("s", 5) + [
        "XREADGROUP GROUP g c1 COUNT 2 STREAMS s >", "XREADGROUP GROUP g c2 STREAMS s >",
        "XACK s g 1-1", "XCLAIM s g c3 0 3-1 4-1 JUSTID", "XCLAIM s g c3 0 3-1 RETRYCOUNT 7",
        P("XPENDING s g - + 10"), "XCLAIM s g c3 0 1-1 FORCE JUSTID", "XCLAIM s g c3 bad 1-1",
        "XCLAIM s g c3 0 1-1 IDLE x", "XCLAIM s g c3 0 1-1 foo", "XCLAIM s g c3 0 1-1 TIME x",
        "XCLAIM s g c3 0 1-1 RETRYCOUNT x", "XCLAIM s nog c 0 1-1", "XCLAIM nokey g c 0 1-1",
        "XCLAIM s g c4 3600000 2-1", "XCLAIM s g c4 0 9-9 FORCE", "XCLAIM s g c4 0 2-1 LASTID 10-1",
        "XINFO GROUPS s", "XDEL s 5-1", "XCLAIM s g c4 0 5-1", P("XPENDING s g - + 10"),
        "XCLAIM s g c4 0 1-1 IDLE 10 TIME 20 JUSTID", M("XINFO CONSUMERS s g")],
    "xautoclaim": ["XGROUP CREATE s g $ MKSTREAM"] + fill("s", 6) + [
        "XREADGROUP GROUP g c1 STREAMS s >", "XDEL s 4-1", "XAUTOCLAIM s g c4 0 0 COUNT 2",
        "XAUTOCLAIM s g c4 0 0 COUNT 10", "XAUTOCLAIM s g c4 0 0 COUNT 1 JUSTID",
        "XAUTOCLAIM s g c4 0 (2-1", "XAUTOCLAIM s g c5 3600000 0", "XAUTOCLAIM s nog c 0 0",
        "XAUTOCLAIM s g c 0 0 COUNT 0", "XAUTOCLAIM s g c x 0", "XAUTOCLAIM s g c 0 x",
        "XAUTOCLAIM s g c 0 0 FOO", "XAUTOCLAIM nokey g c 0 0", P("XPENDING s g - + 10"),
        "XPENDING s g"],
    "xinfo": ["XINFO STREAM nokey", "XINFO GROUPS nokey", "XINFO CONSUMERS nokey g",
              "XGROUP CREATE s g $ MKSTREAM", M("XINFO STREAM s"), "XINFO CONSUMERS s nog"] +
             fill("s", 3) + ["XREADGROUP GROUP g c COUNT 1 STREAMS s >", M("XINFO STREAM s"),
                             F("XINFO STREAM s FULL"), F("XINFO STREAM s FULL COUNT 1"),
                             F("XINFO STREAM s FULL COUNT 0"), "XINFO STREAM s FULL COUNT x",
                             "XINFO FOO s", "SET str x", "XINFO STREAM str"],
    "xinfo_lag": ["XADD s 1-1 a 1", "XADD s 2-1 a 1", "XADD s 3-1 a 1", "XGROUP CREATE s g 0",
                  "XGROUP CREATE s g2 $", "XINFO GROUPS s", "XREADGROUP GROUP g c COUNT 1 STREAMS s >",
                  "XINFO GROUPS s", "XDEL s 2-1", "XINFO GROUPS s",
                  "XREADGROUP GROUP g c STREAMS s >", "XINFO GROUPS s", "XADD s 4-1 a 1",
                  "XINFO GROUPS s", "XGROUP SETID s g 0", "XINFO GROUPS s",
                  "XGROUP SETID s g 1-1 ENTRIESREAD 1", "XINFO GROUPS s"],
    "help": ["XGROUP HELP", "XINFO HELP", "XGROUP HELP x", "XINFO HELP x", "XGROUP", "XINFO"],
    "wrongtype": ["SET str x", "XLEN str", "XRANGE str - +", "XREVRANGE str + -", "XDEL str 1",
                  "XTRIM str MAXLEN 1", "XSETID str 1", "XACK str g 1", "XPENDING str g",
                  "XCLAIM str g c 0 1", "XAUTOCLAIM str g c 0 0",
                  "XREADGROUP GROUP g c STREAMS str >", "XINFO GROUPS str"],
    # which error wins when several words are wrong, and what is read at
    # all: Redis looks XDEL's and XACK's key up before the ids, reads
    # XRANGE's ids before its options, XAUTOCLAIM's group after its
    # options, XCLAIM's options after the group and the ids, and XPENDING
    # counts its words (9 at most) and ignores those past the consumer
    "error_order": ["SET k 1", "XADD st 1-1 a b", "XGROUP CREATE st g 0",
        "XAUTOCLAIM nokey g c x 0",
        "XAUTOCLAIM nokey g c 1 bad",
        "XAUTOCLAIM nokey g c 1 0 COUNT 0",
        "XAUTOCLAIM k g c 1 0",
        "XAUTOCLAIM st nog c x 0",
        "XAUTOCLAIM st nog c 1 bad",
        "XAUTOCLAIM st nog c 1 0 junk",
        "XAUTOCLAIM st g c 1 0 junk",
        "XAUTOCLAIM st g c 1 bad junk",
        "XAUTOCLAIM st g c x bad junk",
        "XAUTOCLAIM st g c 1 0 COUNT",
        "XAUTOCLAIM st g c 1 0 COUNT x",
        "XAUTOCLAIM st g c 1 0 COUNT 0",
        "XAUTOCLAIM st g c 1 (0 JUSTID JUSTID",
        "XCLAIM nokey g c x 1-1",
        "XCLAIM nokey g c 1 1-1 IDLE x",
        "XCLAIM st nog c 1 1-1 IDLE x",
        "XCLAIM st g c 1 1-1 IDLE x",
        "XCLAIM st g c 1 1-1 IDLE",
        "XCLAIM st g c 1 1-1 bad",
        "XCLAIM st g c 1 bad 1-1",
        "XCLAIM st g c 1 1-1 IDLE 1 bad",
        "XCLAIM st g c 1 1-1 LASTID bad",
        "XCLAIM st g c 1 1-1 LASTID",
        "XCLAIM st g c 1 1-1 RETRYCOUNT x FORCE",
        "XCLAIM st g c 1 1-1 TIME x",
        "XCLAIM st g c x bad IDLE x",
        "XCLAIM k g c 1 1-1",
        "XRANGE nokey - + junk",
        "XRANGE nokey bad + junk",
        "XRANGE k - + COUNT x",
        "XRANGE st - + COUNT",
        "XRANGE st - + COUNT 1 COUNT 2",
        "XRANGE st (bad + COUNT 1",
        "XREVRANGE st + - COUNT x junk",
        "XREVRANGE st bad - junk",
        "XPENDING st g - + 1 c junk",
        "XPENDING st g - + 1 c junk more",
        "XPENDING st g IDLE 1 - + 1 c junk",
        "XPENDING nokey g - + 1 c junk",
        "XPENDING st g - + 1 c",
        "XDEL k bad",
        "XDEL nokey 1-1 bad",
        "XACK k g bad",
        "XACK st g 1-1 bad",
        "XPENDING st g - + 1 c a b c",
        "XPENDING st g IDLE 1 - + 1 c",
        "XPENDING st g IDLE 1 - + 1",
        "XPENDING st g - + 1 c a",
        "XCLAIM st g c 1 1-1 IDLE x bad",
        "XCLAIM st g c 1 1-1 FORCE JUSTID LASTID 0-1",
        "XCLAIM st g c 0 1-1 2-2 IDLE 5 RETRYCOUNT 1 TIME 0 FORCE JUSTID",  # min-idle 0: no clock race
        "XADD s * a",
        "XADD s * a b c",
        "XADD s bad a",
        "XADD s bad a b",
        "XADD s MAXLEN x * a b",
        "XADD s MAXLEN 1 bad a",
        "XADD s MAXLEN 1 * a",
        "XADD s NOMKSTREAM bad",
        "XADD s MAXLEN = 1 LIMIT 5 * a b",
        "XADD k * a b",
        "XADD k bad a b",
        "XADD s 0-0 a b",
        "XSETID st bad junk",
        "XSETID st 5-5 junk",
        "XSETID st 5-5 ENTRIESADDED x",
        "XSETID st bad ENTRIESADDED x",
        "XSETID k bad",
        "XSETID k 5-5 junk",
        "XSETID nokey bad",
        "XAUTOCLAIM k g c 1 0 junk",
        "XAUTOCLAIM k g c x 0",
        "XAUTOCLAIM k g c 1 bad",
        "XAUTOCLAIM k g c 1 0 COUNT x",
        "XTRIM k MAXLEN x",
        "XTRIM st MAXLEN 1 junk",
        "XTRIM st bad 1",
        "XTRIM k bad 1",
        "XTRIM st MINID bad junk",
        "XTRIM st MAXLEN ~ 1 LIMIT x",
        "XGROUP CREATE k g $",
        "XGROUP CREATE st g bad junk",
        "XGROUP CREATE st g2 $ junk",
        "XGROUP CREATE nokey g $",
        "XGROUP CREATE nokey g bad MKSTREAM",
        "XGROUP SETID k g $",
        "XGROUP SETID st nog bad",
        "XGROUP SETID st g $ ENTRIESREAD x",
        "XGROUP SETID st g bad ENTRIESREAD x",
        "XGROUP DESTROY k g",
        "XGROUP DELCONSUMER st nog c",
        "XINFO STREAM k",
        "XINFO STREAM st FULL COUNT x junk",
        "XINFO STREAM nokey FULL COUNT x",
        "XINFO CONSUMERS st nog",
        "XINFO GROUPS nokey",
        "XREADGROUP GROUP g c STREAMS st bad",
        "XREADGROUP GROUP g c STREAMS k >",
        "XREADGROUP GROUP nog c STREAMS st >",
        "XREADGROUP GROUP g c COUNT x STREAMS st >",
        "XREADGROUP GROUP g c STREAMS st",
        "XREAD STREAMS st k 0 bad",
        "XREAD STREAMS k st 0 bad",
        "XREAD COUNT 1 BLOCK x STREAMS st 0",
        "XREAD STREAMS st $ junk",
        "XINFO STREAM st junk",
        "XINFO STREAM st FULL junk",
        "XINFO STREAM st FULL COUNT",
        "XINFO STREAM st FULL COUNT 1 junk",
        "XINFO STREAM nokey junk",
        "XINFO STREAM nokey FULL junk",
        "XINFO STREAM k FULL",
        "XINFO STREAM k FULL COUNT x",
        "XINFO STREAM st FULL COUNT x",
        "XINFO STREAM st COUNT 1",
        "XTRIM st MINID bad junk",
        "XTRIM st MAXLEN x junk",
        "XTRIM st MAXLEN 1 junk",
        "XTRIM st MINID 0 LIMIT x junk",
        "XTRIM st junk 1",
        "XTRIM nokey MINID bad",
        "XTRIM k MAXLEN 1 junk",
        "XTRIM k MAXLEN x",
        "XTRIM st MAXLEN -1",
        "XTRIM st MAXLEN = 1 LIMIT 5",
        "XTRIM st MAXLEN ~ 1 LIMIT -1"],
    "copy_rename": fill("s", 3) + ["XGROUP CREATE s g 0", "XREADGROUP GROUP g c STREAMS s >",
                                   "COPY s s2", "XRANGE s2 - +", "XPENDING s2 g", "XACK s2 g 1-1",
                                   "XPENDING s g", "RENAME s2 s3", "XLEN s3", "DEL s", "EXISTS s"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_streams(diff, name):
    diff(cmds(*CASES[name]))


RESP3_CASES = ["xread", "xreadgroup", "xinfo", "xinfo_lag", "xrange", "xack_xpending", "xautoclaim"]


@pytest.mark.parametrize("name", RESP3_CASES)
def test_streams_resp3(diff, name):
    diff.resp3(cmds(*CASES[name]))


def test_node_limits_follow_config(diff):
    for entries, nbytes in (("5", "4096"), ("0", "100"), ("100", "0"), ("3", "60")):
        with_config(diff, [("stream-node-max-entries", entries), ("stream-node-max-bytes", nbytes)],
                    cmds(*fill("s", 40), "XDEL s 3-1 7-1", "XTRIM s MAXLEN ~ 20", "XLEN s",
                         "XRANGE s - + COUNT 3", "XTRIM s MINID 30", "XRANGE s - + COUNT 2",
                         "DUMP s"))


def test_radix_tree_nodes_as_redis(diff):
    """XINFO STREAM's radix-tree-nodes is the count Redis's rax has: a node
    per stream node id, per branch and per child of a branch (and one more
    for the rest of a child's edge), through splits and node deletions."""
    ids = ["1-0", "2-0", "171-2", "329-0", "330-0", "70000-1", "70000-2", "4294967296-0",
           "4294967297-5"]
    seq = ["XADD s %s f v" % i for i in ids]
    with_config(diff, [("stream-node-max-entries", "1")],
                cmds(*[x for a in seq for x in (a, "XINFO STREAM s")],
                     "XDEL s 171-2", "XINFO STREAM s", "XDEL s 1-0 70000-1", "XINFO STREAM s",
                     "XTRIM s MAXLEN 3", "XINFO STREAM s", "XTRIM s MAXLEN 0",
                     "XINFO STREAM s"))


def test_dump_payload_identical(diff):
    seq = cmds(*fill("s", 300), "XADD s 301-1 other 1 x 2", "XDEL s 5-1 7-1 200-1",
               "XTRIM s MAXLEN = 250", "XADD s 302-1 f 1 name 2", "XSETID s 400-0", "DUMP s",
               "XADD e 1-1 a b", "XDEL e 1-1", "DUMP e")
    diff(seq)


def test_restore_redis_dump_with_groups(keel, oracle):
    rk = redis.Redis(port=keel.port)
    ro = redis.Redis(port=oracle.port)
    for c in (rk, ro):
        c.flushall()
    for i in range(1, 150):
        ro.xadd("s", {"f": i, "g": "x" * (i % 7)}, id="%d-1" % i)
    ro.xgroup_create("s", "g", id="0")
    ro.xreadgroup("g", "alice", {"s": ">"}, count=10)
    ro.xreadgroup("g", "bob", {"s": ">"}, count=5)
    ro.xdel("s", "3-1")
    payload = ro.dump("s")
    rk.restore("s", 0, payload)
    assert rk.xrange("s") == ro.xrange("s")
    assert rk.xpending("s", "g") == ro.xpending("s", "g")
    assert rk.xinfo_groups("s") == ro.xinfo_groups("s")
    # and back: Keel's DUMP restores into Redis with the same content
    ro.restore("s2", 0, rk.dump("s"))
    def pel(c, k):
        return [(p["message_id"], p["consumer"], p["times_delivered"])
                for p in c.xpending_range(k, "g", "-", "+", 100)]
    assert pel(ro, "s2") == pel(ro, "s") == pel(rk, "s")
    assert ro.xinfo_stream("s2")["entries-added"] == rk.xinfo_stream("s")["entries-added"]


def _populate_groups(c):
    for i in range(1, 260):
        c.xadd("big", {"f": i, "name": "v%d" % i}, id="%d-1" % i)
    c.xdel("big", "10-1", "11-1")
    c.xadd("empty", {"a": "b"}, id="1-1")
    c.xdel("empty", "1-1")
    c.xgroup_create("big", "g1", id="0")
    c.xgroup_create("big", "g2", id="$")
    c.xreadgroup("g1", "alice", {"big": ">"}, count=20)
    c.xreadgroup("g1", "bob", {"big": ">"}, count=3)
    c.xack("big", "g1", "1-1", "2-1")
    c.xgroup_createconsumer("big", "g1", "idle-one")
    c.xadd("plain", {"x": "1"}, id="5-5")


def _snapshot(c):
    out = {}
    for k in (b"big", b"empty", b"plain"):
        info = c.xinfo_stream(k)
        info.pop("radix-tree-nodes", None)
        groups = c.xinfo_groups(k)
        out[k] = (c.xrange(k), info, groups,
                  [(g["name"], c.xpending(k, g["name"]),
                    [(p["message_id"], p["consumer"], p["times_delivered"])
                     for p in c.xpending_range(k, g["name"], "-", "+", 1000)],
                    sorted(x["name"] for x in c.xinfo_consumers(k, g["name"])))
                   for g in groups])
    return out


def test_rdb_redis_to_keel_and_back(tmpdir_rdb, servers):  # noqa: F811
    r = servers("redis", tmpdir_rdb)
    _populate_groups(r.client())
    want = _snapshot(r.client())
    assert r.client().save()
    r.stop()
    k = servers("keel", tmpdir_rdb)
    assert _snapshot(k.client()) == want
    assert k.client().save()
    k.stop()
    r2 = servers("redis", tmpdir_rdb)
    assert _snapshot(r2.client()) == want


def test_rdb_keel_file_bytes_equal_redis_file(tmpdir_rdb, servers):  # noqa: F811
    """Without groups (whose times differ) the two files hold the same bytes."""
    d1, d2 = os.path.join(tmpdir_rdb, "k"), os.path.join(tmpdir_rdb, "r")
    os.mkdir(d1)
    os.mkdir(d2)
    k, r = servers("keel", d1), servers("redis", d2)
    for c in (k.client(), r.client()):
        for i in range(1, 400):
            c.xadd("s", {"f": i, "name": "v%d" % i}, id="%d-%d" % (i // 3, i % 3))
        c.xdel("s", "5-1", "50-0")
        c.xtrim("s", maxlen=350, approximate=False)
        assert c.save()
    fk = open(os.path.join(d1, "dump.rdb"), "rb").read()
    fr = open(os.path.join(d2, "dump.rdb"), "rb").read()
    i = fk.find(b"\x13\x01s")
    j = fr.find(b"\x13\x01s")
    assert i > 0 and j > 0
    assert fk[i:-9] == fr[j:-9]


def test_aof_replays_groups(tmpdir_rdb, servers):  # noqa: F811
    k = servers("keel", tmpdir_rdb, extra=["--appendonly", "yes", "--appendfsync", "always"])
    c = k.client()
    for i in range(1, 30):
        c.xadd("s", {"f": i})
    c.xadd("s", {"f": "t"}, maxlen=5, approximate=True)
    c.xadd("s", {"f": "t2"}, minid="0-1", approximate=False)
    c.xgroup_create("s", "g", id="0")
    c.xreadgroup("g", "a", {"s": ">"}, count=3)
    c.xreadgroup("g", "b", {"s": ">"}, count=2, noack=True)
    first = c.xrange("s")[0][0]
    c.xclaim("s", "g", "z", 0, [first])
    c.xautoclaim("s", "g", "y", 0, "0-0", count=1)
    c.xgroup_setid("s", "g", "$")
    c.xgroup_create("s", "g2", id="0")
    c.xreadgroup("g2", "q", {"s": ">"}, count=1)
    c.xack("s", "g2", c.xrange("s")[0][0])
    want = _snapshot_one(c, "s")
    # g2 was read without NOACK: Redis 7.0 logs that read as XCLAIM ... LASTID,
    # which does not carry entries-read (no XGROUP SETID ... ENTRIESREAD), so
    # a replay leaves it unknown (redis-server 7.0.15 does the same)
    want[2][1] = want[2][1][:2] + (None,) + want[2][1][3:]
    k.stop()
    k2 = servers("keel", tmpdir_rdb, extra=["--appendonly", "yes"])
    assert _snapshot_one(k2.client(), "s") == want
    k2.client().bgrewriteaof()
    time.sleep(1.5)
    k2.stop()
    k3 = servers("keel", tmpdir_rdb, extra=["--appendonly", "yes"])
    assert _snapshot_one(k3.client(), "s") == want


def _snapshot_one(c, k):
    info = c.xinfo_stream(k)
    info.pop("radix-tree-nodes", None)
    return (c.xrange(k), info, [
        (g["name"], g["last-delivered-id"], g["entries-read"], g["pending"],
         [(p["message_id"], p["consumer"], p["times_delivered"])
          for p in c.xpending_range(k, g["name"], "-", "+", 1000)])
        for g in c.xinfo_groups(k)])


# ------------------------------------------------------------------ blocking


def _blocked(conn, *cmd):
    conn.send(harness.encode(list(cmd)))


def test_xread_block_wakes_in_arrival_order(keel):
    with RawConn(keel.port) as a, RawConn(keel.port) as b, RawConn(keel.port) as w:
        w.call("DEL", "bs")
        _blocked(a, "XREAD", "BLOCK", "0", "STREAMS", "bs", "$")
        time.sleep(0.1)
        _blocked(b, "XREAD", "BLOCK", "0", "STREAMS", "other", "bs", "$", "$")
        time.sleep(0.1)
        assert w.call("XADD", "bs", "5-1", "f", "v") == b"$3\r\n5-1\r\n"
        ra, rb = parse_one(a.read_reply())[0], parse_one(b.read_reply())[0]
        assert ra == [[b"bs", [[b"5-1", [b"f", b"v"]]]]]
        assert rb == ra
        # "$" meant the last id at the time of blocking: nothing older comes back
        _blocked(a, "XREAD", "BLOCK", "0", "STREAMS", "bs", "$")
        time.sleep(0.1)
        w.call("XADD", "bs", "6-1", "f", "w")
        assert parse_one(a.read_reply())[0] == [[b"bs", [[b"6-1", [b"f", b"w"]]]]]


def test_xread_woken_serves_the_ready_key_alone(diff):
    got = {}
    for name, port in diff.ports.items():
        with RawConn(port) as a, RawConn(port) as w:
            w.call("DEL", "ka", "kb")
            _blocked(a, "XREAD", "BLOCK", "0", "STREAMS", "ka", "kb", "$", "$")
            time.sleep(0.1)
            w.call("MULTI")
            w.call("XADD", "kb", "1-1", "f", "v")
            w.call("XADD", "ka", "1-1", "f", "v")
            w.call("EXEC")
            got[name] = a.read_reply(timeout=2)
    assert got["keel"] == got["redis"], got


def test_xread_block_timeout_and_wrong_type_stays_blocked(keel):
    with RawConn(keel.port) as a, RawConn(keel.port) as w:
        w.call("DEL", "bt")
        t0 = time.monotonic()
        assert a.call("XREAD", "BLOCK", "150", "STREAMS", "bt", "0") == b"*-1\r\n"
        assert time.monotonic() - t0 >= 0.14
        _blocked(a, "XREAD", "BLOCK", "300", "STREAMS", "bt", "0")
        time.sleep(0.05)
        w.call("SET", "bt", "x")
        assert a.read_reply(timeout=2) == b"*-1\r\n"
        w.call("DEL", "bt")


def test_xreadgroup_block_and_group_destroyed_or_key_deleted(diff):
    for final in (["XGROUP", "DESTROY", "s", "g"], ["DEL", "s"]):
        got = {}
        for name, port in diff.ports.items():
            with RawConn(port) as a, RawConn(port) as w:
                w.call("FLUSHALL")
                w.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
                _blocked(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
                time.sleep(0.1)
                w.call("XADD", "s", "1-1", "a", "b")
                first = a.read_reply(timeout=2)
                _blocked(a, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
                time.sleep(0.1)
                w.call(*final)
                got[name] = (first, a.read_reply(timeout=2), w.call("XPENDING", "s", "g"))
        assert got["keel"] == got["redis"], got


def test_xread_block_over_http(keel):
    port = harness.free_port()
    srv = Srv("keel", tempfile.mkdtemp(prefix="keel-xhttp-"), extra=["--http-port", str(port)])
    srv.start()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /XREAD/BLOCK/0/STREAMS/hs/$ HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        c = srv.client()
        c.xadd("hs", {"f": "v"}, id="7-1")
        data = b""
        deadline = time.monotonic() + 5
        while b"7-1" not in data and time.monotonic() < deadline:
            data += s.recv(65536)
        assert b"200 OK" in data and b'"7-1"' in data and b'"f"' in data, data
        s.close()
    finally:
        srv.stop()
        shutil.rmtree(srv.workdir, ignore_errors=True)


# ------------------------------------------------------------------ events


def test_keyspace_events(keel, oracle):
    seq = ["XADD s 1-1 a b", "XADD s MAXLEN 1 2-1 a b", "XDEL s 2-1", "XDEL s 9-9",
           "XTRIM s MAXLEN 0", "XSETID s 5", "XGROUP CREATE s g 0", "XGROUP CREATE t g 0 MKSTREAM",
           "XGROUP CREATECONSUMER s g c", "XGROUP SETID s g 0", "XGROUP DELCONSUMER s g c",
           "XGROUP DESTROY s g", "XADD s 6-1 a b", "XGROUP CREATE s g2 0",
           "XREADGROUP GROUP g2 newc STREAMS s >", "XCLAIM s g2 other 0 6-1"]
    assert key_events(keel.port, seq) == key_events(oracle.port, seq)


# ------------------------------------------------------------------ random


def test_randomized_against_oracle_and_model(diff):
    rnd = random.Random(14)
    seq, model, nextid = [], {}, {}
    for step in range(600):
        k = "s%d" % rnd.randrange(3)
        op = rnd.random()
        if op < 0.5:
            ms = nextid.get(k, 1) + rnd.randrange(3)
            nextid[k] = ms + 1
            nf = rnd.randrange(1, 4)
            fields = []
            for j in range(nf):
                fields += [rnd.choice(["a", "b", "c", "17", "-3"]), str(rnd.randrange(1000))]
            seq.append(["XADD", k, "%d-1" % ms] + fields)
            model.setdefault(k, []).append(("%d-1" % ms, fields))
        elif op < 0.65 and model.get(k):
            victim = rnd.choice(model[k])[0]
            seq.append(["XDEL", k, victim])
            model[k] = [e for e in model[k] if e[0] != victim]
        elif op < 0.72 and model.get(k):
            n = rnd.randrange(len(model[k]) + 1)
            seq.append(["XTRIM", k, "MAXLEN", str(n)])
            model[k] = model[k][len(model[k]) - n:] if n else []
        elif op < 0.76:
            seq.append(["XTRIM", k, "MAXLEN", "~", str(rnd.randrange(50))])
            model.pop(k, None)
            seq.append(["DEL", k])
        elif op < 0.9:
            a, b = sorted([rnd.randrange(200), rnd.randrange(200)])
            seq.append(["XRANGE", k, str(a), str(b), "COUNT", str(rnd.randrange(1, 20))])
        else:
            seq.append(["XREVRANGE", k, "+", "-", "COUNT", str(rnd.randrange(1, 20))])
        seq.append(["XLEN", k])
    replies = diff(seq)
    # the model: final contents
    with RawConn(diff.ports["keel"]) as c:
        for k, entries in model.items():
            got = parse_one(c.call("XRANGE", k, "-", "+"))[0] or []
            assert [[e[0].encode(), [f.encode() for f in e[1]]] for e in entries] == got
    assert replies


# ------------------------------------------------------- the SSE stream tail


def _sse_read(s, want, timeout=5):
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(b"\nid: ") + data.startswith(b"id: ") < want and time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    return data


def _events(data):
    body = data.split(b"\r\n\r\n", 1)[1]
    out = []
    for block in body.split(b"\n\n"):
        lines = dict(l.split(b": ", 1) for l in block.split(b"\n") if b": " in l)
        if b"id" in lines:
            out.append((lines[b"id"], lines[b"data"]))
    return out


def test_sse_tail_from_and_last_event_id():
    port = harness.free_port()
    srv = Srv("keel", tempfile.mkdtemp(prefix="keel-xtail-"), extra=["--http-port", str(port)])
    srv.start()
    try:
        c = srv.client()
        for i in range(1, 4):
            c.xadd("t", {"n": i, "k": "v"}, id="%d-1" % i)
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /_stream/t?from=0 HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        data = _sse_read(s, 3)
        assert b"Content-Type: text/event-stream" in data
        assert _events(data) == [(b"1-1", b'{"n":"1","k":"v"}'), (b"2-1", b'{"n":"2","k":"v"}'),
                                 (b"3-1", b'{"n":"3","k":"v"}')]
        c.xadd("t", {"n": 4}, id="4-1")
        assert _events(b"\r\n\r\n" + _sse_read(s, 1)) == [(b"4-1", b'{"n":"4"}')]
        s.close()
        # a reconnect names the last id it saw
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /_stream/t?from=0 HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 2-1\r\n\r\n")
        assert [e[0] for e in _events(_sse_read(s, 2))] == [b"3-1", b"4-1"]
        s.close()
        # no position: only entries added from now on
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /_stream/t HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        c.xadd("t", {"n": 5}, id="5-1")
        assert [e[0] for e in _events(_sse_read(s, 1))] == [b"5-1"]
        s.close()
        # errors
        for path, code in ((b"/_stream/t?from=abc", b"400"), (b"/_stream/", b"404")):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert s.recv(4096).split(b" ")[1] == code
            s.close()
        c.set("str", "x")
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /_stream/str?from=0 HTTP/1.1\r\nHost: x\r\n\r\n")
        data = s.recv(4096)
        assert b"event: error" in data and b"WRONGTYPE" in data
        s.close()
        # XREAD disabled over HTTP: the tail is refused too
        c.config_set("http-disabled-commands", "XREAD")
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /_stream/t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert s.recv(4096).split(b" ")[1] == b"403"
        s.close()
    finally:
        srv.stop()
        shutil.rmtree(srv.workdir, ignore_errors=True)


# ------------------------------------------------- the WebSocket stream tail


def test_ws_tail_and_blocking_over_websocket():
    websocket = pytest.importorskip("websocket")
    import json
    port = harness.free_port()
    srv = Srv("keel", tempfile.mkdtemp(prefix="keel-xws-"), extra=["--http-port", str(port)])
    srv.start()
    try:
        c = srv.client()
        for i in range(1, 3):
            c.xadd("w", {"n": i}, id="%d-1" % i)
        ws = websocket.create_connection("ws://127.0.0.1:%d/" % port, timeout=5)
        ws.send(json.dumps({"tail": "w", "from": "1-1"}))
        assert json.loads(ws.recv()) == {"tail": "w", "id": "2-1", "fields": {"n": "2"}}
        c.xadd("w", {"n": 3, "m": "x"}, id="3-1")
        assert json.loads(ws.recv()) == {"tail": "w", "id": "3-1", "fields": {"n": "3", "m": "x"}}
        ws.close()
        # a tail of a key of another type ends with its error
        c.set("str", "v")
        ws = websocket.create_connection("ws://127.0.0.1:%d/" % port, timeout=5)
        ws.send(json.dumps({"tail": "str", "from": "0"}))
        got = json.loads(ws.recv())
        assert got["tail"] == "str" and "WRONGTYPE" in json.dumps(got["error"])
        # ... and the connection serves requests again
        ws.send(json.dumps({"id": 1, "cmd": ["XLEN", "w"]}))
        assert json.loads(ws.recv()) == {"id": 1, "reply": 3}
        ws.send(json.dumps({"tail": 5}))
        assert "error" in json.loads(ws.recv())
        # plain blocking XREAD over WebSocket, woken by a RESP client
        ws.send(json.dumps({"id": 2, "cmd": ["XREAD", "BLOCK", "0", "STREAMS", "w", "$"]}))
        time.sleep(0.2)
        c.xadd("w", {"n": 4}, id="4-1")
        assert json.loads(ws.recv()) == {"id": 2, "reply": {"w": [["4-1", ["n", "4"]]]}}
        ws.close()
    finally:
        srv.stop()
        shutil.rmtree(srv.workdir, ignore_errors=True)


def test_randomized_groups_against_oracle(diff):
    """Groups, PELs and claims driven at random: every reply compared (the
    idle times of XPENDING's extended form masked)."""
    rnd = random.Random(1414)
    seq = ["XGROUP CREATE s g1 0 MKSTREAM", "XGROUP CREATE s g2 $"]
    ms = 1
    consumers = ["alice", "bob", "carol"]
    for step in range(500):
        op = rnd.random()
        g = rnd.choice(["g1", "g2"])
        c = rnd.choice(consumers)
        if op < 0.3:
            ms += rnd.randrange(1, 3)
            seq.append("XADD s %d-1 f %d" % (ms, step))
        elif op < 0.45:
            seq.append("XREADGROUP GROUP %s %s COUNT %d STREAMS s >" % (g, c, rnd.randrange(1, 4)))
        elif op < 0.5:
            seq.append("XREADGROUP GROUP %s %s COUNT %d STREAMS s 0" % (g, c, rnd.randrange(1, 4)))
        elif op < 0.6:
            seq.append("XACK s %s %s" % (g, " ".join("%d-1" % rnd.randrange(1, ms + 2)
                                                   for _ in range(rnd.randrange(1, 4)))))
        elif op < 0.68:
            seq.append("XCLAIM s %s %s 0 %d-1 %s" % (g, c, rnd.randrange(1, ms + 2),
                                                     rnd.choice(["", "JUSTID", "RETRYCOUNT 5"])))
        elif op < 0.74:
            seq.append("XAUTOCLAIM s %s %s 0 %d COUNT %d %s" % (g, c, rnd.randrange(0, ms + 2),
                                                                rnd.randrange(1, 5),
                                                                rnd.choice(["", "JUSTID"])))
        elif op < 0.8:
            seq.append("XDEL s %d-1" % rnd.randrange(1, ms + 2))
        elif op < 0.83:
            seq.append("XTRIM s MAXLEN %d" % rnd.randrange(0, 30))
        elif op < 0.86:
            seq.append("XGROUP DELCONSUMER s %s %s" % (g, c))
        elif op < 0.88:
            seq.append("XGROUP SETID s %s %d-1" % (g, rnd.randrange(0, ms + 2)))
        elif op < 0.93:
            seq.append("XPENDING s %s" % g)
        elif op < 0.97:
            seq.append(P("XPENDING s %s - + 10 %s" % (g, rnd.choice(["", c]))))
        else:
            seq.append("XINFO GROUPS s")
    seq += ["XINFO GROUPS s", M("XINFO STREAM s"), P("XPENDING s g1 - + 1000"),
            P("XPENDING s g2 - + 1000")]
    diff(cmds(*seq))


def test_redis_aof_replays_in_keel(tmpdir_rdb, servers):  # noqa: F811
    """redis-server 7.0's own AOF of stream and group commands (approximate
    trims logged as "= <exact> LIMIT n", XREADGROUP as XCLAIM / XGROUP
    SETID) loads into Keel with the same entries and PELs."""
    r = servers("redis", tmpdir_rdb, extra=["--appendonly", "yes", "--appendfsync", "always",
                                            "--save", ""])
    c = r.client()
    for i in range(1, 400):
        c.xadd("s", {"f": i}, id="%d-1" % i)
    c.xadd("s", {"f": "t"}, maxlen=150, approximate=True, limit=200)
    c.xadd("s", {"f": "t2"}, minid="300-0", approximate=True)
    c.xtrim("s", maxlen=120, approximate=True)
    c.xgroup_create("s", "g", id="0")
    c.xreadgroup("g", "a", {"s": ">"}, count=5)
    c.xreadgroup("g", "b", {"s": ">"}, count=3, noack=True)
    c.xclaim("s", "g", "z", 0, [c.xrange("s", count=1)[0][0]])
    c.xautoclaim("s", "g", "y", 0, "0-0", count=2)
    c.xadd("s", {"f": "auto"})
    want = _snapshot_one(c, "s")
    r.stop()
    k = servers("keel", tmpdir_rdb, extra=["--appendonly", "yes"])
    assert _snapshot_one(k.client(), "s") == want


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_keel_aof_replays_in_redis(tmpdir_rdb, servers, preamble):  # noqa: F811
    """Keel's AOF (commands as propagated, and after BGREWRITEAOF the base
    file: an RDB preamble or RESTORE payloads) loads into redis-server 7.0."""
    k = servers("keel", tmpdir_rdb, extra=["--appendonly", "yes", "--appendfsync", "always",
                                           "--aof-use-rdb-preamble", preamble])
    c = k.client()
    for i in range(1, 300):
        c.xadd("s", {"f": i})
    c.xadd("s", {"f": "t"}, maxlen=150, approximate=True)
    c.xgroup_create("s", "g", id="0")
    c.xreadgroup("g", "a", {"s": ">"}, count=4)
    c.bgrewriteaof()
    time.sleep(1.5)
    c.xreadgroup("g", "b", {"s": ">"}, count=2, noack=True)
    c.xclaim("s", "g", "z", 0, [c.xrange("s", count=1)[0][0]])
    c.xautoclaim("s", "g", "y", 0, "0-0", count=1)
    c.xadd("s", {"f": "x"}, minid=c.xrange("s", count=3)[2][0], approximate=False)
    want = _snapshot_one(c, "s")
    k.stop()
    rdir = os.path.join(tmpdir_rdb, "r")
    os.mkdir(rdir)
    shutil.copytree(os.path.join(tmpdir_rdb, "appendonlydir"), os.path.join(rdir, "appendonlydir"))
    r = servers("redis", rdir, extra=["--appendonly", "yes", "--save", ""])
    assert _snapshot_one(r.client(), "s") == want
