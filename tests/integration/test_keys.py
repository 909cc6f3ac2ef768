"""Differential tests for the generic/keys group (core/commands/cmd_keys.c), Keel vs
redis-server 7.0, raw reply bytes: DEL UNLINK EXISTS TYPE TOUCH, the EXPIRE
family, TTL PTTL EXPIRETIME PEXPIRETIME PERSIST, KEYS SCAN RANDOMKEY, RENAME
RENAMENX COPY MOVE, OBJECT ENCODING/FREQ/IDLETIME/REFCOUNT/HELP.

KEYS replies are compared as multisets, SCAN by the set of keys over a full
iteration (cursors depend on the hash function), relative TTLs in ranges where
the second cannot tick over, PTTL within a tolerance. Expiry is observed by
polling with a deadline, never by fixed sleeps alone.

The stream cases are skipped while Keel has no XADD (streams are not built
yet); they run, unchanged, once it has.
"""

import time

import pytest

import harness
from harness import Approx, Parsed, RawConn, Sorted, cmds
from helpers import keel_has, key_events

FUTURE = "4102444800"  # 2100-01-01 00:00:00 UTC
FUTURE2 = "4133980800"  # 2101-01-01
FUTURE_MS = FUTURE + "000"
BIG = "x" * 50


def _S(line):
    return Sorted(cmds(line)[0])


def _A(line, tol=1):
    return Approx(cmds(line)[0], tol)


def _scan_shape(v):
    """A SCAN reply's shape: cursor and the sorted keys."""
    return (v[0], sorted(v[1])) if isinstance(v, list) else v


