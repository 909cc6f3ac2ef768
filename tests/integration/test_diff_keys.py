"""Differential tests: keyspace commands, Keel vs redis-server, raw reply bytes.

KEYS results are compared as multisets (hash-table order differs), SCAN by the
set of keys seen over a full iteration (cursors differ), relative TTLs in
ranges where the second cannot tick over, PTTL within a tolerance.
"""

import pytest

from harness import Approx, Parsed, Sorted, cmds

FUTURE = "4102444800"      # 2100-01-01 00:00:00 UTC
FUTURE2 = "4133980800"     # 2101-01-01
FUTURE_MS = FUTURE + "000"


def _S(line):
    return Sorted(cmds(line)[0])


def _A(line, tol=1):
    return Approx(cmds(line)[0], tol)


# One key of every type Keel has (streams are not part of any issue yet).
TYPES_SETUP = ["SET s v", "RPUSH l a b", "SADD st a b", "ZADD z 1 a 2 b", "HSET h f v"]

CASES = {
    # ------------------------------------------------------ DEL/UNLINK/EXISTS
    "del": ["MSET a 1 b 2 c 3", "DEL a", "DEL a", "DEL b c d", "EXISTS a b c", "DEL"],
    "del_dups": ["SET a 1", "DEL a a a", "SET a 1", "EXISTS a a a", "EXISTS"],
    "unlink": ["MSET a 1 b 2", "RPUSH l x", "UNLINK a b l missing", "EXISTS a b l", "UNLINK"],
    "exists_types": TYPES_SETUP + ["EXISTS s l st z h x missing"],
    # ----------------------------------------------------------------- TYPE
    "type": TYPES_SETUP + ["TYPE s", "TYPE l", "TYPE st", "TYPE z", "TYPE h", "TYPE x",
                           "TYPE missing", "TYPE", "TYPE a b"],
    "touch": ["MSET a 1 b 2", "TOUCH a b c a", "TOUCH missing", "TOUCH"],
    # --------------------------------------------------------------- EXPIRE
    "expire_basic": ["SET k v", "EXPIRE k 100", "TTL k", _A("PTTL k", 2000), "EXPIRE missing 100",
                     "TTL missing", "PTTL missing", "SET p v", "TTL p", "PTTL p"],
    "pexpire_basic": ["SET k v", "PEXPIRE k 100000", "TTL k", _A("PTTL k", 2000),
                      "PEXPIRE missing 100"],
    "expire_zero_negative": ["SET k v", "EXPIRE k 0", "EXISTS k", "SET k v", "EXPIRE k -10",
                             "EXISTS k", "SET k v", "PEXPIRE k -1", "EXISTS k",
                             "SET k v", "EXPIREAT k 1", "EXISTS k", "SET k v",
                             "PEXPIREAT k 1", "EXISTS k", "EXPIRE missing -1"],
    "expire_bad_args": ["SET k v", "EXPIRE k abc", "EXPIRE k 1.5", "EXPIRE k ''",
                        "EXPIRE k 99999999999999999", "PEXPIRE k 9223372036854775807",
                        "EXPIREAT k 9223372036854775807", "EXPIRE k 9223372036854775808",
                        "PEXPIREAT k -9223372036854775808",
                        "EXPIRE k -9223372036854775808", "TTL k", "EXPIRE k", "EXPIRE"],
    "expire_nx_xx": ["SET k v", "EXPIRE k 100 XX", "TTL k", "EXPIRE k 100 NX", "TTL k",
                     "EXPIRE k 200 NX", "TTL k", "EXPIRE k 300 XX", "TTL k"],
    "expire_gt_lt": ["SET k v", "EXPIRE k 100 GT", "TTL k", "EXPIRE k 100 LT", "TTL k",
                     "EXPIRE k 200 LT", "TTL k", "EXPIRE k 50 LT", "TTL k", "EXPIRE k 40 GT",
                     "TTL k", "EXPIRE k 300 GT", "TTL k", "EXPIRE k 250 GT", "EXPIRE k 350 LT",
                     "TTL k"],
    "expire_option_conflicts": ["SET k v", "EXPIRE k 100 NX XX", "EXPIRE k 100 GT LT",
                                "EXPIRE k 100 NX GT", "EXPIRE k 100 NX LT", "EXPIRE k 100 XX GT",
                                "EXPIRE k 100 FOO", "EXPIRE k 100 NX NX", "EXPIRE k 200 xx gt",
                                "TTL k", "PEXPIRE k 100 NX XX", "EXPIREAT k 100 GT LT",
                                "PEXPIREAT k 100 FOO", "EXPIRE missing 100 NX XX",
                                "EXPIRE k abc NX XX"],
    "expire_options_case": ["SET k v", "EXPIRE k 100 nx", "EXPIRE k 200 xX", "TTL k",
                            "EXPIRE k 50 lt", "TTL k"],
    "expire_options_missing_key": ["EXPIRE k 100 NX", "EXPIRE k 100 XX", "EXPIRE k 100 GT",
                                   "EXPIRE k 100 LT"],
    "expire_gt_lt_negative": ["SET k v", "EXPIRE k 100", "EXPIRE k -1 GT", "EXISTS k",
                              "EXPIRE k -1 LT", "EXISTS k", "SET k v", "EXPIRE k -1 NX",
                              "EXISTS k", "SET k v", "EXPIRE k -1 XX", "EXISTS k"],
    "expireat": ["SET k v", "EXPIREAT k " + FUTURE, "EXPIRETIME k", "PEXPIRETIME k",
                 "EXPIREAT k " + FUTURE2 + " LT", "EXPIRETIME k",
                 "EXPIREAT k " + FUTURE2 + " GT", "EXPIRETIME k",
                 "EXPIREAT k " + FUTURE + " GT", "EXPIREAT missing " + FUTURE],
    "pexpireat": ["SET k v", "PEXPIREAT k " + FUTURE_MS + "", "PEXPIRETIME k", "EXPIRETIME k",
                  "PEXPIREAT k " + FUTURE + "999", "PEXPIRETIME k", "EXPIRETIME k",
                  "PEXPIREAT k " + FUTURE + "001 NX", "PEXPIREAT k " + FUTURE + "001 XX",
                  "PEXPIRETIME k"],
    "expiretime_no_ttl": ["SET k v", "EXPIRETIME k", "PEXPIRETIME k", "EXPIRETIME missing",
                          "PEXPIRETIME missing", "EXPIRETIME", "PEXPIRETIME a b"],
    "expire_overflow_abs": ["SET k v", "EXPIRE k 9223372036854775", "PEXPIRE k 9223372036854775807",
                            "EXPIREAT k 9223372036854776", "EXPIRE k 9223372036854770",
                            "TTL k"],
    "expire_other_types": TYPES_SETUP + ["EXPIRE l 100", "EXPIRE h 100", "EXPIRE z 100",
                                         "TTL l", "TTL h", "TTL z", "TTL st"],
    "ttl_wrong_arity": ["TTL", "TTL a b", "PTTL", "PERSIST", "PERSIST a b"],
    "persist": ["SET k v EX 100", "PERSIST k", "TTL k", "PERSIST k", "PERSIST missing",
                "SET j v", "PERSIST j"],
    "set_clears_ttl": ["SET k v EX 100", "SET k w", "TTL k", "SET k v EX 100", "APPEND k x",
                       "TTL k", "SETRANGE k 0 z", "TTL k"],
    # ----------------------------------------------------------------- KEYS
    "keys_glob": ["MSET hello 1 hallo 2 hxllo 3 hllo 4 heeeello 5 a*b 6 a?b 7 'a[b' 8 "
                  "'x\\y' 9 foo 10",
                  _S("KEYS *"), _S("KEYS h?llo"), _S("KEYS h*llo"), _S("KEYS h[ae]llo"),
                  _S("KEYS h[^e]llo"), _S("KEYS h[a-b]llo"), _S("KEYS h[b-a]llo"),
                  _S("KEYS h[!e]llo"), _S("KEYS 'a\\*b'"), _S("KEYS 'a\\?b'"),
                  _S("KEYS 'a\\[b'"), _S("KEYS a[*"), _S("KEYS 'x\\\\y'"), _S("KEYS ''"),
                  _S("KEYS nothing*"), _S("KEYS f*"), _S("KEYS *o"), _S("KEYS ?"),
                  _S("KEYS ???"), _S("KEYS [fh]*"), _S("KEYS h[a-z]llo"), _S("KEYS [")],
    "keys_classes": ["MSET a1 1 b2 2 c3 3 A4 4 '-' 5 ']' 6 '\\' 7",
                     _S("KEYS [a-c]?"), _S("KEYS [A-Z]*"), _S("KEYS [^a-c]*"), _S("KEYS [-]"),
                     _S("KEYS []]"), _S("KEYS '[\\]]'"), _S("KEYS '[\\\\]'"), _S("KEYS [a-]*"),
                     _S("KEYS *[0-9]"), _S("KEYS [[]"), _S("KEYS *[")],
    "keys_nocase_not": ["SET Hello 1", _S("KEYS hello"), _S("KEYS H*")],
    "keys_empty_db": ["KEYS *", "KEYS", "KEYS a b"],
    "keys_expired_hidden": ["SET a 1", "SET b 2", "PEXPIREAT b 1", "SET c 3 PXAT 1",
                            _S("KEYS *")],
    "keys_binary": [["SET", b"k\x00z", "1"], ["SET", b"k\xffz", "2"],
                    Sorted(["KEYS", b"k?z"]), Sorted(["KEYS", b"k\x00*"])],
    # ------------------------------------------------------------ RANDOMKEY
    "randomkey": ["RANDOMKEY", "SET only v", "RANDOMKEY", "DEL only", "RANDOMKEY",
                  "RANDOMKEY x"],
    # ----------------------------------------------------------- RENAME(NX)
    "rename": ["SET a 1", "RENAME a b", "GET a", "GET b", "RENAME missing x", "RENAME b b",
               "GET b", "RENAME missing missing", "RENAME a", "RENAME"],
    "rename_keeps_ttl": ["SET a 1 EX 100", "RENAME a b", "TTL b", "SET c 2", "RENAME c b",
                         "TTL b"],
    "rename_overwrites_type": TYPES_SETUP + ["RENAME s l", "TYPE l", "RENAME h st", "TYPE st",
                                             "EXISTS s h"],
    "renamenx": ["MSET a 1 b 2", "RENAMENX a b", "RENAMENX a c", "MGET a b c",
                 "RENAMENX c c", "RENAMENX missing d", "RENAMENX missing missing",
                 "RENAMENX a"],
    # ----------------------------------------------------------------- COPY
    "copy": ["SET a 1", "COPY a b", "GET b", "COPY a b", "SET a 2", "COPY a b REPLACE",
             "GET b", "COPY missing c", "EXISTS c", "COPY a a", "COPY a a REPLACE"],
    "copy_db": ["SET a 1", "COPY a a DB 1", "COPY a b DB 1", "SELECT 1", "GET a", "GET b",
                "SELECT 0", "COPY a a DB 1", "COPY a a DB 1 REPLACE", "COPY a b DB 0",
                "COPY a x DB 16", "COPY a x DB -1", "COPY a x DB abc", "COPY a x DB",
                "COPY a x FOO", "COPY a x REPLACE REPLACE", "COPY a x DB 1 DB 2", "SELECT 2",
                "KEYS *"],
    "copy_ttl_types": TYPES_SETUP + ["EXPIRE l 100", "COPY l l2", "TTL l2", "LRANGE l2 0 -1",
                                     "COPY h h2", "HGETALL h2", "COPY z z2",
                                     "ZRANGE z2 0 -1 WITHSCORES", "TYPE st", "COPY st st2",
                                     "TYPE st2", "COPY s l", "COPY s l REPLACE", "TYPE l"],
    "copy_arity": ["COPY", "COPY a"],
    # ----------------------------------------------------------------- MOVE
    "move": ["SET a 1", "MOVE a 1", "EXISTS a", "SELECT 1", "GET a", "MOVE a 0", "SELECT 0",
             "GET a", "MOVE a 0", "MOVE missing 1", "MOVE a 16", "MOVE a -1", "MOVE a x",
             "MOVE a", "SET b 1", "SELECT 1", "SET b 2", "SELECT 0", "MOVE b 1", "GET b"],
    "move_keeps_ttl": ["SET a 1 EX 100", "MOVE a 3", "SELECT 3", "TTL a"],
    # --------------------------------------------------------------- OBJECT
    "object_encoding_strings": [
        "SET i 123", "OBJECT ENCODING i", "SET n -5", "OBJECT ENCODING n",
        "SET z 0", "OBJECT ENCODING z", "SET big 9223372036854775807", "OBJECT ENCODING big",
        "SET bigger 9223372036854775808", "OBJECT ENCODING bigger",
        "SET neg0 -0", "OBJECT ENCODING neg0", "SET sp ' 1'", "OBJECT ENCODING sp",
        "SET lead 01", "OBJECT ENCODING lead", "SET f 1.5", "OBJECT ENCODING f",
        "SET e abc", "OBJECT ENCODING e", "SET r " + "x" * 50, "OBJECT ENCODING r",
        "SET e44 " + "y" * 44, "OBJECT ENCODING e44", "SET e45 " + "y" * 45,
        "OBJECT ENCODING e45", "SET int20 12345678901234567890", "OBJECT ENCODING int20",
        "OBJECT ENCODING missing", 'SET empty ""', "OBJECT ENCODING empty"],
    "object_encoding_after_ops": [
        "SET a abc", "APPEND a d", "OBJECT ENCODING a", "SET b 10", "INCR b",
        "OBJECT ENCODING b", "SET c abc", "SETRANGE c 0 x", "OBJECT ENCODING c",
        "INCRBYFLOAT d 1.5", "OBJECT ENCODING d", "SETRANGE e 0 12", "OBJECT ENCODING e",
        "SET f 12", "APPEND f 3", "OBJECT ENCODING f", "GETSET g 5", "OBJECT ENCODING g",
        "MSET h 77 i hello", "OBJECT ENCODING h", "OBJECT ENCODING i"],
    "object_encoding_types": TYPES_SETUP + ["OBJECT ENCODING l", "OBJECT ENCODING st",
                                            "OBJECT ENCODING z", "OBJECT ENCODING h",
                                            "OBJECT ENCODING x", "SADD ints 1 2 3",
                                            "OBJECT ENCODING ints"],
    "object_refcount": ["SET r " + "x" * 50, "OBJECT REFCOUNT r", "OBJECT REFCOUNT missing",
                        "OBJECT REFCOUNT", "OBJECT REFCOUNT a b"],
    "object_freq_idletime": ["SET k v", "OBJECT FREQ k", "OBJECT FREQ missing",
                             "OBJECT IDLETIME missing", "OBJECT IDLETIME", "OBJECT FREQ"],
    "object_errors": ["OBJECT", "OBJECT FOO", "OBJECT FOO bar", "OBJECT ENCODING",
                      "OBJECT ENCODING a b", "object encoding missing", "OBJECT encoding"],
    "object_help": ["OBJECT HELP", "object help", "OBJECT HELP extra"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_keys(diff, name):
    diff(cmds(*CASES[name]))


RESP3_CASES = ["randomkey", "type", "object_encoding_strings", "object_refcount",
               "object_help", "keys_glob", "expiretime_no_ttl", "copy"]


@pytest.mark.parametrize("name", RESP3_CASES)
def test_keys_resp3(diff, name):
    diff.resp3(cmds(*CASES[name]))


# ---------------------------------------------------------------------- SCAN

def _populate(client, all_types):
    """300 strings (plus 40 each of list/hash/set/zset when the test filters
    by a type other than string)."""
    p = client.pipeline(transaction=False)
    for i in range(300):
        p.set("str:%d" % i, i)
    if all_types:
        for i in range(40):
            p.rpush("list:%d" % i, "a", "b")
            p.hset("hash:%d" % i, "f", "v")
            p.sadd("set:%d" % i, "m")
            p.zadd("zset:%d" % i, {"m": 1})
    p.set("odd[key]", 1)
    p.set("a*b", 1)
    p.execute()


def _full_scan(client, *args):
    seen = []
    cursor = b"0"
    for _ in range(100000):
        reply = client.execute_command("SCAN", cursor, *args)
        cursor, keys = reply[0], reply[1]
        seen.extend(keys)
        if cursor in (b"0", 0):
            return seen
    raise AssertionError("SCAN never returned cursor 0")


SCAN_ARGS = [
    [],
    ["COUNT", "1"],
    ["COUNT", "7"],
    ["COUNT", "1000"],
    ["MATCH", "str:1*"],
    ["MATCH", "str:1*", "COUNT", "3"],
    ["MATCH", "*:3?"],
    ["MATCH", "odd\\[key\\]"],
    ["MATCH", "a\\*b"],
    ["MATCH", "nothing*"],
    ["TYPE", "string"],
    ["TYPE", "list", "COUNT", "5"],
    ["TYPE", "hash"],
    ["TYPE", "set"],
    ["TYPE", "zset"],
    ["TYPE", "stream"],
    ["TYPE", "STRING"],
    ["MATCH", "*:1*", "TYPE", "zset", "COUNT", "50"],
    ["TYPE", "nosuchtype"],
]


@pytest.mark.parametrize("args", SCAN_ARGS, ids=lambda a: " ".join(a) or "plain")
def test_scan_full_iteration(r, ro, args):
    types = [args[i + 1].lower() for i, a in enumerate(args) if a == "TYPE"]
    all_types = any(t in ("list", "hash", "set", "zset") for t in types)
    _populate(r, all_types)
    _populate(ro, all_types)
    theirs = _full_scan(ro, *args)
    ours = _full_scan(r, *args)
    # a full iteration returns every matching key at least once, and with no
    # rehashing in between, exactly once (Redis guarantees no duplicates then)
    assert sorted(ours) == sorted(theirs)
    assert len(ours) == len(set(ours)), "duplicates in a full SCAN without writes"


def test_scan_empty_db(diff):
    diff(cmds("SCAN 0", "SCAN 0 COUNT 10", "SCAN 0 MATCH *", "SCAN 0 TYPE string"))


def test_scan_errors(diff):
    diff(cmds("SET k v", "SCAN", "SCAN abc", "SCAN 1.5", "SCAN 0 COUNT 0",
              "SCAN 0 COUNT -1", "SCAN 0 COUNT abc", "SCAN 0 COUNT", "SCAN 0 MATCH",
              "SCAN 0 TYPE", "SCAN 0 FOO", "SCAN 0 FOO bar", "SCAN 18446744073709551616",
              "SCAN 0 MATCH * MATCH k*"))


def test_scan_small_db_single_reply(diff):
    # with a few keys a single SCAN call returns them all and cursor 0
    diff(cmds("MSET a 1 b 2 c 3",
              Parsed(["SCAN", "0"], lambda v: (v[0], sorted(v[1]))),
              Parsed(["SCAN", "0", "MATCH", "a*"], lambda v: (v[0], sorted(v[1]))),
              Parsed(["SCAN", "0", "TYPE", "list"], lambda v: (v[0], sorted(v[1])))))


def test_scan_cursor_18446744073709551615(diff):
    # a large but valid unsigned cursor is accepted
    diff(cmds("SCAN 0", Parsed(["SCAN", "18446744073709551615"], lambda v: type(v).__name__)))
