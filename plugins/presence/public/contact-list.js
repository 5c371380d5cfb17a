// The contact list: groups in their order, then ungrouped contacts; each
// contact a button (name, state icon and words, note) that opens the card.
// Up/Down/Home/End move between contacts. Live changes repaint one row.
import { el, labelOf, paintIcon, showError } from './states.js';

export class ContactList {
  /** address → { contact, row } */
  #rows = new Map();
  #groups = [];

  constructor(section, { api, sb, onOpen }) {
    this.section = section;
    this.api = api;
    this.sb = sb;
    this.onOpen = onOpen;
    this.container = section.querySelector('[data-presence-groups]');
    this.container.addEventListener('keydown', (event) => this.#keys(event));
    section.querySelector('[data-presence-add-contact]')?.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#addContact(event.currentTarget);
    });
    section.querySelector('[data-presence-add-distribution]')?.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#addDistribution(event.currentTarget);
    });
    section.querySelector('[data-presence-add-group]')?.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#addGroup(event.currentTarget);
    });
  }

  async load() {
    try {
      const [{ groups, contacts }, distribution] = await Promise.all([
        this.api('/contacts'),
        this.api('/distribution-groups').catch(() => ({ groups: [] })),
      ]);
      this.render(groups, contacts);
      this.#distribution(distribution.groups ?? []);
      showError(this.section, null);
    } catch (err) {
      showError(this.section, err);
    }
  }

  /** The site's distribution groups, offered for adding their members at once (hidden when the site has none). */
  #distribution(groups) {
    const form = this.section.querySelector('[data-presence-add-distribution]');
    if (!form) return;
    const select = form.querySelector('[data-presence-distribution-select]');
    const keep = select.value;
    select.replaceChildren(...groups.map((g) => new Option(g.name, g.id)));
    if (groups.some((g) => g.id === keep)) select.value = keep;
    form.hidden = groups.length === 0;
  }

  /** Contacts by address (the card uses it for tag and removal). */
  get(address) {
    return this.#rows.get(address)?.contact;
  }

  get groups() {
    return this.#groups;
  }

  nameOf(address) {
    return this.#rows.get(address)?.contact.displayName || undefined;
  }

  focusContact(address) {
    this.#rows.get(address)?.row.querySelector('button')?.focus();
  }

  render(groups, contacts) {
    this.#groups = [...groups].sort((a, b) => a.position - b.position || a.name.localeCompare(b.name));
    const focused = document.activeElement?.closest?.('[data-contact]')?.dataset.contact;
    this.#rows.clear();
    const sections = [];
    const byGroup = new Map([[null, []]]);
    for (const g of this.#groups) byGroup.set(g.id, []);
    for (const c of contacts) (byGroup.get(c.groupId) ?? byGroup.get(null)).push(c);
    for (const g of this.#groups) sections.push(this.#section(g.name, `presence-group-${g.id}`, byGroup.get(g.id)));
    const loose = byGroup.get(null);
    if (loose.length) sections.push(this.#section(this.#groups.length ? 'Other contacts' : 'All contacts', 'presence-group-none', loose));
    this.container.replaceChildren(...sections);
    this.section.querySelector('[data-presence-empty]').hidden = contacts.length > 0;
    for (const select of this.section.querySelectorAll('[data-presence-group-select]')) {
      const keep = select.value;
      select.replaceChildren(new Option('(no group)', ''), ...this.#groups.map((g) => new Option(g.name, String(g.id))));
      select.value = this.#groups.some((g) => String(g.id) === keep) ? keep : '';
    }
    if (focused) this.focusContact(focused);
  }

  #section(name, id, contacts) {
    const list = el('ul', { class: 'presence-group__contacts', 'aria-labelledby': id });
    for (const contact of contacts) list.append(this.#row(contact));
    return el('section', { class: 'presence-group' },
      el('h3', { id, class: 'presence-group__name', text: `${name} (${contacts.length})` }),
      list);
  }

  #row(contact) {
    const icon = el('span', { class: 'presence-icon', 'aria-hidden': 'true' });
    const name = el('span', { class: 'presence-name', text: contact.displayName || contact.address });
    const state = el('span', { class: 'presence-state' });
    const note = el('span', { class: 'presence-note' });
    const tag = el('span', { class: 'presence-tagged', title: 'Alerts on', 'aria-hidden': 'true', text: contact.tagged ? '★' : '' });
    const button = el('button', { type: 'button', class: 'presence-contact-item__open', 'data-presence-open': true }, icon, name, tag, state, note);
    const row = el('li', { class: 'presence-contact-item', 'data-contact': contact.address, 'data-kind': contact.kind }, button);
    button.addEventListener('click', () => this.onOpen(this.#rows.get(contact.address)?.contact ?? contact, button));
    this.#rows.set(contact.address, { contact, row });
    this.#paint(contact.address);
    return row;
  }

  /** A live change for `address`. */
  update(address, presence) {
    const entry = this.#rows.get(address);
    if (!entry || !presence) return;
    entry.contact = { ...entry.contact, presence };
    this.#paint(address);
  }

  #paint(address) {
    const { contact, row } = this.#rows.get(address);
    const presence = contact.kind === 'phone' ? null : (contact.presence ?? { state: 'unknown' });
    const words = presence ? labelOf(presence) : 'Phone number';
    row.dataset.state = presence?.state ?? 'phone';
    paintIcon(row.querySelector('.presence-icon'), presence ?? { state: 'unknown' });
    row.querySelector('.presence-state').textContent = words;
    row.querySelector('.presence-note').textContent = presence?.note ?? '';
    const button = row.querySelector('button');
    button.setAttribute('aria-label', [contact.displayName || contact.address, words, presence?.note, contact.tagged ? 'alerts on' : undefined].filter(Boolean).join(', '));
  }

  #keys(event) {
    const buttons = [...this.container.querySelectorAll('[data-presence-open]')];
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    buttons[Math.max(0, Math.min(buttons.length - 1, to))].focus();
  }

  async #addContact(form) {
    const body = { address: form.elements.address.value.trim() };
    if (!body.address) return;
    if (form.elements.groupId.value) body.groupId = Number(form.elements.groupId.value);
    if (form.elements.tagged.checked) body.tagged = true;
    try {
      await this.api('/contacts', { method: 'POST', body });
      form.reset();
      showError(this.section, null);
      await this.load();
      this.focusContact(this.#addressOf(body.address));
    } catch (err) {
      showError(this.section, err);
      form.elements.address.focus();
    }
  }

  #addressOf(input) {
    const bare = input.replace(/^sips?:/i, '').toLowerCase();
    return bare.includes('@') ? bare : `${bare}@${this.sb.site}`;
  }

  async #addDistribution(form) {
    const done = this.section.querySelector('[data-presence-done]');
    const body = form.elements.groupId.value ? { groupId: Number(form.elements.groupId.value) } : {};
    try {
      const answer = await this.api(`/distribution-groups/${encodeURIComponent(form.elements.distribution.value)}/contacts`, { method: 'POST', body });
      const added = answer.added?.length ?? answer.added ?? 0;
      const skipped = answer.skipped?.length ?? answer.skipped ?? 0;
      done.textContent = `Added ${added} contact${added === 1 ? '' : 's'}${skipped ? `; ${skipped} already in your list` : ''}.`;
      done.hidden = false;
      showError(this.section, null);
      await this.load();
    } catch (err) {
      done.hidden = true;
      showError(this.section, err);
    }
  }

  async #addGroup(form) {
    try {
      await this.api('/groups', { method: 'POST', body: { name: form.elements.name.value.trim() } });
      form.reset();
      showError(this.section, null);
      await this.load();
    } catch (err) {
      showError(this.section, err);
      form.elements.name.focus();
    }
  }

  /** After the card changed or removed a contact. */
  async refresh() {
    await this.load();
  }
}
