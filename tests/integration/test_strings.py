"""Differential tests for the string group (core/commands/cmd_string.c), Keel vs redis-server 7.0.

Every case runs the same command sequence on both servers (FLUSHALL first, fresh
connection) and compares the raw reply bytes, in RESP2 and in RESP3. Relative
TTLs are compared within a tolerance (Approx). Besides the tables:

- a server pair started with --proto-max-bulk-len 1mb (APPEND/SETRANGE limits,
  the LCS transient-memory limit),
- keyspace-event names,
- keyspace hit/miss accounting,
- lazy expiry of string keys seen through every string command,
- randomized sequences of string commands (fixed seeds) compared reply by reply.

A case that uses a command Keel does not implement (RPUSH for WRONGTYPE,
OBJECT ENCODING, TTL...) fails with the missing command named.
"""

import random
import time

import pytest

import harness
from harness import Approx, Cmd, RawConn, ServerProcess, cmds, parse_one, show_cmd
from helpers import keel_has, key_events

FUTURE = "4102444800"  # 2100-01-01 00:00:00 UTC
FUTURE_MS = FUTURE + "000"
B50 = "b" * 50  # longer than the 44-byte embstr limit
B44 = "e" * 44
B45 = "f" * 45


def A(line, tol=1):
    """A command whose integer reply may differ by tol (TTL-like)."""
    return Approx(cmds(line)[0], tol)


# ---------------------------------------------------------------------------
# Which commands Keel has (a case needing a missing one fails, naming it)

CONTAINERS = {"OBJECT", "CONFIG", "CLIENT", "COMMAND", "DEBUG"}
_known = {}  # command name -> whether Keel has it


def _name_of(cmd):
    c = cmd.cmd if isinstance(cmd, Cmd) else cmd
    c = [harness._b(a) for a in c]
    name = c[0].upper().decode()
    if name in CONTAINERS and len(c) > 1:
        return name + " " + c[1].upper().decode()
    return name


def require(keel, seq):
    names = {_name_of(harness.C(c) if isinstance(c, str) else c) for c in seq}
    for n in names - _known.keys():
        _known[n] = keel_has(keel.port, n)
    missing = sorted(n for n in names if not _known[n])
    assert not missing, "Keel lacks " + ", ".join(missing)


@pytest.fixture
def sdiff(keel, oracle, diff):
    """diff, after checking Keel has FLUSHALL (the harness needs it)."""
    require(keel, [["FLUSHALL"]])
    return diff


# ---------------------------------------------------------------------------
# The tables

