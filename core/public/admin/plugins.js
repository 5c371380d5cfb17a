// Plugins of one site: state (and why a plugin failed), an on/off switch
// (PUT /api/admin/sites/:site/plugins/:id { enabled }) and a settings form
// generated from the plugin's config schema, whose 400 errors appear next to
// the field they concern.
import { api, enc } from './api.js';
import { errorText, h, messageLine, replace, uid } from './dom.js';
import { schemaForm } from './schema-form.js';

export function pluginsView(site, root) {
  const failures = h('section', { class: 'sba-failures', 'aria-label': 'Plugin failures' });
  const list = h('div', { class: 'sba-plugin-list' });
  replace(root, failures, list);

  async function load() {
    let plugins;
    try {
      ({ plugins } = await api('GET', '/api/admin/plugins'));
    } catch (err) {
      replace(list, h('p', { class: 'sb-error', role: 'alert' }, errorText(err)));
      return;
    }
    const failed = plugins.filter((p) => p.state !== 'ready' || p.error || p.sites?.[site]?.error);
    replace(failures, failed.length === 0 ? [] : [
      h('h3', {}, 'Plugin failures'),
      h('ul', {}, failed.map((p) => h('li', { class: 'sb-error', dataset: { plugin: p.id } },
        h('strong', {}, p.name ?? p.id), ` (${p.state}): `, p.sites?.[site]?.error ?? p.error ?? 'not ready'))),
    ]);
    replace(list, plugins.map((p) => pluginCard(p)));
  }

  function pluginCard(plugin) {
    const siteView = plugin.sites?.[site] ?? { enabled: false, config: {} };
    const headingId = uid('sba-plugin');
    const stateText = h('span', { class: 'sba-plugin-state', dataset: { state: siteView.enabled ? 'on' : 'off' } }, siteView.enabled ? 'On' : 'Off');
    const message = messageLine('status');
    const toggleId = uid('sba-toggle');
    const toggle = h('input', {
      id: toggleId, type: 'checkbox', role: 'switch', checked: siteView.enabled, disabled: plugin.state !== 'ready',
      'aria-describedby': `${headingId}-state`,
      onchange: async () => {
        toggle.disabled = true;
        message.clear();
        const wanted = toggle.checked;
        try {
          const { plugin: updated } = await api('PUT', `/api/admin/sites/${enc(site)}/plugins/${enc(plugin.id)}`, { enabled: wanted });
          const on = updated.sites?.[site]?.enabled === true;
          toggle.checked = on;
          stateText.textContent = on ? 'On' : 'Off';
          stateText.dataset.state = on ? 'on' : 'off';
          message.ok(`${plugin.name ?? plugin.id} is ${on ? 'on' : 'off'} for ${site}.`);
        } catch (err) {
          toggle.checked = !wanted;
          message.error(errorText(err));
        } finally {
          toggle.disabled = plugin.state !== 'ready';
        }
      },
    });
    const card = h('article', { class: 'sba-card sba-plugin', 'aria-labelledby': headingId, dataset: { plugin: plugin.id } },
      h('header', { class: 'sba-plugin-head' },
        h('h3', { id: headingId }, plugin.name ?? plugin.id, ' ', h('small', {}, `${plugin.id} ${plugin.version ?? ''}`)),
        h('p', { id: `${headingId}-state`, class: 'sba-plugin-status' }, `State: ${plugin.state}`, ' · On this site: ', stateText)),
      plugin.error ? h('p', { class: 'sb-error' }, `Failed: ${plugin.error}`) : undefined,
      siteView.error ? h('p', { class: 'sb-error' }, `Failed on ${site}: ${siteView.error}`) : undefined,
      h('div', { class: 'sba-field sba-field--check' }, toggle, h('label', { for: toggleId }, `Enabled on ${site}`)),
      message.el,
      plugin.configSchema && Object.keys(plugin.configSchema.properties ?? {}).length ? settings(plugin, siteView) : undefined);
    return card;
  }

  function settings(plugin, siteView) {
    const form = schemaForm(plugin.configSchema, siteView.config ?? {});
    const message = messageLine('status');
    return h('details', { class: 'sba-settings' },
      h('summary', {}, 'Settings'),
      h('form', { novalidate: true, dataset: { plugin: plugin.id }, onsubmit: async (e) => {
        e.preventDefault();
        form.clearErrors();
        message.clear();
        try {
          await api('PUT', `/api/admin/sites/${enc(site)}/plugins/${enc(plugin.id)}`, { config: form.read() });
          message.ok('Settings saved.');
        } catch (err) {
          const placed = form.showErrors(err.details);
          message.error(placed ? `Not saved: correct the marked fields. (${err.code})` : errorText(err));
        }
      } }, form.el, message.el, h('button', { type: 'submit', class: 'sb-primary' }, 'Save settings')));
  }

  load();
  return { reload: load };
}
