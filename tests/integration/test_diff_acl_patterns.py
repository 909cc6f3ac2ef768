"""ACL SETUSER's key and channel pattern rules against redis-server 7.0:
every sequence of up to three rules from allkeys / ~* / ~a / %R~* / %R~a /
%W~* / %RW~* / allchannels / &* / &a / resetkeys / resetchannels gives the
same reply and the same ACL GETUSER. allkeys and ~* (allchannels and &*)
set the flag, again and again without error; only another pattern after
them is refused; a "*" pattern given with %RW (or %R then %W) is a
pattern, not the flag."""

import itertools

import pytest

from harness import RawConn, assert_same_bytes

RULES = ["allkeys", "~*", "~a", "%R~*", "%R~a", "%W~*", "allchannels", "&*", "&a",
         "resetkeys", "resetchannels", "%RW~*"]


def run(port, n):
    out = []
    with RawConn(port) as c:
        for combo in itertools.product(RULES, repeat=n):
            c.call("ACL", "DELUSER", "u")
            out.append((combo, c.call("ACL", "SETUSER", "u", *combo),
                        c.call("ACL", "GETUSER", "u")))
        c.call("ACL", "DELUSER", "u")
    return out


@pytest.mark.parametrize("n", [1, 2, 3])
def test_pattern_rules_as_redis(keel, oracle, n):
    for (combo, a, ga), (_, b, gb) in zip(run(keel.port, n), run(oracle.port, n)):
        assert_same_bytes(a, b, " ".join(combo))
        assert_same_bytes(ga, gb, "GETUSER after " + " ".join(combo))
