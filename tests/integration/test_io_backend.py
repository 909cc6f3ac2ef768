"""The connection I/O path (io-backend: auto, uring, libevent; adapters/uring.c).

Which backend runs is INFO's multiplexing_api (io_uring, or libevent's epoll). An `io-backend uring` server whose
ring cannot be set up (io-uring-test-fail, as on a kernel without io_uring)
falls back to libevent and serves as usual. The rest drives both paths
through the cases the ring changes: input arriving in many receive buffers,
a peer that does not read its replies (reading pauses, output limits),
pipelines split at every byte, close after reply, pushes, HTTP and a client
closing while its command runs. The whole suite also runs once per path
(scripts/test sets KEEL_IO_BACKEND)."""

import os
import socket
import threading
import time

import pytest
import redis

import harness
from harness import ServerProcess


def uring_possible():
    try:
        with open("/proc/sys/kernel/io_uring_disabled") as f:
            return f.read().strip() == "0"
    except OSError:
        return True


def start(*extra):
    srv = ServerProcess("keel-io", lambda p: harness.keel_argv(p) + list(extra))
    srv.start()
    return srv


def info_backend(port):
    """INFO's multiplexing_api: io_uring on the ring, libevent's epoll else."""
    api = redis.Redis(port=port).info("server")["multiplexing_api"]
    return "uring" if api == "io_uring" else "libevent"


@pytest.fixture(params=["uring", "libevent"])
def server(request):
    if request.param == "uring" and not uring_possible():
        pytest.skip("io_uring is disabled on this machine")
    srv = start("--io-backend", request.param)
    yield srv
    problem = srv.stop()
    srv.cleanup()
    assert not problem, problem


def stderr_of(srv):
    with open(srv.stderr_path, "rb") as f:
        err = f.read()
    with open(srv.stdout_path, "rb") as f:
        return err + f.read()


def test_fallback_when_uring_setup_fails():
    srv = start("--io-backend", "uring", "--io-uring-test-fail", "yes")
    try:
        r = redis.Redis(port=srv.port)
        assert info_backend(srv.port) == "libevent"
        assert r.set("k", "v") and r.get("k") == b"v"
        assert b"io-backend uring: io_uring is unavailable" in stderr_of(srv)
        assert r.config_get("io-backend") == {"io-backend": "uring"}
    finally:
        assert not srv.stop()
        srv.cleanup()


def test_auto_falls_back_quietly():
    srv = start("--io-backend", "auto", "--io-uring-test-fail", "yes")
    try:
        assert info_backend(srv.port) == "libevent"
        assert redis.Redis(port=srv.port).ping()
    finally:
        assert not srv.stop()
        srv.cleanup()


def test_info_names_the_backend(server):
    argv = server.argv_fn(0)
    # the last --io-backend wins (KEEL_IO_BACKEND may add one before)
    want = argv[len(argv) - 1 - argv[::-1].index("--io-backend") + 1]
    assert info_backend(server.port) == want


def test_backend_is_fixed_at_start(server):
    r = redis.Redis(port=server.port)
    with pytest.raises(redis.ResponseError):
        r.config_set("io-backend", "libevent")
    assert r.config_get("io-backend")["io-backend"] in ("uring", "libevent")


def test_large_values_span_receive_buffers(server):
    r = redis.Redis(port=server.port)
    big = os.urandom(1 << 20)
    for i in range(5):
        assert r.set("big%d" % i, big)
    for i in range(5):
        assert r.get("big%d" % i) == big
    p = r.pipeline(transaction=False)
    for i in range(200):
        p.set("p%d" % i, big[: 10000 + i])
    assert all(p.execute())
    assert r.strlen("p199") == 10199


def test_pipeline_split_at_every_byte(server):
    req = b"".join(harness.encode(["SET", "k%d" % i, "v" * i]) for i in range(20))
    req += harness.encode(["GET", "k19"])
    with harness.RawConn(server.port) as c:
        for b in req:
            c.send(bytes([b]))
        out = b"".join(c.read_replies(21, 10))
    assert out == b"+OK\r\n" * 20 + b"$19\r\n" + b"v" * 19 + b"\r\n"


def test_peer_not_reading_then_reading(server):
    """Replies back up (reading pauses, TCP pushes back), then all arrive
    in order once the peer reads."""
    n = 3000
    val = b"x" * 10000
    r = redis.Redis(port=server.port)
    r.set("v", val)
    s = socket.create_connection(("127.0.0.1", server.port))
    one = harness.encode(["GET", "v"])
    # The server stops reading while its replies back up: send from a thread.
    t = threading.Thread(target=s.sendall, args=(one * n,))
    t.start()
    time.sleep(0.3)
    assert r.ping()  # others are served meanwhile
    want = (b"$10000\r\n" + val + b"\r\n") * n
    got = bytearray()
    while len(got) < len(want):
        chunk = s.recv(1 << 16)
        assert chunk, "closed after %d bytes" % len(got)
        got += chunk
    assert bytes(got) == want
    t.join()
    s.close()


