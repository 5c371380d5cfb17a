/**
 * Signing in and out, and the caller's own account. Sign-in returns a Bearer
 * token (API clients, the CLI) and sets the same token as an HttpOnly,
 * SameSite=Lax cookie (web pages; Secure when the request came over https).
 * Logout revokes the token for the rest of its life in this process.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CoreError, coreError } from '../errors.ts';
import type { Principal, SignInService } from '../identity/sign-in.ts';
import type { UserAccounts } from '../identity/user-accounts.ts';
import type { UserDirectory } from '../identity/user-directory.ts';
import { changePasswordSchema } from '../identity/user-schemas.ts';
import { hashPassword, verifyPassword } from '../identity/credentials.ts';
import { AdminUserEntity } from '../host/admin-users.ts';
import { sendCoreError } from './error-reply.ts';
import { bearerOf, type TokenSigner } from './token.ts';
import type { DataSource } from 'typeorm';

export const SESSION_COOKIE = 'sb_session';

export interface SessionOptions {
  tokens: TokenSigner;
  signIn: SignInService;
  directory: UserDirectory;
  accounts: UserAccounts;
  dataSource: DataSource;
  /** Per-address request cap on the login route (@fastify/rate-limit, registered by auth.ts). */
  loginRateLimit: { max: number; timeWindowMs: number };
}

const loginSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['username', 'password'],
    properties: {
      username: { type: 'string', minLength: 1, maxLength: 320 },
      site: { type: 'string', format: 'hostname', minLength: 1, maxLength: 253 },
      password: { type: 'string', minLength: 1, maxLength: 1024 },
    },
  },
} as const;

/** Revoked tokens until they would have expired anyway. */
export class RevokedTokens {
  readonly #until = new Map<string, number>();

  revoke(token: string, exp: number): void {
    this.#prune();
    this.#until.set(token, exp);
  }

  has(token: string): boolean {
    return this.#until.has(token);
  }

  #prune(): void {
    const now = Date.now();
    for (const [token, exp] of this.#until) if (exp <= now) this.#until.delete(token);
  }
}

/** The request's token: the Bearer header first, else the session cookie. */
export function tokenOf(request: FastifyRequest): string | undefined {
  return bearerOf(request.headers.authorization) ?? cookieValue(request.headers.cookie, SESSION_COOKIE);
}

/** Resolver for the role guard: a bad or revoked token is an error, no token is anonymous. */
export function principalResolver(tokens: TokenSigner, signIn: SignInService, revoked: RevokedTokens) {
  return async (request: FastifyRequest): Promise<Principal | undefined> => {
    const token = tokenOf(request);
    if (!token) return undefined;
    const claims = revoked.has(token) ? undefined : tokens.verify(token);
    if (!claims) throw coreError('CORE_ERR_AUTH_REQUIRED', 'the token is invalid, expired or signed out');
    const principal = await signIn.principalOf(claims.sub, claims.role);
    if (!principal) throw coreError('CORE_ERR_AUTH_REQUIRED', 'the account no longer exists or is disabled');
    // Plugin routes and older admin routes read adminClaims.
    request.adminClaims = claims;
    return principal;
  };
}

export function registerSessionRoutes(app: FastifyInstance, options: SessionOptions, revoked: RevokedTokens): void {
  const { tokens, signIn } = options;

  app.post<{ Body: { username: string; site?: string; password: string } }>('/api/auth/login', {
    schema: loginSchema,
    config: { role: 'public', rateLimit: { max: options.loginRateLimit.max, timeWindow: options.loginRateLimit.timeWindowMs } },
  }, async (request, reply) => {
    let principal: Principal;
    try {
      principal = await signIn.check(request.body, request.ip);
    } catch (err) {
      return lockoutReply(reply, err);
    }
    const token = tokens.sign(principal.subject, principal.role);
    reply.header('set-cookie', sessionCookie(token, request.protocol === 'https'));
    return { token, role: principal.role, ...(principal.site ? { site: principal.site } : {}) };
  });

  app.post('/api/auth/logout', { config: { role: 'public' } }, async (request, reply) => {
    const token = tokenOf(request);
    const claims = token ? tokens.verify(token) : undefined;
    if (token && claims) revoked.revoke(token, claims.exp);
    reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${request.protocol === 'https' ? '; Secure' : ''}`);
    return reply.code(204).send();
  });

  app.get('/api/me', { config: { role: 'user' } }, async (request) => {
    const principal = request.principal!;
    if (!principal.site) return { username: principal.username, role: principal.role };
    const user = await options.directory.findUser(principal.site, principal.username);
    if (!user) throw coreError('CORE_ERR_AUTH_REQUIRED', 'the account no longer exists');
    return user;
  });

  app.post<{ Body: { oldPassword: string; newPassword: string } }>('/api/me/password', {
    schema: { body: changePasswordSchema },
    config: { role: 'user' },
  }, async (request, reply) => {
    const principal = request.principal!;
    const locked = signIn.accountLockedFor(principal);
    if (locked > 0) return lockoutReply(reply, coreError('CORE_ERR_SIGNIN_LOCKED', `retry in ${Math.ceil(locked / 1000)} s`, { retryAfterMs: locked }));
    try {
      if (principal.site) {
        await options.accounts.changePassword(principal.site, principal.username, request.body.oldPassword, request.body.newPassword);
      } else {
        await changeAdminPassword(options.dataSource, principal.username, request.body.oldPassword, request.body.newPassword);
      }
    } catch (err) {
      if (err instanceof CoreError && err.code === 'CORE_ERR_PASSWORD_WRONG') signIn.failedReauthentication(principal);
      throw err;
    }
    return reply.code(204).send();
  });
}

async function changeAdminPassword(ds: DataSource, username: string, oldPassword: string, newPassword: string): Promise<void> {
  const repo = ds.getRepository(AdminUserEntity);
  const row = await repo.findOneBy({ username });
  if (!row || !(await verifyPassword(oldPassword, row.passwordHash))) throw coreError('CORE_ERR_PASSWORD_WRONG');
  await repo.update({ username }, { passwordHash: await hashPassword(newPassword) });
}

/** 423/429 carry Retry-After so clients know when to come back. */
function lockoutReply(reply: FastifyReply, err: unknown): FastifyReply {
  if (!(err instanceof CoreError)) throw err;
  const retryAfterMs = (err.details as { retryAfterMs?: number } | undefined)?.retryAfterMs;
  if (retryAfterMs !== undefined) reply.header('retry-after', String(Math.ceil(retryAfterMs / 1000)));
  return sendCoreError(reply, err);
}

function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim()) || undefined;
    } catch {
      return undefined; // malformed escapes: no token, so the caller is anonymous (401 where it matters)
    }
  }
  return undefined;
}
