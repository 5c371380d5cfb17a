/**
 * Upload (base64 JSON; in one request or, past PART_BYTES, in parts) and
 * authenticated download of files.
 */
import type { PluginContext } from '@switchboard/sdk';
import type { ImConfig } from '../config.ts';
import { ImError } from '../errors.ts';
import { PART_BYTES, type Files } from '../files.ts';
import { answer, callerOf, username } from './common.ts';

const fileName = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^/\\\\\\u0000-\\u001f]+$' };
const fileContentType = { type: 'string', maxLength: 100, pattern: '^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$' };
const conversationId = { type: 'string', pattern: '^[0-9a-f]{12}$' };
const uploadParams = { type: 'object', required: ['site', 'id'], properties: { site: { type: 'string' }, id: { type: 'string', pattern: '^[0-9a-f]{32}$' } } };
const base64 = (maxBytes: number) => ({ type: 'string', minLength: 1, maxLength: Math.ceil(maxBytes / 3) * 4, pattern: '^[A-Za-z0-9+/]*={0,2}$' });

export function registerFileRoutes(ctx: PluginContext<ImConfig>, files: Files): void {
  ctx.http.route({
    method: 'POST',
    url: '/sites/:site/files',
    schema: {
      body: {
        type: 'object',
        required: ['name', 'data'],
        additionalProperties: false,
        properties: {
          name: fileName,
          contentType: fileContentType,
          /** The file, base64; the host takes at most 1 MiB per request, so larger files go to /uploads in parts. */
          data: { ...base64(780_000), minLength: 0 },
          to: username,
          conversation: conversationId,
        },
        oneOf: [{ required: ['to'] }, { required: ['conversation'] }],
      },
    },
    handler: (request, reply) => answer(reply, async () => {
      const input = request.body as { name: string; contentType?: string; data: string; to?: string; conversation?: string };
      return files.upload({
        site: request.switchboard.site, owner: callerOf(request.switchboard), name: input.name,
        contentType: input.contentType ?? 'application/octet-stream', data: Buffer.from(input.data, 'base64'),
        ...(input.to ? { to: input.to } : {}), ...(input.conversation ? { conversation: input.conversation } : {}),
      });
    }, 201),
  });

  ctx.http.route({
    method: 'GET',
    url: '/sites/:site/files/:id',
    schema: { params: { type: 'object', required: ['site', 'id'], properties: { site: { type: 'string' }, id: { type: 'string', pattern: '^[0-9a-f]{32}$' } } } },
    handler: async (request, reply) => {
      try {
        const { file, body } = await files.download(request.switchboard.site, (request.params as { id: string }).id, callerOf(request.switchboard));
        const ascii = file.name.replace(/[^\x20-\x7e]|["\\]/g, '_');
        return reply
          .header('content-type', file.contentType)
          .header('content-length', String(file.size))
          .header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.name)}`)
          .header('x-content-type-options', 'nosniff')
          .send(body);
      } catch (err) {
        if (err instanceof ImError) return reply.code(err.statusCode).send(err.toJSON());
        throw err;
      }
    },
  });

  ctx.http.route({
    method: 'POST',
    url: '/sites/:site/uploads',
    schema: {
      body: {
        type: 'object',
        required: ['name', 'size'],
        additionalProperties: false,
        properties: { name: fileName, contentType: fileContentType, size: { type: 'integer', minimum: 1 }, to: username, conversation: conversationId },
        oneOf: [{ required: ['to'] }, { required: ['conversation'] }],
      },
    },
    handler: (request, reply) => answer(reply, async () => {
      const input = request.body as { name: string; contentType?: string; size: number; to?: string; conversation?: string };
      return files.start({
        site: request.switchboard.site, owner: callerOf(request.switchboard), name: input.name, size: input.size,
        contentType: input.contentType ?? 'application/octet-stream',
        ...(input.to ? { to: input.to } : {}), ...(input.conversation ? { conversation: input.conversation } : {}),
      });
    }, 201),
  });

  ctx.http.route({
    method: 'GET',
    url: '/sites/:site/uploads/:id',
    schema: { params: uploadParams },
    handler: (request, reply) => answer(reply, async () =>
      files.status(request.switchboard.site, (request.params as { id: string }).id, callerOf(request.switchboard))),
  });

  ctx.http.route({
    method: 'PUT',
    url: '/sites/:site/uploads/:id',
    schema: {
      params: uploadParams,
      body: { type: 'object', required: ['offset', 'data'], additionalProperties: false, properties: { offset: { type: 'integer', minimum: 0 }, data: base64(PART_BYTES) } },
    },
    handler: (request, reply) => answer(reply, async () => {
      const input = request.body as { offset: number; data: string };
      return files.append(request.switchboard.site, (request.params as { id: string }).id, callerOf(request.switchboard), input.offset, Buffer.from(input.data, 'base64'));
    }),
  });

  ctx.http.route({
    method: 'POST',
    url: '/sites/:site/uploads/:id/complete',
    schema: { params: uploadParams },
    handler: (request, reply) => answer(reply, async () =>
      files.complete(request.switchboard.site, (request.params as { id: string }).id, callerOf(request.switchboard)), 201),
  });

  ctx.http.route({
    method: 'DELETE',
    url: '/sites/:site/uploads/:id',
    schema: { params: uploadParams },
    handler: async (request, reply) => {
      try {
        await files.cancel(request.switchboard.site, (request.params as { id: string }).id, callerOf(request.switchboard));
        return reply.code(204).send();
      } catch (err) {
        if (err instanceof ImError) return reply.code(err.statusCode).send(err.toJSON());
        throw err;
      }
    },
  });
}
