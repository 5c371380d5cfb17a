// The conversation list (newest first, unread counts), the "New
// conversation" form (one name: a one-to-one chat; several or a subject: a
// group), and history search.
import { el, preview, showError, timeOf } from './dom.js';

export class ConversationList {
  constructor(nav, { sb, api, store, onOpen, titleOf }) {
    this.nav = nav;
    this.sb = sb;
    this.api = api;
    this.store = store;
    this.onOpen = onOpen;
    this.titleOf = titleOf;
    this.items = nav.querySelector('[data-im-items]');
    this.openId = null;
    const toggle = nav.querySelector('[data-im-action="new-conversation"]');
    const form = nav.querySelector('[data-im-action="create-conversation"]');
    const setOpen = (open) => {
      form.hidden = !open;
      toggle.setAttribute('aria-expanded', String(open));
      if (open) form.elements.participants.focus();
      else toggle.focus();
    };
    toggle.addEventListener('click', () => setOpen(form.hidden));
    nav.querySelector('[data-im-action="cancel-new"]').addEventListener('click', () => setOpen(false));
    form.addEventListener('keydown', (event) => { if (event.key === 'Escape') setOpen(false); });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (await this.#create(form)) setOpen(false);
    });
    nav.querySelector('[data-im-action="search-history"]').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#search(event.currentTarget);
    });
    this.items.addEventListener('keydown', (event) => {
      const buttons = [...this.items.querySelectorAll('button')];
      const at = buttons.indexOf(document.activeElement);
      const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
      if (at < 0 || to === undefined) return;
      event.preventDefault();
      buttons[Math.max(0, Math.min(buttons.length - 1, to))].focus();
    });
  }

  render() {
    const conversations = this.store.list();
    const focused = document.activeElement?.closest?.('[data-conversation]')?.dataset.conversation;
    this.items.replaceChildren(...conversations.map((c) => this.#item(c)));
    this.nav.querySelector('[data-im-empty]').hidden = conversations.length > 0;
    if (focused) this.items.querySelector(`[data-conversation="${CSS.escape(focused)}"] button`)?.focus();
  }

  #item(c) {
    const messages = this.store.messagesOf(c);
    const last = messages[messages.length - 1];
    const title = this.titleOf(c);
    const button = el('button', { type: 'button', class: 'im-conversation-item__open', 'aria-current': c.id === this.openId ? 'true' : undefined },
      el('span', { class: 'im-conversation-item__title', text: title }),
      c.unread ? el('span', { class: 'im-unread', text: String(c.unread), 'aria-hidden': 'true' }) : null,
      el('span', { class: 'im-conversation-item__preview', text: last ? `${last.sender === this.sb.username ? 'You: ' : ''}${preview(last, 60)}` : (c.kind === 'group' ? 'Group conversation' : '') }),
      last ? el('time', { class: 'im-conversation-item__time', datetime: last.at, text: timeOf(last.at) }) : null);
    button.setAttribute('aria-label', `${title}${c.kind === 'group' ? ' (group)' : ''}${c.unread ? `, ${c.unread} unread` : ''}${last ? `, last: ${preview(last, 60)}` : ''}`);
    button.addEventListener('click', () => this.onOpen(c));
    return el('li', { class: `im-conversation-item${c.unread ? ' im-conversation-item--unread' : ''}`, 'data-conversation': c.id, 'data-kind': c.kind }, button);
  }

  async #create(form) {
    const names = form.elements.participants.value.split(/[\s,;]+/).map((s) => s.trim().toLowerCase().replace(/@.*$/, '')).filter((s) => s && s !== this.sb.username);
    const subject = form.elements.subject.value.trim();
    if (names.length === 0) {
      showError(this.nav, new Error('Name at least one other user.'));
      form.elements.participants.focus();
      return false;
    }
    try {
      let conversation;
      if (names.length === 1 && !subject) {
        conversation = this.store.pair(names[0]);
      } else {
        const view = await this.api('/conversations', { method: 'POST', body: { participants: [...new Set(names)], ...(subject ? { subject } : {}) } });
        conversation = this.store.group(view);
      }
      form.reset();
      showError(this.nav, null);
      this.onOpen(conversation);
      return true;
    } catch (err) {
      showError(this.nav, err);
      form.elements.participants.focus();
      return false;
    }
  }

  async #search(form) {
    const params = new URLSearchParams();
    const q = form.elements.q.value.trim();
    const withUser = form.elements.with.value.trim().toLowerCase();
    if (q) params.set('q', q);
    if (withUser) params.set('with', withUser);
    if (form.elements.from.value) params.set('from', new Date(`${form.elements.from.value}T00:00:00`).toISOString());
    if (form.elements.to.value) params.set('to', new Date(`${form.elements.to.value}T23:59:59.999`).toISOString());
    params.set('limit', '100');
    const results = this.nav.querySelector('[data-im-results]');
    try {
      const { messages } = await this.api(`/history?${params}`);
      showError(this.nav, null);
      results.replaceChildren(...(messages.length ? messages.map((m) => {
        const open = el('button', { type: 'button', class: 'im-search-result', text: `${m.sender}, ${timeOf(m.at)}: ${preview(m, 100)}` });
        open.addEventListener('click', () => {
          const [conversation] = this.store.addMessage(m);
          this.onOpen(conversation);
        });
        return el('li', {}, open);
      }) : [el('li', { text: 'No messages found.' })]));
    } catch (err) {
      showError(this.nav, err);
    }
  }
}
