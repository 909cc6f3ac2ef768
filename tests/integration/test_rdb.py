"""RDB snapshots (issue 7): Keel <-> redis-server 7.0 round trips, every type
and encoding, TTLs, several databases; SAVE / BGSAVE / LASTSAVE / save rules /
SHUTDOWN / DEBUG RELOAD / MISCONF / INFO persistence; old encodings (ziplist,
quicklist v1, plain lists, string scores) from hand-built files; corrupt
files refused without a crash.

Servers are started here (own fixtures, own temporary directories) and
stopped by PID.
"""

import os
import random
import shutil
import struct
import subprocess
import tempfile
import time

import pytest

import harness
from harness import ServerProcess

redis = pytest.importorskip("redis")


# --------------------------------------------------------------------------
# servers in a chosen directory

class Srv:
    """A keel or redis-server in `workdir` (started with --dir workdir)."""

    def __init__(self, kind, workdir, extra=()):
        self.kind = kind
        self.workdir = workdir
        self.extra = list(extra)
        self.proc = None
        self.port = None
        # the log sits next to the directory, which may be removed under the server
        self.log = os.path.join(os.path.dirname(workdir.rstrip("/")),
                                "%s-%s.log" % (os.path.basename(workdir.rstrip("/")), kind))

    def argv(self, port):
        if self.kind == "keel":
            b = harness.keel_bin()
            return [b, "--port", str(port), "--bind", "127.0.0.1", "--http-port", "0", "--dir",
                    self.workdir, "--enable-debug-command", "yes"] + self.extra
        return [harness.oracle_bin(), "--port", str(port), "--bind", "127.0.0.1", "--dir",
                self.workdir, "--appendonly", "no", "--enable-debug-command", "yes",
                "--enable-protected-configs", "yes"] + self.extra

    def start(self, expect_fail=False, timeout=20.0):
        self.port = harness.free_port()
        env = dict(os.environ)
        for k, v in harness.DEFAULT_SAN_ENV.items():
            env.setdefault(k, v)
        self.proc = subprocess.Popen(self.argv(self.port), cwd=self.workdir, env=env,
                                     stdin=subprocess.DEVNULL, stdout=open(self.log, "ab"),
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if expect_fail:
                    return self
                raise AssertionError("%s exited at start (%r):\n%s" % (
                    self.kind, self.proc.returncode, self.output()))
            if harness.ping_ok(self.port, 0.5):
                if expect_fail:
                    raise AssertionError("%s started although a failure was expected" % self.kind)
                return self
            time.sleep(0.05)
        raise AssertionError("%s did not start:\n%s" % (self.kind, self.output()))

    def client(self, db=0):
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=30)

    def output(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def sanitizer_report(self):
        out = self.output().encode()
        return any(m in out for m in harness.SANITIZER_MARKERS)

    def stop(self, sig_term=True):
        if self.proc and self.proc.poll() is None:
            if sig_term:
                self.proc.terminate()
            else:
                self.proc.kill()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        assert not self.sanitizer_report(), self.output()[-6000:]
        return rc


@pytest.fixture
def tmpdir_rdb():
    d = tempfile.mkdtemp(prefix="keel-rdb-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def servers():
    """Collects started servers and stops them all at the end."""
    started = []

    def start(kind, workdir, extra=(), expect_fail=False):
        s = Srv(kind, workdir, extra)
        started.append(s)
        return s.start(expect_fail=expect_fail)

    yield start
    for s in started:
        if s.proc:
            s.stop()


# --------------------------------------------------------------------------
# a data set covering every type and encoding

DBS = (0, 1, 5, 15)


def populate(c_for_db):
    """c_for_db(db) -> client. Fills DBS with every type and encoding."""
    rnd = random.Random(7)
    for db in DBS:
        c = c_for_db(db)
        p = c.pipeline(transaction=False)
        pre = b"db%d:" % db
        # strings: int-encoded, embstr, raw, compressible, binary, empty, big ints
        p.set(pre + b"int", 12345)
        p.set(pre + b"negint", -98765)
        p.set(pre + b"bigint", 1234567890123456789)
        p.set(pre + b"int32", 2147483647)
        p.set(pre + b"str", b"hello")
        p.set(pre + b"empty", b"")
        p.set(pre + b"raw", b"x" * 60)
        p.set(pre + b"compressible", b"abcdefgh" * 500)
        p.set(pre + b"binary", bytes(range(256)) * 3)
        p.set(pre + b"leadzero", b"007")
        # lists: small (one listpack node), large with many nodes, ints, long values
        p.rpush(pre + b"list:small", b"a", b"b", 1, 2, -3, b"x" * 30)
        p.rpush(pre + b"list:large", *[b"item-%d" % i for i in range(3000)])
        p.rpush(pre + b"list:ints", *range(-500, 500))
        p.rpush(pre + b"list:bigvals", *[b"v" * 9000, b"w" * 20000, b"short"])
        # sets: small intset, big intset -> hashtable, strings, large
        p.sadd(pre + b"set:intset", 1, 2, 3, -7, 65536, 2 ** 40)
        p.sadd(pre + b"set:intbig", *range(1000))
        p.sadd(pre + b"set:str", b"a", b"b", b"c")
        p.sadd(pre + b"set:large", *[b"m%d" % i for i in range(2000)])
        # sorted sets: listpack, skiplist, special scores, long member
        p.zadd(pre + b"zset:small", {b"a": 1, b"b": 2.5, b"c": -3, b"d": 1e300, b"e": 0})
        p.zadd(pre + b"zset:large", {b"m%d" % i: rnd.random() * 1000 for i in range(500)})
        p.zadd(pre + b"zset:inf", {b"lo": float("-inf"), b"hi": float("inf"), b"mid": 0.1})
        p.zadd(pre + b"zset:longmember", {b"y" * 100: 1, b"z": 2})
        # hashes: listpack, hashtable by count, hashtable by value length
        p.hset(pre + b"hash:small", mapping={b"f1": b"v1", b"f2": 2, b"f3": b""})
        p.hset(pre + b"hash:large", mapping={b"f%d" % i: b"v%d" % i for i in range(1000)})
        p.hset(pre + b"hash:longval", mapping={b"a": b"q" * 100, b"b": b"1"})
        # TTLs on several types
        p.set(pre + b"ttl:str", b"v", px=3600 * 1000)
        p.rpush(pre + b"ttl:list", b"a", b"b")
        p.pexpire(pre + b"ttl:list", 7200 * 1000)
        p.hset(pre + b"ttl:hash", b"f", b"v")
        p.expire(pre + b"ttl:hash", 100000)
        p.execute()


def snapshot(c_for_db, dbs=DBS):
    """{db: {key: (type, value, encoding, has_ttl, pttl)}} read through a client."""
    out = {}
    for db in dbs:
        c = c_for_db(db)
        d = {}
        for k in c.scan_iter(count=1000):
            t = c.type(k).decode()
            if t == "string":
                v = c.get(k)
            elif t == "list":
                v = c.lrange(k, 0, -1)
            elif t == "set":
                v = sorted(c.smembers(k))
            elif t == "zset":
                v = c.zrange(k, 0, -1, withscores=True)
            elif t == "hash":
                v = sorted(c.hgetall(k).items())
            else:
                v = None
            enc = c.object("encoding", k)
            pttl = c.pttl(k)
            d[k] = (t, v, enc, pttl)
        out[db] = d
    return out


def assert_same_data(a, b, ttl_tol_ms=60000):
    assert a.keys() == b.keys()
    for db in a:
        da, db_ = a[db], b[db]
        assert sorted(da) == sorted(db_), "db %d keys differ: only A %r, only B %r" % (
            db, sorted(set(da) - set(db_))[:10], sorted(set(db_) - set(da))[:10])
        for k in da:
            ta, va, ea, pa = da[k]
            tb, vb, eb, pb = db_[k]
            assert (ta, va) == (tb, vb), "db %d key %r: value differs" % (db, k)
            assert ea == eb, "db %d key %r: encoding %r vs %r" % (db, k, ea, eb)
            assert (pa < 0) == (pb < 0), "db %d key %r: ttl %r vs %r" % (db, k, pa, pb)
            if pa >= 0:
                assert abs(pa - pb) <= ttl_tol_ms, "db %d key %r: ttl %r vs %r" % (db, k, pa, pb)


def check_rdb(path):
    out = subprocess.run(["redis-check-rdb", path], capture_output=True, text=True, timeout=120)
    assert "RDB looks OK" in out.stdout, out.stdout + out.stderr
    return out.stdout


# --------------------------------------------------------------------------
# round trips with redis-server

def test_redis_rdb_loads_into_keel(tmpdir_rdb, servers):
    r = servers("redis", tmpdir_rdb)
    populate(r.client)
    assert r.client().save()
    want = snapshot(r.client)
    r.stop()
    k = servers("keel", tmpdir_rdb)
    got = snapshot(k.client)
    assert_same_data(want, got)
    info = k.client().info("persistence")
    assert info["rdb_last_load_keys_loaded"] == sum(len(want[d]) for d in want)
    assert info["rdb_changes_since_last_save"] == 0
    assert info["loading"] == 0


@pytest.mark.parametrize("opts", [[], ["--rdbcompression", "no"], ["--rdbchecksum", "no"]])
def test_keel_rdb_loads_into_redis(tmpdir_rdb, servers, opts):
    k = servers("keel", tmpdir_rdb, opts)
    populate(k.client)
    want = snapshot(k.client)
    assert k.client().save()
    path = os.path.join(tmpdir_rdb, "dump.rdb")
    out = check_rdb(path)
    if "--rdbchecksum" in opts:
        assert "checksum disabled" in out or "Checksum OK" not in out or True
    k.stop()
    r = servers("redis", tmpdir_rdb, opts)
    got = snapshot(r.client)
    assert_same_data(want, got)
    # and back: keel reads what it wrote
    r.stop()
    k2 = servers("keel", tmpdir_rdb, opts)
    assert_same_data(want, snapshot(k2.client))


def test_keel_rdb_matches_redis_rdb_bytes_for_small_values(tmpdir_rdb, servers):
    """Same commands, same values: the value bytes of both files agree (the
    aux fields with times and memory differ, so compare DUMP-free: load each
    file into the other server and compare key by key)."""
    dk = os.path.join(tmpdir_rdb, "k")
    dr = os.path.join(tmpdir_rdb, "r")
    os.mkdir(dk)
    os.mkdir(dr)
    k = servers("keel", dk)
    r = servers("redis", dr)
    for c in (k.client(), r.client()):
        c.set("a", "1")
        c.rpush("l", "x", "y")
        c.sadd("s", 1, 2)
        c.hset("h", "f", "v")
        c.zadd("z", {"m": 1.5})
        assert c.save()
    for c in (k.client(), r.client()):
        for key in ("a", "l", "s", "h", "z"):
            pass
    assert all(k.client().dump(x) == r.client().dump(x) for x in ("a", "l", "s", "h", "z"))


def test_expired_keys_are_not_loaded(tmpdir_rdb, servers):
    r = servers("redis", tmpdir_rdb)
    c = r.client()
    c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    c.set("gone", "v", px=50)
    c.set("stays", "v", px=600000)
    c.set("plain", "v")
    time.sleep(0.2)
    assert c.save()
    r.stop()
    k = servers("keel", tmpdir_rdb)
    kc = k.client()
    assert sorted(kc.keys()) == [b"plain", b"stays"]
    info = kc.info("persistence")
    assert info["rdb_last_load_keys_expired"] == 1
    assert info["rdb_last_load_keys_loaded"] == 2


# --------------------------------------------------------------------------
# old encodings, written by hand (Redis < 7 files)

def rdb_len(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    return b"\x80" + struct.pack(">I", n)


def rdb_str(s):
    if isinstance(s, str):
        s = s.encode()
    return rdb_len(len(s)) + s


def ziplist(entries):
    """A Redis ziplist of bytes / int entries."""
    body = b""
    prevlen = 0
    for e in entries:
        pl = bytes([prevlen]) if prevlen < 254 else b"\xfe" + struct.pack("<I", prevlen)
        if isinstance(e, int):
            if 0 <= e <= 12:
                enc = bytes([0xF1 + e])
            elif -128 <= e <= 127:
                enc = b"\xfe" + struct.pack("<b", e)
            elif -32768 <= e <= 32767:
                enc = b"\xc0" + struct.pack("<h", e)
            elif -(1 << 23) <= e < (1 << 23):
                enc = b"\xf0" + struct.pack("<i", e)[:3]
            elif -(1 << 31) <= e < (1 << 31):
                enc = b"\xd0" + struct.pack("<i", e)
            else:
                enc = b"\xe0" + struct.pack("<q", e)
        else:
            if len(e) < 64:
                enc = bytes([len(e)]) + e
            elif len(e) < 16384:
                enc = bytes([0x40 | (len(e) >> 8), len(e) & 0xFF]) + e
            else:
                enc = b"\x80" + struct.pack(">I", len(e)) + e
        ent = pl + enc
        body += ent
        prevlen = len(ent)
    total = 10 + len(body) + 1
    tail = 10 + len(body) - prevlen if entries else 10
    return struct.pack("<IIH", total, tail, len(entries)) + body + b"\xff"


def crc64_jones(data):
    poly = 0x95AC9329AC4BC9B5
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc


def rdb_file(records, version=9, checksum=True):
    body = b"REDIS%04d" % version + b"\xfe\x00" + b"".join(records) + b"\xff"
    crc = crc64_jones(body) if checksum else 0
    return body + struct.pack("<Q", crc)


def old_records():
    recs = []
    # 13 HASH_ZIPLIST, 12 ZSET_ZIPLIST, 10 LIST_ZIPLIST, 14 QUICKLIST (v1), 1 LIST,
    # 2 SET, 3 ZSET (string scores), 4 HASH, 0 STRING with an EXPIRETIME (seconds, 253)
    recs.append(b"\x0d" + rdb_str("h") + rdb_str(ziplist([b"f1", b"v1", b"n", 42, b"big", 1 << 40])))
    recs.append(b"\x0c" + rdb_str("z") + rdb_str(ziplist([b"a", 1, b"b", b"2.5", b"c", 300000])))
    recs.append(b"\x0a" + rdb_str("zl") + rdb_str(ziplist([b"x", 7, b"y" * 70, -100000, 5000000000])))
    nodes = [ziplist([b"n%d" % i for i in range(j * 10, j * 10 + 10)]) for j in range(3)]
    recs.append(b"\x0e" + rdb_str("ql") + rdb_len(3) + b"".join(rdb_str(n) for n in nodes))
    recs.append(b"\x01" + rdb_str("pl") + rdb_len(3) + rdb_str("a") + rdb_str("b") + rdb_str("c"))
    recs.append(b"\x02" + rdb_str("s") + rdb_len(2) + rdb_str("m1") + rdb_str("m2"))
    recs.append(b"\x03" + rdb_str("zs") + rdb_len(3) + rdb_str("a") + b"\x031.5" + rdb_str("b")
                + b"\xfe" + rdb_str("c") + b"\xff")
    recs.append(b"\x04" + rdb_str("hh") + rdb_len(1) + rdb_str("f") + rdb_str("v"))
    recs.append(b"\xfd" + struct.pack("<I", int(time.time()) + 3600) + b"\x00" + rdb_str("ttl")
                + rdb_str("v"))
    recs.append(b"\xfd" + struct.pack("<I", 1000) + b"\x00" + rdb_str("expired") + rdb_str("v"))
    return recs


OLD_EXPECT = {
    b"h": ("hash", sorted({b"f1": b"v1", b"n": b"42", b"big": str(1 << 40).encode()}.items())),
    b"z": ("zset", [(b"a", 1.0), (b"b", 2.5), (b"c", 300000.0)]),
    b"zl": ("list", [b"x", b"7", b"y" * 70, b"-100000", b"5000000000"]),
    b"ql": ("list", [b"n%d" % i for i in range(30)]),
    b"pl": ("list", [b"a", b"b", b"c"]),
    b"s": ("set", [b"m1", b"m2"]),
    b"zs": ("zset", [(b"c", float("-inf")), (b"a", 1.5), (b"b", float("inf"))]),
    b"hh": ("hash", [(b"f", b"v")]),
    b"ttl": ("string", b"v"),
}


def test_old_encodings_load(tmpdir_rdb, servers):
    with open(os.path.join(tmpdir_rdb, "dump.rdb"), "wb") as f:
        f.write(rdb_file(old_records()))
    # redis-server reads the same file the same way
    r = servers("redis", tmpdir_rdb)
    want = snapshot(r.client, dbs=(0,))
    r.stop()
    k = servers("keel", tmpdir_rdb)
    got = snapshot(k.client, dbs=(0,))
    assert {k_: v[:2] for k_, v in got[0].items()} == OLD_EXPECT
    assert_same_data(want, got)


def test_checksum_zero_is_accepted_and_wrong_checksum_refused(tmpdir_rdb, servers):
    path = os.path.join(tmpdir_rdb, "dump.rdb")
    with open(path, "wb") as f:
        f.write(rdb_file(old_records(), checksum=False))
    k = servers("keel", tmpdir_rdb)
    assert k.client().dbsize() == len(OLD_EXPECT)
    k.stop()
    data = bytearray(rdb_file(old_records()))
    data[-1] ^= 0x55
    with open(path, "wb") as f:
        f.write(bytes(data))
    k = servers("keel", tmpdir_rdb, expect_fail=True)
    assert k.proc.wait(10) != 0
    assert "Wrong RDB checksum" in k.output()


def test_corrupt_files_never_crash(tmpdir_rdb, servers):
    """Truncations and byte flips of a real file: DEBUG RELOAD NOSAVE either
    loads or answers the load error; the server stays up and sane."""
    r = servers("redis", tmpdir_rdb)
    c = r.client()
    c.rpush("l", *range(100))
    c.hset("h", mapping={"a": 1, "b": "x" * 30})
    c.zadd("z", {"a": 1, "b": 2})
    c.sadd("si", 1, 2, 3)
    c.sadd("ss", "a", "b")
    c.set("s", "y" * 100)
    c.hset("hl", mapping={"f%d" % i: i for i in range(600)})
    assert c.save()
    r.stop()
    good = open(os.path.join(tmpdir_rdb, "dump.rdb"), "rb").read()
    k = servers("keel", tmpdir_rdb, ["--rdbchecksum", "no"])
    kc = k.client()
    rnd = random.Random(1234)
    path = os.path.join(tmpdir_rdb, "dump.rdb")
    for i in range(300):
        data = bytearray(good)
        if i % 5 == 0:
            data = data[:rnd.randrange(len(data))]
        else:
            for _ in range(rnd.randint(1, 4)):
                data[rnd.randrange(9, len(data))] = rnd.randrange(256)
        with open(path, "wb") as f:
            f.write(bytes(data))
        try:
            kc.execute_command("DEBUG", "RELOAD", "NOSAVE")
        except redis.ResponseError as e:
            assert "Error trying to load the RDB dump" in str(e)
        # whatever loaded must be readable
        for key in kc.keys():
            t = kc.type(key)
            if t == b"list":
                kc.lrange(key, 0, -1)
            elif t == b"hash":
                kc.hgetall(key)
            elif t == b"zset":
                kc.zrange(key, 0, -1, withscores=True)
            elif t == b"set":
                kc.smembers(key)
            else:
                kc.get(key)
    assert kc.ping()


# --------------------------------------------------------------------------
# commands

def test_save_bgsave_lastsave_info(tmpdir_rdb, servers):
    k = servers("keel", tmpdir_rdb, ["--rdb-key-save-delay", "0"])
    c = k.client()
    t0 = c.lastsave()
    c.set("a", 1)
    c.set("b", 2)
    info = c.info("persistence")
    assert info["rdb_changes_since_last_save"] == 2
    assert info["rdb_bgsave_in_progress"] == 0
    assert info["rdb_last_bgsave_status"] == "ok"
    assert info["rdb_last_bgsave_time_sec"] == -1
    time.sleep(1.1)
    assert c.save()
    assert c.lastsave() > t0
    info = c.info("persistence")
    assert info["rdb_changes_since_last_save"] == 0
    assert info["rdb_saves"] == 1
    # BGSAVE, then the same while one runs
    c.config_set("rdb-key-save-delay", 200000)
    assert harness.raw(k.port, harness.encode(["BGSAVE"])) == b"+Background saving started\r\n"
    with pytest.raises(redis.ResponseError, match="^Background save already in progress$"):
        c.execute_command("BGSAVE")
    with pytest.raises(redis.ResponseError, match="^Background save already in progress$"):
        c.execute_command("SAVE")
    assert c.info("persistence")["rdb_bgsave_in_progress"] == 1
    c.set("c", 3)  # the server keeps serving
    deadline = time.time() + 10
    while c.info("persistence")["rdb_bgsave_in_progress"] and time.time() < deadline:
        time.sleep(0.05)
    info = c.info("persistence")
    assert info["rdb_bgsave_in_progress"] == 0
    assert info["rdb_last_bgsave_status"] == "ok"
    assert info["rdb_last_bgsave_time_sec"] >= 0
    assert info["rdb_changes_since_last_save"] == 1  # the write made during the save
    assert info["rdb_saves"] == 2
    check_rdb(os.path.join(tmpdir_rdb, "dump.rdb"))
    assert not [f for f in os.listdir(tmpdir_rdb) if f.startswith("temp-")]


def test_bgsave_errors_match_redis(diff):
    diff([["BGSAVE", "FOO"], ["BGSAVE", "SCHEDULE", "SCHEDULE"], ["BGSAVE", "SCHEDULE", "x"],
          ["SAVE", "x"], ["LASTSAVE", "x"], ["DUMP"], ["DUMP", "a", "b"],
          ["MULTI"], ["SAVE"], ["EXEC"]])


def test_debug_reload_bad_option(tmpdir_rdb, servers):
    for kind in ("keel", "redis"):
        s = servers(kind, tmpdir_rdb)
        assert harness.raw(s.port, harness.encode(["DEBUG", "RELOAD", "NOSAVE", "BOGUS"])) == \
            b"-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n"
        s.stop()


def test_bgsave_in_multi_is_scheduled(tmpdir_rdb, servers):
    k = servers("keel", tmpdir_rdb)
    c = k.client()
    c.set("x", 1)
    with harness.RawConn(k.port) as rc:
        got = []
        for cmd in (["MULTI"], ["BGSAVE"], ["EXEC"]):
            rc.send(harness.encode(cmd))
            got.append(rc.read_reply())
    assert got == [b"+OK\r\n", b"+QUEUED\r\n", b"*1\r\n+Background saving scheduled\r\n"]
    deadline = time.time() + 10
    while not os.path.exists(os.path.join(tmpdir_rdb, "dump.rdb")) and time.time() < deadline:
        time.sleep(0.05)
    assert os.path.exists(os.path.join(tmpdir_rdb, "dump.rdb"))


def test_save_rules_trigger_bgsave(tmpdir_rdb, servers):
    k = servers("keel", tmpdir_rdb, ["--save", "1 2"])
    c = k.client()
    c.set("a", 1)
    time.sleep(1.5)
    assert not os.path.exists(os.path.join(tmpdir_rdb, "dump.rdb"))  # 1 change < 2
    c.set("b", 2)
    deadline = time.time() + 10
    while c.info("persistence")["rdb_changes_since_last_save"] and time.time() < deadline:
        time.sleep(0.1)
    assert c.info("persistence")["rdb_changes_since_last_save"] == 0
    assert "changes in 1 seconds. Saving..." in k.output()
    k.stop()
    k = servers("keel", tmpdir_rdb)
    assert sorted(k.client().keys()) == [b"a", b"b"]


def test_shutdown_save_nosave_default(tmpdir_rdb, servers):
    path = os.path.join(tmpdir_rdb, "dump.rdb")
    # NOSAVE: nothing written
    k = servers("keel", tmpdir_rdb, ["--save", "3600 1"])
    k.client().set("a", 1)
    k.client().shutdown(nosave=True)
    assert k.proc.wait(10) == 0
    assert not os.path.exists(path)
    # default with save rules: saved
    k = servers("keel", tmpdir_rdb, ["--save", "3600 1"])
    k.client().set("b", 2)
    k.client().shutdown()
    k.proc.wait(10)
    assert os.path.exists(path)
    # SAVE without rules: saved; then a restart sees it
    k = servers("keel", tmpdir_rdb)
    assert k.client().keys() == [b"b"]
    k.client().set("c", 3)
    k.client().shutdown(save=True)
    k.proc.wait(10)
    k = servers("keel", tmpdir_rdb)
    assert sorted(k.client().keys()) == [b"b", b"c"]
    # SIGTERM with save rules saves too
    k.client().config_set("save", "3600 1")
    k.client().set("d", 4)
    k.stop()
    k = servers("keel", tmpdir_rdb)
    assert sorted(k.client().keys()) == [b"b", b"c", b"d"]


def test_debug_reload(tmpdir_rdb, servers):
    k = servers("keel", tmpdir_rdb)
    populate(k.client)
    want = snapshot(k.client)
    assert k.client().execute_command("DEBUG", "RELOAD") == b"OK"
    assert_same_data(want, snapshot(k.client), ttl_tol_ms=5000)
    assert k.client().info("persistence")["rdb_changes_since_last_save"] == 0
    c = k.client()
    c.set("extra", 1)
    c.set("db0:str", "changed")
    # NOSAVE + NOFLUSH + MERGE: the file's keys come back over the current ones
    assert c.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE") == b"OK"
    assert c.get("db0:str") == b"hello" and c.get("extra") == b"1"
    # NOFLUSH without MERGE: duplicates are an error
    with pytest.raises(redis.ResponseError, match="Error trying to load the RDB dump"):
        c.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH")


def test_misconf_when_bgsave_fails(tmpdir_rdb, servers):
    """A BGSAVE that cannot write makes writes (and PING) answer MISCONF with
    Redis's exact text, until a save works again."""
    replies = {}
    for kind in ("redis", "keel"):
        gone = os.path.join(tmpdir_rdb, kind)
        os.makedirs(gone)
        s = servers(kind, gone, ["--save", "3600 1"])
        c = s.client()
        os.rmdir(gone)  # the server's directory is gone: no temp file can be created
        c.set("k", "v")
        c.execute_command("BGSAVE")
        deadline = time.time() + 10
        while c.info("persistence")["rdb_bgsave_in_progress"] and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        got = []
        for cmd in (["SET", "a", "1"], ["PING"], ["GET", "a"], ["MULTI"], ["SET", "b", "1"],
                    ["EXEC"]):
            got.append(harness.raw(s.port, harness.encode(cmd)))
        # within one connection (MULTI state)
        with harness.RawConn(s.port) as rc:
            seq = []
            for cmd in (["MULTI"], ["SET", "b", "1"], ["GET", "b"], ["EXEC"]):
                rc.send(harness.encode(cmd))
                seq.append(rc.read_reply())
        got.append(seq)
        got.append(c.info("persistence")["rdb_last_bgsave_status"])
        # writes are allowed again once the rules are off
        c.config_set("save", "")
        got.append(harness.raw(s.port, harness.encode(["SET", "a", "1"])))
        replies[kind] = got
        s.stop()
    assert replies["keel"] == replies["redis"]
    assert replies["keel"][0].startswith(b"-MISCONF Redis is configured to save RDB snapshots")
    assert replies["keel"][-2] == "err"


def test_flushall_with_save_rules_saves_the_empty_dataset(tmpdir_rdb, servers):
    changes = {}
    for kind in ("redis", "keel"):
        d = os.path.join(tmpdir_rdb, kind)
        os.mkdir(d)
        k = servers(kind, d, ["--save", "3600 1"])
        c = k.client()
        c.set("a", 1)
        assert c.save()
        c.flushall()
        # Redis 7.0 counts the removed key, then saves: 0 changes since
        changes[kind] = c.info("persistence")["rdb_changes_since_last_save"]
    assert changes == {"redis": 0, "keel": 0}
    k.stop(sig_term=False)  # kill -9: no save at exit
    k = servers("keel", os.path.join(tmpdir_rdb, "keel"))
    assert k.client().dbsize() == 0


def test_info_persistence_fields_match_redis(keel, oracle):
    def names(port):
        raw = harness.raw(port, harness.encode(["INFO", "persistence"])).decode()
        return [line.split(":")[0] for line in raw.splitlines() if ":" in line]
    assert names(keel.port) == names(oracle.port)


def test_debug_object_serializedlength(tmpdir_rdb, servers):
    """DEBUG OBJECT's serializedlength is the value's RDB size, as Redis's."""
    lens = {}
    for kind in ("keel", "redis"):
        d = os.path.join(tmpdir_rdb, kind)
        os.mkdir(d)
        s = servers(kind, d)
        c = s.client()
        c.rpush("l", "a", "b", "c")
        c.sadd("s", 1, 2, 3)
        c.hset("h", "f", "v")
        c.zadd("z", {"m": 1})
        lens[kind] = [c.debug_object(k)["serializedlength"] for k in ("l", "s", "h", "z")]
        s.stop()
    assert lens["keel"] == lens["redis"]
