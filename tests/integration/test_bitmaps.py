"""Differential tests for the bitmap group (core/commands/cmd_bitmap.c), Keel vs redis-server 7.0:
SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.

Every case runs on both servers (FLUSHALL first, fresh connection) and the raw
reply bytes must be equal, in RESP2 and for a subset in RESP3. Besides the tables:

- offset limits with proto-max-bulk-len lowered to 1mb (both servers),
- keyspace events ("setbit"; BITOP "set" / "del") and WATCH,
- encodings (a string created or changed by a bit command is raw),
- randomized sequences (fixed seeds) of every bit command compared reply by reply.

BITFIELD and BITFIELD_RO are parsed as Redis parses them (an ordered loop: the
registry's "keel_raw_arguments").
"""

import random

import pytest

from harness import RawConn, cmds, parse_one
from helpers import key_events

E44 = "e" * 44
B50 = "b" * 50

CASES = {
    # --------------------------------------------------------------- SETBIT
    "setbit_basic": ["SETBIT k 7 1", "GET k", "SETBIT k 7 1", "SETBIT k 7 0", "GET k",
                     "SETBIT k 0 1", "GET k", "STRLEN k", "SETBIT k 100 1", "STRLEN k", "GET k"],
    "setbit_existing": ["SET k abc", "SETBIT k 1 0", "GET k", "SETBIT k 23 1", "GET k",
                        "SETBIT k 24 0", "GET k", "STRLEN k"],
    "setbit_int_encoded": ["SET k 1234", "SETBIT k 0 0", "OBJECT ENCODING k", "GET k",
                           "SET j 7", "SETBIT j 6 0", "GET j", "OBJECT ENCODING j"],
    "setbit_encodings": ["SETBIT k 0 1", "OBJECT ENCODING k", "SET e " + E44, "SETBIT e 1 1",
                         "OBJECT ENCODING e", "SET r " + B50, "SETBIT r 1 1",
                         "OBJECT ENCODING r", "SETBIT z 0 0", "OBJECT ENCODING z"],
    "setbit_errors": ["SETBIT k -1 1", "SETBIT k x 1", "SETBIT k 1.5 1", "SETBIT k 0 2",
                      "SETBIT k 0 -1", "SETBIT k 0 x", "SETBIT k x x", "SETBIT k -1 x",
                      "SETBIT k 4294967296 1", "SETBIT k 4294967296 x",
                      "SETBIT k 9223372036854775807 1", "SETBIT k ''  1", "SETBIT k 0 ''",
                      "SETBIT k 0", "SETBIT k", "SETBIT k 0 1 2", "EXISTS k"],
    "setbit_wrongtype": ["RPUSH l a", "SETBIT l 0 1", "SETBIT l x 1", "SETBIT l 0 5",
                         "HSET h a 1", "SETBIT h 0 1"],
    "setbit_keeps_ttl": ["SET k abc EX 100", "SETBIT k 100 1", "TTL k"],
    # --------------------------------------------------------------- GETBIT
    "getbit": ["SET k abc", "GETBIT k 1", "GETBIT k 2", "GETBIT k 23", "GETBIT k 24",
               "GETBIT k 1000000", "GETBIT missing 0", "GETBIT k 4294967295"],
    "getbit_int": ["SET k 12", "GETBIT k 2", "GETBIT k 3", "GETBIT k 7", "GETBIT k 10",
                   "GETBIT k 16", "OBJECT ENCODING k"],
    "getbit_errors": ["GETBIT k -1", "GETBIT k x", "GETBIT k 4294967296", "RPUSH l a",
                      "GETBIT l 0", "GETBIT l x", "GETBIT k", "GETBIT k 1 2"],
    # ------------------------------------------------------------- BITCOUNT
    "bitcount_basic": ["SET k foobar", "BITCOUNT k", "BITCOUNT k 0 0", "BITCOUNT k 1 1",
                       "BITCOUNT k 1 -2", "BITCOUNT k -2 -1", "BITCOUNT k 0 -1",
                       "BITCOUNT k 2 1", "BITCOUNT k -100 100", "BITCOUNT missing",
                       "BITCOUNT missing 0 1"],
    "bitcount_negative": ["SET k foobar", "BITCOUNT k -5 -10", "BITCOUNT k -10 -5",
                          "BITCOUNT k -1 -1", "BITCOUNT k -100 -50", "BITCOUNT k 5 -10",
                          "BITCOUNT k -3 2"],
    "bitcount_bit_unit": ["SET k foobar", "BITCOUNT k 5 30 BIT", "BITCOUNT k 0 -1 bit",
                          "BITCOUNT k 5 -10 BIT", "BITCOUNT k -1 -3 BIT",
                          "BITCOUNT k 3 9 BIT", "BITCOUNT k 7 7 BIT", "BITCOUNT k 8 15 BIT",
                          "BITCOUNT k 1 2 BYTE", "BITCOUNT k 1 2 byte", "BITCOUNT k 0 1000 BIT",
                          "BITCOUNT k -1000 -1 BIT", "BITCOUNT k 47 47 BIT"],
    "bitcount_empty_and_int": ["SET z ''", "BITCOUNT z", "BITCOUNT z 0 -1", "BITCOUNT z 0 -1 BIT",
                               "SET n 1234", "BITCOUNT n", "BITCOUNT n 1 1", "BITCOUNT n 1 9 BIT"],
    "bitcount_long": ["SET k " + "\xff" * 300, "BITCOUNT k", "BITCOUNT k 3 250",
                      "BITCOUNT k 9 2000 BIT", "SETRANGE k 1000 x", "BITCOUNT k"],
    "bitcount_errors": ["SET k foobar", "BITCOUNT k 0", "BITCOUNT k a b", "BITCOUNT k 0 b",
                        "BITCOUNT k 0 1 foo", "BITCOUNT k 0 1 2 3", "BITCOUNT k 0 1 BIT BIT",
                        "BITCOUNT k 1.5 2", "RPUSH l a", "BITCOUNT l", "BITCOUNT l 0 1",
                        "BITCOUNT l a b", "BITCOUNT missing a b", "BITCOUNT"],
    # --------------------------------------------------------------- BITPOS
    "bitpos_basic": ["SET k '\xff\xf0\x00'", "BITPOS k 0", "BITPOS k 1", "BITPOS k 0 1",
                     "BITPOS k 1 1", "BITPOS k 1 2", "BITPOS k 0 2", "BITPOS k 0 0 0",
                     "BITPOS k 1 2 -1", "BITPOS k 0 -1", "BITPOS k 1 -1 -1"],
    "bitpos_all_ones": ["SET k '\xff\xff\xff'", "BITPOS k 0", "BITPOS k 0 1", "BITPOS k 0 0 -1",
                        "BITPOS k 0 1 -1", "BITPOS k 1", "BITPOS k 0 10 20"],
    "bitpos_all_zeros": ["SET k '\x00\x00\x00'", "BITPOS k 1", "BITPOS k 0", "BITPOS k 1 1",
                         "BITPOS k 1 0 -1", "BITPOS k 0 2"],
    "bitpos_missing": ["BITPOS missing 0", "BITPOS missing 1", "BITPOS missing 0 5",
                       "BITPOS missing 1 0 -1 BIT", "BITPOS missing 1 a", "BITPOS missing 1 0 a"],
    "bitpos_bit_unit": ["SET k foobar", "BITPOS k 1 3 9 BIT", "BITPOS k 0 3 9 BIT",
                        "BITPOS k 0 -3 -10 BIT", "BITPOS k 0 -10 -3 BIT", "BITPOS k 1 7 7 BIT",
                        "BITPOS k 0 7 7 BIT", "BITPOS k 1 0 -1 bit", "BITPOS k 0 1 100 BIT",
                        "BITPOS k 1 40 47 BIT", "BITPOS k 0 0 -1 byte", "BITPOS k 1 2 2 BYTE"],
    "bitpos_empty_and_int": ["SET z ''", "BITPOS z 0", "BITPOS z 1", "BITPOS z 0 0",
                             "BITPOS z 0 0 -1", "SET n 1234", "BITPOS n 1", "BITPOS n 0 1",
                             "BITPOS n 0 -1 -1", "BITPOS n 1 3 20 BIT"],
    "bitpos_long_runs": ["SETBIT k 5000 1", "BITPOS k 1", "BITPOS k 1 10", "BITPOS k 0",
                         "BITPOS k 1 0 -1 BIT", "BITPOS k 1 4999 5001 BIT",
                         "BITPOS k 1 5001 -1 BIT", "BITOP NOT j k", "BITPOS j 0",
                         "BITPOS j 0 3 -1 BIT", "BITPOS j 1 625", "BITPOS j 0 626"],
    # A start byte past the end, even one whose bit index overflows: an empty
    # range (Keel multiplied before comparing and crashed on LLONG_MAX).
    "bitpos_huge_range": ["SET s '\xff\xff\xff'", "BITPOS s 0 9223372036854775807",
                          "BITPOS s 1 9223372036854775807 -1", "BITPOS s 1 1152921504606846976",
                          "BITPOS s 0 -9223372036854775808 9223372036854775807 BIT",
                          "BITPOS s 1 9223372036854775807 9223372036854775807 BIT",
                          "BITPOS s 0 3", "BITPOS s 1 3 -1", "SET e ''",
                          "BITPOS e 0 9223372036854775807", "BITPOS e 1 0 -1"],
    "bitpos_errors": ["SET k foobar", "BITPOS k 2", "BITPOS k -1", "BITPOS k x",
                      "BITPOS missing 2", "BITPOS missing x", "BITPOS k 1 a", "BITPOS k 1 0 a",
                      "BITPOS k 1 0 1 bat", "BITPOS k 1 0 1 2 3", "RPUSH l a", "BITPOS l 1",
                      "BITPOS l 2", "BITPOS l 1 a", "BITPOS k", "BITPOS"],
    # ---------------------------------------------------------------- BITOP
    "bitop_basic": ["SET a '\x0f\xf0\xaa'", "SET b '\xff\x00'", "BITOP AND d a b", "GET d",
                    "BITOP OR d a b", "GET d", "BITOP XOR d a b", "GET d", "BITOP NOT d a",
                    "GET d", "OBJECT ENCODING d", "STRLEN d"],
    "bitop_missing_and_empty": ["SET a abc", "BITOP AND d a nokey", "GET d", "BITOP OR d nokey a",
                                "GET d", "BITOP AND d nokey nokey2", "EXISTS d", "SET e ''",
                                "BITOP OR d e", "EXISTS d", "SET d x", "BITOP XOR d e nokey",
                                "EXISTS d"],
    "bitop_many_keys": ["SET a foobar", "SET b barfoo", "SET c 1234567890", "SET d2 x",
                        "BITOP AND d a b c d2", "GET d", "BITOP OR d a b c d2", "GET d",
                        "BITOP XOR d a b c d2", "GET d", "BITOP XOR d a a", "GET d"],
    "bitop_long": ["SET a " + "\xaa" * 100, "SET b " + "\x55" * 77, "BITOP AND d a b", "GET d",
                   "BITOP OR d a b", "GET d", "BITOP XOR d b a", "GET d", "BITOP NOT d a",
                   "GET d"],
    "bitop_dest_is_source": ["SET a abc", "BITOP NOT a a", "GET a", "BITOP OR a a a", "GET a"],
    "bitop_overwrites_other_type": ["RPUSH d x", "SET a abc", "BITOP AND d a", "TYPE d", "GET d"],
    "bitop_drops_ttl": ["SET d x EX 100", "SET a abc", "BITOP OR d a", "TTL d"],
    "bitop_int_encoded": ["SET a 12345", "SET b 678", "BITOP AND d a b", "GET d",
                          "OBJECT ENCODING a", "OBJECT ENCODING d"],
    "bitop_errors": ["SET a abc", "BITOP FOO d a", "BITOP NOT d a a", "BITOP NOT d",
                     "BITOP AND d", "BITOP", "BITOP AND", "RPUSH l x", "BITOP AND d a l",
                     "BITOP NOT d l", "BITOP and d a", "BITOP AnD d a", "BITOP 'and ' d a"],
}

