/**
 * Builds the scoped context a plugin receives. Each member checks the
 * manifest before touching the core and throws a coded error otherwise.
 */
import { readFileSync } from 'node:fs';
import { resolve, relative, isAbsolute } from 'node:path';
import type { DataSource, EntitySchema, EntityManager, ObjectLiteral, Repository } from 'typeorm';
import type { Logger } from 'pino';
import type {
  PluginContext, PluginDirectory, PluginRouteHandler, PluginRouteOptions, SipHandler, SiteInfo,
} from '@switchboard/sdk';
import { coreError } from '../errors.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { PluginDbGuard } from './db-guard.ts';
import type { FragmentRegistry } from '../ui/fragment-registry.ts';
import { LiveHub } from '../live/live-hub.ts';
import type { PageOptions } from '@switchboard/sdk';
import type { PluginRuntime } from './plugin-runtime.ts';
import type { ServiceRegistry } from './service-registry.ts';
import type { SipRouter } from './sip-router.ts';
import type { SiteRegistry } from './site-registry.ts';
import { sendsDirect } from '../sip-engine/direct-methods.ts';

/** What the host lends to contexts; never handed to plugins directly. */
export interface ContextDeps {
  dataSource: DataSource;
  /** Inserts off the main thread where the storage allows (HostStorage#insertRows); the SQL is checked here first. */
  insertRows(sql: string, rows: unknown[][]): Promise<number[]>;
  bus: EventBus;
  fragments: FragmentRegistry;
  services: ServiceRegistry;
  sip: SipRouter;
  sites: SiteRegistry;
  /** Keeps ctx.db on the plugin's own tables. */
  dbGuard: PluginDbGuard;
  /** The host's UserDirectory (identity); plugins get only its read-only methods. */
  directory: PluginDirectory;
  /** Browser sessions on /api/live. */
  live: LiveHub;
  /** Whole pages in the site's theme (core/src/ui). */
  pages: { render(site: string, options: PageOptions): string };
  log: Logger;
}

