/**
 * Mounting a plugin's routes: one encapsulated fastify context per plugin
 * under its prefix. Every route first passes the core checks (site known,
 * plugin enabled there and healthy, admin token when asked), then runs the
 * plugin's handler under a deadline so it can fail only its own request.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { PluginRequestScope, PluginRouteOptions } from '@switchboard/sdk';
import { CoreError, coreError } from '../errors.ts';
import { HandlerTimeoutError, reasonOf, withDeadline } from '../host/containment.ts';
import { identify } from './auth.ts';
import { sendCoreError } from './error-reply.ts';
import type { TokenSigner } from './token.ts';

export interface MountedPlugin {
  id: string;
  prefix: string;
  routes: readonly PluginRouteOptions[];
}

export interface PluginRouteGate {
  hasSite(site: string): boolean;
  isEnabled(site: string, pluginId: string): boolean;
  /** Undefined when the plugin may serve; else the reason it may not. */
  unavailable(pluginId: string): CoreError | undefined;
  onFailure(pluginId: string, reason: string): void;
  handlerTimeoutMs: number;
  tokens: TokenSigner;
}

declare module 'fastify' {
  interface FastifyRequest {
    switchboard?: PluginRequestScope;
  }
}

export function mountPluginRoutes(app: FastifyInstance, plugin: MountedPlugin, gate: PluginRouteGate): void {
  app.register(async (child) => {
    for (const route of plugin.routes) child.route(toFastifyRoute(plugin.id, route, gate));
  }, { prefix: plugin.prefix });
}

function toFastifyRoute(pluginId: string, route: PluginRouteOptions, gate: PluginRouteGate): RouteOptions {
  return {
    method: route.method,
    url: route.url,
    ...(route.schema ? { schema: route.schema } : {}),
    // Declared for the core role guard; the plugin gate below checks site, plugin state and auth again.
    config: { role: route.auth === 'admin' ? 'admin' : 'public' },
    // Checks run before body validation so a disabled plugin does not leak its schema errors.
    onRequest: async (request, reply) => {
      const refused = admit(pluginId, route, gate, request);
      if (refused) return sendCoreError(reply, refused);
      return undefined;
    },
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        return await withDeadline(() => route.handler(request as never, reply), gate.handlerTimeoutMs);
      } catch (err) {
        if (reply.sent) return reply;
        if (err instanceof HandlerTimeoutError) {
          gate.onFailure(pluginId, `HTTP ${request.method} ${request.url}: ${err.message}`);
          return sendCoreError(reply, coreError('CORE_ERR_HANDLER_TIMEOUT', `${pluginId}: ${err.message}`));
        }
        const status = (err as { statusCode?: number }).statusCode;
        // A 4xx the plugin raised on purpose is an answer, not a failure.
        if (typeof status === 'number' && status >= 400 && status < 500) throw err;
        request.log.error({ err, plugin: pluginId }, 'plugin HTTP handler failed');
        gate.onFailure(pluginId, `HTTP ${request.method} ${request.url}: ${reasonOf(err)}`);
        return sendCoreError(reply, coreError('CORE_ERR_HANDLER_FAILED', pluginId));
      }
    },
  };
}

function admit(pluginId: string, route: PluginRouteOptions, gate: PluginRouteGate, request: FastifyRequest): CoreError | undefined {
  try {
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    const header = request.headers['x-switchboard-site'];
    const site = (params.site ?? (Array.isArray(header) ? header[0] : header))?.toLowerCase();
    if (!site) return coreError('CORE_ERR_SITE_REQUIRED');
    if (!gate.hasSite(site)) return coreError('CORE_ERR_SITE_NOT_FOUND', site);
    if (!gate.isEnabled(site, pluginId)) return coreError('CORE_ERR_PLUGIN_NOT_ENABLED', `${pluginId} on ${site}`);
    const down = gate.unavailable(pluginId);
    if (down) return down;
    const claims = identify(gate.tokens, request);
    // The role guard has resolved the caller from a Bearer token or the session cookie (http/role-guard.ts).
    const user = request.principal ? { username: request.principal.subject, role: request.principal.role }
      : claims ? { username: claims.sub, role: claims.role } : undefined;
    if (route.auth === 'admin' && user?.role !== 'admin') return coreError('CORE_ERR_AUTH_REQUIRED');
    request.switchboard = { site, ...(user ? { user } : {}) };
    return undefined;
  } catch (err) {
    if (err instanceof CoreError) return err;
    throw err;
  }
}
