// keys.js — the key browser: an incremental SCAN (pattern, type filter)
// into a virtualized list (only the visible rows exist in the DOM, so a
// million keys scroll), and a viewer/editor per type with TYPE, TTL,
// OBJECT ENCODING and MEMORY USAGE. Live: the main connection runs
// CLIENT TRACKING ON BCAST, so every key written anywhere arrives as an
// invalidation: the open key is re-read (or shown deleted/expired) and a
// new key matching the filter joins the list.
import { $, el, show, fmtBytes } from "/_dashboard/panels.js";

const ROW = 24;
const PAGE = 200;

// Keel's JSON sends bytes that are not UTF-8 as {"base64":"..."}.
export function isBinary(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v) && typeof v.base64 === "string";
}

export function b64bytes(b64) {
  const s = atob(b64);
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

// A binary key's name as redis-cli quotes it ("\xff..."), for display.
export function keyLabel(k) {
  if (!isBinary(k)) return k;
  let out = "";
  for (const b of b64bytes(k.base64)) out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : "\\x" + b.toString(16).padStart(2, "0");
  return out;
}

export function hexDump(bytes) {
  const lines = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = [...bytes.slice(i, i + 16)];
    const hex = row.map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const asc = row.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(i.toString(16).padStart(8, "0") + "  " + hex.padEnd(48) + "  " + asc);
  }
  return lines.join("\n");
}

