"""Replication, primary side (core/repl): a Keel primary serving Debian's
redis-server 7.0 replicas (and a raw PSYNC client reading the stream).

Each test starts its own servers on free ports and stops them by PID:
- full sync, disk ($<len>) and diskless ($EOF:<mark>), of a dataset of
  every type and encoding in several databases, compared with DEBUG
  DIGEST (Keel's digest is redis-server's);
- a writer running during the sync and after it;
- partial resync (+CONTINUE) after the link drops and after the replica
  restarts from its own RDB; backlog overflow forcing a full sync;
- WAIT, min-replicas-to-write (-NOREPLICAS), the replica output limit;
- the stream itself: SELECT when the db changes, expired keys as DEL,
  MULTI/EXEC, PING;
- INFO replication and ROLE in the shape redis-server gives as a primary,
  REPLCONF / WAIT / PSYNC errors compared with redis-server.
"""

import os
import signal
import socket
import threading
import time

import pytest

import harness
from harness import RawConn, ServerProcess, encode

redis = pytest.importorskip("redis")


# --------------------------------------------------------------------------
# servers


def keel_server(*extra):
    return ServerProcess("keel-primary",
                         lambda p: harness.keel_argv(p) + [str(a) for a in extra]).start()


def redis_server(*extra, name="redis-replica"):
    return ServerProcess(name, lambda p: harness.oracle_argv(p) +
                         ["--enable-debug-command", "yes"] + [str(a) for a in extra]).start()


def redis_replica(primary, *extra):
    return redis_server("--replicaof", "127.0.0.1", primary.port, *extra)


@pytest.fixture
def servers():
    started = []
    yield started
    problems = []
    for s in reversed(started):
        if s.proc is not None and s.proc.poll() is None:
            try:
                os.kill(s.proc.pid, signal.SIGCONT)
            except OSError:
                pass
        p = s.stop()
        if p and "keel" in s.name:
            problems.append(p)
        s.cleanup()
    assert not problems, "\n".join(problems)


def client(srv):
    return redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=20)


