// The client runtime. It gives the fragments' scripts one small API,
// `window.switchboard`, loads the scripts the fragments on this page name,
// and keeps the one WebSocket that carries every live event.
//
//   switchboard.site, .username          who is signed in, where
//   switchboard.on(pattern, fn)          fn(data, type) for events whose type is
//                                        `pattern`, or starts with it when it ends
//                                        in `.*` (`im.*`), or `*`; returns off()
//   switchboard.emit(type, data)         deliver an event inside the page (between fragments)
//   switchboard.send(type, data)         message to the server; resolves with the reply's data
//   switchboard.api(path, options)       fetch with the session cookie; JSON in and out;
//                                        throws ApiError { status, code, message }
//   switchboard.toast(text, options)     a short notice in the shell's notice area
//   switchboard.live                     the LiveChannel (diagnostics)
//
// Events the runtime itself emits: `client.connected` { reconnect, hello },
// `client.disconnected` { reason, delayMs }, and `client.resync` after a
// reconnect (events may have been missed: reload state). A fragment names
// its script with `data-client-script="/assets/plugins/<its id>/x.js"` and
// may name a stylesheet with `data-client-style`; the module runs on import
// and may default-export `start(switchboard)`.
import { LiveChannel, LiveError } from './live-channel.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const shell = document.querySelector('[data-wc-shell]');
const site = shell?.dataset.site ?? document.body.dataset.site ?? '';
const username = shell?.dataset.username ?? '';
const signInUrl = (reason) => `/client/${encodeURIComponent(site)}/sign-in${reason ? `?reason=${reason}` : ''}`;

const listeners = new Map();
let leaving = false;

function on(pattern, fn) {
  if (typeof pattern !== 'string' || typeof fn !== 'function') throw new TypeError('switchboard.on(pattern: string, fn: function)');
  if (!listeners.has(pattern)) listeners.set(pattern, new Set());
  listeners.get(pattern).add(fn);
  return () => listeners.get(pattern)?.delete(fn);
}

function dispatch(type, data) {
  const matching = [];
  for (const [pattern, fns] of listeners) {
    const hit = pattern === '*' || pattern === type || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1)));
    if (hit) matching.push(...fns);
  }
  for (const fn of matching) {
    try {
      const result = fn(data, type);
      if (result && typeof result.catch === 'function') result.catch((err) => reportListenerError(type, err));
    } catch (err) {
      reportListenerError(type, err);
    }
  }
}

// One fragment's bug must not stop the others from getting events.
function reportListenerError(type, err) {
  console.warn(`switchboard: a listener of ${type} failed:`, err);
}

function sessionEnded(reason) {
  if (leaving) return;
  leaving = true;
  live.stop();
  window.location.assign(signInUrl(reason === 'signed-out' ? 'signed-out' : 'expired'));
}

async function api(path, options = {}) {
  const init = { method: options.method ?? 'GET', credentials: 'same-origin', headers: { accept: 'application/json', ...(options.headers ?? {}) } };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(path, init);
  if (options.raw) return res;
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    if (res.status === 401) sessionEnded('expired');
    throw new ApiError(res.status, json?.code ?? `HTTP_${res.status}`, json?.message ?? `${init.method} ${path} answered ${res.status}`);
  }
  return json;
}

// --- shell UI: connection state, sign-out, notices ---------------------------------

const liveStatus = document.querySelector('[data-wc-live]');
const LABELS = { connecting: 'Connecting…', connected: 'Connected', 'signed-out': 'Signed out' };

function showStatus(status) {
  if (!liveStatus) return;
  liveStatus.dataset.wcLive = status.state;
  liveStatus.textContent = status.state === 'reconnecting'
    ? `Connection lost; reconnecting in ${Math.max(1, Math.round(status.delayMs / 1000))} s…`
    : LABELS[status.state] ?? status.state;
}

let toastArea = null;
function toast(text, options = {}) {
  if (!toastArea) {
    toastArea = document.createElement('div');
    toastArea.className = 'wc-toasts';
    toastArea.setAttribute('role', 'status');
    toastArea.setAttribute('aria-live', 'polite');
    (shell ?? document.body).append(toastArea);
  }
  const item = document.createElement('div');
  item.className = 'wc-toast';
  const label = document.createElement(options.onActivate ? 'button' : 'span');
  label.textContent = text;
  if (options.onActivate) {
    label.type = 'button';
    label.addEventListener('click', () => { item.remove(); options.onActivate(); });
  }
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'wc-toast__close';
  close.setAttribute('aria-label', 'Dismiss');
  close.textContent = '×';
  close.addEventListener('click', () => item.remove());
  item.append(label, close);
  toastArea.append(item);
  setTimeout(() => item.remove(), options.timeoutMs ?? 12_000);
  return item;
}

document.querySelector('[data-wc-sign-out]')?.addEventListener('click', async () => {
  leaving = true;
  live.stop();
  await fetch('/api/auth/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => {});
  window.location.assign(signInUrl('signed-out'));
});

// --- the live channel ----------------------------------------------------------------

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`;
const live = new LiveChannel(wsUrl, {
  onEvent: (type, data) => dispatch(type, data),
  onStatus: (status) => {
    showStatus(status);
    if (status.state === 'connected') {
      dispatch('client.connected', { reconnect: status.reconnect, hello: status.hello });
      if (status.reconnect) dispatch('client.resync', { hello: status.hello });
    } else if (status.state === 'reconnecting') {
      dispatch('client.disconnected', { reason: status.reason, delayMs: status.delayMs });
    }
  },
  onSessionEnded: (reason) => sessionEnded(reason),
});

const switchboard = Object.freeze({
  site,
  username,
  on,
  emit: (type, data) => dispatch(type, data),
  send: (type, data, timeoutMs) => live.send(type, data, timeoutMs),
  api,
  toast,
  live,
  ApiError,
  LiveError,
});
window.switchboard = switchboard;

// --- fragment scripts and styles --------------------------------------------------------

/** URLs the fragments name, kept only when they are the naming plugin's own assets. */
function assetsOf(attribute) {
  const urls = new Set();
  for (const el of document.querySelectorAll(`[${attribute}]`)) {
    const owner = el.closest('[data-plugin]')?.dataset.plugin;
    const url = el.getAttribute(attribute);
    if (owner && url.startsWith(`/assets/plugins/${owner}/`) && !url.includes('..')) urls.add(url);
    else console.warn(`switchboard: ignoring ${attribute}="${url}" outside its plugin's assets`);
  }
  return [...urls];
}

for (const href of assetsOf('data-client-style')) {
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  document.head.append(link);
}

const loaded = await Promise.allSettled(assetsOf('data-client-script').map(async (url) => {
  const mod = await import(url);
  if (typeof mod.default === 'function') await mod.default(switchboard);
  return url;
}));
for (const result of loaded) {
  if (result.status === 'rejected') console.warn('switchboard: a fragment script failed to start:', result.reason);
}
document.documentElement.dataset.clientReady = 'true';
live.start();
