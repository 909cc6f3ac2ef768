#!/usr/bin/python3
"""gen_command_seeds.py — (re)make the seeds of fuzz_commands from command
sequences written as text (SEQS below: one command a line, "client word
word..."), encoded as the target reads its input: [client] [cmd hi]
[cmd lo] [nargs] and each argument a vocabulary index (below 0xfe, or 0xfe [i]
for 254 + i) or 0xff [len] raw bytes. The command table and the vocabulary come from the target itself
(FUZZ_COMMANDS_LIST=1), so build it first (scripts/fuzz 1 fuzz_commands).
Run from the repository root:
    /usr/bin/python3 tests/fuzz/gen_command_seeds.py [build-fuzz]"""
import os, subprocess, sys

ROOT = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(ROOT, "seeds", "fuzz_commands")

SEQS = {
    "strings": """0 SET k 1
0 INCRBY k 5
1 APPEND k x
1 GETRANGE k 0 -1
2 SETRANGE k 100 a
0 GETEX k PX 100
1 SET k a NX GET
2 LCS k k IDX WITHMATCHLEN
0 MSET k a l b
0 INCRBYFLOAT k 1.5""",
    "lists": """0 RPUSH l a b x
1 BLPOP z 0
2 LPUSH z a
0 LPOS l a RANK -1 COUNT 0
0 LINSERT l BEFORE a x
1 BLMOVE l z LEFT RIGHT 0
2 LMPOP 2 l z RIGHT COUNT 2
0 LTRIM l 1 -1""",
    "multi": """0 WATCH k
1 SET k 1
0 MULTI
0 INCR k
0 EXEC
1 MULTI
1 SET k a
1 BLPOP l 0
1 EXEC
2 MULTI
2 GET
2 EXEC""",
    "pubsub": """0 SUBSCRIBE ch a
1 PSUBSCRIBE ch* [a-z]*
2 PUBLISH ch a
0 PING
1 PUNSUBSCRIBE
2 SSUBSCRIBE k
2 SPUBLISH k a
0 HELLO 3
0 RESET""",
    "tracking": """0 CLIENT TRACKING ON
0 GET k
1 SET k a
2 CLIENT TRACKING ON BCAST PREFIX k
1 DEL k
0 CLIENT TRACKING OFF
2 HELLO 3
2 CLIENT TRACKING ON OPTIN
2 CLIENT CACHING YES
2 GET k""",
    "streams": """0 XADD st * a b
0 XGROUP CREATE st g $ MKSTREAM
1 XREADGROUP GROUP g c BLOCK 0 STREAMS st >
2 XADD st 1-* a b
0 XAUTOCLAIM st g c2 0 0-0 COUNT 5
0 XPENDING st g - + 10
0 XINFO STREAM st FULL
0 XTRIM st MAXLEN 1
0 XSETID st 18446744073709551615-18446744073709551615""",
    "zsets": """0 ZADD z 1 a 2 b 1.5 x
0 ZADD z GT CH INCR 1 a
1 BZPOPMIN h 0
2 ZADD h 1 a
0 ZRANGE z (1 +inf BYSCORE LIMIT 0 1
0 ZUNIONSTORE s 2 z z WEIGHTS 1 -1 AGGREGATE MAX
0 ZRANGEBYLEX z - [z
0 ZRANDMEMBER z -5 WITHSCORES""",
    "hashes_sets": """0 HSET h a 1 b 2
0 HINCRBYFLOAT h a 1.5
0 HRANDFIELD h -3 WITHVALUES
1 SADD s a b 1 2
1 SINTERCARD 2 s s LIMIT 1
1 SMOVE s l a
2 SRANDMEMBER s -5
2 SPOP s 2
0 HSCAN h 0 MATCH * COUNT 10""",
    "geo_bits": """0 GEOADD z 13.36 38.11 a 15.08 37.5 b
0 GEOSEARCH z FROMMEMBER a BYRADIUS 200 km WITHDIST ASC
0 GEORADIUS z 15 37 200 km STORE s
1 SETBIT k 100 1
1 BITFIELD k SET i64 #1 -1 INCRBY u8 0 300 OVERFLOW SAT GET u63 0
1 BITCOUNT k 0 -1 BIT
1 BITOP XOR l k k
1 BITPOS k 1 0 -1 BYTE""",
    "hll": """0 PFADD h a b x
0 PFCOUNT h
0 SET k HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x7f\\xff
0 PFADD k a
0 PFMERGE s h k
0 PFDEBUG GETREG k
0 PFDEBUG TODENSE k
0 PFCOUNT h k s""",
    "scripts": """0 EVAL return 1 0
1 EVAL return 1 1 k a
2 SCRIPT LOAD return 1
0 EVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0
0 FUNCTION LOAD lib1
0 FCALL f1 1 k a
0 FUNCTION LIST WITHCODE
0 FUNCTION DUMP""",
    "clients": """0 CLIENT SETNAME a
1 CLIENT LIST
2 CLIENT PAUSE 100 WRITE
0 SET k 1
1 CLIENT UNPAUSE
1 CLIENT KILL ID 1
2 CLIENT INFO
0 CLIENT NO-EVICT ON
1 CLIENT REPLY OFF
1 PING
2 CLIENT UNBLOCK 2 ERROR
2 QUIT""",
    "dbs": """0 SELECT 2
0 SET k a
1 SWAPDB 0 2
1 GET k
0 MOVE k 3
2 COPY k l DB 3 REPLACE
0 FLUSHDB ASYNC
2 RENAME k l
0 RANDOMKEY
0 SCAN 0 MATCH k* TYPE string""",
    "config_acl": """0 CONFIG SET maxmemory 1
0 SET k a
0 CONFIG SET maxmemory-policy allkeys-lru
0 ACL SETUSER u1 on >pw +@all ~*
1 AUTH u1 pw
1 ACL WHOAMI
2 ACL DRYRUN u1 GET k
0 ACL DELUSER u1""",
    "sort_object": """0 RPUSH l 3 1 2
0 SORT l BY nosort GET # GET k* LIMIT 0 5 ALPHA DESC STORE s
0 OBJECT ENCODING l
0 MEMORY USAGE l SAMPLES 0
0 DUMP l
0 EXPIRE l 100 NX
0 TTL l
0 PERSIST l
0 TOUCH l k
0 WAIT 0 0""",
}

