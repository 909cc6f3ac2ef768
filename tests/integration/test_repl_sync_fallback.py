"""Replication: the replica's SYNC fallback (Redis 7.0's rule).

A replica whose PSYNC is answered with an error other than -NOMASTERLINK /
-LOADING sends SYNC and takes the RDB that follows (no +FULLRESYNC line),
then applies the stream without sending REPLCONF ACK (a pre-PSYNC primary
knows none). -NOMASTERLINK and -LOADING mean "later": no SYNC, the replica
reconnects and tries PSYNC again.

Real processes on free ports: a Keel or redis-server primary whose
`masteruser` may not run PSYNC (ACL -psync: -NOPERM), replicated by a Keel
replica and by a redis-server replica side by side; and a tiny fake primary
in the test speaking the protocol, which records what the replica sends.
"""

import os
import socket
import threading
import time

import pytest
import redis

import harness
from repl_helpers import cli, stop, wait_for
from harness import ServerProcess


def keel_argv(*extra):
    def argv(port):
        return harness.keel_argv(port) + list(extra)
    return argv


def redis_argv(*extra):
    def argv(port):
        return [harness.oracle_bin(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--enable-debug-command", "yes"] + list(extra)
    return argv


ACL_NO_PSYNC = ["ACL", "SETUSER", "repl", "on", ">replpw", "~*", "&*", "+@all", "-psync"]


@pytest.mark.parametrize("primary_kind", ["keel", "redis"])
@pytest.mark.parametrize("diskless", ["no", "yes"])
def test_psync_refused_falls_back_to_sync(primary_kind, diskless):
    """diskless yes: redis-server starts the stream of a SYNC replica
    on a REPLCONF ACK once it is online; one that came earlier is ignored,
    and redis-server's replica sends no other to a SYNC primary (a race in
    redis-server itself), so only the Keel replica (which sends ACKs until
    the stream starts) is checked against a diskless primary."""
    nodelay = ("--repl-diskless-sync-delay", "0", "--repl-diskless-sync", diskless)
    fn = keel_argv(*nodelay) if primary_kind == "keel" else redis_argv(*nodelay)
    kinds = (("keel", keel_argv()), ("redis", redis_argv()))
    if diskless == "yes":
        kinds = kinds[:1]
    primary = ServerProcess("primary-" + primary_kind, fn).start()
    replicas = []
    try:
        p = cli(primary)
        p.execute_command(*ACL_NO_PSYNC)
        # the user really cannot PSYNC, and can SYNC's ACL check
        assert p.execute_command("ACL", "DRYRUN", "repl", "PSYNC", "?", "-1") != b"OK"
        p.execute_command("DEBUG", "POPULATE", 500)
        p.rpush("list", *range(100))
        p.hset("hash", mapping={"a": 1, "b": 2})
        p.zadd("z", {"x": 1.5, "y": 2})
        for kind, rfn in kinds:
            rep = ServerProcess("replica-" + kind, rfn).start()
            replicas.append(rep)
            r = cli(rep)
            r.config_set("masteruser", "repl")
            r.config_set("masterauth", "replpw")
            r.replicaof("127.0.0.1", primary.port)
        for rep in replicas:
            r = cli(rep)
            wait_for(lambda: r.info("replication")["master_link_status"] == "up", 30,
                     rep.name + " link up")
        p.set("after", "the-sync")
        p.incr("counter")
        want = p.execute_command("DEBUG", "DIGEST")
        for rep in replicas:
            r = cli(rep)
            wait_for(lambda: r.execute_command("DEBUG", "DIGEST") == want, 30,
                     rep.name + " to apply the stream")
            assert r.get("after") == b"the-sync"
            assert b"Retrying with SYNC" in rep.log_text(), rep.name
        # the primary's view: both replicas came with SYNC (no PSYNC accepted)
        info = p.info("replication")
        assert info["connected_slaves"] == len(kinds)
        assert p.info("stats")["sync_full"] == len(kinds)
        assert p.info("stats")["sync_partial_ok"] == 0
    finally:
        for rep in replicas:
            stop(rep)
        stop(primary)


class FakePrimary:
    """Answers the handshake, PSYNC with `psync_reply`; on SYNC sends `rdb`
    as $<len> then one SET of the stream. Records every connection's bytes."""

    def __init__(self, psync_reply, rdb, close_after_psync=False):
        self.psync_reply = psync_reply
        self.close_after_psync = close_after_psync
        self.rdb = rdb
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []   # received bytes per connection
        self.lock = threading.Lock()
        self.stopped = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stopped:
            try:
                s, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.serve, args=(s,), daemon=True).start()

    def serve(self, s):
        rec = bytearray()
        with self.lock:
            self.conns.append(rec)
        buf = b""
        s.settimeout(0.2)
        while not self.stopped:
            try:
                d = s.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not d:
                break
            rec += d
            buf += d
            while buf:
                if not buf.startswith(b"*"):  # an inline command (Redis's SYNC)
                    if b"\r\n" not in buf:
                        break
                    line, buf = buf.split(b"\r\n", 1)
                    cmd = line.split()
                else:
                    try:
                        cmd, end = harness.parse_one(buf, 0)
                    except harness.Incomplete:
                        break
                    buf = buf[end:]
                name = cmd[0].upper() if isinstance(cmd, list) and cmd else b""
                if name == b"PING":
                    s.sendall(b"+PONG\r\n")
                elif name in (b"AUTH", b"REPLCONF"):
                    if not (len(cmd) > 1 and cmd[1].upper() == b"ACK"):
                        s.sendall(b"+OK\r\n")
                elif name == b"PSYNC":
                    s.sendall(self.psync_reply)
                    if self.close_after_psync:
                        self.stopped_conn = True
                        s.close()
                        return
                elif name == b"SYNC":
                    s.sendall(b"$%d\r\n" % len(self.rdb) + self.rdb)
                    time.sleep(0.2)
                    s.sendall(harness.encode(["SET", "streamed", "yes"]))
        s.close()

    def received(self):
        with self.lock:
            return [bytes(c) for c in self.conns]

    def close(self):
        self.stopped = True
        self.sock.close()


def redis_rdb():
    """An RDB image made by redis-server: a few keys."""
    srv = ServerProcess("rdb-maker", redis_argv()).start()
    try:
        c = cli(srv)
        c.execute_command("DEBUG", "POPULATE", 50)
        c.save()
        with open(os.path.join(srv.workdir, "dump.rdb"), "rb") as f:
            return f.read()
    finally:
        stop(srv)


@pytest.mark.parametrize("kind", ["keel", "redis"])
def test_fake_primary_without_psync(kind):
    fake = FakePrimary(b"-ERR unknown command 'PSYNC', with args beginning with: \r\n",
                       redis_rdb())
    rep = ServerProcess(kind, keel_argv() if kind == "keel" else redis_argv()).start()
    try:
        r = cli(rep)
        r.replicaof("127.0.0.1", fake.port)
        wait_for(lambda: r.get("streamed") == b"yes", 30, "the stream after SYNC")
        assert r.dbsize() == 51
        assert r.info("replication")["master_link_status"] == "up"
        time.sleep(2.5)  # ACKs would go out every second
        got = fake.received()
        assert len(got) == 1, got
        assert got[0].endswith(b"\r\nSYNC\r\n"), got[0]  # inline, after PSYNC
        assert b"ACK" not in got[0], got[0]
    finally:
        stop(rep)
        fake.close()


@pytest.mark.parametrize("kind", ["keel", "redis"])
@pytest.mark.parametrize("reply", [b"-NOMASTERLINK Can't SYNC while not connected with my master\r\n",
                                   b"-LOADING Redis is loading the dataset in memory\r\n"])
def test_fake_primary_try_later(kind, reply):
    fake = FakePrimary(reply, redis_rdb())
    rep = ServerProcess(kind, keel_argv() if kind == "keel" else redis_argv()).start()
    try:
        r = cli(rep)
        r.replicaof("127.0.0.1", fake.port)
        wait_for(lambda: len(fake.received()) >= 2, 30, "a second attempt")
        time.sleep(0.3)
        for got in fake.received():
            assert b"PSYNC" in got or got == b""
            assert b"SYNC\r\n" not in got.replace(b"PSYNC", b""), got
        assert r.info("replication")["master_link_status"] == "down"
    finally:
        stop(rep)
        fake.close()