def wait_until(fn, timeout=10.0, step=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


# ---------------------------------------------------------------------------
# Command tables: every sequence is run on both servers and compared.

CASES = {
    # ------------------------------------------------------------- DEL/UNLINK
    "del": ["MSET a 1 b 2 c 3", "DEL a", "DEL a", "DEL b c d", "EXISTS a b c", "DEL"],
    "del_dups": ["SET a 1", "DEL a a a", "SET a 1", "SET b 2", "DEL a b a b", "EXISTS a b"],
    "del_case": ["SET a 1", "del a", "SET a 1", "dEl a", "EXISTS a"],
    "unlink": ["MSET a 1 b 2", "UNLINK a b missing", "EXISTS a b", "UNLINK", "UNLINK missing"],
    "del_big_values": ["SET a " + "y" * 1000, "SET b 12345", "SET c 1", "DEL a b c"],
    "del_binary": [["SET", b"k\x00a", "1"], ["SET", b"k\x00b", "2"], ["SET", b"\r\n", "3"],
                   ["DEL", b"k\x00a", b"k\x00c", b"\r\n"], ["EXISTS", b"k\x00a", b"k\x00b"],
                   ["GET", b"k\x00b"]],
    "del_empty_key": ['SET "" v', 'EXISTS ""', 'DEL ""', 'EXISTS ""'],
    # ---------------------------------------------------------------- EXISTS
    "exists": ["MSET a 1 b 2", "EXISTS a", "EXISTS missing", "EXISTS a b missing",
               "EXISTS a a a", "EXISTS"],
    "exists_binary": [["SET", b"\x00", "1"], ["EXISTS", b"\x00", b"\x00\x00", b""]],
    # ------------------------------------------------------------------ TYPE
    "type_string": ["SET s v", "TYPE s", "SET i 12", "TYPE i", "SET r " + BIG, "TYPE r",
                    "TYPE missing", "TYPE", "TYPE a b", "type s"],
    # ----------------------------------------------------------------- TOUCH
    "touch": ["MSET a 1 b 2", "TOUCH a b c a", "TOUCH missing", "TOUCH", "TOUCH a"],
    # ---------------------------------------------------------------- EXPIRE
    "expire_basic": ["SET k v", "EXPIRE k 100", "TTL k", _A("PTTL k", 2000),
                     "EXPIRE missing 100", "TTL missing", "PTTL missing", "SET p v", "TTL p",
                     "PTTL p"],
    "expire_reset": ["SET k v", "EXPIRE k 100", "EXPIRE k 200", "TTL k", "EXPIRE k 50", "TTL k"],
    "pexpire_basic": ["SET k v", "PEXPIRE k 100000", "TTL k", _A("PTTL k", 2000),
                      "PEXPIRE missing 100", "PEXPIRE k 1300", "TTL k"],
    "ttl_rounding": ["SET k v", "PEXPIRE k 100400", "TTL k", "PEXPIRE k 99700", "TTL k",
                     "PEXPIRE k 200", "TTL k", "PEXPIRE k 1400", "TTL k"],
    "expire_zero_negative": ["SET k v", "EXPIRE k 0", "EXISTS k", "SET k v", "EXPIRE k -10",
                             "EXISTS k", "SET k v", "PEXPIRE k -1", "EXISTS k", "SET k v",
                             "PEXPIRE k 0", "EXISTS k", "SET k v", "EXPIREAT k 1", "EXISTS k",
                             "SET k v", "PEXPIREAT k 1", "EXISTS k", "SET k v", "EXPIREAT k 0",
                             "EXISTS k", "EXPIRE missing -1", "EXPIREAT missing 1"],
    "expire_bad_number": ["SET k v", "EXPIRE k abc", "EXPIRE k 1.5", "EXPIRE k ''",
                          "EXPIRE k ' 1'", "EXPIRE k 1x", "EXPIRE k +1", "EXPIRE k 01",
                          "PEXPIRE k abc", "EXPIREAT k abc", "PEXPIREAT k 1e3",
                          "EXPIRE k 99999999999999999999", "TTL k"],
    "expire_overflow": ["SET k v", "EXPIRE k 9223372036854775807", "EXPIRE k 9223372036854775",
                        "EXPIRE k 9223372036854776", "EXPIRE k -9223372036854775808",
                        "EXPIRE k -9223372036854776", "PEXPIRE k 9223372036854775807",
                        "EXPIREAT k 9223372036854775807", "EXPIREAT k 9223372036854776",
                        "EXPIREAT k -9223372036854775808", "TTL k",
                        "PEXPIREAT k 9223372036854775807", "PEXPIRETIME k", "EXPIRETIME k",
                        "EXPIRE k 9223372036854770", "TTL k",
                        "PEXPIREAT k -9223372036854775808", "EXISTS k"],
    "expire_overflow_missing_key": ["EXPIRE missing 9223372036854775807",
                                    "PEXPIRE missing 9223372036854775807"],
    "expire_nx_xx": ["SET k v", "EXPIRE k 100 XX", "TTL k", "EXPIRE k 100 NX", "TTL k",
                     "EXPIRE k 200 NX", "TTL k", "EXPIRE k 300 XX", "TTL k"],
    "expire_gt_lt": ["SET k v", "EXPIRE k 100 GT", "TTL k", "EXPIRE k 100 LT", "TTL k",
                     "EXPIRE k 200 LT", "TTL k", "EXPIRE k 50 LT", "TTL k", "EXPIRE k 40 GT",
                     "TTL k", "EXPIRE k 300 GT", "TTL k", "EXPIRE k 250 GT", "EXPIRE k 350 LT",
                     "TTL k"],
    "expire_xx_gt": ["SET k v", "EXPIRE k 100 XX GT", "EXPIRE k 100", "EXPIRE k 200 XX GT",
                     "TTL k", "EXPIRE k 100 GT XX", "EXPIRE k 50 XX LT", "TTL k",
                     "EXPIRE k 60 LT XX", "TTL k"],
    "expire_option_conflicts": ["SET k v", "EXPIRE k 100 NX XX", "EXPIRE k 100 GT LT",
                                "EXPIRE k 100 NX GT", "EXPIRE k 100 NX LT", "EXPIRE k 100 XX NX",
                                "EXPIRE k 100 LT GT", "EXPIRE k 100 XX GT LT",
                                "EXPIRE k 100 NX XX GT LT", "EXPIRE k 100 NX NX",
                                "EXPIRE k 50 GT GT", "TTL k", "EXPIRE k 200 xx gt", "TTL k",
                                "PEXPIRE k 100 NX XX", "EXPIREAT k 100 GT LT",
                                "PEXPIREAT k 100 NX LT", "EXPIRE missing 100 NX XX",
                                "EXPIRE missing 100 GT LT"],
    "expire_unsupported_option": ["SET k v", "EXPIRE k 100 FOO", "EXPIRE k 100 NX FOO",
                                  "EXPIRE k 100 foo NX", "EXPIRE k 100 NX XX FOO",
                                  "EXPIRE k 100 10", "PEXPIRE k 100 bar", "EXPIREAT k 100 ''",
                                  "PEXPIREAT k 100 NXX", "EXPIRE k abc FOO",
                                  "EXPIRE missing 1 FOO", "TTL k"],
    "expire_options_case": ["SET k v", "EXPIRE k 100 nx", "EXPIRE k 200 xX", "TTL k",
                            "EXPIRE k 50 lt", "TTL k", "EXPIRE k 60 Gt", "TTL k"],
    "expire_options_missing_key": ["EXPIRE k 100 NX", "EXPIRE k 100 XX", "EXPIRE k 100 GT",
                                   "EXPIRE k 100 LT", "PEXPIREAT k 1 NX"],
    "expire_gt_lt_negative": ["SET k v", "EXPIRE k 100", "EXPIRE k -1 GT", "EXISTS k",
                              "EXPIRE k -1 LT", "EXISTS k", "SET k v", "EXPIRE k -1 NX",
                              "EXISTS k", "SET k v", "EXPIRE k -1 XX", "EXISTS k", "SET k v",
                              "EXPIRE k -1 LT", "EXISTS k", "SET k v", "EXPIRE k -1 GT",
                              "EXISTS k"],
    "expire_arity": ["EXPIRE", "EXPIRE k", "PEXPIRE k", "EXPIREAT", "PEXPIREAT k"],
    "expireat": ["SET k v", "EXPIREAT k " + FUTURE, "EXPIRETIME k", "PEXPIRETIME k",
                 "EXPIREAT k " + FUTURE2 + " LT", "EXPIRETIME k",
                 "EXPIREAT k " + FUTURE2 + " GT", "EXPIRETIME k",
                 "EXPIREAT k " + FUTURE + " GT", "EXPIREAT missing " + FUTURE,
                 "EXPIREAT k " + FUTURE + " NX", "EXPIREAT k " + FUTURE + " XX", "EXPIRETIME k"],
    "pexpireat": ["SET k v", "PEXPIREAT k " + FUTURE_MS, "PEXPIRETIME k", "EXPIRETIME k",
                  "PEXPIREAT k " + FUTURE + "999", "PEXPIRETIME k", "EXPIRETIME k",
                  "PEXPIREAT k " + FUTURE + "001 NX", "PEXPIREAT k " + FUTURE + "001 XX",
                  "PEXPIRETIME k", "PEXPIREAT k " + FUTURE + "000 LT", "PEXPIRETIME k",
                  "PEXPIREAT k " + FUTURE + "000 GT", "PEXPIREAT k " + FUTURE + "000 LT",
                  "PEXPIREAT k " + FUTURE + "000 XX", "PEXPIRETIME k"],
    "expiretime_no_ttl": ["SET k v", "EXPIRETIME k", "PEXPIRETIME k", "EXPIRETIME missing",
                          "PEXPIRETIME missing", "EXPIRETIME", "PEXPIRETIME a b"],
    "ttl_wrong_arity": ["TTL", "TTL a b", "PTTL", "PTTL a b", "PERSIST", "PERSIST a b"],
    "persist": ["SET k v EX 100", "PERSIST k", "TTL k", "PERSIST k", "PERSIST missing",
                "SET j v", "PERSIST j", "SET m v", "PEXPIREAT m " + FUTURE_MS, "PERSIST m",
                "PEXPIRETIME m", "GET m"],
    "expire_keeps_value": ["SET k hello", "EXPIRE k 100", "GET k", "PERSIST k", "GET k",
                           "SET n 42", "EXPIRE n 100", "GET n", "OBJECT ENCODING n",
                           "SET r " + BIG, "EXPIRE r 100", "GET r", "OBJECT ENCODING r",
                           "PERSIST r", "GET r", "OBJECT ENCODING r"],
    "set_clears_ttl": ["SET k v EX 100", "SET k w", "TTL k", "SET k v EX 100", "APPEND k x",
                       "TTL k", "GET k"],
    "expire_binary_key": [["SET", b"k\x00\xff", "v"], ["EXPIRE", b"k\x00\xff", "100"],
                          ["TTL", b"k\x00\xff"], ["TTL", b"k\x00"],
                          ["PERSIST", b"k\x00\xff"], ["TTL", b"k\x00\xff"]],
    # ------------------------------------------------------------------ KEYS
    "keys_glob": ["MSET hello 1 hallo 2 hxllo 3 hllo 4 heeeello 5 a*b 6 a?b 7 'a[b' 8 "
                  "'x\\y' 9 foo 10",
                  _S("KEYS *"), _S("KEYS h?llo"), _S("KEYS h*llo"), _S("KEYS h[ae]llo"),
                  _S("KEYS h[^e]llo"), _S("KEYS h[a-b]llo"), _S("KEYS h[b-a]llo"),
                  _S("KEYS h[!e]llo"), _S("KEYS 'a\\*b'"), _S("KEYS 'a\\?b'"),
                  _S("KEYS 'a\\[b'"), _S("KEYS a[*"), _S("KEYS 'x\\\\y'"), _S("KEYS ''"),
                  _S("KEYS nothing*"), _S("KEYS f*"), _S("KEYS *o"), _S("KEYS ?"),
                  _S("KEYS ???"), _S("KEYS [fh]*"), _S("KEYS h[a-z]llo"), _S("KEYS [")],
    "keys_classes": ["MSET a1 1 b2 2 c3 3 A4 4 '-' 5 ']' 6 '\\' 7 '^' 8",
                     _S("KEYS [a-c]?"), _S("KEYS [A-Z]*"), _S("KEYS [^a-c]*"), _S("KEYS [-]"),
                     _S("KEYS []]"), _S("KEYS '[\\]]'"), _S("KEYS '[\\\\]'"), _S("KEYS [a-]*"),
                     _S("KEYS *[0-9]"), _S("KEYS [[]"), _S("KEYS *["), _S("KEYS [^]"),
                     _S("KEYS []"), _S("KEYS [z-a]?"), _S("KEYS '[\\^]'"), _S("KEYS [\\^]"),
                     _S("KEYS [!a]?"), _S("KEYS '\\'"), _S("KEYS '\\\\'"), _S("KEYS [a-c1-3]?")],
    "keys_stars": ["MSET aaa 1 abab 2 ab 3 b 4 '' 5 '*' 6",
                   _S("KEYS **"), _S("KEYS a**b"), _S("KEYS *a*b*"), _S("KEYS *?"),
                   _S("KEYS ?*"), _S("KEYS *b"), _S("KEYS a*a*a*"), _S("KEYS '\\*'"),
                   _S("KEYS *\\*"), _S("KEYS *a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b")],
    "keys_backslash_end": ["MSET 'h\\' 1 h 2", _S("KEYS 'h\\'"), _S("KEYS 'h\\\\'"),
                           _S("KEYS 'h*\\'"), _S("KEYS '[\\'")],
    "keys_nocase_not": ["SET Hello 1", _S("KEYS hello"), _S("KEYS H*"), _S("KEYS [h]ello")],
    "keys_empty_db": ["KEYS *", "KEYS", "KEYS a b", "KEYS h*"],
    "keys_expired_hidden": ["SET a 1", "SET b 2", "PEXPIREAT b 1", "SET c 3 PXAT 1",
                            "SET d 4 PX 100000", _S("KEYS *"), _S("KEYS [a-d]")],
    "keys_binary": [["SET", b"k\x00z", "1"], ["SET", b"k\xffz", "2"], ["SET", b"k\r\nz", "3"],
                    Sorted(["KEYS", b"k?z"]), Sorted(["KEYS", b"k\x00*"]),
                    Sorted(["KEYS", b"*z"]), Sorted(["KEYS", b"k[\x00-\x01]z"]),
                    Sorted(["KEYS", b"k[\xfe-\xff]z"]), Sorted(["KEYS", b"k??z"])],
    "keys_many": ["MSET " + " ".join("key:%d %d" % (i, i) for i in range(300)),
                  _S("KEYS *"), _S("KEYS key:1*"), _S("KEYS key:?"), _S("KEYS key:[12]?9")],
    # ------------------------------------------------------------- RANDOMKEY
    "randomkey": ["RANDOMKEY", "SET only v", "RANDOMKEY", "DEL only", "RANDOMKEY",
                  "RANDOMKEY x", [b"SET", b"\x00bin\xff", b"v"], "RANDOMKEY"],
    "randomkey_all_expired": ["SET a 1", "PEXPIREAT a 1", "SET b 2 PXAT 1", "RANDOMKEY",
                              "EXISTS a b"],
    "randomkey_skips_expired": ["SET a 1 PXAT 1", "SET b 2 PXAT 1", "SET live 3",
                                "RANDOMKEY", "RANDOMKEY", "RANDOMKEY"],
    # ---------------------------------------------------------- RENAME(NX)
    "rename": ["SET a 1", "RENAME a b", "GET a", "GET b", "RENAME missing x", "RENAME b b",
               "GET b", "RENAME missing missing", "RENAME a", "RENAME", "RENAME a b c"],
    "rename_keeps_ttl": ["SET a 1 EX 100", "RENAME a b", "TTL b", "EXISTS a", "SET c 2",
                         "RENAME c b", "TTL b", "SET d 3", "SET e 4 EX 100", "RENAME d e",
                         "TTL e", "GET e"],
    "rename_keeps_encoding": ["SET i 5", "RENAME i j", "OBJECT ENCODING j", "OBJECT REFCOUNT j",
                              "SET e abc", "RENAME e f", "OBJECT ENCODING f", "GET f",
                              "SET r " + BIG, "RENAME r s", "OBJECT ENCODING s", "GET s",
                              "SET a abc", "APPEND a d", "RENAME a b", "OBJECT ENCODING b",
                              "GET b", "SET t " + "z" * 44, "EXPIRE t 100", "RENAME t u",
                              "GET u", "TTL u", "OBJECT ENCODING u"],
    "rename_long_keys": ["SET " + "k" * 300 + " v", "RENAME " + "k" * 300 + " " + "j" * 5,
                         "GET " + "j" * 5, "RENAME " + "j" * 5 + " " + "m" * 1000,
                         "GET " + "m" * 1000, "EXISTS " + "j" * 5],
    "rename_binary": [["SET", b"a\x00", "1"], ["RENAME", b"a\x00", b"a\x00\x01"],
                      ["GET", b"a\x00\x01"], ["EXISTS", b"a\x00"], ["RENAME", b"a", b"b"]],
    "rename_expired_source": ["SET a 1 PXAT 1", "RENAME a b", "RENAMENX a b", "EXISTS a b"],
    "rename_into_expired": ["SET a 1", "SET b 2 PXAT 1", "RENAMENX a b", "GET b", "TTL b"],
    "renamenx": ["MSET a 1 b 2", "RENAMENX a b", "RENAMENX a c", "MGET a b c",
                 "RENAMENX c c", "RENAMENX missing d", "RENAMENX missing missing",
                 "RENAMENX a", "SET t 1 EX 100", "RENAMENX t u", "TTL u"],
    # ------------------------------------------------------------------ COPY
    "copy": ["SET a 1", "COPY a b", "GET b", "COPY a b", "SET a 2", "COPY a b REPLACE",
             "GET b", "COPY missing c", "EXISTS c", "COPY a a", "COPY a a REPLACE",
             "COPY missing missing"],
    "copy_db": ["SET a 1", "COPY a a DB 1", "COPY a b DB 1", "SELECT 1", "GET a", "GET b",
                "SELECT 0", "COPY a a DB 1", "COPY a a DB 1 REPLACE", "COPY a b DB 0",
                "COPY a x DB 16", "COPY a x DB -1", "COPY a x DB abc", "COPY a x DB",
                "COPY a x FOO", "COPY a x REPLACE REPLACE", "COPY a x DB 1 DB 2", "SELECT 2",
                _S("KEYS *"), "SELECT 0", "COPY a x DB 4294967296", "COPY a x DB -2147483649",
                "COPY a x DB 2147483647", "COPY a x DB 1.5", "COPY a x db 3 replace",
                "SELECT 3", "GET x"],
    "copy_db_missing_source": ["COPY missing x DB 16", "COPY missing x DB 1", "COPY a a DB 0",
                               "COPY missing missing DB 0"],
    "copy_ttl": ["SET a 1 EX 100", "COPY a b", "TTL b", "COPY a c DB 2", "SELECT 2", "TTL c",
                 "SELECT 0", "SET d 1", "SET e 2 EX 100", "COPY d e REPLACE", "TTL e",
                 "GET e", "PEXPIREAT a " + FUTURE_MS, "COPY a f", "PEXPIRETIME f"],
    "copy_encodings": ["SET i 5", "COPY i j", "OBJECT ENCODING j", "SET n -77", "COPY n m",
                       "OBJECT ENCODING m", "OBJECT REFCOUNT m", "SET e abc", "COPY e f",
                       "OBJECT ENCODING f", "SET r " + BIG, "COPY r s", "OBJECT ENCODING s",
                       "GET s", "SET a abc", "APPEND a d", "COPY a b", "OBJECT ENCODING b",
                       "GET b", "APPEND b e", "GET a", "GET b", "SET big 12345678901",
                       "COPY big big2", "OBJECT ENCODING big2", "GET big2"],
    "copy_independent": ["SET a abc", "COPY a b", "APPEND b xyz", "GET a", "GET b",
                         "SET a 1", "COPY a b REPLACE", "INCR b", "GET a", "GET b"],
    "copy_binary": [["SET", b"\x00s", b"\x00v\xff"], ["COPY", b"\x00s", b"\x00t"],
                    ["GET", b"\x00t"], ["COPY", b"\x00s", b"\x00s"]],
    "copy_expired_source": ["SET a 1 PXAT 1", "COPY a b", "EXISTS a b", "SET c 1",
                            "SET d 2 PXAT 1", "COPY c d", "GET d"],
    "copy_arity": ["COPY", "COPY a"],
    # ------------------------------------------------------------------ MOVE
    "move": ["SET a 1", "MOVE a 1", "EXISTS a", "SELECT 1", "GET a", "MOVE a 0", "SELECT 0",
             "GET a", "MOVE a 0", "MOVE missing 1", "MOVE a 16", "MOVE a -1", "MOVE a x",
             "MOVE a", "SET b 1", "SELECT 1", "SET b 2", "SELECT 0", "MOVE b 1", "GET b",
             "MOVE a 4294967296", "MOVE a -2147483649", "MOVE a 2147483647", "MOVE a 1.0",
             "MOVE a 1 2"],
    "move_same_db_missing": ["MOVE missing 0", "SELECT 5", "MOVE missing 5", "MOVE missing 0"],
    "move_keeps_ttl": ["SET a 1 EX 100", "MOVE a 3", "SELECT 3", "TTL a", "GET a",
                       "PEXPIREAT a " + FUTURE_MS, "MOVE a 0", "SELECT 0", "PEXPIRETIME a"],
    "move_keeps_encoding": ["SET i 7", "SET r " + BIG, "SET e hi", "MOVE i 1", "MOVE r 1",
                            "MOVE e 1", "SELECT 1", "OBJECT ENCODING i", "OBJECT ENCODING r",
                            "OBJECT ENCODING e", "MGET i r e"],
    "move_expired": ["SET a 1 PXAT 1", "MOVE a 1", "SET b 1", "SELECT 1", "SET b 2 PXAT 1",
                     "SELECT 0", "MOVE b 1", "SELECT 1", "GET b"],
    "move_binary": [["SET", b"m\x00", "v"], ["MOVE", b"m\x00", "2"], ["SELECT", "2"],
                    ["GET", b"m\x00"], ["EXISTS", b"m"]],
    # ---------------------------------------------------------------- OBJECT
    "object_encoding_strings": [
        "SET i 123", "OBJECT ENCODING i", "SET n -5", "OBJECT ENCODING n",
        "SET z 0", "OBJECT ENCODING z", "SET big 9223372036854775807", "OBJECT ENCODING big",
        "SET small -9223372036854775808", "OBJECT ENCODING small",
        "SET bigger 9223372036854775808", "OBJECT ENCODING bigger",
        "SET neg0 -0", "OBJECT ENCODING neg0", "SET sp ' 1'", "OBJECT ENCODING sp",
        "SET lead 01", "OBJECT ENCODING lead", "SET f 1.5", "OBJECT ENCODING f",
        "SET e abc", "OBJECT ENCODING e", "SET r " + BIG, "OBJECT ENCODING r",
        "SET e44 " + "y" * 44, "OBJECT ENCODING e44", "SET e45 " + "y" * 45,
        "OBJECT ENCODING e45", "SET int20 12345678901234567890", "OBJECT ENCODING int20",
        "OBJECT ENCODING missing", 'SET empty ""', "OBJECT ENCODING empty",
        "SET plus +1", "OBJECT ENCODING plus"],
    "object_encoding_after_ops": [
        "SET a abc", "APPEND a d", "OBJECT ENCODING a", "SET b 10", "INCR b",
        "OBJECT ENCODING b", "SET c abc", "SETRANGE c 0 x", "OBJECT ENCODING c",
        "SET f 12", "APPEND f 3", "OBJECT ENCODING f", "GETSET g 5", "OBJECT ENCODING g",
        "MSET h 77 i hello", "OBJECT ENCODING h", "OBJECT ENCODING i"],
    "object_refcount": ["SET r " + BIG, "OBJECT REFCOUNT r", "OBJECT REFCOUNT missing",
                        "SET z 0", "OBJECT REFCOUNT z", "SET m 9999", "OBJECT REFCOUNT m",
                        "SET t 10000", "OBJECT REFCOUNT t", "SET n -1", "OBJECT REFCOUNT n",
                        "SET e abc", "OBJECT REFCOUNT e", "SET x 00", "OBJECT REFCOUNT x",
                        "INCR c", "OBJECT REFCOUNT c", "OBJECT REFCOUNT", "OBJECT REFCOUNT a b"],
    "object_freq_idletime": ["SET k v", "OBJECT FREQ k", "OBJECT FREQ missing",
                             "OBJECT IDLETIME k", "OBJECT IDLETIME missing", "OBJECT IDLETIME",
                             "OBJECT FREQ", "OBJECT IDLETIME a b"],
    "object_errors": ["OBJECT", "OBJECT FOO", "OBJECT FOO bar", "OBJECT ENCODING",
                      "OBJECT ENCODING a b", "object encoding missing", "OBJECT encoding",
                      "OBJECT REFCOUNT", "object Help"],
    "object_help": ["OBJECT HELP", "object help", "OBJECT HELP extra"],
    "object_expired": ["SET a 1 PXAT 1", "OBJECT ENCODING a", "OBJECT REFCOUNT a",
                       "OBJECT IDLETIME a", "OBJECT FREQ a", "EXISTS a"],
    "object_binary": [["SET", b"o\x00", "1"], ["OBJECT", "ENCODING", b"o\x00"],
                      ["OBJECT", "ENCODING", b"o"]],
    # ---------------------------------------------------- expired-key views
    "expired_everywhere": ["SET k v PXAT 1", "EXISTS k", "TYPE k", "TTL k", "PTTL k",
                           "EXPIRETIME k", "PEXPIRETIME k", "PERSIST k", "EXPIRE k 100",
                           "TOUCH k", "DEL k", "UNLINK k", "KEYS *", "RANDOMKEY", "MOVE k 1",
                           "COPY k j", "RENAME k j", "OBJECT ENCODING k", "SCAN 0"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_keys(diff, name):
    diff(cmds(*CASES[name]))


RESP3_CASES = ["randomkey", "type_string", "object_encoding_strings", "object_refcount",
               "object_help", "keys_glob", "expiretime_no_ttl", "copy", "move", "rename",
               "expire_option_conflicts", "object_freq_idletime", "expired_everywhere"]


@pytest.mark.parametrize("name", RESP3_CASES)
def test_keys_resp3(diff, name):
    diff.resp3(cmds(*CASES[name]))


# Redis's order "options before the number" (EXPIRE) and strtoul's cursor
# grammar (SCAN): the schema defers those values' errors to the handler
# (keel_deferred_error).
DEFERRED_CASES = {
    "expire_conflict_before_number": ["SET k v", "EXPIRE k abc NX XX", "PEXPIRE k 1.5 GT LT",
                                      "EXPIREAT k x NX LT", "PEXPIREAT k '' XX NX",
                                      "EXPIRE k abc NX", "TTL k"],
    "scan_cursor_grammar": ["SCAN ''", "SCAN -1", "SCAN +0", "SCAN -0",
                            "SCAN 18446744073709551615", "SCAN -18446744073709551615",
                            "SCAN 0000000000000000000000000000000000000000000000000000000001",
                            "SCAN 18446744073709551616", "SCAN -18446744073709551616",
                            "SCAN 99999999999999999999999", "SCAN ' 1'", "SCAN '1 '",
                            "SCAN 0x10", "SCAN -", "SCAN +", "SCAN 1.0", "SCAN 1e3",
                            ["SCAN", b"5\x00junk"], ["SCAN", b"\x00"]],
}


@pytest.mark.parametrize("name", sorted(DEFERRED_CASES))
def test_keys_deferred_errors(diff, name):
    diff(cmds(*DEFERRED_CASES[name]))


# ---------------------------------------------------------------------------
# Cases over the other value types (streams: see test_keys_stream_type).

TYPES_SETUP = ["SET s v", "RPUSH l a b", "SADD st a b", "ZADD z 1 a 2 b", "HSET h f v"]

TYPE_CASES = {
    "exists_types": TYPES_SETUP + ["EXISTS s l st z h missing"],
    "type_all": TYPES_SETUP + ["TYPE s", "TYPE l", "TYPE st", "TYPE z", "TYPE h"],
    "del_types": TYPES_SETUP + ["DEL s l st z h missing", "EXISTS s l st z h"],
    "expire_types": TYPES_SETUP + ["EXPIRE l 100", "EXPIRE h 100", "EXPIRE z 100", "TTL l",
                                   "TTL h", "TTL z", "TTL st", "PERSIST l", "TTL l",
                                   "LRANGE l 0 -1"],
    "rename_types": TYPES_SETUP + ["RENAME s l", "TYPE l", "RENAME h st", "TYPE st",
                                   "EXISTS s h", "HGETALL st", "RENAME z zz",
                                   "ZRANGE zz 0 -1 WITHSCORES"],
    "copy_types": TYPES_SETUP + ["EXPIRE l 100", "COPY l l2", "TTL l2", "LRANGE l2 0 -1",
                                 "RPUSH l2 c", "LRANGE l 0 -1", "COPY h h2", "HGETALL h2",
                                 "COPY z z2", "ZRANGE z2 0 -1 WITHSCORES", "COPY st st2",
                                 "TYPE st2", "COPY s l",
                                 "COPY s l REPLACE", "TYPE l"],
    "move_types": TYPES_SETUP + ["MOVE l 1", "MOVE h 1", "SELECT 1", "TYPE l", "TYPE h",
                                 "LRANGE l 0 -1"],
    "object_types": TYPES_SETUP + ["OBJECT ENCODING l", "OBJECT ENCODING st",
                                   "OBJECT ENCODING z", "OBJECT ENCODING h",
                                   "SADD ints 1 2 3", "OBJECT ENCODING ints", "OBJECT REFCOUNT l",
                                   "OBJECT REFCOUNT h"],
    "keys_types": TYPES_SETUP + [_S("KEYS *"), "DEL l", _S("KEYS *")],
}


@pytest.mark.parametrize("name", sorted(TYPE_CASES))
def test_keys_types(diff, name):
    diff(cmds(*TYPE_CASES[name]))


# The same generic commands over a stream (the stream parts of the cases above).
STREAM_CASE = TYPES_SETUP + [
    "XADD x 1-1 f v", "EXISTS s x missing", "TYPE x", "OBJECT ENCODING x", "EXPIRE x 100",
    "TTL x", "COPY x x2", "XLEN x2", "TYPE x2", "PERSIST x", "TTL x", "RENAME x x3", "TYPE x3",
    "EXISTS x", _S("KEYS x*"), Parsed(["SCAN", "0", "TYPE", "stream"], _scan_shape),
    "MOVE x3 1", "DEL s l st z h x2 x3 missing", "SELECT 1", "TYPE x3", "DEL x3", "EXISTS x3"]


def test_keys_stream_type(keel, diff):
    if not keel_has(keel.port, "XADD"):
        pytest.skip("streams are not built yet (see the streams issue)")
    diff(cmds(*STREAM_CASE))


# ---------------------------------------------------------------------- SCAN

def _populate(client, types=False):
    p = client.pipeline(transaction=False)
    for i in range(300):
        p.set("str:%d" % i, i)
    for i in range(40):
        p.set("blob:%d" % i, "x" * (i + 40))
    if types:
        for i in range(40):
            p.rpush("list:%d" % i, "a", "b")
            p.hset("hash:%d" % i, "f", "v")
            p.sadd("set:%d" % i, "m")
            p.zadd("zset:%d" % i, {"m": 1})
    p.set("odd[key]", 1)
    p.set("a*b", 1)
    p.set(b"bin\x00\xff", 1)
    p.execute()


def _full_scan(client, *args, between=None):
    seen = []
    cursor = b"0"
    for step in range(100000):
        reply = client.execute_command("SCAN", cursor, *args)
        cursor, keys = reply[0], reply[1]
        seen.extend(keys)
        if cursor in (b"0", 0):
            return seen
        if between:
            between(step)
    raise AssertionError("SCAN never returned cursor 0")


SCAN_ARGS = [
    [],
    ["COUNT", "1"],
    ["COUNT", "7"],
    ["COUNT", "1000"],
    ["COUNT", "9223372036854775807"],
    ["MATCH", "*"],
    ["MATCH", "str:1*"],
    ["MATCH", "str:1*", "COUNT", "3"],
    ["MATCH", "*:3?"],
    ["MATCH", "odd\\[key\\]"],
    ["MATCH", "a\\*b"],
    ["MATCH", "nothing*"],
    ["MATCH", b"bin?\xff"],
    ["match", "blob:*", "count", "2"],
    ["TYPE", "string"],
    ["TYPE", "STRING"],
    ["TYPE", "list"],
    ["TYPE", "nosuchtype"],
    ["MATCH", "*:1*", "TYPE", "string", "COUNT", "50"],
    ["COUNT", "5", "MATCH", "s*", "TYPE", "string"],
    ["MATCH", "nothing", "MATCH", "str:2*"],
]


def _ids(a):
    return " ".join(x if isinstance(x, str) else repr(x) for x in a) or "plain"


@pytest.mark.parametrize("args", SCAN_ARGS, ids=_ids)
def test_scan_full_iteration(r, ro, args):
    _populate(r)
    _populate(ro)
    theirs = _full_scan(ro, *args)
    ours = _full_scan(r, *args)
    # a full iteration returns every matching key at least once, and with no
    # rehashing in between, exactly once (Redis guarantees no duplicates then)
    assert sorted(ours) == sorted(theirs)
    assert len(ours) == len(set(ours)), "duplicates in a full SCAN without writes"


TYPED_SCAN_ARGS = [["TYPE", "list", "COUNT", "5"], ["TYPE", "hash"], ["TYPE", "set"],
                   ["TYPE", "zset"], ["TYPE", "stream"], ["TYPE", "string"],
                   ["MATCH", "*:1*", "TYPE", "zset", "COUNT", "50"]]


@pytest.mark.parametrize("args", TYPED_SCAN_ARGS, ids=lambda a: " ".join(a))
def test_scan_full_iteration_types(r, ro, args):
    _populate(r, types=True)
    _populate(ro, types=True)
    assert sorted(_full_scan(r, *args)) == sorted(_full_scan(ro, *args))


def test_scan_empty_db(diff):
    diff(cmds("SCAN 0", "SCAN 0 COUNT 10", "SCAN 0 MATCH *", "SCAN 0 TYPE string", "SCAN 5",
              "SCAN 9223372036854775807", "SCAN -5", "scan 0 match x count 1 type list"))


def test_scan_errors(diff):
    diff(cmds("SET k v", "SCAN", "SCAN abc", "SCAN 1.5", "SCAN 0 COUNT 0",
              "SCAN 0 COUNT -1", "SCAN 0 COUNT abc", "SCAN 0 COUNT", "SCAN 0 MATCH",
              "SCAN 0 TYPE", "SCAN 0 FOO", "SCAN 0 FOO bar", "SCAN 18446744073709551616",
              "SCAN 0 COUNT 9223372036854775808", "SCAN 0 COUNT 1.5", "SCAN 0 MATCH a b",
              "SCAN 0 COUNT -9223372036854775808", "SCAN abc COUNT 0"))


def test_scan_small_db_single_reply(diff):
    # with a few keys a single SCAN call returns them all and cursor 0
    diff(cmds("MSET a 1 b 2 c 3",
              Parsed(["SCAN", "0"], _scan_shape),
              Parsed(["SCAN", "0", "MATCH", "a*"], _scan_shape),
              Parsed(["SCAN", "0", "TYPE", "string"], _scan_shape),
              Parsed(["SCAN", "0", "TYPE", "list"], _scan_shape),
              Parsed(["SCAN", "0", "COUNT", "1", "MATCH", "[ab]"],
                     lambda v: type(v).__name__)))


def test_scan_skips_and_expires_expired_keys(diff):
    diff(cmds("MSET a 1 b 2 c 3", "PEXPIREAT b 1", "SET d 4 PXAT 1",
              Parsed(["SCAN", "0", "COUNT", "100"], _scan_shape), "EXISTS a b c d",
              Parsed(["SCAN", "0", "TYPE", "string"], _scan_shape)))


def test_scan_resize_growth_guarantee(r):
    """Every key present for the whole iteration is returned, although the
    table grows (and rehashes) between SCAN calls."""
    p = r.pipeline(transaction=False)
    for i in range(1000):
        p.set("keep:%d" % i, i)
    p.execute()
    added = [0]

    def grow(step):
        p = r.pipeline(transaction=False)
        for _ in range(60):
            p.set("new:%d" % added[0], 1)
            added[0] += 1
        p.execute()

    seen = set(_full_scan(r, "COUNT", "10", between=grow))
    missing = {b"keep:%d" % i for i in range(1000)} - seen
    assert added[0] > 2000, "the table did not grow during the scan"
    assert not missing, "keys present throughout but not returned: %r" % sorted(missing)[:10]


def test_scan_resize_shrink_guarantee(r):
    """Same guarantee while most keys are deleted and the table shrinks (the
    cron resizes it) between calls."""
    p = r.pipeline(transaction=False)
    for i in range(300):
        p.set("keep:%d" % i, i)
    for i in range(4000):
        p.set("drop:%d" % i, i)
    p.execute()
    dropped = [0]

    def shrink(step):
        if dropped[0] < 4000:
            r.delete(*["drop:%d" % i for i in range(dropped[0], min(4000, dropped[0] + 800))])
            dropped[0] += 800
            time.sleep(0.15)  # let the cron shrink the table

    seen = set(_full_scan(r, "COUNT", "20", between=shrink))
    missing = {b"keep:%d" % i for i in range(300)} - seen
    assert not missing, "keys present throughout but not returned: %r" % sorted(missing)[:10]


def test_scan_count_bounds_work(r):
    """COUNT n returns at most about n keys per call on a dense table, and a
    call never loops forever on a sparse one."""
    p = r.pipeline(transaction=False)
    for i in range(2000):
        p.set("k:%d" % i, i)
    p.execute()
    cursor, keys = r.execute_command("SCAN", "0", "COUNT", "5")
    assert 1 <= len(keys) <= 20 and cursor not in (0, b"0")
    cursor, keys = r.execute_command("SCAN", "0", "COUNT", "5000")
    assert len(keys) == 2000 and cursor in (0, b"0")
    # a pattern that matches nothing still terminates with a cursor
    cursor, keys = r.execute_command("SCAN", "0", "MATCH", "nope", "COUNT", "1")
    assert keys == []


# ------------------------------------------------------------------ RANDOMKEY

def test_randomkey_returns_every_key(r):
    keys = {b"a", b"b", b"c", b"\x00x"}
    for k in keys:
        r.set(k, 1)
    seen = set()
    for _ in range(500):
        seen.add(r.randomkey())
        if seen == keys:
            break
    assert seen == keys


def test_randomkey_mostly_expired(r):
    p = r.pipeline(transaction=False)
    for i in range(200):
        p.set("gone:%d" % i, 1, px=1)
    p.set("live", 1)
    p.execute()
    time.sleep(0.01)
    for _ in range(5):
        assert r.randomkey() == b"live"


# --------------------------------------------------------------- expiry life

def test_lazy_expiry(keel, oracle):
    """A key whose time has come reads as missing at once, on both servers."""
    for port in (keel.port, oracle.port):
        with RawConn(port) as c:
            c.call("FLUSHALL")
            assert c.call("SET", "k", "v", "PX", "80") == b"+OK\r\n"
            assert c.call("PEXPIRE", "j", "80") == b":0\r\n"
            assert c.call("GET", "k") == b"$1\r\nv\r\n"
            assert wait_until(lambda: c.call("GET", "k") == b"$-1\r\n", 5.0)
            for cmd, want in ((["EXISTS", "k"], b":0\r\n"), (["TTL", "k"], b":-2\r\n"),
                              (["PTTL", "k"], b":-2\r\n"), (["TYPE", "k"], b"+none\r\n"),
                              (["KEYS", "*"], b"*0\r\n"), (["RANDOMKEY"], b"$-1\r\n")):
                assert c.call(*cmd) == want, (port, cmd)


def test_pexpire_then_ttl_counts_down(r):
    r.set("k", "v")
    assert r.pexpire("k", 400)
    first = r.pttl("k")
    assert 0 < first <= 400
    assert wait_until(lambda: r.pttl("k") < first - 100, 5.0)
    assert wait_until(lambda: r.pttl("k") == -2, 5.0)
    assert r.ttl("k") == -2 and r.get("k") is None


def test_active_expiry(r):
    """Keys nobody touches are removed by the cron (DBSIZE counts them until then)."""
    p = r.pipeline(transaction=False)
    for i in range(200):
        p.set("v:%d" % i, i, px=30)
    for i in range(5):
        p.set("keep:%d" % i, i)
    p.execute()
    assert r.dbsize() == 205
    assert wait_until(lambda: r.dbsize() == 5, 10.0), "active expiry left %d keys" % r.dbsize()
    assert sorted(r.keys("*")) == [b"keep:%d" % i for i in range(5)]


def test_active_expiry_other_db(keel):
    with RawConn(keel.port) as c:
        c.call("FLUSHALL")
        c.call("SELECT", "9")
        for i in range(50):
            c.call("SET", "x%d" % i, "1", "PX", "20")
        assert wait_until(lambda: c.call("DBSIZE") == b":0\r\n", 10.0)


def test_expire_in_past_via_expireat_deletes(r):
    r.set("k", "v")
    assert r.execute_command("EXPIREAT", "k", int(time.time()) - 10) == 1
    assert r.exists("k") == 0


def test_persist_survives_deadline(r):
    r.set("k", "v", px=100)
    assert r.persist("k") == 1
    time.sleep(0.2)
    assert r.get("k") == b"v" and r.ttl("k") == -1


def test_rename_carries_deadline(r):
    r.set("a", "v", px=150)
    r.rename("a", "b")
    assert 0 < r.pttl("b") <= 150
    assert wait_until(lambda: r.exists("b") == 0, 5.0)


def test_move_carries_deadline(keel):
    with RawConn(keel.port) as c:
        c.call("FLUSHALL")
        c.call("SET", "a", "v", "PX", "150")
        assert c.call("MOVE", "a", "4") == b":1\r\n"
        c.call("SELECT", "4")
        assert wait_until(lambda: c.call("EXISTS", "a") == b":0\r\n", 5.0)


def test_copy_carries_deadline(r):
    r.set("a", "v", px=150)
    assert r.copy("a", "b") == 1
    assert 0 < r.pttl("b") <= 150
    assert wait_until(lambda: r.exists("a", "b") == 0, 5.0)


# ------------------------------------------------------------------ OBJECT

def test_object_idletime_and_no_touch(r, ro):
    """IDLETIME grows while only non-touching commands look at the key, and
    drops to 0 after a read."""
    for c in (r, ro):
        c.set("k", "v")
    time.sleep(2.2)
    for c in (r, ro):
        c.type("k"), c.ttl("k"), c.pttl("k"), c.exists("k")
        c.object("encoding", "k"), c.object("refcount", "k")
        c.execute_command("EXPIRETIME", "k")
        c.execute_command("SCAN", "0", "TYPE", "string")
        c.keys("*")
    ours, theirs = r.object("idletime", "k"), ro.object("idletime", "k")
    assert ours >= 2 and theirs >= 2 and abs(ours - theirs) <= 1, (ours, theirs)
    for c in (r, ro):
        c.get("k")
    assert r.object("idletime", "k") == 0 == ro.object("idletime", "k")
    # TOUCH updates the access time too
    time.sleep(1.2)
    r.touch("k")
    assert r.object("idletime", "k") == 0


def test_object_lfu_policy(diff):
    try:
        diff(cmds("CONFIG SET maxmemory-policy allkeys-lfu", "SET k v", "OBJECT FREQ k",
                  "OBJECT IDLETIME k", "OBJECT FREQ missing", "OBJECT IDLETIME missing",
                  "SET n 5", "OBJECT REFCOUNT n", "CONFIG SET maxmemory-policy volatile-lfu",
                  "OBJECT IDLETIME k", "CONFIG SET maxmemory-policy volatile-lru",
                  "OBJECT FREQ k", "OBJECT REFCOUNT n",
                  "CONFIG SET maxmemory-policy noeviction"))
    finally:
        for port in diff.ports.values():
            with RawConn(port) as c:
                c.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
                c.call("CONFIG", "SET", "maxmemory", "0")


def test_object_refcount_unshared_with_lru_maxmemory(diff):
    try:
        diff(cmds("CONFIG SET maxmemory 1gb", "CONFIG SET maxmemory-policy allkeys-lru",
                  "SET n 5", "OBJECT REFCOUNT n", "CONFIG SET maxmemory-policy volatile-ttl",
                  "SET m 5", "OBJECT REFCOUNT m", "CONFIG SET maxmemory 0"))
    finally:
        for port in diff.ports.values():
            with RawConn(port) as c:
                c.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
                c.call("CONFIG", "SET", "maxmemory", "0")


# ------------------------------------------------------- keyspace events

EVENT_SEQ = [
    "SET a 1", "DEL a", "DEL a", "SET b 1", "UNLINK b", "SET c 1", "EXPIRE c 100",
    "PEXPIRE c 100000", "EXPIREAT c " + FUTURE, "PEXPIREAT c " + FUTURE_MS, "EXPIRE c 100 NX",
    "PERSIST c", "PERSIST c", "EXPIRE c 0", "SET d 1", "PEXPIREAT d 1", "SET e 1",
    "RENAME e f", "RENAMENX f g", "SET h 1", "RENAMENX g h", "RENAME g g", "COPY h i",
    "COPY h i REPLACE", "COPY h i DB 2", "MOVE i 3",
    "TOUCH h", "TYPE h", "EXPIRE h 100 GT", "EXPIRE h 100 LT", "PEXPIRE h 50000 LT",
]


def test_keyspace_events(keel, oracle):
    flags = "KEA"  # every class but "new"
    assert key_events(keel.port, EVENT_SEQ, flags) == key_events(oracle.port, EVENT_SEQ, flags)


def test_keyspace_events_new(keel, oracle):
    # "new" too: the key RENAME, RENAMENX and MOVE create is new (Redis's dbAdd)
    assert key_events(keel.port, EVENT_SEQ) == key_events(oracle.port, EVENT_SEQ)
