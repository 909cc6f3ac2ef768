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


# A selector's rules are split as Redis splits them (sdssplitargs: quoted
# words); a text that does not split (unbalanced or glued quotes) makes an
# empty selector, with no error, as Redis 7.0.
SELECTORS = [
    ["u", "(", "ENCODING", "SET", "return redis.call('get',KEYS[1])"], ["v", '("~a b" +get)'],
    ["v", "('~a' +get)"], ["w", "(~a 'x)"], ["x", "(  +get   ~k  )"], ["y", "()"],
    ["z", '("+get")', '(+set "~x"y)'], ["z2", "(+get ENCODING)"], ["z3", '(+get "~a\\x41")']]


def test_selector_rules_split_as_redis(keel, oracle):
    out = []
    for port in (keel.port, oracle.port):
        with RawConn(port) as c:
            got = []
            for rule in SELECTORS:
                c.call("ACL", "DELUSER", rule[0])
                got.append((c.call("ACL", "SETUSER", *rule), c.call("ACL", "GETUSER", rule[0])))
                c.call("ACL", "DELUSER", rule[0])
            out.append(got)
    for rule, (a, ga), (b, gb) in zip(SELECTORS, *out):
        assert_same_bytes(a, b, repr(rule))
        assert_same_bytes(ga, gb, "GETUSER after %r" % rule)