CASES = {
    # ------------------------------------------------------------------ GET
    "get_basic": ["GET missing", "SET k v", "GET k", "GET K", ["GET", b"k\x00"]],
    "get_int_and_raw": ["SET i 123", "GET i", "SET r " + B50, "GET r", "SET e ''", "GET e"],
    "get_binary": [["SET", b"\xff\x00k", b"\x00\x01\xfe\r\n"], ["GET", b"\xff\x00k"]],
    "get_arity": ["GET", "GET a b"],
    "get_wrongtype": ["RPUSH l a", "GET l"],
    # ------------------------------------------------------------------ SET
    "set_basic": ["SET k v", "GET k", "SET k w", "GET k", "SET", "SET k", "SET k v w"],
    "set_nx_xx": ["SET k v XX", "EXISTS k", "SET k v NX", "SET k w NX", "GET k",
                  "SET k w XX", "GET k", "SET k z nx", "SET k z xx", "GET k"],
    "set_nx_xx_conflict": ["SET k v NX XX", "SET k v XX NX", "SET k v NX NX", "SET k v XX XX",
                           "GET k"],
    "set_get_option": ["SET k v GET", "SET k w GET", "SET k x GET GET", "GET k",
                       "SET k y NX GET", "GET k", "SET m y XX GET", "EXISTS m",
                       "SET k z XX GET", "GET k"],
    "set_get_wrongtype": ["RPUSH l a", "SET l v GET", "TYPE l", "SET l v", "TYPE l", "GET l"],
    "set_get_wrongtype_nx": ["RPUSH l a", "SET l v NX GET", "SET l v XX GET", "TYPE l"],
    "set_ex_px": ["SET k v EX 100", A("TTL k"), "SET k v PX 100000", A("TTL k"),
                  "SET k v ex 50", A("TTL k")],
    "set_exat_pxat": ["SET k v EXAT " + FUTURE, "EXPIRETIME k", "PEXPIRETIME k",
                      "SET k v PXAT " + FUTURE_MS, "EXPIRETIME k", "PEXPIRETIME k",
                      "SET k v PXAT 4102444800123", "PEXPIRETIME k", "EXPIRETIME k"],
    "set_past_times": ["SET k v EXAT 1", "EXISTS k", "GET k", "SET k v PXAT 1", "GET k",
                       "SET k v PXAT 1000", "STRLEN k"],
    "set_keepttl": ["SET k v EX 100", "SET k w KEEPTTL", A("TTL k"), "GET k", "SET k x",
                    "TTL k", "SET n v KEEPTTL", "TTL n", "SET k v EX 100", "SET k w KEEPTTL GET",
                    A("TTL k")],
    "set_drops_ttl": ["SET k v EX 100", "SET k w", "TTL k", "SET k v EX 100",
                      "SET k w XX", "TTL k", "SET k v EX 100", "SET k w GET", "TTL k"],
    "set_nx_keeps_existing_ttl": ["SET k v EX 100", "SET k w NX", A("TTL k"), "GET k",
                                  "SET k w NX EX 5", A("TTL k")],
    "set_expire_errors": ["SET k v EX 0", "SET k v EX -1", "SET k v PX 0", "SET k v PX -5",
                          "SET k v EXAT 0", "SET k v PXAT -1", "SET k v EX abc",
                          "SET k v PX 1.5", "SET k v EX ''", "SET k v EX ' 1'", "SET k v EX +1",
                          "SET k v EX 01", "EXISTS k"],
    "set_expire_overflow": ["SET k v EX 9223372036854775", "SET k v EX 9223372036854776",
                            "SET k v EX 9223372036854775807", "SET k v PX 9223372036854775807",
                            "SET k v PX 9223372036854775000", "SET k v EXAT 9223372036854775807",
                            "SET k v EX 9223372036854775808", "SET k v EXAT 9223372036854775",
                            "EXISTS k", "SET k v PXAT 9223372036854775807", "EXISTS k",
                            "PEXPIRETIME k"],
    "set_expire_conflicts": ["SET k v EX 10 PX 10", "SET k v KEEPTTL EX 10",
                             "SET k v EX 10 KEEPTTL", "SET k v EXAT 10 PXAT 10",
                             "SET k v PX 10 PXAT 10", "SET k v EX 10 EX 20", A("TTL k"),
                             "SET k v EX", "SET k v PX", "SET k v GET EX",
                             "SET k v KEEPTTL KEEPTTL",
                             "TTL k"],
    "set_option_errors": ["SET k v FOO", "SET k v NX FOO", "SET k v 10", "SET k v EX 10 FOO",
                          "SET k v GETT", "SET k v N", "EXISTS k"],
    "set_option_any_order": ["SET k v GET NX EX 100", A("TTL k"), "SET k w EX 100 XX GET",
                             "GET k", "SET k x KEEPTTL GET XX", A("TTL k"), "SET k y PX 100000 GET",
                             "SET k z gEt kEePtTl", "GET k"],
    "set_error_order": ["RPUSH l a", "SET l v GET EX 0", "SET l v EX 0 GET", "SET l v GET EX abc",
                        "SET l v GET FOO", "SET l v GET NX XX", "SET l v GET XX"],
    "set_overwrites_types": ["RPUSH l a", "SET l v", "TYPE l", "GET l", "RPUSH l2 a",
                             "SET l2 v XX", "TYPE l2", "RPUSH l3 a", "SET l3 v NX", "TYPE l3"],
    "set_empty_key_value": ['SET "" ""', 'GET ""', 'STRLEN ""', 'EXISTS ""'],
    "set_encodings": ["SET k 12345", "OBJECT ENCODING k", "SET k -12345", "OBJECT ENCODING k",
                      "SET k 0", "OBJECT ENCODING k", "SET k 9223372036854775807",
                      "OBJECT ENCODING k", "SET k 9223372036854775808", "OBJECT ENCODING k",
                      "SET k -9223372036854775808", "OBJECT ENCODING k", "SET k 012",
                      "OBJECT ENCODING k", "SET k +12", "OBJECT ENCODING k", "SET k 1.5",
                      "OBJECT ENCODING k", "SET k ' 1'", "OBJECT ENCODING k",
                      "SET k " + B44, "OBJECT ENCODING k", "SET k " + B45, "OBJECT ENCODING k",
                      "SET k ''", "OBJECT ENCODING k", "SET k -0", "OBJECT ENCODING k",
                      "SET k 00000000000000000001", "OBJECT ENCODING k",
                      "SET k 123 EX 100", "OBJECT ENCODING k", "GET k",
                      "SET k 77 KEEPTTL", "OBJECT ENCODING k"],
    "set_large_value": [["SET", "k", "z" * 70000], "STRLEN k", "GETRANGE k 69990 -1",
                        "OBJECT ENCODING k"],
    # ------------------------------------------------------------- SETNX
    "setnx": ["SETNX k v", "SETNX k w", "GET k", "SETNX k", "SETNX k v w", "SETNX",
              "SETNX n 123", "OBJECT ENCODING n"],
    "setnx_ttl": ["SET k v EX 100", "SETNX k w", A("TTL k"), "GET k"],
    "setnx_wrongtype": ["RPUSH l a", "SETNX l v", "TYPE l"],
    "setnx_expired": ["SET k v PXAT 1", "SETNX k w", "GET k", "TTL k"],
    # -------------------------------------------------------- SETEX/PSETEX
    "setex": ["SETEX k 100 v", A("TTL k"), "GET k", "SETEX k 200 w", A("TTL k"), "GET k",
              "OBJECT ENCODING k", "SETEX k 100 12", "OBJECT ENCODING k"],
    "setex_errors": ["SETEX k 0 v", "SETEX k -5 v", "SETEX k abc v", "SETEX k 1.5 v",
                     "SETEX k 9223372036854775807 v", "SETEX k 9223372036854775 v",
                     "SETEX k 9223372036854776 v", "SETEX k 99999999999999999999 v",
                     "SETEX k 100", "SETEX k", "SETEX", "SETEX k 100 v w", "EXISTS k"],
    "setex_overwrites": ["RPUSH l a", "SETEX l 100 v", "TYPE l", "GET l", "SET k v",
                         "SETEX k 100 w", "GET k"],
    "psetex": ["PSETEX k 100000 v", A("TTL k"), A("PTTL k", 3000), "GET k",
               "PSETEX k 0 v", "PSETEX k -1 v", "PSETEX k x v", "PSETEX k",
               "PSETEX k 9223372036854775807 v", "PSETEX k 9223372036854775000 v", "GET k"],
    # --------------------------------------------------------------- MGET
    "mget": ["MSET a 1 b 2", "MGET a b c", "MGET c", "MGET a a a", "MGET", "MGET a"],
    "mget_types": ["SET s str", "SET i 42", "SET r " + B50, "RPUSH l x",
                   "MGET s i r l missing"],
    "mget_binary": [["MSET", b"\x00", b"\x01\x02", b"k\xff", b""], ["MGET", b"\x00", b"k\xff"]],
    "mget_expired": ["SET a 1 PXAT 1", "SET b 2", "MGET a b"],
    # --------------------------------------------------------- MSET/MSETNX
    "mset": ["MSET a 1 b 2 c 3", "MGET a b c", "MSET a x a y", "GET a", "MSET", "MSET a",
             "MSET a 1 b", "MSET a 1 b 2 c", "MGET a b c"],
    "mset_mget_many": [["MSET"] + [w for i in range(300) for w in ("key%d" % i, "v%d" % i)],
                       ["MGET"] + ["key%d" % i for i in range(0, 310, 3)],
                       ["MSETNX"] + [w for i in range(300, 400) for w in ("key%d" % i, str(i))],
                       ["MGET"] + ["key%d" % i for i in range(295, 405, 7)],
                       ["MSETNX"] + [w for i in range(390, 500) for w in ("key%d" % i, str(i))],
                       "EXISTS key450"],
    "mset_drops_ttl_and_types": ["SET a 1 EX 100", "RPUSH l x", "MSET a 2 l 3", "TTL a",
                                 "TYPE l", "MGET a l"],
    "mset_encodings": ["MSET a 1 b " + B44 + " c " + B45 + " d 1.0", "OBJECT ENCODING a",
                       "OBJECT ENCODING b", "OBJECT ENCODING c", "OBJECT ENCODING d"],
    "msetnx": ["MSETNX a 1 b 2", "MSETNX b 3 c 4", "MGET a b c", "MSETNX c 5 d 6", "MGET c d",
               "MSETNX", "MSETNX a", "MSETNX a 1 b", "MSETNX x 1 x 2", "GET x"],
    "msetnx_types_ttl": ["RPUSH l x", "MSETNX l 1 m 2", "EXISTS m", "TYPE l",
                         "SET e v PXAT 1", "MSETNX e 1 f 2", "MGET e f", "TTL e"],
    # ------------------------------------------------------------- GETSET
    "getset": ["GETSET k v", "GETSET k w", "GET k", "GETSET k", "GETSET", "GETSET k v w",
               "GETSET k 12", "OBJECT ENCODING k"],
    "getset_ttl": ["SET k v EX 100", "GETSET k w", "TTL k", "GET k"],
    "getset_wrongtype": ["RPUSH l a", "GETSET l v", "TYPE l"],
    # ------------------------------------------------------------- GETDEL
    "getdel": ["SET k v", "GETDEL k", "GETDEL k", "EXISTS k", "SET i 12", "GETDEL i",
               "GETDEL", "GETDEL a b"],
    "getdel_ttl_and_type": ["SET k v EX 100", "GETDEL k", "TTL k", "RPUSH l a", "GETDEL l",
                            "TYPE l", "SET e v PXAT 1", "GETDEL e"],
    # -------------------------------------------------------------- GETEX
    "getex_plain": ["GETEX missing", "SET k v EX 100", "GETEX k", A("TTL k"), "GETEX",
                    "GETEX k v"],
    "getex_set_ttl": ["SET k v", "GETEX k EX 100", A("TTL k"), "GETEX k PX 200000", A("TTL k"),
                      "GETEX k EXAT " + FUTURE, "EXPIRETIME k", "GETEX k PXAT " + FUTURE_MS + "7",
                      "PEXPIRETIME k", "GETEX k ex 300", A("TTL k")],
    "getex_persist": ["SET k v EX 100", "GETEX k PERSIST", "TTL k", "GETEX k PERSIST", "TTL k",
                      "GETEX k persist"],
    "getex_past": ["SET k v", "GETEX k EXAT 1", "EXISTS k", "SET k v", "GETEX k PXAT 1",
                   "GET k", "SET k v", "GETEX k PXAT " + FUTURE_MS, "EXISTS k"],
    "getex_errors": ["SET k v", "GETEX k EX 0", "GETEX k EX -1", "GETEX k PX 0",
                     "GETEX k EXAT 0", "GETEX k PXAT -1", "GETEX k EX abc", "GETEX k EX 1.5",
                     "GETEX k EX 9223372036854775807", "GETEX k PX 9223372036854775807",
                     "GETEX k EX", "GETEX k FOO", "GETEX k EX 10 PX 10",
                     "GETEX k PERSIST EX 10", "GETEX k EX 10 PERSIST", "GETEX k KEEPTTL",
                     "GETEX k NX", "TTL k", "GET k"],
    "getex_repeat_last_wins": ["SET k v", "GETEX k EX 10 EX 100", A("TTL k"),
                               "GETEX k PERSIST PERSIST", "TTL k"],
    "getex_int_and_raw": ["SET i 12345", "GETEX i EX 100", "OBJECT ENCODING i",
                          "SET r " + B50, "GETEX r", "OBJECT ENCODING r"],
    "getex_wrongtype": ["RPUSH l a", "GETEX l", "GETEX l PERSIST", "GETEX l EX 10",
                        "GETEX l EX 0", "GETEX l PXAT -1"],
    "getex_lookup_before_expire_check": ["GETEX missing EX 0", "GETEX missing PX -1",
                                         "GETEX missing EX 9223372036854775807",
                                         "GETEX missing EXAT 1", "GETEX missing PERSIST"],
    # ------------------------------------------------------------- APPEND
    "append": ["APPEND k abc", "APPEND k def", "GET k", "STRLEN k", 'APPEND k ""', "GET k",
               "APPEND", "APPEND k", "APPEND k a b"],
    "append_new_key": ["APPEND e ''", "EXISTS e", "STRLEN e", "OBJECT ENCODING e",
                       "APPEND n 123", "OBJECT ENCODING n", "GET n", "APPEND s abc",
                       "OBJECT ENCODING s", "APPEND r " + B50, "OBJECT ENCODING r"],
    "append_encodings": ["SET k 12", "APPEND k 34", "GET k", "OBJECT ENCODING k",
                         "INCR k", "OBJECT ENCODING k", "SET k abc", "APPEND k ''",
                         "OBJECT ENCODING k", "SET k 5", "APPEND k ''", "OBJECT ENCODING k",
                         "GET k", "SET k " + B44, "APPEND k x", "OBJECT ENCODING k", "STRLEN k"],
    "append_keeps_ttl": ["SET k v EX 100", "APPEND k w", A("TTL k"), "GET k"],
    "append_binary": [["APPEND", "k", b"\x00\xff"], ["APPEND", "k", b"\r\n\x00"], ["GET", "k"],
                      ["STRLEN", "k"]],
    "append_grows": [["SET", "k", "a" * 40], ["APPEND", "k", "b" * 40], ["APPEND", "k", "c" * 5000],
                     "STRLEN k", "GETRANGE k 35 45", "GETRANGE k -3 -1"],
    "append_wrongtype": ["RPUSH l a", "APPEND l x", "TYPE l"],
    "append_expired": ["SET k v PXAT 1", "APPEND k w", "GET k", "TTL k"],
    # ------------------------------------------------------------- STRLEN
    "strlen": ["STRLEN missing", "SET k hello", "STRLEN k", "SET k ''", "STRLEN k",
               "SET k 12345", "STRLEN k", "SET k -1", "STRLEN k", "SET k -9223372036854775808",
               "STRLEN k", "SET k " + B50, "STRLEN k", "STRLEN", "STRLEN a b"],
    "strlen_wrongtype": ["RPUSH l a", "STRLEN l"],
    # ------------------------------------------------------ INCR and DECR
    "incr_decr": ["INCR k", "INCR k", "GET k", "DECR k", "DECR k", "DECR k", "GET k",
                  "DECR n", "INCR", "INCR a b", "DECR", "DECR a b"],
    "incrby_decrby": ["INCRBY k 10", "INCRBY k -25", "DECRBY k 5", "DECRBY k -100", "GET k",
                      "INCRBY k 0", "DECRBY k 0", "INCRBY k", "DECRBY k", "INCRBY k 1 2"],
    "incr_encodings": ["INCR k", "OBJECT ENCODING k", "SET k 10", "INCR k", "OBJECT ENCODING k",
                       "SET k 20", "APPEND k 0", "OBJECT ENCODING k", "INCR k",
                       "OBJECT ENCODING k", "GET k", "SET k 9999", "INCR k",
                       "OBJECT ENCODING k", "INCRBY k -20000", "OBJECT ENCODING k"],
    "incr_not_integer": ["SET k abc", "INCR k", "SET k 1.5", "INCR k", "SET k ''", "INCR k",
                         "SET k ' 1'", "INCR k", "SET k '1 '", "INCR k", "SET k +1", "INCR k",
                         "SET k 01", "INCR k", "SET k -0", "INCR k", "SET k 0x10", "INCR k",
                         "SET k 123456789012345678901", "INCR k", "SET k 1e3", "DECR k",
                         "SET k 9223372036854775808", "INCR k", "SET k -9223372036854775809",
                         "DECR k", ["SET", "k", b"1\x00"], "INCR k", "GET k"],
    "incr_overflow": ["SET k 9223372036854775807", "INCR k", "GET k", "DECR k", "INCR k",
                      "SET k -9223372036854775808", "DECR k", "INCRBY k -1", "INCR k",
                      "SET k 10", "INCRBY k 9223372036854775800", "DECRBY k 100",
                      "SET k -10", "DECRBY k 9223372036854775800", "INCRBY k -9223372036854775799",
                      "INCRBY k -9223372036854775798", "GET k"],
    "incrby_bad_increment": ["INCRBY k abc", "INCRBY k 1.5", "INCRBY k 9223372036854775808",
                             "INCRBY k ''", "INCRBY k ' 1'", "INCRBY k +1", "DECRBY k x",
                             "INCRBY k -9223372036854775808", "GET k",
                             "DECRBY j -9223372036854775808", "DECRBY j 9223372036854775807",
                             "DECRBY j 1", "EXISTS j"],
    "incr_keeps_ttl": ["SET k 1 EX 100", "INCR k", A("TTL k"), "SET k v EX 100", "SET k 5 KEEPTTL",
                       "INCRBY k 5", A("TTL k"), "SET k abc EX 100", "INCR k", A("TTL k")],
    "incr_embstr_raw_values": ["SET k 100", "APPEND k ''", "INCR k", "GET k",
                               "SET r " + "1" * 19, "INCR r", "SET s 000", "INCR s"],
    "incr_wrongtype": ["RPUSH l a", "INCR l", "DECR l", "INCRBY l 1", "DECRBY l 1",
                       "INCRBY l abc", "DECRBY l -9223372036854775808", "INCRBYFLOAT l 1"],
    "incr_expired": ["SET k 10 PXAT 1", "INCR k", "TTL k", "SET f 1.5 PXAT 1",
                     "INCRBYFLOAT f 1", "TTL f"],
    # -------------------------------------------------------- INCRBYFLOAT
    "incrbyfloat_basic": ["INCRBYFLOAT k 1.5", "INCRBYFLOAT k 1.5", "GET k",
                          "SET k 10.5", "INCRBYFLOAT k 0.1", "INCRBYFLOAT k -5", "GET k",
                          "INCRBYFLOAT k 2.0e2", "INCRBYFLOAT k", "INCRBYFLOAT k 1 2",
                          "INCRBYFLOAT"],
    "incrbyfloat_formatting": ["SET k 5.0e3", "INCRBYFLOAT k 2.0e2", "INCRBYFLOAT k 3.0e3",
                               "INCRBYFLOAT n1 3.0e3", "INCRBYFLOAT n2 5.0e3",
                               "INCRBYFLOAT n3 1e0", "INCRBYFLOAT n4 -0.0", "INCRBYFLOAT n5 -0",
                               "INCRBYFLOAT n6 0.1", "INCRBYFLOAT n6 0.2", "INCRBYFLOAT n7 1.23e-5",
                               "INCRBYFLOAT n8 100", "INCRBYFLOAT n8 -100.5",
                               "INCRBYFLOAT n9 .5", "INCRBYFLOAT n9 5.", "INCRBYFLOAT n10 1E2",
                               "INCRBYFLOAT n11 0x10", "INCRBYFLOAT n11 0x1p-2",
                               "INCRBYFLOAT n12 3.14159265358979323846264338327950288"],
    "incrbyfloat_precision": ["INCRBYFLOAT k 0.1", "INCRBYFLOAT k 0.2", "INCRBYFLOAT k 0.3",
                              "INCRBYFLOAT j 1.1", "INCRBYFLOAT j 2.2", "INCRBYFLOAT j -3.3",
                              "INCRBYFLOAT z 0.0000001", "INCRBYFLOAT z 1e-17",
                              "INCRBYFLOAT y 1e-18", "INCRBYFLOAT x 12345678901234567890",
                              "INCRBYFLOAT w 9223372036854775807", "INCRBYFLOAT w 1"],
    "incrbyfloat_int_values": ["SET k 3", "INCRBYFLOAT k 1", "OBJECT ENCODING k",
                               "INCRBYFLOAT k 1.0", "GET k", "INCRBYFLOAT k -4", "GET k",
                               "SET k -9223372036854775808", "INCRBYFLOAT k -1", "SET k 1e2",
                               "INCRBYFLOAT k 1", "SET k ' 1'", "INCRBYFLOAT k 1",
                               "SET k 0x10", "INCRBYFLOAT k 1", "SET k 1.5", "INCR k"],
    "incrbyfloat_encodings": ["INCRBYFLOAT k 1", "OBJECT ENCODING k",
                              "INCRBYFLOAT b 1e40", "OBJECT ENCODING b", "STRLEN b",
                              "INCRBYFLOAT c 1e43", "OBJECT ENCODING c", "STRLEN c",
                              "INCRBYFLOAT d 1e50", "OBJECT ENCODING d", "GET d"],
    "incrbyfloat_huge_tiny": ["INCRBYFLOAT k 1e300", "INCRBYFLOAT k 1e300", "GET k",
                              "INCRBYFLOAT k 1.7e308", "INCRBYFLOAT k 1e308", "STRLEN k",
                              "INCRBYFLOAT s 1e-300", "INCRBYFLOAT t 5e-324", "GET t",
                              "INCRBYFLOAT u 123456789012345678", "INCRBYFLOAT u 0.5"],
    "incrbyfloat_inf_nan": ["INCRBYFLOAT k inf", "INCRBYFLOAT k -inf", "INCRBYFLOAT k nan",
                            "INCRBYFLOAT k +inf", "INCRBYFLOAT k infinity", "INCRBYFLOAT k -nan",
                            "SET k inf", "INCRBYFLOAT k 1", "SET k nan", "INCRBYFLOAT k 1",
                            "SET k 1", "INCRBYFLOAT k inf", "GET k", "EXISTS m"],
    "incrbyfloat_bad": ["INCRBYFLOAT k abc", "INCRBYFLOAT k ''", "INCRBYFLOAT k ' 1'",
                        "INCRBYFLOAT k '1 '", "INCRBYFLOAT k 1x", "INCRBYFLOAT k 1,5",
                        "SET s abc", "INCRBYFLOAT s 1", "SET s ''", "INCRBYFLOAT s 1",
                        "SET s '1.0 '", "INCRBYFLOAT s 1", "EXISTS k"],
    "incrbyfloat_nul_bytes": ["SET k 1.5", "SETRANGE k 5 x", "INCRBYFLOAT k 1", "GET k",
                              ["SET", "j", b"2.5\x00"], "INCRBYFLOAT j 1",
                              ["INCRBYFLOAT", "n", b"1\x00"],
                              ["INCRBYFLOAT", "n", b"\x001"], ["INCRBY", "n", b"1\x00"], "EXISTS n",
                              ["SET", "i", b"12\x00"], "INCR i"],
    "incrbyfloat_overflow": ["SET k 1e308", "INCRBYFLOAT k 1e308", "GET k",
                             "SET k -1e308", "INCRBYFLOAT k -1e308", "GET k"],
    "incrbyfloat_keeps_ttl": ["SET k 1 EX 100", "INCRBYFLOAT k 1.5", A("TTL k"), "GET k"],
    # -------------------------------------------------- GETRANGE / SUBSTR
    "getrange": ["SET k 'Hello World'", "GETRANGE k 0 4", "GETRANGE k -5 -1",
                 "GETRANGE k 0 -1", "GETRANGE k 5 3", "GETRANGE k 100 200",
                 "GETRANGE k -100 -50", "GETRANGE k -100 2", "GETRANGE k 0 100",
                 "GETRANGE k -1 -5", "GETRANGE k -1 -1", "GETRANGE k 10 10", "GETRANGE k 11 11",
                 "GETRANGE k 3 -100", "GETRANGE k -3 2", "GETRANGE missing 0 -1",
                 "GETRANGE missing 5 1"],
    "getrange_extremes": ["SET k abc", "GETRANGE k 0 9223372036854775807",
                          "GETRANGE k -9223372036854775808 0",
                          "GETRANGE k -9223372036854775808 -9223372036854775808",
                          "GETRANGE k 9223372036854775807 9223372036854775807",
                          "GETRANGE k -9223372036854775808 9223372036854775807",
                          "GETRANGE k 9223372036854775807 -9223372036854775808"],
    "getrange_empty_string": ["SET e ''", "GETRANGE e 0 -1", "GETRANGE e 0 0",
                              "GETRANGE e -1 0", "GETRANGE e -1 -1"],
    "getrange_int": ["SET k 12345", "GETRANGE k 1 3", "GETRANGE k -2 -1", "GETRANGE k 0 100",
                     "SET k -987", "GETRANGE k 0 0"],
    "getrange_bad": ["SET k abc", "GETRANGE k a 1", "GETRANGE k 0 1.5", "GETRANGE k 0",
                     "GETRANGE k", "GETRANGE k 0 1 2", "GETRANGE k 9223372036854775808 1",
                     "GETRANGE missing x 1"],
    "getrange_wrongtype": ["RPUSH l a", "GETRANGE l 0 1", "GETRANGE l x 1", "SUBSTR l 0 1"],
    "substr": ["SET k 'Hello World'", "SUBSTR k 0 4", "SUBSTR k -3 -1", "SUBSTR k 5 1",
               "SUBSTR k -1 -5", "SUBSTR missing 0 1", "SUBSTR k 0", "SUBSTR k a b",
               "SUBSTR k 0 1 2"],
    # ------------------------------------------------------------ SETRANGE
    "setrange": ["SETRANGE k 0 hello", "SETRANGE k 6 world", "GET k", "STRLEN k",
                 "SETRANGE k 2 ''", "GET k", "SETRANGE k 0 HE", "GET k", "SETRANGE k 9 xyz",
                 "GET k", "SETRANGE k 11 !", "GET k"],
    "setrange_missing_key": ["SETRANGE m 0 ''", "EXISTS m", "SETRANGE m 5 ''", "EXISTS m",
                             "SETRANGE m 100 ''", "EXISTS m", "SETRANGE m 3 x", "GET m",
                             "OBJECT ENCODING m", "SETRANGE n 0 12", "OBJECT ENCODING n",
                             "GET n"],
    "setrange_padding": ["SETRANGE k 5 x", "GET k", "SET j abc", "SETRANGE j 1 Z", "GET j",
                         "SETRANGE j 6 Q", "GET j", "STRLEN j", "SET e ''", "SETRANGE e 2 a",
                         "GET e"],
    "setrange_encodings": ["SET i 123", "SETRANGE i 1 9", "GET i", "OBJECT ENCODING i",
                           "SET i 123", "SETRANGE i 0 ''", "OBJECT ENCODING i", "GET i",
                           "SET s abc", "SETRANGE s 0 ''", "OBJECT ENCODING s",
                           "SETRANGE s 0 A", "OBJECT ENCODING s", "INCR s",
                           "SET n 100", "SETRANGE n 0 2", "OBJECT ENCODING n", "INCR n",
                           "OBJECT ENCODING n"],
    "setrange_keeps_ttl": ["SET k hello EX 100", "SETRANGE k 0 J", A("TTL k"), "GET k",
                           "SETRANGE k 10 x", A("TTL k"), "STRLEN k"],
    "setrange_errors": ["SETRANGE k -1 x", "SETRANGE k abc x", "SETRANGE k 1.5 x",
                        "SETRANGE k 536870912 x", "SETRANGE k 536870911 ''",
                        "SETRANGE k 9223372036854775807 x", "SETRANGE k 9223372036854775808 x",
                        "SETRANGE k -9223372036854775808 x", "SETRANGE k 0", "SETRANGE k",
                        "SETRANGE k 0 a b", "EXISTS k", "SET s abc",
                        "SETRANGE s 536870912 x", "SETRANGE s 536870911 ''", "SETRANGE s -1 ''",
                        "GET s"],
    "setrange_wrongtype": ["RPUSH l a", "SETRANGE l 0 x", "SETRANGE l 0 ''", "SETRANGE l -1 x",
                           "SETRANGE l 536870912 x", "TYPE l"],
    "setrange_binary": [["SETRANGE", "k", "2", b"\x00\xff\x00"], ["GET", "k"],
                        ["SETRANGE", "k", "0", b"\r\n"], ["GET", "k"]],
    # ---------------------------------------------------------------- LCS
    "lcs_basic": ["MSET a ohmytext b mynewtext", "LCS a b", "LCS b a", "LCS a b LEN",
                  "LCS a a", "LCS a missing", "LCS missing a LEN", "LCS missing missing2",
                  "LCS missing missing2 LEN", "LCS missing missing2 IDX"],
    "lcs_idx": ["MSET a ohmytext b mynewtext", "LCS a b IDX", "LCS a b IDX MINMATCHLEN 4",
                "LCS a b IDX WITHMATCHLEN", "LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN",
                "LCS a b WITHMATCHLEN IDX MINMATCHLEN 0", "LCS a b IDX MINMATCHLEN -5",
                "LCS a b IDX MINMATCHLEN 100", "LCS b a IDX WITHMATCHLEN",
                "LCS a b idx minmatchlen 2 withmatchlen", "LCS a b IDX IDX"],
    "lcs_options_without_idx": ["MSET a abcdefg b xbcdyfg", "LCS a b MINMATCHLEN 2",
                                "LCS a b WITHMATCHLEN", "LCS a b LEN WITHMATCHLEN",
                                "LCS a b LEN MINMATCHLEN 3", "LCS a b LEN LEN",
                                "LCS a b IDX MINMATCHLEN 2 WITHMATCHLEN",
                                "LCS a b MINMATCHLEN 1 MINMATCHLEN 3 IDX"],
    "lcs_errors": ["MSET a abc b abd", "LCS a b LEN IDX", "LCS a b IDX LEN", "LCS a b FOO",
                   "LCS a b MINMATCHLEN", "LCS a b MINMATCHLEN x", "LCS a b IDX MINMATCHLEN 1.5",
                   "LCS a b MINMATCHLEN 9223372036854775808", "LCS a", "LCS"],
    "lcs_wrongtype": ["MSET a abc", "RPUSH l x", "LCS a l", "LCS l a", "LCS l l LEN",
                      "LCS l missing IDX", "LCS l a LEN IDX"],
    "lcs_no_common": ["MSET a abc b xyz", "LCS a b", "LCS a b LEN", "LCS a b IDX",
                      "LCS a b IDX WITHMATCHLEN", "SET e ''", "LCS a e IDX", "LCS e e"],
    "lcs_int_and_binary": ["SET a 123456", "SET b 1x3y5z", "LCS a b", "LCS a b IDX",
                           ["MSET", "c", b"\x00a\xffb\x00", "d", b"a\x00b\xff"], "LCS c d",
                           "LCS c d IDX WITHMATCHLEN"],
    "lcs_edges": ["MSET a a b a", "LCS a b IDX WITHMATCHLEN", "MSET a aaaa b aa",
                  "LCS a b IDX WITHMATCHLEN", "LCS b a IDX WITHMATCHLEN",
                  "MSET a abcabcabc b cbacbacba", "LCS a b", "LCS a b IDX WITHMATCHLEN",
                  "MSET a xxhelloxxworld b helloyyworldzz", "LCS a b IDX WITHMATCHLEN",
                  "LCS a b IDX MINMATCHLEN 5"],
    "lcs_longer": [["MSET", "a", ("GATTACA" * 30)[:200], "b", ("TACGAT" * 40)[:200]],
                   "LCS a b", "LCS a b LEN", "LCS a b IDX MINMATCHLEN 3 WITHMATCHLEN"],
}