# BITFIELD / BITFIELD_RO: keel_raw_arguments (Redis's ordered loop).
BITFIELD_CASES = {
    "bitfield_get_set": ["BITFIELD k SET i8 0 100 GET i8 0", "GET k", "BITFIELD k GET u4 0 GET u4 4",
                         "BITFIELD k SET u8 8 255 GET u8 8 GET i8 8", "GET k", "STRLEN k"],
    "bitfield_hash_offsets": ["BITFIELD k SET u8 #0 1 SET u8 #1 2 SET u8 #2 3", "GET k",
                              "BITFIELD k GET u8 #1 GET u16 #1 GET i5 #3", "BITFIELD k GET u8 #-1",
                              "BITFIELD k GET u8 '#'", "BITFIELD k GET u8 '#x'",
                              "BITFIELD k INCRBY u8 #1 10", "GET k"],
    "bitfield_incrby": ["BITFIELD k INCRBY i5 100 1", "BITFIELD k INCRBY i5 100 1 GET i5 100",
                        "BITFIELD k INCRBY u2 0 1 INCRBY u2 0 1 INCRBY u2 0 1 INCRBY u2 0 1"],
    "bitfield_overflow": ["BITFIELD k OVERFLOW FAIL SET i8 0 200 OVERFLOW SAT SET i8 0 200 "
                          "SET i8 0 -200 OVERFLOW WRAP SET i8 0 -200",
                          "BITFIELD k OVERFLOW FAIL INCRBY u2 0 5 OVERFLOW SAT INCRBY u2 0 5 "
                          "INCRBY u2 0 -10 OVERFLOW WRAP INCRBY u2 0 -10",
                          "BITFIELD k overflow sat incrby i8 0 1000 incrby i8 0 -1000",
                          "BITFIELD k OVERFLOW FAIL INCRBY i8 0 1000 GET i8 0", "GET k"],
    "bitfield_64bit": ["BITFIELD k SET i64 0 9223372036854775807 INCRBY i64 0 1 OVERFLOW SAT "
                       "INCRBY i64 0 1 INCRBY i64 0 -9223372036854775808 OVERFLOW FAIL "
                       "INCRBY i64 0 -9223372036854775808",
                       "BITFIELD k SET u63 0 9223372036854775807 INCRBY u63 0 1 OVERFLOW SAT "
                       "INCRBY u63 0 1 INCRBY u63 0 -9223372036854775808 OVERFLOW FAIL "
                       "INCRBY u63 0 -1",
                       "BITFIELD k SET u63 0 -1 GET u63 0 SET i5 100 -17 GET i5 100 GET u5 100 "
                       "GET i5 99", "GET k", "BITFIELD k GET i64 3 GET u63 5 GET i64 100",
                       "BITFIELD k SET i64 7 -1 GET u63 7 GET i64 6", "GET k"],
    "bitfield_unaligned": ["SET k foobar", "BITFIELD k GET i3 1 GET u13 5 GET i17 20 GET u31 17",
                           "BITFIELD k SET i13 5 -1000 GET i13 5 GET u13 5", "GET k"],
    "bitfield_past_end": ["SET k ab", "BITFIELD k GET u8 16 GET i16 12 GET u32 40",
                          "BITFIELD k SET u8 40 7", "GET k", "STRLEN k"],
    "bitfield_missing_key": ["BITFIELD nokey GET i8 0 GET u4 3", "EXISTS nokey", "BITFIELD nokey",
                             "EXISTS nokey", "BITFIELD nokey OVERFLOW SAT", "EXISTS nokey",
                             "BITFIELD nokey OVERFLOW FAIL INCRBY u2 0 100", "EXISTS nokey",
                             "GET nokey", "OBJECT ENCODING nokey"],
    "bitfield_int_encoded": ["SET n 1234", "BITFIELD n GET i8 0 GET u32 3", "OBJECT ENCODING n",
                             "BITFIELD n SET i8 0 100", "OBJECT ENCODING n", "GET n"],
    "bitfield_types": ["BITFIELD k GET I8 0", "BITFIELD k GET u64 0", "BITFIELD k GET i64 0",
                       "BITFIELD k GET i65 0", "BITFIELD k GET u63 0", "BITFIELD k GET i0 0",
                       "BITFIELD k GET u0 0", "BITFIELD k GET i 0", "BITFIELD k GET '' 0",
                       "BITFIELD k GET x8 0", "BITFIELD k GET i08 0", "BITFIELD k GET i-1 0",
                       "BITFIELD k GET 'i8 ' 0", "BITFIELD k GET i1 0", "BITFIELD k GET u1 0"],
    "bitfield_offsets": ["BITFIELD k GET i8 -1", "BITFIELD k GET i8 #-1", "BITFIELD k GET i8 x",
                         "BITFIELD k GET i8 4294967296", "BITFIELD k GET i8 4294967295",
                         "BITFIELD k GET i8 #536870911", "BITFIELD k GET i8 #536870912",
                         "BITFIELD k GET i8 ''", "BITFIELD k GET i8 1.0", "EXISTS k"],
    "bitfield_errors_order": ["BITFIELD k GET x8 0 SET i8", "BITFIELD k GET i8 0 SET i8",
                              "BITFIELD k SET i8 0 abc", "BITFIELD k SET i8 x abc",
                              "BITFIELD k SET x8 x abc", "BITFIELD k GET i8 x SET i8 0 y",
                              "BITFIELD k SET i8 0 1 GET x8 0", "BITFIELD k INCRBY i8 0",
                              "BITFIELD k FOO", "BITFIELD k GET", "BITFIELD k GET i8",
                              "BITFIELD k OVERFLOW", "BITFIELD k OVERFLOW foo",
                              "BITFIELD k OVERFLOW wrap GET i8 0 OVERFLOW",
                              "BITFIELD k SET i8 0 9223372036854775808", "EXISTS k"],
    "bitfield_wrongtype": ["RPUSH l a", "BITFIELD l GET i8 0", "BITFIELD l SET i8 0 1",
                           "BITFIELD l", "BITFIELD l GET x8 0", "BITFIELD_RO l GET i8 0",
                           "BITFIELD_RO l"],
    "bitfield_ro": ["SET k foobar", "BITFIELD_RO k GET i8 0 GET u4 #3", "BITFIELD_RO k",
                    "BITFIELD_RO k SET i8 0 1", "BITFIELD_RO k INCRBY i8 0 1",
                    "BITFIELD_RO k GET i8 0 OVERFLOW SAT", "BITFIELD_RO k OVERFLOW FAIL GET u8 0",
                    "BITFIELD_RO k GET x8 0", "BITFIELD_RO nokey GET u8 0", "EXISTS nokey",
                    "BITFIELD_RO k GET i8", "BITFIELD_RO k SET i8 0 x", "GET k"],
    "bitfield_many_ops": ["BITFIELD k " + " ".join("INCRBY u8 #%d %d" % (i % 7, i) for i in range(40)),
                          "GET k", "BITFIELD k " + " ".join("GET i4 #%d" % i for i in range(20))],
}

