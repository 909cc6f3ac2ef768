"""Differential tests for SORT and SORT_RO (core/commands/cmd_sort.c), Keel vs redis-server 7.0.

Lists, sets and sorted sets; numeric and ALPHA order; BY patterns (string keys,
hash fields "key->field", missing values, "nosort"); GET patterns ("#", string
keys, hash fields, missing); LIMIT edge values; ASC/DESC given several times;
STORE (a quicklist; "sortstore", or "del" when empty); errors in Redis's order.
The reply bytes must be equal. Where Redis's order is not defined (a set's own
order with BY nosort) the replies are compared as multisets. Besides the tables:
keyspace events, the sorted set's conversion to a skiplist (as Redis does for
SORT), and randomized sequences compared reply by reply (including the order of
equal elements, which follows Redis's qsort and pqsort).
"""

import random

import pytest

from harness import Cmd, Sorted, cmds
from helpers import key_events


def S(line):
    """A command whose array reply is compared as a multiset."""
    return Sorted(cmds(line)[0])


CASES = {
    "list_numeric": ["RPUSH l 3 1 2 10 5 -1 0.5 1e2", "SORT l", "SORT l DESC", "SORT l ASC",
                     "SORT l LIMIT 0 3", "SORT l LIMIT 2 3 DESC", "SORT_RO l", "SORT_RO l DESC"],
    "list_alpha": ["RPUSH l banana apple cherry Apple 10 9 ''", "SORT l ALPHA",
                   "SORT l ALPHA DESC", "SORT l ALPHA LIMIT 1 2", "SORT_RO l ALPHA", "SORT l"],
    "list_duplicates": ["RPUSH l 3 3 1 1 2 2", "SORT l", "SORT l DESC", "SORT l ALPHA"],
    "numeric_forms": ["RPUSH l ' 1' 0x10 1e3 -inf inf +5 .5 '3 ' 2", "SORT l",
                      "RPUSH m nan", "SORT m", "RPUSH p '1\x00zz' 0", "SORT p"],
    # Redis does not clear errno before strtod: after an out-of-range value
    # every later SORT of the connection's command stream fails until a
    # system call resets it; these stay last in their case.
    "numeric_out_of_range": ["RPUSH n 1e400", "SORT n", "RPUSH o 1e-400", "SORT o"],
    "numeric_ties": ["RPUSH l b a 1.0 1 01 c", "MSET w_a 1 w_b 1 w_c 1", "SORT l BY w_*",
                     "SORT l BY w_* DESC", "SORT l BY w_* LIMIT 1 3", "SORT l BY nokey_*"],
    "not_a_number": ["RPUSH l 1 a 2", "SORT l", "SORT l LIMIT 0 0", "SORT l BY nosort",
                     "SORT l ALPHA", "SORT l STORE d", "EXISTS d", "SORT l DESC ALPHA"],
    "limit_edges": ["RPUSH l 3 1 2 10 5", "SORT l LIMIT 2 9223372036854775807",
                    "SORT l LIMIT 9223372036854775807 9223372036854775807", "SORT l LIMIT -5 2",
                    "SORT l LIMIT 1 -1", "SORT l LIMIT 1 0", "SORT l LIMIT 5 1", "SORT l LIMIT 4 1",
                    "SORT l LIMIT -9223372036854775808 -9223372036854775808",
                    "SORT l LIMIT 0 1 LIMIT 1 2", "SORT l BY nosort LIMIT 2 9223372036854775807",
                    "SORT l BY nosort LIMIT 1 -1", "SORT l BY nosort LIMIT 1 2 DESC",
                    "SORT l BY nosort LIMIT 10 2", "SORT l BY nosort LIMIT 4 5 DESC"],
    "nosort_list": ["RPUSH l 3 1 2 10 5", "SORT l BY nosort", "SORT l BY nosort DESC",
                    "SORT l BY constant", "SORT l BY '#'", "SORT l BY nosort GET #",
                    "SORT l BY nosort STORE d", "LRANGE d 0 -1"],
    "order_repeated": ["RPUSH l 3 1 2", "SORT l ASC DESC", "SORT l DESC ASC", "SORT l DESC DESC",
                       "SORT l ALPHA ALPHA DESC", "SORT l DESC LIMIT 0 1 ASC"],
    "by_string_keys": ["RPUSH l 1 2 3 4", "MSET w_1 40 w_2 30 w_3 20 w_4 10", "SORT l BY w_*",
                       "SORT l BY w_* DESC", "SORT l BY w_* LIMIT 1 2", "SORT l BY w_* ALPHA",
                       "SET w_3 abc", "SORT l BY w_*", "SORT l BY w_* ALPHA",
                       "DEL w_3", "SORT l BY w_*", "SORT l BY w_* ALPHA", "RPUSH w_2 x",
                       "SORT l BY w_*", "SORT l BY *", "SORT l BY w_*_suffix"],
    "by_hash_fields": ["RPUSH l 1 2 3", "HSET h_1 f 30 g b", "HSET h_2 f 10 g c",
                       "HSET h_3 f 20 g a", "SORT l BY h_*->f", "SORT l BY h_*->g ALPHA",
                       "SORT l BY h_*->g", "SORT l BY h_*->nofield", "SORT l BY h_*->",
                       "SORT l BY h_*->f DESC LIMIT 0 2", "SET h_2 x", "SORT l BY h_*->f",
                       "SORT l BY h->*", "SORT l BY h_*->f->g"],
    "by_alpha_ties": ["RPUSH l e d c b a", "MSET w_a x w_b x w_c y w_d x", "SORT l BY w_* ALPHA",
                      "SORT l BY w_* ALPHA DESC", "SORT l BY w_* ALPHA LIMIT 1 3",
                      "SORT l BY w_* ALPHA LIMIT 0 2 DESC", "SORT l BY nokey_* ALPHA",
                      "SORT l BY nokey_* ALPHA LIMIT 2 2", "SORT l BY w_* ALPHA STORE d",
                      "LRANGE d 0 -1"],
    "get_patterns": ["RPUSH l 1 2 3", "MSET o_1 one o_2 two", "HSET h_1 f x", "HSET h_3 f z",
                     "SORT l GET #", "SORT l GET o_*", "SORT l GET # GET o_* GET h_*->f",
                     "SORT l GET nostar", "SORT l GET h_*->", "SORT l GET h_*->nofield",
                     "SORT l GET o_* DESC LIMIT 0 2", "SORT l BY nosort GET o_*",
                     "SORT l GET GET", "SORT_RO l GET # GET o_*", "RPUSH o_3 x", "SORT l GET o_*"],
    "get_int_and_long_values": ["RPUSH l 1 2", "SET o_1 12345", "SET o_2 " + "v" * 100,
                                "HSET h_1 f 77", "SORT l GET o_* GET h_*->f GET #"],
    "store": ["RPUSH l 3 1 2", "SORT l STORE d", "LRANGE d 0 -1", "TYPE d", "OBJECT ENCODING d",
              "SORT l DESC STORE d", "LRANGE d 0 -1", "SORT l GET # GET nokey_* STORE d",
              "LRANGE d 0 -1", "LLEN d", "SORT l LIMIT 5 5 STORE d", "EXISTS d",
              "SORT nokey STORE d", "SET d x", "SORT nokey STORE d", "EXISTS d",
              "SET d x EX 100", "SORT l STORE d", "TTL d", "SORT l STORE l", "LRANGE l 0 -1"],
    "store_overwrites_other_types": ["RPUSH l 2 1", "SADD d a", "SORT l STORE d", "TYPE d",
                                     "HSET d2 a 1", "SORT l STORE d2", "LRANGE d2 0 -1"],
    "sets": ["SADD s 5 3 1 2 10 4", "SORT s", "SORT s DESC LIMIT 1 3", "SORT s ALPHA",
             "SORT s ALPHA DESC", "SORT s BY nosort STORE d", "LRANGE d 0 -1",
             "SORT s BY nosort DESC STORE d", "LRANGE d 0 -1", "SORT_RO s", "OBJECT ENCODING s"],
    "sets_strings": ["SADD s banana apple cherry 10 9", "SORT s ALPHA", "SORT s", "SORT s ALPHA LIMIT 1 2",
                     "SORT s BY nosort STORE d", "LRANGE d 0 -1", "SORT s ALPHA STORE d",
                     "LRANGE d 0 -1"],
    "sets_by_weights": ["SADD s a b c d", "MSET w_a 4 w_b 1 w_c 3 w_d 2", "SORT s BY w_*",
                        "SORT s BY w_* DESC GET # GET w_*", "SORT s BY w_* LIMIT 1 2"],
    "zsets": ["ZADD z 1 a 2 b 3 c 0 d 10 e", "OBJECT ENCODING z", "SORT z ALPHA",
              "OBJECT ENCODING z", "ZRANGE z 0 -1", "SORT z BY nosort", "SORT z BY nosort DESC",
              "SORT z BY nosort LIMIT 1 2", "SORT z BY nosort DESC LIMIT 1 2", "SORT z",
              "SORT z BY nosort LIMIT 9 2", "SORT z BY nosort DESC STORE d", "LRANGE d 0 -1"],
    "zsets_numeric": ["ZADD z 1 10 2 9 3 8 4 100", "SORT z", "SORT z DESC", "SORT z ALPHA",
                      "SORT z BY nosort GET #", "ZADD y 1 x", "SORT_RO y BY nosort",
                      "OBJECT ENCODING y"],
    "missing_key": ["SORT nokey", "SORT nokey ALPHA", "SORT nokey BY nosort LIMIT 0 1",
                    "SORT nokey GET #", "SORT_RO nokey", "SORT nokey STORE d", "EXISTS d"],
    "errors": ["RPUSH l 1 2", "SORT l LIMIT a 1 foo", "SORT l foo LIMIT a 1", "SORT l BY",
               "SORT l LIMIT 1", "SORT l LIMIT 1 b", "SORT l STORE", "SORT l GET", "SORT l foo",
               "SORT_RO l STORE x", "SORT_RO l foo", "SET s x", "SORT s", "SORT s LIMIT 0 1",
               "SORT s foo", "HSET h a 1", "SORT h", "SORT_RO h", "SORT", "SORT_RO",
               "SORT l LIMIT 1.5 1", "SORT l LIMIT 1 9223372036854775808"],
    "error_order": ["SET s x", "SORT s LIMIT a 1", "SORT s foo", "SORT nokey LIMIT a 1"],
    "long_list": ["RPUSH l " + " ".join(str((i * 7919) % 1000) for i in range(700)),
                  "SORT l LIMIT 100 10", "SORT l DESC LIMIT 690 20", "SORT l ALPHA LIMIT 0 5",
                  "SORT l BY nosort LIMIT 650 5 DESC"],
}

