// keel.js — Keel's browser client module (served at /_keel.js): one
// WebSocket in Keel's JSON protocol with request ids and promises, pushes
// (pub/sub, keyspace events, invalidations, monitor, stats, stream tails)
// to listeners, automatic reconnect with backoff that re-subscribes,
// re-tracks and re-asks for stats, and auth by token (?token= on the
// upgrade). No dependencies; works in browsers and (with a WebSocket
// implementation passed in) in node.
//
//   import { Keel } from "/_keel.js";
//   const k = new Keel({ url: "ws://host:7379/", token: "pw" });
//   await k.call("SET", "k", "v");         // -> "OK"
//   k.on("push", (p) => ...);               // ["message","chan","hi"]
//   await k.subscribe("chan");             // kept across reconnects
//   k.on("state", (s) => ...);              // "connecting" | "open" | "closed"

const SUB_CMDS = { SUBSCRIBE: "channels", PSUBSCRIBE: "patterns" };
const UNSUB_CMDS = { UNSUBSCRIBE: "channels", PUNSUBSCRIBE: "patterns" };

export class KeelError extends Error {
  constructor(message) {
    super(message);
    this.name = "KeelError";
  }
}

export function defaultUrl(loc) {
  if (!loc) return "ws://127.0.0.1:7379/";
  return (loc.protocol === "https:" ? "wss://" : "ws://") + loc.host + "/";
}

