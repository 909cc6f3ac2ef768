"""The append-only log (core/persist/aof.c, core/persist/propagate.c).

- propagation: the same commands sent to Keel and to redis-server 7.0 (both
  with appendonly yes) leave the same commands in their incr files
  (timestamps masked), including rewrites of relative/non-deterministic
  commands, SELECT, MULTI/EXEC, blocking pops served later, expiry as DEL;
- every type, TTLs, several databases survive a kill -9 and restart, with
  and without the RDB preamble; BGREWRITEAOF while writes continue;
- round trips with redis-server 7.0's appendonlydir in both directions;
- truncated logs (aof-load-truncated yes/no), a corrupt log refused with its
  file and offset named, an unfinished MULTI reverted;
- CONFIG SET appendonly yes/no at run time, INFO aof_* fields, automatic
  rewrites, a full disk (tiny tmpfs) -> aof_last_write_status:err + MISCONF.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

import harness

redis = pytest.importorskip("redis")


# ---------------------------------------------------------------- servers

class Server:
    """keel or redis-server in its own dir (--dir), restartable on that dir."""

    def __init__(self, kind, args=(), workdir=None):
        self.kind = kind
        self.args = list(args)
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="keel-aof-%s-" % kind)
        self.proc = None
        self.port = None
        self.log = os.path.join(self.dir, "server-%s.log" % kind)

    def argv(self, port):
        if self.kind == "keel":
            a = [harness.keel_bin(), "--port", str(port), "--bind", "127.0.0.1",
                 "--http-port", "0"]
        else:
            a = [harness.oracle_bin(), "--port", str(port), "--bind", "127.0.0.1",
                 "--save", ""]
        return a + ["--dir", self.dir] + self.args

    def start(self, expect_fail=False, timeout=20):
        self.port = harness.free_port()
        env = dict(os.environ)
        for k, v in harness.DEFAULT_SAN_ENV.items():
            env.setdefault(k, v)
        self.proc = subprocess.Popen(self.argv(self.port), cwd=self.dir, env=env,
                                     stdin=subprocess.DEVNULL, stdout=open(self.log, "ab"),
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if expect_fail:
                    return self.proc.returncode
                raise AssertionError("%s exited %r:\n%s" % (self.kind, self.proc.returncode,
                                                            self.tail()))
            if harness.ping_ok(self.port, 0.3):
                if expect_fail:
                    raise AssertionError("%s started but should have refused" % self.kind)
                return self
            time.sleep(0.05)
        raise AssertionError("%s did not start:\n%s" % (self.kind, self.tail()))

    def client(self, db=0):
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=20)

    def tail(self, n=6000):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def sanitizer_report(self):
        t = self.tail(200000)
        return any(m.decode() in t for m in harness.SANITIZER_MARKERS)

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        assert not self.sanitizer_report(), self.tail()

    def cleanup(self):
        self.kill9()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def aofdir(self):
        return os.path.join(self.dir, "appendonlydir")

    def manifest(self):
        with open(os.path.join(self.aofdir, "appendonly.aof.manifest")) as f:
            return f.read()

    def incr_files(self):
        out = []
        for line in self.manifest().splitlines():
            w = line.split()
            if w[-1] == "i":
                out.append(os.path.join(self.aofdir, w[1]))
        return out

    def wait_rewrite(self, timeout=60):
        c = self.client()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = c.info("persistence")
            if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
                return info
            time.sleep(0.05)
        raise AssertionError("rewrite did not finish")


@pytest.fixture
def servers():
    made = []

    def make(kind, *args, workdir=None):
        s = Server(kind, args, workdir)
        made.append(s)
        return s
    yield make
    bad = []
    for s in made:
        if s.kind == "keel" and s.sanitizer_report():
            bad.append(s.tail())
        s.cleanup()
    assert not bad, bad[0]


# ---------------------------------------------------------------- AOF parsing

def parse_aof(data):
    """Commands (lists of bytes) of a RESP AOF (no preamble)."""
    cmds, pos = [], 0
    while pos < len(data):
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        assert data[pos:pos + 1] == b"*", (pos, data[pos:pos + 40])
        nl = data.index(b"\r\n", pos)
        argc = int(data[pos + 1:nl])
        pos = nl + 2
        args = []
        for _ in range(argc):
            nl = data.index(b"\r\n", pos)
            n = int(data[pos + 1:nl])
            pos = nl + 2
            args.append(data[pos:pos + n])
            pos += n + 2
        cmds.append(args)
    return cmds


def incr_commands(srv):
    out = []
    for p in srv.incr_files():
        with open(p, "rb") as f:
            out += parse_aof(f.read())
    return out


def mask(cmds):
    """Absolute times (13-digit ms) masked, command names upper-cased for
    display only where Redis itself keeps the client's case."""
    out = []
    for c in cmds:
        out.append([b"<T>" if re.fullmatch(rb"1\d{12}", a) else a for a in c])
    return out


