/** The signed-in user behind a plugin route, as the core's role guard resolved it. */
import type { FastifyReply } from 'fastify';
import type { PluginRequestScope } from '@switchboard/sdk';
import { PRESENCE_ERRORS, type PresenceErrorCode } from '../errors.ts';

export interface Caller {
  site: string;
  username: string;
  /** `user@site`, the watcher key of this caller. */
  key: string;
}

/** The caller when it is a user of some site (token subject `user@site`); undefined for admins and anonymous callers. */
export function callerOf(scope: PluginRequestScope): Caller | undefined {
  const subject = scope.user?.username;
  const at = subject?.lastIndexOf('@') ?? -1;
  if (!subject || at <= 0) return undefined;
  const username = subject.slice(0, at).toLowerCase();
  const site = subject.slice(at + 1).toLowerCase();
  return { site, username, key: `${username}@${site}` };
}

export function sendError(reply: FastifyReply, status: number, code: PresenceErrorCode, detail?: string): FastifyReply {
  return reply.code(status).send({ code, message: detail ? `${PRESENCE_ERRORS[code]}: ${detail}` : PRESENCE_ERRORS[code] });
}