def encode(seq, cmds, words):
    out = bytearray()
    for line in seq.strip().split("\n"):
        parts = line.split(" ")
        client, toks = int(parts[0]), parts[1:]
        name = toks[0].lower()
        if len(toks) > 1 and "%s|%s" % (name, toks[1].lower()) in cmds:
            full, args = "%s|%s" % (name, toks[1].lower()), toks[2:]
        else:
            full, args = name, toks[1:]
        idx = cmds.index(full)
        out += bytes([client, idx >> 8, idx & 0xff, len(args)])
        for a in args:
            b = a.encode().decode("unicode_escape").encode("latin-1")
            if b in words and words.index(b) < 0xfe:
                out.append(words.index(b))
            elif b in words:
                out += bytes([0xfe, words.index(b) - 0xfe])
            else:
                assert len(b) < 24, a
                out += bytes([0xff, len(b)]) + b
    return bytes(out)

def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build-fuzz"
    text = subprocess.run([os.path.join(build, "tests/fuzz/fuzz_commands")],
                          env=dict(os.environ, FUZZ_COMMANDS_LIST="1"),
                          capture_output=True, text=True, check=True).stdout
    cmds = [l[4:] for l in text.splitlines() if l.startswith("cmd ")]
    words = [bytes.fromhex(l[5:]) for l in text.splitlines() if l.startswith("word ")]
    os.makedirs(OUT, exist_ok=True)
    for name, seq in SEQS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(encode(seq, cmds, words))

main()
