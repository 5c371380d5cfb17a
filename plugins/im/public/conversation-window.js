// The conversation window: messages of the open conversation, the compose
// box (Enter sends, Shift+Enter breaks the line), typing indication both
// ways, file upload, and adding people to a group conversation.
import { bodyNodes, el, formatBytes, showError, timeOf } from './dom.js';

const TYPING_REFRESH_S = 10;
/** Files up to this go in one request (base64 in JSON stays under the host's 1 MB body limit). */
const ONE_REQUEST_BYTES = 512 * 1024;
/** Longer texts go over HTTP: the live channel takes frames up to 64 KiB. */
const LIVE_BODY_CHARS = 16 * 1024;
/** Words for the other party's state (presence, when the site has it on). */
const STATE_WORDS = {
  available: 'Available', inactive: 'Inactive', 'be-right-back': 'Be Right Back', away: 'Away', busy: 'Busy',
  'in-a-meeting': 'In a meeting', 'in-a-conference': 'In a conference', 'in-a-call': 'In a call',
  'do-not-disturb': 'Do Not Disturb', unknown: 'Unknown', offline: 'Offline',
};
const CONTENT_TYPE = /^[a-z0-9][a-z0-9.+-]*\/[a-z0-9][a-z0-9.+-]*$/;
const TYPING_IDLE_MS = 4000;

export class ConversationWindow {
  current = null;
  #typingSentAt = 0;
  #typingIdleTimer = null;
  /** who → timer hiding their "typing" line */
  #typers = new Map();