export function globToRegExp(glob) {
  let re = "^";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "\\" && i + 1 < glob.length) re += glob[++i].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    else if (c === "[") {
      const j = glob.indexOf("]", i + 1);
      if (j < 0) re += "\\[";
      else {
        let body = glob.slice(i + 1, j);
        if (body[0] === "^") body = "^" + body.slice(1).replace(/\\/g, "\\\\");
        else body = body.replace(/\\/g, "\\\\");
        re += "[" + body + "]";
        i = j;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(re + "$", "s");
}

export function keyBrowser(keel) {
  const list = $("klist"), spacer = $("kspacer"), view = $("kview");
  let keys = [], known = new Set(), selected = null, scanGen = 0, match = /.*/s, typeFilter = "";
  let rendered = new Map(), scanning = false, reopening = false;

  function render() {
    spacer.style.height = keys.length * ROW + "px";
    // A shorter list (a new SCAN while the tab was hidden): back in range.
    const maxTop = Math.max(0, keys.length * ROW - list.clientHeight);
    if (list.clientHeight && list.scrollTop > maxTop) list.scrollTop = maxTop;
    const first = Math.max(0, Math.floor(list.scrollTop / ROW) - 5);
    const last = Math.min(keys.length, Math.ceil((list.scrollTop + list.clientHeight) / ROW) + 5);
    const keep = new Map();
    for (let i = first; i < last; i++) {
      const k = keys[i];
      let row = rendered.get(i);
      if (!row || row.dataset.key !== k) {
        row = el("div", { className: "item", role: "option", id: "key-" + i }, keyLabel(k));
        row.dataset.key = keyLabel(k);
        row.style.top = i * ROW + "px";
        row.addEventListener("click", () => open(k));
        list.append(row);
      }
      row.setAttribute("aria-selected", String(k === selected));
      keep.set(i, row);
      rendered.delete(i);
    }
    for (const r of rendered.values()) r.remove();
    rendered = keep;
    // "…" while the SCAN goes on (tests wait for its end).
    $("kcount").textContent = `${keys.length} key${keys.length === 1 ? "" : "s"}${scanning ? "…" : ""}`;
  }
  list.addEventListener("scroll", () => soon());
  // Shown again (a hidden tab has no size): render the rows that now fit.
  new ResizeObserver(() => render()).observe(list);
  list.addEventListener("keydown", (e) => {
    let i = keys.indexOf(selected);
    if (e.key === "ArrowDown") i = Math.min(keys.length - 1, i + 1);
    else if (e.key === "ArrowUp") i = Math.max(0, i - 1);
    else if (e.key === "End") i = keys.length - 1;
    else if (e.key === "Home") i = 0;
    else return;
    e.preventDefault();
    if (i < 0) return;
    list.scrollTop = Math.max(0, i * ROW - list.clientHeight / 2);
    open(keys[i]);
  });

  async function scan() {
    const gen = ++scanGen;
    keys = [];
    known = new Set();
    rendered.forEach((r) => r.remove());
    rendered = new Map();
    list.scrollTop = 0;
    const pattern = $("kpattern").value || "*";
    typeFilter = $("ktype").value;
    match = globToRegExp(pattern);
    scanning = true;
    let cursor = "0";
    do {
      const args = ["SCAN", cursor, "MATCH", pattern, "COUNT", "2000"];
      if (typeFilter) args.push("TYPE", typeFilter);
      let r;
      try {
        r = await keel.call(...args);
      } catch (e) {
        if (gen === scanGen) scanning = false;
        $("kcount").textContent = e.message;
        return;
      }
      if (gen !== scanGen) return;
      cursor = r[0];
      for (const k of r[1]) {
        const id = keyLabel(k);
        if (!known.has(id)) known.add(id), keys.push(k);
      }
      if (cursor === "0") scanning = false;
      render();
    } while (cursor !== "0");
  }
  $("keyfilter").addEventListener("submit", (e) => {
    e.preventDefault();
    scan();
  });

  // A key written anywhere (BCAST tracking): refresh it if open; an unknown
  // one is checked (TYPE, in batches: a burst of writes is one request per
  // 1,000 keys) and listed if it exists and passes the filter.
  let unknown = [], checking = false;
  function changed(k) {
    const id = keyLabel(k);
    if (selected !== null && id === keyLabel(selected)) reread();
    if (!known.has(id) && match.test(id)) {
      unknown.push(k);
      if (!checking) check();
    }
  }
  async function check() {
    checking = true;
    while (unknown.length) {
      const gen = scanGen;
      const all = unknown.splice(0, 1000);
      // a binary name cannot be sent back: listed unchecked (no type filter only)
      const bin = typeFilter ? [] : all.filter(isBinary);
      const ks = all.filter((k) => !isBinary(k));
      const types = ks.length ? await keel.batch(ks.map((k) => ["TYPE", k])).catch(() => []) : [];
      if (gen !== scanGen) continue; // a new SCAN lists them itself
      const add = (k) => {
        if (known.has(keyLabel(k))) return;
        known.add(keyLabel(k));
        keys.push(k);
      };
      bin.forEach(add);
      ks.forEach((k, i) => {
        const t = val(types[i]);
        if (t && t !== "none" && (!typeFilter || t === typeFilter)) add(k);
      });
      soon();
    }
    checking = false;
  }
  // One re-read of the open key at a time, and one more if it changed meanwhile.
  let again = false;
  function reread() {
    if (reopening) {
      again = true;
      return;
    }
    reopening = true;
    open(selected, true).finally(() => {
      reopening = false;
      if (again) (again = false), reread();
    });
  }
  // A burst of writes (100,000 keys at once) renders once per frame.
  let queued = false;
  function soon() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      render();
    });
  }
  keel.on("push", (p) => {
    if (p[0] !== "invalidate") return;
    if (p[1] === null) return scan(); // FLUSHALL / FLUSHDB
    for (const k of p[1]) changed(k);
  });
  keel.on("state", (s) => {
    if (s === "open") {
      if (!keel.tracking) keel.call("CLIENT", "TRACKING", "ON", "BCAST").catch(() => {});
      scan();
    }
  });

  async function open(k, refresh = false) {
    selected = k;
    render();
    if (isBinary(k)) {
      view.replaceChildren(el("strong", { className: "value" }, keyLabel(k)),
        el("p", { className: "muted" }, "This key's name is not UTF-8: the JSON protocol can show it but not send it; use redis-cli."));
      return;
    }
    const [type, pttl, enc, mem] = await keel.batch([["TYPE", k], ["PTTL", k], ["OBJECT", "ENCODING", k], ["MEMORY", "USAGE", k]]).catch(() => []);
    if (selected !== k) return;
    const t = val(type);
    const head = el("div", { className: "row" }, el("strong", { className: "value" }, k));
    if (t === "none") {
      view.replaceChildren(head, el("p", { className: "gone", id: "kgone" }, refresh ? "This key was deleted or has expired." : "No such key."));
      return;
    }
    const ttl = val(pttl);
    head.append(el("span", { className: "muted" }, `type ${t} · encoding ${val(enc)} · ${fmtBytes(val(mem) || 0)} · TTL ${ttl < 0 ? "none" : (ttl / 1000).toFixed(1) + " s"}`));
    const del = el("button", { type: "button", on: { click: () => keel.call("DEL", k) } }, "Delete");
    head.append(del);
    const body = el("div", { id: "kbody" });
    view.replaceChildren(head, body);
    try {
      await (VIEWERS[t] || other)(keel, k, body);
    } catch (e) {
      body.replaceChildren(el("p", { className: "err" }, e.message));
    }
  }
}

// A batch entry {"CMD": reply}: the reply.
function val(entry) {
  if (!entry || typeof entry !== "object") return entry;
  const v = Object.values(entry)[0];
  return Array.isArray(v) && v.length === 2 && typeof v[0] === "boolean" && typeof v[1] === "string" ? v[1] : v;
}

function table(head, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c))))));
}

function input(value, label) {
  return el("input", { value, "aria-label": label });
}

function button(text, fn, label) {
  return el("button", { type: "button", "aria-label": label || text, on: { click: fn } }, text);
}