def snapshot(srv, dbs=range(16)):
    """Every key of every db: type, value, absolute expire time."""
    data = {}
    for db in dbs:
        c = srv.client(db)
        for k in c.scan_iter(count=1000):
            t = c.type(k)
            if t == b"string":
                v = c.get(k)
            elif t == b"list":
                v = tuple(c.lrange(k, 0, -1))
            elif t == b"set":
                v = tuple(sorted(c.smembers(k)))
            elif t == b"zset":
                v = tuple(c.zrange(k, 0, -1, withscores=True))
            elif t == b"hash":
                v = tuple(sorted(c.hgetall(k).items()))
            else:
                v = None
            data[(db, k)] = (t, v, c.pexpiretime(k))
    return data


def populate(c, big=True):
    """Every type and encoding, TTLs, several databases."""
    c.set("s:int", 12345)
    c.set("s:emb", "hello")
    c.set("s:raw", "x" * 100)
    c.set("s:bin", b"\x00\r\n\xff binary")
    c.set("s:ttl", "v", px=500000)
    c.rpush("l:small", *[str(i) for i in range(10)])
    c.hset("h:small", mapping={"a": "1", "b": "2"})
    c.sadd("set:int", *range(20))
    c.sadd("set:str", "a", "b", "c")
    c.zadd("z:small", {"a": 1.5, "b": 2, "c": -3})
    c.expire("z:small", 1000)
    if big:
        c.rpush("l:big", *[("item-%d" % i) * 3 for i in range(2000)])
        c.hset("h:big", mapping={"f%d" % i: "v" * (i % 100) for i in range(1000)})
        c.sadd("set:big", *["m%d" % i for i in range(1000)])
        c.zadd("z:big", {"m%d" % i: i / 3 for i in range(1000)})
        c.pfadd("hll", *["e%d" % i for i in range(100)])
    c.execute_command("SELECT", 3)
    c.set("db3:key", "three")
    c.execute_command("SELECT", 15)
    c.lpush("db15:list", "a", "b")
    c.execute_command("SELECT", 0)


# ---------------------------------------------------------------- propagation