  constructor(section, { sb, api, store }) {
    this.section = section;
    this.sb = sb;
    this.api = api;
    this.store = store;
    this.maxFileBytes = Number(section.dataset.imMaxFileBytes) || 524288;
    this.body = section.querySelector('[data-im-body]');
    this.list = section.querySelector('[data-im-messages]');
    this.typing = section.querySelector('[data-im-typing]');
    this.compose = section.querySelector('[data-im-action="send"]');
    this.text = this.compose.elements.body;
    this.compose.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#send();
    });
    this.text.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        void this.#send();
      }
    });
    this.text.addEventListener('input', () => this.#typed());
    this.compose.elements.file.addEventListener('change', (event) => void this.#upload(event.currentTarget));
    section.querySelector('[data-im-action="add-participant"]').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#addParticipant(event.currentTarget);
    });
  }

  isOpen(conversation) {
    return this.current !== null && this.current.id === conversation.id;
  }

  async open(conversation, { focus = true } = {}) {
    this.current = conversation;
    this.section.dataset.conversation = conversation.id;
    this.section.querySelector('[data-im-placeholder]').hidden = true;
    this.body.hidden = false;
    this.#clearTypers();
    this.renderMeta();
    this.renderMessages();
    void this.#watchPeer(conversation);
    showError(this.section, null);
    this.store.markRead(conversation);
    if (focus) {
      // On a phone the window sits below the lists: bring it into view.
      if (window.matchMedia('(max-width: 700px)').matches) this.section.scrollIntoView({ block: 'start' });
      this.text.focus({ preventScroll: true });
    }
    try {
      await this.store.loadMessages(conversation);
      if (this.isOpen(conversation)) this.renderMessages();
    } catch (err) {
      if (this.isOpen(conversation)) showError(this.section, err);
    }
  }

  titleOf(conversation) {
    if (conversation.kind === 'pair') return conversation.peer;
    return conversation.subject || conversation.participants.filter((p) => p !== this.sb.username).join(', ') || 'Group conversation';
  }

  renderMeta() {
    const c = this.current;
    if (!c) return;
    const title = this.section.querySelector('.im-conversation__subject');
    title.textContent = this.titleOf(c);
    const people = this.section.querySelector('.im-conversation__participants');
    people.replaceChildren(...c.participants.map((p) => el('li', { text: p === this.sb.username ? `${p} (you)` : p })));
    people.hidden = c.kind === 'pair';
    this.section.querySelector('[data-im-action="add-participant"]').hidden = c.kind !== 'group';
  }

  /** One-to-one: show the other party's state, kept live through the presence plugin's watch (if it is on). */
  async #watchPeer(c) {
    const badge = this.section.querySelector('[data-im-peer-state]');
    badge.hidden = true;
    if (c.kind !== 'pair') return;
    try {
      const { users } = await this.sb.send('presence.watch', { users: [c.peer] });
      if (this.isOpen(c) && users?.[0]) this.peerPresence(users[0].contact, users[0].presence);
    } catch {
      // No presence on this site (or not allowed): the window works without it.
    }
  }

  /** A `presence.changed` for someone; shown when it is the open one-to-one peer. */
  peerPresence(contact, presence) {
    const c = this.current;
    if (!c || c.kind !== 'pair' || contact !== `${c.peer}@${this.sb.site}` || !presence) return;
    const badge = this.section.querySelector('[data-im-peer-state]');
    badge.dataset.state = presence.state;
    badge.textContent = `${STATE_WORDS[presence.state] ?? presence.state}${presence.note ? ` — ${presence.note}` : ''}`;
    badge.hidden = false;
  }

  renderMessages() {
    const c = this.current;
    if (!c) return;
    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    this.list.replaceChildren(...this.store.messagesOf(c).map((m) => this.#item(m)));
    if (atBottom || this.list.dataset.filled !== c.id) this.list.scrollTop = this.list.scrollHeight;
    this.list.dataset.filled = c.id;
  }

  /** A message for the open conversation arrived (or was sent). */
  appended(message) {
    this.#hideTyper(message.sender);
    this.renderMessages();
  }

  #item(m) {
    const mine = m.sender === this.sb.username;
    return el('li', { class: `im-message${mine ? ' im-message--mine' : ''}`, 'data-message-id': m.id, 'data-sender': m.sender },
      el('p', { class: 'im-message__meta' },
        el('span', { class: 'im-message__sender', text: mine ? 'You' : m.sender }), ' ',
        el('time', { class: 'im-message__time', datetime: m.at, text: timeOf(m.at) })),
      el('div', { class: 'im-message__body' }, ...bodyNodes(m)));
  }

  /** `im.typing` for some conversation. */
  typingEvent(event) {
    if (!this.current || event.conversationId !== this.current.id || event.from === this.sb.username) return;
    if (event.state === 'idle') return this.#hideTyper(event.from);
    clearTimeout(this.#typers.get(event.from));
    this.#typers.set(event.from, setTimeout(() => this.#hideTyper(event.from), ((event.refresh ?? 15) + 2) * 1000));
    this.#paintTypers();
  }

  #hideTyper(who) {
    if (!this.#typers.has(who)) return;
    clearTimeout(this.#typers.get(who));
    this.#typers.delete(who);
    this.#paintTypers();
  }

  #clearTypers() {
    for (const t of this.#typers.values()) clearTimeout(t);
    this.#typers.clear();
    this.#paintTypers();
  }

  #paintTypers() {
    const who = [...this.#typers.keys()];
    this.typing.textContent = who.length === 0 ? '' : `${who.join(', ')} ${who.length === 1 ? 'is' : 'are'} typing…`;
    this.typing.hidden = who.length === 0;
  }

  #target() {
    return this.current.kind === 'pair' ? { to: this.current.peer } : { conversation: this.current.id };
  }

  #typed() {
    if (!this.current || !this.text.value) return;
    const now = Date.now();
    if (now - this.#typingSentAt > (TYPING_REFRESH_S * 1000) / 2) {
      this.#typingSentAt = now;
      this.sb.send('im.typing', { ...this.#target(), state: 'active', refresh: TYPING_REFRESH_S }).catch(() => {});
    }
    clearTimeout(this.#typingIdleTimer);
    this.#typingIdleTimer = setTimeout(() => this.#stopTyping(), TYPING_IDLE_MS);
  }

  #stopTyping() {
    clearTimeout(this.#typingIdleTimer);
    if (!this.#typingSentAt || !this.current) return;
    this.#typingSentAt = 0;
    this.sb.send('im.typing', { ...this.#target(), state: 'idle' }).catch(() => {});
  }

  async #send() {
    const c = this.current;
    const body = this.text.value;
    if (!c || !body.trim()) return;
    clearTimeout(this.#typingIdleTimer);
    this.#typingSentAt = 0;
    const button = this.compose.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const message = await this.#deliver(c, body);
      this.text.value = '';
      showError(this.section, null);
      const [conversation] = this.store.addMessage(message);
      if (this.isOpen(conversation)) this.appended(message);
    } catch (err) {
      showError(this.section, err);
    } finally {
      button.disabled = false;
      this.text.focus();
    }
  }

  /** Over the live channel; over HTTP when the channel is down (not when the server refused). */
  async #deliver(c, body) {
    if (body.length <= LIVE_BODY_CHARS) {
      try {
        return (await this.sb.send('im.send', { ...this.#target(), body })).message;
      } catch (err) {
        if (!String(err.code ?? '').startsWith('CLIENT_ERR_') && err.code !== 'CORE_ERR_LIVE_UNKNOWN_TYPE') throw err;
      }
    }
    if (c.kind === 'group') return this.api(`/conversations/${c.id}/messages`, { method: 'POST', body: { body } });
    const sent = await this.api('/messages', { method: 'POST', body: { to: c.peer, body } });
    return { id: sent.id, conversationId: sent.conversationId, sender: this.sb.username, recipients: [c.peer], contentType: 'text/plain', body: sent.body, at: new Date().toISOString(), via: 'http' };
  }

  async #upload(input) {
    const file = input.files?.[0];
    input.value = '';
    const c = this.current;
    if (!file || !c) return;
    if (file.size > this.maxFileBytes) {
      showError(this.section, new Error(`${file.name} is ${formatBytes(file.size)}; files may be at most ${formatBytes(this.maxFileBytes)}.`));
      return;
    }
    const status = this.typing;
    const progress = (text) => { status.hidden = false; status.textContent = text; };
    progress(`Sending ${file.name}…`);
    const meta = { name: file.name, ...(CONTENT_TYPE.test(file.type) ? { contentType: file.type } : {}), ...this.#target() };
    try {
      if (file.size <= ONE_REQUEST_BYTES) {
        await this.api('/files', { method: 'POST', body: { ...meta, data: await base64Of(file) } });
      } else {
        await this.#uploadInParts(file, meta, progress);
      }
      showError(this.section, null);
      // The link message arrives as im.message; without the live channel, fetch it.
      if (!this.sb.live.connected) await this.store.loadMessages(c);
      if (this.isOpen(c)) this.renderMessages();
    } catch (err) {
      showError(this.section, err);
    } finally {
      this.#paintTypers();
    }
  }

  /** Resumable upload: announce, send the parts in order, complete; cancelled if a part fails. */
  async #uploadInParts(file, meta, progress) {
    const upload = await this.api('/uploads', { method: 'POST', body: { ...meta, size: file.size } });
    const part = upload.partBytes || ONE_REQUEST_BYTES;
    try {
      let offset = upload.received ?? 0;
      while (offset < file.size) {
        const data = await base64Of(file.slice(offset, offset + part));
        const state = await this.api(`/uploads/${upload.id}`, { method: 'PUT', body: { offset, data } });
        offset = state.received;
        progress(`Sending ${file.name}… ${Math.floor((offset * 100) / file.size)}%`);
      }
      await this.api(`/uploads/${upload.id}/complete`, { method: 'POST' });
    } catch (err) {
      await this.api(`/uploads/${upload.id}`, { method: 'DELETE' }).catch(() => {});
      throw err;
    }
  }

  async #addParticipant(form) {
    const c = this.current;
    const username = form.elements.username.value.trim().toLowerCase();
    if (!c || !username) return;
    try {
      const view = await this.api(`/conversations/${c.id}/participants`, { method: 'POST', body: { username } });
      this.store.group(view);
      form.reset();
      showError(this.section, null);
      this.renderMeta();
    } catch (err) {
      showError(this.section, err);
    }
  }
}

function base64Of(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('the file cannot be read'));
    reader.readAsDataURL(blob);
  });
}
