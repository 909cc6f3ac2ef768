"""A real Redis Cluster on loopback for upstream-mode tests.

Cluster(masters=3, replicas=1).start() runs Debian's redis-server on free
ports with --cluster-enabled yes (each in its own folder, so nodes.conf
survives a restart), joins them with `redis-cli --cluster create
--cluster-yes` and waits for cluster_state:ok on every node. Nodes are
stopped by PID. Keel is then started with `--upstream 127.0.0.1:<port>`.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import harness


def _call(port, *cmd, timeout=5.0):
    with harness.RawConn(port, timeout=timeout) as c:
        return harness.parse_one(c.call(*cmd))[0]


class Node:
    def __init__(self, root, port, node_timeout):
        self.port = port
        self.dir = os.path.join(root, str(port))
        os.makedirs(self.dir, exist_ok=True)
        self.node_timeout = node_timeout
        self.proc = None

    def start(self):
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", str(self.node_timeout), "--save", "",
                "--appendonly", "no", "--dir", self.dir, "--protected-mode", "no"]
        self.proc = subprocess.Popen(argv, cwd=self.dir, stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.dir, "log"), "ab"),
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if harness.ping_ok(self.port, 0.3):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server on %d did not start" % self.port)

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class Cluster:
    def __init__(self, masters=3, replicas=0, node_timeout=1000):
        self.root = tempfile.mkdtemp(prefix="keel-upstream-cluster-")
        self.nodes = []
        ports = set()
        while len(ports) < masters * (1 + replicas):
            p = _cluster_port()
            if p not in ports and p + 10000 not in ports:
                ports.add(p)
        for p in sorted(ports):
            self.nodes.append(Node(self.root, p, node_timeout))
        self.replicas = replicas

    @property
    def ports(self):
        return [n.port for n in self.nodes]

    def start(self):
        for n in self.nodes:
            n.start()
        addrs = ["127.0.0.1:%d" % p for p in self.ports]
        subprocess.run(["redis-cli", "--cluster", "create"] + addrs +
                       ["--cluster-replicas", str(self.replicas), "--cluster-yes"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60)
        self.wait_ok()
        self.wait_replicas()
        return self

    def wait_replicas(self, timeout=30):
        """Every replica's link to its master is up (first sync done)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ok = True
            for n in self.nodes:
                if not n.alive():
                    continue
                info = _call(n.port, "INFO", "replication")
                if b"role:slave" in info and b"master_link_status:up" not in info:
                    ok = False
            if ok:
                return
            time.sleep(0.1)
        raise RuntimeError("replicas not in sync within %ss" % timeout)

    def wait_ok(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if all(b"cluster_state:ok" in _call(n.port, "CLUSTER", "INFO")
                       for n in self.nodes if n.alive()):
                    # every node agrees on the slots (no node still thinking
                    # a slot is unassigned)
                    return
            except (OSError, harness.ReplyTimeout):
                pass
            time.sleep(0.1)
        raise RuntimeError("cluster not ok within %ss" % timeout)

    def slot_owner(self, slot):
        """The port of the master serving slot (per a live node's CLUSTER SLOTS)."""
        for n in self.nodes:
            if not n.alive():
                continue
            for start, end, master, *_ in self.slots(n.port):
                if start <= slot <= end:
                    return int(master[1])
        return None

    def slots(self, port):
        return _call(port, "CLUSTER", "SLOTS")

    def masters(self):
        out = []
        for n in self.nodes:
            if not n.alive():
                continue
            role = _call(n.port, "ROLE")
            if role[0] == b"master":
                out.append(n)
        return out

    def node(self, port):
        return next(n for n in self.nodes if n.port == port)

    def node_id(self, port):
        return _call(port, "CLUSTER", "MYID").decode()

    def stop(self):
        for n in self.nodes:
            n.kill(signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def restart(self, down_for=0.5):
        """Every node stopped, then started again on the same ports and
        folders (nodes.conf keeps the cluster)."""
        for n in self.nodes:
            n.kill(signal.SIGTERM)
        time.sleep(down_for)
        for n in self.nodes:
            n.start()
        self.wait_ok()


def keyslot(key):
    """Redis Cluster's slot of key (CRC16 XMODEM, hash tags)."""
    if isinstance(key, str):
        key = key.encode()
    s = key.find(b"{")
    if s >= 0:
        e = key.find(b"}", s + 1)
        if e > s + 1:
            key = key[s + 1:e]
    crc = 0
    for b in key:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc % 16384


def _free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _cluster_port():
    """A free port below 55536 whose cluster bus port (+10000) is free too."""
    import random
    while True:
        p = random.randint(20000, 45000)
        if _free(p) and _free(p + 10000):
            return p
