/**
 * im: instant messaging between SIP and web clients. Pager-mode MESSAGE
 * with store-and-forward, history and search, an extensible filter chain
 * (service `im.filters`) and multiparty conversations.
 */
import { definePlugin } from '@switchboard/sdk';
import type { ImConfig } from './config.ts';
import { Conversations } from './conversations.ts';
import { ImConversationEntity, ImMemberEntity } from './entities/conversation.ts';
import { ImMessageEntity, ImPendingEntity } from './entities/message.ts';
import { Escalations, type EscalationHandler } from './escalation.ts';
import { FilterChain } from './filters.ts';
import { ImFileEntity, ImFilePartEntity } from './entities/file.ts';
import { Files } from './files.ts';
import { History } from './history.ts';
import { registerLiveHandlers } from './live-handlers.ts';
import { LivePush } from './live-push.ts';
import { Messenger } from './messenger.ts';
import { OfflineDelivery, type RegistrarChanged } from './offline.ts';
import { registerRoutes } from './routes/index.ts';
import { messageHandler } from './sip-handler.ts';

export type { ImFilter, ImFilters, ImFilterInput, ImFilterVerdict } from './filters.ts';
export type { MessageView } from './history.ts';
export type { EscalationHandler, EscalationMedium, EscalationOutcome, EscalationRequest, EscalationResult, ImEscalation } from './escalation.ts';
export type { ConversationEvent, MissedEvent, TypingEvent } from './live-push.ts';

export default definePlugin<ImConfig>({
  entities: [ImMessageEntity, ImPendingEntity, ImConversationEntity, ImMemberEntity, ImFileEntity, ImFilePartEntity],

  async setup(ctx) {
    const filters = new FilterChain((site) => ctx.config(site));
    ctx.services.provide('im.filters', { add: (f: Parameters<FilterChain['add']>[0]) => filters.add(f), remove: (name: string) => filters.remove(name) });
    const history = new History(ctx);
    const push = new LivePush(ctx);
    const messenger = new Messenger(ctx, filters, history, push);
    const conversations = new Conversations(ctx, history, messenger, push);
    const offline = new OfflineDelivery(ctx);
    const files = new Files(ctx, messenger, conversations);

    ctx.sip.on('MESSAGE', messageHandler(ctx, messenger, conversations, push));
    const escalations = new Escalations(ctx, conversations, push);
    ctx.services.provide('im.escalation', { register: (h: EscalationHandler) => escalations.register(h), unregister: (name: string) => escalations.unregister(name) });
    registerRoutes(ctx, messenger, history, conversations, files, escalations);
    registerLiveHandlers(ctx, { messenger, conversations, push, offline, escalations });
    await ctx.events.subscribeDurable<RegistrarChanged>('registrar.changed', 'offline-delivery', (event) => offline.onRegistrarChanged(event));
  },
});
