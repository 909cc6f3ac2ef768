"""KEYS glob matching against redis-server 7.0: a fixed key set matched with
thousands of random patterns drawn from the glob metacharacters, plus a
pathological pattern that an exponential matcher would never finish."""

import random
import time


KEYS = [b"hello", b"hallo", b"h\\llo", b"a*b", b"abc", b"[x]", b"x", b"", b"h]llo",
        b"HELLO", b"foo:bar:baz", b"a\x00b", b"a-b", b"^", b"\\", b"aaaaaaaaaaaaaaaaaaaaaaaab"]


def _load(c):
    c.flushall()
    for k in KEYS:
        c.set(k, 1)


def test_random_patterns_match_redis(r, ro):
    _load(r)
    _load(ro)
    rnd = random.Random(20261126)
    alpha = "ab*?[]^-\\x"
    for _ in range(4000):
        p = "".join(rnd.choice(alpha) for _ in range(rnd.randint(0, 8)))
        assert sorted(r.keys(p)) == sorted(ro.keys(p)), p


def test_pathological_pattern_is_fast(r):
    r.set("a" * 60, 1)
    start = time.monotonic()
    assert r.keys("a*" * 30 + "b") == []
    assert time.monotonic() - start < 5


def test_class_ranges_compare_signed_chars_as_redis(r, ro):
    """A [a-b] range compares bytes as Redis does, as signed chars: bytes
    from 0x80 sort below 0, so [\\x01-\\xff] is the range \\xff..\\x01 and
    [a-\\xff] holds \\x01 and 0 (fuzz_glob found Keel comparing unsigned)."""
    keys = [b"a", b"\xe9", b"\x01", b"z", b"0", b"\x7f", b"\x80", b"\xff", b"A", b"Z"]
    for c in (r, ro):
        c.flushall()
        for k in keys:
            c.set(k, 1)
    for p in [b"[\x01-\xff]", b"[a-\xff]", b"[\x80-\xff]", b"[\x00-\x7f]", b"[^\x01-\xff]",
              b"[\xff-a]", b"[\x80-a]", b"[\xe9-\xe9]", b"[\x7f-\x80]", b"[A-\xff]"]:
        assert sorted(r.keys(p)) == sorted(ro.keys(p)), p
    # nocase (CONFIG GET matches names without case) lowers A-Z only
    for p in ["[\x01-\x7f]axmemory", "MAXMEMORY", "[L-N]axmemory"]:
        assert r.config_get(p) == ro.config_get(p), p


def test_pathological_patterns_as_redis(r, ro):
    """Star-heavy patterns against long keys: the same KEYS as Redis 7.0 (which
    gives up past 1000 nested stars), and quickly."""
    keys = [b"a" * 1200, b"a" * 60, b"a" * 3000 + b"b", (b"ab" * 600)]
    pats = [b"*a" * 20 + b"b", b"a*" * 30 + b"b", b"a*" * 1000 + b"b", b"a*" * 1001 + b"b",
            b"a*" * 1001, b"*" * 3000 + b"b", b"*a*a*a*a*a*a*a*a*a*a*a*a*b",
            b"a*" * 999 + b"*b", b"?*" * 1001, b"[a-b]*" * 1001 + b"b"]
    for c in (r, ro):
        c.flushall()
        for k in keys:
            c.set(k, 1)
    start = time.monotonic()
    for p in pats:
        assert sorted(r.keys(p)) == sorted(ro.keys(p)), p[:40]
    assert time.monotonic() - start < 10
