/**
 * Multiparty conversations. Web participants post and read over HTTP; SIP
 * participants send MESSAGE to `conf-<id>@<site>` and receive the others'
 * messages from that address, so replying in their client reaches everyone.
 * The participant limit is per site (`maxParticipants`).
 */
import { randomBytes } from 'node:crypto';
import { In } from 'typeorm';
import type { PluginContext } from '@switchboard/sdk';
import type { ImConfig } from './config.ts';
import { ImError } from './errors.ts';
import type { Via } from './filters.ts';
import { ImConversationEntity, ImMemberEntity, type ImConversation } from './entities/conversation.ts';
import type { History, MessageView } from './history.ts';
import { viewOf } from './history.ts';
import { IS_COMPOSING, isComposingXml } from './is-composing.ts';
import type { LivePush, TypingState } from './live-push.ts';
import { deliverTo, messageHeaders, type Messenger } from './messenger.ts';

export const CONFERENCE_PREFIX = 'conf-';

export interface ConversationView {
  id: string;
  site: string;
  subject: string;
  /** The SIP address participants send to and receive from. */
  address: string;
  createdBy: string;
  createdAt: string;
  participants: string[];
}

/** One entry of a user's conversation list (`GET /conversations`). */
export interface ConversationSummary {
  /** `pair:<a>:<b>` for one-to-one, the 12-hex id for a group: the `conversationId` messages carry. */
  id: string;
  kind: 'pair' | 'group';
  subject: string;
  participants: string[];
  /** The group's SIP address (groups only). */
  address?: string;
  lastMessage?: MessageView;
  /** The latest message's time, or the group's creation for one without messages. */
  updatedAt: string;
}

export class Conversations {
  readonly #ctx: PluginContext<ImConfig>;
  readonly #history: History;
  readonly #messenger: Messenger;
  readonly #push: LivePush;

  constructor(ctx: PluginContext<ImConfig>, history: History, messenger: Messenger, push: LivePush) {
    this.#ctx = ctx;
    this.#history = history;
    this.#messenger = messenger;
    this.#push = push;
  }

  /** `conf-<id>` user part to id, or undefined. */
  static idOf(userPart: string): string | undefined {
    const m = /^conf-([0-9a-f]{12})$/i.exec(userPart);
    return m?.[1]?.toLowerCase();
  }

