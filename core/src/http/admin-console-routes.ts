/**
 * The admin console: one page at /admin (drawn with the default theme, or
 * with a site's theme and branding when `?site=` names one) whose browser
 * code lives in core/public/admin and talks to the admin API. Besides it,
 * the API the console needs and the core lacked: background CSV imports
 * (import-jobs.ts) and a site's live SIP registrations.
 */
import type { FastifyInstance } from 'fastify';
import type { SipEndpoint } from '@switchboard/sdk';
import { coreError } from '../errors.ts';
import type { Identity } from '../identity/identity-services.ts';
import type { PageRenderer } from '../ui/page-renderer.ts';
import { ImportJobs, registerImportJobRoutes } from './import-jobs.ts';

export interface AdminConsoleOptions {
  pages: PageRenderer;
  identity: Identity;
  hasSite(site: string): boolean;
  /** A user's registered endpoints (the registrar's location service). */
  endpoints(site: string, username: string): SipEndpoint[];
}

const siteParams = { type: 'object', required: ['site'], properties: { site: { type: 'string', minLength: 1, maxLength: 253 } } } as const;
const userParams = {
  type: 'object',
  required: ['site', 'username'],
  properties: { site: siteParams.properties.site, username: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/** Static shell; app.js fills it. Trusted markup: nothing here comes from a request. */
const consoleMain = (signedIn: boolean) => `<div id="sb-admin" class="sb-admin" data-state="loading" data-signed-in="${signedIn}">
<p class="sb-admin-loading" id="sb-admin-loading">Loading…</p>
<noscript><p class="sb-error">The admin console needs JavaScript.</p></noscript>
</div>`;

export function registerAdminConsoleRoutes(app: FastifyInstance, options: AdminConsoleOptions): void {
  const { identity } = options;
  const requireSite = async (site: string) => (await identity.sites.get(site)).domain;

  app.get<{ Querystring: { site?: string } }>('/admin', {
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { site: { type: 'string', maxLength: 253 } } } },
    config: { role: 'public' },
  }, async (request, reply) => {
    const site = request.query.site && options.hasSite(request.query.site) ? request.query.site : undefined;
    const html = options.pages.renderCore({
      title: 'Admin console',
      layout: 'plain',
      ...(site ? { site } : {}),
      styles: ['/assets/core/admin/admin.css'],
      scripts: ['/assets/core/admin/app.js'],
      // Tells the script whether to ask /api/me at all (no 401 in the console for a visitor).
      main: consoleMain(request.principal !== undefined),
    });
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });

  app.get('/admin/', { config: { role: 'public' } }, async (_request, reply) => reply.redirect('/admin', 301));

  registerImportJobRoutes(app, { jobs: new ImportJobs(identity.accounts), requireSite });

  app.get<{ Params: { site: string } }>('/api/admin/sites/:site/registrations', { schema: { params: siteParams }, config: { role: 'site-admin' } },
    async (request) => {
      const site = await requireSite(request.params.site);
      const users = await identity.directory.views(site);
      return {
        users: users.map((u) => ({ username: u.username, displayName: u.displayName, endpoints: options.endpoints(site, u.username) })),
      };
    });

  app.get<{ Params: { site: string; username: string } }>('/api/admin/sites/:site/users/:username/registrations', {
    schema: { params: userParams },
    config: { role: 'site-admin' },
  }, async (request) => {
    const site = await requireSite(request.params.site);
    const user = await identity.directory.findUser(site, request.params.username);
    if (!user) throw coreError('CORE_ERR_USER_NOT_FOUND', `${request.params.username}@${site}`);
    return { username: user.username, endpoints: options.endpoints(site, user.username) };
  });
}
