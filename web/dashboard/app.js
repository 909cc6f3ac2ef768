// app.js — the dashboard's entry: the token prompt (when the server wants
// one), the main connection (a Keel from /_keel.js), the tab bar, and the
// panels (panels.js, keys.js) wired to it.
import { Keel } from "/_keel.js";
import { $, overview, pubsub, streamTail, slowlog, latency, clients, monitor, consolePanel } from "/_dashboard/panels.js";
import { keyBrowser } from "/_dashboard/keys.js";

const params = new URLSearchParams(location.search);
let token = params.get("token") || sessionStorage.getItem("keel-token") || localStorage.getItem("keel-token") || "";
const opts = () => ({ token });
const q = () => (token ? "?token=" + encodeURIComponent(token) : "");

// Does the server take this token (or none)? /_health answers 401 if not.
async function authorized() {
  try {
    const r = await fetch("/_health" + q(), { cache: "no-store" });
    return r.status !== 401;
  } catch (e) {
    return true; // down: the client's reconnect loop waits for it
  }
}

function askToken() {
  return new Promise((resolve) => {
    const f = $("auth");
    f.hidden = false;
    $("token").focus();
    f.addEventListener("submit", function done(e) {
      e.preventDefault();
      token = $("token").value;
      sessionStorage.setItem("keel-token", token);
      if ($("remember").checked) localStorage.setItem("keel-token", token);
      f.hidden = true;
      f.removeEventListener("submit", done);
      resolve();
    });
  });
}

function tabs(loaders) {
  const buttons = [...document.querySelectorAll("#tabs button")];
  const show = (name) => {
    for (const b of buttons) {
      const on = b.dataset.panel === name;
      if (on) b.setAttribute("aria-current", "page");
      else b.removeAttribute("aria-current");
      $("panel-" + b.dataset.panel).hidden = !on;
    }
    if (loaders[name]) loaders[name]().catch(() => {});
    history.replaceState(null, "", "#" + name);
  };
  for (const b of buttons) b.addEventListener("click", () => show(b.dataset.panel));
  show(location.hash.slice(1) && $("panel-" + location.hash.slice(1)) ? location.hash.slice(1) : "overview");
}

async function main() {
  while (!(await authorized())) {
    if (token) sessionStorage.removeItem("keel-token"), localStorage.removeItem("keel-token");
    await askToken();
  }
  const keel = new Keel(opts());
  window.keel = keel; // for the console of the browser's developer tools
  keel.on("state", (s) => {
    $("status").textContent = s;
    $("status").className = s;
  });
  overview(keel);
  keyBrowser(keel);
  pubsub(keel, opts);
  streamTail(opts);
  monitor(opts);
  consolePanel(keel, () => fetch("/_commands" + q()).then((r) => r.json()));
  tabs({ slowlog: slowlog(keel), latency: latency(keel), clients: clients(keel) });
  keel.stats(true);
}

main();
