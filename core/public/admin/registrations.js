// Live SIP registrations of a site's users (the registrar's bindings),
// refreshed every few seconds while the view is open.
import { api, enc } from './api.js';
import { errorText, h, replace } from './dom.js';

export function registrationsView(site, root, onlyUser) {
  const table = h('div', { class: 'sb-table-wrap', 'aria-live': 'polite' });
  const stamp = h('p', { class: 'sba-hint' });
  let timer;

  async function load() {
    try {
      const users = onlyUser
        ? [await api('GET', `/api/admin/sites/${enc(site)}/users/${enc(onlyUser)}/registrations`)]
        : (await api('GET', `/api/admin/sites/${enc(site)}/registrations`)).users;
      replace(table, h('table', { class: 'sba-registrations' },
        h('caption', { class: 'sb-visually-hidden' }, `Registrations on ${site}`),
        h('thead', {}, h('tr', {}, ['User', 'Contact', 'Transport', 'From', 'User agent', 'Expires in'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, users.flatMap((u) => (u.endpoints.length === 0
          ? [h('tr', { dataset: { username: u.username } }, h('th', { scope: 'row' }, u.username), h('td', { colspan: 5 }, 'not registered'))]
          : u.endpoints.map((e) => h('tr', { dataset: { username: u.username } },
            h('th', { scope: 'row' }, u.username), h('td', {}, e.contact), h('td', {}, e.transport), h('td', {}, e.source),
            h('td', {}, e.userAgent), h('td', {}, `${e.expiresIn} s`))))))));
      stamp.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      replace(table, h('p', { class: 'sb-error', role: 'alert' }, errorText(err)));
    }
  }

  replace(root,
    h('div', { class: 'sba-toolbar' }, onlyUser ? h('a', { href: `#/sites/${enc(site)}/registrations` }, 'All users') : undefined,
      h('button', { type: 'button', onclick: load }, 'Refresh')),
    stamp, table);
  load();
  timer = setInterval(() => { if (root.isConnected) load(); else clearInterval(timer); }, 5000);
  return { stop: () => clearInterval(timer) };
}
