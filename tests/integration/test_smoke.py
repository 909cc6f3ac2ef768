from harness import RawConn, raw, encode

def test_ping(keel):
    assert raw(keel.port, b"*1\r\n$4\r\nPING\r\n") == b"+PONG\r\n"

def test_r_fixture(r):
    assert r.set("a", "1")
    assert r.get("a") == b"1"

def test_diff_basic(diff):
    diff([["SET", "k", "v"], ["GET", "k"], ["GET", "nokey"]])
