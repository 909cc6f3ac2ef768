"""XADD / XTRIM option words against redis-server 7.0, byte for byte (raw
RESP): every sequence of up to three words from the options' vocabulary
(MAXLEN MINID LIMIT = ~ NOMKSTREAM *, good and bad numbers and ids), with
and without field-value words after them. Redis's option loop judges each
value where it meets it (`MAXLEN x MAXLEN 1` is a bad integer, not two
strategies), takes = / ~ as the operator only with a word after it, and
an option's token without its value is XADD's id; Keel's matcher follows
it (keel_parse_in_order, keel_fit, keel_in_place in the schemas)."""

import itertools
import re

import pytest

from harness import RawConn, assert_same_bytes, encode

SEED = [["FLUSHALL"], ["XADD", "st", "1-1", "a", "b"], ["XADD", "st", "2-1", "c", "d"]]
WORDS = ["MAXLEN", "MINID", "LIMIT", "=", "~", "x", "-1", "0", "5", "3-1", "0-0", "*",
         "NOMKSTREAM", "a"]
NAMED = ["XADD st MAXLEN x MAXLEN 1 * a b", "XTRIM st MAXLEN x LIMIT",
         "XADD st MAXLEN ~ 1 LIMIT 5 MAXLEN 2 * a b", "XADD st MINID ~ 0-0 LIMIT 0 3-* a b",
         "XADD st minid = 2 limit 1 3-1 a b", "XTRIM st MINID ~ 2-1 LIMIT -1",
         "XTRIM st MAXLEN ~ 0 LIMIT 1", "XTRIM st MAXLEN = ~ 1", "XADD st MAXLEN 0 0-0 a b",
         "XADD st NOMKSTREAM MAXLEN 1 LIMIT 2", "XADD nokey NOMKSTREAM MINID 5 * a b",
         "XADD st MAXLEN 18446744073709551616 * a b", "XADD st LIMIT 9223372036854775808 * a b",
         "XTRIM st MINID 18446744073709551616 LIMIT 1", "XRANGE st - +"]


def lines(n):
    out = []
    for combo in itertools.product(WORDS, repeat=n):
        words = " ".join(combo)
        out += ["XADD st %s a b" % words, "XADD st %s" % words, "XTRIM st %s" % words]
    return out


def mask_id(reply):
    # an auto id is the server's clock: compare its shape only
    return re.sub(rb"\$\d+\r\n\d{13}-\d+\r\n", b"$<id>\r\n", reply)


def run(port, cmds):
    out = []
    with RawConn(port, timeout=30) as c:
        for line in cmds:
            for cmd in SEED:
                c.call(*cmd)
            c.send(encode(line.split()))
            out.append(mask_id(c.read_reply()))
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_trim_option_words_as_redis(keel, oracle, n):
    cmds = NAMED if n == 0 else lines(n)
    got, want = run(keel.port, cmds), run(oracle.port, cmds)
    for line, k, r in zip(cmds, got, want):
        assert_same_bytes(k, r, line)