def test_output_limit_closes_a_slow_reader(server):
    """A peer that sends many GETs and reads nothing passes the normal
    class's hard limit and is closed; the other client stays. Polled, not
    timed: the slow connection counts as accepted (total_connections_received)
    before its absence from CLIENT LIST means it was closed."""
    r = redis.Redis(port=server.port)
    r.config_set("client-output-buffer-limit", "normal 100000 0 0")
    r.set("v", b"x" * 10000)
    accepted = r.info("stats")["total_connections_received"]
    s = socket.create_connection(("127.0.0.1", server.port))
    addr = "%s:%d" % s.getsockname()[:2]
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        s.sendall(harness.encode(["GET", "v"]) * 5000)
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed by the server while the GETs were still going out

    def slow_one_closed():
        if r.info("stats")["total_connections_received"] < accepted + 1:
            return False  # not accepted yet: absent from CLIENT LIST proves nothing
        return all(c["addr"] != addr for c in r.client_list())
    deadline = time.monotonic() + 60
    while not slow_one_closed():
        assert time.monotonic() < deadline, r.client_list()
        time.sleep(0.05)
    assert len(r.client_list()) == 1  # the other client stays
    s.close()
    r.config_set("client-output-buffer-limit", "normal 0 0 0")


def test_quit_closes_after_reply(server):
    with harness.RawConn(server.port) as c:
        c.send(harness.encode(["PING"]) + harness.encode(["QUIT"]) + harness.encode(["PING"]))
        data, closed = c.read_until_close(5)
    assert data == b"+PONG\r\n+OK\r\n" and closed


def test_pubsub_pushes_reach_many(server):
    subs = []
    for i in range(20):
        c = harness.RawConn(server.port)
        c.send(harness.encode(["SUBSCRIBE", "ch"]))
        c.read_replies(1, 5)
        subs.append(c)
    r = redis.Redis(port=server.port)
    for i in range(50):
        assert r.publish("ch", "m%d" % i) == 20
    for c in subs:
        out = b"".join(c.read_replies(50, 10))
        assert out.count(b"message") == 50
        assert out.endswith(b"$3\r\nm49\r\n")
        c.close()


def test_blocked_client_woken(server):
    r = redis.Redis(port=server.port)
    with harness.RawConn(server.port) as c:
        c.send(harness.encode(["BLPOP", "q", "5"]))
        time.sleep(0.1)
        r.lpush("q", "x")
        assert b"".join(c.read_replies(1, 5)) == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"


def test_client_gone_mid_pipeline(server):
    """Peers that send and close at once, in many ways: the server stays up."""
    for i in range(50):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(harness.encode(["SET", "g%d" % i, "v"]) * (i + 1) + b"*3\r\n$3\r\nSET")
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    r = redis.Redis(port=server.port)
    deadline = time.monotonic() + 5
    while len(r.client_list()) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(r.client_list()) == 1
    assert r.exists("g49")


def test_many_clients_interleaved(server):
    conns = [harness.RawConn(server.port) for _ in range(60)]
    for rnd in range(20):
        for i, c in enumerate(conns):
            c.send(harness.encode(["INCR", "c%d" % i]) * 3)
        for i, c in enumerate(conns):
            out = b"".join(c.read_replies(3, 5))
            assert out == b"".join(b":%d\r\n" % (rnd * 3 + k) for k in (1, 2, 3))
    for c in conns:
        c.close()


def test_http_on_both_paths():
    port_http = harness.free_port()
    for backend in ("uring", "libevent"):
        if backend == "uring" and not uring_possible():
            continue
        srv = ServerProcess("keel-io-http", lambda p: harness.keel_argv(p) + [
            "--io-backend", backend, "--http-port", str(port_http), "--http-bind", "127.0.0.1"])
        srv.start()
        try:
            s = socket.create_connection(("127.0.0.1", port_http))
            s.sendall(b"GET /SET/hk/hv HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /GET/hk HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            s.settimeout(5)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            assert data.count(b"HTTP/1.1 200") == 2, data
            assert b'{"GET":"hv"}' in data
        finally:
            assert not srv.stop()
            srv.cleanup()


def test_flood_of_requests_in_order(server):
    """A peer sends 60,000 commands (a few MB) at once while reading: on the
    ring, one receive's bytes run per iteration and past 256 KB held the
    receive stops (TCP pushes back); every reply arrives, in order."""
    n = 60000
    s = socket.create_connection(("127.0.0.1", server.port))
    req = b"".join(harness.encode(["INCRBY", "flood", 1]) for _ in range(n))
    t = threading.Thread(target=s.sendall, args=(req,))
    t.start()
    want = b"".join(b":%d\r\n" % i for i in range(1, n + 1))
    got = bytearray()
    while len(got) < len(want):
        chunk = s.recv(1 << 16)
        assert chunk, "closed after %d bytes" % len(got)
        got += chunk
    t.join()
    assert bytes(got) == want
    clients = redis.Redis(port=server.port).client_list()
    assert all(int(c["qbuf"]) < 1 << 20 for c in clients)
    s.close()
