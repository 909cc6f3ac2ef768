"""Slow consumers: `client-output-buffer-limit`.

CONFIG GET/SET of the option is compared with redis-server byte for byte.
The behaviour tests run on Keel and on redis-server alike (the `server`
fixture is parametrized over both): a subscriber that never reads is cut off
once its pending output passes the hard limit, or stays above the soft limit
for longer than its seconds, while the publisher, a subscriber that reads and
an ordinary client are served throughout. Sockets of non-reading clients get
a small receive buffer so the kernel absorbs little of the output.
"""

import socket
import time

import pytest

from harness import RawConn, encode, parse_one

DEFAULT = b"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"


def _cfg_get(port):
    with RawConn(port) as c:
        v = parse_one(c.call("CONFIG", "GET", "client-output-buffer-limit"))[0]
    return v[1]


def _cfg_set(port, value):
    with RawConn(port) as c:
        return c.call("CONFIG", "SET", "client-output-buffer-limit", value)


# ------------------------------------------------------------ CONFIG GET/SET

SET_VALUES = [
    "", "normal 0 0 0", "normal  0 0 0", "normal 1k 2mb 3 pubsub 1 1 1", "master 0 0 0",
    "NORMAL 1 1 1", "normal 0 0 -1", "normal 0 0 1x", "normal -1 0 0", "replica 1 1 1",
    "slave 5 5 5 replica 6 6 6", "normal 0 0 +5", "normal 0 0 99999999999",
    "normal 0 0 4294967295", "normal 1GB 0 0", "normal 18446744073709551615 0 0",
    "normal 18446744073709551616 0 0", "normal 1x 0 0", "normal 0 0  ", " normal 0 0 0",
    "normal 0 0 0 ", "normal 0 0 0x", "pubsub 1kb 1KB 0", "normal 1b 1B 1",
    "pubsub 32mb 8mb 60 normal 0 0 0", "normal 0 0", "normal", "pubsub 1 2 3 4",
    "normal 1 1 1 master 2 2 2", "normal 1 1 1 foo 2 2 2", "normal 5 5 5 normal 6 6 6",
    "pubsub 99999999999999999999999gb 0 0", "pubsub 0 0 ''", "pubsub 1k 1 0",
    "slave 256mb 64mb 60 pubsub 32mb 8mb 60 normal 0 0 0",
]


def test_config_get_set(diff):
    cmds = [["CONFIG", "GET", "client-output-buffer-limit"]]
    for v in SET_VALUES:
        cmds.append(["CONFIG", "SET", "client-output-buffer-limit", v])
        cmds.append(["CONFIG", "GET", "client-output-buffer-limit"])
    cmds.append(["CONFIG", "SET", "client-output-buffer-limit", DEFAULT])
    cmds.append(["CONFIG", "GET", "client-output-buffer-limit"])
    cmds.append(["CONFIG", "GET", "client-output-*"])
    diff(cmds)


def test_config_set_with_other_options(diff):
    diff([["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0", "timeout", "0"],
          ["CONFIG", "GET", "client-output-buffer-limit"],
          ["CONFIG", "SET", "client-output-buffer-limit", "pubsub x 0 0", "timeout", "5"],
          ["CONFIG", "GET", "timeout"],
          ["CONFIG", "SET", "client-output-buffer-limit", DEFAULT]])


# ------------------------------------------------------------- behaviour


@pytest.fixture(params=["keel", "oracle"])
def server(request):
    srv = request.getfixturevalue(request.param)
    yield srv
    _cfg_set(srv.port, DEFAULT)