export class Keel {
  constructor(opts = {}) {
    this.url = opts.url || defaultUrl(globalThis.location);
    this.token = opts.token || "";
    this.WS = opts.WebSocket || globalThis.WebSocket;
    this.minDelay = opts.minDelay ?? 250;
    this.maxDelay = opts.maxDelay ?? 8000;
    this.timers = opts.timers || { set: (f, ms) => setTimeout(f, ms), clear: (t) => clearTimeout(t) };
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject}
    this.queue = []; // messages waiting for the socket to open
    this.listeners = new Map();
    this.channels = new Set();
    this.patterns = new Set();
    this.tracking = null; // the CLIENT TRACKING arguments to replay
    this.statsOn = false;
    this.tails = new Map(); // key -> last id seen
    this.state = "closed";
    this.attempt = 0;
    this.stopped = false;
    this.ws = null;
    this.retryTimer = null;
    if (opts.connect !== false) this.connect();
  }

  on(event, fn) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(fn);
    return () => this.listeners.get(event).delete(fn);
  }

  emit(event, value) {
    for (const fn of this.listeners.get(event) || []) {
      try {
        fn(value);
      } catch (e) {
        if (globalThis.console) console.error(e);
      }
    }
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.emit("state", s);
  }

  wsUrl() {
    if (!this.token) return this.url;
    const sep = this.url.includes("?") ? "&" : "?";
    return this.url + sep + "token=" + encodeURIComponent(this.token);
  }

  connect() {
    this.stopped = false;
    if (this.ws) return;
    this.setState("connecting");
    let ws;
    try {
      ws = new this.WS(this.wsUrl(), "json");
    } catch (e) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setState("open");
      this.restore();
      const q = this.queue;
      this.queue = [];
      for (const m of q) ws.send(m);
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onerror = () => {};
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      // Requests in flight are lost with the connection: fail them.
      for (const [, p] of this.pending) p.reject(new KeelError("connection closed"));
      this.pending.clear();
      this.setState("closed");
      if (!this.stopped) this.scheduleRetry();
    };
  }

  scheduleRetry() {
    if (this.stopped || this.retryTimer) return;
    const base = Math.min(this.maxDelay, this.minDelay * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt++;
    this.retryTimer = this.timers.set(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  // Replays what the connection had: subscriptions, tracking, stats, tails.
  restore() {
    const raw = (o) => this.ws.send(JSON.stringify(o));
    if (this.tracking) raw({ id: this.nextId++, cmd: ["CLIENT", "TRACKING", "ON", ...this.tracking] });
    if (this.channels.size) raw({ id: this.nextId++, cmd: ["SUBSCRIBE", ...this.channels] });
    if (this.patterns.size) raw({ id: this.nextId++, cmd: ["PSUBSCRIBE", ...this.patterns] });
    if (this.statsOn) raw({ stats: 1 });
    for (const [key, from] of this.tails) raw({ tail: key, from });
  }

  close() {
    this.stopped = true;
    if (this.retryTimer) this.timers.clear(this.retryTimer);
    this.retryTimer = null;
    if (this.ws) this.ws.close();
    this.setState("closed");
  }

  // Reconnect now with another token (after an auth prompt).
  reauth(token) {
    this.token = token;
    this.attempt = 0;
    if (this.retryTimer) this.timers.clear(this.retryTimer);
    this.retryTimer = null;
    const old = this.ws;
    if (old) {
      this.ws = null;
      old.onclose = null;
      old.close();
      for (const [, p] of this.pending) p.reject(new KeelError("connection closed"));
      this.pending.clear();
    }
    this.connect();
  }

  send(obj) {
    const m = JSON.stringify(obj);
    if (this.ws && this.state === "open") this.ws.send(m);
    else this.queue.push(m);
  }

  receive(data) {
    let m;
    try {
      m = JSON.parse(data);
    } catch (e) {
      this.emit("error", new KeelError("bad frame from the server"));
      return;
    }
    if (m && typeof m === "object" && !Array.isArray(m)) {
      if ("push" in m) {
        this.emit("push", m.push);
        return;
      }
      if ("stats" in m) {
        if (m.stats) this.emit("stats", m.stats);
        return;
      }
      if ("tail" in m && !("id" in m && this.pending.has(m.id))) {
        if (m.id) this.tails.set(m.tail, m.id);
        this.emit("tail", m);
        return;
      }
      if ("id" in m && this.pending.has(m.id)) {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if ("error" in m) p.reject(new KeelError(m.error));
        else p.resolve(m.reply);
        return;
      }
      if ("error" in m) {
        this.emit("error", new KeelError(m.error));
        return;
      }
    }
    this.emit("message", m);
  }

  // One command; resolves with its reply, rejects with a KeelError for an
  // error reply ([false,"ERR ..."] in Keel's JSON shapes).
  call(...cmd) {
    const name = String(cmd[0] || "").toUpperCase();
    if (SUB_CMDS[name]) for (const c of cmd.slice(1)) this[SUB_CMDS[name]].add(String(c));
    if (UNSUB_CMDS[name]) {
      const set = this[UNSUB_CMDS[name]];
      if (cmd.length === 1) set.clear();
      for (const c of cmd.slice(1)) set.delete(String(c));
    }
    if (name === "CLIENT" && String(cmd[1] || "").toUpperCase() === "TRACKING") {
      const on = String(cmd[2] || "").toUpperCase() === "ON";
      this.tracking = on ? cmd.slice(3).map(String) : null;
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (r) => {
          // Keel's JSON shapes: [false,"ERR ..."] an error, [true,"OK"] a status.
          if (Array.isArray(r) && r.length === 2 && r[0] === false && typeof r[1] === "string") reject(new KeelError(r[1]));
          else if (Array.isArray(r) && r.length === 2 && r[0] === true && typeof r[1] === "string") resolve(r[1]);
          else resolve(r);
        },
        reject,
      });
      this.send({ id, cmd: cmd.map((a) => (typeof a === "number" ? String(a) : a)) });
    });
  }

  // Several commands in one frame; resolves with the array of replies.
  batch(cmds, atomic = false) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(atomic ? { id, batch: cmds, atomic: true } : { id, batch: cmds });
    });
  }

  subscribe(...channels) {
    return this.call("SUBSCRIBE", ...channels);
  }
  psubscribe(...patterns) {
    return this.call("PSUBSCRIBE", ...patterns);
  }
  unsubscribe(...channels) {
    return this.call("UNSUBSCRIBE", ...channels);
  }

  // The stats push: a "stats" event every second.
  stats(on = true) {
    this.statsOn = on;
    this.send({ stats: on ? 1 : 0 });
  }

  // Follow a stream: "tail" events; resumes after the last id on reconnect.
  tail(key, from = "$") {
    this.tails.set(key, from);
    this.send({ tail: key, from });
  }
}

// Parses a console line into arguments: words, "double" and 'single'
// quoted strings with \n \t \" \\ \xHH escapes (as redis-cli does).
export function splitArgs(line) {
  const out = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && /\s/.test(line[i])) i++;
    if (i >= n) break;
    let cur = "";
    if (line[i] === '"' || line[i] === "'") {
      const q = line[i++];
      let closed = false;
      while (i < n) {
        const ch = line[i];
        if (ch === "\\" && q === '"' && i + 1 < n) {
          const e = line[i + 1];
          if (e === "x" && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
            cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
            i += 4;
            continue;
          }
          cur += { n: "\n", r: "\r", t: "\t", b: "\b", a: "\x07" }[e] ?? e;
          i += 2;
          continue;
        }
        if (ch === "\\" && q === "'" && line[i + 1] === "'") {
          cur += "'";
          i += 2;
          continue;
        }
        if (ch === q) {
          closed = true;
          i++;
          break;
        }
        cur += ch;
        i++;
      }
      if (!closed) throw new KeelError("unbalanced quotes");
      if (i < n && !/\s/.test(line[i])) throw new KeelError("closing quote must be followed by a space");
    } else {
      while (i < n && !/\s/.test(line[i])) cur += line[i++];
    }
    out.push(cur);
  }
  return out;
}
