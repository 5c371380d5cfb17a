// The admin console: sign-in, then sites, users, plugins, registrations and
// branding of the sites the signed-in admin may manage. Plain ES modules,
// no framework, nothing loaded from elsewhere; the page has no inline script.
// The server enforces every permission; the console just never offers a
// site-admin another site.
import { api, ApiError, enc } from './api.js';
import { errorText, h, messageLine, replace, uid } from './dom.js';
import { pluginsView } from './plugins.js';
import { registrationsView } from './registrations.js';
import { brandingView, sitesView } from './sites.js';
import { usersView } from './users.js';

const root = document.getElementById('sb-admin');
const state = { me: undefined, sites: [] };
const TABS = [['users', 'Users'], ['plugins', 'Plugins'], ['registrations', 'Registrations'], ['branding', 'Branding']];

async function start() {
  if (root.dataset.signedIn === 'false') {
    root.dataset.signedIn = '';
    return showSignIn();
  }
  try {
    state.me = await api('GET', '/api/me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showSignIn();
    return fatal(err);
  }
  if (state.me.role !== 'admin' && state.me.role !== 'site-admin') return notAdmin();
  // A site-admin sees the console in their site's theme and branding.
  if (state.me.role === 'site-admin' && new URLSearchParams(window.location.search).get('site') !== state.me.site) {
    window.location.replace(`/admin?site=${enc(state.me.site)}${window.location.hash}`);
    return undefined;
  }
  try {
    ({ sites: state.sites } = await api('GET', '/api/admin/sites'));
  } catch (err) {
    return fatal(err);
  }
  if (state.me.role === 'site-admin') state.sites = state.sites.filter((s) => s.domain === state.me.site);
  root.dataset.state = 'console';
  // The site's sign-in text belongs to the sign-in form only.
  for (const el of document.querySelectorAll('.sb-sign-in-text')) el.hidden = true;
  root.dataset.role = state.me.role;
  window.addEventListener('hashchange', route);
  route();
}

function showSignIn(problem) {
  root.dataset.state = 'sign-in';
  const error = messageLine('alert');
  const ids = { user: uid('sba-user'), site: uid('sba-site'), pass: uid('sba-pass') };
  const form = h('form', { class: 'sba-signin sba-card', novalidate: true, 'aria-labelledby': 'sba-signin-title', onsubmit: async (e) => {
    e.preventDefault();
    error.clear();
    const data = new FormData(form);
    const body = { username: String(data.get('username') ?? '').trim(), password: String(data.get('password') ?? '') };
    const site = String(data.get('site') ?? '').trim();
    if (site) body.site = site;
    if (!body.username || !body.password) {
      error.error('Enter your username and password.');
      return;
    }
    try {
      await api('POST', '/api/auth/login', body);
      window.removeEventListener('hashchange', route);
      await start();
    } catch (err) {
      error.error(errorText(err));
      form.querySelector('input[name="password"]').value = '';
      form.querySelector('input[name="password"]').focus();
    }
  } },
  h('h1', { id: 'sba-signin-title' }, 'Sign in to the admin console'),
  h('label', { for: ids.user }, 'Username'), h('input', { id: ids.user, name: 'username', autocomplete: 'username', required: true }),
  h('label', { for: ids.site }, 'Site ', h('small', {}, '(leave empty for the host admin)')), h('input', { id: ids.site, name: 'site', autocomplete: 'organization' }),
  h('label', { for: ids.pass }, 'Password'), h('input', { id: ids.pass, name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
  error.el,
  h('button', { type: 'submit', class: 'sb-primary' }, 'Sign in'));
  replace(root, form);
  if (problem) error.error(problem);
  form.querySelector('input').focus();
}

function notAdmin() {
  root.dataset.state = 'not-admin';
  replace(root, h('div', { class: 'sba-card', role: 'alert' },
    h('h1', {}, 'Not an administrator'),
    h('p', {}, `You are signed in as ${state.me.username}, who may not manage sites here.`),
    signOutButton()));
}

function fatal(err) {
  root.dataset.state = 'error';
  replace(root, h('p', { class: 'sb-error', role: 'alert' }, errorText(err)));
}

function signOutButton() {
  return h('button', { type: 'button', class: 'sba-signout', onclick: async () => {
    await api('POST', '/api/auth/logout').catch(() => undefined);
    window.removeEventListener('hashchange', route);
    window.location.hash = '';
    showSignIn();
  } }, 'Sign out');
}

/** #/sites, #/sites/<site>/<tab>[/<user>] */
function route() {
  const parts = window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const home = state.me.role === 'site-admin' ? `#/sites/${enc(state.me.site)}/users` : '#/sites';
  if (parts[0] !== 'sites' || (parts.length === 1 && state.me.role === 'site-admin')) {
    window.location.replace(home);
    if (parts.length === 0) return; // hashchange follows
  }
  const [, site, tab = 'users', extra] = parts;
  const content = h('section', { id: 'sba-content', class: 'sba-content', tabindex: '-1', 'aria-labelledby': 'sba-content-title' });
  replace(root, shell(site), content);
  if (!site) {
    sitesView(content, state.sites);
    return;
  }
  if (!state.sites.some((s) => s.domain === site.toLowerCase())) {
    // Never ask the server about a site this admin does not manage.
    replace(content, h('h2', { id: 'sba-content-title' }, 'Not available'), h('p', { class: 'sb-error', role: 'alert' }, `You do not manage the site ${site}.`));
    return;
  }
  const title = h('h2', { id: 'sba-content-title' }, site);
  const tabs = h('nav', { class: 'sba-tabs', 'aria-label': `Sections of ${site}` }, h('ul', {}, TABS.map(([id, label]) =>
    h('li', {}, h('a', { href: `#/sites/${enc(site)}/${id}`, 'aria-current': id === tab ? 'page' : undefined }, label)))));
  const body = h('div', { class: 'sba-tab-body' });
  replace(content, title, tabs, body);
  if (tab === 'plugins') pluginsView(site, body);
  else if (tab === 'registrations') registrationsView(site, body, extra);
  else if (tab === 'branding') brandingView(site, body);
  else usersView(site, body);
}

function shell(current) {
  const me = state.me;
  return h('div', { class: 'sba-shell' },
    h('div', { class: 'sba-bar' },
      h('p', { class: 'sba-who' }, 'Signed in as ', h('strong', {}, me.username), me.site ? ` (${me.role} of ${me.site})` : ` (${me.role})`),
      signOutButton()),
    h('nav', { class: 'sba-sites-nav', 'aria-label': 'Sites' },
      h('ul', {},
        me.role === 'admin' ? h('li', {}, h('a', { href: '#/sites', 'aria-current': current ? undefined : 'page' }, 'All sites')) : undefined,
        state.sites.map((s) => h('li', {}, h('a', { href: `#/sites/${enc(s.domain)}/users`, 'aria-current': s.domain === current ? 'page' : undefined, dataset: { site: s.domain } }, s.name ? `${s.name} (${s.domain})` : s.domain))))));
}

start().catch(fatal);