# Redis looks the keys up before it parses the options of LCS
# (keel_deferred_from), and GETEX's/INCRBYFLOAT's values are reported after
# the key's type check (keel_deferred_error; INCRBYFLOAT's increment is a
# long double, keel_long_double).
CASES.update({
    "getex_missing_key_bad_value": ["GETEX missing EX abc", "GETEX missing EX 1.5"],
    "getex_wrongtype_bad_value": ["RPUSH l a", "GETEX l EX abc"],
    "incrbyfloat_wrongtype_bad_value": ["RPUSH l a", "INCRBYFLOAT l abc"],
    "incrbyfloat_beyond_double": ["INCRBYFLOAT k 1e400", "INCRBYFLOAT j 1e-400", "GET k"],
    "lcs_wrongtype_before_syntax": ["RPUSH l a", "SET a x", "LCS l a FOO",
                                    "LCS l a MINMATCHLEN x", "SET k abc", "LCS a k MINMATCHLEN x",
                                    "LCS a k FOO MINMATCHLEN x", "LCS a k MINMATCHLEN x FOO",
                                    "LCS a k LEN IDX FOO", "LCS a k MINMATCHLEN"],
})


def _run(diff, keel, seq, resp3):
    require(keel, seq)
    diff(cmds(*seq), resp3=resp3)


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_resp2(sdiff, keel, name):
    _run(sdiff, keel, CASES[name], False)


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_resp3(sdiff, keel, name):
    _run(sdiff, keel, CASES[name], True)


