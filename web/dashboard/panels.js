// panels.js — the dashboard's DOM helpers (every piece of server data goes
// in as textContent, never as HTML) and its smaller panels: overview
// charts and facts, pub/sub, stream tail, slow log, latency, clients,
// MONITOR and the command console.
import { Keel, splitArgs } from "/_keel.js";

export const $ = (id) => document.getElementById(id);

// el("td", {className: "x"}, "text", child...): text children become text nodes.
export function el(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "on") for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
    else if (k in e && k !== "list") e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k ?? "")));
  return e;
}

// A reply as readable text (redis-cli's style, roughly).
export function show(v, indent = "") {
  if (v === null || v === undefined) return "(nil)";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") return (Number.isInteger(v) ? "(integer) " : "(double) ") + v;
  if (typeof v === "boolean") return v ? "(true)" : "(false)";
  if (Array.isArray(v)) {
    if (v.length === 2 && v[0] === true && typeof v[1] === "string") return v[1];
    if (v.length === 2 && v[0] === false && typeof v[1] === "string") return "(error) " + v[1];
    if (!v.length) return "(empty array)";
    return v.map((x, i) => `${indent}${i + 1}) ${show(x, indent + "   ").trimStart()}`).join("\n");
  }
  const ks = Object.keys(v);
  if (!ks.length) return "(empty map)";
  return ks.map((k, i) => `${indent}${i + 1}# ${JSON.stringify(k)} => ${show(v[k], indent + "   ").trimStart()}`).join("\n");
}

function logLine(list, cls, text, max = 500) {
  const li = el("li", { className: cls }, text);
  list.append(li);
  while (list.childElementCount > max) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
  return li;
}

export function fmtBytes(n) {
  const u = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}

// ---- overview ----
const SERIES = [
  // commands a second by protocol, from the counters of consecutive pushes
  ["ops", "Ops/s (resp/http/ws)", (s, p) => ["resp", "http", "ws"].map((k) =>
    p && s.commands_by && p.commands_by ? Math.max(0, s.commands_by[k] - p.commands_by[k]) : 0)],
  ["mem", "Memory used", (s) => s.memory.used, fmtBytes],
  ["clients", "Clients (resp/http/ws)", (s) => [s.clients.resp, s.clients.http, s.clients.ws]],
  ["hit", "Hit ratio %", (s, p) => {
    const h = s.hits - (p ? p.hits : 0), m = s.misses - (p ? p.misses : 0);
    return h + m ? (100 * h) / (h + m) : 0;
  }, (v) => v.toFixed(1)],
  ["keys", "Keys", (s) => s.keys.reduce((a, k) => a + k[1], 0)],
  ["net", "Network in/out KB/s", (s) => [s.net.in_kbps, s.net.out_kbps]],
  ["expired", "Expired keys", (s) => s.expired],
  ["evicted", "Evicted keys", (s) => s.evicted],
];
const COLORS = ["#1f77b4", "#d62728", "#2ca02c"];

export function overview(keel) {
  const charts = {};
  let prev = null;
  for (const [id, title] of SERIES) {
    const canvas = el("canvas", { width: 300, height: 60, role: "img", "aria-label": title + " chart" });
    const val = el("div", { className: "val" }, "–");
    $("charts").append(el("div", { className: "chart", id: "chart-" + id }, el("h3", {}, title), val, canvas));
    charts[id] = { canvas, val, points: [] };
  }
  keel.on("stats", (s) => {
    for (const [id, , get, fmt] of SERIES) {
      const c = charts[id];
      const v = get(s, prev);
      c.points.push(v);
      if (c.points.length > 60) c.points.shift();
      const f = fmt || ((x) => (Number.isInteger(x) ? x : x.toFixed(2)));
      c.val.textContent = Array.isArray(v) ? v.map(f).join(" / ") : f(v);
      draw(c);
    }
    prev = s;
    const db = s.keys.map((k) => `db${k[0]}=${k[1]}`).join(" ");
    $("facts").textContent = `up ${s.uptime}s · ${s.clients.total} clients · ${db || "no keys"}`;
  });
  keel.on("state", (st) => {
    if (st === "open") facts(keel);
  });
}

