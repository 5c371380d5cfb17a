/**
 * `GET /api/live`: the WebSocket browser clients keep open. The session
 * cookie set at sign-in authenticates it (browsers send it on the upgrade);
 * API clients may pass `?token=` instead. Host admins have no site and get
 * no live session.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import type { Principal } from '../identity/sign-in.ts';
import type { LiveHub, LiveSocket } from './live-hub.ts';

export interface LiveRouteOptions {
  hub: LiveHub;
  /** Resolves a `?token=` (for clients that cannot send the cookie). */
  principalOfToken(token: string): Promise<Principal | undefined>;
  /** Largest frame the socket accepts at all (bytes); bigger frames close it. */
  maxPayload?: number;
}

export async function registerLiveRoutes(app: FastifyInstance, options: LiveRouteOptions): Promise<void> {
  await app.register(websocket, { options: { maxPayload: options.maxPayload ?? 1024 * 1024 } });
  app.get('/api/live', { websocket: true, config: { role: 'public' } }, async (socket, request: FastifyRequest) => {
    const token = (request.query as Record<string, unknown> | undefined)?.token;
    let principal = request.principal;
    if (!principal && typeof token === 'string' && token.length > 0) {
      principal = await options.principalOfToken(token).catch(() => undefined);
    }
    if (!principal || !principal.site) {
      // 4401: the client should sign in (again) rather than reconnect in a loop.
      socket.close(4401, principal ? 'host admins have no live session; sign in as a site user' : 'sign in first');
      return;
    }
    options.hub.attach(socket as unknown as LiveSocket, { site: principal.site, username: principal.username });
  });
}