INLINE = {
    "inline_strings": ["SET k v", "GET k", 'SET k2 "a b"', "GET k2", "MGET k k2 nope",
                       "APPEND k2 '  c'", "GET k2", "STRLEN k2"],
    "inline_numbers": ["INCR n", "INCRBY n 5", "DECRBY n 2", "INCRBYFLOAT n 1.5", "GET n",
                       "SETRANGE n 0 9", "GET n", "GETRANGE n 0 -1"],
    "inline_lcs": ["MSET a ohmytext b mynewtext", "LCS a b IDX WITHMATCHLEN MINMATCHLEN 2"],
}


@pytest.mark.parametrize("name", sorted(INLINE))
def test_inline(sdiff, name):
    sdiff.inline(INLINE[name])


# ---------------------------------------------------------------------------
# Lazy expiry: a key whose time has passed is absent for every string command

def test_lazy_expiry_seen_by_string_commands(sdiff, keel):
    cmds_after = ["GET k1", "MGET k1 k2", "STRLEN k2", "GETRANGE k3 0 -1", "APPEND k4 x",
                  "GET k4", "INCR k5", "INCRBYFLOAT k6 1.5", "SETRANGE k7 1 x", "GET k7",
                  "SETNX k8 new", "GET k8", "MSETNX k9 1 k10 2", "GETSET k11 y", "GETDEL k12",
                  "GETEX k13", "LCS k1 k2", "SET k14 v NX", "SET k15 v XX", "GETEX k16 PERSIST",
                  "TTL k4", "TTL k5", "TTL k8"]
    setup = ["SET k%d v%d PX 30" % (i, i) for i in range(1, 17)]
    require(keel, setup + cmds_after)
    sdiff.flush()
    for name, port in sdiff.ports.items():
        with RawConn(port) as c:
            for s in cmds(*setup):
                assert c.call(*s) == b"+OK\r\n"
    time.sleep(0.1)
    res = sdiff.replies(cmds(*cmds_after), flush=False)
    assert res["keel"] == res["redis"], _explain(cmds(*cmds_after), res)


