/**
 * Roles on every route. Each route declares `config: { role }`; a route
 * without one makes registration fail, so nothing is open by accident.
 * One onRequest hook (before body parsing and validation, so a refused
 * caller learns nothing from 400s) resolves the caller and checks the role:
 *
 * - `public`: anyone; the caller is still resolved when a valid token came.
 * - `user`: any signed-in caller.
 * - `site-admin`: a host admin, or a site-admin of the route's `:site`. A
 *   route without `:site` must say `siteFiltered: true`: it then admits
 *   site-admins and must itself show them only their own site.
 * - `admin`: host admins only.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { coreError } from '../errors.ts';
import type { Principal } from '../identity/sign-in.ts';

export type RouteRole = 'public' | 'user' | 'site-admin' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; required on every route (see role-guard.ts). */
    role?: RouteRole;
    /** A `site-admin` route without `:site` that filters its answer to the caller's site. */
    siteFiltered?: boolean;
  }
  interface FastifyRequest {
    /** The signed-in caller, when there is one. */
    principal?: Principal;
  }
}

/** One registered route and the role it declared. */
export interface RouteEntry {
  method: string;
  url: string;
  role: RouteRole;
  siteFiltered: boolean;
}

export interface RoleGuardOptions {
  /** The caller behind the request's credentials; throws CORE_ERR_AUTH_REQUIRED for a bad token, undefined without one. */
  resolve(request: FastifyRequest): Promise<Principal | undefined>;
}

const ROLES = new Set<RouteRole>(['public', 'user', 'site-admin', 'admin']);

/** Install on the root instance before any route; returns the live list of routes and roles. */
export function installRoleGuard(app: FastifyInstance, options: RoleGuardOptions): RouteEntry[] {
  const routes: RouteEntry[] = [];
  app.addHook('onRoute', (route) => {
    const role = route.config?.role;
    const methods = [route.method].flat().map(String);
    const where = `${methods.join(',')} ${route.url}`;
    if (!role || !ROLES.has(role)) throw coreError('CORE_ERR_ROUTE_ROLE_MISSING', where);
    const siteFiltered = route.config?.siteFiltered === true;
    if (role === 'site-admin' && !/(^|\/):site(\/|$)/.test(route.url) && !siteFiltered) {
      throw coreError('CORE_ERR_ROUTE_ROLE_MISSING', `${where} is site-admin but has no :site and is not siteFiltered`);
    }
    for (const method of methods) {
      if (method !== 'HEAD') routes.push({ method, url: route.url, role, siteFiltered });
    }
  });
  app.addHook('onRequest', async (request) => {
    const role = request.routeOptions.config?.role;
    if (!role) return; // not-found handler
    if (role === 'public') {
      request.principal = await options.resolve(request).catch(() => undefined);
      return;
    }
    const principal = await options.resolve(request);
    if (!principal) throw coreError('CORE_ERR_AUTH_REQUIRED');
    request.principal = principal;
    if (!admits(role, principal, request)) {
      throw coreError('CORE_ERR_FORBIDDEN', `${request.method} ${request.routeOptions.url ?? request.url} needs ${role}`);
    }
  });
  return routes;
}

function admits(role: RouteRole, principal: Principal, request: FastifyRequest): boolean {
  if (principal.role === 'admin') return true;
  if (role === 'user') return true;
  if (role === 'admin') return false;
  if (principal.role !== 'site-admin') return false;
  const site = (request.params as Record<string, string | undefined> | undefined)?.site;
  if (site !== undefined) return site.toLowerCase() === principal.site;
  return request.routeOptions.config?.siteFiltered === true;
}

/** The site a site-admin is limited to, undefined for host admins (every site). */
export function siteLimit(request: FastifyRequest): string | undefined {
  // '' matches no site: a caller without a site sees nothing rather than everything.
  return request.principal?.role === 'admin' ? undefined : (request.principal?.site ?? '');
}