function draw(c) {
  const g = c.canvas.getContext("2d");
  const { width: w, height: h } = c.canvas;
  g.clearRect(0, 0, w, h);
  const rows = c.points.map((p) => (Array.isArray(p) ? p : [p]));
  const max = Math.max(1, ...rows.flat());
  const lines = rows.length ? rows[0].length : 0;
  for (let j = 0; j < lines; j++) {
    g.strokeStyle = COLORS[j];
    g.beginPath();
    rows.forEach((r, i) => {
      const x = (i / 59) * w, y = h - 2 - (r[j] / max) * (h - 4);
      if (i) g.lineTo(x, y);
      else g.moveTo(x, y);
    });
    g.stroke();
  }
}

export function parseInfo(text) {
  const out = {};
  for (const line of String(text).split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0 && line[0] !== "#") out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

async function facts(keel) {
  try {
    const info = parseInfo(await keel.call("INFO"));
    const dl = $("serverfacts");
    dl.replaceChildren();
    const rows = [
      ["Version", info.redis_version], ["Mode", info.redis_mode], ["Uptime (s)", info.uptime_in_seconds],
      ["Process id", info.process_id], ["TCP port", info.tcp_port],
      ["RDB changes since save", info.rdb_changes_since_last_save],
      ["Last save", info.rdb_last_save_time ? new Date(info.rdb_last_save_time * 1000).toISOString() : ""],
      ["Last save status", info.rdb_last_bgsave_status], ["AOF", info.aof_enabled === "1" ? "on" : "off"],
      ["AOF last write", info.aof_last_write_status], ["Max memory", info.maxmemory_human],
      ["Eviction policy", info.maxmemory_policy],
    ];
    for (const [k, v] of rows) if (v !== undefined) dl.append(el("dt", {}, k), el("dd", {}, v));
  } catch (e) {
    $("serverfacts").replaceChildren(el("dt", {}, "INFO"), el("dd", { className: "err" }, e.message));
  }
}

// ---- pub/sub: its own connection (subscribed clients receive pushes) ----
export function pubsub(keel, opts) {
  let sub = null;
  const conn = () => sub || (sub = new Keel(opts()));
  const chips = () => {
    $("subs").replaceChildren(...[...sub.channels, ...sub.patterns].map((c) => el("li", {}, c)));
  };
  $("subform").addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = $("subname").value;
    if (!name) return;
    const s = conn();
    if (!s.listeners.has("push")) {
      s.on("push", (p) => {
        if (p[0] === "message") logLine($("messages"), "", `${p[1]}: ${p[2]}`);
        else if (p[0] === "pmessage") logLine($("messages"), "", `${p[2]} (${p[1]}): ${p[3]}`);
      });
    }
    try {
      await (/[*?[]/.test(name) ? s.psubscribe(name) : s.subscribe(name));
    } catch (err) {
      logLine($("messages"), "err", err.message);
    }
    chips();
    $("subname").value = "";
  });
  $("pubform").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const n = await keel.call("PUBLISH", $("pubchan").value, $("pubmsg").value);
      logLine($("messages"), "muted", `published to ${$("pubchan").value}: ${n} receiver(s)`);
    } catch (err) {
      logLine($("messages"), "err", err.message);
    }
  });
}

// ---- stream tail: its own connection (a tail holds its connection) ----
export function streamTail(opts) {
  let t = null;
  $("tailform").addEventListener("submit", (e) => {
    e.preventDefault();
    if (t) t.close();
    $("entries").replaceChildren();
    t = new Keel(opts());
    t.on("tail", (m) => {
      if (m.error) logLine($("entries"), "err", m.error);
      else logLine($("entries"), "", `${m.id}  ${JSON.stringify(m.fields)}`);
    });
    t.tail($("tailkey").value, $("tailfrom").value || "$");
  });
}

function tableRows(tbody, rows) {
  tbody.replaceChildren(...rows.map((r) => el("tr", {}, ...r.map((c) => (c instanceof Node ? el("td", {}, c) : el("td", {}, c))))));
}

export function slowlog(keel) {
  const load = async () => {
    const r = await keel.call("SLOWLOG", "GET", "128");
    tableRows($("slowlog").tBodies[0], r.map((e) => [e[0], new Date(e[1] * 1000).toLocaleTimeString(), e[2], e[3].join(" "), `${e[4]} ${e[5]}`]));
  };
  $("slowrefresh").addEventListener("click", load);
  $("slowreset").addEventListener("click", async () => {
    await keel.call("SLOWLOG", "RESET");
    load();
  });
  return load;
}