# Replies whose order Redis leaves to the set's hash table.
SORTED_CASES = {
    "set_nosort": ["SADD s a b c d e", S("SORT s BY nosort"), S("SORT s BY nosort DESC"),
                   S("SORT s BY nosort GET #"), "SCARD s"],
    "set_nosort_int": ["SADD s 5 3 1", S("SORT s BY nosort"), S("SORT_RO s BY nosort")],
}

RESP3_CASES = ["get_patterns", "store", "errors", "zsets"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_sort(diff, name):
    diff(cmds(*CASES[name]))


@pytest.mark.parametrize("name", sorted(SORTED_CASES))
def test_sort_unordered(diff, name):
    diff([c if isinstance(c, Cmd) else cmds(c)[0] for c in SORTED_CASES[name]])


@pytest.mark.parametrize("name", RESP3_CASES)
def test_sort_resp3(diff, name):
    diff.resp3(cmds(*CASES[name]))


def test_big_list_store(diff):
    seq = [["RPUSH", "l"] + [str((i * 104729) % 50000) for i in range(20000)],
           ["SORT", "l", "STORE", "d"], ["LLEN", "d"], ["LRANGE", "d", "0", "20"],
           ["LRANGE", "d", "-20", "-1"], ["OBJECT", "ENCODING", "d"],
           ["SORT", "l", "ALPHA", "LIMIT", "19990", "100"]]
    diff(seq)


# Redis parses BY each time it meets it, and once a pattern without '*' was
# seen it stays "don't sort" even if a later BY has one (keel_keep_all lists
# every BY); the last BY is the one a set sorted for STORE drops.
def test_by_repeated(diff):
    diff(cmds("RPUSH l 3 1 2", "MSET w_1 3 w_2 2 w_3 1", "SORT l BY nosort BY w_*",
              "SORT l BY w_* BY nosort", "SORT_RO l BY nosort BY w_* DESC",
              "SORT l BY nosort BY w_* LIMIT 1 1", "SADD st b a c",
              "SORT st BY nosort BY w_* STORE d2", "LRANGE d2 0 -1",
              "SORT l BY w_* BY nosort ALPHA DESC"))


# ------------------------------------------------------------ events


EVENT_SEQ = ["RPUSH l 2 1", "SORT l", "SORT l STORE d", "SORT l LIMIT 9 1 STORE d",
             "SORT l LIMIT 9 1 STORE d", "SORT nokey STORE e", "ZADD z 1 a", "SORT z BY nosort",
             "SORT l STORE l", "SORT_RO l"]


def test_keyspace_events(keel, oracle):
    assert key_events(keel.port, EVENT_SEQ) == key_events(oracle.port, EVENT_SEQ)


# ------------------------------------------------------------ randomized


def _random_sort_seq(rnd, n):
    seq = []
    for _ in range(n):
        r = rnd.random()
        if r < 0.15:
            kind = rnd.choice(["list", "set", "zset"])
            size = rnd.randint(0, 30)
            pool = ([str(rnd.randint(-20, 20)) for _ in range(size)] if rnd.random() < 0.5 else
                    [rnd.choice(["a", "b", "ab", "B", "c", "10", "9", "x" * rnd.randint(1, 5)]) +
                     str(rnd.randint(0, 9)) for _ in range(size)])
            seq.append(["DEL", "src"])
            if not pool:
                continue
            if kind == "list":
                seq.append(["RPUSH", "src"] + pool)
            elif kind == "set":
                seq.append(["SADD", "src"] + pool)
            else:
                args = ["ZADD", "src"]
                for p in pool:
                    args += [str(rnd.randint(0, 5)), p]
                seq.append(args)
        elif r < 0.3:
            # weights and hash fields, with ties; sets and sorted sets only get
            # distinct weights (their own order is not Redis's)
            tie = rnd.random() < 0.5
            for el in [str(i) for i in range(-20, 21)] + ["a", "b", "ab", "B", "c", "10", "9"]:
                if rnd.random() < 0.3:
                    continue
                w = rnd.randint(0, 3) if tie else rnd.random()
                seq.append(["SET", "w_" + el + str(rnd.randint(0, 9)) if rnd.random() < 0.1 else "w_" + el,
                            str(w)])
                seq.append(["HSET", "h_" + el, "f", str(w), "g", rnd.choice(["p", "q", "r"])])
            seq.append(["TYPE", "src"])
        else:
            args = ["SORT" if rnd.random() < 0.8 else "SORT_RO", "src"]
            opts = []
            if rnd.random() < 0.4:
                opts.append(["BY", rnd.choice(["w_*", "h_*->f", "h_*->g", "nosort", "nokey_*"])])
            if rnd.random() < 0.4:
                opts.append(["LIMIT", str(rnd.randint(-2, 25)), str(rnd.randint(-2, 25))])
            for _ in range(rnd.choice([0, 0, 1, 2])):
                opts.append(["GET", rnd.choice(["#", "w_*", "h_*->f", "h_*->g", "nokey_*"])])
            if rnd.random() < 0.5:
                opts.append([rnd.choice(["ASC", "DESC"])])
            if rnd.random() < 0.5:
                opts.append(["ALPHA"])
            store = args[0] == "SORT" and rnd.random() < 0.2
            if store:
                opts.append(["STORE", "dst"])
            rnd.shuffle(opts)
            for o in opts:
                args += o
            seq.append(("?", args, store))
    return seq


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_sort(diff, seed):
    """Lists: byte-exact, ties included. Sets and sorted sets: byte-exact unless
    the order is the container's own (BY nosort) or equal sort keys meet under
    ALPHA BY (their order follows the hash table), then compared as multisets."""
    rnd = random.Random(seed)
    raw = _random_sort_seq(rnd, 400)
    out = []
    kind = None
    for item in raw:
        if isinstance(item, tuple):
            _, args, store = item
            by = args[args.index("BY") + 1] if "BY" in args else None
            alpha = "ALPHA" in args
            set_order = kind == "set" and by == "nosort" and not store
            alpha_ties = kind in ("set", "zset") and alpha and by not in (None, "nosort")
            exact = not (set_order or alpha_ties)
            if not exact and "LIMIT" in args:
                continue  # a slice of an undefined order: nothing to compare
            cmd = args if exact else Sorted(args)
            if store:
                out.append(["DEL", "dst"])  # a failed SORT leaves an older result
            out.append(cmd)
            if store:
                out.append(["LRANGE", "dst", "0", "-1"] if exact else Sorted(["LRANGE", "dst", "0", "-1"]))
        else:
            if item[0] == "RPUSH":
                kind = "list"
            elif item[0] == "SADD":
                kind = "set"
            elif item[0] == "ZADD":
                kind = "zset"
            out.append(item)
    diff(out)