RESP3_CASES = ["setbit_basic", "bitcount_bit_unit", "bitpos_basic", "bitop_basic"]
BITFIELD_RESP3 = ["bitfield_overflow", "bitfield_64bit", "bitfield_ro", "bitfield_missing_key"]


@pytest.fixture
def bfdiff(diff):
    """diff, for the BITFIELD cases."""
    return diff


@pytest.mark.parametrize("name", sorted(CASES))
def test_bitmaps(diff, name):
    diff(cmds(*CASES[name]))


@pytest.mark.parametrize("name", RESP3_CASES)
def test_bitmaps_resp3(diff, name):
    diff.resp3(cmds(*CASES[name]))


@pytest.mark.parametrize("name", sorted(BITFIELD_CASES))
def test_bitfield(bfdiff, name):
    bfdiff(cmds(*BITFIELD_CASES[name]))


@pytest.mark.parametrize("name", BITFIELD_RESP3)
def test_bitfield_resp3(bfdiff, name):
    bfdiff.resp3(cmds(*BITFIELD_CASES[name]))


# Redis 7.0 looks the key up before it checks the shape of BITCOUNT/BITPOS's
# optional range (keel_deferred_from), so a missing (or wrong-type) key hides
# a syntax error there; then it parses start, end (BITPOS: start, the unit,
# end) and the unit in that order.
RANGE_ORDER = {
    "bitcount_missing_bad_shape": ["BITCOUNT missing 0", "BITCOUNT missing 0 1 foo"],
    "bitpos_missing_bad_shape": ["BITPOS missing 0 0 1 foo", "RPUSH l a", "BITPOS l 1 0 1 foo"],
    "bitcount_range_order": ["SET k abc", "BITCOUNT k 0", "BITCOUNT k x 1 FOO",
                             "BITCOUNT k 0 1 FOO", "BITCOUNT k -1 -2 FOO", "BITCOUNT k 0 1 BIT BIT",
                             "BITCOUNT k x 1 BIT BIT", "BITCOUNT k 0 1 FOO BAR",
                             "BITCOUNT k 0 1 FOO BIT", "BITCOUNT k 0 x", "BITCOUNT k 0 -1 bit"],
    "bitfield_loop_order": ["BITFIELD k GET i99 0 FOO", "BITFIELD k OVERFLOW",
                            "BITFIELD k OVERFLOW foo GET x", "BITFIELD k OVERFLOW SAT",
                            "BITFIELD k GET u8 0 GET u8", "BITFIELD k SET u8 #1 300 INCRBY i8 0 x",
                            "BITFIELD k SET u8 #1 300 GET u8 #1 OVERFLOW FAIL INCRBY u8 #1 1000 "
                            "OVERFLOW WRAP INCRBY u8 8 1000", "BITFIELD k GET u8 -1",
                            "BITFIELD k GET u8 #-1", "BITFIELD_RO k GET u8 0 SET u8 0 1",
                            "BITFIELD_RO k GET u64 0", "RPUSH l a", "BITFIELD l GET u8 0 FOO",
                            "BITFIELD l FOO", "BITFIELD_RO l GET u8 0",
                            "BITFIELD k OVERFLOW SAT OVERFLOW SAT OVERFLOW FAIL"],
    "bitpos_range_order": ["SET k abc", "BITPOS k 1 0 x FOO", "BITPOS k 1 x 0 FOO",
                           "BITPOS k 1 0 1 BIT BIT", "BITPOS k 1 0 1 FOO x", "BITPOS k 1 x",
                           "BITPOS k 2 0", "BITPOS missing 1 x", "BITPOS k 0 0 1 byte"],
}


