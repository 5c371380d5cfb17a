/**
 * HTTP routes of plugins activated after the server started listening.
 * fastify freezes its router at listen, so each late plugin gets its own
 * small fastify instance (with the same core gate as boot-time plugins, via
 * mountPluginRoutes) and one catch-all under /api/plugins/ forwards to it.
 * Routes mounted at boot match first: the router prefers static and
 * parametric paths over the wildcard.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { coreError } from '../errors.ts';
import { sendCoreError } from '../http/error-reply.ts';
import { createHttpServer } from '../http/server.ts';
import { mountPluginRoutes, type MountedPlugin, type PluginRouteGate } from '../http/plugin-routes.ts';

/** Prefixes a late plugin may use; others need a restart to be mounted. */
export const LATE_PREFIX_ROOT = '/api/plugins/';

const HOP_BY_HOP = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

export class LateRoutes {
  readonly #apps = new Map<string, { prefix: string; app: FastifyInstance }>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  static canServe(prefix: string): boolean {
    return prefix.startsWith(LATE_PREFIX_ROOT);
  }

  /** Install the catch-all on the core server; call before listen. */
  attach(app: FastifyInstance): void {
    app.register(async (scope) => {
      // Forward the body untouched; the plugin's own instance parses and validates it.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
      // The late plugin's own instance applies the core gate (site, enabled, route auth).
      scope.all(`${LATE_PREFIX_ROOT}*`, { config: { role: 'public' } }, async (request, reply) => {
        const path = request.url.split('?')[0] ?? '';
        const target = [...this.#apps.values()].find((m) => path === m.prefix || path.startsWith(`${m.prefix}/`));
        if (!target) return sendCoreError(reply, coreError('CORE_ERR_ROUTE_NOT_FOUND', `${request.method} ${request.url}`));
        const headers = { ...request.headers };
        delete headers['content-length'];
        const res = await target.app.inject({
          method: request.method as 'GET',
          url: request.url,
          headers: headers as Record<string, string>,
          ...(Buffer.isBuffer(request.body) ? { payload: request.body } : {}),
        });
        reply.code(res.statusCode);
        for (const [name, value] of Object.entries(res.headers)) {
          if (!HOP_BY_HOP.has(name.toLowerCase()) && value !== undefined) reply.header(name, value);
        }
        return reply.send(res.rawPayload);
      });
    });
  }

  async mount(plugin: MountedPlugin, gate: PluginRouteGate): Promise<void> {
    const app = createHttpServer({ log: this.#log });
    mountPluginRoutes(app, plugin, gate);
    await app.ready();
    this.#apps.set(plugin.id, { prefix: plugin.prefix, app });
  }

  async unmount(pluginId: string): Promise<void> {
    const mounted = this.#apps.get(pluginId);
    this.#apps.delete(pluginId);
    await mounted?.app.close();
  }

  async close(): Promise<void> {
    for (const id of [...this.#apps.keys()]) await this.unmount(id);
  }
}
