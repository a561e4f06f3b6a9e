// The live board: one EventSource for the board (/board/events), one for ended sessions and cache entries (/events).
'use strict';
const $ = id => document.getElementById(id);
// What the page saw, on its own clock (performance.now()), for people and for the browser test.
const board = window.board = { offsetMs: 0, keys: new Map(), submitted: {}, ended: {}, near: null, devices: {} };
const serverNow = () => Date.now() + board.offsetMs;
const secs = ms => (ms / 1000).toFixed(1) + ' s';
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
let lastRequest = Date.now();

async function call(method, url) {
  lastRequest = Date.now();
  const r = await fetch(url, { method, credentials: 'same-origin' });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

// ---- keys with their own TTL ----
function onKey(e) {
  let k = board.keys.get(e.key);
  if (k && k.revision > e.revision) return;
  if (!k) {
    const row = el('div', 'key');
    row.dataset.key = e.key;
    row.append(el('span', 'key-name', e.key), el('span', 'key-ttl'), el('span', 'bar'), el('span', 'key-left'));
    row.children[2].append(el('span', 'fill'));
    const remove = el('button', 'remove', '×');
    remove.title = 'remove now';
    remove.onclick = () => call('POST', '/api/board/keys/remove?key=' + encodeURIComponent(e.key));
    row.append(remove);
    $('keys').append(row);
    k = { row };
    board.keys.set(e.key, k);
  }
  Object.assign(k, { revision: e.revision, ttlMs: e.ttlMs, dueMs: e.dueMs, writtenMs: e.writtenMs, seenAt: performance.now() });
  // Soonest deadline first (keys without a TTL last).
  const due = k.dueMs ?? Infinity;
  const next = [...board.keys.values()].filter(o => o !== k && (o.dueMs ?? Infinity) > due)
    .sort((a, b) => (a.dueMs ?? Infinity) - (b.dueMs ?? Infinity))[0];
  $('keys').insertBefore(k.row, next ? next.row : null);
  k.row.children[1].textContent = e.ttlMs ? 'TTL ' + secs(e.ttlMs) : 'no TTL';
  k.row.classList.remove('due');
}

function onKeyEnded(e) {
  const k = board.keys.get(e.key);
  if (k && k.revision < e.revision) { k.row.remove(); board.keys.delete(e.key); }
  const id = e.key + '@' + e.revision;
  if (document.querySelector('#ended li[data-id="' + CSS.escape(id) + '"]')) return;
  if (!board.ended[e.key] || board.ended[e.key].revision < e.revision) board.ended[e.key] = Object.assign({ at: performance.now() }, e);
  const li = el('li', 'ended-key ' + e.reason);
  li.dataset.id = id;
  li.dataset.key = e.key;
  li.dataset.reason = e.reason;
  const late = e.lateMs != null ? ', marker arrived ' + (e.lateMs / 1000).toFixed(2) + ' s after its deadline' : '';
  const lived = e.writtenMs != null ? ' after ' + secs(e.markerMs - e.writtenMs) : '';
  li.append(el('b', null, e.key), el('span', 'reason ' + e.reason, e.reason), el('span', null, lived + late),
    el('span', 'at', new Date(e.markerMs).toLocaleTimeString()));
  $('ended').prepend(li);
  while ($('ended').children.length > 12) $('ended').lastChild.remove();
}

function drawKeys() {
  const now = serverNow();
  for (const [, k] of board.keys) {
    const fill = k.row.querySelector('.fill'), left = k.row.children[3];
    if (!k.dueMs) { fill.style.width = '100%'; left.textContent = 'never expires'; continue; }
    const rest = k.dueMs - now;
    fill.style.width = Math.max(0, Math.min(100, 100 * rest / k.ttlMs)) + '%';
    if (rest > 0) left.textContent = secs(rest) + ' left';
    else { left.textContent = 'due ' + secs(-rest) + ' ago, waiting for the marker'; k.row.classList.add('due'); }
  }
}

async function addKey(ev) {
  ev.preventDefault();
  const key = $('key-name').value.trim(), ttl = $('key-ttl').value;
  $('key-error').textContent = '';
  board.submitted[key] = performance.now();
  try { await call('POST', '/api/board/keys?key=' + encodeURIComponent(key) + '&ttl=' + encodeURIComponent(ttl)); }
  catch (e) { $('key-error').textContent = e.message; }
  return false;
}
// Not seed(): inside the form, an inline handler's "seed" would be the button of that id.
function replaySeed() { call('POST', '/api/board/seed'); }

// ---- near caches ----
function onNear(e) {
  board.near = Object.assign({ at: performance.now() }, e);
  $('near-a').textContent = e.value;
  $('near-b').textContent = e.bAfter ?? '–';
  $('near-delay').textContent = e.invalidatedMs != null ? 'invalidated in ' + e.invalidatedMs.toFixed(2) + ' ms' : 'B not invalidated!';
  $('near-text').textContent = 'A wrote "' + e.value + '" (acknowledged in ' + e.ackMs.toFixed(2) + ' ms). B ' +
    (e.bHeldCopy ? 'held "' + e.bBefore + '" in memory; its copy was dropped ' : 'held no copy; ') +
    (e.invalidatedMs != null ? e.invalidatedMs.toFixed(2) + ' ms after the write began' : '(not within 5 s)') +
    ', then B read "' + e.bAfter + '" from the server.';
  $('near-text').dataset.invalidated = e.invalidatedMs != null ? 'yes' : 'no';
  const box = $('near-b-box');
  box.classList.remove('flash'); void box.getBoundingClientRect(); box.classList.add('flash');
}
async function writeNear(ev) {
  ev.preventDefault();
  try { onNear(await call('POST', '/api/near?value=' + encodeURIComponent($('near-value').value))); } catch (e) { $('near-text').textContent = e.message; }
  return false;
}

// ---- presence ----
function onDevice(e) {
  board.devices[e.device] = e;
  let card = document.querySelector('#devices [data-device="' + CSS.escape(e.device) + '"]');
  if (!card) {
    card = el('div', 'device');
    card.dataset.device = e.device;
    card.append(el('span', 'dot'), el('b', null, e.device), el('span', 'state'), el('span', 'detail'), el('button', 'toggle'));
    card.lastChild.onclick = () => call('POST', '/api/devices/' + encodeURIComponent(e.device) + '?beating=' + !board.devices[e.device].beating);
    $('devices').append(card);
  }
  card.classList.toggle('online', e.online);
  card.classList.toggle('offline', !e.online);
  card.children[2].textContent = e.online ? 'online' : e.reason ? 'offline (' + e.reason + ')' : 'offline';
  card.children[4].textContent = e.beating ? 'stop heartbeats' : 'resume heartbeats';
}
function drawDevices() {
  const now = serverNow();
  for (const d of Object.values(board.devices)) {
    const card = document.querySelector('#devices [data-device="' + CSS.escape(d.device) + '"]');
    let text = d.beating ? 'heartbeating' : 'heartbeats stopped';
    if (d.lastBeatMs) {
      text += ', last ' + secs(now - d.lastBeatMs) + ' ago';
      if (d.online && !d.beating) text += '; TTL runs out in ' + secs(Math.max(0, d.lastBeatMs + d.ttlMs - now));
    }
    card.children[3].textContent = text;
  }
}

// ---- sessions and cache-aside ----
async function inc() { const r = await call('POST', '/api/counter'); $('count').textContent = r.count; }
async function add() { const r = await call('POST', '/api/cart?item=apple'); $('cart').textContent = JSON.stringify(r.cart); }
async function logout() { await call('POST', '/api/logout'); $('count').textContent = '0'; $('cart').textContent = '[]'; }
async function weather() { const r = await call('GET', '/api/weather/oslo'); $('forecast').textContent = r.forecast + ' (from ' + r.source + ')'; }
function drawSession() {
  const idle = Number($('idle').textContent) * 1000, since = Date.now() - lastRequest;
  $('session-idle').textContent = 'your last request: ' + secs(since) + ' ago; the session ends ' +
    (since < idle ? 'in ' + secs(idle - since) + ' to ' + secs(idle * 1.5 - since) : 'any moment now (at most ' + secs(Math.max(0, idle * 1.5 - since)) + ')');
}

// ---- FusionCache ----
async function setFusion(ev) {
  ev.preventDefault();
  const value = $('fusion-value').value, start = performance.now();
  try {
    let r = await call('POST', '/api/fusion?value=' + encodeURIComponent(value));
    while (r.b !== value && performance.now() - start < 5000) { await new Promise(f => setTimeout(f, 20)); r = await call('GET', '/api/fusion'); }
    showFusion(r);
    $('fusion-text').textContent = r.b === value ? 'node B had it ' + (performance.now() - start).toFixed(0) + ' ms after the click' : 'node B still has the old value!';
  } catch (e) { $('fusion-text').textContent = e.message; }
  return false;
}
function showFusion(r) { $('fusion-a').textContent = r.a ?? '(none)'; $('fusion-b').textContent = r.b ?? '(none)'; }

// ---- streams ----
const handlers = { key: onKey, 'key-ended': onKeyEnded, near: onNear, device: onDevice };
const stream = new EventSource('/board/events');
stream.onmessage = m => {
  const e = JSON.parse(m.data);
  if (e.type === 'hello') { board.offsetMs = e.serverMs - Date.now(); document.body.dataset.board = 'yes'; $('status').textContent = 'live'; return; }
  (handlers[e.type] || (() => {}))(e);
};
stream.onerror = () => { $('status').textContent = 'reconnecting…'; };

const events = new EventSource('/events');
events.onopen = () => document.body.dataset.live = 'yes';
events.onmessage = m => {
  const e = JSON.parse(m.data), li = el('li', 'event ' + e.kind + ' ' + e.reason);
  li.textContent = e.at + ' ' + e.kind + ' ' + e.key + '… ended: ' + e.reason;
  $('events').prepend(li);
  while ($('events').children.length > 8) $('events').lastChild.remove();
};

call('GET', '/api/session').then(r => { $('count').textContent = r.count; $('cart').textContent = JSON.stringify(r.cart); });
call('GET', '/api/fusion').then(showFusion);
setInterval(() => { drawKeys(); drawDevices(); drawSession(); }, 100);
