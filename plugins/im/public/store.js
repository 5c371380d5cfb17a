// The conversations this page knows: one-to-one (`pair:a:b`) and group
// (12-hex id) ones, their messages by id (so a message seen twice — reply
// and push, or after a resync — shows once), unread marks and listeners.

/** Messages a window reads when it opens: the newest ones of its conversation. */
const WINDOW_PAGE = 200;

export function pairId(a, b) {
  return `pair:${[a, b].sort().join(':')}`;
}

export class ConversationStore {
  /** id → conversation */
  #byId = new Map();
  #listeners = new Set();

  constructor({ api, me }) {
    this.api = api;
    this.me = me;
  }

  onChange(fn) {
    this.#listeners.add(fn);
  }

  #changed(conversation, reason) {
    for (const fn of this.#listeners) fn(conversation, reason);
  }

  get(id) {
    return this.#byId.get(id);
  }

  /** Newest activity first. */
  list() {
    return [...this.#byId.values()].sort((a, b) => (b.lastAt ?? '').localeCompare(a.lastAt ?? '') || a.id.localeCompare(b.id));
  }

  /** The one-to-one conversation with `peer`, created empty if new. */
  pair(peer) {
    const id = pairId(this.me, peer);
    return this.#byId.get(id) ?? this.#add({ id, kind: 'pair', peer, participants: [this.me, peer], subject: '' });
  }

  /** A group conversation from its ConversationView. */
  group(view) {
    const existing = this.#byId.get(view.id);
    if (existing) {
      existing.subject = view.subject;
      existing.participants = view.participants;
      existing.createdBy = view.createdBy;
      this.#changed(existing, 'meta');
      return existing;
    }
    return this.#add({ id: view.id, kind: 'group', subject: view.subject, participants: view.participants, createdBy: view.createdBy, lastAt: view.createdAt });
  }

  #add(fields) {
    const conversation = { messages: new Map(), unread: 0, lastAt: undefined, loaded: false, ...fields };
    this.#byId.set(conversation.id, conversation);
    this.#changed(conversation, 'added');
    return conversation;
  }

  /** Record a MessageView; returns [conversation, isNew]. */
  addMessage(message) {
    let conversation = this.#byId.get(message.conversationId);
    if (!conversation) {
      if (message.conversationId.startsWith('pair:')) {
        const peer = message.sender === this.me ? message.recipients[0] : message.sender;
        conversation = this.pair(peer);
      } else {
        conversation = this.#add({ id: message.conversationId, kind: 'group', subject: '', participants: [message.sender, ...message.recipients] });
      }
    }
    const isNew = !conversation.messages.has(message.id);
    conversation.messages.set(message.id, message);
    if (!conversation.lastAt || message.at > conversation.lastAt) conversation.lastAt = message.at;
    if (isNew) this.#changed(conversation, 'message');
    return [conversation, isNew];
  }

  markRead(conversation) {
    if (conversation.unread === 0) return;
    conversation.unread = 0;
    this.#changed(conversation, 'read');
  }

  markUnread(conversation) {
    conversation.unread++;
    this.#changed(conversation, 'unread');
  }

  /** Messages oldest first. */
  messagesOf(conversation) {
    return [...conversation.messages.values()].sort((a, b) => a.id - b.id);
  }

  /** The server's list of my conversations (groups without messages included), each with its latest message. */
  async loadRecent() {
    const { conversations } = await this.api('/conversations');
    for (const c of conversations) {
      if (c.kind === 'group') this.group({ id: c.id, subject: c.subject, participants: c.participants, createdAt: c.updatedAt });
      else this.pair(c.participants.find((p) => p !== this.me) ?? this.me);
      if (c.lastMessage) this.addMessage(c.lastMessage);
    }
  }

  async refreshGroup(id) {
    return this.group(await this.api(`/conversations/${id}`));
  }

  /**
   * Messages of one conversation: on first opening the newest
   * {@link WINDOW_PAGE}, later whatever came after the newest this page has.
   */
  async loadMessages(conversation) {
    const known = this.messagesOf(conversation);
    const afterId = conversation.loaded && known.length ? known[known.length - 1].id : 0;
    const query = new URLSearchParams({ conversationId: conversation.id, limit: String(WINDOW_PAGE) });
    if (afterId) query.set('afterId', String(afterId));
    else query.set('newest', 'true');
    const { messages } = await this.api(`/history?${query}`);
    for (const m of messages) this.addMessage(m);
    conversation.loaded = true;
  }
}
