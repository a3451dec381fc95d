/**
 * The dashboard: one static page served by the admin listener at `GET /dashboard`. It holds no
 * data itself; after the operator enters the admin token (kept in sessionStorage, sent only to
 * this origin) it reads the admin API and the live feed:
 *
 * - live decisions (newest first, the last 100), from the WebSocket feed, opened with a
 *   one-time ticket because a browser cannot put a header on a WebSocket;
 * - deny rate and latency percentiles over the decisions of the last 60 s it received, and the
 *   top principals and rules among them;
 * - the session table (refreshed every 2 s) with a Revoke button per row, and the revocations.
 *
 * Every value from a record is written with `textContent`, never as HTML: paths, hosts and
 * subjects come from clients. The Content-Security-Policy allows only this page's own script
 * and style, by hash, and connections to its own origin.
 */
import { createHash } from 'node:crypto';

const kStyle = `
body { font: 14px system-ui, sans-serif; margin: 1rem; color: #222; }
h1 { font-size: 1.2rem; } h2 { font-size: 1rem; margin-top: 1.2rem; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #ddd;
  padding: 2px 6px; text-align: left; white-space: nowrap; }
.deny, .error { color: #a00; } .allow { color: #060; } .reject { color: #a60; }
#stats span { margin-right: 1.5rem; } .hidden { display: none; }
`;

const kScript = `
'use strict';
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('portcullis-admin-token');
let feed;
const recent = [];
function api(path, init = {}) {
  const headers = Object.assign({ authorization: 'Bearer ' + token }, init.headers || {});
  return fetch(path, Object.assign({}, init, { headers }));
}
function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined ? '' : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}
function addRecord(r) {
  recent.push({ at: Date.now(), r });
  const row = document.createElement('tr');
  row.className = 'decision';
  cell(row, r.time.slice(11, 23));
  cell(row, r.decision || 'none', r.decision || '');
  cell(row, r.status);
  cell(row, r.method);
  cell(row, (r.host || '') + (r.path || ''));
  cell(row, r.service);
  cell(row, r.principal ? r.principal.subject : '');
  cell(row, r.rule || r.reason || '');
  cell(row, (r.totalUs / 1000).toFixed(2));
  const body = $('decisions');
  body.insertBefore(row, body.firstChild);
  while (body.rows.length > 100) body.deleteRow(body.rows.length - 1);
}
function quantile(sorted, q) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
function topOf(counts) {
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, n]) => k + ' (' + n + ')').join(', ');
}
function renderStats() {
  const since = Date.now() - 60000;
  while (recent.length > 0 && recent[0].at < since) recent.shift();
  const lat = recent.map((e) => e.r.totalUs / 1000).sort((a, b) => a - b);
  const denies = recent.filter((e) => e.r.decision === 'deny').length;
  const subjects = new Map(); const rules = new Map();
  for (const { r } of recent) {
    const who = r.principal && r.principal.subject;
    if (who) subjects.set(who, (subjects.get(who) || 0) + 1);
    const rule = r.rule || r.reason;
    if (rule) rules.set(rule, (rules.get(rule) || 0) + 1);
  }
  $('count').textContent = String(recent.length);
  $('denyRate').textContent = recent.length === 0 ? '0%' : (100 * denies / recent.length).toFixed(1) + '%';
  $('p50').textContent = quantile(lat, 0.5).toFixed(2);
  $('p90').textContent = quantile(lat, 0.9).toFixed(2);
  $('p99').textContent = quantile(lat, 0.99).toFixed(2);
  $('topPrincipals').textContent = topOf(subjects) || '-';
  $('topRules').textContent = topOf(rules) || '-';
}
async function revoke(s) {
  const body = s.sessionId ? { kind: 'session', value: s.sessionId }
    : s.tokenId ? { kind: 'token', value: s.tokenId } : { kind: 'subject', value: s.subject };
  body.issuer = s.issuer;
  body.reason = 'revoked from the dashboard';
  const res = await api('/revocations', { method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' } });
  $('status').textContent = res.ok ? 'revoked ' + body.kind + ' ' + body.value : 'revoke failed: ' + res.status;
  await refreshTables();
}
async function refreshTables() {
  const [sessions, revocations] = await Promise.all([api('/sessions?limit=50'), api('/revocations')]);
  if (!sessions.ok || !revocations.ok) return;
  const body = $('sessions');
  body.replaceChildren();
  for (const s of (await sessions.json()).sessions) {
    const row = document.createElement('tr');
    row.className = 'session';
    for (const v of [s.subject, s.clientId, s.sessionId || s.tokenId, s.addresses.join(' '),
      s.lastSeen.slice(11, 19), s.requests, s.denies]) cell(row, v);
    const button = document.createElement('button');
    button.textContent = 'Revoke';
    button.className = 'revoke';
    button.addEventListener('click', () => void revoke(s));
    cell(row, '').appendChild(button);
    body.appendChild(row);
  }
  const list = $('revocations');
  list.replaceChildren();
  for (const r of (await revocations.json()).revocations) {
    const row = document.createElement('tr');
    row.className = 'revocation';
    for (const v of [r.kind, r.value, r.issuer || '*', new Date(r.expiresAtSec * 1000).toISOString()]) cell(row, v);
    list.appendChild(row);
  }
}
async function connect() {
  const res = await api('/feed/ticket', { method: 'POST' });
  if (!res.ok) { $('status').textContent = 'feed refused: ' + res.status; return; }
  const { ticket } = await res.json();
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  feed = new WebSocket(scheme + location.host + '/feed?ticket=' + encodeURIComponent(ticket));
  feed.onopen = () => { $('status').textContent = 'live'; };
  feed.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type !== 'records') return;
    for (const r of message.records) addRecord(r);
    if (message.skipped > 0) $('skipped').textContent = String(Number($('skipped').textContent) + message.skipped);
  };
  feed.onclose = () => { $('status').textContent = 'feed closed; reconnecting'; setTimeout(connect, 2000); };
}
async function start() {
  const res = await api('/sessions?limit=1');
  if (!res.ok) { $('loginError').textContent = 'token refused (' + res.status + ')'; return; }
  sessionStorage.setItem('portcullis-admin-token', token);
  $('login').classList.add('hidden');
  $('main').classList.remove('hidden');
  await connect();
  await refreshTables();
  setInterval(renderStats, 500);
  setInterval(() => void refreshTables(), 2000);
}
$('loginForm').addEventListener('submit', (event) => {
  event.preventDefault();
  token = $('token').value;
  void start();
});
if (token) void start();
`;