@pytest.mark.parametrize("name", sorted(RANGE_ORDER))
def test_range_order(diff, name):
    diff(cmds(*RANGE_ORDER[name]))


# ------------------------------------------------------------ offset limits


def test_offset_limit_follows_proto_max_bulk_len(diff):
    seq = ["CONFIG SET proto-max-bulk-len 1mb",
           "SETBIT k 8388607 1", "STRLEN k", "SETBIT k 8388608 1", "GETBIT k 8388608",
           "GETBIT k 8388607", "BITCOUNT k", "BITPOS k 1", "BITPOS k 0 -1",
           "SETBIT j 8388608 0", "EXISTS j"]
    try:
        diff(cmds(*seq))
    finally:
        for port in diff.ports.values():
            with RawConn(port) as c:
                c.call("CONFIG", "SET", "proto-max-bulk-len", "512mb")


def test_bitfield_offset_limit(bfdiff):
    seq = ["CONFIG SET proto-max-bulk-len 1mb", "BITFIELD k SET u8 8388600 255",
           "BITFIELD k GET u8 8388600 GET i64 8388607", "BITFIELD k SET i8 8388608 1",
           "BITFIELD k GET u8 #1048575", "BITFIELD k GET u8 #1048576",
           "BITFIELD k SET i64 8388607 -1", "STRLEN k", "BITCOUNT k"]
    try:
        bfdiff(cmds(*seq))
    finally:
        for port in bfdiff.ports.values():
            with RawConn(port) as c:
                c.call("CONFIG", "SET", "proto-max-bulk-len", "512mb")


