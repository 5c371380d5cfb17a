/**
 * The admin API: plugin list and per-site plugin toggling. A site's admins
 * may toggle plugins for their own site and see only that site's settings.
 */
import type { FastifyInstance } from 'fastify';
import type { AdminService } from './admin-service.ts';
import { siteLimit } from './role-guard.ts';

const putSchema = {
  params: {
    type: 'object',
    required: ['site', 'id'],
    properties: { site: { type: 'string', minLength: 1 }, id: { type: 'string', minLength: 1 } },
  },
  body: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: { enabled: { type: 'boolean' }, config: { type: 'object' } },
  },
} as const;

export function registerAdminRoutes(app: FastifyInstance, admin: AdminService): void {
  app.register(async (scope) => {
    scope.get('/api/admin/plugins', { config: { role: 'site-admin', siteFiltered: true } }, async (request) => {
      const only = siteLimit(request);
      const plugins = admin.listPlugins();
      if (only === undefined) return { plugins };
      return { plugins: plugins.map((p) => ({ ...p, sites: Object.fromEntries(Object.entries(p.sites).filter(([domain]) => domain === only)) })) };
    });
    scope.put<{ Params: { site: string; id: string }; Body: { enabled?: boolean; config?: Record<string, unknown> } }>(
      '/api/admin/sites/:site/plugins/:id',
      { schema: putSchema, config: { role: 'site-admin' } },
      async (request) => {
        const who = request.principal?.subject ?? 'unknown';
        return { plugin: await admin.changeSitePlugin(request.params.site, request.params.id, request.body, who) };
      },
    );
  });
}
