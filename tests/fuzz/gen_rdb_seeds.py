#!/usr/bin/python3
"""gen_rdb_seeds.py — (re)make the seeds of fuzz_rdb_payload and
fuzz_rdb_image from a redis-server 7.0 started on a free port: DUMP of a
value of every type and encoding (footer stripped: the target adds it),
and small whole RDB images (SAVE), also from Keel when KEEL_BIN names its
binary. Run from the repository root:
    KEEL_BIN=build/keel /usr/bin/python3 tests/fuzz/gen_rdb_seeds.py"""
import os, shutil, socket, subprocess, tempfile, time
import redis

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

ROOT = os.path.dirname(os.path.abspath(__file__))
PAY = os.path.join(ROOT, "seeds", "fuzz_rdb_payload")
IMG = os.path.join(ROOT, "seeds", "fuzz_rdb_image")

def build(r):
    r.set("str", "hello"); r.set("int", 12345); r.set("big", "x" * 100)
    r.set("lzf", "abcabcabc" * 40)
    r.rpush("list", "a", "b", 1, 2, "c" * 70)
    r.config_set("list-max-listpack-size", 2)
    r.rpush("qlist", *[str(i) for i in range(9)])
    r.config_set("list-max-listpack-size", -2)
    r.rpush("plainlist", "y" * 300)
    r.sadd("intset", 1, 2, 3, -70000, 5000000000)
    r.sadd("set", "a", "b", "c", 1)
    r.zadd("zsetlp", {"a": 1, "b": 2.5, "c": -3, "d": 1e10})
    r.config_set("zset-max-listpack-entries", 2)
    r.zadd("zsetsl", {"a": 1, "b": 2.5, "c": -3, "inf": float("inf")})
    r.hset("hashlp", mapping={"f1": "v1", "f2": 2, "f3": "v3"})
    r.config_set("hash-max-listpack-entries", 2)
    r.hset("hashht", mapping={"f1": "v1", "f2": 2, "f3": "v3"})
    r.xadd("stream", {"f": "v", "g": "w"}, id="1-1")
    r.xadd("stream", {"f": "v2", "g": "w2"}, id="1-2")
    r.xadd("stream", {"other": "x"}, id="2-0")
    r.xadd("stream", {"f": "v3", "g": "w3"}, id="5-0")
    r.xdel("stream", "1-2")
    r.xgroup_create("stream", "g1", id="0")
    r.xgroup_create("stream", "g2", id="$")
    r.xreadgroup("g1", "alice", {"stream": ">"}, count=2)
    r.xreadgroup("g1", "bob", {"stream": ">"}, count=1)
    r.xack("stream", "g1", "1-1")
    r.xadd("stream2", {"a": "1"}, id="3-3"); r.xdel("stream2", "3-3")
    r.config_set("stream-node-max-entries", 2)
    for i in range(1, 7):
        r.xadd("streamnodes", {"k": i}, id="%d-0" % i)
    r.xgroup_create("streamnodes", "g", id="0")
    r.xreadgroup("g", "c", {"streamnodes": ">"}, count=3)

def start(binary, d):
    port = free_port()
    p = subprocess.Popen([binary, "--port", str(port), "--dir", d, "--save", "",
                          "--appendonly", "no"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    r = redis.Redis(port=port)
    for _ in range(200):
        try: r.ping(); break
        except Exception: time.sleep(0.05)
    return p, r

def keel_image(binary):
    d = tempfile.mkdtemp()
    p, r = start(binary, d)
    try:
        build(r)
        r.set("expiring", "v", px=10**9)
        r.select(5); r.hset("h5", "a", "b"); r.select(0)
        r.function_load("#!lua name=klib\nredis.register_function('k', function() return 2 end)")
        r.save()
        shutil.copy(os.path.join(d, "dump.rdb"), os.path.join(IMG, "keel-all.rdb"))
    finally:
        p.terminate(); p.wait(); shutil.rmtree(d)

def main():
    d = tempfile.mkdtemp()
    p, r = start("redis-server", d)
    try:
        build(r)
        os.makedirs(PAY, exist_ok=True); os.makedirs(IMG, exist_ok=True)
        for k in r.keys():
            v = r.dump(k)
            with open(os.path.join(PAY, "redis7-" + k.decode()), "wb") as f:
                f.write(v[:-10])
        r.set("expiring", "v", px=10**9)
        r.select(3); r.set("db3", "v"); r.select(0)
        r.function_load("#!lua name=lib\nredis.register_function('f', function() return 1 end)")
        r.save()
        shutil.copy(os.path.join(d, "dump.rdb"), os.path.join(IMG, "redis7-all.rdb"))
        r.flushall(); r.function_flush()
        r.set("a", "b"); r.save()
        shutil.copy(os.path.join(d, "dump.rdb"), os.path.join(IMG, "redis7-small.rdb"))
        r.flushall(); r.save()
        shutil.copy(os.path.join(d, "dump.rdb"), os.path.join(IMG, "redis7-empty.rdb"))
    finally:
        p.terminate(); p.wait(); shutil.rmtree(d)
    if os.environ.get("KEEL_BIN"):
        keel_image(os.environ["KEEL_BIN"])

main()
