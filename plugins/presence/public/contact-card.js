// The contact card: what I may see of a contact (state, note, location,
// devices, phone, e-mail as their access level for me allows), and what I
// decide about them: alerts (tag), the level they get for me, removal, and
// "Send a message" when the IM plugin is on this page.
import { el, labelOf, paintIcon, showError } from './states.js';

export class ContactCard {
  #address = null;
  #opener = null;

  constructor(card, { api, sb, me }) {
    this.card = card;
    this.api = api;
    this.sb = sb;
    this.me = me;
    this.contacts = undefined;
    card.querySelector('[data-presence-card-close]').addEventListener('click', () => this.hide());
    card.addEventListener('keydown', (event) => { if (event.key === 'Escape') this.hide(); });
    card.querySelector('[data-presence-card-message]').addEventListener('click', () => {
      const username = this.#localUser();
      if (username) sb.emit('client.start-conversation', { username, displayName: card.querySelector('.presence-name').textContent });
    });
    card.querySelector('[data-presence-card-tag]').addEventListener('change', (event) => void this.#tag(event.currentTarget.checked));
    card.querySelector('[data-presence-card-group]').addEventListener('change', (event) => void this.#move(event.currentTarget.value));
    card.querySelector('[data-presence-card-level]').addEventListener('change', (event) => void this.#level(event.currentTarget.value));
    card.querySelector('[data-presence-card-remove]').addEventListener('click', () => void this.#remove());
  }

  get address() {
    return this.#address;
  }

  async show(contact, opener) {
    this.#address = contact.address;
    this.#opener = opener ?? null;
    const card = this.card;
    card.dataset.contact = contact.address;
    card.querySelector('.presence-name').textContent = contact.displayName || contact.address;
    this.#paint(contact.presence ?? (contact.kind === 'phone' ? null : { state: 'unknown' }), {});
    const local = this.#localUser();
    card.querySelector('[data-presence-card-message]').hidden = !(local && document.querySelector('[data-plugin="im"]'));
    const tag = card.querySelector('[data-presence-card-tag]');
    tag.checked = Boolean(contact.tagged);
    tag.closest('label').hidden = contact.id === undefined;
    const group = card.querySelector('[data-presence-card-group]');
    const groups = this.contacts?.groups ?? [];
    group.replaceChildren(new Option('(no group)', ''), ...groups.map((g) => new Option(g.name, String(g.id))));
    group.value = contact.groupId ? String(contact.groupId) : '';
    group.closest('label').hidden = contact.id === undefined || groups.length === 0;
    const level = card.querySelector('[data-presence-card-level]');
    level.closest('label').hidden = contact.kind !== 'user';
    if (contact.level) level.value = contact.level;
    card.querySelector('[data-presence-card-remove]').hidden = contact.id === undefined;
    showError(card, null);
    card.hidden = false;
    card.focus();
    if (local) {
      try {
        const user = await this.api(`/users/${encodeURIComponent(local)}`);
        if (this.#address !== contact.address) return;
        card.querySelector('.presence-name').textContent = user.displayName || contact.displayName || contact.address;
        this.#paint(user.presence, user);
      } catch (err) {
        if (this.#address === contact.address) showError(card, err);
      }
    }
  }

  hide() {
    this.card.hidden = true;
    this.#address = null;
    this.#opener?.focus?.();
  }

  update(address, presence) {
    if (address === this.#address && presence) this.#paint(presence, undefined);
  }

  /** The username when the contact is a user of my own site (the card's and IM's APIs are per site). */
  #localUser() {
    const a = this.#address;
    if (!a || a.startsWith('tel:')) return undefined;
    const at = a.lastIndexOf('@');
    return a.slice(at + 1) === this.sb.site ? a.slice(0, at) : undefined;
  }

  #paint(presence, details) {
    const card = this.card;
    paintIcon(card.querySelector('.presence-icon'), presence ?? { state: 'unknown' });
    card.dataset.state = presence?.state ?? 'unknown';
    card.querySelector('.presence-state').textContent = presence ? labelOf(presence) : 'Phone number';
    this.#field('note', presence?.note);
    this.#field('location', presence?.location);
    if (details) {
      this.#field('phone', details.phone);
      this.#field('email', details.email);
    }
    card.querySelector('.presence-urgent').hidden = !presence?.urgentInterruptionsOnly;
    const devices = card.querySelector('.presence-devices');
    devices.replaceChildren(...(presence?.devices ?? []).map((d) => el('li', {
      text: `${d.mobile ? 'Mobile' : 'Computer or phone'}${d.im === false ? ' (cannot receive messages)' : ''}`,
    })));
  }

  #field(name, value) {
    const dd = this.card.querySelector(`.presence-${name}`);
    dd.textContent = value ?? '';
    dd.hidden = !value;
    this.card.querySelector(`.presence-${name}-label`).hidden = !value;
  }

  async #tag(tagged) {
    const contact = this.contacts?.get(this.#address);
    if (!contact) return;
    try {
      await this.api(`/contacts/${contact.id}`, { method: 'PATCH', body: { tagged } });
      showError(this.card, null);
      await this.contacts.refresh();
    } catch (err) {
      showError(this.card, err);
    }
  }

  async #move(groupId) {
    const contact = this.contacts?.get(this.#address);
    if (!contact) return;
    try {
      await this.api(`/contacts/${contact.id}`, { method: 'PATCH', body: { groupId: groupId ? Number(groupId) : null } });
      showError(this.card, null);
      await this.contacts.refresh();
    } catch (err) {
      showError(this.card, err);
    }
  }

  async #level(level) {
    try {
      await this.api(`/access/${encodeURIComponent(this.#address)}`, { method: 'PUT', body: { level } });
      showError(this.card, null);
      await this.contacts?.refresh();
    } catch (err) {
      showError(this.card, err);
    }
  }

  async #remove() {
    const contact = this.contacts?.get(this.#address);
    if (!contact) return;
    try {
      await this.api(`/contacts/${contact.id}`, { method: 'DELETE' });
      this.hide();
      await this.contacts.refresh();
    } catch (err) {
      showError(this.card, err);
    }
  }
}
