"""Self-tests of the harness's RESP framer/parser (no server needed)."""

import pytest

from harness import Err, Incomplete, parse_one, reply_end, split_replies

SAMPLES = [
    (b"+OK\r\n", b"OK"),
    (b"-ERR x\r\n", Err(b"ERR x")),
    (b":-12\r\n", -12),
    (b"$3\r\na\r\n\r\n", b"a\r\n"),
    (b"$-1\r\n", None),
    (b"*-1\r\n", None),
    (b"*0\r\n", []),
    (b"*2\r\n$1\r\na\r\n*1\r\n:1\r\n", [b"a", [1]]),
    (b"_\r\n", None),
    (b",3.5\r\n", 3.5),
    (b",inf\r\n", float("inf")),
    (b"#t\r\n", True),
    (b"!5\r\nERR x\r\n", Err(b"ERR x")),
    (b"=7\r\ntxt:abc\r\n", b"abc"),
    (b"(12345678901234567890\r\n", 12345678901234567890),
    (b"%1\r\n+a\r\n:1\r\n", {b"a": 1}),
    (b"~2\r\n:1\r\n:2\r\n", [1, 2]),
    (b">2\r\n+message\r\n+x\r\n", [b"message", b"x"]),
    (b"|1\r\n+ttl\r\n:3\r\n+val\r\n", b"val"),
]


@pytest.mark.parametrize("data,value", SAMPLES, ids=[repr(s[0])[:30] for s in SAMPLES])
def test_parse_and_frame(data, value):
    assert parse_one(data) == (value, len(data))
    assert reply_end(data) == len(data)
    assert reply_end(bytearray(data)) == len(data)
    for cut in range(len(data)):
        with pytest.raises(Incomplete):
            reply_end(data[:cut])


def test_split_counts_top_level_only():
    data = b"".join(s[0] for s in SAMPLES)
    got, rest = split_replies(data + b"*2\r\n:1\r\n")
    assert len(got) == len(SAMPLES) and rest == b"*2\r\n:1\r\n"
