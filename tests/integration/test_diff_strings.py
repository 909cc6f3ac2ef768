"""Differential tests: string commands, Keel vs redis-server, raw reply bytes.

Each case is a sequence of commands run on both servers (flushed first, fresh
connection); every reply must be byte-identical unless wrapped in Approx/Sorted.
"""

import pytest

from harness import Approx, cmds

BIG = "x" * 50
FUTURE = "4102444800"  # 2100-01-01 00:00:00 UTC

CASES = {
    # ---------------------------------------------------------------- GET/SET
    "set_get": ["SET k v", "GET k", "GET missing", "SET k v2", "GET k"],
    "set_empty_value": ['SET k ""', "GET k", "STRLEN k", 'SET "" x', 'GET ""'],
    "set_binary": [["SET", b"k\x00\xff", b"\x00\r\n\xfe"], ["GET", b"k\x00\xff"]],
    "set_large": [["SET", "k", "y" * 100000], ["STRLEN", "k"], ["GETRANGE", "k", "0", "9"]],
    "set_nx": ["SET k v NX", "SET k w NX", "GET k"],
    "set_xx": ["SET k v XX", "GET k", "SET k v", "SET k w XX", "GET k"],
    "set_get_opt": ["SET k v GET", "SET k w GET", "GET k"],
    "set_get_wrongtype": ["RPUSH l a", "SET l v GET", "LLEN l", "TYPE l"],
    "set_nx_get": ["SET k v NX GET", "SET k w NX GET", "GET k"],
    "set_xx_get": ["SET k v XX GET", "SET k v", "SET k w XX GET", "GET k"],
    "set_ex": ["SET k v EX 100", "TTL k", "GET k"],
    "set_px": ["SET k v PX 100000", Approx(["PTTL", "k"], 2000), "TTL k"],
    "set_exat": ["SET k v EXAT " + FUTURE, "EXPIRETIME k", "PEXPIRETIME k"],
    "set_pxat": ["SET k v PXAT " + FUTURE + "123", "EXPIRETIME k", "PEXPIRETIME k"],
    "set_exat_past": ["SET k v EXAT 1", "EXISTS k", "GET k"],
    "set_pxat_past": ["SET k v PXAT 1", "EXISTS k"],
    "set_keepttl": ["SET k v EX 100", "SET k w KEEPTTL", "TTL k", "GET k", "SET k z", "TTL k"],
    "set_ex_zero": ["SET k v EX 0", "EXISTS k"],
    "set_ex_negative": ["SET k v EX -1", "SET k v PX -1", "SET k v EXAT -1", "SET k v PXAT 0"],
    "set_ex_overflow": ["SET k v EX 99999999999999999", "SET k v PX 99999999999999999999",
                        "SET k v EX 9223372036854775807", "SET k v PX 9223372036854775807",
                        "SET k v EXAT 9223372036854775807", "EXISTS k"],
    "set_ex_not_int": ["SET k v EX abc", "SET k v EX 1.5", "SET k v PX ''", "SET k v EX ' 1'"],
    "set_ex_missing_value": ["SET k v EX", "SET k v PX", "SET k v EXAT", "SET k v GET EX"],
    "set_keepttl_ex": ["SET k v KEEPTTL EX 10", "SET k v EX 10 KEEPTTL", "SET k v PX 10 EX 10",
                       "SET k v EX 10 EX 10", "SET k v EXAT 10 PXAT 10"],
    "set_nx_xx": ["SET k v NX XX", "SET k v XX NX", "SET k v NX NX", "EXISTS k"],
    "set_unknown_opt": ["SET k v FOO", "SET k v EX 10 FOO", "SET k v 10"],
    "set_case_insensitive_opts": ["SET k v ex 100 nx", "TTL k", "sEt k w Xx GeT", "GET k"],
    "set_order_of_errors": ["RPUSH l a", "SET l v GET NX XX", "SET l v GET EX 0",
                            "SET l v EX 0 GET"],
    "set_arity": ["SET", "SET k", "GET", "GET a b"],
    "setnx": ["SETNX k v", "SETNX k w", "GET k", "SETNX k", "SETNX k v w"],
    "setex": ["SETEX k 100 v", "TTL k", "GET k", "SETEX k 0 v", "SETEX k -5 v",
              "SETEX k abc v", "SETEX k 100", "SETEX k 99999999999999999999 v"],
    "psetex": ["PSETEX k 100000 v", "TTL k", "PSETEX k 0 v", "PSETEX k -1 v",
               "PSETEX k x v", "PSETEX k"],
    # ------------------------------------------------------------ MGET/MSET
    "mget": ["SET a 1", "SET b 2", "RPUSH l x", "MGET a b c l a", "MGET", "MGET a"],
    "mset": ["MSET a 1 b 2 c 3", "MGET a b c", "MSET a", "MSET a 1 b", "MSET",
             "MSET a x a y", "GET a"],
    "msetnx": ["MSETNX a 1 b 2", "MSETNX b 3 c 4", "MGET a b c", "MSETNX a",
               "MSETNX a 1 b", "MSETNX x 1 x 2", "GET x"],
    "mset_overwrites_type": ["RPUSH l x", "MSET l v", "TYPE l", "GET l"],
    # --------------------------------------------------- GETSET/GETDEL/GETEX
    "getset": ["GETSET k v", "GETSET k w", "GET k", "RPUSH l a", "GETSET l v", "GETSET k"],
    "getset_clears_ttl": ["SET k v EX 100", "GETSET k w", "TTL k"],
    "getdel": ["SET k v", "GETDEL k", "GETDEL k", "EXISTS k", "RPUSH l a", "GETDEL l",
               "GETDEL", "GETDEL a b"],
    "getex_plain": ["SET k v", "GETEX k", "TTL k", "GETEX missing"],
    "getex_ex": ["SET k v", "GETEX k EX 100", "TTL k", "GETEX k PX 200000", "TTL k"],
    "getex_exat": ["SET k v", "GETEX k EXAT " + FUTURE, "EXPIRETIME k",
                   "GETEX k PXAT " + FUTURE + "000", "PEXPIRETIME k"],
    "getex_persist": ["SET k v EX 100", "GETEX k PERSIST", "TTL k"],
    "getex_bad": ["SET k v", "GETEX k PERSIST EX 10", "GETEX k EX 10 PERSIST",
                  "GETEX k EX 0", "GETEX k EX -1", "GETEX k PX 0", "GETEX k EX abc",
                  "GETEX k EX", "GETEX k FOO", "GETEX k EX 10 PX 10",
                  "GETEX k EX 99999999999999999", "TTL k", "GETEX"],
    "getex_past": ["SET k v", "GETEX k EXAT 1", "EXISTS k"],
    "getex_wrongtype": ["RPUSH l a", "GETEX l", "GETEX l EX 10"],
    # ------------------------------------------------------- APPEND/STRLEN
    "append": ["APPEND k abc", "APPEND k def", "GET k", "STRLEN k", 'APPEND k ""',
               "APPEND missing ''", "EXISTS missing", "STRLEN missing"],
    "append_int": ["SET k 12", "APPEND k 34", "GET k", "INCR k", "OBJECT ENCODING k"],
    "append_wrongtype": ["RPUSH l a", "APPEND l x", "STRLEN l", "APPEND k", "STRLEN"],
    "strlen_int": ["SET k 12345", "STRLEN k", "SET k -1", "STRLEN k"],
    # --------------------------------------------------------- INCR family
    "incr": ["INCR k", "INCR k", "GET k", "DECR k", "DECR k", "DECR k", "GET k"],
    "incrby": ["INCRBY k 10", "INCRBY k -25", "DECRBY k 5", "DECRBY k -100", "GET k"],
    "incr_not_int": ["SET k abc", "INCR k", "SET k 1.5", "INCR k", 'SET k ""', "INCR k",
                     "SET k ' 1'", "INCR k", "SET k '1 '", "INCR k", "SET k +1", "INCR k",
                     "SET k 01", "INCR k", "SET k -0", "INCR k"],
    "incr_overflow": ["SET k 9223372036854775807", "INCR k", "GET k",
                      "SET k -9223372036854775808", "DECR k", "INCRBY k -1",
                      "SET k 9223372036854775808", "INCR k"],
    "incrby_bad_arg": ["INCRBY k abc", "INCRBY k 1.5", "INCRBY k 9223372036854775808",
                       "INCRBY k ''", "DECRBY k x", "INCRBY k", "INCRBY k 1 2",
                       "DECRBY k -9223372036854775808", "EXISTS k"],
    "incrby_overflow": ["SET k 10", "INCRBY k 9223372036854775800", "DECRBY k 100",
                        "SET k -10", "DECRBY k 9223372036854775800"],
    "incr_wrongtype": ["RPUSH l a", "INCR l", "DECR l", "INCRBY l 1", "INCRBYFLOAT l 1"],
    "incr_keeps_ttl": ["SET k 1 EX 100", "INCR k", "TTL k"],
    "incr_arity": ["INCR", "INCR a b", "DECR", "DECRBY k"],
    # --------------------------------------------------------- INCRBYFLOAT
    "incrbyfloat_basic": ["SET k 10.5", "INCRBYFLOAT k 0.1", "INCRBYFLOAT k -5",
                          "INCRBYFLOAT k 2.0e2", "GET k"],
    "incrbyfloat_exp": ["SET k 5.0e3", "INCRBYFLOAT k 2.0e2", "INCRBYFLOAT k 3.0e3",
                        "INCRBYFLOAT new 3.0e3", "INCRBYFLOAT new2 5.0e3", "INCRBYFLOAT new3 1e0"],
    "incrbyfloat_precision": ["INCRBYFLOAT k 0.1", "INCRBYFLOAT k 0.2", "INCRBYFLOAT k 0.3",
                              "INCRBYFLOAT j 1.1", "INCRBYFLOAT j 2.2", "INCRBYFLOAT j -3.3",
                              "INCRBYFLOAT z 0.0000001", "INCRBYFLOAT z 1e-17"],
    "incrbyfloat_int": ["SET k 3", "INCRBYFLOAT k 1", "INCRBYFLOAT k 1.0", "GET k",
                        "OBJECT ENCODING k", "INCRBYFLOAT k -4"],
    "incrbyfloat_huge": ["INCRBYFLOAT k 1e300", "INCRBYFLOAT k 1e300", "GET k",
                         "INCRBYFLOAT k 1.7e308", "INCRBYFLOAT k 1e308", "GET k"],
    "incrbyfloat_small": ["INCRBYFLOAT k 1e-300", "INCRBYFLOAT k 5e-324", "GET k",
                          "INCRBYFLOAT j 123456789012345678", "INCRBYFLOAT j 0.5"],
    "incrbyfloat_inf_nan": ["INCRBYFLOAT k inf", "INCRBYFLOAT k -inf", "INCRBYFLOAT k nan",
                            "INCRBYFLOAT k +inf", "INCRBYFLOAT k infinity",
                            "SET k inf", "INCRBYFLOAT k 1", "SET k nan", "INCRBYFLOAT k 1",
                            "EXISTS k"],
    "incrbyfloat_bad": ["INCRBYFLOAT k abc", "INCRBYFLOAT k ''", "INCRBYFLOAT k ' 1'",
                        "INCRBYFLOAT k 1x", "SET s abc", "INCRBYFLOAT s 1",
                        "INCRBYFLOAT k", "INCRBYFLOAT k 1 2", "INCRBYFLOAT k 0x10",
                        "EXISTS k"],
    "incrbyfloat_overflow": ["SET k 1e308", "INCRBYFLOAT k 1e308", "GET k",
                             "SET k -1e308", "INCRBYFLOAT k -1e308"],
    "incrbyfloat_keeps_ttl": ["SET k 1 EX 100", "INCRBYFLOAT k 1.5", "TTL k"],
    # -------------------------------------------------- GETRANGE/SETRANGE
    "getrange": ["SET k 'Hello World'", "GETRANGE k 0 4", "GETRANGE k -5 -1",
                 "GETRANGE k 0 -1", "GETRANGE k 5 3", "GETRANGE k 100 200",
                 "GETRANGE k -100 -50", "GETRANGE k -100 2", "GETRANGE k 0 100",
                 "GETRANGE k -1 -5", "GETRANGE missing 0 -1"],
    "getrange_bad": ["SET k abc", "GETRANGE k a 1", "GETRANGE k 0 1.5", "GETRANGE k 0",
                     "RPUSH l a", "GETRANGE l 0 1",
                     "GETRANGE k 0 9223372036854775807", "GETRANGE k -9223372036854775808 0"],
    "getrange_int": ["SET k 12345", "GETRANGE k 1 3", "GETRANGE k -2 -1"],
    "substr": ["SET k 'Hello World'", "SUBSTR k 0 4", "SUBSTR k -3 -1", "SUBSTR k 5 1",
               "SUBSTR missing 0 1", "SUBSTR k 0"],
    "setrange": ["SETRANGE k 0 hello", "SETRANGE k 6 world", "GET k", "STRLEN k",
                 "SETRANGE k 2 ''", "GET k", "SETRANGE missing 0 ''", "EXISTS missing",
                 "SETRANGE missing 5 ''", "EXISTS missing"],
    "setrange_pad": ["SETRANGE k 5 x", "GET k", "SET j abc", "SETRANGE j 1 Z", "GET j",
                     "SET i 123", "SETRANGE i 1 9", "GET i", "OBJECT ENCODING i"],
    "setrange_bad": ["SETRANGE k -1 x", "SETRANGE k abc x", "SETRANGE k 536870912 x",
                     "SETRANGE k 536870911 ''", "SETRANGE k 0", "RPUSH l a",
                     "SETRANGE l 0 x", "EXISTS k"],
    # ------------------------------------------------------------------ LCS
    "lcs_basic": ["MSET a ohmytext b mynewtext", "LCS a b", "LCS a b LEN",
                  "LCS b a", "LCS a missing", "LCS missing missing2", "LCS missing missing2 LEN"],
    "lcs_idx": ["MSET a ohmytext b mynewtext", "LCS a b IDX", "LCS a b IDX MINMATCHLEN 4",
                "LCS a b IDX WITHMATCHLEN", "LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN",
                "LCS a b WITHMATCHLEN IDX MINMATCHLEN 0", "LCS a b IDX MINMATCHLEN -5"],
    "lcs_errors": ["MSET a abc b abd", "LCS a b LEN IDX", "LCS a b IDX LEN", "LCS a b FOO",
                   "LCS a b MINMATCHLEN", "LCS a b MINMATCHLEN x", "LCS a", "LCS",
                   "RPUSH l x", "LCS a l", "LCS l a"],
    "lcs_len_only_opts": ["MSET a abcdefg b xbcdyfg", "LCS a b MINMATCHLEN 2",
                          "LCS a b WITHMATCHLEN", "LCS a b LEN WITHMATCHLEN",
                          "LCS a b IDX MINMATCHLEN 2 WITHMATCHLEN"],
    "lcs_same_key": ["SET a hello", "LCS a a", "LCS a a IDX WITHMATCHLEN"],
    "lcs_int_encoded": ["SET a 123456", "SET b 1x3y5z", "LCS a b", "LCS a b IDX"],
    "lcs_resp3_shape": ["MSET a ohmytext b mynewtext", "LCS a b IDX WITHMATCHLEN"],
    # ------------------------- the room a string keeps (seen by MEMORY USAGE)
    # a grown string's room is jemalloc's usable size (APPEND then SETRANGE
    # within it does not grow); a string a command creates (SETRANGE, SETBIT
    # on a new key, BITOP's result) keeps sdsnewlen's usable room; SET trims
    "string_room_grown": ["SET s 77335", "APPEND s xxx", "MEMORY USAGE s",
                          "SETRANGE s 15 75315", "MEMORY USAGE s", "APPEND s " + "y" * 20,
                          "MEMORY USAGE s", "APPEND s " + "y" * 300, "MEMORY USAGE s"],
    "string_room_created": ["SETRANGE s 43 abc", "MEMORY USAGE s", "APPEND s 1e2",
                            "MEMORY USAGE s", "SETBIT b 400 1", "APPEND b abc",
                            "MEMORY USAGE b", "SET x " + BIG, "BITOP OR d x b", "APPEND d abc",
                            "MEMORY USAGE d", "SETRANGE t 300 z", "APPEND t abc",
                            "MEMORY USAGE t", "SET u " + BIG, "APPEND u abc", "MEMORY USAGE u"],
    # SET trims the room only when over a tenth of the length (55 bytes keep
    # 5, 100 keep 8); an embstr or int unshared by APPEND gets sdsnewlen's
    # room first; COPY and INCRBYFLOAT store the string untrimmed
    "string_room_set": ["SET a " + "y" * 55, "APPEND a yyyyy", "MEMORY USAGE a",
                        "SET b " + "y" * 100, "APPEND b " + "y" * 8, "MEMORY USAGE b",
                        "APPEND b y", "MEMORY USAGE b", "SET c " + "y" * 40, "APPEND c yyyy",
                        "MEMORY USAGE c", "APPEND n " + "y" * 46, "APPEND n y", "MEMORY USAGE n",
                        "GETSET g " + "y" * 56, "APPEND g yyyy", "MEMORY USAGE g"],
    "string_room_copy": ["SET a " + "y" * 50, "COPY a b", "APPEND b yyyyy", "MEMORY USAGE b",
                         "APPEND a y", "MEMORY USAGE a", "INCRBYFLOAT f 1e300", "APPEND f yyy",
                         "MEMORY USAGE f"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_strings(diff, name):
    diff(cmds(*CASES[name]))


# RESP3 changes the shape of a few string replies (LCS IDX is a map; nulls are _).
RESP3_CASES = ["set_get", "set_get_opt", "mget", "getdel", "getex_plain", "lcs_idx",
               "lcs_resp3_shape", "incrbyfloat_basic", "set_nx", "getset"]


@pytest.mark.parametrize("name", RESP3_CASES)
def test_strings_resp3(diff, name):
    diff.resp3(cmds(*CASES[name]))


INLINE_CASES = {
    "inline_set_get": ["SET k v", "GET k", "SET k2 \"a b\"", "GET k2", "MGET k k2 nope"],
    "inline_incr": ["INCR n", "INCRBY n 5", "INCRBYFLOAT n 1.5", "GET n"],
    "inline_quotes": ['SET k "\\x41\\x42\\n"', "GET k",
                      "SET k \"tab\\there\"", "GET k", "SET k 'a\\'b'", "GET k"],
    "inline_adjacent_quotes": ["SET k v", "SET k 'it''s'", "GET k"],
    "inline_empty_and_spaces": ["   SET   k    v   ", "GET k", "SET e \"\"", "STRLEN e"],
}


@pytest.mark.parametrize("name", sorted(INLINE_CASES))
def test_strings_inline(diff, name):
    diff.inline(INLINE_CASES[name])