def test_far_future_expire_survives_active_expiry(sdiff, keel):
    """Keys expiring near the end of time stay through active-expiry cycles
    (the sampler's TTL arithmetic must not overflow)."""
    setup = ["SET k v PXAT 9223372036854775807", "SET j v EXAT 9223372036854775",
             "SETEX s 9223372036854775 v", "GETEX k", "GETEX j PXAT 9223372036854775806"]
    check = ["GET k", "GET j", "GET s", "PEXPIRETIME k", "PEXPIRETIME j", "EXISTS k j s"]
    require(keel, setup + check)
    sdiff.flush()
    first = sdiff.replies(cmds(*setup), flush=False)
    assert first["keel"] == first["redis"], _explain(cmds(*setup), first)
    time.sleep(0.5)  # several server-cron ticks at hz 10
    res = sdiff.replies(cmds(*check), flush=False)
    assert res["keel"] == res["redis"], _explain(cmds(*check), res)


def _explain(seq, res):
    out = []
    for i, c in enumerate(seq):
        if res["keel"][i] != res["redis"][i]:
            out.append("#%d %s\n  keel:  %r\n  redis: %r" % (
                i, show_cmd(c), res["keel"][i], res["redis"][i]))
    return "\n".join(out[:20])


# ---------------------------------------------------------------------------
# proto-max-bulk-len: both servers started with a 1 MB limit

