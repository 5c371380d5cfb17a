/**
 * Server → browser pushes over the host's live channel (`/api/live`). Every
 * event goes to every open session of the users concerned; a user without a
 * session simply gets nothing (SIP delivery and history are unaffected).
 * The event types and data shapes are listed in README.md ("Live events").
 */
import type { PluginContext } from '@switchboard/sdk';
import type { ImConfig } from './config.ts';
import type { EscalationOutcome } from './escalation.ts';
import type { MessageView } from './history.ts';

export type TypingState = 'active' | 'idle';

/** `im.typing`: someone is composing (or stopped) in a conversation the user is in. */
export interface TypingEvent {
  /** `pair:<a>:<b>` for one-to-one, else the conversation id. */
  conversationId: string;
  from: string;
  state: TypingState;
  /** Seconds the `active` state lasts unless refreshed (RFC 3994 `refresh`), when known. */
  refresh?: number;
  via: 'sip' | 'live';
}

/** `im.conversation`: a conversation the user takes part in was created or changed. */
export interface ConversationEvent {
  reason: 'created' | 'participant-added';
  by: string;
  /** The user who joined, for `participant-added`. */
  added?: string;
  conversation: {
    id: string;
    site: string;
    subject: string;
    address: string;
    createdBy: string;
    createdAt: string;
    participants: string[];
  };
}

/** `im.missed`: messages that waited for the user while they were offline. */
export interface MissedEvent {
  count: number;
  senders: string[];
  messages: MessageView[];
}

export class LivePush {
  readonly #ctx: PluginContext<ImConfig>;

  constructor(ctx: PluginContext<ImConfig>) {
    this.#ctx = ctx;
  }

  /** Whether `username` has a browser session open on `site` now. */
  online(site: string, username: string): boolean {
    return this.#ctx.live.sessionCount(site, username) > 0;
  }

  /**
   * `im.message` to the sender's sessions (other tabs and devices) and every
   * recipient's; returns how many recipient sessions got it.
   */
  message(view: MessageView): number {
    this.#send(view.site, view.sender, 'im.message', view);
    let reached = 0;
    for (const user of view.recipients) reached += this.#send(view.site, user, 'im.message', view);
    return reached;
  }

  typing(site: string, users: readonly string[], event: TypingEvent): number {
    let reached = 0;
    for (const user of users) reached += this.#send(site, user, 'im.typing', event);
    return reached;
  }

  conversation(site: string, users: readonly string[], event: ConversationEvent): void {
    for (const user of users) this.#send(site, user, 'im.conversation', event);
  }

  /** `im.escalation`: a participant escalated the conversation (to a call or conference). */
  escalation(site: string, users: readonly string[], outcome: EscalationOutcome): void {
    for (const user of users) this.#send(site, user, 'im.escalation', outcome);
  }

  missed(site: string, user: string, event: MissedEvent): number {
    return this.#send(site, user, 'im.missed', event);
  }

  #send(site: string, user: string, type: string, data: unknown): number {
    try {
      return this.#ctx.live.toUser(site, user, type, data);
    } catch (err) {
      // A push is a courtesy on top of SIP delivery and history; it must not fail the message.
      this.#ctx.log.warn({ err, site, user, type }, 'live push failed');
      return 0;
    }
  }
}