SCRIPT = [
    ["SET", "a", "1"],
    ["set", "b", "2", "EX", "100"],
    ["SET", "c", "3", "PX", "100000"],
    ["SET", "d", "4", "EXAT", "9999999999"],
    ["SET", "d2", "4", "PXAT", "9999999999000"],
    ["set", "e", "5", "KEEPTTL"],
    ["set", "f", "6", "GET", "NX"],
    ["SET", "f", "7", "GET", "EX", "100"],
    ["SET", "f", "8", "XX", "GET"],
    ["set", "nx", "1", "NX", "EX", "10"],
    ["expire", "a", "100"],
    ["pexpire", "a", "100000", "NX"],
    ["pexpire", "a", "200000", "GT"],
    ["EXPIREAT", "a", "9999999999"],
    ["PEXPIREAT", "a", "9999999999000"],
    ["setex", "g", "100", "v"],
    ["psetex", "h", "100000", "v"],
    ["getex", "h", "EX", "50"],
    ["getex", "h", "PERSIST"],
    ["getex", "h", "PERSIST"],
    ["getex", "h"],
    ["getex", "h", "EXAT", "1"],
    ["set", "k3", "v"],
    ["getdel", "k3"],
    ["getdel", "k3"],
    ["set", "k4", "v"],
    ["expire", "k4", "-5"],
    ["expire", "nosuch", "10"],
    ["incrbyfloat", "fl", "1.5"],
    ["incrbyfloat", "fl", "0.1"],
    ["hincrbyfloat", "hh", "f", "2.5"],
    ["sadd", "s", "1"],
    ["spop", "s"],
    ["sadd", "s", "1", "2", "3"],
    ["spop", "s", "5"],
    ["spop", "s", "0"],
    ["SELECT", "3"],
    ["set", "x", "y"],
    ["del", "nothing"],
    ["SELECT", "0"],
    ["rpush", "l", "a", "b", "c", "d", "e"],
    ["blpop", "l", "0"],
    ["brpop", "l", "0"],
    ["blmove", "l", "l2", "left", "right", "0"],
    ["brpoplpush", "l", "l3", "0"],
    ["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
    ["bzpopmin", "z", "0"],
    ["bzpopmax", "z", "0"],
    ["rpush", "L", "1", "2", "3"],
    ["lmpop", "1", "L", "RIGHT", "COUNT", "10"],
    ["rpush", "L", "1", "2", "3"],
    ["blmpop", "0", "1", "L", "LEFT", "COUNT", "2"],
    ["zadd", "Z", "1", "a", "2", "b", "3", "c"],
    ["zmpop", "1", "Z", "MAX", "COUNT", "2"],
    ["bzmpop", "0", "1", "Z", "MIN"],
    ["zpopmin", "Z", "5"],
    ["MULTI"], ["SET", "m1", "1"], ["GET", "m1"], ["EXEC"],
    ["MULTI"], ["SET", "m2", "1"], ["SELECT", "2"], ["SET", "m3", "1"], ["SELECT", "0"], ["EXEC"],
    ["MULTI"], ["GET", "m1"], ["EXEC"],
    ["MULTI"], ["RPUSH", "q", "1"], ["BLPOP", "q", "0"], ["EXEC"],
    ["incr", "cnt"],
    ["del", "cnt", "nothing"],
    ["rename", "m1", "m1b"],
    ["move", "m1b", "2"],
    ["copy", "m2", "m2c"],
    ["swapdb", "0", "1"],
    ["swapdb", "0", "1"],
    ["flushdb"],
    ["flushdb"],
    ["set", "after", "flush"],
    ["flushall"],
    ["flushall"],
]


def run_script(srv, script):
    with harness.RawConn(srv.port) as conn:
        for cmd in script:
            conn.call(*cmd)


@pytest.mark.parametrize("fsync", ["always", "everysec"])
def test_propagation_matches_redis(servers, fsync):
    k = servers("keel", "--appendonly", "yes", "--appendfsync", fsync).start()
    r = servers("redis", "--appendonly", "yes", "--appendfsync", fsync).start()
    run_script(k, SCRIPT)
    run_script(r, SCRIPT)
    time.sleep(0.2)
    got, want = mask(incr_commands(k)), mask(incr_commands(r))
    assert got == want


def test_spop_count_as_srem_in_multi(servers):
    k = servers("keel", "--appendonly", "yes").start()
    c = k.client()
    c.sadd("s", "a", "b", "c", "d", "e", "f")
    popped = c.spop("s", 2)
    c.sadd("t", *range(10))
    popped2 = c.spop("t", 8)   # most members go: the other strategy
    cmds = incr_commands(k)
    i = cmds.index([b"MULTI"])
    assert cmds[i + 3] == [b"EXEC"]
    assert sorted(x[2] for x in cmds[i + 1:i + 3]) == sorted(popped)
    assert all(x[:2] == [b"SREM", b"s"] for x in cmds[i + 1:i + 3])
    j = cmds.index([b"MULTI"], i + 1)
    assert cmds[j + 9] == [b"EXEC"]
    assert sorted(x[2] for x in cmds[j + 1:j + 9]) == sorted(popped2)


def test_blocked_clients_served_later(servers):
    """A BLPOP/BLMOVE/BZPOPMAX/BLMPOP/BZMPOP served by a later push is
    propagated as the non-blocking form, as redis-server does."""
    out = {}
    for kind in ("keel", "redis"):
        s = servers(kind, "--appendonly", "yes").start()
        blocked = [["blmove", "b1", "dst", "left", "right", "0"],
                   ["brpoplpush", "b2", "dst2", "0"],
                   ["blpop", "b3", "0"],
                   ["bzpopmax", "z1", "0"],
                   ["blmpop", "0", "1", "b4", "RIGHT", "COUNT", "5"],
                   ["bzmpop", "0", "1", "z2", "MAX", "COUNT", "3"]]
        conns = []
        for cmd in blocked:
            rc = harness.RawConn(s.port)
            rc.send(harness.encode(cmd))
            conns.append(rc)
        c = s.client()
        deadline = time.monotonic() + 5
        while c.info("clients")["blocked_clients"] < len(blocked):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        c.rpush("b1", "a", "b")
        c.rpush("b2", "a", "b")
        c.rpush("b3", "x", "y")
        c.zadd("z1", {"a": 1, "b": 2})
        c.rpush("b4", "1", "2")
        c.zadd("z2", {"a": 1, "b": 2})
        for rc in conns:
            rc.read_reply()
            rc.close()
        time.sleep(0.1)
        out[kind] = mask(incr_commands(s))
    assert out["keel"] == out["redis"]


def test_expiry_propagates_del(servers):
    k = servers("keel", "--appendonly", "yes").start()
    c = k.client()
    c.set("lazy", 1, px=1)
    c.set("active", 1, px=1)
    c.execute_command("SELECT", 5)
    c.set("lazy5", 1, px=1)
    time.sleep(0.05)
    assert c.get("lazy5") is None          # lazy, db 5
    c.execute_command("SELECT", 0)
    c.set("lazy", 2)                       # lazy expiry, then the SET
    deadline = time.monotonic() + 5
    while [b"DEL", b"active"] not in incr_commands(k):   # active expiry (cron)
        assert time.monotonic() < deadline
        time.sleep(0.05)
    cmds = incr_commands(k)
    # "lazy" expires before the SET overwrites it: lazily (its DEL right
    # before the SET) or by the active cycle, whose other DELs ("active",
    # and "lazy5" in db 5 on a slow machine) may fall in between; nothing
    # else comes between them
    d, s = cmds.index([b"DEL", b"lazy"]), cmds.index([b"SET", b"lazy", b"2"])
    cycle = ([b"DEL", b"active"], [b"DEL", b"lazy5"], [b"SELECT", b"5"], [b"SELECT", b"0"])
    assert d < s and all(cmd in cycle for cmd in cmds[d + 1:s]), cmds[d:s + 1]
    # "lazy5" expires lazily (at the GET) or, on a slow machine, by the
    # active cycle before it: either way its DEL is written in db 5 (the
    # last SELECT before it), after its SET, and db 0's SET of "lazy"
    # comes after a SELECT 0 that follows the DEL
    i = cmds.index([b"DEL", b"lazy5"])
    selects = [j for j, cmd in enumerate(cmds) if cmd[0] == b"SELECT"]
    assert cmds[max(j for j in selects if j < i)] == [b"SELECT", b"5"], cmds[:i + 1]
    assert any(cmd[:2] == [b"SET", b"lazy5"] for cmd in cmds[:i])
    assert i < s and any(cmds[j] == [b"SELECT", b"0"] for j in selects if i < j < s), cmds


# ---------------------------------------------------------------- durability

@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_every_type_survives_kill9(servers, preamble):
    k = servers("keel", "--appendonly", "yes", "--appendfsync", "always",
                "--aof-use-rdb-preamble", preamble).start()
    c = k.client()
    populate(c)
    before = snapshot(k)
    k.kill9()
    k.start()
    assert snapshot(k) == before
    # and after a rewrite (the base in the chosen format), once more
    c = k.client()
    c.bgrewriteaof()
    info = k.wait_rewrite()
    assert info["aof_last_bgrewrite_status"] == "ok"
    c.set("after-rewrite", "1")
    before = snapshot(k)
    base = [l for l in k.manifest().splitlines() if l.endswith(" b")]
    assert base and base[0].split()[1].endswith(".base.rdb" if preamble == "yes" else ".base.aof")
    k.kill9()
    k.start()
    assert snapshot(k) == before


def test_bgrewriteaof_while_writing(servers):
    k = servers("keel", "--appendonly", "yes").start()
    c = k.client()
    pipe = c.pipeline(transaction=False)
    for i in range(50000):
        pipe.set("key:%d" % i, i)
    pipe.execute()
    assert c.bgrewriteaof() in (b"Background append only file rewriting started", True,
                                "Background append only file rewriting started")
    # writes continue while the child works
    n = 0
    while c.info("persistence")["aof_rewrite_in_progress"]:
        c.incr("during")
        c.rpush("during-list", n)
        n += 1
    k.wait_rewrite()
    c.incr("during")
    info = c.info("persistence")
    assert info["aof_last_bgrewrite_status"] == "ok"
    assert info["aof_rewrites"] == 1
    files = sorted(os.listdir(k.aofdir))
    assert files == ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof",
                     "appendonly.aof.manifest"], files
    assert k.manifest() == ("file appendonly.aof.2.base.rdb seq 2 type b\n"
                            "file appendonly.aof.2.incr.aof seq 2 type i\n")
    before = snapshot(k, [0])
    assert before[(0, b"during")][1] == str(n + 1).encode()
    k.kill9()
    k.start()
    assert snapshot(k, [0]) == before
    # a second rewrite reported as in progress / scheduled
    c = k.client()
    c.bgrewriteaof()
    with pytest.raises(redis.ResponseError, match="already in progress"):
        c.bgrewriteaof()
    k.wait_rewrite()


