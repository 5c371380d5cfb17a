// Notices of new conversations and of messages in conversations that are
// not in front of the user: a list in the header (newest first, at most 5)
// and a count of conversations with unread messages.
import { el } from './dom.js';

const KEEP = 5;

export class Notifications {
  constructor(root, { store }) {
    this.root = root;
    this.title = document.title;
    this.store = store;
    this.list = root.querySelector('.im-notifications__alerts');
    this.missed = root.querySelector('[data-im-missed]');
    this.missed.addEventListener('click', () => {
      const open = this.missed.getAttribute('aria-expanded') !== 'true';
      this.missed.setAttribute('aria-expanded', String(open));
      this.list.hidden = !open;
    });
  }

  /** A notice; `onActivate` opens what it is about. */
  add(text, { key, onActivate }) {
    if (key) this.list.querySelector(`[data-key="${CSS.escape(key)}"]`)?.remove();
    const open = el('button', { type: 'button', class: 'im-alert__open', text });
    const dismiss = el('button', { type: 'button', class: 'im-alert__dismiss', 'aria-label': 'Dismiss', text: '×' });
    const item = el('li', { class: 'im-alert', 'data-key': key }, open, dismiss);
    open.addEventListener('click', () => {
      item.remove();
      onActivate();
    });
    dismiss.addEventListener('click', () => item.remove());
    this.list.prepend(item);
    while (this.list.children.length > KEEP) this.list.lastElementChild.remove();
    this.list.hidden = false;
  }

  /** Drop the notices of a conversation the user opened. */
  clear(key) {
    this.list.querySelector(`[data-key="${CSS.escape(key)}"]`)?.remove();
  }

  /** Recount conversations with unread messages. */
  count() {
    const n = this.store.list().filter((c) => c.unread > 0).length;
    this.missed.dataset.imMissed = String(n);
    this.missed.querySelector('[data-im-missed-count]').textContent = String(n);
    this.missed.hidden = n === 0;
    // The tab shows it too, for a user looking at another tab.
    document.title = n === 0 ? this.title : `(${n}) ${this.title}`;
  }
}
