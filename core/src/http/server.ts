/**
 * The core fastify instance. Plugin routes are mounted by the host before
 * listen; everything here is core-owned and not encapsulated away.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import type { Logger } from 'pino';
import { installErrorReplies } from './error-reply.ts';
import { lazyValidatorBuilder } from './lazy-validators.ts';

/**
 * The Content-Security-Policy of every response: scripts and styles only
 * from this origin (no inline script or style, no CDN), images also from
 * https (a branded logo), connections (fetch, the /api/live WebSocket) to
 * this origin only, and no framing.
 */
export const CONTENT_SECURITY_POLICY: Record<string, string[]> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:', 'https:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'media-src': ["'self'", 'blob:'],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

export interface HttpServerOptions {
  log: Logger;
}

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    // Per-request logs only from warn up, unless the host is quieter still.
    loggerInstance: options.log.child({ component: 'http' }, { level: options.log.levelVal > 40 ? options.log.level : 'warn' }),
    // Reject unknown fields instead of dropping them: bad input must change nothing and say why.
    ajv: { customOptions: { removeAdditional: false, allErrors: true, coerceTypes: false } },
    // Each route's schemas are compiled on its first request, not while the host starts (lazy-validators.ts).
    schemaController: { compilersFactory: { buildValidator: lazyValidatorBuilder as never } },
    // SIGTERM: stop accepting, let in-flight requests finish.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance;
  installErrorReplies(app);
  // Registered first, so its headers reach every route (hooks are resolved when the server gets ready).
  void app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    // Same-origin pages only; plain http on a LAN must keep working (no HSTS, no forced upgrade).
    strictTransportSecurity: false,
  });
  return app;
}

export interface HealthSource {
  health(): Record<string, unknown>;
}

export function registerHealthRoute(app: FastifyInstance, source: HealthSource): void {
  app.get('/api/health', { config: { role: 'public' } }, async () => ({ status: 'ok', ...source.health() }));
}