def test_bgrewriteaof_scheduled_during_bgsave(servers):
    k = servers("keel", "--appendonly", "yes", "--rdb-key-save-delay", "100").start()
    c = k.client()
    for i in range(3000):
        c.set("k%d" % i, i)
    c.bgsave()
    assert c.bgrewriteaof() in (b"Background append only file rewriting scheduled", True,
                                "Background append only file rewriting scheduled")
    assert c.info("persistence")["aof_rewrite_scheduled"] == 1
    c.config_set("rdb-key-save-delay", 0)
    info = k.wait_rewrite()
    assert info["aof_rewrites"] == 1


# ---------------------------------------------------------------- redis interop

@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_loads_keel_aof(servers, preamble):
    k = servers("keel", "--appendonly", "yes", "--aof-use-rdb-preamble", preamble).start()
    c = k.client()
    populate(c)
    c.bgrewriteaof()
    k.wait_rewrite()
    c.set("tail", "in the incr file")
    c.lpush("l:small", "pushed")
    before = snapshot(k)
    k.stop()
    check = subprocess.run(["redis-check-aof", os.path.join(k.aofdir, "appendonly.aof.manifest")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    rdir = tempfile.mkdtemp(prefix="keel-aof-r-")
    shutil.copytree(k.aofdir, os.path.join(rdir, "appendonlydir"))
    r = servers("redis", "--appendonly", "yes", workdir=rdir).start()
    try:
        assert snapshot(r) == before
    finally:
        r.cleanup()
        shutil.rmtree(rdir, ignore_errors=True)


def test_keel_loads_redis_aof(servers):
    r = servers("redis", "--appendonly", "yes").start()
    c = r.client()
    populate(c)
    c.bgrewriteaof()
    r.wait_rewrite()
    populate(c, big=False)   # again, into the incr file
    c.set("tail", "x")
    c.execute_command("MULTI")
    c.execute_command("INCR", "tx")
    c.execute_command("INCR", "tx")
    c.execute_command("EXEC")
    before = snapshot(r)
    r.stop()
    kdir = tempfile.mkdtemp(prefix="keel-aof-k-")
    shutil.copytree(r.aofdir, os.path.join(kdir, "appendonlydir"))
    k = servers("keel", "--appendonly", "yes", workdir=kdir).start()
    try:
        assert snapshot(k) == before
        assert "DB loaded from append only file" in k.tail()
    finally:
        k.cleanup()
        shutil.rmtree(kdir, ignore_errors=True)


def test_aof_wins_over_rdb(servers):
    k = servers("keel", "--appendonly", "yes").start()
    c = k.client()
    c.set("from", "aof")
    c.save()
    c.set("from", "aof-later")
    k.kill9()
    k.start()
    assert k.client().get("from") == b"aof-later"


def test_rdb_loaded_when_no_aof_yet(servers):
    k = servers("keel").start()
    c = k.client()
    c.set("from", "rdb")
    c.save()
    k.stop()
    k.args = ["--appendonly", "yes"]
    k.start()
    c = k.client()
    assert c.get("from") == b"rdb"
    # the base written at start-up holds it
    k.kill9()
    os.unlink(os.path.join(k.dir, "dump.rdb"))
    k.start()
    assert k.client().get("from") == b"rdb"


# ---------------------------------------------------------------- damaged logs

def _keel_with_log(servers, *args):
    k = servers("keel", "--appendonly", "yes", *args).start()
    c = k.client()
    for i in range(10):
        c.set("k%d" % i, i)
    k.kill9()
    return k, k.incr_files()[-1]


def test_truncated_last_command_loaded(servers):
    k, incr = _keel_with_log(servers)
    size = os.path.getsize(incr)
    with open(incr, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$2\r\nk9\r\n$5\r\nhal")
    k.start()
    assert k.client().get("k9") == b"9"
    assert os.path.getsize(incr) == size
    assert "Truncating the AOF appendonly.aof.1.incr.aof at offset %d" % size in k.tail()


def test_truncated_refused_when_not_allowed(servers):
    k, incr = _keel_with_log(servers)
    k.args += ["--aof-load-truncated", "no"]
    with open(incr, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$2\r\nk9\r\n$5\r\nhal")
    assert k.start(expect_fail=True) != 0
    assert "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof" \
        in k.tail()


def test_corrupt_log_refused_with_offset(servers):
    k, incr = _keel_with_log(servers)
    with open(incr, "rb") as f:
        data = f.read()
    cut = data.index(b"*3", 40)
    with open(incr, "wb") as f:
        f.write(data[:cut] + b"garbage\r\n" + data[cut:])
    assert k.start(expect_fail=True) != 0
    assert ("Bad file format reading the append only file appendonly.aof.1.incr.aof at "
            "offset %d" % cut) in k.tail()


def test_unfinished_multi_reverted(servers):
    k, incr = _keel_with_log(servers)
    size = os.path.getsize(incr)
    with open(incr, "ab") as f:
        f.write(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$3\r\nnew\r\n")
    k.start()
    assert k.client().get("k1") == b"1"
    assert os.path.getsize(incr) == size
    assert "Revert incomplete MULTI/EXEC transaction" in k.tail()


def test_bad_manifest_refused(servers):
    k, incr = _keel_with_log(servers)
    with open(os.path.join(k.aofdir, "appendonly.aof.manifest"), "a") as f:
        f.write("file x seq\n")
    assert k.start(expect_fail=True) != 0
    assert "Invalid AOF manifest file format" in k.tail()


# ---------------------------------------------------------------- run time

def test_config_set_appendonly(servers):
    k = servers("keel").start()
    c = k.client()
    populate(c, big=False)
    assert c.info("persistence")["aof_enabled"] == 0
    c.config_set("appendonly", "yes")
    c.set("during", "start")
    info = k.wait_rewrite()
    assert info["aof_enabled"] == 1 and info["aof_last_bgrewrite_status"] == "ok"
    assert sorted(os.listdir(k.aofdir)) == ["appendonly.aof.1.base.rdb",
                                            "appendonly.aof.1.incr.aof",
                                            "appendonly.aof.manifest"]
    c.set("after", "on")
    before = snapshot(k)
    k.kill9()
    k.args = ["--appendonly", "yes"]
    k.start()
    assert snapshot(k) == before
    c = k.client()
    c.config_set("appendonly", "no")
    assert c.info("persistence")["aof_enabled"] == 0
    c.set("not-logged", "1")
    assert [b"set", b"not-logged", b"1"] not in incr_commands(k)


def test_info_fields(servers):
    k = servers("keel", "--appendonly", "yes").start()
    r = servers("redis", "--appendonly", "yes").start()
    ki = k.client().info("persistence")
    ri = r.client().info("persistence")
    aof_keys = [x for x in ri if x.startswith("aof_")]
    assert [x for x in ki if x.startswith("aof_")] == aof_keys
    for f in ("aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled",
              "aof_last_bgrewrite_status", "aof_last_write_status", "aof_base_size",
              "aof_current_size", "aof_rewrites"):
        assert ki[f] == ri[f], f
    k.client().set("x", "y")
    assert k.client().info("persistence")["aof_current_size"] > ki["aof_current_size"]


def test_auto_rewrite(servers):
    k = servers("keel", "--appendonly", "yes", "--auto-aof-rewrite-min-size", "100kb",
                "--auto-aof-rewrite-percentage", "50").start()
    c = k.client()
    pipe = c.pipeline(transaction=False)
    for i in range(5000):
        pipe.set("k%d" % i, "v" * 50)
    pipe.execute()
    deadline = time.monotonic() + 10
    while c.info("persistence")["aof_rewrites"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    k.wait_rewrite()
    assert "Starting automatic rewriting of AOF on" in k.tail()


def test_bgrewriteaof_with_appendonly_off(servers):
    k = servers("keel").start()
    c = k.client()
    c.set("a", "1")
    c.bgrewriteaof()
    k.wait_rewrite()
    assert os.path.exists(os.path.join(k.aofdir, "appendonly.aof.1.base.rdb"))


def _mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                       capture_output=True)
    return r.returncode == 0


def test_full_disk_misconf(servers):
    mnt = tempfile.mkdtemp(prefix="keel-aof-tmpfs-")
    if os.geteuid() != 0 or not _mount_tmpfs(mnt, "512k"):
        pytest.skip("cannot mount a tmpfs here")
    try:
        k = servers("keel", "--appendonly", "yes", "--appendfsync", "everysec",
                    workdir=mnt).start()
        c = k.client()
        big = "x" * 4096
        with pytest.raises(redis.ResponseError) as ei:
            for i in range(1000):
                c.set("k%d" % i, big)
        assert str(ei.value).startswith(
            "MISCONF Errors writing to the AOF file: No space left on device"), str(ei.value)
        info = c.info("persistence")
        assert info["aof_last_write_status"] == "err"
        with pytest.raises(redis.ResponseError, match="MISCONF"):
            c.ping()
        assert c.get("k0") == big.encode()     # reads still work
        # room again (remove the base: a copy of nothing much) -> writes resume
        subprocess.run(["mount", "-o", "remount,size=8m", mnt], check=True)
        deadline = time.monotonic() + 5
        while c.info("persistence")["aof_last_write_status"] != "ok":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        c.set("again", "1")
        assert "AOF write error looks solved" in k.tail()
        k.stop()
    finally:
        subprocess.run(["umount", "-l", mnt])
        shutil.rmtree(mnt, ignore_errors=True)


def test_unwritable_dir_rewrite_fails(servers):
    if os.geteuid() == 0:
        # root ignores permissions: use a read-only bind of the aof dir instead
        k = servers("keel", "--appendonly", "yes").start()
        c = k.client()
        c.set("a", 1)
        r = subprocess.run(["mount", "--bind", "-o", "ro", k.aofdir, k.aofdir],
                           capture_output=True)
        if r.returncode != 0:
            pytest.skip("cannot bind-mount read-only")
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", k.aofdir, k.aofdir])
            with pytest.raises(redis.ResponseError, match="Can't execute an AOF background"):
                c.bgrewriteaof()
            assert c.info("persistence")["aof_last_bgrewrite_status"] == "err"
        finally:
            subprocess.run(["umount", "-l", k.aofdir])


# ---------------------------------------------------------------- leftovers of a killed run

def _dead_pid():
    """The pid of a process that has exited (a temp file's owner long gone)."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def _wait_for_temp(directory, pattern, timeout=10):
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name in os.listdir(directory):
            m = rx.fullmatch(name)
            if m:
                return name, int(m.group(1))
        time.sleep(0.01)
    raise AssertionError("no %s in %s: %s" % (pattern, directory, os.listdir(directory)))


def _pid_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("how", ["bgrewriteaof", "config-set-appendonly", "bgsave"])
def test_killed_save_temp_files_removed_at_start(servers, how):
    """A rewrite or BGSAVE killed with the server (its child dies with it)
    leaves temp-rewriteaof-bg-<pid>.aof (and, for CONFIG SET appendonly yes,
    appendonlydir/temp-appendonly.aof.incr) or temp-<pid>.rdb; the next
    start removes them and loads the data."""
    args = ["--rdb-key-save-delay", "20000"]   # 300 keys: the child runs 6 s
    if how == "bgrewriteaof":
        args += ["--appendonly", "yes"]
    k = servers("keel", *args).start()
    c = k.client()
    pipe = c.pipeline(transaction=False)
    for i in range(300):
        pipe.set("k%d" % i, i)
    pipe.execute()
    left = []
    if how == "bgrewriteaof":
        c.bgrewriteaof()
        name, child = _wait_for_temp(k.dir, r"temp-rewriteaof-bg-(\d+)\.aof")
    elif how == "config-set-appendonly":
        c.config_set("rdb-key-save-delay", 0)
        c.save()                                   # the data to load next time
        c.config_set("rdb-key-save-delay", 20000)
        c.config_set("appendonly", "yes")
        name, child = _wait_for_temp(k.dir, r"temp-rewriteaof-bg-(\d+)\.aof")
        left.append(os.path.join(k.aofdir, "temp-appendonly.aof.incr"))
    else:
        c.config_set("rdb-key-save-delay", 0)
        c.save()
        c.config_set("rdb-key-save-delay", 20000)
        c.bgsave()
        name, child = _wait_for_temp(k.dir, r"temp-(\d+)\.rdb")
    left.append(os.path.join(k.dir, name))
    k.kill9()
    # The child dies with its server (it would otherwise write on for 6 s).
    assert _pid_gone(child, 3), "the save child outlived its server"
    for p in left:
        assert os.path.exists(p), p
    k.args = [a for a in k.args if a not in ("--rdb-key-save-delay", "20000")]
    k.start()
    for p in left:
        assert not os.path.exists(p), (p, os.listdir(os.path.dirname(p)))
    assert "Removing the temporary file" in k.tail()
    c = k.client()
    assert c.dbsize() == 300 and c.get("k299") == b"299"


def test_stale_temp_names_removed_at_start(servers):
    """Every temp name Keel's saves and rewrites use, in dir and in the AOF
    directory, with the pid of a dead process, is removed at start-up; a file
    of a live process, and names that are not Keel's, are left alone."""
    k = servers("keel", "--appendonly", "yes").start()
    c = k.client()
    c.set("kept", "1")
    k.kill9()
    dead, live = _dead_pid(), os.getpid()
    gone = [os.path.join(k.dir, n) for n in (
        "temp-%d.rdb" % dead, "temp-rewriteaof-bg-%d.aof" % dead, "temp-rewriteaof-%d.aof" % dead)]
    gone += [os.path.join(k.aofdir, n) for n in (
        "temp-%d.rdb" % dead, "temp-rewriteaof-bg-%d.aof" % dead, "temp-appendonly.aof.incr",
        "temp-appendonly.aof.manifest")]
    stay = [os.path.join(k.dir, n) for n in (
        "temp-%d.rdb" % live, "temp-rewriteaof-bg-%d.aof" % live, "temp-x1.rdb",
        "temp-rewriteaof-bg-.aof", "my-temp-%d.rdb" % dead, "temp-%d.rdb.bak" % dead)]
    for p in gone + stay:
        with open(p, "wb") as f:
            f.write(b"REDIS0010 half-written")
    k.start()
    assert [p for p in gone if os.path.exists(p)] == []
    assert [p for p in stay if not os.path.exists(p)] == []
    assert k.client().get("kept") == b"1"
    assert sorted(os.listdir(k.aofdir)) == ["appendonly.aof.1.base.rdb",
                                            "appendonly.aof.1.incr.aof",
                                            "appendonly.aof.manifest"]