function addForm(fields, fn) {
  const ins = fields.map((f) => input("", f));
  return el("div", { className: "row" }, ...ins, button("Add", () => fn(...ins.map((i) => i.value))));
}

async function string(keel, k, body) {
  const v = await keel.call("GET", k);
  if (isBinary(v)) {
    body.append(el("p", { className: "muted" }, "Binary value (not UTF-8), read-only:"), el("pre", { id: "khex" }, hexDump(b64bytes(v.base64))));
    return;
  }
  let pretty = null;
  try {
    const j = JSON.parse(v);
    if (j && typeof j === "object") pretty = JSON.stringify(j, null, 2);
  } catch (e) {
    /* not JSON */
  }
  const ta = el("textarea", { rows: 10, cols: 60, id: "kvalue", "aria-label": "Value" });
  ta.value = v;
  body.append(ta, el("div", { className: "row" }, button("Save", () => keel.call("SET", k, ta.value, "KEEPTTL"))));
  if (pretty) body.append(el("pre", {}, pretty));
}

// A table whose rows come a page at a time: "More" fetches the next one
// (an offset for lists and sorted sets, a SCAN cursor for hashes and sets).
async function paged(body, head, fetchPage) {
  const tb = el("tbody");
  const st = { offset: 0, cursor: "0" };
  const more = button("More", () => next(), "Show more");
  async function next() {
    const { rows, done } = await fetchPage(st);
    for (const r of rows) tb.append(el("tr", {}, ...r.map((c) => el("td", {}, c))));
    if (done) more.remove();
  }
  body.append(el("table", {}, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))), tb), more);
  await next();
}

function pairs(v) {
  if (!Array.isArray(v)) return Object.entries(v);
  const out = [];
  for (let i = 0; i + 1 < v.length; i += 2) out.push([v[i], v[i + 1]]);
  return out;
}

async function hash(keel, k, body) {
  await paged(body, ["field", "value", ""], async (st) => {
    const [cur, flat] = await keel.call("HSCAN", k, st.cursor, "COUNT", String(PAGE));
    st.cursor = cur;
    return { done: cur === "0", rows: pairs(flat).map(([f, v]) => {
      const i = input(v, "Value of " + f);
      return [f, i, el("span", {}, button("Save", () => keel.call("HSET", k, f, i.value), "Save " + f),
        button("Remove", () => keel.call("HDEL", k, f), "Remove " + f))];
    }) };
  });
  body.append(addForm(["field", "value"], (f, v) => keel.call("HSET", k, f, v)));
}

async function list(keel, k, body) {
  await paged(body, ["index", "value", ""], async (st) => {
    const from = st.offset;
    const items = await keel.call("LRANGE", k, String(from), String(from + PAGE - 1));
    st.offset += items.length;
    return { done: items.length < PAGE, rows: items.map((v, j) => {
      const n = from + j, i = input(v, "Element " + n);
      return [n, i, el("span", {}, button("Save", () => keel.call("LSET", k, String(n), i.value), "Save element " + n),
        button("Remove", () => keel.call("LREM", k, "1", v), "Remove element " + n))];
    }) };
  });
  body.append(addForm(["value"], (v) => keel.call("RPUSH", k, v)));
}

async function set(keel, k, body) {
  await paged(body, ["member", ""], async (st) => {
    const [cur, members] = await keel.call("SSCAN", k, st.cursor, "COUNT", String(PAGE));
    st.cursor = cur;
    return { done: cur === "0",
      rows: members.map((m) => [m, button("Remove", () => keel.call("SREM", k, m), "Remove " + m)]) };
  });
  body.append(addForm(["member"], (m) => keel.call("SADD", k, m)));
}

async function zset(keel, k, body) {
  await paged(body, ["member", "score", ""], async (st) => {
    const from = st.offset;
    const r = await keel.call("ZRANGE", k, String(from), String(from + PAGE - 1), "WITHSCORES");
    st.offset += r.length;
    return { done: r.length < PAGE, rows: r.map(([m, s]) => {
      const i = input(String(s), "Score of " + m);
      return [m, i, el("span", {}, button("Save", () => keel.call("ZADD", k, i.value, m), "Save " + m),
        button("Remove", () => keel.call("ZREM", k, m), "Remove " + m))];
    }) };
  });
  body.append(addForm(["score", "member"], (s, m) => keel.call("ZADD", k, s, m)));
}

async function stream(keel, k, body) {
  const entries = await keel.call("XREVRANGE", k, "+", "-", "COUNT", "50");
  body.append(table(["id", "fields"], entries.map(([id, f]) => [id, JSON.stringify(f)])));
  const groups = await keel.call("XINFO", "GROUPS", k);
  body.append(el("h3", {}, "Consumer groups"), el("pre", {}, show(groups)));
}

async function other(keel, k, body) {
  body.append(el("pre", {}, "No viewer for this type: use the console."));
}

const VIEWERS = { string, hash, list, set, zset, stream };
