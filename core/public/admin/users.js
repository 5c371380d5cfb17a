// Users of one site: list and search, create, edit, reset password, and CSV
// import with a progress bar and a per-line report (a background job the
// console polls: POST/GET /api/admin/sites/:site/users/import-jobs).
import { api, enc } from './api.js';
import { errorText, h, messageLine, replace, uid } from './dom.js';
import { schemaForm } from './schema-form.js';

const NAME = { type: 'string', maxLength: 64, title: 'Username' };
const FIELDS = {
  displayName: { type: 'string', maxLength: 255, title: 'Display name' },
  email: { type: 'string', format: 'email', maxLength: 254, title: 'E-mail' },
  phone: { type: 'string', maxLength: 40, title: 'Phone' },
  aliases: { type: 'array', items: { type: 'string' }, title: 'Aliases' },
  groups: { type: 'array', items: { type: 'string' }, title: 'Groups' },
  role: { type: 'string', enum: ['user', 'site-admin'], title: 'Role' },
  enabled: { type: 'boolean', title: 'Enabled', default: true },
};
const CREATE_SCHEMA = {
  type: 'object',
  required: ['username', 'password'],
  properties: { username: NAME, password: { type: 'string', maxLength: 256, title: 'Password' }, ...FIELDS },
};
const EDIT_SCHEMA = { type: 'object', properties: FIELDS };
const PASSWORD_SCHEMA = { type: 'object', required: ['password'], properties: { password: { type: 'string', maxLength: 256, title: 'New password' } } };