export function createPluginContext(plugin: PluginRuntime, deps: ContextDeps): PluginContext {
  const m = plugin.manifest;
  const perms = m.permissions ?? {};
  const log = deps.log.child({ plugin: plugin.id });

  const route = (options: PluginRouteOptions): void => {
    if (!plugin.setupOpen) throw coreError('CORE_ERR_HTTP_ROUTES_CLOSED', `${plugin.id}: ${options.url}`);
    plugin.routes.push({ ...options, url: relativeUrl(plugin, options.url) });
  };
  const shorthand = (method: 'GET' | 'POST' | 'PUT' | 'DELETE') => (url: string, handler: PluginRouteHandler) =>
    route({ method, url, handler });

  const declared = (list: readonly string[] | undefined, topic: string): boolean =>
    (list ?? []).some((pattern) => topicMatches(pattern, topic));

  const repoFor = (manager: EntityManager, entity: string | EntitySchema<any>): Repository<any> => {
    const owned = plugin.entities.find((e) => e === entity || e.options.name === entity);
    if (!owned) {
      const name = typeof entity === 'string' ? entity : entity.options.name;
      throw coreError('CORE_ERR_DB_ENTITY_NOT_OWNED', `${plugin.id} asked for "${name}"`);
    }
    return deps.dbGuard.wrap(manager.getRepository(owned), plugin.id);
  };

  return {
    id: plugin.id,
    dir: plugin.dir,
    manifest: m,
    log,
    http: {
      prefix: plugin.prefix,
      route,
      get: shorthand('GET'),
      post: shorthand('POST'),
      put: shorthand('PUT'),
      delete: shorthand('DELETE'),
    },
    sip: {
      on(method: string, handler: SipHandler): void {
        const upper = method.toUpperCase();
        if (!(perms.sip ?? []).includes(upper as never)) {
          throw coreError('CORE_ERR_SIP_METHOD_NOT_DECLARED', `${plugin.id} tried ${upper}`);
        }
        deps.sip.add(plugin.id, upper, handler);
      },
      endpoints(site: string, username: string) {
        return deps.sip.endpoints(site, username);
      },
      async routeToUser(req, res, username) {
        await deps.sip.routeToUser(req, res, req.locals.site, username);
      },
      async sendToUser(site, username, request) {
        const upper = request.method.toUpperCase();
        if (!(perms.sip ?? []).includes(upper as never)) {
          throw coreError('CORE_ERR_SIP_METHOD_NOT_DECLARED', `${plugin.id} tried to send ${upper}`);
        }
        return deps.sip.sendToUser(site, username, { ...request, method: upper });
      },
      requestInDialog(stackDialogId, request) {
        const upper = request.method.toUpperCase();
        if (!(perms.sip ?? []).includes(upper as never)) {
          return Promise.reject(coreError('CORE_ERR_SIP_METHOD_NOT_DECLARED', `${plugin.id} tried to send ${upper}`));
        }
        // The engine's own list (no INVITE, ACK, CANCEL or PRACK: those belong to drachtio-srf's dialogs).
        if (!sendsDirect({ dialogId: stackDialogId }, upper)) {
          return Promise.reject(coreError('CORE_ERR_SIP_METHOD_NOT_DECLARED', `${plugin.id} tried to send ${upper} with requestInDialog; INVITE transactions belong to drachtio-srf's dialogs`));
        }
        return deps.sip.requestInDialog(stackDialogId, { ...request, method: upper });
      },
    },
    events: {
      async publish(topic, payload) {
        if (!declared(perms.events?.publish, topic)) {
          throw coreError('CORE_ERR_EVENT_TOPIC_NOT_DECLARED', `${plugin.id} published "${topic}"`);
        }
        // The outbox is a core table: written as core even inside the plugin's own transaction callback.
        await deps.dbGuard.asCore(() => deps.bus.publish(plugin.id, topic, payload));
      },
      subscribe(topic, handler) {
        if (!declared(perms.events?.subscribe, topic)) {
          throw coreError('CORE_ERR_EVENT_TOPIC_NOT_DECLARED', `${plugin.id} subscribed to "${topic}"`);
        }
        deps.bus.subscribe(plugin.id, topic, handler as never);
      },
      async subscribeDurable(topic, consumerName, handler) {
        if (!declared(perms.events?.subscribe, topic)) {
          throw coreError('CORE_ERR_EVENT_TOPIC_NOT_DECLARED', `${plugin.id} subscribed to "${topic}"`);
        }
        await deps.dbGuard.asCore(() => deps.bus.subscribeDurable(plugin.id, topic, consumerName, handler as never));
      },
    },
    db: {
      repository<T extends ObjectLiteral>(entity: string | EntitySchema<T>): Repository<T> {
        return repoFor(deps.dataSource.manager, entity) as Repository<T>;
      },
      transaction(work) {
        return deps.dataSource.transaction((manager) =>
          work({ repository: <T extends ObjectLiteral>(e: string | EntitySchema<T>) => repoFor(manager, e) as Repository<T> }),
        );
      },
      async insertRows(table, rows) {
        const { sql, values } = insertStatement(table, rows);
        if (!values.length) return [];
        deps.dbGuard.check(plugin.id, sql);
        return deps.insertRows(sql, values);
      },
    },
    ui: {
      fragment(slot, templatePath) {
        if (!Object.hasOwn(m.ui?.fragments ?? {}, slot)) {
          throw coreError('CORE_ERR_UI_SLOT_NOT_DECLARED', `${plugin.id} used slot "${slot}"`);
        }
        deps.fragments.add(plugin.id, slot, compileTemplate(plugin, deps.fragments, templatePath));
      },
      page(site, options) {
        return deps.pages.render(site, options);
      },
    },
    live: {
      toUser(site, username, type, data) {
        assertLive(plugin, type);
        return deps.live.toUser(plugin.id, site, username, type, data);
      },
      toSite(site, type, data) {
        assertLive(plugin, type);
        return deps.live.toSite(plugin.id, site, type, data);
      },
      on(type, handler) {
        assertLive(plugin, type);
        deps.live.on(plugin.id, type, handler as never);
      },
      onPresence(handler) {
        assertLive(plugin, `${plugin.id}.presence`);
        deps.live.onPresence(plugin.id, handler);
      },
      sessionCount: (site, username) => deps.live.sessionCount(site, username),
    },
    config(site: string) {
      return deps.sites.configOf(site, plugin.id);
    },
    sites: {
      list: (): SiteInfo[] => deps.sites.list(),
      isEnabled: (site: string) => deps.sites.isEnabled(site, plugin.id),
    },
    services: {
      provide(name, implementation) {
        if (!(m.provides ?? []).includes(name)) {
          throw coreError('CORE_ERR_SERVICE_NOT_DECLARED', `${plugin.id} provides "${name}" but "provides" does not list it`);
        }
        deps.services.provide(plugin.id, name, implementation);
      },
      consume<T>(name: string): T {
        assertConsumes(plugin, name);
        return deps.services.require(name, plugin.id) as T;
      },
      tryConsume<T>(name: string): T | undefined {
        assertConsumes(plugin, name);
        return deps.services.lookup(name) as T | undefined;
      },
    },
    // Bound methods only, so a plugin cannot reach credentials through the object.
    directory: {
      findUser: (site, username) => deps.directory.findUser(site, username),
      findByAddress: (site, userPart) => deps.directory.findByAddress(site, userPart),
      search: (site, q) => deps.directory.search(site, q),
      list: (site) => deps.directory.list(site),
    },
  };
}

