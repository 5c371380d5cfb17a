/**
 * Theme and branding per site at runtime: site admins read and change their
 * site's appearance (persisted, live on the next page load); anyone may
 * fetch a site's colour stylesheet, which pages link to instead of carrying
 * inline styles.
 */
import type { FastifyInstance } from 'fastify';
import { coreError } from '../errors.ts';
import { APPEARANCE_CHANGE_SCHEMA } from '../ui/branding.ts';
import type { AppearanceChange, SiteAppearance } from '../ui/site-appearance.ts';

export interface AppearanceRouteOptions {
  appearance: SiteAppearance;
  hasSite(site: string): boolean;
}

const siteParams = { type: 'object', required: ['site'], properties: { site: { type: 'string', minLength: 1, maxLength: 253 } } } as const;

export function registerAppearanceRoutes(app: FastifyInstance, { appearance, hasSite }: AppearanceRouteOptions): void {
  const requireSite = (site: string) => {
    if (!hasSite(site)) throw coreError('CORE_ERR_SITE_NOT_FOUND', site);
    return site.toLowerCase();
  };

  app.get('/api/admin/themes', { config: { role: 'site-admin', siteFiltered: true } }, async () => ({ themes: appearance.themes.list() }));

  app.get<{ Params: { site: string } }>('/api/admin/sites/:site/branding', { schema: { params: siteParams }, config: { role: 'site-admin' } },
    async (request) => ({ appearance: appearance.view(requireSite(request.params.site)), themes: appearance.themes.list() }));

  app.put<{ Params: { site: string }; Body: AppearanceChange }>('/api/admin/sites/:site/branding', {
    schema: { params: siteParams, body: APPEARANCE_CHANGE_SCHEMA },
    config: { role: 'site-admin' },
  }, async (request) => {
    const site = requireSite(request.params.site);
    return { appearance: await appearance.change(site, request.body, request.principal?.subject ?? 'unknown') };
  });

  app.delete<{ Params: { site: string } }>('/api/admin/sites/:site/branding', { schema: { params: siteParams }, config: { role: 'site-admin' } },
    async (request) => {
      const site = requireSite(request.params.site);
      return { appearance: await appearance.change(site, { theme: null, branding: null }, request.principal?.subject ?? 'unknown') };
    });

  app.get<{ Params: { site: string } }>('/assets/sites/:site/branding.css', { schema: { params: siteParams }, config: { role: 'public' } },
    async (request, reply) => {
      const site = requireSite(request.params.site);
      const { css, version } = appearance.css(site);
      // The URL carries the version (?v=), so a page always links the current colours; revalidate by ETag.
      reply.header('etag', `"${version}"`);
      reply.header('cache-control', 'public, max-age=600');
      reply.header('x-content-type-options', 'nosniff');
      if (request.headers['if-none-match'] === `"${version}"`) return reply.code(304).send();
      return reply.type('text/css; charset=utf-8').send(css);
    });

  // Sites added or changed through the admin API may carry a theme on their record; a deleted site loses its stored appearance.
  // onSend, not onResponse: the change is applied before the caller hears back, so its next page load sees it.
  app.addHook('onSend', async (request, reply, payload) => {
    const url = request.routeOptions.url;
    if (reply.statusCode >= 300 || (url !== '/api/admin/sites' && url !== '/api/admin/sites/:site')) return payload;
    if (request.method === 'DELETE') await appearance.forget((request.params as { site: string }).site).catch(() => undefined);
    else if (request.method === 'POST' || request.method === 'PATCH') await appearance.refreshSiteThemes().catch(() => undefined);
    return payload;
  });
}