export function usersView(site, root) {
  const list = h('div', { class: 'sba-table-wrap sb-table-wrap' });
  const panel = h('div', { class: 'sba-panel', 'aria-live': 'polite' });
  const status = messageLine('status');
  const searchId = uid('sba-search');
  const search = h('input', { id: searchId, type: 'search', name: 'q', maxlength: 100 });
  const searchForm = h('form', { class: 'sba-inline-form', role: 'search', onsubmit: (e) => { e.preventDefault(); load(); } },
    h('label', { for: searchId }, 'Search users'), search, h('button', { type: 'submit' }, 'Search'));

  async function load() {
    try {
      const q = search.value.trim();
      const { users } = await api('GET', `/api/admin/sites/${enc(site)}/users${q ? `?q=${enc(q)}` : ''}`);
      replace(list, usersTable(users));
    } catch (err) {
      replace(list, h('p', { class: 'sb-error', role: 'alert' }, errorText(err)));
    }
  }

  function usersTable(users) {
    if (users.length === 0) return h('p', {}, 'No users.');
    return h('table', { class: 'sba-users' },
      h('caption', { class: 'sb-visually-hidden' }, `Users of ${site}`),
      h('thead', {}, h('tr', {}, ['Username', 'Display name', 'Role', 'Enabled', 'Groups', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, users.map((u) => h('tr', { dataset: { username: u.username } },
        h('th', { scope: 'row' }, u.username),
        h('td', {}, u.displayName),
        h('td', {}, u.role),
        h('td', {}, u.enabled === false ? 'no' : 'yes'),
        h('td', {}, (u.groups ?? []).join(', ')),
        h('td', { class: 'sba-actions' },
          h('button', { type: 'button', onclick: () => editPanel(u) }, 'Edit', h('span', { class: 'sb-visually-hidden' }, ` ${u.username}`)),
          h('button', { type: 'button', onclick: () => passwordPanel(u) }, 'Reset password', h('span', { class: 'sb-visually-hidden' }, ` of ${u.username}`)),
          h('a', { href: `#/sites/${enc(site)}/registrations/${enc(u.username)}` }, 'Registrations'))))));
  }

  function formPanel(title, schema, value, submitLabel, send, options = {}) {
    const form = schemaForm(schema, value, options);
    const message = messageLine('status');
    const headingId = uid('sba-heading');
    const el = h('form', { class: 'sba-card', 'aria-labelledby': headingId, novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      form.clearErrors();
      message.clear();
      try {
        await send(form.read());
        message.ok(`${submitLabel}: done.`);
        await load();
      } catch (err) {
        const placed = form.showErrors(err.details);
        message.error(placed ? `Please correct the marked fields. ${errorText(err)}` : errorText(err));
      }
    } },
    h('h3', { id: headingId }, title), form.el, message.el,
    h('div', { class: 'sba-buttons' }, h('button', { type: 'submit', class: 'sb-primary' }, submitLabel), h('button', { type: 'button', onclick: () => panel.replaceChildren() }, 'Close')));
    replace(panel, el);
    el.querySelector('input, select, textarea')?.focus();
    return el;
  }

  function createPanel() {
    formPanel('Add a user', CREATE_SCHEMA, { enabled: true }, 'Create user', (body) => api('POST', `/api/admin/sites/${enc(site)}/users`, body));
  }

  function editPanel(user) {
    const value = { displayName: user.displayName, email: user.email, phone: user.phone, aliases: user.aliases, groups: user.groups, role: user.role, enabled: user.enabled !== false };
    formPanel(`Edit ${user.username}`, EDIT_SCHEMA, value, 'Save changes', (body) => {
      // Cleared optional fields become null so the server clears them.
      for (const key of ['email', 'phone']) if (body[key] === undefined && user[key]) body[key] = null;
      return api('PATCH', `/api/admin/sites/${enc(site)}/users/${enc(user.username)}`, body);
    });
  }

  function passwordPanel(user) {
    formPanel(`Reset the password of ${user.username}`, PASSWORD_SCHEMA, {}, 'Set password',
      (body) => api('POST', `/api/admin/sites/${enc(site)}/users/${enc(user.username)}/password`, body));
  }

  replace(root,
    h('div', { class: 'sba-toolbar' }, searchForm,
      h('button', { type: 'button', class: 'sb-primary', onclick: createPanel }, 'Add user')),
    status.el, panel, importSection(site, load), list);
  load();
  return { reload: load };
}

function importSection(site, onDone) {
  const fileId = uid('sba-csv');
  const file = h('input', { id: fileId, type: 'file', name: 'csv', accept: '.csv,text/csv' });
  const progress = h('progress', { max: 1, value: 0, 'aria-describedby': `${fileId}-progress-text` });
  const progressText = h('p', { id: `${fileId}-progress-text`, class: 'sba-progress-text', role: 'status', 'aria-live': 'polite' });
  const progressBox = h('div', { class: 'sba-progress', hidden: true }, h('label', {}, 'Import progress', progress), progressText);
  const report = h('div', { class: 'sba-import-report sb-table-wrap' });
  const message = messageLine('alert');
  const button = h('button', { type: 'submit', class: 'sb-primary' }, 'Import');

  async function run(e) {
    e.preventDefault();
    message.clear();
    report.replaceChildren();
    const chosen = file.files?.[0];
    if (!chosen) {
      message.error('Choose a CSV file first.');
      return;
    }
    button.disabled = true;
    try {
      const text = await chosen.text();
      const { job } = await api('POST', `/api/admin/sites/${enc(site)}/users/import-jobs`, text, { type: 'text/csv' });
      progressBox.hidden = false;
      progress.max = Math.max(job.total, 1);
      const rows = h('tbody');
      replace(report, h('table', { class: 'sba-import-lines' },
        h('caption', {}, 'Import report, line by line'),
        h('thead', {}, h('tr', {}, ['Line', 'Result', 'Field', 'Reason'].map((c) => h('th', { scope: 'col' }, c)))), rows));
      let seen = 0;
      let current = job;
      for (;;) {
        for (const line of current.lines) {
          rows.append(h('tr', { class: line.ok ? 'sba-line-ok' : 'sba-line-failed', dataset: { line: line.line } },
            h('td', {}, String(line.line)),
            h('td', {}, line.ok ? `created ${line.username ?? ''}`.trim() : 'failed'),
            h('td', {}, line.field ?? ''),
            h('td', {}, line.ok ? '' : `${line.reason ?? ''} (${line.code ?? ''})`)));
        }
        seen += current.lines.length;
        progress.value = current.done;
        progress.max = Math.max(current.total, 1);
        progressText.textContent = `${current.done} of ${current.total} lines: ${current.created} created, ${current.failed} failed`;
        progressBox.dataset.done = String(current.done);
        if (current.state !== 'running') break;
        await new Promise((r) => setTimeout(r, 250));
        ({ job: current } = await api('GET', `/api/admin/sites/${enc(site)}/users/import-jobs/${enc(job.id)}?from=${seen}`));
      }
      progressBox.dataset.state = current.state;
      if (current.state === 'failed') message.error(`The import stopped: ${current.error?.message ?? ''} (${current.error?.code ?? ''})`);
      else progressText.textContent = `Finished: ${current.total} lines, ${current.created} created, ${current.failed} failed.`;
      await onDone();
    } catch (err) {
      message.error(errorText(err));
    } finally {
      button.disabled = false;
    }
  }

  return h('section', { class: 'sba-card', 'aria-labelledby': `${fileId}-title` },
    h('h3', { id: `${fileId}-title` }, 'Import users from CSV'),
    h('p', { class: 'sba-hint' }, 'Header line required. Columns: username, password, displayName, aliases, phone, email, groups, role, enabled; lists separated by ";".'),
    h('form', { onsubmit: run }, h('label', { for: fileId }, 'CSV file'), file, button),
    message.el, progressBox, report);
}