function assertLive(plugin: PluginRuntime, type: string): void {
  if (plugin.manifest.permissions?.live !== true) {
    throw coreError('CORE_ERR_LIVE_NOT_DECLARED', `${plugin.id} used the live channel`);
  }
  if (!LiveHub.owns(plugin.id, type)) {
    throw coreError('CORE_ERR_LIVE_NOT_DECLARED', `${plugin.id}: type "${type}" must start with "${plugin.id}."`);
  }
}

function assertConsumes(plugin: PluginRuntime, name: string): void {
  if (!(plugin.manifest.permissions?.services ?? []).includes(name)) {
    throw coreError('CORE_ERR_SERVICE_NOT_DECLARED', `${plugin.id} consumes "${name}" but permissions.services does not list it`);
  }
}

/**
 * Paths are relative to the prefix. The full prefix is accepted for
 * convenience; any other absolute API path would escape the plugin's space.
 */
function relativeUrl(plugin: PluginRuntime, url: string): string {
  if (!url.startsWith('/') || url.split('/').includes('..')) {
    throw coreError('CORE_ERR_HTTP_OUTSIDE_PREFIX', `${plugin.id}: "${url}" must start with / and stay below ${plugin.prefix}`);
  }
  if (url === plugin.prefix || url.startsWith(`${plugin.prefix}/`)) return url.slice(plugin.prefix.length) || '/';
  if (url === '/api' || url.startsWith('/api/')) {
    throw coreError('CORE_ERR_HTTP_OUTSIDE_PREFIX', `${plugin.id}: "${url}" is outside ${plugin.prefix}`);
  }
  return url;
}

/** `a.*` matches `a.b`; `*` alone matches one segment. */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === topic) return true;
  const p = pattern.split(/[.:/]/);
  const t = topic.split(/[.:/]/);
  return p.length === t.length && p.every((seg, i) => seg === '*' || seg === t[i]);
}

function compileTemplate(plugin: PluginRuntime, fragments: FragmentRegistry, templatePath: string) {
  const full = resolve(plugin.dir, templatePath);
  const rel = relative(plugin.dir, full);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw coreError('CORE_ERR_UI_TEMPLATE_INVALID', `${plugin.id}: ${templatePath} is outside the plugin folder`);
  }
  try {
    const template = fragments.compile(readFileSync(full, 'utf8'));
    template({}); // compile errors surface on first render; fail at setup instead
    return template;
  } catch (err) {
    throw coreError('CORE_ERR_UI_TEMPLATE_INVALID', `${plugin.id}: ${templatePath}: ${(err as Error).message}`);
  }
}

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function rowsInvalid(reason: string): Error {
  return coreError('CORE_ERR_DB_ROWS_INVALID', reason, { reason });
}

/** One INSERT for every row (the columns of the first, which all must share) and the rows as value lists. */
export function insertStatement(table: string, rows: ReadonlyArray<Record<string, unknown>>): { sql: string; values: unknown[][] } {
  if (typeof table !== 'string' || !PLAIN_NAME.test(table)) throw rowsInvalid(`table "${String(table)}" is not a plain name`);
  if (!Array.isArray(rows)) throw rowsInvalid('rows must be an array of objects');
  const first = rows[0];
  if (first === undefined) return { sql: '', values: [] };
  const columns = Object.keys(first);
  if (!columns.length) throw rowsInvalid('row 0 has no columns');
  const bad = columns.find((c) => !PLAIN_NAME.test(c));
  if (bad !== undefined) throw rowsInvalid(`column "${bad}" is not a plain name`);
  const values = rows.map((row, i) => {
    if (typeof row !== 'object' || row === null) throw rowsInvalid(`row ${i} is not an object`);
    const keys = Object.keys(row);
    if (keys.length !== columns.length || keys.some((k) => !Object.hasOwn(first, k))) {
      throw rowsInvalid(`row ${i} has the columns ${keys.join(', ')}; row 0 has ${columns.join(', ')}`);
    }
    return columns.map((c) => sqlValue(row[c], i, c));
  });
  const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
  return { sql, values };
}

function sqlValue(v: unknown, row: number, column: string): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw rowsInvalid(`row ${row}, column ${column}: ${v} is not a finite number`);
    return v;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw rowsInvalid(`row ${row}, column ${column}: a ${v === undefined ? 'missing value' : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v} cannot be stored; use a string, number, bigint, boolean, null or Buffer`);
}
