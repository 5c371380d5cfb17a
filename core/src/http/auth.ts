/**
 * Token helpers for plugin routes, and the per-address rate limit on login.
 * The login route itself and the role checks live with identity
 * (session-routes.ts, role-guard.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { coreError } from '../errors.ts';
import { bearerOf, type TokenClaims, type TokenSigner } from './token.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when a valid Bearer token came with the request. */
    adminClaims?: TokenClaims;
  }
}

/** Reads the Bearer token, if any; a bad token is an error, not anonymous. */
export function identify(tokens: TokenSigner, request: FastifyRequest): TokenClaims | undefined {
  const token = bearerOf(request.headers.authorization);
  if (!token) return undefined;
  const claims = tokens.verify(token);
  if (!claims) throw coreError('CORE_ERR_AUTH_REQUIRED', 'the token is invalid or expired');
  return claims;
}

export function requireAdmin(tokens: TokenSigner, request: FastifyRequest): TokenClaims {
  const claims = identify(tokens, request);
  if (!claims || claims.role !== 'admin') throw coreError('CORE_ERR_AUTH_REQUIRED');
  request.adminClaims = claims;
  return claims;
}

/** Enables per-route `config.rateLimit` (login uses it) so a password cannot be guessed at network speed. */
export async function registerLoginRateLimit(app: FastifyInstance): Promise<void> {
  await app.register(rateLimit, { global: false });
}
