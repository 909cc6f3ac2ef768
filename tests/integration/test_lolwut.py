"""Differential tests: LOLWUT, Keel vs redis-server 7.0.

Whatever is deterministic is compared byte for byte in RESP2 and RESP3 (a
verbatim string there): the version line (no VERSION, other versions, extra
words), errors, and Schotter (VERSION 5) with at most two rows of squares
(Redis only starts to shuffle squares from the third row). The random art
is compared by shape: the same number of lines, the same width of each,
the same characters (Braille for 5, ANSI cells for 6) and the same trailer.
"""

import re

import pytest

from harness import RawConn, encode, parse_one


def call(port, *cmd, resp3=False):
    with RawConn(port) as c:
        if resp3:
            c.send(encode(["HELLO", "3"]))
            c.read_reply()
        c.send(encode(list(cmd)))
        return c.read_reply(timeout=20)


DETERMINISTIC = [
    ["LOLWUT"], ["lolwut"], ["LOLWUT", "VERSION", "7"], ["LOLWUT", "VERSION", "4"],
    ["LOLWUT", "VERSION", "-1"], ["LOLWUT", "VERSION", "59"], ["LOLWUT", "version", "0"],
    ["LOLWUT", "VERSION"], ["LOLWUT", "foo"], ["LOLWUT", "foo", "5"], ["LOLWUT", "VERSION", "x"],
    ["LOLWUT", "VERSION", "1.5"], ["LOLWUT", "VERSION", "99999999999999999999"],
    ["LOLWUT", "VERSION", "5", "abc"], ["LOLWUT", "VERSION", "5", "1", "x"],
    ["LOLWUT", "VERSION", "5", "1", "1", "x"], ["LOLWUT", "VERSION", "6", "x"],
    ["LOLWUT", "VERSION", "6", "1", "x"], ["LOLWUT", "VERSION", "4294967301", "1", "1", "1"],
    ["LOLWUT", "VERSION", "5", "1", "1", "1"], ["LOLWUT", "VERSION", "5", "66", "8", "2"],
    ["LOLWUT", "VERSION", "5", "20", "3", "1"], ["LOLWUT", "VERSION", "5", "0", "0", "0"],
    ["LOLWUT", "VERSION", "5", "-5", "-5", "-5"], ["LOLWUT", "VERSION", "5", "3", "500", "2"],
    ["LOLWUT", "VERSION", "5", "7", "2", "2", "extra", "words"],
    ["LOLWUT", "VERSION", "5", "1000", "200", "1"],
]


@pytest.mark.parametrize("resp3", [False, True])
def test_lolwut_deterministic(keel, oracle, resp3):
    for cmd in DETERMINISTIC:
        k = call(keel.port, *cmd, resp3=resp3)
        r = call(oracle.port, *cmd, resp3=resp3)
        assert k == r, (cmd, k[:200], r[:200])


def text(port, *cmd):
    v = parse_one(call(port, *cmd))[0]
    assert isinstance(v, bytes), v
    return v.decode()


def shape5(s):
    lines = s.split("\n")
    assert lines[-1] == ""
    at = [i for i, ln in enumerate(lines) if ln.startswith("Georg Nees")][0]
    art, trailer = lines[:at], lines[at:]
    for ln in art:
        assert all(0x2800 <= ord(ch) <= 0x28FF for ch in ln), ln
    return [len(ln) for ln in art], trailer


CELL = re.compile(r"\x1b\[0;(30;40|90;100|37;47|97;107)m \x1b\[0m")


def shape6(s):
    lines = s.split("\n")
    art, trailer = lines[:-3], lines[-3:]
    widths = []
    for ln in art:
        cells = CELL.findall(ln)
        assert CELL.sub("", ln) == "", repr(ln[:80])
        widths.append(len(cells))
    return widths, trailer


@pytest.mark.parametrize("args", [[], ["66"], ["40", "5", "5"], ["10", "1", "30"],
                                  ["80", "10", "12"], ["1000", "200", "3"]])
def test_lolwut_schotter_shape(keel, oracle, args):
    cmd = ["LOLWUT", "VERSION", "5"] + args
    assert shape5(text(keel.port, *cmd)) == shape5(text(oracle.port, *cmd))


def test_lolwut_schotter_is_random(keel):
    outs = {text(keel.port, "LOLWUT", "VERSION", "5", "40", "4", "12") for _ in range(4)}
    assert len(outs) > 1


@pytest.mark.parametrize("args", [[], ["20"], ["20", "3"], ["1", "1"], ["120", "40"],
                                  ["0", "0"], ["2000", "5"], ["7", "1500"]])
def test_lolwut_skyline_shape(keel, oracle, args):
    cmd = ["LOLWUT", "VERSION", "6"] + args
    k, r = shape6(text(keel.port, *cmd)), shape6(text(oracle.port, *cmd))
    assert k == r


def test_lolwut_skyline_has_buildings(keel):
    s = text(keel.port, "LOLWUT", "VERSION", "6", "80", "20")
    assert "0;30;40m" in s and "0;97;107m" in s  # black buildings under a white sky
    first = s.split("\n")[0]
    assert set(CELL.findall(first)) == {"97;107"}  # the top row is sky


def test_lolwut_canvas_limit(keel):
    """Redis's clamps allow 1000 columns of one square for 200 rows (an 800
    million pixel canvas); Keel refuses past 64 million pixels, and serves
    the others after."""
    r = call(keel.port, "LOLWUT", "VERSION", "5", "1000", "1", "200")
    assert r.startswith(b"-ERR LOLWUT canvas too large"), r[:100]
    assert call(keel.port, "PING") == b"+PONG\r\n"
