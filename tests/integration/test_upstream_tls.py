"""Upstream mode over TLS (issue 19): a three-master Redis Cluster that
speaks only TLS (--port 0 --tls-port P --tls-cluster yes, client
certificates required), Keel with --upstream-tls yes, the test CA and a
client certificate; commands across the masters, a wrong CA refused (the
node's certificate is checked: nothing is forwarded, /_health says down).
"""

import os
import shutil
import subprocess
import tempfile
import time

import pytest

from harness import RawConn, parse_one
from test_http_helpers import KeelHttp, get
from test_upstream import wait_upstream_ok
from tls_certs import make_certs
from upstream_cluster import _cluster_port, keyslot


def _cli(certs, port, *args):
    return subprocess.run(["redis-cli", "--tls", "--cacert", certs["ca.crt"], "--cert",
                           certs["client.crt"], "--key", certs["client.key"], "-p", str(port)] +
                          list(args), capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def tls_cluster():
    root = tempfile.mkdtemp(prefix="keel-upstream-tls-")
    certs = make_certs(os.path.join(root, "certs"))
    ports, procs = [], []
    while len(ports) < 3:
        p = _cluster_port()
        if p not in ports and p + 10000 not in ports:
            ports.append(p)
    try:
        for p in ports:
            d = os.path.join(root, str(p))
            os.makedirs(d)
            procs.append(subprocess.Popen(
                ["redis-server", "--port", "0", "--tls-port", str(p), "--bind", "127.0.0.1",
                 "--tls-cluster", "yes", "--tls-cert-file", certs["server.crt"],
                 "--tls-key-file", certs["server.key"], "--tls-ca-cert-file", certs["ca.crt"],
                 "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                 "--save", "", "--appendonly", "no", "--dir", d],
                cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for p in ports:
            deadline = time.monotonic() + 10
            while _cli(certs, p, "PING").stdout.strip() != "PONG":
                assert time.monotonic() < deadline, "TLS node %d did not start" % p
                time.sleep(0.1)
        r = subprocess.run(["redis-cli", "--tls", "--cacert", certs["ca.crt"], "--cert",
                            certs["client.crt"], "--key", certs["client.key"], "--cluster",
                            "create"] + ["127.0.0.1:%d" % p for p in ports] + ["--cluster-yes"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        deadline = time.monotonic() + 30
        while not all("cluster_state:ok" in _cli(certs, p, "CLUSTER", "INFO").stdout
                      for p in ports):
            assert time.monotonic() < deadline, "TLS cluster not ok"
            time.sleep(0.1)
        yield ports, certs
    finally:
        for pr in procs:
            pr.kill()
            pr.wait()
        shutil.rmtree(root, ignore_errors=True)


def test_cluster_over_tls(tls_cluster):
    ports, certs = tls_cluster
    srv = KeelHttp(["--upstream", "127.0.0.1:%d" % ports[0], "--upstream-tls", "yes",
                    "--upstream-tls-ca-cert-file", certs["ca.crt"],
                    "--upstream-tls-cert-file", certs["client.crt"],
                    "--upstream-tls-key-file", certs["client.key"]], name="keel-upstream-tls")
    srv.start()
    try:
        wait_upstream_ok(srv.port)
        keys = ["t:%d" % i for i in range(12)]
        with RawConn(srv.port) as c:
            for k in keys:
                assert c.call("SET", k, k) == b"+OK\r\n"
            for k in keys:
                assert parse_one(c.call("GET", k))[0] == k.encode()
            assert parse_one(c.call("DBSIZE"))[0] == len(keys)
        owners = set()
        for k in keys:
            slot = keyslot(k)
            for p in ports:
                out = _cli(certs, p, "CLUSTER", "COUNTKEYSINSLOT", str(slot)).stdout.strip()
                if out != "0":
                    owners.add(p)
        assert len(owners) > 1
        assert get(srv.http, "/GET/t:1").json() == {"GET": "t:1"}
    finally:
        problem = srv.stop()
    assert not problem, problem


def test_wrong_ca_is_refused(tls_cluster):
    ports, certs = tls_cluster
    srv = KeelHttp(["--upstream", "127.0.0.1:%d" % ports[0], "--upstream-tls", "yes",
                    "--upstream-tls-ca-cert-file", certs["other_ca.crt"],
                    "--upstream-tls-cert-file", certs["client.crt"],
                    "--upstream-tls-key-file", certs["client.key"]],
                   name="keel-upstream-tls-wrong")
    srv.start()
    try:
        time.sleep(1.0)
        h = get(srv.http, "/_health").json()
        assert h["upstream"]["state"] == "down" and h["status"] == "down"
        with RawConn(srv.port, timeout=15) as c:
            r = c.call("GET", "x")
        assert r.startswith(b"-CLUSTERDOWN upstream unavailable"), r
        assert b"certificate verify failed" in srv.srv.log_text()
    finally:
        problem = srv.stop()
    assert not problem, problem