MB = 1024 * 1024


@pytest.fixture(scope="module")
def small_pair():
    extra = ["--proto-max-bulk-len", "1mb"]
    k = ServerProcess("keel-1mb", lambda p: harness.keel_argv(p) + extra)
    o = ServerProcess("redis-1mb", lambda p: harness.oracle_argv(p) + extra)
    k.start()
    o.start()
    yield k, o
    problems = [p for p in (k.stop(), o.stop()) if p]
    k.cleanup()
    o.cleanup()
    assert not problems, problems


def _pair_diff(small_pair, keel, seq):
    kp, op = small_pair
    require(keel, seq)
    d = harness.Differ(kp.port, op.port, timeout=20)
    d(seq)
    for srv in (kp, op):
        p = srv.health(probe=True)
        assert not p, p


def test_limit_append(small_pair, keel):
    _pair_diff(small_pair, keel, [
        ["SET", "k", "a" * (MB - 10)], ["APPEND", "k", "b" * 10], ["STRLEN", "k"],
        ["APPEND", "k", "c"], ["APPEND", "k", ""], ["STRLEN", "k"],
        ["SET", "j", "a" * (MB - 2)], ["APPEND", "j", "xyz"], ["STRLEN", "j"],
        ["APPEND", "n", "d" * 100], ["STRLEN", "n"]])


