// The sites an admin may manage (a site-admin sees only theirs: the server
// filters GET /api/admin/sites) and a site's theme and branding.
import { api, enc } from './api.js';
import { errorText, h, messageLine, replace, uid } from './dom.js';
import { schemaForm } from './schema-form.js';

export function sitesView(root, sites) {
  replace(root,
    h('h2', {}, 'Sites'),
    sites.length === 0 ? h('p', {}, 'No sites yet.') : h('div', { class: 'sb-table-wrap' }, h('table', { class: 'sba-sites' },
      h('caption', { class: 'sb-visually-hidden' }, 'Sites'),
      h('thead', {}, h('tr', {}, ['Domain', 'Name', 'Theme', 'Users', 'Source'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, sites.map((s) => h('tr', { dataset: { site: s.domain } },
        h('th', { scope: 'row' }, h('a', { href: `#/sites/${enc(s.domain)}/users` }, s.domain)),
        h('td', {}, s.name ?? ''),
        themeCell(s.domain),
        h('td', {}, String(s.users)),
        h('td', {}, s.fromConfig ? 'config file' : 'admin API')))))));
}

/** The theme a site is drawn with (stored, config or site record), filled in when known. */
function themeCell(site) {
  const cell = h('td', { dataset: { theme: '' } }, '…');
  api('GET', `/api/admin/sites/${enc(site)}/branding`).then(({ appearance }) => {
    cell.textContent = appearance.theme;
    cell.dataset.theme = appearance.theme;
  }, (err) => {
    cell.textContent = errorText(err);
  });
  return cell;
}

const COLOR = { type: 'string', maxLength: 60 };
function brandingSchema(themes) {
  return {
    type: 'object',
    properties: {
      theme: { type: 'string', enum: themes.map((t) => t.name), title: 'Theme' },
      branding: {
        type: 'object',
        title: 'Branding',
        properties: {
          logo: { type: 'string', maxLength: 2048, title: 'Logo (same-origin path or https URL)' },
          signInText: { type: 'string', maxLength: 2000, title: 'Sign-in page text' },
          helpUrl: { type: 'string', maxLength: 2048, title: 'Help link' },
          colors: {
            type: 'object',
            title: 'Colours (CSS colours: #hex, rgb(), hsl() or a name)',
            properties: Object.fromEntries(['primary', 'primaryText', 'background', 'surface', 'text', 'muted', 'border', 'link', 'focus'].map((k) => [k, { ...COLOR, title: k }])),
          },
          menu: { type: 'array', items: { type: 'object' }, title: 'Menu entries (JSON: [{"label": "…", "url": "…"}])' },
        },
      },
    },
  };
}

export function brandingView(site, root) {
  const message = messageLine('status');
  const holder = h('div');
  const headingId = uid('sba-branding');
  replace(root, h('section', { class: 'sba-card', 'aria-labelledby': headingId }, h('h3', { id: headingId }, `Theme and branding of ${site}`), holder, message.el));

  async function load() {
    try {
      const { appearance, themes } = await api('GET', `/api/admin/sites/${enc(site)}/branding`);
      const form = schemaForm(brandingSchema(themes), { theme: appearance.theme, branding: appearance.branding });
      replace(holder, h('p', { class: 'sba-hint' }, `Theme from: ${appearance.themeSource}; branding from: ${appearance.brandingSource}.`),
        h('form', { novalidate: true, onsubmit: async (e) => {
          e.preventDefault();
          form.clearErrors();
          message.clear();
          try {
            const value = form.read();
            await api('PUT', `/api/admin/sites/${enc(site)}/branding`, { theme: value.theme ?? null, branding: value.branding ?? {} });
            message.ok('Saved; pages use it from their next load.');
          } catch (err) {
            const placed = form.showErrors(err.details);
            message.error(placed ? `Not saved: correct the marked fields. (${err.code})` : errorText(err));
          }
        } }, form.el, h('div', { class: 'sba-buttons' },
          h('button', { type: 'submit', class: 'sb-primary' }, 'Save'),
          h('button', { type: 'button', onclick: async () => {
            try {
              await api('DELETE', `/api/admin/sites/${enc(site)}/branding`);
              message.ok('Back to the configured theme and branding.');
              await load();
            } catch (err) {
              message.error(errorText(err));
            }
          } }, 'Reset to config'))));
    } catch (err) {
      replace(holder, h('p', { class: 'sb-error', role: 'alert' }, errorText(err)));
    }
  }
  load();
}
