"""Differential test: COMMAND GETKEYS and GETKEYSANDFLAGS for every command Keel registers.

For each command and subcommand of Keel's COMMAND LIST, sample argument
vectors are built from redis-server's own COMMAND DOCS argument tree (only
the required arguments; every optional argument with each choice of each
one-of; repeated arguments twice, numkeys-style counts set to match), and
COMMAND GETKEYS / GETKEYSANDFLAGS with each are compared byte for byte with
redis-server 7.0: keys found through key specs (range, keyword, keynum),
movable keys (SORT's STORE, MIGRATE's KEYS, ZUNIONSTORE's numkeys, ...)
and the errors for commands without keys or with bad arguments.
"""

import pytest

import harness
from test_command import NOT_IN_7_0, call, keel_names


def docs(port, name):
    v = harness.parse_one(call(port, "COMMAND", "DOCS", name))[0]
    if isinstance(v, list):
        v = dict(zip(v[::2], v[1::2]))
    body = v.get(name.encode())
    if isinstance(body, list):
        body = dict(zip(body[::2], body[1::2]))
    return body or {}


def as_dict(a):
    return dict(zip(a[::2], a[1::2])) if isinstance(a, list) else a


class Gen:
    def __init__(self):
        self.n = 0

    def value(self, a):
        t = a[b"type"].decode()
        name = a[b"name"].decode()
        if t == "key":
            self.n += 1
            return ["key%d" % self.n]
        if t in ("integer", "unix-time"):
            return ["1"]
        if t == "double":
            return ["1.5"]
        if t == "pattern":
            return ["p*"]
        if t == "pure-token":
            return []
        return ["v" + name.replace("-", "")]


def expand(args, gen, mode, choice):
    """Argument vectors for an argument list: mode 'min' (required only) or
    'full' (optionals too; one-of takes alternative `choice`, clamped)."""
    out = []
    for raw in args:
        a = as_dict(raw)
        flags = [f.decode() for f in a.get(b"flags", [])]
        optional = "optional" in flags
        if optional and mode == "min":
            continue
        reps = 2 if "multiple" in flags and mode == "full" else 1
        for _ in range(reps):
            token = a.get(b"token")
            piece = [token.decode()] if token else []
            t = a[b"type"].decode()
            if t == "oneof":
                subs = a[b"arguments"]
                pick = as_dict(subs[min(choice, len(subs) - 1)])
                piece += expand([pick], gen, "full", choice)
            elif t == "block":
                piece += expand(a[b"arguments"], gen, "full" if mode == "full" else "min", choice)
            else:
                piece += gen.value(a)
            out += piece
    return out


def fix_numkeys(words, args):
    """Set an argument named numkeys (or numkeys-like) to the count of keys after it."""
    for i, w in enumerate(words):
        if w == "1" and i + 1 < len(words) and words[i + 1].startswith("key"):
            j = i + 1
            while j < len(words) and words[j].startswith("key"):
                j += 1
            words[i] = str(j - i - 1)
    return words


def samples(oracle_port, full):
    body = docs(oracle_port, full)
    args = body.get(b"arguments", [])
    base = full.split("|")
    out = []
    for mode, choice in (("min", 0), ("full", 0), ("full", 1), ("full", 2)):
        words = base + expand(args, Gen(), mode, choice)
        words = fix_numkeys(words, args)
        if words not in out:
            out.append(words)
    return out


@pytest.fixture(scope="module")
def names(keel):
    return [n for n in keel_names(keel.port) if n not in NOT_IN_7_0]


def test_getkeys_every_command(keel, oracle, names):
    lines = []
    for full in names:
        for words in samples(oracle.port, full):
            lines.append(["COMMAND", "GETKEYSANDFLAGS"] + words)
            lines.append(["COMMAND", "GETKEYS"] + words)
    assert len(lines) > 400
    bad = []
    for cmd in lines:
        k, r = call(keel.port, *cmd), call(oracle.port, *cmd)
        if k != r:
            bad.append((" ".join(cmd[1:]), k, r))
    assert not bad, "%d/%d differ:\n%s" % (len(bad), len(lines), "\n".join(
        "%s\n   keel:  %r\n   redis: %r" % b for b in bad[:40]))


def test_getkeys_movable_edge_cases(keel, diff, names):
    lines = [
        "SORT k", "SORT k STORE dst", "SORT k BY w GET # STORE dst", "SORT k store dst limit 0 1",
        "SORT k STORE", "SORT_RO k", "ZUNIONSTORE d 2 a b", "ZUNIONSTORE d 0 a",
        "ZUNIONSTORE d 3 a b", "ZUNIONSTORE d -1 a", "ZUNIONSTORE d x a", "ZINTER 2 a b",
        "ZDIFF 1 a", "EVAL s 2 a b c", "EVAL s 0", "EVAL s 3 a", "EVALSHA x 1 a",
        "FCALL f 1 a", "LMPOP 2 a b LEFT", "BLMPOP 0 2 a b LEFT", "ZMPOP 1 a MIN",
        "BZMPOP 0 1 a MIN", "SINTERCARD 2 a b", "ZINTERCARD 1 a LIMIT 1",
        "MIGRATE h 1 k 0 10", "MIGRATE h 1 '' 0 10 KEYS a b", "MIGRATE h 1 k 0 10 KEYS a",
        "MIGRATE h 1 '' 0 10 COPY REPLACE AUTH p KEYS a", "MIGRATE h 1 '' 0 10 AUTH2 u p KEYS a",
        "MIGRATE h 1 '' 0 10", "XREAD STREAMS a b 0 0", "XREAD COUNT 1 STREAMS a 0",
        "XREADGROUP GROUP g c STREAMS a 0", "XREAD STREAMS a", "GEORADIUS k 0 0 1 m STORE d",
        "GEORADIUS k 0 0 1 m STOREDIST d", "GEORADIUSBYMEMBER k m 1 m STORE d",
        "BLPOP a b 0", "BRPOPLPUSH a b 0", "LMOVE a b LEFT RIGHT", "MSET a 1 b 2",
        "MSET a 1 b", "OBJECT ENCODING k", "OBJECT HELP", "MEMORY USAGE k", "PFCOUNT a b",
        "PFMERGE d a b", "BITOP AND d a b", "SMOVE a b m", "RENAME a b", "COPY a b",
        "GEOSEARCHSTORE d s FROMMEMBER m BYRADIUS 1 m", "XINFO STREAM k", "XGROUP CREATE k g $",
        "SPUBLISH ch m", "SSUBSCRIBE a b", "SUNSUBSCRIBE a", "PUBLISH ch m",
    ]
    out = []
    registered = set(names)
    for line in lines:
        if line.split()[0].lower() not in registered:
            continue  # a command another branch brings (scripting, streams, geo, ...)
        out.append("COMMAND GETKEYS " + line)
        out.append("COMMAND GETKEYSANDFLAGS " + line)
    diff.both(harness.cmds(*out))