function hashOf(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

/** The Content-Security-Policy of the page: its own script and style only, same-origin calls. */
export const kDashboardCSP = `default-src 'none'; script-src ${hashOf(kScript)}; `
  + `style-src ${hashOf(kStyle)}; connect-src 'self'; base-uri 'none'; form-action 'none'; `
  + "frame-ancestors 'none'";

/** The page. */
export const kDashboardPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Portcullis</title>
<style>${kStyle}</style></head><body>
<h1>Portcullis decisions</h1>
<section id="login"><form id="loginForm">
<label>Admin token <input id="token" type="password" autocomplete="off"></label>
<button id="signIn" type="submit">Sign in</button> <span id="loginError"></span></form></section>
<section id="main" class="hidden">
<p>Feed: <span id="status">connecting</span>; skipped by the server: <span id="skipped">0</span></p>
<p id="stats">Last 60 s: <span>decisions <b id="count">0</b></span><span>deny rate <b id="denyRate">0%</b></span>
<span>latency ms p50 <b id="p50">0</b> p90 <b id="p90">0</b> p99 <b id="p99">0</b></span></p>
<p>Top principals: <span id="topPrincipals">-</span></p><p>Top rules / reasons: <span id="topRules">-</span></p>
<h2>Live decisions</h2><table><thead><tr><th>time</th><th>decision</th><th>status</th><th>method</th>
<th>target</th><th>service</th><th>subject</th><th>rule / reason</th><th>ms</th></tr></thead>
<tbody id="decisions"></tbody></table>
<h2>Sessions</h2><table><thead><tr><th>subject</th><th>client</th><th>session / token</th><th>addresses</th>
<th>last seen</th><th>requests</th><th>denies</th><th></th></tr></thead><tbody id="sessions"></tbody></table>
<h2>Revocations</h2><table><thead><tr><th>kind</th><th>value</th><th>issuer</th><th>until</th></tr></thead>
<tbody id="revocations"></tbody></table>
</section>
<script>${kScript}</script></body></html>
`;
