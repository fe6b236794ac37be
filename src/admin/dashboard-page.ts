/**
 * The admin dashboard: one static page (no build step, no external assets). It polls
 * `services` every second and reads `tap` as Server-Sent Events; URLs are relative, so the page
 * also works where the handler is mounted under a prefix.
 */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>trellis</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 13px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 18px; margin: 0 0 .5em; } h2 { font-size: 15px; margin: 1.2em 0 .4em; }
  table { border-collapse: collapse; width: 100%; } td, th { padding: 2px 8px; text-align: left; border-bottom: 1px solid #eee; }
  th { background: #f6f6f6; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .active { color: #176317; } .ejected { color: #b00; font-weight: bold; } .draining { color: #888; }
  .open { color: #b00; font-weight: bold; } .half-open { color: #b60; }
  #tap-log { height: 16em; overflow: auto; font: 12px monospace; background: #fafafa; border: 1px solid #ddd; padding: 4px; }
  .muted { color: #888; } form input { width: 8em; }
</style>
</head>
<body>
<h1>trellis mesh <span id="updated" class="muted"></span></h1>
<p id="note" class="muted"></p>
<h2>Services (last 10 s)</h2>
<table><thead><tr><th>service</th><th>success</th><th>req/s</th><th>p50 ms</th><th>p99 ms</th><th>in flight</th><th>breaker</th><th>retries</th><th>retry budget</th><th>body errors</th><th>rules</th><th>discovery</th></tr></thead>
<tbody id="services"></tbody></table>
<h2>Endpoints</h2>
<table><thead><tr><th>service</th><th>endpoint</th><th>state</th><th>latency est. ms</th><th>in flight</th><th>weight</th><th>zone</th><th>requests</th><th>failures</th><th>body errors</th></tr></thead>
<tbody id="endpoints"></tbody></table>
<h2>Changes</h2>
<ul id="changes"></ul>
<h2>Tap</h2>
<form id="tap-form">
  service <input name="service"> path <input name="path" placeholder="/"> status <input name="status" placeholder="5xx">
  min latency ms <input name="min_latency"> <button type="submit">tap</button> <button type="button" id="tap-stop">stop</button>
  <span id="tap-state" class="muted">stopped</span>
</form>
<div id="tap-log"></div>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const fmt = (v, digits) => v === null || v === undefined || Number.isNaN(v) ? "-" : Number(v).toFixed(digits);
const pct = (v) => v === null || v === undefined ? "-" : (v * 100).toFixed(1) + "%";
function cell(text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; return td; }
function row(cells, attrs) { const tr = document.createElement("tr"); for (const c of cells) tr.appendChild(c); for (const [k, v] of Object.entries(attrs || {})) tr.setAttribute(k, v); return tr; }
function render(view) {
  $("updated").textContent = "updated " + new Date(view.generatedAt).toLocaleTimeString();
  $("note").textContent = view.metrics ? "" : "No metrics layer: golden signals and the tap need metrics({ registry }).install in the stack.";
  const services = [], endpoints = [];
  for (const s of view.services) {
    const g = s.golden || {};
    services.push(row([cell(s.name), cell(pct(g.successRate), "n"), cell(fmt(g.rps, 1), "n"), cell(fmt(g.p50Ms, 1), "n"),
      cell(fmt(g.p99Ms, 1), "n"), cell(s.inflight === null ? "-" : String(s.inflight), "n"), cell(s.breaker || "-", s.breaker || ""),
      cell(s.retries ? String(s.retries.sent) : "-", "n"), cell(s.retryBudget ? Math.floor(s.retryBudget.left) + "/" + Math.floor(s.retryBudget.capacity) : "-", "n"),
      cell(s.bodyErrors === null ? "-" : String(s.bodyErrors), "n"), cell(s.rules ? "v" + s.rules.version + " " + s.rules.source : "-"), cell(s.discovery.source)], { "data-service": s.name }));
    for (const e of s.endpoints)
      endpoints.push(row([cell(s.name), cell(e.id), cell(e.state, e.state), cell(fmt(e.latencyMs, 1), "n"), cell(String(e.inflight), "n"),
        cell(String(e.weight), "n"), cell(e.zone || "-"), cell(e.requests === undefined ? "-" : String(e.requests), "n"),
        cell(e.failures === undefined ? "-" : String(e.failures), "n"), cell(e.bodyErrors === undefined ? "-" : String(e.bodyErrors), "n")], { "data-endpoint": e.id, "data-state": e.state }));
  }
  $("services").replaceChildren(...services);
  $("endpoints").replaceChildren(...endpoints);
  $("changes").replaceChildren(...view.changes.slice(0, 12).map((c) => {
    const li = document.createElement("li"); li.textContent = new Date(c.at).toLocaleTimeString() + " " + c.service + " " + c.kind + ": " + c.detail; return li;
  }));
}
async function poll() {
  try { const res = await fetch("services", { cache: "no-store" }); if (res.ok) render(await res.json()); }
  catch (err) { $("updated").textContent = "admin endpoint unreachable"; }
  setTimeout(poll, 1000);
}
let tap;
function stopTap() { if (tap) tap.close(); tap = undefined; $("tap-state").textContent = "stopped"; }
$("tap-stop").onclick = stopTap;
$("tap-form").onsubmit = (event) => {
  event.preventDefault();
  stopTap();
  const query = new URLSearchParams();
  for (const [k, v] of new FormData(event.target)) if (v) query.set(k, String(v));
  tap = new EventSource("tap?" + query);
  $("tap-state").textContent = "tapping";
  const log = $("tap-log");
  const line = (text) => { const div = document.createElement("div"); div.textContent = text; log.prepend(div); while (log.childNodes.length > 200) log.lastChild.remove(); };
  tap.onmessage = (m) => { const c = JSON.parse(m.data);
    line(new Date(c.at).toLocaleTimeString() + " " + c.service + " " + c.method + " " + c.path + " -> " + (c.status === undefined ? c.error : c.status + (c.error ? " " + c.error : "")) +
      " " + c.latencyMs.toFixed(1) + " ms" + (c.attempts > 1 ? " (" + c.attempts + " attempts)" : "") + (c.endpoint ? " @" + c.endpoint : "")); };
  tap.addEventListener("skipped", (m) => { const s = JSON.parse(m.data); line("... skipped " + s.dropped + " dropped, " + s.sampled + " sampled"); });
  tap.onerror = () => { $("tap-state").textContent = "reconnecting"; };
};
poll();
</script>
</body>
</html>
`;
