"""RESTORE of payloads that are well formed on the outside but whose value
lies (what fuzz_rdb_payload found): each answers "ERR Bad data format",
stores nothing, and the server goes on serving. Where Redis 7.0 refuses
the same payload the reply is compared with redis-server's."""

import struct

import pytest

from test_rdb import crc64_jones

redis = pytest.importorskip("redis")


def payload(body):
    """A DUMP payload: the value, RDB version 10 and a right CRC64."""
    body = body + b"\x0a\x00"
    return body + struct.pack("<Q", crc64_jones(body))


def assert_refused(r, body):
    with pytest.raises(redis.ResponseError) as e:
        r.restore("bad", 0, payload(body), replace=True)
    assert str(e.value) == "Bad data format"
    assert r.exists("bad") == 0
    assert r.ping()


def stream_dump(r, *ids):
    r.config_set("rdbcompression", "no")
    try:
        r.delete("src")
        for i in ids:
            r.xadd("src", {"f": "v"}, id=i)
        return bytearray(r.dump("src")[:-10])
    finally:
        r.config_set("rdbcompression", "yes")
        r.delete("src")


def test_empty_list_is_refused_as_redis(r, ro):
    for body in (b"\x01\x00",):  # RDB_TYPE_LIST with no element
        with pytest.raises(redis.ResponseError) as want:
            ro.restore("bad", 0, payload(body))
        assert str(want.value) == "Bad data format"
        assert_refused(r, body)


def test_stream_length_without_entries(r):
    # RDB_TYPE_STREAM_LISTPACKS_2: no node, yet length 1 (XRANGE would
    # disagree with XLEN)
    assert_refused(r, b"\x13\x00\x01\x03\x03\x00\x00\x03\x03\x01\x00")


def test_stream_node_count_lies(r):
    body = stream_dump(r, "5-0")
    # type, 1 node, the 16-byte master id, the listpack's length, its
    # 6-byte header: then the master entry's count (1, a 7-bit integer)
    assert body[:3] == b"\x13\x01\x10"
    lp = 3 + 16 + 1
    assert body[lp + 6] == 0x01
    body[lp + 6] = 0x02
    assert_refused(r, bytes(body))


def test_stream_last_id_behind_its_entries(r):
    body = stream_dump(r, "5-0")
    lp = 3 + 16
    after = lp + 1 + body[lp]
    # length 1, last id 5-0: the last id set back to 1-0
    assert body[after:after + 3] == b"\x01\x05\x00"
    body[after + 1] = 0x01
    assert_refused(r, bytes(body))
    # the untouched payload still restores
    good = stream_dump(r, "5-0")
    r.restore("ok", 0, payload(bytes(good)))
    assert r.xrange("ok") == [(b"5-0", {b"f": b"v"})]


def test_lzf_length_beyond_what_lzf_can_expand(r):
    # a string LZF-compressed from 5 bytes to 3.7 GB: refused before any
    # allocation
    assert_refused(r, b"\x00\xc3\x05\x80\xdc\xdc\xdc\xdc\x00\x61\x62\x63\x64")
    info = r.info("memory")
    assert info["used_memory_peak"] < 1 << 30
