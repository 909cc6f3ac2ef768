"""Replication over TLS (tls-replication yes), as Redis 7.0.

Real processes on free ports, certificates made by `openssl` at test time
(tls_certs.py): every server has a plain port (the harness's PING probe) and
a --tls-port; the replica has tls-replication yes and REPLICAOFs the
primary's TLS port. All four pairings (redis->Keel, Keel->redis,
Keel->Keel, redis->Keel->redis chained): a dataset synced, DEBUG DIGEST
equal, writes after the sync applied, the link on the primary's TLS port.
A replica with tls-client-cert-file presents that certificate; one whose CA
does not sign the primary's certificate never gets the link up (both
servers alike).
"""

import shutil
import tempfile
import time

import pytest
import redis

import harness
from repl_helpers import wait_for
import tls_certs
from harness import ServerProcess


@pytest.fixture(scope="module")
def certs():
    d = tempfile.mkdtemp(prefix="keel-repl-tls-")
    try:
        yield tls_certs.make_certs(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def tls_args(c, ca="ca.crt", client=None):
    a = ["--tls-cert-file", c["server.crt"], "--tls-key-file", c["server.key"],
         "--tls-ca-cert-file", c[ca], "--tls-replication", "yes"]
    if client:
        a += ["--tls-client-cert-file", c[client + ".crt"],
              "--tls-client-key-file", c[client + ".key"]]
    return a


class Node:
    def __init__(self, kind, certs, **kw):
        self.kind = kind
        self.tls_port = harness.free_port()
        extra = ["--tls-port", str(self.tls_port)] + tls_args(certs, **kw)
        if kind == "keel":
            fn = lambda port: harness.keel_argv(port) + extra  # noqa: E731
        else:
            fn = lambda port: [harness.oracle_bin(), "--port", str(port),  # noqa: E731
                               "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--enable-debug-command", "yes",
                               "--repl-diskless-sync-delay", "0"] + extra
        self.srv = ServerProcess(kind, fn).start()
        self.c = redis.Redis(host="127.0.0.1", port=self.srv.port, socket_timeout=30)

    def stop(self):
        self.c.close()
        problem = self.srv.stop()
        self.srv.cleanup()
        assert problem is None, problem


def link_up(n):
    return n.c.info("replication").get("master_link_status") == "up"


def fill(c):
    c.execute_command("DEBUG", "POPULATE", 2000)
    c.rpush("list", *range(200))
    c.hset("hash", mapping={str(i): i for i in range(50)})
    c.sadd("set", *range(30))
    c.zadd("zset", {"m%d" % i: i / 3 for i in range(40)})
    c.xadd("stream", {"f": "v"})
    c.set("big", "x" * 300000)


def sync_and_check(primary, replicas):
    for r in replicas:
        wait_for(lambda: link_up(r), 30, r.kind + " link up")
    primary.c.set("after", "sync")
    primary.c.incrby("counter", 7)
    want = primary.c.execute_command("DEBUG", "DIGEST")
    for r in replicas:
        wait_for(lambda: r.c.execute_command("DEBUG", "DIGEST") == want, 30,
                 r.kind + " to match the primary")
        assert r.c.get("after") == b"sync"


@pytest.mark.parametrize("pkind,rkind", [("redis", "keel"), ("keel", "redis"),
                                         ("keel", "keel")])
def test_pairing_over_tls(certs, pkind, rkind):
    p = Node(pkind, certs)
    r = None
    try:
        fill(p.c)
        r = Node(rkind, certs)
        r.c.replicaof("127.0.0.1", p.tls_port)
        sync_and_check(p, [r])
        # the replica the primary lists is the TLS connection
        info = p.c.info("replication")
        assert info["connected_slaves"] == 1
        # a partial resync over TLS after the link drops
        r.c.execute_command("CLIENT", "KILL", "TYPE", "master")
        wait_for(lambda: link_up(r), 30, "the link again")
        p.c.set("after2", "drop")
        wait_for(lambda: r.c.get("after2") == b"drop", 30, "the stream after the drop")
        assert p.c.info("stats")["sync_partial_ok"] >= 1
    finally:
        if r:
            r.stop()
        p.stop()


def test_chained_redis_keel_redis_over_tls(certs):
    top = Node("redis", certs)
    mid = bottom = None
    try:
        fill(top.c)
        mid = Node("keel", certs)
        bottom = Node("redis", certs)
        mid.c.replicaof("127.0.0.1", top.tls_port)
        bottom.c.replicaof("127.0.0.1", mid.tls_port)
        sync_and_check(top, [mid, bottom])
    finally:
        for n in (bottom, mid):
            if n:
                n.stop()
        top.stop()


@pytest.mark.parametrize("rkind", ["keel", "redis"])
def test_client_certificate_used(certs, rkind):
    """The primary requires client certificates (tls-auth-clients yes, the
    default); the replica presents tls-client-cert-file's."""
    p = Node("keel", certs)
    r = None
    try:
        p.c.set("k", "v")
        r = Node(rkind, certs, client="client")
        assert r.c.config_get("tls-client-cert-file")["tls-client-cert-file"].endswith(
            "client.crt")
        r.c.replicaof("127.0.0.1", p.tls_port)
        sync_and_check(p, [r])
    finally:
        if r:
            r.stop()
        p.stop()


@pytest.mark.parametrize("rkind", ["keel", "redis"])
def test_untrusted_primary_certificate(certs, rkind):
    p = Node("keel", certs)
    r = None
    try:
        p.c.set("k", "v")
        r = Node(rkind, certs, ca="other_ca.crt")
        r.c.replicaof("127.0.0.1", p.tls_port)
        time.sleep(3)
        assert not link_up(r)
        assert r.c.get("k") is None
        assert p.c.info("replication")["connected_slaves"] == 0
    finally:
        if r:
            r.stop()
        p.stop()


@pytest.mark.parametrize("rkind", ["keel", "redis"])
def test_plain_replica_of_tls_port_fails(certs, rkind):
    """tls-replication no towards a TLS port: no link (both alike)."""
    p = Node("keel", certs)
    r = None
    try:
        r = Node(rkind, certs)
        r.c.config_set("tls-replication", "no")
        r.c.replicaof("127.0.0.1", p.tls_port)
        time.sleep(2)
        assert not link_up(r)
        # turned on: the next attempt goes through TLS
        r.c.config_set("tls-replication", "yes")
        wait_for(lambda: link_up(r), 30, "the link once tls-replication is on")
    finally:
        if r:
            r.stop()
        p.stop()
