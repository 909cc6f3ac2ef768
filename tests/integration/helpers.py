"""Helpers shared by the integration tests (one copy each; import them from here).

- keel_has(port, *names): whether the server at port implements every named
  command (COMMAND INFO). Only for features Keel has not built yet (streams):
  a test of a command Keel has must run, so that it fails if the command breaks.
- key_events(port, seq, flags="KEAn"): the keyspace notifications a command
  sequence produces (every class, and "new"), to compare Keel's with the oracle's.
- with_config(diff, settings, seq): a differential run under CONFIG SET
  settings on both servers, restored afterwards.
"""

from harness import RawConn, cmds, encode, parse_one


def keel_has(port, *names):
    """True if the server at port implements every command in names.

    A name is a command ("XADD") or a container's subcommand ("OBJECT
    ENCODING" or "OBJECT|ENCODING"). COMMAND INFO answers nil for an unknown one.
    """
    with RawConn(port) as c:
        for n in names:
            v, _ = parse_one(c.call("COMMAND", "INFO", "|".join(n.split())))
            if not v or v[0] is None:
                return False
    return True


END_KEY = b"__end__"


def key_events(port, seq, flags="KEAn", pattern="__key*@*__:*"):
    """Run seq on a fresh connection (after FLUSHALL) with notify-keyspace-events
    set to flags, and return every notification a PSUBSCRIBE to pattern saw, in
    order, as (channel, message) pairs.

    seq holds command lines ("SET k v", split as harness.cmds does) or argument
    lists. A final SET of __end__ marks the end: its notifications are not
    returned. The flags are reset to "" afterwards.
    """
    with RawConn(port) as sub, RawConn(port) as c:
        c.call("FLUSHALL")
        rep = c.call("CONFIG", "SET", "notify-keyspace-events", flags)
        assert rep == b"+OK\r\n", rep
        try:
            sub.send(encode(["PSUBSCRIBE", pattern]))
            sub.read_reply()
            for cmd in seq:
                c.call(*(cmds(cmd)[0] if isinstance(cmd, str) else cmd))
            c.call("SET", END_KEY, "1")
            got = []
            while True:
                v, _ = parse_one(sub.read_reply())
                if v[0] != b"pmessage":
                    continue
                channel, message = v[2], v[3]
                if channel.startswith(b"__keyevent") and message == END_KEY:
                    # drop the keyspace notification of __end__ that came first
                    return [e for e in got if not e[0].endswith(b":" + END_KEY)]
                got.append((channel, message))
        finally:
            c.call("CONFIG", "SET", "notify-keyspace-events", "")


def with_config(diff, settings, seq, resp3=False):
    """Run diff(seq) with CONFIG SET name value for each (name, value) in
    settings on both servers, restoring the previous values afterwards."""
    old = {}
    for port in diff.ports.values():
        with RawConn(port) as c:
            for name, val in settings:
                if name not in old:
                    v, _ = parse_one(c.call("CONFIG", "GET", name))
                    old[name] = v[1] if isinstance(v, list) else list(v.values())[0]
                assert c.call("CONFIG", "SET", name, val) == b"+OK\r\n"
    try:
        return diff(seq, resp3=resp3)
    finally:
        for port in diff.ports.values():
            with RawConn(port) as c:
                for name, val in old.items():
                    c.call("CONFIG", "SET", name, val)
