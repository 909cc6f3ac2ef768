"""When Redis 7.0 judges a request (networking.c's processInlineBuffer and
processMultibulkBuffer), byte for byte against redis-server on raw sockets:
an inline command once its "\\n" is there; a multibulk count or bulk-length
line (and whether it starts with '$') once its "\\r" and the byte after it
are there; and, as Redis finds those with strchr on its NUL-terminated
query buffer, a NUL byte before the line end hides it, so the request waits
until the "too big" limits. Each case is sent in pieces; after each piece
both servers must have answered the same bytes (nothing, while waiting) and
closed or not alike. A fresh connection gets +PONG afterwards."""

import time

import pytest

from harness import RawConn, assert_same_bytes, ping_ok

BIG = 70000  # past Redis's 64 KiB inline / count-line limit

CASES = {
    "inline_waits_for_lf": [b"PING", b"\r\n"],
    "inline_cr_then_lf": [b"PING\r", b"\n"],
    "inline_nul_hides_newline": [b"PING\0\r\n", b"PING\r\n", b"a" * BIG],
    "inline_nul_after_newline": [b"PING\r\n\0", b"PING\r\n", b"x" * BIG],
    "inline_nul_mid_line": [b"EC\0HO x\n", b"PING\n"],
    "inline_unbalanced_waits": [b'SET "a b', b"\r\n"],
    "mbulk_count_waits_for_cr": [b"*x", b"\r", b"\n"],
    "mbulk_count_nul": [b"*1\0\r\n$4\r\nPING\r\n", b"1" * BIG],
    "expected_dollar_waits_for_cr": [b"*1\r\nx", b"\r", b"\n"],
    "expected_dollar_second_arg": [b"*2\r\n$3\r\nGET\r\nk", b"ey\r\n"],
    "expected_dollar_nul": [b"*1\r\nx\0\r\n", b"y" * BIG],
    "expected_dollar_cr_first": [b"*1\r\n\r", b"\n"],
    "bulk_count_waits_for_cr": [b"*1\r\n$4", b"\r", b"\nPING\r\n"],
    "bulk_count_nul": [b"*1\r\n$4\0\r\nPING\r\n", b"1" * BIG],
    "nul_in_bulk_data": [b"*2\r\n$4\r\nECHO\r\n$3\r\na\0b", b"\r\n"],
    "nul_after_command": [b"*1\r\n$4\r\nPING\r\n\0", b"*1\r\n$4\r\nPING\r\n"],
}

QUIET = 0.4  # how long a side that waits is watched for a reply


def _send(c, piece):
    try:
        c.send(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass


def _read_like(c, want, closed_want, timeout=20.0):
    """Read until at least len(want) bytes (and the close, if the other side
    closed) arrived, then QUIET more for anything extra."""
    deadline = time.monotonic() + timeout
    got = bytearray()
    while time.monotonic() < deadline and not c.closed and \
            (len(got) < len(want) or closed_want):
        more, _ = c.read_until_close(min(0.2, max(0.01, deadline - time.monotonic())))
        got += more
    if not c.closed:
        more, _ = c.read_until_close(QUIET)
        got += more
    return bytes(got), c.closed


@pytest.mark.parametrize("name", sorted(CASES))
def test_request_judged_as_redis(keel, oracle, name):
    with RawConn(oracle.port, timeout=20) as r, RawConn(keel.port, timeout=20) as k:
        for i, piece in enumerate(CASES[name]):
            _send(r, piece)
            want = r.read_until_close(QUIET if i + 1 < len(CASES[name]) else 2.0)
            _send(k, piece)
            got = _read_like(k, *want)
            if len(got[0]) > len(want[0]) or got[1] != want[1]:
                more = _read_like(r, got[0][len(want[0]):], got[1])  # a late reply of Redis
                want = (want[0] + more[0], more[1])
            assert_same_bytes(got, want, "%s, after piece %d" % (name, i + 1))
            if want[1]:
                break
    assert ping_ok(keel.port, 3.0)
