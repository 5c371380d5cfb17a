/** Conversations: the caller's list; multiparty ones created, read, joined, posted to and read back. */
import type { PluginContext } from '@switchboard/sdk';
import type { ImConfig } from '../config.ts';
import type { Conversations } from '../conversations.ts';
import type { FastifyReply } from 'fastify';
import { ImError } from '../errors.ts';
import { ESCALATION_MEDIA, type EscalationMedium, type EscalationOutcome, type Escalations } from '../escalation.ts';
import { answer, body, callerOf, contentType, conversationParams, count, num, username } from './common.ts';

export function registerConversationRoutes(ctx: PluginContext<ImConfig>, conversations: Conversations, escalations: Escalations): void {
  ctx.http.route({
    method: 'POST',
    url: '/sites/:site/conversations',
    schema: {
      body: {
        type: 'object',
        required: ['participants'],
        additionalProperties: false,
        properties: { participants: { type: 'array', items: username, minItems: 1, maxItems: 1000 }, subject: { type: 'string', maxLength: 255 } },
      },
    },
    handler: (request, reply) => answer(reply, async () => {
      const input = request.body as { participants: string[]; subject?: string };
      return conversations.create(request.switchboard.site, callerOf(request.switchboard), input.participants, input.subject ?? '');
    }, 201),
  });

  ctx.http.route({
    method: 'GET',
    url: '/sites/:site/conversations',
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { limit: count } } },
    handler: (request, reply) => answer(reply, async () => {
      const limit = Math.min(num((request.query as { limit?: string }).limit) || 200, 500);
      return { conversations: await conversations.listFor(request.switchboard.site, callerOf(request.switchboard), limit) };
    }),
  });

  ctx.http.route({
    method: 'GET',
    url: '/sites/:site/conversations/:id',
    schema: { params: conversationParams },
    handler: (request, reply) => answer(reply, async () =>
      conversations.view(request.switchboard.site, (request.params as { id: string }).id, callerOf(request.switchboard))),
  });

  ctx.http.route({
    method: 'POST',
    url: '/sites/:site/conversations/:id/participants',
    schema: { params: conversationParams, body: { type: 'object', required: ['username'], additionalProperties: false, properties: { username } } },
    handler: (request, reply) => answer(reply, async () =>
      conversations.add(request.switchboard.site, (request.params as { id: string }).id, callerOf(request.switchboard), (request.body as { username: string }).username)),
  });

  ctx.http.route({
    method: 'POST',
    url: '/sites/:site/conversations/:id/messages',
    schema: { params: conversationParams, body: { type: 'object', required: ['body'], additionalProperties: false, properties: { body, contentType } } },
    handler: (request, reply) => answer(reply, async () => {
      const input = request.body as { body: string; contentType?: string };
      return conversations.post(request.switchboard.site, (request.params as { id: string }).id, callerOf(request.switchboard), input.contentType ?? 'text/plain', input.body, 'http');
    }, 201),
  });

  ctx.http.route({
    method: 'GET',
    url: '/sites/:site/conversations/:id/messages',
    schema: {
      params: conversationParams,
      querystring: { type: 'object', additionalProperties: false, properties: { afterId: count } },
    },
    handler: (request, reply) => answer(reply, async () => ({
      messages: await conversations.messages(request.switchboard.site, (request.params as { id: string }).id, callerOf(request.switchboard), num((request.query as { afterId?: string }).afterId)),
    })),
  });

  const medium = { type: 'object', required: ['medium'], additionalProperties: false, properties: { medium: { type: 'string', enum: [...ESCALATION_MEDIA] } } };
  const escalated = async (reply: FastifyReply, work: () => Promise<EscalationOutcome>): Promise<unknown> => {
    try {
      const outcome = await work();
      // 202: announced as im.escalate, but no plugin handles the medium right now.
      return await reply.code(outcome.handledBy ? 200 : 202).send(outcome);
    } catch (err) {
      if (err instanceof ImError) return reply.code(err.statusCode).send(err.toJSON());
      throw err;
    }
  };

  ctx.http.route({
    method: 'POST',
    url: '/sites/:site/conversations/:id/escalate',
    schema: { params: conversationParams, body: medium },
    handler: (request, reply) => escalated(reply, () =>
      escalations.conversation(request.switchboard.site, (request.params as { id: string }).id, callerOf(request.switchboard), (request.body as { medium: EscalationMedium }).medium)),
  });

  ctx.http.route({
    method: 'POST',
    url: '/sites/:site/escalate',
    schema: { body: { ...medium, required: ['with', 'medium'], properties: { ...medium.properties, with: username } } },
    handler: (request, reply) => escalated(reply, () => {
      const input = request.body as { with: string; medium: EscalationMedium };
      return escalations.pair(request.switchboard.site, callerOf(request.switchboard), input.with, input.medium);
    }),
  });
}
