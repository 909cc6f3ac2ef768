"""isolation_web.py — the HTTP actor (keep-alive, pipelined Webdis and
Upstash requests) and the WebSocket JSON actor (Keel's \"/\" and Webdis's
/.json) of test_isolation.py."""

import base64
import json
import time

import websocket

from test_http_helpers import HttpConn, build_request
from isolation_model import *  # noqa: F401,F403 (replies, model, helper, base actor)


# --------------------------------------------------------------------------
# HTTP: one keep-alive connection, pipelined requests

def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()}


class HttpActor(Actor):
    """Webdis-style requests (GET /CMD/args, per-request /db/, .txt ?sep=,
    .raw, ?type=, POST bodies, JSON batches) and Upstash's (/_upstash,
    /pipeline, /multi-exec) on one keep-alive connection, pipelined; the
    connection's own state (SELECT, MULTI, WATCH, CLIENT SETNAME) across
    requests; per-request ACL users (Basic) alternating with the default."""

    kind = "HTTP"
    ops = [("kv", 30), ("select", 6), ("batch", 8), ("multi", 8), ("watch", 6), ("name", 5),
           ("auth", 6), ("upstash", 10), ("blpop", 5), ("subscribe", 3), ("eval", 4)]

    def connect(self):
        self.c = HttpConn(self.srv.http, timeout=TIMEOUT)
        self.id = self.c.roundtrip("GET", "/CLIENT/ID").json()["CLIENT"]

    def close(self):
        self.c.close()

    def exchange(self, plan):
        """plan: [(method, path, headers, body, checker(Response) -> msg)]."""
        self.c.send(b"".join(build_request(m, p, h, b) for m, p, h, b, _ in plan))
        for m, p, h, b, chk in plan:
            r = self.c.read_response(TIMEOUT)
            msg = chk(r)
            if msg:
                self.fail("%s %s %r: %s; got %r" % (m, p, b, msg, r))

    @staticmethod
    def json_is(want, status=200):
        def chk(r):
            if r.status != status:
                return "status %d, expected %d (want %r)" % (r.status, status, want)
            try:
                got = r.json()
            except ValueError:
                return "not JSON"
            return None if got == want else "expected %r" % (want,)
        return chk

    def get(self, cmd, want, db=None, headers=None):
        path = ("/%d" % db if db is not None else "") + "/" + "/".join(str(a) for a in cmd)
        return ("GET", path, headers, None, self.json_is({cmd[0]: to_json(want)}))

    def one_kv(self):
        cmd = random_cmd(self.rnd, self.name)
        form = self.rnd.randrange(6)
        db = self.db
        if form == 1:
            db = self.rnd.randrange(NDB)
        v = self.model.apply(db, cmd)
        if form == 1:
            return self.get(cmd, v, db=db)
        path = "/" + "/".join(str(a) for a in cmd)
        if form == 2 and isinstance(v, (bytes, list)) or v is None and form == 2:
            sep = "~%s~%d~" % (self.name, self.step)
            want = sep.encode().join(v) if isinstance(v, list) else v

            def chk(r, want=want):
                if want is None:
                    return None if r.status == 404 else "status %d, expected 404" % r.status
                return None if (r.status, r.body) == (200, want) else "expected %r" % (want,)
            return ("GET", path + ".txt?sep=" + sep, None, None, chk)
        if form == 3:
            want = to_resp(v, 2)
            return ("GET", path + ".raw", None, None,
                    lambda r: None if (r.status, r.body) == (200, want) else "expected %r" % want)
        if form == 4 and isinstance(v, bytes):
            ctype = "text/x-%s-%d" % (self.name, self.step)
            return ("GET", path + "?type=" + ctype, None, None,
                    lambda r: None if (r.status, r.body, r.header("content-type")) ==
                    (200, v, ctype) else "expected %r as %s" % (v, ctype))
        if form == 5:
            return ("POST", "/", {"Content-Type": "text/plain"}, path[1:],
                    self.json_is({cmd[0]: to_json(v)}))
        return ("GET", path, None, None, self.json_is({cmd[0]: to_json(v)}))

    def op_kv(self):
        self.exchange([self.one_kv() for _ in range(self.rnd.randint(1, 8))])

    def op_select(self):
        self.db = self.rnd.randrange(NDB)
        self.exchange([self.get(["SELECT", self.db], OK)] + [self.one_kv() for _ in range(2)])

    def op_batch(self):
        cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 5))]
        atomic = self.rnd.random() < 0.5
        want = [{c[0]: to_json(self.model.apply(self.db, c))} for c in cmds]
        body = json.dumps(cmds)
        self.exchange([("POST", "/?atomic=1" if atomic else "/",
                        {"Content-Type": "application/json"}, body, self.json_is(want))])

    def op_multi(self):
        cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 4))]
        plan = [self.get(["MULTI"], OK)] + [self.get(c, QUEUED) for c in cmds]
        if self.rnd.random() < 0.3:
            plan.append(self.get(["DISCARD"], OK))
        else:
            plan.append(self.get(["EXEC"], [self.model.apply(self.db, c) for c in cmds]))
        self.exchange(plan)

    def op_watch(self):
        w = self.key("w")
        self.exchange([self.get(["WATCH", w], OK)])
        conflict = self.rnd.random() < 0.5
        if conflict:
            self.helper.call(self.db, "SET", w, "conflict")
            self.model.data[(self.db, w.encode())] = b"conflict"
        cmd = ["SET", w, "mine%d" % self.step]
        plan = [self.get(["MULTI"], OK), self.get(cmd, QUEUED)]
        plan.append(self.get(["EXEC"], NULLARR if conflict else [self.model.apply(self.db, cmd)]))
        self.exchange(plan)

    def op_name(self):
        n = "h-%s-%d" % (self.name, self.step)
        self.exchange([self.get(["CLIENT", "SETNAME", n], OK),
                       self.get(["CLIENT", "GETNAME"], n.encode()),
                       self.get(["CLIENT", "ID"], self.id)])
        seen_check(self, n, self.db)

    def op_eval(self):
        c, want = eval_cmd(self.rnd, self.model, self.name, self.db, None)
        self.exchange([("POST", "/", {"Content-Type": "application/json"}, json.dumps(c),
                        self.json_is({"EVAL": to_json(want)}))])

    def op_auth(self):
        """Each request as its own user: an actor's ACL user (Basic), the
        read-only token (?token=), or none (default)."""
        plan = []
        for _ in range(self.rnd.randint(2, 6)):
            how = self.rnd.randrange(3)
            cmd = self.rnd.choice([["EXISTS", "iso:nobody:%s" % self.name],
                                   ["INCR", self.key("s0")], random_cmd(self.rnd, self.name)])
            if how == 2:
                name = cmd[0].lower()
                if name in ("get", "strlen", "exists", "lrange", "zscore"):
                    plan.append(("GET", "/" + "/".join(cmd) + "?token=" + RO_TOKEN, None, None,
                                 self.json_is({cmd[0]: to_json(self.model.apply(self.db, cmd))})))
                else:
                    want = {"error": "NOPERM this user has no permissions to run the '%s' "
                                     "command" % name}
                    plan.append(("GET", "/" + "/".join(cmd) + "?token=" + RO_TOKEN, None, None,
                                 self.json_is(want, 403)))
                continue
            user = self.name if how == 1 else None
            hdr = basic("u-%s" % self.name, PW % self.name) if how == 1 else None
            plan.append(self.get(cmd, self.model.apply(self.db, cmd, user), headers=hdr))
        self.exchange(plan)

    def op_upstash(self):
        form = self.rnd.randrange(5)
        if form == 4:   # base64 strings, asked for by this request only
            k = self.key("s%d" % self.rnd.randrange(4))
            v = self.model.apply(self.db, ["GET", k])
            want = {"result": None if v is None else base64.b64encode(v).decode()}
            return self.exchange([("POST", "/_upstash", {"Upstash-Encoding": "base64"},
                                   json.dumps(["GET", k]), self.json_is(want))])
        if form == 0:
            cmd = random_cmd(self.rnd, self.name)
            v = self.model.apply(self.db, cmd)
            want = to_upstash(v)
            plan = [("POST", "/_upstash", None, json.dumps(cmd),
                     self.json_is(want, 400 if "error" in want else 200))]
        elif form == 1:
            k = self.key("s%d" % self.rnd.randrange(4))
            v = self.model.apply(self.db, ["GET", k])
            want = to_upstash(v)
            plan = [("GET", "/_upstash/get/" + k, None, None,
                     self.json_is(want, 400 if "error" in want else 200))]
        else:
            cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 5))]
            want = [to_upstash(self.model.apply(self.db, c)) for c in cmds]
            path = "/_upstash/pipeline" if form == 2 else "/_upstash/multi-exec"
            plan = [("POST", path, None, json.dumps(cmds), self.json_is(want))]
        self.exchange(plan)

    def op_blpop(self):
        b = self.key("b")
        if self.rnd.random() < 0.3:
            return self.exchange([self.get(["BLPOP", b, "0.05"], NULLARR)])
        # in the connection's db, or a request's own /db/; requests
        # pipelined behind the parked one run after it, in the connection's db
        # answered as JSON or as text joined by the request's own ?sep=
        db = self.rnd.choice([None, self.rnd.randrange(NDB)])
        after = [self.one_kv() for _ in range(self.rnd.randint(0, 3))]
        sep = "~%s~%d~" % (self.name, self.step) if self.rnd.random() < 0.5 else None
        path = ("" if db is None else "/%d" % db) + "/BLPOP/%s/10" % b
        if sep:
            path += ".txt?sep=" + sep
        self.c.send(build_request("GET", path) +
                    b"".join(build_request(m, p, h, body) for m, p, h, body, _ in after))
        unblock = self.rnd.random() < 0.25
        if unblock:   # CLIENT UNBLOCK by id, from another connection
            how = self.rnd.choice(["TIMEOUT", "ERROR"])
            self.helper.unblock(self.id, how)
        else:
            time.sleep(self.rnd.choice([0, 0.01, 0.05]))
            v = "pushed%d" % self.step
            self.helper.wake(self.rnd, self.db if db is None else db, b, v)
        r = self.c.read_response(TIMEOUT)
        if unblock:
            if sep and how == "TIMEOUT":
                msg = None if r.status == 404 else "status %d, expected 404" % r.status
            elif sep:
                want = ("-" + E_UNBLOCKED).encode()
                msg = None if (r.status, r.body) == (200, want) else "expected %r" % want
            else:
                msg = self.json_is({"BLPOP": to_json(NULLARR if how == "TIMEOUT"
                                                     else E_UNBLOCKED)})(r)
        elif sep:
            want = (b + sep + v).encode()
            msg = None if (r.status, r.body) == (200, want) else "expected %r" % want
        else:
            msg = self.json_is({"BLPOP": [b, v]})(r)
        if msg:
            self.fail("BLPOP: %s; got %r" % (msg, r))
        for m, p, h, body, chk in after:
            r = self.c.read_response(TIMEOUT)
            msg = chk(r)
            if msg:
                self.fail("%s %s %r after a parked BLPOP: %s; got %r" % (m, p, body, msg, r))

    def op_subscribe(self):
        ch = self.key("hch")
        with HttpConn(self.srv.http, timeout=TIMEOUT) as s:
            s.request("GET", "/SUBSCRIBE/" + ch)
            head = s.read_stream_head(TIMEOUT)
            self.check(head.status, 200, "SUBSCRIBE status")
            first = json.loads(s.read_chunk(TIMEOUT))
            self.check(first, {"SUBSCRIBE": ["subscribe", ch, 1]}, "SUBSCRIBE confirmation")
            msgs = ["hm%d-%d" % (self.step, i) for i in range(self.rnd.randint(1, 5))]
            for m in msgs:
                n = self.helper.call(self.db, "PUBLISH", ch, m)
                self.check(n, 1, "PUBLISH %s subscribers" % ch)
            for m in msgs:
                got = json.loads(s.read_chunk(TIMEOUT))
                self.check(got, {"SUBSCRIBE": ["message", ch, m]}, "message")