  async create(site: string, creator: string, others: string[], subject = ''): Promise<ConversationView> {
    const participants = [...new Set([creator, ...others.map((u) => u.toLowerCase())])];
    this.#checkLimit(site, participants.length);
    for (const username of participants) await this.#requireUser(site, username);
    const id = randomBytes(6).toString('hex');
    const now = new Date().toISOString();
    await this.#ctx.db.transaction(async (tx) => {
      await tx.repository(ImConversationEntity).save({ id, site, subject, createdBy: creator, createdAt: now });
      await tx.repository(ImMemberEntity).save(participants.map((username) => ({ conversationId: id, username, joinedAt: now })));
    });
    const view = await this.view(site, id, creator);
    this.#push.conversation(site, participants, { reason: 'created', by: creator, conversation: view });
    return view;
  }

  /** The conversation, if `user` takes part in it. */
  async view(site: string, id: string, user: string): Promise<ConversationView> {
    const conversation = await this.#conversation(site, id);
    const participants = await this.participants(id);
    if (!participants.includes(user)) throw new ImError('IM_ERR_NOT_A_MEMBER');
    return this.#viewOf(conversation, participants);
  }

  /**
   * `user`'s conversations, newest activity first: every group they belong
   * to (with or without messages) and every one-to-one exchange they have
   * history in, each with its latest message.
   */
  async listFor(site: string, user: string, limit = 200): Promise<ConversationSummary[]> {
    const memberships = await this.#ctx.db.repository(ImMemberEntity).find({ where: { username: user }, select: { conversationId: true } });
    const groupIds = memberships.map((m) => m.conversationId);
    const groups = groupIds.length ? await this.#ctx.db.repository(ImConversationEntity).find({ where: { id: In(groupIds), site } }) : [];
    const members = groups.length ? await this.#ctx.db.repository(ImMemberEntity).find({ where: { conversationId: In(groups.map((g) => g.id)) }, order: { id: 'ASC' } }) : [];
    const latest = new Map((await this.#history.latestPerConversation(site, user, limit)).map((m) => [m.conversationId, m]));
    const out: ConversationSummary[] = groups.map((g) => {
      const lastMessage = latest.get(g.id);
      latest.delete(g.id);
      return {
        id: g.id, kind: 'group', subject: g.subject, address: `sip:${CONFERENCE_PREFIX}${g.id}@${site}`,
        participants: members.filter((m) => m.conversationId === g.id).map((m) => m.username),
        ...(lastMessage ? { lastMessage } : {}), updatedAt: lastMessage?.at ?? g.createdAt,
      };
    });
    for (const [id, lastMessage] of latest) {
      if (!id.startsWith('pair:')) continue; // a group this user has since left
      out.push({ id, kind: 'pair', subject: '', participants: id.slice(5).split(':'), lastMessage, updatedAt: lastMessage.at });
    }
    // Same millisecond: the later message (higher id) is the newer.
    return out.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || (b.lastMessage?.id ?? 0) - (a.lastMessage?.id ?? 0) || a.id.localeCompare(b.id)).slice(0, limit);
  }

  async participants(id: string): Promise<string[]> {
    const members = await this.#ctx.db.repository(ImMemberEntity).find({ where: { conversationId: id }, order: { id: 'ASC' } });
    return members.map((m) => m.username);
  }

  /** Add `username` mid-conversation; any participant may. */
  async add(site: string, id: string, by: string, username: string): Promise<ConversationView> {
    const conversation = await this.#conversation(site, id);
    const participants = await this.participants(id);
    if (!participants.includes(by)) throw new ImError('IM_ERR_NOT_A_MEMBER');
    const user = username.toLowerCase();
    if (!participants.includes(user)) {
      this.#checkLimit(site, participants.length + 1);
      await this.#requireUser(site, user);
      await this.#ctx.db.repository(ImMemberEntity).save({ conversationId: id, username: user, joinedAt: new Date().toISOString() });
      participants.push(user);
      const view = this.#viewOf(conversation, participants);
      this.#push.conversation(site, participants, { reason: 'participant-added', by, added: user, conversation: view });
      return view;
    }
    return this.#viewOf(conversation, participants);
  }

  /**
   * Post to the conversation: filtered, stored, published, then sent to
   * every other participant's SIP endpoints (in the background, so a slow
   * endpoint does not hold up the sender). Web participants read it back.
   */
  async post(site: string, id: string, sender: string, contentType: string, body: string, via: Via): Promise<MessageView> {
    const conversation = await this.#conversation(site, id);
    const participants = await this.participants(id);
    if (!participants.includes(sender)) throw new ImError('IM_ERR_NOT_A_MEMBER');
    const others = participants.filter((p) => p !== sender);
    const filtered = await this.#messenger.screen(site, sender, others, contentType, body, via);
    const message = await this.#history.record({ site, conversationId: id, sender, recipients: others, contentType, body: filtered, via });
    this.#push.message(viewOf(message));
    void this.#fanOut(conversation, sender, others, contentType, filtered).catch((err: unknown) =>
      this.#ctx.log.warn({ err, conversation: id }, 'conversation fan-out failed'));
    return viewOf(message);
  }

  /**
   * Someone is typing in the conversation: pushed to the other participants'
   * browser sessions, and sent as isComposing (RFC 3994) from the
   * conversation address to their SIP endpoints (in the background).
   * Returns how many browser sessions got it.
   */
  async typing(site: string, id: string, sender: string, state: TypingState, via: 'sip' | 'live', refresh?: number): Promise<number> {
    const conversation = await this.#conversation(site, id);
    const participants = await this.participants(id);
    if (!participants.includes(sender)) throw new ImError('IM_ERR_NOT_A_MEMBER');
    const others = participants.filter((p) => p !== sender);
    const reached = this.#push.typing(site, others, { conversationId: id, from: sender, state, ...(refresh ? { refresh } : {}), via });
    const from = `sip:${CONFERENCE_PREFIX}${conversation.id}@${site}`;
    const body = isComposingXml(state, refresh);
    void Promise.all(others.map(async (username) => {
      if (!this.#ctx.sip.endpoints(site, username).length) return;
      const headers = await messageHeaders(this.#ctx, site, sender, username, IS_COMPOSING, from, conversation.subject ? `${sender} (${conversation.subject})` : sender);
      await this.#ctx.sip.sendToUser(site, username, { method: 'MESSAGE', headers, body });
    })).catch((err: unknown) => this.#ctx.log.warn({ err, conversation: id }, 'conversation typing relay failed'));
    return reached;
  }

  async messages(site: string, id: string, user: string, afterId?: number): Promise<MessageView[]> {
    await this.view(site, id, user);
    return this.#history.search(site, user, { conversationId: id, ...(afterId !== undefined ? { afterId } : {}), limit: 500 });
  }

  async #fanOut(conversation: ImConversation, sender: string, others: string[], contentType: string, body: string): Promise<void> {
    const site = conversation.site;
    const senderName = (await this.#ctx.directory.findUser(site, sender))?.displayName ?? sender;
    const display = conversation.subject ? `${senderName} (${conversation.subject})` : senderName;
    const from = `sip:${CONFERENCE_PREFIX}${conversation.id}@${site}`;
    await Promise.all(others.map(async (username) => {
      if (!this.#ctx.sip.endpoints(site, username).length) return;
      const headers = await messageHeaders(this.#ctx, site, sender, username, contentType, from, display);
      await deliverTo(this.#ctx, site, username, headers, body);
    }));
  }

  async #conversation(site: string, id: string): Promise<ImConversation> {
    const conversation = await this.#ctx.db.repository(ImConversationEntity).findOneBy({ id, site });
    if (!conversation) throw new ImError('IM_ERR_CONVERSATION_NOT_FOUND', id);
    return conversation;
  }

  #checkLimit(site: string, count: number): void {
    const max = this.#ctx.config(site).maxParticipants;
    if (count > max) throw new ImError('IM_ERR_CONVERSATION_FULL', `at most ${max} participants`);
  }

  async #requireUser(site: string, username: string): Promise<void> {
    const user = await this.#ctx.directory.findUser(site, username);
    if (!user || !user.enabled) throw new ImError('IM_ERR_UNKNOWN_USER', username);
  }

  #viewOf(c: ImConversation, participants: string[]): ConversationView {
    return {
      id: c.id, site: c.site, subject: c.subject, address: `sip:${CONFERENCE_PREFIX}${c.id}@${c.site}`,
      createdBy: c.createdBy, createdAt: c.createdAt, participants,
    };
  }
}
