"""Batched writes (adapters/conn.c: conn_flush_later / conn_flush_pending):
the replies of one loop iteration go out together before the loop sleeps,
and every guarantee holds under that batching:

- with appendfsync always, a write is in the AOF file before its reply
  leaves: each acknowledged INCR of many concurrent pipelining clients is
  already in the incr file when the client reads the reply, and survives a
  kill -9 right after it;
- per-client order: many clients pipelining at once each get their replies
  in their own order;
- pub/sub pushes of one PUBLISH batch reach every subscriber in order, after
  the publisher's counts.
"""

import socket
import time

import pytest

from test_aof import Server, incr_commands, servers  # noqa: F401 (fixture)


def _conn(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def _read_lines(s, n, buf=b""):
    """n single-line replies (no bulk replies), and what is left over."""
    lines = []
    while len(lines) < n:
        while b"\r\n" not in buf:
            chunk = s.recv(65536)
            assert chunk, "connection closed after %d replies" % len(lines)
            buf += chunk
        line, buf = buf.split(b"\r\n", 1)
        lines.append(line)
    return lines, buf


def test_acknowledged_writes_in_aof_before_reply_and_after_kill9(servers):
    k = servers("keel", "--appendonly", "yes", "--appendfsync", "always").start()
    socks = [_conn(k.port) for _ in range(12)]
    acked = {}
    for rnd in range(5):
        # every client sends a pipeline at once: one loop iteration serves
        # several of them and writes their replies together
        for i, s in enumerate(socks):
            s.sendall(b"".join(_cmd("INCR", "ctr:%d" % i) for _ in range(20)))
        for i, s in enumerate(socks):
            lines, rest = _read_lines(s, 20)
            assert rest == b""
            assert lines == [b":%d" % (rnd * 20 + j + 1) for j in range(20)]
            acked[i] = rnd * 20 + 20
        # what was acknowledged is in the incr file already (written before
        # the replies; the file is read while the server still runs)
        counts = {}
        for c in incr_commands(k):
            if c[0].upper() == b"INCR":
                counts[c[1]] = counts.get(c[1], 0) + 1
        for i, n in acked.items():
            assert counts.get(b"ctr:%d" % i, 0) >= n
    # one more acknowledged write, then kill -9 at once
    socks[0].sendall(_cmd("SET", "last", "acked"))
    assert _read_lines(socks[0], 1)[0] == [b"+OK"]
    k.kill9()
    for s in socks:
        s.close()
    k.start()
    c = k.client()
    assert c.get("last") == b"acked"
    for i, n in acked.items():
        assert int(c.get("ctr:%d" % i)) == n


def test_per_client_order_under_concurrent_pipelines(servers):
    k = servers("keel").start()
    socks = [_conn(k.port) for _ in range(40)]
    for i, s in enumerate(socks):
        s.sendall(b"".join(_cmd("INCR", "o:%d" % i) for _ in range(200)) + _cmd("PING"))
    for i, s in enumerate(socks):
        lines, rest = _read_lines(s, 201)
        assert lines[:200] == [b":%d" % (j + 1) for j in range(200)]
        assert lines[200] == b"+PONG" and rest == b""
    for s in socks:
        s.close()


def test_pubsub_pushes_in_order_after_publisher_reply(servers):
    k = servers("keel").start()
    subs = [_conn(k.port) for _ in range(10)]
    for s in subs:
        s.sendall(_cmd("SUBSCRIBE", "ch"))
    bufs = []
    for s in subs:
        data = b""
        want = b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
        while len(data) < len(want):
            data += s.recv(65536)
        assert data == want
        bufs.append(b"")
    pub = _conn(k.port)
    pub.sendall(b"".join(_cmd("PUBLISH", "ch", "m%03d" % j) for j in range(100)))
    lines, rest = _read_lines(pub, 100)
    assert lines == [b":10"] * 100 and rest == b""
    expect = b"".join(b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\nm%03d\r\n" % j
                      for j in range(100))
    deadline = time.monotonic() + 20
    for i, s in enumerate(subs):
        data = b""
        while len(data) < len(expect) and time.monotonic() < deadline:
            data += s.recv(65536)
        assert data == expect
    for s in subs + [pub]:
        s.close()
