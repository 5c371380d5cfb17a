/**
 * HTTP API for the web client, under /api/plugins/presence/sites/:site.
 * Every route needs a signed-in user of that site (Bearer token or session
 * cookie); answers about other users are filtered by the level each of
 * them gave the caller.
 *
 *   GET    /states                      states, labels and the site's custom states
 *   GET    /me                          my composed presence (full) and my manual state
 *   PUT    /me                          { state, custom?, note?, location? } set my manual state
 *   DELETE /me                          clear my manual state
 *   PUT    /me/idle                     { idleSeconds } web client idle report (automatic Inactive/Away)
 *   DELETE /me/idle                     the web client signed out
 *   GET    /users/:username             that user's presence as I may see it
 *   GET    /alerts?after=N              state changes of contacts I tagged (last 100, in memory)
 *   GET    /access                      levels I granted
 *   PUT    /access/:watcher             { level } grant (watcher: user or user@site)
 *   DELETE /access/:watcher             back to the default level
 *   GET    /contacts                    { groups, contacts (with presence and level) }
 *   POST   /contacts                    { address, displayName?, groupId?, position?, tagged?, level? }
 *   PATCH  /contacts/:id                { displayName?, groupId?, position?, tagged? }
 *   DELETE /contacts/:id
 *   POST   /groups                      { name, position? }
 *   PATCH  /groups/:id                  { name?, position? }
 *   DELETE /groups/:id                  (its contacts stay, ungrouped)
 *   GET    /distribution-groups         the site's distribution groups { id, name }
 *   GET    /distribution-groups/:id     expanded: members (users with presence as I may see it, numbers), unresolved entries
 *   POST   /distribution-groups/:id/contacts   { groupId? } add the members to my list (all or nothing)
 */
import type { FastifyReply } from 'fastify';
import type { PluginRequestScope, PluginRouteHandler } from '@switchboard/sdk';
import { isLevel, LEVELS, type AccessLevel } from '../access.ts';
import { ContactLists, normaliseAddress } from '../contacts.ts';
import { distributionGroups, expandGroup } from '../distribution.ts';
import { PresenceError, type PresenceErrorCode } from '../errors.ts';
import { getManualState, setManualState } from '../manual-state.ts';
import type { PresenceCore } from '../presence-core.ts';
import { STATE_LABELS, STATES } from '../states.ts';
import { callerOf, sendError, type Caller } from './caller.ts';

const STATUS: Record<PresenceErrorCode, number> = {
  PRESENCE_ERR_BODY_TOO_LARGE: 413,
  PRESENCE_ERR_MALFORMED_XML: 400,
  PRESENCE_ERR_NOT_PIDF: 400,
  PRESENCE_ERR_INVALID_PIDF: 400,
  PRESENCE_ERR_UNKNOWN_STATE: 400,
  PRESENCE_ERR_UNKNOWN_USER: 404,
  PRESENCE_ERR_AUTH_REQUIRED: 401,
  PRESENCE_ERR_CONTACT_NOT_FOUND: 404,
  PRESENCE_ERR_GROUP_NOT_FOUND: 404,
  PRESENCE_ERR_GROUP_EXISTS: 409,
  PRESENCE_ERR_CONTACT_EXISTS: 409,
  PRESENCE_ERR_LIMIT: 409,
  PRESENCE_ERR_BAD_INPUT: 400,
  PRESENCE_ERR_DISTRIBUTION_NOT_FOUND: 404,
};

const manualSchema = {
  type: 'object',
  required: ['state'],
  additionalProperties: false,
  properties: {
    state: { enum: [...STATES] },
    custom: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,39}$' },
    note: { type: 'string', maxLength: 1024 },
    location: { type: 'string', maxLength: 256 },
  },
};
const idParams = { type: 'object', required: ['site', 'id'], properties: { site: { type: 'string' }, id: { type: 'string', pattern: '^[1-9][0-9]{0,9}$' } } };
const idOf = (request: { params: unknown }): number => Number((request.params as { id: string }).id);
const contactChange = {
  displayName: { type: 'string', maxLength: 200 },
  groupId: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }] },
  position: { type: 'integer', minimum: 0, maximum: 1_000_000 },
  tagged: { type: 'boolean' },
};

type Handler = (caller: Caller, request: Parameters<PluginRouteHandler>[0], reply: FastifyReply) => unknown;

