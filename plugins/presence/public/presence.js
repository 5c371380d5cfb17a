// Presence in the web client: my status (state, note, location), the contact
// list with groups and live state icons, the contact card, tagged-contact
// alerts and idle reports. State comes from the HTTP API
// (/api/plugins/presence/sites/:site/…) and changes arrive live as
// `presence.changed` / `presence.alert` over the client's one WebSocket.
import { labelOf, setStates } from './states.js';
import { ContactList } from './contact-list.js';
import { ContactCard } from './contact-card.js';
import { StatusPicker } from './status-picker.js';
import { IdleReporter } from './idle.js';

export default async function start(sb) {
  const root = document.querySelector('[data-presence]');
  if (!root) return;
  const base = `/api/plugins/presence/sites/${encodeURIComponent(sb.site)}`;
  const api = (path, options) => sb.api(`${base}${path}`, options);

  const pickerEl = document.querySelector('[data-presence="status-picker"]');
  const listEl = document.querySelector('[data-presence="contact-list"]');
  const cardEl = document.querySelector('[data-presence="contact-card"]');
  const me = `${sb.username}@${sb.site}`;

  const card = cardEl ? new ContactCard(cardEl, { api, sb, me }) : undefined;
  const list = listEl ? new ContactList(listEl, { api, sb, onOpen: (contact, opener) => card?.show(contact, opener) }) : undefined;
  const picker = pickerEl ? new StatusPicker(pickerEl, { api, sb }) : undefined;
  if (card && list) card.contacts = list;

  async function loadAll() {
    try {
      const states = await api('/states');
      setStates(states);
      picker?.setStates(states);
    } catch (err) {
      console.warn('presence: states', err);
    }
    await Promise.all([picker?.load(), list?.load()]);
  }

  sb.on('presence.changed', (data) => {
    if (!data || typeof data.contact !== 'string' || !data.presence) return;
    if (data.contact === me) picker?.showMine(data.presence);
    list?.update(data.contact, data.presence);
    card?.update(data.contact, data.presence);
  });

  sb.on('presence.alert', (alert) => {
    if (!alert || typeof alert.contact !== 'string') return;
    const name = list?.nameOf(alert.contact) ?? alert.contact;
    const state = labelOf(alert.presence ?? {});
    sb.toast(`${name} is now ${state}${alert.presence?.note ? ` — ${alert.presence.note}` : ''}`, {
      onActivate: () => list?.focusContact(alert.contact),
    });
    list?.update(alert.contact, alert.presence);
  });

  // The first connection and every reconnect: anything may have changed meanwhile.
  sb.on('client.connected', () => loadAll());
  await loadAll();
  new IdleReporter(sb, api).start();
  root.dataset.presenceReady = 'true';
}