def test_limit_setrange(small_pair, keel):
    _pair_diff(small_pair, keel, [
        ["SETRANGE", "k", str(MB), "x"], ["EXISTS", "k"], ["SETRANGE", "k", str(MB - 1), "x"],
        ["STRLEN", "k"], ["SETRANGE", "k", str(MB - 1), "xy"], ["SETRANGE", "k", str(MB), ""],
        ["SETRANGE", "k", "9223372036854775807", "x"], ["SETRANGE", "j", str(MB - 3), "abcd"],
        ["EXISTS", "j"], ["SETRANGE", "j", str(MB - 3), "abc"], ["GETRANGE", "j", "-4", "-1"]])


def test_limit_lcs_transient_memory(small_pair, keel):
    # (n+1)^2 * 4 bytes of table: 400 chars fit in 1 MB, 600 do not.
    a4, b4 = ("ab" * 200), ("ba" * 200)
    a6, b6 = ("abc" * 200), ("cab" * 200)
    _pair_diff(small_pair, keel, [
        ["MSET", "a", a4, "b", b4], ["LCS", "a", "b", "LEN"], ["LCS", "a", "b", "IDX",
                                                               "MINMATCHLEN", "50"],
        ["MSET", "c", a6, "d", b6], ["LCS", "c", "d"], ["LCS", "c", "d", "LEN"],
        ["LCS", "c", "d", "IDX"], ["LCS", "c", "missing"], ["LCS", "missing", "d", "LEN"]])


# ---------------------------------------------------------------------------
# Keyspace events: the event names the string commands emit

EVENT_SEQ = ["SET k v", "SET k w EX 100", "SETNX n 1", "SETEX e 100 v", "PSETEX p 100000 v",
             "MSET a 1 b 2", "MSETNX c 1 d 2", "GETSET k x", "APPEND k y", "INCR n",
             "DECR n", "INCRBY n 5", "DECRBY n 2", "INCRBYFLOAT n 1.5", "SETRANGE k 0 Z",
             "SETRANGE k 0 ''", "GETEX k EX 100", "GETEX k PERSIST", "GETEX k PERSIST",
             "GETEX k PXAT 1", "GETDEL a", "GETDEL missing", "SET z v PXAT " + FUTURE_MS,
             "SET z2 v KEEPTTL", "SET k v GET", "SET k v NX", "INCR k", "APPEND k2 ''"]


def test_keyspace_event_names(sdiff, keel, oracle):
    require(keel, cmds(*EVENT_SEQ))
    got_redis = key_events(oracle.port, EVENT_SEQ)
    got_keel = key_events(keel.port, EVENT_SEQ)
    assert got_keel == got_redis


# ---------------------------------------------------------------------------
# Hits and misses: which string commands count as reads

HITS_SEQ = ["SET a 1", "GET a", "GET x", "MGET a x a", "STRLEN a", "STRLEN x",
            "GETRANGE a 0 1", "GETRANGE x 0 1", "SUBSTR a 0 1", "GETEX a", "GETEX x",
            "SET a 2 GET", "SET x 2 GET", "GETSET a 3", "GETSET y 3", "GETDEL y",
            "GETDEL y", "LCS a x", "INCR a", "INCRBYFLOAT a 1", "APPEND a 1",
            "SETRANGE a 0 1", "SETNX a 1", "MSETNX a 1", "SET a 1 NX", "SET q 1 XX"]


def _hits(port):
    with RawConn(port) as c:
        info = c.call("INFO", "stats")
    body = parse_one(info)[0]
    vals = {}
    for line in body.split(b"\r\n"):
        if line.startswith((b"keyspace_hits:", b"keyspace_misses:")):
            k, v = line.split(b":")
            vals[k.decode()] = int(v)
    return vals


def test_keyspace_hits_misses(sdiff, keel, oracle):
    require(keel, cmds(*HITS_SEQ))
    sdiff.flush()
    before = {"keel": _hits(keel.port), "redis": _hits(oracle.port)}
    sdiff.replies(cmds(*HITS_SEQ), flush=False)
    after = {"keel": _hits(keel.port), "redis": _hits(oracle.port)}
    delta = {n: {k: after[n][k] - before[n][k] for k in after[n]} for n in after}
    assert delta["keel"] == delta["redis"]


# ---------------------------------------------------------------------------
# Randomized: the same random sequence of string commands on both servers

KEYS = ["k1", "k2", "k3", "num", "flt", "big", "e"]
INTS = ["0", "1", "-1", "7", "42", "-100", "9223372036854775807", "-9223372036854775808",
        "9223372036854775806", "9223372036854775808", "abc", "1.5", "", " 1", "010", "1e3"]
FLOATS = ["0.1", "-0.25", "1.5", "10.5", "3.0e3", "5.0e3", "1e-5", "-7", "100", "abc", "",
          "inf", "1e308", "2.5e-3", "0x10", "123456789.123456789", "-0"]