export function latency(keel) {
  const load = async () => {
    const r = await keel.call("LATENCY", "LATEST");
    tableRows($("latency").tBodies[0], r.map((e) => [e[0], new Date(e[1] * 1000).toLocaleTimeString(), e[2], e[3]]));
    $("latdoctor").textContent = await keel.call("LATENCY", "DOCTOR");
  };
  $("latrefresh").addEventListener("click", load);
  return load;
}

export function parseClientList(text) {
  return String(text).split("\n").filter(Boolean).map((line) => {
    const o = {};
    for (const kv of line.split(" ")) {
      const i = kv.indexOf("=");
      if (i > 0) o[kv.slice(0, i)] = kv.slice(i + 1);
    }
    return o;
  });
}

export function clients(keel) {
  const load = async () => {
    const list = parseClientList(await keel.call("CLIENT", "LIST"));
    tableRows($("clients").tBodies[0], list.map((c) => [c.id, c.addr, c.name, c.age, c.idle, c.db, c.cmd,
      el("button", { type: "button", "aria-label": "Kill client " + c.id, on: { click: async () => {
        await keel.call("CLIENT", "KILL", "ID", c.id).catch(() => {});
        load();
      } } }, "Kill")]));
  };
  $("clrefresh").addEventListener("click", load);
  return load;
}

export function monitor(opts) {
  let m = null, paused = false;
  $("monstart").addEventListener("click", () => {
    if (m) {
      m.close();
      m = null;
      $("monstart").textContent = "Start";
      return;
    }
    m = new Keel(opts());
    m.on("push", (p) => {
      if (p[0] !== "monitor" || paused) return;
      const f = $("monfilter").value;
      if (f && !p[1].includes(f)) return;
      logLine($("monlog"), "", p[1], 1000);
    });
    m.on("state", (s) => s === "open" && m.send({ cmd: ["MONITOR"] }));
    $("monstart").textContent = "Stop";
  });
  $("monpause").addEventListener("click", () => {
    paused = !paused;
    $("monpause").setAttribute("aria-pressed", String(paused));
    $("monpause").textContent = paused ? "Resume" : "Pause";
  });
}

// ---- console: history (↑/↓), names and argument hints from /_commands ----
export function argHint(args) {
  return (args || []).map((a) => {
    let s = a.token ? a.token + (a.type === "pure-token" ? "" : " " + a.name) : a.name;
    if (a.type === "oneof") s = (a.arguments || []).map((x) => argHint([x])).join("|");
    else if (a.type === "block") s = argHint(a.arguments);
    const f = a.flags || [];
    if (f.includes("multiple")) s += " ...";
    return f.includes("optional") ? `[${s}]` : s;
  }).join(" ");
}

export function consolePanel(keel, fetchCommands) {
  const hist = JSON.parse(sessionStorage.getItem("keel-history") || "[]");
  let pos = hist.length;
  let docs = {};
  fetchCommands().then((d) => {
    docs = d;
    $("cmdnames").replaceChildren(...Object.keys(d).sort().map((n) => el("option", { value: n.toUpperCase() })));
  }).catch(() => {});
  const cmd = $("cmd");
  cmd.addEventListener("input", () => {
    const name = cmd.value.trim().split(/\s+/)[0].toLowerCase();
    const d = docs[name];
    $("hint").textContent = d ? `${name.toUpperCase()} ${argHint(d.arguments)} — ${d.summary || ""}` : "";
  });
  cmd.addEventListener("keydown", (e) => {
    if (e.key === "ArrowUp" && pos > 0) cmd.value = hist[--pos];
    else if (e.key === "ArrowDown" && pos < hist.length) cmd.value = hist[++pos] || "";
    else return;
    e.preventDefault();
  });
  $("conform").addEventListener("submit", async (e) => {
    e.preventDefault();
    const line = cmd.value.trim();
    if (!line) return;
    hist.push(line);
    if (hist.length > 200) hist.shift();
    sessionStorage.setItem("keel-history", JSON.stringify(hist));
    pos = hist.length;
    cmd.value = "";
    logLine($("conlog"), "q", "> " + line);
    let args;
    try {
      args = splitArgs(line);
    } catch (err) {
      logLine($("conlog"), "err", "(error) " + err.message);
      return;
    }
    try {
      logLine($("conlog"), "", show(await keel.call(...args)));
    } catch (err) {
      logLine($("conlog"), "err", "(error) " + err.message);
    }
  });
}
