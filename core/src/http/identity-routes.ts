/**
 * Admin API for sites and their users, including CSV import. Roles: host
 * admins create and delete sites; a site's admins manage its users (and see
 * only their own site in lists). Bodies are checked with the shared schemas
 * in identity/user-schemas.ts before anything is touched.
 */
import type { FastifyInstance } from 'fastify';
import { coreError } from '../errors.ts';
import { importUsers, parseUserCsv } from '../identity/csv-import.ts';
import type { SiteCatalog } from '../identity/site-catalog.ts';
import type { UserAccounts } from '../identity/user-accounts.ts';
import type { UserDirectory } from '../identity/user-directory.ts';
import {
  createSiteSchema, createUserSchema, resetPasswordSchema, updateSiteSchema, updateUserSchema,
  type CreateUserInput, type UpdateUserInput,
} from '../identity/user-schemas.ts';
import { siteLimit } from './role-guard.ts';

export interface IdentityRouteOptions {
  sites: SiteCatalog;
  accounts: UserAccounts;
  directory: UserDirectory;
  /** Largest CSV body accepted by the import, in bytes. */
  importLimitBytes?: number;
}

type SiteParams = { site: string };
type UserParams = { site: string; username: string };

const siteParams = { type: 'object', required: ['site'], properties: { site: { type: 'string', minLength: 1, maxLength: 253 } } } as const;
const userParams = {
  type: 'object',
  required: ['site', 'username'],
  properties: { site: { type: 'string', minLength: 1, maxLength: 253 }, username: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;
const listQuery = { type: 'object', additionalProperties: false, properties: { q: { type: 'string', maxLength: 100 } } } as const;

export function registerIdentityRoutes(app: FastifyInstance, options: IdentityRouteOptions): void {
  registerSiteRoutes(app, options);
  registerUserRoutes(app, options);
}

function registerSiteRoutes(app: FastifyInstance, { sites }: IdentityRouteOptions): void {
  app.get('/api/admin/sites', { config: { role: 'site-admin', siteFiltered: true } }, async (request) => {
    const only = siteLimit(request);
    const list = await sites.list();
    return { sites: only === undefined ? list : list.filter((s) => s.domain === only) };
  });

  app.post<{ Body: { domain: string; name?: string; theme?: string } }>('/api/admin/sites', {
    schema: { body: createSiteSchema },
    config: { role: 'admin' },
  }, async (request, reply) => reply.code(201).send({ site: await sites.add(request.body) }));

  app.get<{ Params: SiteParams }>('/api/admin/sites/:site', { schema: { params: siteParams }, config: { role: 'site-admin' } },
    async (request) => ({ site: await sites.get(request.params.site) }));

  app.patch<{ Params: SiteParams; Body: { name?: string | null; theme?: string | null } }>('/api/admin/sites/:site', {
    schema: { params: siteParams, body: updateSiteSchema },
    config: { role: 'site-admin' },
  }, async (request) => ({ site: await sites.update(request.params.site, request.body) }));

  app.delete<{ Params: SiteParams }>('/api/admin/sites/:site', { schema: { params: siteParams }, config: { role: 'admin' } },
    async (request, reply) => {
      await sites.remove(request.params.site);
      return reply.code(204).send();
    });
}

function registerUserRoutes(app: FastifyInstance, { accounts, directory, sites, importLimitBytes }: IdentityRouteOptions): void {
  const requireSite = async (site: string) => {
    await sites.get(site); // CORE_ERR_SITE_NOT_FOUND
  };

  app.get<{ Params: SiteParams; Querystring: { q?: string } }>('/api/admin/sites/:site/users', {
    schema: { params: siteParams, querystring: listQuery },
    config: { role: 'site-admin' },
  }, async (request) => {
    await requireSite(request.params.site);
    return { users: await directory.views(request.params.site, request.query.q) };
  });

  app.post<{ Params: SiteParams; Body: CreateUserInput }>('/api/admin/sites/:site/users', {
    schema: { params: siteParams, body: createUserSchema },
    config: { role: 'site-admin' },
  }, async (request, reply) => reply.code(201).send({ user: await accounts.create(request.params.site, request.body) }));

  app.get<{ Params: UserParams }>('/api/admin/sites/:site/users/:username', { schema: { params: userParams }, config: { role: 'site-admin' } },
    async (request) => {
      await requireSite(request.params.site);
      const user = await directory.view(request.params.site, request.params.username);
      if (!user) throw coreError('CORE_ERR_USER_NOT_FOUND', `${request.params.username}@${request.params.site}`);
      return { user };
    });

  app.patch<{ Params: UserParams; Body: UpdateUserInput }>('/api/admin/sites/:site/users/:username', {
    schema: { params: userParams, body: updateUserSchema },
    config: { role: 'site-admin' },
  }, async (request) => ({ user: await accounts.update(request.params.site, request.params.username, request.body) }));

  app.delete<{ Params: UserParams }>('/api/admin/sites/:site/users/:username', { schema: { params: userParams }, config: { role: 'site-admin' } },
    async (request, reply) => {
      await accounts.remove(request.params.site, request.params.username);
      return reply.code(204).send();
    });

  app.post<{ Params: UserParams; Body: { password: string } }>('/api/admin/sites/:site/users/:username/password', {
    schema: { params: userParams, body: resetPasswordSchema },
    config: { role: 'site-admin' },
  }, async (request, reply) => {
    await accounts.setPassword(request.params.site, request.params.username, request.body.password);
    return reply.code(204).send();
  });

  // CSV needs its own body parser; keep it to this route's context.
  app.register(async (scope) => {
    const bodyLimit = importLimitBytes ?? 5 * 1024 * 1024;
    scope.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));
    scope.post<{ Params: SiteParams; Body: string }>('/api/admin/sites/:site/users/import', {
      schema: { params: siteParams },
      bodyLimit,
      config: { role: 'site-admin' },
    }, async (request) => {
      await requireSite(request.params.site);
      if (typeof request.body !== 'string') throw coreError('CORE_ERR_IMPORT_INVALID', 'send the file as text/csv');
      return { report: await importUsers(accounts, request.params.site, parseUserCsv(request.body)) };
    });
  });
}