STRS = ["", "a", "hello", "world", "ohmytext", "mynewtext", "12", "-3", "1.25", "x y",
        "\x00bin\xff", "b" * 44, "c" * 45, "d" * 120, "9223372036854775807", "0", "007"]


def _val(rng):
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(INTS)
    if roll < 0.5:
        return rng.choice(FLOATS)
    return rng.choice(STRS)


def _offset(rng):
    return rng.choice(["0", "1", "2", "5", "10", "44", "45", "60", "-1", "abc",
                       str(rng.randint(0, 80)), "536870912"])


def _index(rng):
    return rng.choice(["0", "1", "-1", "-2", "3", "-5", "100", "-100", "abc",
                       "9223372036854775807", "-9223372036854775808",
                       str(rng.randint(-60, 60)), str(rng.randint(-60, 60))])


def _set_cmd(rng, k):
    groups = []
    if rng.random() < 0.3:
        groups.append([rng.choice(["NX", "XX"])])
    if rng.random() < 0.25:
        groups.append(["GET"])
    r = rng.random()
    if r < 0.1:
        groups.append(["EX", rng.choice(["100", "1000", "0", "-1", "abc"])])
    elif r < 0.15:
        groups.append(["PX", rng.choice(["100000", "2000000"])])
    elif r < 0.2:
        groups.append(["EXAT", rng.choice([FUTURE, "1"])])
    elif r < 0.25:
        groups.append(["PXAT", rng.choice([FUTURE_MS, "1"])])
    elif r < 0.3:
        groups.append(["KEEPTTL"])
    if rng.random() < 0.03:
        groups.append(rng.choice([["NX"], ["XX"], ["EX"], ["FOO"], ["KEEPTTL"], ["PX", "5"]]))
    rng.shuffle(groups)
    return ["SET", k, _val(rng)] + [w for g in groups for w in g]


# Commands of other groups that random_command uses too.
EXTRAS = {"TTL", "EXISTS", "TYPE", "OBJECT ENCODING", "RPUSH", "DEL"}


def random_command(rng, extras):
    k = rng.choice(KEYS)
    k2 = rng.choice(KEYS)
    n = rng.random()
    choices = [
        lambda: ["GET", k],
        lambda: _set_cmd(rng, k),
        lambda: ["SETNX", k, _val(rng)],
        lambda: ["SETEX", k, rng.choice(["100", "1000", "0", "-5", "x"]), _val(rng)],
        lambda: ["PSETEX", k, rng.choice(["100000", "0", "x"]), _val(rng)],
        lambda: ["MGET"] + rng.sample(KEYS, rng.randint(1, 4)),
        lambda: ["MSET"] + sum(([rng.choice(KEYS), _val(rng)]
                                for _ in range(rng.randint(1, 3))), []),
        lambda: ["MSETNX"] + sum(([rng.choice(KEYS + ["n1", "n2"]), _val(rng)]
                                  for _ in range(rng.randint(1, 3))), []),
        lambda: ["GETSET", k, _val(rng)],
        lambda: ["GETDEL", k],
        lambda: ["GETEX", k] + rng.choice([[], ["EX", "100"], ["PX", "500000"], ["EXAT", FUTURE],
                                           ["PXAT", FUTURE_MS], ["PERSIST"], ["EXAT", "1"],
                                           ["EX", "0"], ["FOO"]]),
        lambda: ["APPEND", k, rng.choice(STRS + INTS)],
        lambda: ["STRLEN", k],
        lambda: ["INCR", k],
        lambda: ["DECR", k],
        lambda: ["INCRBY", k, rng.choice(INTS)],
        lambda: ["DECRBY", k, rng.choice(INTS)],
        # malformed increments too: reported after the key's type check
        lambda: ["INCRBYFLOAT", k, rng.choice(FLOATS)],
        lambda: ["GETRANGE", k, _index(rng), _index(rng)],
        lambda: ["SUBSTR", k, _index(rng), _index(rng)],
        lambda: ["SETRANGE", k, _offset(rng), rng.choice(STRS + INTS)],
        lambda: ["LCS", k, k2] + rng.choice([[], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"],
                                              ["IDX", "MINMATCHLEN", str(rng.randint(0, 4))],
                                              ["IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"],
                                              ["LEN", "IDX"], ["MINMATCHLEN", "3"],
                                              ["FOO"], ["MINMATCHLEN", "x"], ["MINMATCHLEN"]]),
    ]
    extra = [e for e in (
        ("TTL", lambda: Approx(["TTL", k], 1)),
        ("EXISTS", lambda: ["EXISTS", k]),
        ("TYPE", lambda: ["TYPE", k]),
        ("OBJECT ENCODING", lambda: ["OBJECT", "ENCODING", k]),
        ("RPUSH", lambda: ["RPUSH", k, "item"]),
        ("DEL", lambda: ["DEL", k]),
    ) if e[0] in extras]
    if extra and n < 0.2:
        return rng.choice(extra)[1]()
    return rng.choice(choices)()


def _lockstep(keel_port, oracle_port, seq, resp3):
    """Send each command to Keel then to Redis, alternating, so both see the
    same clock; return the first mismatches with the commands before them."""
    bad = []
    with RawConn(keel_port, timeout=10) as kc, RawConn(oracle_port, timeout=10) as oc:
        for c in (kc, oc):
            c.call("FLUSHALL")
            if resp3:
                c.call("HELLO", "3")
        for i, cmd in enumerate(seq):
            raw_cmd = cmd.cmd if isinstance(cmd, Cmd) else cmd
            kr = kc.call(*raw_cmd)
            orr = oc.call(*raw_cmd)
            same = cmd.same(kr, orr) if isinstance(cmd, Cmd) else kr == orr
            if not same:
                ctx = "\n".join("    #%d %s" % (j, show_cmd(seq[j].cmd if isinstance(seq[j], Cmd)
                                                            else seq[j]))
                                for j in range(max(0, i - 6), i))
                bad.append("#%d %s\n  keel:  %r\n  redis: %r\n  preceded by:\n%s" % (
                    i, show_cmd(raw_cmd), kr, orr, ctx))
                if len(bad) >= 5:
                    break
    return bad


@pytest.mark.parametrize("seed,count,resp3", [(20240601, 2000, False), (7, 2000, False),
                                               (4242, 1000, True)])
def test_randomized(sdiff, keel, oracle, seed, count, resp3):
    rng = random.Random(seed)
    seq = [random_command(rng, EXTRAS) for _ in range(count)]
    bad = _lockstep(keel.port, oracle.port, seq, resp3)
    assert not bad, "seed %d: %d+ replies differ:\n%s" % (seed, len(bad), "\n".join(bad))