# --------------------------------------------------------------------------
# WebSocket, Keel's JSON protocol on "/"

class WsJsonActor(Actor):
    kind = "WS-JSON"
    ops = [("kv", 30), ("select", 6), ("batch", 8), ("multi", 8), ("watch", 6), ("name", 5),
           ("hello", 4), ("tracking", 5), ("pubsub", 5), ("auth", 4), ("blpop", 5),
           ("parked_push", 3), ("eval", 4)]

    def __init__(self, srv, name, seed, webdis=False):
        super().__init__(srv, name, seed)
        self.webdis = webdis
        if webdis:   # Webdis's /.json: RESP2 shapes, pushes named by the subscribing command
            self.kind = "WS-/.json"
            self.ops = [(o, w) for o, w in self.ops if o not in ("batch", "hello", "tracking",
                                                                 "parked_push")]

    def connect(self):
        self.ws = websocket.create_connection("ws://127.0.0.1:%d/%s" % (
            self.srv.http, ".json" if self.webdis else ""), timeout=TIMEOUT)
        self.proto = 2 if self.webdis else 3
        self.id = self.call(["CLIENT", "ID"])["CLIENT"]

    def close(self):
        self.ws.close()

    def call(self, msg):
        self.ws.send(json.dumps(msg))
        return json.loads(self.ws.recv())

    def exchange(self, plan):
        """plan: [(message or None, expected frame as JSON or checker)]."""
        for m, _ in plan:
            if m is not None:
                self.ws.send(json.dumps(m))
        for m, want in plan:
            got = json.loads(self.ws.recv())
            if callable(want):
                msg = want(got)
                if msg:
                    self.fail("%r: %s; got %r" % (m, msg, got))
            elif got != want:
                self.fail("%r: expected %r, got %r" % (m, want, got))

    def one(self, cmd, v, ident=None):
        if ident is not None:
            return ({"id": ident, "cmd": cmd}, {"id": ident, "reply": to_json(v, self.proto)})
        return (cmd, {cmd[0]: to_json(v, self.proto)})

    def data_plan(self, n):
        out = []
        for i in range(n):
            c = random_cmd(self.rnd, self.name)
            ident = ("%s-%d-%d" % (self.name, self.step, i)
                     if not self.webdis and self.rnd.random() < 0.5 else None)
            out.append(self.one(c, self.model.apply(self.db, c, self.user), ident))
        return out

    def op_kv(self):
        self.exchange(self.data_plan(self.rnd.randint(1, 8)))

    def op_select(self):
        self.db = self.rnd.randrange(NDB)
        self.exchange([self.one(["SELECT", self.db], OK)] + self.data_plan(2))

    def op_batch(self):
        cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 5))]
        if self.rnd.random() < 0.5:
            refused = [self.model.refusal(c, self.user) for c in cmds]
            if any(refused):
                want = {"EXEC": to_json(E_EXECABORT, self.proto)}
            else:
                want = [{c[0]: to_json(self.model.apply(self.db, c, self.user), self.proto)} for c in cmds]
            return self.exchange([({"batch": cmds, "atomic": True}, want)])
        want = [{c[0]: to_json(self.model.apply(self.db, c, self.user), self.proto)} for c in cmds]
        self.exchange([(cmds, want)])

    def op_multi(self):
        cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 4))]
        plan = [self.one(["MULTI"], OK)]
        aborted = False
        for c in cmds:
            refused = self.model.refusal(c, self.user)
            aborted = aborted or refused is not None
            plan.append(self.one(c, refused or QUEUED))
        if self.rnd.random() < 0.3:
            plan.append(self.one(["DISCARD"], OK))
        elif aborted:
            plan.append(self.one(["EXEC"], E_EXECABORT))
        else:
            plan.append(self.one(["EXEC"], [self.model.apply(self.db, c, self.user) for c in cmds]))
        self.exchange(plan)

    def op_watch(self):
        w = self.key("w")
        self.exchange([self.one(["WATCH", w], OK)])
        conflict = self.rnd.random() < 0.5
        if conflict:
            self.helper.call(self.db, "SET", w, "conflict")
            self.model.data[(self.db, w.encode())] = b"conflict"
        cmd = ["SET", w, "mine%d" % self.step]
        self.exchange([self.one(["MULTI"], OK), self.one(cmd, QUEUED),
                       self.one(["EXEC"], NULLARR if conflict else
                                [self.model.apply(self.db, cmd, self.user)])])

    def op_name(self):
        n = "w-%s-%d" % (self.name, self.step)
        self.exchange([self.one(["CLIENT", "SETNAME", n], OK),
                       self.one(["CLIENT", "GETNAME"], n.encode()),
                       self.one(["CLIENT", "ID"], self.id)])
        seen_check(self, n, self.db)

    def op_hello(self):
        self.proto = self.rnd.choice([2, 3])

        def check(got):
            # maps are objects in JSON whatever the protocol
            h = got.get("HELLO")
            ok = isinstance(h, dict) and h.get("proto") == self.proto and h.get("id") == self.id
            return None if ok else "HELLO %d" % self.proto
        self.exchange([(["HELLO", self.proto], check)] + self.data_plan(2))

    def op_tracking(self):
        if self.proto != 3:
            return self.op_kv()
        how = self.rnd.randrange(3)
        if how == 1:
            return self.tracking_bcast()
        if how == 2:
            return self.tracking_optin()
        k = self.key("s%d" % self.rnd.randrange(4))
        self.exchange([self.one(["CLIENT", "TRACKING", "on"], OK),
                       self.one(["GET", k], self.model.apply(self.db, ["GET", k], self.user))])
        self.helper.call(self.db, "SET", k, "t%d" % self.step)
        self.model.data[(self.db, k.encode())] = b"t%d" % self.step
        self.exchange([(None, {"push": ["invalidate", [k]]}),
                       self.one(["CLIENT", "TRACKING", "off"], OK)])

    def tracking_bcast(self):
        prefix = self.key("t")
        noloop = self.rnd.random() < 0.5
        cmd = ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", prefix] + (["NOLOOP"] if noloop else [])
        self.exchange([self.one(cmd, OK)])
        for i in range(self.rnd.randint(1, 3)):
            k = self.key("t%d" % i)
            if noloop:
                self.exchange([self.one(["SET", k, "own"], OK)])
            self.helper.call(self.rnd.randrange(NDB), "SET", k, "x")
            self.exchange([(None, {"push": ["invalidate", [k]]})])
        self.exchange([self.one(["CLIENT", "TRACKING", "off"], OK)])
        for i in range(3):
            for d in range(NDB):
                self.helper.call(d, "DEL", self.key("t%d" % i))

    def tracking_optin(self):
        k1, k2 = self.key("o1"), self.key("o2")
        self.exchange([self.one(["CLIENT", "TRACKING", "on", "OPTIN"], OK),
                       self.one(["GET", k1], None), self.one(["CLIENT", "CACHING", "yes"], OK),
                       self.one(["GET", k2], None)])
        self.helper.call(self.db, "SET", k1, "x")
        self.helper.call(self.db, "SET", k2, "x")
        self.exchange([(None, {"push": ["invalidate", [k2]]}),
                       self.one(["CLIENT", "TRACKING", "off"], OK)])
        self.helper.call(self.db, "DEL", k1, k2)

    def op_pubsub(self):
        if self.webdis:
            return self.op_webdis_pubsub()
        if self.proto != 3:
            return self.op_kv()
        ch, pat = self.key("wch"), self.key("wp.*")
        self.exchange([(["SUBSCRIBE", ch], {"SUBSCRIBE": ["subscribe", ch, 1]}),
                       (["PSUBSCRIBE", pat], {"PSUBSCRIBE": ["psubscribe", pat, 2]})])
        plan = []
        for i in range(self.rnd.randint(1, 6)):
            m = "m%d-%d" % (self.step, i)
            if i % 2:
                target = self.key("wp.%d" % i)
                push = {"push": ["pmessage", pat, target, m]}
            else:
                target, push = ch, {"push": ["message", ch, m]}
            n = self.helper.call(self.rnd.randrange(NDB), "PUBLISH", target, m)
            if n != 1:
                self.fail("PUBLISH %s reached %r subscribers, expected 1" % (target, n))
            plan.append((None, push))
        plan += [(["UNSUBSCRIBE", ch], {"UNSUBSCRIBE": ["unsubscribe", ch, 1]}),
                 (["PUNSUBSCRIBE", pat], {"PUNSUBSCRIBE": ["punsubscribe", pat, 0]})]
        self.exchange(plan)

    def op_webdis_pubsub(self):
        """/.json: every message is named by the connection's first
        subscribing command, as typed (ws_webdis.c: kept for the
        connection's life, not only while it stays subscribed)."""
        ch, pat = self.key("wch"), self.key("wp.*")
        first = self.rnd.choice(["SUBSCRIBE", "subscribe", "PSUBSCRIBE", "psubscribe"])
        if not getattr(self, "subname", None):
            self.subname = first
        if first.upper() == "SUBSCRIBE":
            plan = [([first, ch], {first: ["subscribe", ch, 1]}),
                    (["PSUBSCRIBE", pat], {"PSUBSCRIBE": ["psubscribe", pat, 2]})]
        else:
            plan = [([first, pat], {first: ["psubscribe", pat, 1]}),
                    (["SUBSCRIBE", ch], {"SUBSCRIBE": ["subscribe", ch, 2]})]
        self.exchange(plan)
        plan = []
        for i in range(self.rnd.randint(1, 6)):
            m = "m%d-%d" % (self.step, i)
            if i % 2:
                target = self.key("wp.%d" % i)
                push = {self.subname: ["pmessage", pat, target, m]}
            else:
                target, push = ch, {self.subname: ["message", ch, m]}
            n = self.helper.call(self.rnd.randrange(NDB), "PUBLISH", target, m)
            if n != 1:
                self.fail("PUBLISH %s reached %r subscribers, expected 1" % (target, n))
            plan.append((None, push))
        plan += [(["UNSUBSCRIBE", ch], {"UNSUBSCRIBE": ["unsubscribe", ch, 1]}),
                 (["PUNSUBSCRIBE", pat], {"PUNSUBSCRIBE": ["punsubscribe", pat, 0]})]
        self.exchange(plan)

    def op_auth(self):
        if self.user is None:
            self.user = self.name
            plan = [self.one(["AUTH", "u-%s" % self.name, PW % self.name], OK)]
        else:
            self.user = None
            plan = [self.one(["AUTH", "default", "anything"], OK)]
        probe = ["EXISTS", "iso:nobody:%s" % self.name]
        self.exchange(plan + [self.one(probe, self.model.apply(self.db, probe, self.user))] +
                      self.data_plan(3))

    def op_blpop(self):
        b = self.key("b")
        if self.rnd.random() < 0.3:
            return self.exchange([self.one(["BLPOP", b, "0.05"], NULLARR)])
        behind = self.data_plan(self.rnd.randint(0, 3))   # held until BLPOP returns
        self.ws.send(json.dumps(["BLPOP", b, "10"]) )
        for m, _ in behind:
            self.ws.send(json.dumps(m))
        if self.rnd.random() < 0.25:   # CLIENT UNBLOCK by id, from another connection
            how = self.rnd.choice(["TIMEOUT", "ERROR"])
            self.helper.unblock(self.id, how)
            first = {"BLPOP": to_json(NULLARR if how == "TIMEOUT" else E_UNBLOCKED)}
        else:
            time.sleep(self.rnd.choice([0, 0.01, 0.05]))
            v = "pushed%d" % self.step
            self.helper.wake(self.rnd, self.db, b, v)
            first = {"BLPOP": [b, v]}
        self.exchange([(None, first)] + [(None, w) for _, w in behind])

    def op_eval(self):
        c, want = eval_cmd(self.rnd, self.model, self.name, self.db, self.user)
        self.exchange([self.one(c, want)] + self.data_plan(2))

    def op_parked_push(self):
        """A batch parked on BLPOP: a tracking push meanwhile is its own
        frame, before the batch's."""
        if self.proto != 3:
            return self.op_blpop()
        k, b = self.key("s%d" % self.rnd.randrange(4)), self.key("b")
        self.exchange([self.one(["CLIENT", "TRACKING", "on"], OK),
                       self.one(["GET", k], self.model.apply(self.db, ["GET", k], self.user))])
        after = random_write(self.rnd, self.name)
        self.ws.send(json.dumps([["BLPOP", b, "10"], after]))
        time.sleep(0.02)
        self.helper.call(self.db, "SET", k, "pp%d" % self.step)
        self.model.data[(self.db, k.encode())] = b"pp%d" % self.step
        v = "pushed%d" % self.step
        self.helper.wake(self.rnd, self.db, b, v)
        self.exchange([(None, {"push": ["invalidate", [k]]}),
                       (None, [{"BLPOP": [b, v]},
                               {after[0]: to_json(self.model.apply(self.db, after, self.user), self.proto)}]),
                       self.one(["CLIENT", "TRACKING", "off"], OK)])