def info(c, section="replication"):
    """INFO <section> as text fields (c: a redis-py client)."""
    kw = c.connection_pool.connection_kwargs
    with RawConn(kw["port"], timeout=10) as rc:
        rep = rc.call("INFO", section)
    out = {}
    for line in rep.split(b"\r\n", 1)[1].decode().split("\r\n"):
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def wait_for(pred, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def wait_synced(primary, replica, timeout=30.0):
    p, r = client(primary), client(replica)

    def ok():
        try:
            ri = info(r)
        except redis.exceptions.ConnectionError:
            return False
        if ri.get("master_link_status") != "up":
            return False
        return int(ri["slave_repl_offset"]) == int(info(p)["master_repl_offset"])

    wait_for(ok, timeout, "the replica to catch up")


def digest(srv):
    return client(srv).execute_command("DEBUG", "DIGEST")


def assert_same(primary, replica):
    wait_synced(primary, replica)
    assert digest(primary) == digest(replica)
    p, r = client(primary), client(replica)
    for db in range(16):
        p.execute_command("SELECT", db)
        r.execute_command("SELECT", db)
        assert p.dbsize() == r.dbsize(), "db %d" % db


def fill_every_type(c, n=300):
    """Every type and encoding Redis 7.0 has, in dbs 0, 2 and 9."""
    for db in (0, 2, 9):
        c.execute_command("SELECT", db)
        p = c.pipeline(transaction=False)
        p.set("int", 12345)
        p.set("embstr", "hello")
        p.set("raw", "x" * 100)
        p.set("big", "y" * 20000)
        p.set("ttl", "v", px=3600000)
        p.rpush("list:small", *range(5))
        p.rpush("list:big", *["e%d" % i for i in range(n)])
        p.rpush("list:huge", "z" * 9000, "z" * 9000)
        p.sadd("set:int", *range(50))
        p.sadd("set:big", *["m%d" % i for i in range(n)])
        p.sadd("set:str", "a", "b", "c")
        p.zadd("zset:small", {"a": 1, "b": 2.5, "c": -3})
        p.zadd("zset:big", {"m%d" % i: i * 1.5 for i in range(n)})
        p.hset("hash:small", mapping={"f1": "v1", "f2": 2})
        p.hset("hash:big", mapping={"f%d" % i: "v%d" % i for i in range(n)})
        p.hset("hash:longval", mapping={"f": "v" * 100})
        p.pfadd("hll", *["e%d" % i for i in range(100)])
        p.setbit("bitmap", 1000, 1)
        p.geoadd("geo", (13.361389, 38.115556, "Palermo"))
        for i in range(20):
            p.xadd("stream", {"f": i}, id="1-%d" % (i + 1))
        p.xgroup_create("stream", "g1", id="0")
        p.expire("list:small", 3600)
        p.execute()
        c.xreadgroup("g1", "alice", {"stream": ">"}, count=3)
        c.xack("stream", "g1", "1-1")
    c.execute_command("SELECT", 0)


# --------------------------------------------------------------------------
# full sync


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_full_sync_every_type(servers, diskless):
    primary = keel_server("--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", 0)
    servers.append(primary)
    p = client(primary)
    fill_every_type(p)
    replica = redis_replica(primary)
    servers.append(replica)
    assert_same(primary, replica)
    st = info(p, "stats")
    assert st["sync_full"] == "1"
    log = primary.log_text()
    if diskless == "yes":
        assert b"replicas sockets" in log
    else:
        assert b"target: disk" in log
    # the stream after the sync
    p.set("after", "sync")
    p.lpush("list:big", "new")
    p.execute_command("SELECT", 9)
    p.delete("hash:big")
    p.execute_command("SELECT", 0)
    assert_same(primary, replica)
    ri = info(p)
    assert ri["connected_slaves"] == "1"
    assert ri["slave0"].startswith("ip=127.0.0.1,port=%d,state=online," % replica.port)


def test_writer_during_and_after_sync(servers):
    # each saved key takes 100 us: the sync lasts a while
    primary = keel_server("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", 0,
                          "--rdb-key-save-delay", 100)
    servers.append(primary)
    p = client(primary)
    p.execute_command("DEBUG", "POPULATE", 5000, "key")
    stop = threading.Event()
    count = [0]

    def writer():
        w = client(primary)
        i = 0
        while not stop.is_set():
            w.incr("counter")
            w.set("w:%d" % (i % 500), i)
            w.lpush("wl", i)
            if i % 50 == 0:
                w.execute_command("SELECT", 3)
                w.hset("h3", "f%d" % i, i)
                w.execute_command("SELECT", 0)
            i += 1
        count[0] = i

    t = threading.Thread(target=writer)
    t.start()
    try:
        time.sleep(0.2)
        replica = redis_replica(primary)
        servers.append(replica)
        wait_for(lambda: info(client(replica)).get("master_link_status") == "up", 60,
                 "the sync")
        time.sleep(0.5)
    finally:
        stop.set()
        t.join()
    assert count[0] > 100
    assert_same(primary, replica)
    assert client(replica).get("counter") == str(count[0]).encode()


def test_two_replicas_one_diskless_child(servers):
    primary = keel_server("--repl-diskless-sync-delay", 30, "--repl-diskless-sync-max-replicas",
                          2)
    servers.append(primary)
    p = client(primary)
    fill_every_type(p, 100)
    r1 = redis_replica(primary)
    servers.append(r1)
    time.sleep(0.5)
    assert "state=wait_bgsave" in info(p)["slave0"]  # waits for the second one
    r2 = redis_replica(primary)
    servers.append(r2)
    assert_same(primary, r1)
    assert_same(primary, r2)
    assert primary.log_text().count(b"Background RDB transfer started") == 1


def test_second_replica_joins_running_disk_sync(servers):
    primary = keel_server("--repl-diskless-sync", "no", "--rdb-key-save-delay", 300)
    servers.append(primary)
    p = client(primary)
    p.execute_command("DEBUG", "POPULATE", 3000)
    r1 = redis_replica(primary)
    servers.append(r1)
    wait_for(lambda: "target: disk" in primary.log_text().decode(), 10, "the BGSAVE")
    p.set("between", 1)
    r2 = redis_replica(primary)
    servers.append(r2)
    wait_for(lambda: "Waiting for end of BGSAVE" in primary.log_text().decode(), 10, "the join")
    p.set("after", 2)
    p.config_set("rdb-key-save-delay", 0)
    assert_same(primary, r1)
    assert_same(primary, r2)
    assert primary.log_text().count(b"target: disk") == 1
    assert info(p, "stats")["sync_full"] == "2"


def test_replica_killed_mid_sync(servers):
    primary = keel_server("--repl-diskless-sync-delay", 0, "--rdb-key-save-delay", 200)
    servers.append(primary)
    p = client(primary)
    p.execute_command("DEBUG", "POPULATE", 5000)
    replica = redis_replica(primary)
    servers.append(replica)
    wait_for(lambda: "transfer started" in primary.log_text().decode(), 10, "the transfer")
    os.kill(replica.proc.pid, signal.SIGKILL)
    replica.proc.wait()
    replica.proc = None
    wait_for(lambda: "transfer error" in primary.log_text().decode() or
             "terminated" in primary.log_text().decode(), 30, "the child's end")
    wait_for(lambda: info(p)["connected_slaves"] == "0", 10, "the replica gone")
    p.config_set("rdb-key-save-delay", 0)
    replica.start()
    assert_same(primary, replica)
    assert int(info(p, "stats")["sync_full"]) == 2


def test_flushall_during_disk_sync(servers):
    primary = keel_server("--repl-diskless-sync", "no", "--rdb-key-save-delay", 200)
    servers.append(primary)
    p = client(primary)
    p.execute_command("DEBUG", "POPULATE", 3000)
    replica = redis_replica(primary)
    servers.append(replica)
    wait_for(lambda: "target: disk" in primary.log_text().decode(), 10, "the BGSAVE")
    p.flushall()  # kills the BGSAVE: the replica is dropped and syncs again
    p.config_set("rdb-key-save-delay", 0)
    p.set("after", "flush")
    assert_same(primary, replica)
    assert client(replica).get("after") == b"flush"


# --------------------------------------------------------------------------
# partial resync and backlog


def replica_conn_addr(primary):
    for line in client(primary).execute_command("CLIENT", "LIST", "TYPE", "replica").decode() \
            .splitlines():
        return dict(kv.split("=", 1) for kv in line.split(" ") if "=" in kv)["addr"]
    return None


def test_partial_resync_after_link_drop(servers):
    primary = keel_server("--repl-diskless-sync-delay", 0)
    servers.append(primary)
    p = client(primary)
    fill_every_type(p, 50)
    replica = redis_replica(primary)
    servers.append(replica)
    assert_same(primary, replica)
    # the primary drops the link; writes go on meanwhile
    os.kill(replica.proc.pid, signal.SIGSTOP)
    addr = replica_conn_addr(primary)
    assert p.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
    for i in range(100):
        p.set("during:%d" % i, i)
    os.kill(replica.proc.pid, signal.SIGCONT)
    wait_for(lambda: replica_conn_addr(primary) not in (None, addr), 30, "a reconnection")
    assert_same(primary, replica)
    st = info(p, "stats")
    assert st["sync_full"] == "1"
    assert st["sync_partial_ok"] == "1"
    assert b"Partial resynchronization request from" in primary.log_text()


def test_partial_resync_after_replica_restart(servers):
    primary = keel_server("--repl-diskless-sync-delay", 0)
    servers.append(primary)
    p = client(primary)
    fill_every_type(p, 50)
    replica = redis_replica(primary)
    servers.append(replica)
    assert_same(primary, replica)
    # SHUTDOWN SAVE: the replica's RDB keeps our replid and offset
    try:
        client(replica).shutdown(save=True)
    except redis.exceptions.ConnectionError:
        pass
    replica.proc.wait(10)
    replica.proc = None
    for i in range(50):
        p.set("while-down:%d" % i, i)
    replica.start()
    assert_same(primary, replica)
    st = info(p, "stats")
    assert st["sync_full"] == "1"
    assert st["sync_partial_ok"] == "1"


def test_backlog_overflow_forces_full_sync(servers):
    primary = keel_server("--repl-diskless-sync-delay", 0, "--repl-backlog-size", "16kb")
    servers.append(primary)
    p = client(primary)
    replica = redis_replica(primary)
    servers.append(replica)
    p.set("a", 1)
    assert_same(primary, replica)
    os.kill(replica.proc.pid, signal.SIGSTOP)
    assert p.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
    for i in range(200):
        p.set("fill:%d" % i, "x" * 200)  # 40 KB of stream: past the 16 KB backlog
    ri = info(p)
    assert int(ri["repl_backlog_histlen"]) == 16384
    assert int(ri["repl_backlog_first_byte_offset"]) > 1
    os.kill(replica.proc.pid, signal.SIGCONT)
    wait_for(lambda: info(p, "stats")["sync_full"] == "2", 30, "a second full sync")
    assert_same(primary, replica)
    st = info(p, "stats")
    assert st["sync_partial_ok"] == "0"
    assert st["sync_partial_err"] == "1"


def test_new_replid_after_restart_forces_full_sync(servers, monkeypatch):
    """A primary restarted from its RDB has a new replication id: its
    replica cannot continue."""
    primary = keel_server("--repl-diskless-sync-delay", 0, "--save", "")
    servers.append(primary)
    p = client(primary)
    p.set("k", "v")
    replica = redis_replica(primary)
    servers.append(replica)
    assert_same(primary, replica)
    old = info(p)["master_replid"]
    p.save()
    port = primary.port
    primary.stop()
    monkeypatch.setattr(harness, "free_port", lambda: port)  # the same port again
    primary.start()
    p = client(primary)
    p.set("k2", "v2")
    assert info(p)["master_replid"] != old
    wait_for(lambda: info(p, "stats")["sync_full"] == "1", 30, "a full sync")
    assert_same(primary, replica)
    assert info(p, "stats")["sync_partial_err"] == "1"


# --------------------------------------------------------------------------
# WAIT, min-replicas-to-write, output limits


def test_wait(servers):
    primary = keel_server("--repl-diskless-sync-delay", 0)
    servers.append(primary)
    p = client(primary)
    assert p.execute_command("WAIT", 0, 0) == 0
    assert p.execute_command("WAIT", 1, 50) == 0  # no replica: times out
    replica = redis_replica(primary)
    servers.append(replica)
    p.set("x", 1)
    assert_same(primary, replica)
    p.set("y", 2)
    t0 = time.monotonic()
    assert p.execute_command("WAIT", 1, 0) == 1  # GETACK makes it quick
    assert time.monotonic() - t0 < 2
    t0 = time.monotonic()
    assert p.execute_command("WAIT", 2, 300) == 1
    assert time.monotonic() - t0 >= 0.25
    # a stopped replica does not acknowledge
    os.kill(replica.proc.pid, signal.SIGSTOP)
    p.set("z", 3)
    assert p.execute_command("WAIT", 1, 300) == 0
    # WAIT waits for the caller's own writes (Redis's c->woff): a client
    # that wrote nothing since the replica acknowledged is answered at once
    other = client(primary)
    t0 = time.monotonic()
    assert other.execute_command("WAIT", 1, 2000) == 1
    assert time.monotonic() - t0 < 1.5
    os.kill(replica.proc.pid, signal.SIGCONT)
    assert p.execute_command("WAIT", 1, 0) == 1
    # inside MULTI: no blocking, the current count
    m = p.pipeline(transaction=True)
    m.set("w", 1)
    m.execute_command("WAIT", 5, 0)
    assert m.execute()[1] == 1
    # a replica refuses WAIT
    with pytest.raises(redis.exceptions.ResponseError, match="WAIT cannot be used with replica"):
        client(replica).execute_command("WAIT", 1, 0)


def test_min_replicas_to_write(servers):
    primary = keel_server("--repl-diskless-sync-delay", 0)
    servers.append(primary)
    oracle = redis_server(name="redis-oracle")
    servers.append(oracle)
    p, o = client(primary), client(oracle)
    for c in (p, o):
        c.config_set("min-replicas-to-write", 1)
    for c in (p, o):
        with pytest.raises(redis.exceptions.ResponseError) as e:
            c.set("k", "v")
        assert str(e.value) == "NOREPLICAS Not enough good replicas to write."
        assert c.get("k") is None  # reads are served
    raw = {}
    for name, srv in (("keel", primary), ("redis", oracle)):
        with RawConn(srv.port) as rc:
            raw[name] = [rc.call("SET", "k", "v"), rc.call("MULTI"), rc.call("SET", "k", "v"),
                         rc.call("EXEC")]
    assert raw["keel"] == raw["redis"]
    replica = redis_replica(primary)
    servers.append(replica)
    wait_for(lambda: info(p)["slave0"].find("state=online") > 0, 30, "online")
    assert p.set("k", "v")
    p.config_set("min-replicas-to-write", 2)
    with pytest.raises(redis.exceptions.ResponseError, match="Not enough good replicas"):
        p.set("k", "v")
    # a stopped replica lags past min-replicas-max-lag
    p.config_set("min-replicas-to-write", 1)
    p.config_set("min-replicas-max-lag", 1)
    os.kill(replica.proc.pid, signal.SIGSTOP)
    time.sleep(2.5)
    with pytest.raises(redis.exceptions.ResponseError, match="Not enough good replicas"):
        p.set("k", "v")
    os.kill(replica.proc.pid, signal.SIGCONT)
    wait_for(lambda: _set_ok(p), 10, "writes accepted again")


def _set_ok(c):
    try:
        return c.set("k", "again")
    except redis.exceptions.ResponseError:
        return False


def test_replica_output_limit(servers):
    primary = keel_server("--repl-diskless-sync-delay", 0, "--client-output-buffer-limit",
                          "replica 256kb 128kb 1")
    servers.append(primary)
    p = client(primary)
    replica = redis_replica(primary)
    servers.append(replica)
    p.set("a", 1)
    assert_same(primary, replica)
    os.kill(replica.proc.pid, signal.SIGSTOP)
    payload = "x" * 10000
    for i in range(2000):  # 20 MB: past socket buffers and the hard limit
        p.set("big:%d" % (i % 10), payload)
        if info(p)["connected_slaves"] == "0":
            break
    assert info(p)["connected_slaves"] == "0"
    assert b"overcoming of output buffer limits" in primary.log_text()
    os.kill(replica.proc.pid, signal.SIGCONT)
    assert_same(primary, replica)


# --------------------------------------------------------------------------
# the stream as bytes (a raw PSYNC client)


class RawReplica:
    """A test client that does the replica's handshake and reads the
    stream after the RDB."""

    def __init__(self, port, capa_eof=False, sync=False):
        self.c = RawConn(port, timeout=10)
        assert self.c.call("REPLCONF", "listening-port", "4242") == b"+OK\r\n"
        if capa_eof:
            assert self.c.call("REPLCONF", "capa", "eof", "capa", "psync2") == b"+OK\r\n"
        if sync:
            self.c.send(encode(["SYNC"]))
        else:
            self.c.send(encode(["PSYNC", "?", "-1"]))
            self.head = self._line()
            while self.head == b"":
                self.head = self._line()  # keepalive newlines
            assert self.head.startswith(b"+FULLRESYNC "), self.head
            _, self.replid, off = self.head.split(b" ")
            self.offset = int(off)
        bulk = self._line()
        while bulk == b"":
            bulk = self._line()
        if bulk.startswith(b"$EOF:"):
            mark = bulk[5:]
            assert len(mark) == 40
            self.rdb = self._until(mark)
        else:
            self.rdb = self._exact(int(bulk[1:]))
        assert self.rdb.startswith(b"REDIS0010")

    def _fill(self, deadline):
        self.c.sock.settimeout(max(0.01, deadline - time.monotonic()))
        data = self.c.sock.recv(65536)
        if not data:
            raise EOFError
        self.c.buf += data

    def _line(self):
        deadline = time.monotonic() + 20
        while b"\n" not in self.c.buf:
            self._fill(deadline)
        line, self.c.buf = self.c.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def _exact(self, n):
        deadline = time.monotonic() + 20
        while len(self.c.buf) < n:
            self._fill(deadline)
        out, self.c.buf = self.c.buf[:n], self.c.buf[n:]
        return out

    def _until(self, mark):
        deadline = time.monotonic() + 20
        while mark not in self.c.buf:
            self._fill(deadline)
        out, self.c.buf = self.c.buf.split(mark, 1)
        return out

    def ack(self, offset=None):
        """REPLCONF ACK (after a diskless sync the stream starts on the first)."""
        self.c.send(encode(["REPLCONF", "ACK", str(self.offset if offset is None else offset)]))

    def quiet(self, secs):
        """Nothing arrives for secs seconds."""
        deadline = time.monotonic() + secs
        try:
            while time.monotonic() < deadline:
                self._fill(deadline)
        except (socket.timeout, TimeoutError):
            pass
        return self.c.buf == b""

    def stream(self, n, timeout=5):
        """The next n bytes of the stream."""
        deadline = time.monotonic() + timeout
        while len(self.c.buf) < n:
            self._fill(deadline)
        out, self.c.buf = self.c.buf[:n], self.c.buf[n:]
        return out

    def close(self):
        self.c.close()


def stream_of(*cmds):
    return b"".join(encode(c) for c in cmds)


@pytest.mark.parametrize("capa_eof", [False, True])
def test_stream_bytes(servers, capa_eof):
    primary = keel_server("--repl-diskless-sync-delay", 0, "--repl-ping-replica-period", 3600)
    servers.append(primary)
    p = client(primary)
    p.set("before", 1)
    rr = RawReplica(primary.port, capa_eof)
    try:
        assert rr.offset == int(info(p)["master_repl_offset"])
        wait_for(lambda: "state=online" in info(p).get("slave0", ""), 10, "online")
        rr.ack()
        p.set("k", "v")
        p.execute_command("SELECT", 5)
        p.set("k5", "v")
        p.expire("k5", 100)  # relative expiries travel as absolute ones
        p.execute_command("SELECT", 0)
        p.execute_command("INCR", "n")
        got = rr.stream(len(stream_of(["SELECT", "0"], ["SET", "k", "v"],
                                      ["SELECT", "5"], ["SET", "k5", "v"])))
        assert got == stream_of(["SELECT", "0"], ["SET", "k", "v"], ["SELECT", "5"],
                                ["SET", "k5", "v"])
        pexpireat = rr.stream(len(encode(["PEXPIREAT", "k5", "1" * 13])))
        assert pexpireat.startswith(b"*3\r\n$9\r\nPEXPIREAT\r\n$2\r\nk5\r\n$13\r\n")
        assert rr.stream(len(stream_of(["SELECT", "0"], ["INCR", "n"]))) == \
            stream_of(["SELECT", "0"], ["INCR", "n"])
        # MULTI/EXEC arrives wrapped
        m = p.pipeline(transaction=True)
        m.set("a", 1)
        m.set("b", 2)
        m.execute()
        want = stream_of(["MULTI"], ["SET", "a", "1"], ["SET", "b", "2"], ["EXEC"])
        assert rr.stream(len(want)) == want
        # an expired key reaches the replica as DEL
        p.execute_command("SELECT", 3)
        p.set("gone", 1, px=50)
        p.execute_command("SELECT", 0)
        head = stream_of(["SELECT", "3"])
        assert rr.stream(len(head)) == head
        setpx = rr.stream(len(encode(["SET", "gone", "1", "PXAT", "1" * 13])))
        assert setpx.startswith(b"*5\r\n$3\r\nSET\r\n$4\r\ngone\r\n")
        want = stream_of(["DEL", "gone"])
        assert rr.stream(len(want), timeout=5) == want
        # the offset counts every byte
        assert int(info(p)["master_repl_offset"]) == rr.offset + len(
            stream_of(["SELECT", "0"], ["SET", "k", "v"], ["SELECT", "5"], ["SET", "k5", "v"])) + \
            len(pexpireat) + len(stream_of(["SELECT", "0"], ["INCR", "n"])) + \
            len(stream_of(["MULTI"], ["SET", "a", "1"], ["SET", "b", "2"], ["EXEC"])) + \
            len(head) + len(setpx) + len(want)
        # REPLCONF ACK is never answered; the replica shows its offset
        rr.c.send(encode(["REPLCONF", "ACK", "12345"]))
        wait_for(lambda: "offset=12345," in info(p)["slave0"], 5, "the ACK")
        assert info(p)["slave0"].startswith("ip=127.0.0.1,port=4242,state=online,offset=12345,")
        assert client(primary).execute_command("ROLE") == \
            [b"master", int(info(p)["master_repl_offset"]), [[b"127.0.0.1", b"4242", b"12345"]]]
    finally:
        rr.close()


def test_diskless_stream_starts_at_first_ack(servers):
    """After a diskless ($EOF:<mark>) payload the stream waits for the
    replica's first REPLCONF ACK, as Redis's repl_start_cmd_stream_on_ack:
    a replica finds the payload's end by its last 40 bytes, which stream
    bytes glued behind the mark in one read would hide (a redis-server
    replica then waited for repl-timeout). A disk payload ($<len>) is
    followed by the stream at once."""
    primary = keel_server("--repl-diskless-sync-delay", 0, "--repl-ping-replica-period", 3600)
    servers.append(primary)
    p = client(primary)
    rr = RawReplica(primary.port, True)
    try:
        wait_for(lambda: "state=online" in info(p).get("slave0", ""), 10, "online")
        p.set("k", "v")
        assert rr.quiet(0.5)  # held: nothing behind the mark
        rr.ack()
        want = stream_of(["SELECT", "0"], ["SET", "k", "v"])
        assert rr.stream(len(want)) == want
        p.set("k2", "v")
        want = stream_of(["SET", "k2", "v"])
        assert rr.stream(len(want)) == want
    finally:
        rr.close()
    disk = RawReplica(primary.port, False)
    try:
        wait_for(lambda: "state=online" in info(p).get("slave1", info(p).get("slave0", "")),
                 10, "online")
        p.set("k3", "v")
        want = stream_of(["SELECT", "0"], ["SET", "k3", "v"])
        assert disk.stream(len(want)) == want
    finally:
        disk.close()


def test_ping_in_stream(servers):
    primary = keel_server("--repl-diskless-sync-delay", 0, "--repl-ping-replica-period", 1)
    servers.append(primary)
    rr = RawReplica(primary.port, True)
    try:
        wait_for(lambda: "state=online" in info(client(primary)).get("slave0", ""), 10, "online")
        rr.ack()
        want = stream_of(["PING"])
        assert rr.stream(len(want), timeout=5) == want
    finally:
        rr.close()


def test_sync_command_and_disk_payload(servers):
    primary = keel_server("--repl-diskless-sync", "yes", "--repl-ping-replica-period", 3600)
    servers.append(primary)
    p = client(primary)
    p.set("k", "v")
    rr = RawReplica(primary.port, sync=True)  # no +FULLRESYNC, always from disk
    try:
        wait_for(lambda: "state=online" in info(p).get("slave0", ""), 10, "online")
        p.set("k2", "v2")
        want = stream_of(["SELECT", "0"], ["SET", "k2", "v2"])
        assert rr.stream(len(want)) == want
    finally:
        rr.close()


# --------------------------------------------------------------------------
# shapes and errors compared with redis-server


def test_info_and_role_shape_match_redis(servers):
    keel = keel_server("--repl-diskless-sync-delay", 0)
    servers.append(keel)
    red = redis_server("--repl-diskless-sync-delay", 0, name="redis-primary")
    servers.append(red)
    # without replicas
    assert list(info(client(keel)).keys()) == list(info(client(red)).keys())
    assert client(keel).execute_command("ROLE")[0::2] == client(red).execute_command("ROLE")[0::2]
    for prim in (keel, red):
        client(prim).set("k", "v")
        servers.append(redis_replica(prim))
    wait_synced(keel, servers[2])
    wait_synced(red, servers[3])
    for prim in (keel, red):
        wait_for(lambda: "state=online" in info(client(prim))["slave0"], 10, "online")
    ki, ri = info(client(keel)), info(client(red))
    assert list(ki.keys()) == list(ri.keys())
    for k in ("role", "connected_slaves", "repl_backlog_active", "repl_backlog_size",
              "master_failover_state", "second_repl_offset", "master_replid2"):
        assert ki[k] == ri[k], k
    # the same fields; ip and state equal (lag is seconds since an ack: 0 or 1)
    kf = [f.split("=", 1) for f in ki["slave0"].split(",")]
    rf = [f.split("=", 1) for f in ri["slave0"].split(",")]
    assert [f[0] for f in kf] == [f[0] for f in rf]
    assert dict(kf)["ip"] == dict(rf)["ip"] and dict(kf)["state"] == dict(rf)["state"]
    kr, rr = client(keel).execute_command("ROLE"), client(red).execute_command("ROLE")
    assert kr[0] == rr[0] == b"master"
    assert len(kr[2]) == len(rr[2]) == 1 and len(kr[2][0]) == len(rr[2][0]) == 3
    # a replica's INFO replication (redis-server replica of Keel and of redis)
    ka, ra = info(client(servers[2])), info(client(servers[3]))
    assert list(ka.keys()) == list(ra.keys())
    assert ka["master_link_status"] == ra["master_link_status"] == "up"
    assert ka["master_replid"] == ki["master_replid"]
    # connected_clients leaves replicas out, as redis-server
    assert info(client(keel), "clients")["connected_clients"] == \
        info(client(red), "clients")["connected_clients"]
    # CLIENT LIST knows the replica
    lines = client(keel).execute_command("CLIENT", "LIST", "TYPE", "replica").decode().splitlines()
    assert len(lines) == 1 and " flags=S " in lines[0] and " cmd=replconf " in lines[0]


def test_errors_match_redis(servers):
    keel = keel_server()
    servers.append(keel)
    red = redis_server(name="redis-oracle")
    servers.append(red)
    cmds = [
        ["REPLCONF"],
        ["REPLCONF", "listening-port"],
        ["REPLCONF", "listening-port", "abc"],
        ["REPLCONF", "listening-port", "6380"],
        ["REPLCONF", "nosuch", "1"],
        ["REPLCONF", "capa", "eof", "capa", "psync2", "capa", "future"],
        ["REPLCONF", "ip-address", "10.0.0.1"],
        ["REPLCONF", "ip-address", "x" * 300],
        ["REPLCONF", "rdb-only", "2"],
        ["REPLCONF", "rdb-only", "x"],
        ["REPLCONF", "ack", "100"],
        ["REPLCONF", "getack", "*"],
        ["WAIT"],
        ["WAIT", "abc", "0"],
        ["WAIT", "0", "abc"],
        ["WAIT", "0", "-1"],
        ["WAIT", "0", "0"],
        ["WAIT", "1", "10"],
        ["PSYNC"],
        ["PSYNC", "?"],
        ["SYNC", "extra"],
        ["ROLE", "extra"],
        ["ROLE"],
    ]
    got = {}
    for name, srv in (("keel", keel), ("redis", red)):
        out = []
        with RawConn(srv.port) as rc:
            for cmd in cmds:
                rc.send(encode(cmd))
                if cmd[0] == "REPLCONF" and cmd[1:2] in (["ack"], ["getack"]):
                    rc.send(encode(["PING"]))  # never answered: PING's reply comes next
                    out.append(rc.read_reply())
                    continue
                rep = rc.read_reply()
                if cmd == ["ROLE"]:
                    rep = rep.split(b"\r\n")[:3]  # the offset differs
                out.append(rep)
        got[name] = out
    for cmd, k, r in zip(cmds, got["keel"], got["redis"]):
        assert k == r, "%r: keel %r redis %r" % (cmd, k, r)


# --------------------------------------------------------------------------
# Sentinel (Debian's redis-server run as a sentinel) watching a Keel primary


def test_sentinel_fails_over_from_keel(servers, tmp_path):
    primary = keel_server("--repl-diskless-sync-delay", 0, "--repl-ping-replica-period", 1)
    servers.append(primary)
    p = client(primary)
    p.set("k", "v")
    r1 = redis_replica(primary, "--replica-priority", 100)
    servers.append(r1)
    r2 = redis_replica(primary, "--replica-priority", 50)
    servers.append(r2)
    assert_same(primary, r1)
    assert_same(primary, r2)
    conf = tmp_path / "sentinel.conf"

    def sentinel_argv(port):
        conf.write_text(
            "port %d\nbind 127.0.0.1\ndir %s\n"
            "sentinel monitor mymaster 127.0.0.1 %d 1\n"
            "sentinel down-after-milliseconds mymaster 1000\n"
            "sentinel failover-timeout mymaster 10000\n" % (port, tmp_path, primary.port))
        return [harness.oracle_bin(), str(conf), "--sentinel"]

    sentinel = ServerProcess("redis-sentinel", sentinel_argv).start()
    servers.append(sentinel)
    s = client(sentinel)
    # the sentinel learns both replicas from Keel's INFO replication
    wait_for(lambda: len(s.execute_command("SENTINEL", "REPLICAS", "mymaster")) == 2, 30,
             "the sentinel to see both replicas")
    assert s.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster") == \
        [b"127.0.0.1", str(primary.port).encode()]
    p.set("before-failover", 1)
    assert p.execute_command("WAIT", 2, 5000) == 2
    # the primary dies: the sentinel promotes the replica with the best priority
    os.kill(primary.proc.pid, signal.SIGKILL)
    primary.proc.wait()
    primary.proc = None
    wait_for(lambda: s.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster") ==
             [b"127.0.0.1", str(r2.port).encode()], 60, "the failover")
    # a client following the sentinel writes to the new primary
    host, port = s.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
    newp = redis.Redis(host=host.decode(), port=int(port))
    wait_for(lambda: info(newp)["role"] == "master", 30, "the promotion")
    assert newp.get("before-failover") == b"1"
    newp.set("after-failover", 2)
    wait_for(lambda: client(r1).get("after-failover") == b"2", 30, "r1 to follow the new primary")


# --------------------------------------------------------------------------
# FAILOVER


def keel_replica(primary, *extra):
    return ServerProcess("keel-replica", lambda p: harness.keel_argv(p) + [
        "--replicaof", "127.0.0.1", str(primary.port)] + [str(a) for a in extra]).start()


@pytest.mark.parametrize("kind", ["redis", "keel"])
def test_failover_to_replica(servers, kind):
    primary = keel_server("--repl-diskless-sync-delay", 0)
    servers.append(primary)
    p = client(primary)
    p.set("k", "v")
    replica = redis_replica(primary) if kind == "redis" else keel_replica(primary)
    servers.append(replica)
    assert_same(primary, replica)
    p.set("last", "write")
    assert p.execute_command("FAILOVER", "TIMEOUT", 10000) == b"OK"
    r = client(replica)
    wait_for(lambda: info(r)["role"] == "master", 20, "the replica's promotion")
    wait_for(lambda: info(p)["role"] == "slave" and info(p)["master_link_status"] == "up", 20,
             "the old primary following")
    assert info(p)["master_port"] == str(replica.port)
    assert info(p)["master_failover_state"] == "no-failover"
    assert r.get("last") == b"write"
    r.set("new", "primary")
    wait_for(lambda: p.get("new") == b"primary", 10, "the stream from the new primary")
    # writes were paused during the failover only: the old primary is read-only now
    with pytest.raises(redis.exceptions.ReadOnlyError):
        p.set("x", 1)


def test_failover_errors_match_redis(servers):
    keel = keel_server()
    servers.append(keel)
    red = redis_server(name="redis-oracle")
    servers.append(red)
    cmds = [
        ["FAILOVER", "ABORT"],
        ["FAILOVER"],
        ["FAILOVER", "TIMEOUT", "0"],
        ["FAILOVER", "TIMEOUT", "abc"],
        ["FAILOVER", "TO", "127.0.0.1", "1"],
        ["FAILOVER", "TO", "127.0.0.1", "1", "FORCE"],
        ["FAILOVER", "TO", "127.0.0.1", "x"],
        ["FAILOVER", "ABORT", "TIMEOUT", "5"],
        ["FAILOVER", "BOGUS"],
    ]
    got = {}
    for name, srv in (("keel", keel), ("redis", red)):
        with RawConn(srv.port) as rc:
            got[name] = [rc.call(*c) for c in cmds]
    for cmd, k, r in zip(cmds, got["keel"], got["redis"]):
        assert k == r, "%r: keel %r redis %r" % (cmd, k, r)


def test_failover_timeout_aborts(servers):
    primary = keel_server("--repl-diskless-sync-delay", 0)
    servers.append(primary)
    p = client(primary)
    replica = redis_replica(primary)
    servers.append(replica)
    p.set("k", 1)
    assert_same(primary, replica)
    os.kill(replica.proc.pid, signal.SIGSTOP)
    p.set("k", 2)  # the stopped replica never acknowledges this
    assert p.execute_command("FAILOVER", "TIMEOUT", 500) == b"OK"
    assert info(p)["master_failover_state"] == "waiting-for-sync"
    with pytest.raises(redis.exceptions.ResponseError, match="FAILOVER already in progress"):
        p.execute_command("FAILOVER")
    wait_for(lambda: info(p)["master_failover_state"] == "no-failover", 10, "the abort")
    assert info(p)["role"] == "master"
    assert p.set("k", 3)  # writes flow again
    assert b"Replica never caught up before timeout" in primary.log_text()
    os.kill(replica.proc.pid, signal.SIGCONT)
    # ABORT while waiting
    os.kill(replica.proc.pid, signal.SIGSTOP)
    p.set("k", 4)
    assert p.execute_command("FAILOVER") == b"OK"
    assert p.execute_command("FAILOVER", "ABORT") == b"OK"
    assert info(p)["master_failover_state"] == "no-failover"
    assert p.set("k", 5)
    os.kill(replica.proc.pid, signal.SIGCONT)


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_redis_cli_rdb(servers, tmp_path, diskless):
    """redis-cli --rdb: REPLCONF capa eof, REPLCONF rdb-only 1, SYNC: the
    snapshot alone (diskless even with repl-diskless-sync no, as Redis)."""
    import subprocess
    primary = keel_server("--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", 0)
    servers.append(primary)
    p = client(primary)
    fill_every_type(p, 50)
    out = tmp_path / "snap.rdb"
    res = subprocess.run(["redis-cli", "-p", str(primary.port), "--rdb", str(out)],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    assert "Transfer finished with success" in res.stderr + res.stdout
    check = subprocess.run(["redis-check-rdb", str(out)], capture_output=True, text=True)
    assert "RDB looks OK" in check.stdout
    # the snapshot loads into redis-server with the same digest
    srv = ServerProcess("redis-loaded", lambda port: harness.oracle_argv(port) + [
        "--dir", str(tmp_path), "--dbfilename", "snap.rdb", "--enable-debug-command", "yes"])
    servers.append(srv.start())
    assert digest(srv) == digest(primary)
    wait_for(lambda: info(p)["connected_slaves"] == "0", 10, "the rdb-only client gone")


def test_backlog_ttl(servers):
    primary = keel_server("--repl-diskless-sync-delay", 0, "--repl-backlog-ttl", 1)
    servers.append(primary)
    p = client(primary)
    ri = info(p)
    assert ri["repl_backlog_active"] == "0"
    replica = redis_replica(primary)
    servers.append(replica)
    p.set("k", "v")
    assert_same(primary, replica)
    ri = info(p)
    assert ri["repl_backlog_active"] == "1"
    replid = ri["master_replid"]
    replica.stop()
    wait_for(lambda: info(p)["repl_backlog_active"] == "0", 10, "the backlog freed")
    ri = info(p)
    assert ri["master_replid"] != replid
    assert ri["repl_backlog_histlen"] == "0"
    assert b"Replication backlog freed after 1 seconds without connected replicas." in \
        primary.log_text()


# --------------------------------------------------------------------------
# shutdown waits for lagging replicas (Redis 7.0's shutdown-timeout)


def _shutdown(c, *args):
    try:
        c.execute_command("SHUTDOWN", *args)
    except redis.exceptions.ConnectionError:
        pass


def test_shutdown_waits_for_lagging_replica(servers):
    primary = keel_server("--repl-diskless-sync-delay", 0, "--shutdown-timeout", 10)
    servers.append(primary)
    p = client(primary)
    replica = redis_replica(primary)
    servers.append(replica)
    p.set("k", 1)
    assert_same(primary, replica)
    os.kill(replica.proc.pid, signal.SIGSTOP)
    p.set("last", "write")
    t = threading.Thread(target=_shutdown, args=(client(primary),))
    t.start()
    wait_for(lambda: b"Waiting for replicas before shutting down" in primary.log_text(), 10,
             "the wait")
    time.sleep(0.5)
    assert primary.proc.poll() is None  # still waiting for the replica
    os.kill(replica.proc.pid, signal.SIGCONT)
    primary.proc.wait(15)
    t.join()
    assert primary.proc.returncode == 0
    assert b"Replicas are in sync: shutting down." in primary.log_text()
    primary.proc = None
    assert client(replica).get("last") == b"write"


def test_shutdown_timeout_and_now(servers):
    primary = keel_server("--repl-diskless-sync-delay", 0, "--shutdown-timeout", 1)
    servers.append(primary)
    p = client(primary)
    replica = redis_replica(primary)
    servers.append(replica)
    p.set("k", 1)
    assert_same(primary, replica)
    os.kill(replica.proc.pid, signal.SIGSTOP)
    p.set("k", 2)
    t0 = time.monotonic()
    primary.proc.send_signal(signal.SIGTERM)  # SIGTERM waits as SHUTDOWN does
    primary.proc.wait(15)
    assert time.monotonic() - t0 >= 0.9
    assert b"Lagging replica" in primary.log_text()
    primary.proc = None
    os.kill(replica.proc.pid, signal.SIGCONT)
    # SHUTDOWN NOW does not wait
    primary2 = keel_server("--repl-diskless-sync-delay", 0, "--shutdown-timeout", 10)
    servers.append(primary2)
    p2 = client(primary2)
    r2 = redis_replica(primary2)
    servers.append(r2)
    p2.set("k", 1)
    assert_same(primary2, r2)
    os.kill(r2.proc.pid, signal.SIGSTOP)
    p2.set("k", 2)
    t0 = time.monotonic()
    _shutdown(p2, "NOW")
    primary2.proc.wait(15)
    assert time.monotonic() - t0 < 3
    assert b"Waiting for replicas" not in primary2.log_text()
    primary2.proc = None
    os.kill(r2.proc.pid, signal.SIGCONT)


def test_aof_and_replica_together(servers):
    """Propagation feeds both consumers, each with its own SELECTs."""
    primary = keel_server("--repl-diskless-sync-delay", 0, "--appendonly", "yes")
    servers.append(primary)
    p = client(primary)
    replica = redis_replica(primary)
    servers.append(replica)
    fill_every_type(p, 30)
    for db in (1, 0, 4):
        p.execute_command("SELECT", db)
        p.set("db%d" % db, db)
        p.expire("db%d" % db, 100)
    p.execute_command("SELECT", 0)
    assert_same(primary, replica)
    # the AOF replays to the same dataset
    before = digest(primary)
    p.execute_command("DEBUG", "LOADAOF")
    assert digest(primary) == before
    p.set("after", "loadaof")
    assert_same(primary, replica)
