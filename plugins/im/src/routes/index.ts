/**
 * HTTP API for web clients and bots, under /api/plugins/im/sites/:site.
 * Every route needs a signed-in user of that site (Bearer token or session
 * cookie); a user reads and writes only as themselves.
 */
import type { PluginContext } from '@switchboard/sdk';
import type { ImConfig } from '../config.ts';
import type { Conversations } from '../conversations.ts';
import type { Escalations } from '../escalation.ts';
import type { Files } from '../files.ts';
import type { History } from '../history.ts';
import type { Messenger } from '../messenger.ts';
import { registerConversationRoutes } from './conversation-routes.ts';
import { registerFileRoutes } from './file-routes.ts';
import { registerMessageRoutes } from './message-routes.ts';

export { callerOf } from './common.ts';

export function registerRoutes(ctx: PluginContext<ImConfig>, messenger: Messenger, history: History, conversations: Conversations, files: Files, escalations: Escalations): void {
  registerMessageRoutes(ctx, messenger, history);
  registerConversationRoutes(ctx, conversations, escalations);
  registerFileRoutes(ctx, files);
}
