/** Pager-mode messages from the web and history search. */
import type { PluginContext } from '@switchboard/sdk';
import type { ImConfig } from '../config.ts';
import { ImError } from '../errors.ts';
import type { History } from '../history.ts';
import type { Messenger } from '../messenger.ts';
import { answer, body, callerOf, contentType, count, num, username } from './common.ts';

export function registerMessageRoutes(ctx: PluginContext<ImConfig>, messenger: Messenger, history: History): void {
  ctx.http.route({
    method: 'POST',
    url: '/sites/:site/messages',
    schema: {
      body: { type: 'object', required: ['to', 'body'], additionalProperties: false, properties: { to: username, body, contentType } },
    },
    handler: (request, reply) => answer(reply, async () => {
      const site = request.switchboard.site;
      const sender = callerOf(request.switchboard);
      const input = request.body as { to: string; body: string; contentType?: string };
      const recipient = await ctx.directory.findByAddress(site, input.to.toLowerCase());
      if (!recipient || !recipient.enabled) throw new ImError('IM_ERR_UNKNOWN_USER', input.to);
      const outcome = await messenger.send({ site, sender, recipient: recipient.username, contentType: input.contentType ?? 'text/plain', body: input.body, via: 'http' });
      return { status: outcome.status, id: outcome.message.id, conversationId: outcome.message.conversationId, body: outcome.message.body };
    }),
  });

  ctx.http.route({
    method: 'GET',
    url: '/sites/:site/history',
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          with: username,
          from: { type: 'string', format: 'date-time' },
          to: { type: 'string', format: 'date-time' },
          q: { type: 'string', maxLength: 200 },
          conversationId: { type: 'string', pattern: '^(pair:[^\\s@,:]+:[^\\s@,:]+|[0-9a-f]{12})$' },
          afterId: count,
          beforeId: count,
          newest: { type: 'string', enum: ['true', 'false'] },
          limit: count,
        },
      },
    },
    handler: (request, reply) => answer(reply, async () => {
      const user = callerOf(request.switchboard);
      const query = request.query as { with?: string; from?: string; to?: string; q?: string; conversationId?: string; afterId?: string; beforeId?: string; newest?: string; limit?: string };
      const afterId = num(query.afterId);
      const beforeId = num(query.beforeId);
      const limit = num(query.limit);
      return {
        messages: await history.search(request.switchboard.site, user, {
          ...(query.with ? { with: query.with.toLowerCase() } : {}),
          ...(query.from ? { from: query.from } : {}),
          ...(query.to ? { to: query.to } : {}),
          ...(query.q ? { q: query.q } : {}),
          ...(query.conversationId ? { conversationId: query.conversationId.toLowerCase() } : {}),
          ...(afterId !== undefined ? { afterId } : {}),
          ...(beforeId !== undefined ? { beforeId } : {}),
          ...(query.newest === 'true' ? { newest: true } : {}),
          ...(limit ? { limit } : {}),
        }),
      };
    }),
  });
}