def _slow_socket(port):
    """A connection with a tiny receive buffer that will not be read."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def _send_cmd(s, *cmd):
    s.sendall(encode(cmd))


def _numsub(c, ch):
    c.send(encode(["PUBSUB", "NUMSUB", ch]))
    return parse_one(c.read_reply())[0][1]


def _wait_closed(s, timeout=10.0):
    """Read and discard until the peer closes; True if it did."""
    s.settimeout(0.5)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True
        if not d:
            return True
    return False


def test_subscriber_that_never_reads_is_cut_off(server):
    assert _cfg_set(server.port, "pubsub 1mb 0 0") == b"+OK\r\n"
    slow = _slow_socket(server.port)
    fast = RawConn(server.port, timeout=10)
    other = RawConn(server.port, timeout=10)
    pub = RawConn(server.port, timeout=10)
    try:
        _send_cmd(slow, "SUBSCRIBE", "feed")
        fast.send(encode(["SUBSCRIBE", "feed"]))
        fast.read_reply()
        deadline = time.monotonic() + 5
        while _numsub(pub, "feed") != 2:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        payload = b"m" * 10000
        sent = 0
        received = 0
        # Publish until the slow subscriber is gone; the reading one keeps up,
        # and an ordinary client is answered in between.
        for i in range(2000):
            pub.send(encode(["PUBLISH", "feed", payload]))
            n = parse_one(pub.read_reply())[0]
            sent += 1
            received += len(fast.read_replies(1))
            if i % 50 == 0:
                assert other.call("SET", "k%d" % i, "v") == b"+OK\r\n"
                assert other.call("PING") == b"+PONG\r\n"
            if n == 1:
                break
        assert n == 1, "the slow subscriber was never disconnected"
        # It was cut off well before 2000 * 10 KB went out, but not before 1 MB.
        assert 100 < sent < 1500, sent
        assert received == sent
        assert _numsub(pub, "feed") == 1
        assert _wait_closed(slow)
        # Everyone else is still served.
        pub.send(encode(["PUBLISH", "feed", "after"]))
        assert pub.read_reply() == b":1\r\n"
        assert parse_one(fast.read_reply())[0] == [b"message", b"feed", b"after"]
        assert other.call("GET", "k0") == b"$1\r\nv\r\n"
    finally:
        for c in (fast, other, pub):
            c.close()
        slow.close()


def test_soft_limit_needs_its_seconds(server):
    """Above the soft limit only briefly: kept. Still above after the
    seconds passed, at the next output: cut off."""
    assert _cfg_set(server.port, "pubsub 0 200kb 1") == b"+OK\r\n"
    slow = _slow_socket(server.port)
    pub = RawConn(server.port, timeout=10)
    try:
        _send_cmd(slow, "SUBSCRIBE", "soft")
        deadline = time.monotonic() + 5
        while _numsub(pub, "soft") != 1:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        payload = b"s" * 20000
        # Well past 200 KB pending (socket buffers absorb some), quickly.
        for _ in range(200):
            pub.send(encode(["PUBLISH", "soft", payload]))
            assert pub.read_reply() == b":1\r\n"
        # Over the soft limit for less than its second: still subscribed.
        assert _numsub(pub, "soft") == 1
        time.sleep(2.5)
        # Nothing checks in between; the next message finds it over for too long.
        pub.send(encode(["PUBLISH", "soft", payload]))
        pub.read_reply()
        deadline = time.monotonic() + 5
        while _numsub(pub, "soft") != 0:
            assert time.monotonic() < deadline, "soft limit never enforced"
            pub.send(encode(["PUBLISH", "soft", "x"]))
            pub.read_reply()
            time.sleep(0.05)
        assert _wait_closed(slow)
    finally:
        pub.close()
        slow.close()


def test_soft_limit_reset_when_drained(server):
    """A subscriber that catches up (drops below the soft limit) starts over."""
    assert _cfg_set(server.port, "pubsub 0 100kb 1") == b"+OK\r\n"
    sub = RawConn(server.port, timeout=10)
    pub = RawConn(server.port, timeout=10)
    try:
        sub.send(encode(["SUBSCRIBE", "drain"]))
        sub.read_reply()
        payload = b"d" * 5000
        for _ in range(6):
            for _ in range(20):
                pub.send(encode(["PUBLISH", "drain", payload]))
                assert pub.read_reply() == b":1\r\n"
            sub.read_replies(20)
            time.sleep(0.4)
        assert _numsub(pub, "drain") == 1
        assert sub.call("PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    finally:
        pub.close()
        sub.close()


def test_normal_class_limit(server):
    """An ordinary client piling up replies it does not read is cut off at
    the normal class's hard limit; with the default (0) it never is."""
    big = b"v" * 100000
    with RawConn(server.port) as c:
        assert c.call("SET", "big", big) == b"+OK\r\n"
    # Default: no limit for normal clients.
    s = _slow_socket(server.port)
    try:
        s.sendall(encode(["GET", "big"]) * 60)   # ~6 MB of replies
        time.sleep(0.5)
        with RawConn(server.port) as c:
            c.send(encode(["CLIENT", "LIST"]))
            assert c.read_reply().count(b"cmd=get") >= 1   # still connected
        s.settimeout(5)
        got = b""
        want = 60 * (len(big) + len(b"$100000\r\n\r\n"))
        while len(got) < want:
            d = s.recv(1 << 20)
            assert d, "closed although the normal class has no limit"
            got += d
    finally:
        s.close()
    assert _cfg_set(server.port, "normal 1mb 0 0") == b"+OK\r\n"
    s = _slow_socket(server.port)
    try:
        s.sendall(encode(["GET", "big"]) * 100)  # ~10 MB of replies
        assert _wait_closed(s)
        with RawConn(server.port) as c:
            assert c.call("PING") == b"+PONG\r\n"
    finally:
        s.close()
        _cfg_set(server.port, DEFAULT)


def test_default_pubsub_hard_limit(server):
    """With the defaults (pubsub 32mb 8mb 60) a stalled subscriber is cut
    off somewhere past 32 MB, not before."""
    slow = _slow_socket(server.port)
    pub = RawConn(server.port, timeout=20)
    try:
        _send_cmd(slow, "SUBSCRIBE", "deflt")
        deadline = time.monotonic() + 5
        while _numsub(pub, "deflt") != 1:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        payload = b"z" * 100000
        total = 0
        for _ in range(800):
            pub.send(encode(["PUBLISH", "deflt", payload]))
            n = parse_one(pub.read_reply())[0]
            if n == 0:
                break
            total += len(payload)
        assert n == 0, "never cut off"
        assert 32 * 1024 * 1024 <= total < 60 * 1024 * 1024, total
        assert _wait_closed(slow)
    finally:
        pub.close()
        slow.close()


def test_keel_logs_the_disconnection(keel):
    assert _cfg_set(keel.port, "pubsub 100kb 0 0") == b"+OK\r\n"
    slow = _slow_socket(keel.port)
    pub = RawConn(keel.port)
    try:
        _send_cmd(slow, "SUBSCRIBE", "logged")
        deadline = time.monotonic() + 5
        while _numsub(pub, "logged") != 1:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        for _ in range(500):
            pub.send(encode(["PUBLISH", "logged", b"l" * 10000]))
            if pub.read_reply() == b":0\r\n":
                break
        assert _wait_closed(slow)
        time.sleep(0.1)
        log = keel.log_text()
        assert b"scheduled to be closed ASAP for overcoming of output buffer limits" in log
    finally:
        pub.close()
        slow.close()
        _cfg_set(keel.port, DEFAULT)