def test_big_offset_default_limit(diff):
    """The largest offset under the default 512mb limit: a 512 MB string."""
    diff(cmds("SETBIT big 4294967295 1", "STRLEN big", "GETBIT big 4294967295",
              "BITPOS big 1", "BITCOUNT big", "BITCOUNT big -1 -1", "BITPOS big 1 -1",
              "BITPOS big 0 -1 -1 BIT", "SETBIT big 4294967296 1", "DEL big"))


# ------------------------------------------------------------ events, WATCH


EVENT_SEQ = ["SETBIT k 5 1", "SETBIT k 5 1", "SETBIT k 5 0", "SETBIT k 100 0", "SETBIT k 100 0",
             "SET s abc", "SETBIT s 1 1", "BITOP AND d k s", "BITOP OR d nokey", "BITOP NOT d2 k",
             "SETBIT s x 1", "BITOP NOT d2 nokey", "GETBIT k 5", "BITCOUNT k", "BITPOS k 1"]
BITFIELD_EVENT_SEQ = ["BITFIELD b GET u8 0", "BITFIELD b SET u8 0 1", "BITFIELD b INCRBY u8 0 1",
                      "BITFIELD b OVERFLOW FAIL INCRBY u2 0 100", "BITFIELD_RO b GET u8 0",
                      "BITFIELD c OVERFLOW FAIL SET u2 0 100", "EXISTS c", "BITFIELD b SET u8 0 2",
                      "BITFIELD b SET u8 0 2", "BITFIELD b SET u8 100 0", "BITFIELD b INCRBY u8 0 0"]


