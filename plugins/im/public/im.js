// Instant messaging in the web client. Conversations, one-to-one and group,
// come from the IM HTTP API (/api/plugins/im/sites/:site/…); new messages,
// typing and conversation changes arrive live (`im.message`, `im.typing`,
// `im.conversation`, `im.missed`); messages and typing go out over the live
// channel (`im.send`, `im.typing`), or over HTTP when it is down.
import { ConversationStore } from './store.js';
import { ConversationWindow } from './conversation-window.js';
import { ConversationList } from './conversation-list.js';
import { Notifications } from './notifications.js';
import { preview } from './dom.js';

export default async function start(sb) {
  const base = `/api/plugins/im/sites/${encodeURIComponent(sb.site)}`;
  const api = (path, options) => sb.api(`${base}${path}`, options);
  const store = new ConversationStore({ api, me: sb.username });

  const windowEl = document.querySelector('[data-im="conversation-window"]');
  const listEl = document.querySelector('[data-im="conversation-list"]');
  const notesEl = document.querySelector('[data-im="notifications"]');
  const win = windowEl ? new ConversationWindow(windowEl, { sb, api, store }) : undefined;
  const titleOf = (c) => win?.titleOf(c) ?? (c.kind === 'pair' ? c.peer : c.subject || 'Group conversation');
  const open = (conversation) => {
    if (list) list.openId = conversation.id;
    notes?.clear(conversation.id);
    if (win) void win.open(conversation);
    else store.markRead(conversation);
  };
  const list = listEl ? new ConversationList(listEl, { sb, api, store, onOpen: open, titleOf }) : undefined;
  const notes = notesEl ? new Notifications(notesEl, { store }) : undefined;

  let pending = false;
  store.onChange((conversation, reason) => {
    if (win?.isOpen(conversation) && reason === 'meta') win.renderMeta();
    // Coalesce repaints of the list: a history load changes many conversations at once.
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      list?.render();
      notes?.count();
    });
  });

  const inFront = (conversation) => win?.isOpen(conversation) && document.visibilityState === 'visible';

  sb.on('im.message', (message) => {
    if (!message || typeof message.conversationId !== 'string') return;
    const [conversation, isNew] = store.addMessage(message);
    if (!isNew) return;
    if (win?.isOpen(conversation)) win.appended(message);
    if (message.sender === sb.username) return;
    if (inFront(conversation)) return;
    store.markUnread(conversation);
    notes?.add(`${message.sender}${conversation.kind === 'group' ? ` in ${titleOf(conversation)}` : ''}: ${preview(message, 60)}`, { key: conversation.id, onActivate: () => open(conversation) });
  });

  sb.on('im.typing', (event) => win?.typingEvent(event ?? {}));
  sb.on('presence.changed', (event) => win?.peerPresence(event?.contact, event?.presence));

  sb.on('im.conversation', (event) => {
    if (!event?.conversation) return;
    const conversation = store.group(event.conversation);
    if (event.by === sb.username) return;
    const text = event.reason === 'created'
      ? `${event.by} started a conversation${event.conversation.subject ? `: ${event.conversation.subject}` : ''}`
      : `${event.by} added ${event.added === sb.username ? 'you' : event.added} to ${titleOf(conversation)}`;
    notes?.add(text, { key: conversation.id, onActivate: () => open(conversation) });
  });

  sb.on('im.missed', (event) => {
    for (const m of event?.messages ?? []) store.addMessage(m);
    if (event?.count) notes?.add(`While you were away: ${event.count} message${event.count === 1 ? '' : 's'} from ${(event.senders ?? []).join(', ')}`, { key: 'missed', onActivate: () => list?.items.querySelector('button')?.focus() });
  });

  // From another plugin's fragment (the presence contact card's "Send a message").
  sb.on('client.start-conversation', ({ username } = {}) => {
    if (typeof username === 'string' && username && username !== sb.username) open(store.pair(username.toLowerCase()));
  });

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && win?.current) store.markRead(win.current);
  });

  async function resync() {
    try {
      await store.loadRecent();
      if (win?.current) await win.open(win.current, { focus: false });
    } catch (err) {
      console.warn('im: loading conversations failed', err);
    }
  }
  sb.on('client.connected', () => resync());
  await resync();
  list?.render();
  notes?.count();
  (listEl ?? windowEl ?? notesEl)?.setAttribute('data-im-ready', 'true');
}
