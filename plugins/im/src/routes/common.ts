/**
 * What every IM route shares: the signed-in caller, JSON schemas of common
 * fields, and turning an ImError into its coded HTTP answer.
 */
import type { FastifyReply } from 'fastify';
import type { PluginRequestScope } from '@switchboard/sdk';
import { ImError } from '../errors.ts';

export const username = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\s@,]+$' };
export const body = { type: 'string', minLength: 1, maxLength: 1048576 };
export const contentType = { type: 'string', enum: ['text/plain', 'text/html'] };
/** Query strings arrive as text and the core's validator does not coerce. */
export const count = { type: 'string', pattern: '^[0-9]{1,9}$' };
export const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
export const conversationParams = { type: 'object', required: ['site', 'id'], properties: { site: { type: 'string' }, id: { type: 'string', pattern: '^[0-9a-f]{12}$' } } };

/** The signed-in user of `scope.site`, or an ImError. */
export function callerOf(scope: PluginRequestScope): string {
  const user = scope.user;
  if (!user) throw new ImError('IM_ERR_SIGN_IN_REQUIRED');
  const at = user.username.lastIndexOf('@');
  if (at < 0) throw new ImError('IM_ERR_WRONG_SITE', 'host admins have no mailbox; sign in as a user');
  if (user.username.slice(at + 1).toLowerCase() !== scope.site) throw new ImError('IM_ERR_WRONG_SITE');
  return user.username.slice(0, at).toLowerCase();
}

export async function answer(reply: FastifyReply, work: () => Promise<unknown>, status = 200): Promise<unknown> {
  try {
    return reply.code(status).send(await work());
  } catch (err) {
    if (err instanceof ImError) return reply.code(err.statusCode).send(err.toJSON());
    throw err;
  }
}