def test_keyspace_events(keel, oracle):
    assert key_events(keel.port, EVENT_SEQ) == key_events(oracle.port, EVENT_SEQ)


def test_keyspace_events_bitfield(keel, oracle):
    seq = BITFIELD_EVENT_SEQ
    assert key_events(keel.port, seq) == key_events(oracle.port, seq)


def test_watch_sees_bit_changes(keel):
    with RawConn(keel.port) as a, RawConn(keel.port) as b:
        a.call("FLUSHALL")
        a.call("SET", "k", "abc")
        changes = [["SETBIT", "k", "0", "1"], ["BITOP", "NOT", "k", "k"],
                   ["BITFIELD", "k", "INCRBY", "u8", "0", "1"]]
        for change in changes:
            a.call("WATCH", "k")
            b.call(*change)
            a.call("MULTI")
            a.call("GET", "k")
            assert parse_one(a.call("EXEC"))[0] is None, change
        # SETBIT that changes nothing does not touch the key (as Redis)
        a.call("WATCH", "k")
        bit = parse_one(b.call("GETBIT", "k", "3"))[0]
        b.call("SETBIT", "k", "3", str(bit))
        a.call("MULTI")
        a.call("GET", "k")
        assert parse_one(a.call("EXEC"))[0] is not None


# ------------------------------------------------------------ randomized


