"""Diskless full syncs to TLS replicas (repl-diskless-sync yes with
tls-replication), as Redis 7.0 does them: the child writes the $EOF:<mark>
payload into a pipe and the primary relays it to each TLS connection
(core/repl/repl_pipe.c), waiting for slow replicas.

- a Keel primary, a Keel and a redis-server replica over TLS (and one over
  plain TCP beside them, the child writing its socket directly) synced in
  one diskless transfer: DEBUG DIGEST equal, the primary's log says the
  target was the replicas' sockets, the replicas' logs that the payload
  came in the $EOF: form (never a disk sync);
- a slow transfer (rdb-key-save-delay) to two TLS replicas, one killed
  with SIGKILL halfway: the other completes (digest equal), the primary
  keeps serving, and the killed one syncs again when restarted;
- a TLS replica that stops reading is dropped after repl-timeout and the
  other completes.
"""

import os
import shutil
import signal
import socket
import ssl
import tempfile

import pytest
import redis

import harness
import tls_certs
from harness import ServerProcess
from repl_helpers import wait_for
from test_repl_tls import Node, fill, link_up


@pytest.fixture(scope="module")
def certs():
    d = tempfile.mkdtemp(prefix="keel-repl-tls-dl-")
    try:
        yield tls_certs.make_certs(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def log_has(node, text):
    return text.encode() in node.srv.log_text()


def primary(certs, nreplicas, *extra):
    p = Node("keel", certs)
    p.c.config_set("repl-diskless-sync", "yes")
    p.c.config_set("repl-diskless-sync-delay", 5)
    p.c.config_set("repl-diskless-sync-max-replicas", nreplicas)
    for k, v in zip(extra[::2], extra[1::2]):
        p.c.config_set(k, v)
    return p


def test_diskless_sync_to_tls_replicas(certs):
    p = primary(certs, 3)
    reps = []
    try:
        fill(p.c)
        for kind in ("keel", "redis"):
            r = Node(kind, certs)
            reps.append(r)
            r.c.replicaof("127.0.0.1", p.tls_port)
        plain = Node("keel", certs)
        reps.append(plain)
        plain.c.config_set("tls-replication", "no")
        plain.c.replicaof("127.0.0.1", p.srv.port)
        for r in reps:
            wait_for(lambda: link_up(r), 60, r.kind + " link up")
        p.c.set("after", "sync")
        want = p.c.execute_command("DEBUG", "DIGEST")
        for r in reps:
            wait_for(lambda: r.c.execute_command("DEBUG", "DIGEST") == want, 30,
                     r.kind + " to match the primary")
            assert log_has(r, "receiving streamed RDB from master with EOF"), r.kind
        assert log_has(p, "Starting BGSAVE for SYNC with target: replicas sockets")
        assert not log_has(p, "Starting BGSAVE for SYNC with target: disk")
        assert p.srv.log_text().count(b"Background RDB transfer started") == 1
        assert log_has(p, "Diskless rdb transfer, done reading from pipe, 2 replicas still up.")
        assert p.c.info("stats")["sync_full"] == 3
        assert p.c.info("replication")["connected_slaves"] == 3
    finally:
        for r in reps:
            r.stop()
        p.stop()


def test_killed_tls_replica_does_not_stall_the_others(certs):
    # 2000+ keys at 2 ms each: a transfer of several seconds
    p = primary(certs, 2, "rdb-key-save-delay", 2000)
    reps = []
    try:
        fill(p.c)
        for kind in ("redis", "keel"):
            r = Node(kind, certs)
            reps.append(r)
            r.c.replicaof("127.0.0.1", p.tls_port)
        victim, survivor = reps
        wait_for(lambda: log_has(p, "Background RDB transfer started"), 30, "the transfer")
        wait_for(lambda: victim.c.info("replication").get("master_sync_in_progress") == 1,
                 30, "the victim's transfer")
        os.kill(victim.srv.proc.pid, signal.SIGKILL)
        victim.srv.proc.wait()
        # the primary serves meanwhile
        assert p.c.ping()
        p.c.set("during", "transfer")
        wait_for(lambda: link_up(survivor), 120, "the survivor's sync")
        p.c.config_set("rdb-key-save-delay", 0)
        want = p.c.execute_command("DEBUG", "DIGEST")
        wait_for(lambda: survivor.c.execute_command("DEBUG", "DIGEST") == want, 30,
                 "the survivor to match the primary")
        assert survivor.c.get("during") == b"transfer"
        assert p.c.info("replication")["connected_slaves"] == 1
        assert log_has(p, "done reading from pipe, 1 replicas still up."), \
            p.srv.log_text()[-3000:]
        # the killed replica, restarted, syncs again
        victim.srv.proc = None
        victim.srv.start()
        victim.c = redis.Redis(host="127.0.0.1", port=victim.srv.port, socket_timeout=30)
        victim.c.replicaof("127.0.0.1", p.tls_port)
        wait_for(lambda: link_up(victim), 60, "the victim's new sync")
        wait_for(lambda: victim.c.execute_command("DEBUG", "DIGEST") == want, 30,
                 "the victim to match the primary")
    finally:
        for r in reps:
            try:
                r.stop()
            except AssertionError:
                if r is not reps[0]:
                    raise
        p.stop()


def stalled_tls_replica(certs, port):
    """A replica over TLS that asks for a full sync (capa eof) and then
    reads nothing: a tiny receive buffer (no autotuning) fills at once."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(certs["ca.crt"])
    ctx.load_cert_chain(certs["client.crt"], certs["client.key"])
    ctx.check_hostname = False
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(10)
    raw.connect(("127.0.0.1", port))
    s = ctx.wrap_socket(raw)
    for cmd in (["PING"], ["REPLCONF", "listening-port", "1"],
                ["REPLCONF", "capa", "eof", "capa", "psync2"]):
        s.sendall(harness.encode(cmd))
        line = b""
        while not line.endswith(b"\r\n"):
            line += s.recv(1)
    s.sendall(harness.encode(["PSYNC", "?", "-1"]))
    return s


def test_stalled_tls_replica_is_dropped_after_repl_timeout(certs):
    """A TLS replica that stops reading holds the pipe (the others wait,
    as Redis waits for slow replicas) until repl-timeout drops it; the
    other then completes."""
    p = primary(certs, 2, "repl-timeout", 3, "rdb-key-save-delay", 10000,
                "rdbcompression", "no")
    survivor = None
    stalled = None
    try:
        p.c.execute_command("DEBUG", "POPULATE", 200, "big", 100000)  # 20 MB
        p.c.set("k", "v")
        stalled = stalled_tls_replica(certs, p.tls_port)
        survivor = Node("keel", certs)
        survivor.c.replicaof("127.0.0.1", p.tls_port)
        wait_for(lambda: log_has(p, "Disconnecting timedout replica (full sync)"), 60,
                 "the stalled replica dropped")
        assert not log_has(p, "done reading from pipe, 2 replicas still up.")
        wait_for(lambda: link_up(survivor), 120, "the survivor's sync")
        want = p.c.execute_command("DEBUG", "DIGEST")
        wait_for(lambda: survivor.c.execute_command("DEBUG", "DIGEST") == want, 30,
                 "the survivor to match the primary")
        assert log_has(p, "done reading from pipe, 1 replicas still up.")
        assert p.c.info("replication")["connected_slaves"] == 1
    finally:
        if stalled:
            stalled.close()
        if survivor:
            survivor.stop()
        p.stop()