export function registerRoutes(core: PresenceCore): void {
  const { ctx } = core;
  const lists = new ContactLists(core);

  /** Only users of the route's site; errors of this plugin become their HTTP status. */
  const asUser = (handler: Handler): PluginRouteHandler => async (request, reply) => {
    const caller = callerOf(request.switchboard as PluginRequestScope);
    if (!caller || caller.site !== request.switchboard.site) return sendError(reply, 401, 'PRESENCE_ERR_AUTH_REQUIRED');
    try {
      return await handler(caller, request, reply);
    } catch (err) {
      if (err instanceof PresenceError) return sendError(reply, STATUS[err.code], err.code, err.detail);
      throw err;
    }
  };

  const presenceOfAddress = (caller: Caller, address: string) => {
    const at = address.lastIndexOf('@');
    if (address.startsWith('tel:') || at < 0) return undefined;
    const site = address.slice(at + 1);
    if (!ctx.sites.list().some((s) => s.domain === site) || !ctx.sites.isEnabled(site)) return undefined;
    return core.view(site, address.slice(0, at), { key: caller.key });
  };

  ctx.http.get('/sites/:site/states', asUser((caller) => ({
    states: STATES.map((id) => ({ id, label: STATE_LABELS[id] })),
    custom: ctx.config(caller.site).customStates,
    levels: LEVELS,
  })));

  ctx.http.get('/sites/:site/me', asUser(async (caller) => ({
    username: caller.username,
    presence: core.composed(caller.site, caller.username),
    manual: (await getManualState(core, caller.site, caller.username)) ?? null,
  })));

  ctx.http.route({
    method: 'PUT',
    url: '/sites/:site/me',
    schema: { body: manualSchema },
    handler: asUser(async (caller, request) => {
      const body = request.body as { state: (typeof STATES)[number]; custom?: string; note?: string; location?: string };
      if (body.custom) {
        // A site-defined state composes as its base state, whatever `state` said.
        const def = ctx.config(caller.site).customStates.find((c) => c.id === body.custom);
        if (!def) throw new PresenceError('PRESENCE_ERR_UNKNOWN_STATE', body.custom);
        body.state = def.base;
      }
      await setManualState(core, caller.site, caller.username, body);
      return { presence: core.composed(caller.site, caller.username) };
    }),
  });

  ctx.http.delete('/sites/:site/me', asUser(async (caller) => {
    await setManualState(core, caller.site, caller.username, undefined);
    return { presence: core.composed(caller.site, caller.username) };
  }));

  ctx.http.route({
    method: 'PUT',
    url: '/sites/:site/me/idle',
    schema: { body: { type: 'object', required: ['idleSeconds'], additionalProperties: false, properties: { idleSeconds: { type: 'integer', minimum: 0, maximum: 31_536_000 } } } },
    handler: asUser((caller, request) => {
      const automatic = core.idle.report(caller.site, caller.username, (request.body as { idleSeconds: number }).idleSeconds);
      return { automatic, presence: core.composed(caller.site, caller.username) };
    }),
  });

  ctx.http.delete('/sites/:site/me/idle', asUser((caller) => {
    core.idle.clear(caller.site, caller.username);
    return { presence: core.composed(caller.site, caller.username) };
  }));

  ctx.http.get('/sites/:site/users/:username', asUser(async (caller, request, reply) => {
    const { username } = request.params as { username: string };
    const user = await ctx.directory.findByAddress(caller.site, username.toLowerCase());
    if (!user || user.enabled === false) return sendError(reply, 404, 'PRESENCE_ERR_UNKNOWN_USER', username);
    const level = core.access.levelFor(caller.site, user.username, { key: caller.key });
    const view = core.view(caller.site, user.username, { key: caller.key });
    const rules = level === 'blocked' ? undefined : level;
    return {
      username: user.username,
      displayName: user.displayName,
      presence: view,
      ...(rules && rules !== 'public' && user.phone ? { phone: user.phone } : {}),
      ...(rules && user.email ? { email: user.email } : {}),
    };
  }));

  ctx.http.route({
    method: 'GET',
    url: '/sites/:site/alerts',
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { after: { type: 'string', pattern: '^[0-9]{1,15}$' } } } },
    handler: asUser((caller, request) => {
      const after = Number((request.query as { after?: string }).after ?? 0);
      return { alerts: core.alerts.since(caller.key, after) };
    }),
  });

  ctx.http.get('/sites/:site/access', asUser((caller) => ({ defaultLevel: ctx.config(caller.site).defaultLevel, grants: core.access.grants(caller.site, caller.username) })));

  ctx.http.route({
    method: 'PUT',
    url: '/sites/:site/access/:watcher',
    schema: { body: { type: 'object', required: ['level'], additionalProperties: false, properties: { level: { enum: [...LEVELS] } } } },
    handler: asUser(async (caller, request) => {
      const { address } = normaliseAddress(caller.site, (request.params as { watcher: string }).watcher);
      const { level } = request.body as { level: AccessLevel };
      await core.access.set(caller.site, caller.username, address, level);
      core.accessChanged(caller.site, caller.username);
      return { watcher: address, level };
    }),
  });

  ctx.http.delete('/sites/:site/access/:watcher', asUser(async (caller, request) => {
    const { address } = normaliseAddress(caller.site, (request.params as { watcher: string }).watcher);
    await core.access.set(caller.site, caller.username, address, undefined);
    core.accessChanged(caller.site, caller.username);
    return { watcher: address, level: core.access.levelFor(caller.site, caller.username, { key: address }) };
  }));

  ctx.http.get('/sites/:site/contacts', asUser(async (caller) => {
    const [groups, contacts] = await Promise.all([lists.groups(caller.site, caller.username), lists.contacts(caller.site, caller.username)]);
    return {
      groups: groups.map((g) => ({ id: g.id, name: g.name, position: g.position })),
      contacts: contacts.map((c) => ({
        id: c.id,
        address: c.address,
        kind: c.kind,
        displayName: c.displayName,
        groupId: c.groupId,
        position: c.position,
        tagged: Boolean(c.tagged),
        level: c.kind === 'user' ? core.access.levelFor(caller.site, caller.username, { key: c.address }) : null,
        presence: c.kind === 'user' ? (presenceOfAddress(caller, c.address) ?? null) : null,
      })),
    };
  }));

  ctx.http.route({
    method: 'POST',
    url: '/sites/:site/contacts',
    schema: {
      body: {
        type: 'object',
        required: ['address'],
        additionalProperties: false,
        properties: { address: { type: 'string', minLength: 1, maxLength: 255 }, level: { enum: [...LEVELS] }, ...contactChange },
      },
    },
    handler: asUser(async (caller, request, reply) => {
      const body = request.body as { address: string; level?: AccessLevel; displayName?: string; groupId?: number | null; position?: number; tagged?: boolean };
      const { level, ...input } = body;
      const contact = await lists.addContact(caller.site, caller.username, input);
      if (level && isLevel(level) && contact.kind === 'user') {
        await core.access.set(caller.site, caller.username, contact.address, level);
        core.accessChanged(caller.site, caller.username);
      }
      return reply.code(201).send({ ...contact, tagged: Boolean(contact.tagged) });
    }),
  });

  ctx.http.route({
    method: 'PATCH',
    url: '/sites/:site/contacts/:id',
    schema: { params: idParams, body: { type: 'object', additionalProperties: false, properties: contactChange } },
    handler: asUser(async (caller, request) => {
      const contact = await lists.updateContact(caller.site, caller.username, idOf(request), request.body as object);
      return { ...contact, tagged: Boolean(contact.tagged) };
    }),
  });

  ctx.http.route({
    method: 'DELETE',
    url: '/sites/:site/contacts/:id',
    schema: { params: idParams },
    handler: asUser(async (caller, request, reply) => {
      await lists.removeContact(caller.site, caller.username, idOf(request));
      return reply.code(204).send();
    }),
  });

  ctx.http.route({
    method: 'POST',
    url: '/sites/:site/groups',
    schema: { body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, position: { type: 'integer', minimum: 0 } } } },
    handler: asUser(async (caller, request, reply) => {
      const { name, position } = request.body as { name: string; position?: number };
      return reply.code(201).send(await lists.addGroup(caller.site, caller.username, name, position));
    }),
  });

  ctx.http.route({
    method: 'PATCH',
    url: '/sites/:site/groups/:id',
    schema: { params: idParams, body: { type: 'object', additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, position: { type: 'integer', minimum: 0 } } } },
    handler: asUser(async (caller, request) => lists.updateGroup(caller.site, caller.username, idOf(request), request.body as object)),
  });

  ctx.http.route({
    method: 'DELETE',
    url: '/sites/:site/groups/:id',
    schema: { params: idParams },
    handler: asUser(async (caller, request, reply) => {
      await lists.removeGroup(caller.site, caller.username, idOf(request));
      return reply.code(204).send();
    }),
  });

  const distParams = { type: 'object', required: ['site', 'id'], properties: { site: { type: 'string' }, id: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,39}$' } } };

  ctx.http.get('/sites/:site/distribution-groups', asUser((caller) => ({
    groups: distributionGroups(core, caller.site).map((g) => ({ id: g.id, name: g.name })),
  })));

  ctx.http.route({
    method: 'GET',
    url: '/sites/:site/distribution-groups/:id',
    schema: { params: distParams },
    handler: asUser((caller, request) => expandGroup(core, caller.site, (request.params as { id: string }).id, caller.key)),
  });

  ctx.http.route({
    method: 'POST',
    url: '/sites/:site/distribution-groups/:id/contacts',
    schema: { params: distParams },
    handler: asUser(async (caller, request) => {
      // The body is optional: no body, {} or { groupId }.
      const body = (request.body ?? {}) as { groupId?: unknown };
      const extra = typeof body === 'object' && body !== null ? Object.keys(body).filter((k) => k !== 'groupId') : ['body'];
      if (extra.length > 0 || !(body.groupId === undefined || body.groupId === null || (Number.isInteger(body.groupId) && (body.groupId as number) >= 1))) {
        throw new PresenceError('PRESENCE_ERR_BAD_INPUT', 'expected no body or { groupId: integer ≥ 1 | null }');
      }
      const expansion = await expandGroup(core, caller.site, (request.params as { id: string }).id, caller.key);
      const own = `${caller.username}@${caller.site}`;
      const entries = expansion.members.filter((m) => m.address !== own).map((m) => ({ address: m.address, displayName: m.displayName }));
      const groupId = (body.groupId as number | null | undefined) ?? null;
      const { added, skipped } = await lists.addMany(caller.site, caller.username, entries, groupId);
      return { added: added.map((c) => ({ ...c, tagged: Boolean(c.tagged) })), skipped };
    }),
  });
}