def _random_bits_seq(rnd, n, bitfield):
    seq = []
    for _ in range(n):
        r = rnd.random()
        key = rnd.choice(["a", "b", "c"])
        if r < 0.12:
            length = rnd.choice([0, 1, 2, 3, 7, 8, 9, 16, 17, 40])
            val = bytes(rnd.choice([0, 255, rnd.randrange(256)]) for _ in range(length))
            seq.append(["SET", key, val])
        elif r < 0.25:
            seq.append(["SETBIT", key, str(rnd.randint(0, 400)), str(rnd.randint(0, 1))])
        elif r < 0.32:
            seq.append(["GETBIT", key, str(rnd.randint(0, 400))])
        elif r < 0.47:
            args = ["BITCOUNT", key]
            if rnd.random() < 0.8:
                args += [str(rnd.randint(-60, 60)), str(rnd.randint(-60, 60))]
                if rnd.random() < 0.6:
                    args.append(rnd.choice(["BIT", "BYTE", "bit"]))
            seq.append(args)
        elif r < 0.65:
            args = ["BITPOS", key, str(rnd.randint(0, 1))]
            if rnd.random() < 0.8:
                args.append(str(rnd.randint(-60, 60)))
                if rnd.random() < 0.7:
                    args.append(str(rnd.randint(-60, 60)))
                    if rnd.random() < 0.6:
                        args.append(rnd.choice(["BIT", "BYTE"]))
            seq.append(args)
        elif r < 0.75:
            op = rnd.choice(["AND", "OR", "XOR", "NOT"])
            srcs = [rnd.choice(["a", "b", "c", "none"])]
            if op != "NOT":
                srcs += [rnd.choice(["a", "b", "c", "none"]) for _ in range(rnd.randint(0, 3))]
            seq.append(["BITOP", op, rnd.choice(["a", "b", "c", "d"])] + srcs)
        elif r < 0.8:
            seq.append(["GET", key])
        elif bitfield:
            ops = []
            for _ in range(rnd.randint(1, 5)):
                kind = rnd.choice(["GET", "SET", "INCRBY", "OVERFLOW"])
                if kind == "OVERFLOW":
                    ops += ["OVERFLOW", rnd.choice(["WRAP", "SAT", "FAIL"])]
                    continue
                t = rnd.choice("iu") + str(rnd.randint(1, 64))
                if t == "u64":
                    t = "u63"
                off = (str(rnd.randint(0, 200)) if rnd.random() < 0.7
                       else "#" + str(rnd.randint(0, 10)))
                ops += [kind, t, off]
                if kind != "GET":
                    ops.append(str(rnd.choice([rnd.randint(-300, 300), rnd.randint(-2**63, 2**63 - 1),
                                               2**63 - 1, -2**63, 0, 1, -1])))
            seq.append(["BITFIELD" if rnd.random() < 0.8 else "BITFIELD_RO", key] + ops)
        else:
            seq.append(["STRLEN", key])
    return seq


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_bits(diff, seed):
    rnd = random.Random(seed)
    diff(_random_bits_seq(rnd, 600, bitfield=False))


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_random_bits_with_bitfield(bfdiff, seed):
    rnd = random.Random(seed)
    bfdiff(_random_bits_seq(rnd, 600, bitfield=True))
