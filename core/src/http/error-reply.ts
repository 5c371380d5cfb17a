/**
 * One error body for every failure the HTTP API reports:
 * `{ code, message, details? }` with the registry's status.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { CoreError, coreError } from '../errors.ts';
import './entry-routes.ts';

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export function sendCoreError(reply: FastifyReply, err: CoreError): FastifyReply {
  // A browser loading a page gets the same error as a themed page (entry-routes.ts).
  const html = reply.server.switchboardHtmlError?.(err, reply.request);
  if (html !== undefined) return reply.code(err.httpStatus).type('text/html; charset=utf-8').send(html);
  const body: ErrorBody = { code: err.code, message: err.message };
  if (err.details !== undefined) body.details = err.details;
  return reply.code(err.httpStatus).type('application/json').send(body);
}

export function installErrorReplies(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | CoreError, request, reply) => {
    if (error instanceof CoreError) return sendCoreError(reply, error);
    const fe = error as FastifyError;
    if (fe.validation) {
      return sendCoreError(reply, coreError('CORE_ERR_REQUEST_INVALID', fe.message, fe.validation));
    }
    if (fe.statusCode === 429) return sendCoreError(reply, coreError('CORE_ERR_RATE_LIMITED'));
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.code(fe.statusCode).send({ code: fe.code ?? 'CORE_ERR_REQUEST_INVALID', message: fe.message });
    }
    request.log.error({ err: error }, 'request failed');
    return sendCoreError(reply, coreError('CORE_ERR_INTERNAL'));
  });
  app.setNotFoundHandler((request, reply) =>
    sendCoreError(reply, coreError('CORE_ERR_ROUTE_NOT_FOUND', `${request.method} ${request.url}`)),
  );
}
