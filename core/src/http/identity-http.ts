/**
 * Mounting identity on the core HTTP server in two steps: the role guard
 * first (before any route, so every later route must declare its role),
 * then the sign-in, account and site/user routes, plus the route catalogue
 * admins (and the all-routes role test) read.
 */
import type { FastifyInstance } from 'fastify';
import type { Identity } from '../identity/identity-services.ts';
import { registerIdentityRoutes } from './identity-routes.ts';
import { installRoleGuard, type RouteEntry } from './role-guard.ts';
import { principalResolver, registerSessionRoutes, RevokedTokens } from './session-routes.ts';
import type { TokenSigner } from './token.ts';

export interface IdentityHttp {
  /** Every route registered so far with its declared role. */
  routes: RouteEntry[];
  revoked: RevokedTokens;
}

export function installIdentityGuard(app: FastifyInstance, identity: Identity, tokens: TokenSigner): IdentityHttp {
  const revoked = new RevokedTokens();
  const routes = installRoleGuard(app, { resolve: principalResolver(tokens, identity.signIn, revoked) });
  return { routes, revoked };
}

export function registerIdentityHttp(
  app: FastifyInstance,
  mounted: IdentityHttp,
  options: { identity: Identity; tokens: TokenSigner; loginRateLimit: { max: number; timeWindowMs: number } },
): void {
  const { identity, tokens } = options;
  registerSessionRoutes(app, {
    tokens,
    signIn: identity.signIn,
    directory: identity.directory,
    accounts: identity.accounts,
    dataSource: identity.dataSource,
    loginRateLimit: options.loginRateLimit,
  }, mounted.revoked);
  registerIdentityRoutes(app, { sites: identity.sites, accounts: identity.accounts, directory: identity.directory });
  app.get('/api/admin/routes', { config: { role: 'admin' } }, async () => ({
    routes: mounted.routes.map((r) => ({ ...r })).sort((a, b) => (a.url === b.url ? a.method.localeCompare(b.method) : a.url.localeCompare(b.url))),
  }));
}
