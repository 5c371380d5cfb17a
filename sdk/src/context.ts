/**
 * The scoped context a plugin receives in `setup(ctx)`.
 *
 * Every member is limited by the plugin's manifest: a call outside what the
 * manifest declares throws a coded `CORE_ERR_*` error instead of reaching
 * the core. Plugins never see the core's fastify instance, its `Srf` or its
 * data source.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { EntitySchema, ObjectLiteral, Repository } from 'typeorm';
import type { PluginManifest } from './manifest.ts';

/** A site (tenant) the host serves, identified by its SIP/DNS domain. */
export interface SiteInfo {
  /** The site's domain, e.g. `example.com`; also the key in every API path. */
  readonly domain: string;
  /** Human-readable name, when the config gives one. */
  readonly name?: string;
}

/** What the core attaches to every request that reaches a plugin route. */
export interface PluginRequestScope {
  /** The site the request is for (from `:site` or `x-switchboard-site`). */
  readonly site: string;
  /** The authenticated user, when a valid Bearer token was sent. */
  readonly user?: { readonly username: string; readonly role: string };
}

/** Handler of a plugin HTTP route. Throwing answers 500 for that request only. */
export type PluginRouteHandler = (
  request: FastifyRequest & { switchboard: PluginRequestScope },
  reply: FastifyReply,
) => unknown | Promise<unknown>;

/** One HTTP route, relative to the plugin's prefix. */
export interface PluginRouteOptions {
  /** HTTP method(s). */
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | Array<'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'>;
  /**
   * Path below the plugin prefix, starting with `/` (e.g. `/sites/:site/messages`).
   * A path that starts with the full prefix is accepted too; any other
   * `/api/...` path is outside the plugin's space and throws `CORE_ERR_HTTP_OUTSIDE_PREFIX`.
   */
  readonly url: string;
  /** fastify JSON schemas for body, params, querystring and response. */
  readonly schema?: Record<string, unknown>;
  /** `admin` requires an admin Bearer token; default `none` (site check only). */
  readonly auth?: 'none' | 'admin';
  /** The handler. */
  readonly handler: PluginRouteHandler;
}

/** The plugin's HTTP space: an encapsulated fastify context under its prefix. */
export interface PluginHttp {
  /** The absolute prefix all of this plugin's routes live under. */
  readonly prefix: string;
  /** Register a route. Only valid during `setup`. */
  route(options: PluginRouteOptions): void;
  /** Shorthand for `route({ method: 'GET', url, handler })`. */
  get(url: string, handler: PluginRouteHandler): void;
  /** Shorthand for `route({ method: 'POST', url, handler })`. */
  post(url: string, handler: PluginRouteHandler): void;
  /** Shorthand for `route({ method: 'PUT', url, handler })`. */
  put(url: string, handler: PluginRouteHandler): void;
  /** Shorthand for `route({ method: 'DELETE', url, handler })`. */
  delete(url: string, handler: PluginRouteHandler): void;
}

/** A drachtio-srf incoming request, with the site the core resolved for it. */
export type SipRequest = Srf.SrfRequest & { locals: { site: string } & Record<string, unknown> };
/** A drachtio-srf response. */
export type SipResponse = Srf.SrfResponse;
/** drachtio-srf middleware; call `next()` to pass the request to the next plugin. */
export type SipHandler = (req: SipRequest, res: SipResponse, next: (err?: unknown) => void) => unknown | Promise<unknown>;

/** Per-method SIP middleware on the core's single `Srf`. */
export interface PluginSip {
  /**
   * Handle requests of `method` (must be listed in `permissions.sip.methods`)
   * for sites where this plugin is enabled. Throwing answers 500.
   */
  on(method: string, handler: SipHandler): void;
  /**
   * The endpoints a user of `site` is registered from right now, best q first:
   * contact, User-Agent, transport and source address of each.
   */
  endpoints(site: string, username: string): SipEndpoint[];
  /**
   * Fork `req` to every registered endpoint of `username` (default: the user
   * the Request-URI names) in the request's site; the first 2xx wins and the
   * others are cancelled. Answers 404 for an unknown user and 480 when the
   * user has no registration.
   */
  routeToUser(req: SipRequest, res: SipResponse, username?: string): Promise<void>;
  /**
   * Originate an out-of-dialog request (a method listed in `permissions.sip`)
   * to every registered endpoint of `username` in `site`, in parallel.
   * Resolves with each endpoint's final status (408 when none came in time);
   * an empty list when the user has no registration. With the embedded
   * engine a request that creates no dialog (MESSAGE, OPTIONS, NOTIFY, INFO,
   * PUBLISH) goes to the engine without the drachtio wire.
   */
  sendToUser(site: string, username: string, request: SipOutgoingRequest): Promise<SipSendResult[]>;
  /**
   * Send a request (a method listed in `permissions.sip`; not INVITE, ACK or
   * CANCEL) inside a dialog the SIP engine keeps, such as the subscription
   * dialog a SUBSCRIBE created: `stackDialogId` is the id drachtio-srf
   * reports for it. Resolves with the final status: 481 when the dialog is
   * gone, 408 when no answer came; rejects when the host stops SIP before an
   * answer came (the peer said nothing). The engine builds the request from the
   * dialog (Request-URI, route set, From, To, Call-ID, CSeq). With the
   * embedded engine this skips the drachtio wire, so a plugin can send
   * thousands at once (presence NOTIFYs); with an external drachtio-server
   * it goes through drachtio-srf.
   */
  requestInDialog(stackDialogId: string, request: SipOutgoingRequest): Promise<number>;
}

/** A request the server originates (see {@link PluginSip.sendToUser}). */
export interface SipOutgoingRequest {
  method: string;
  /** Headers such as From, To, Content-Type; the engine fills Via, Call-ID, CSeq. */
  headers?: Record<string, string>;
  body?: string;
}

/** Outcome of {@link PluginSip.sendToUser} for one endpoint. */
export interface SipSendResult {
  /** The registered Contact the request went to. */
  contact: string;
  /** Final status (408 when no final response came, 503 when it could not be sent). */
  status: number;
}

/** One registration of a user (see {@link PluginSip.endpoints}). */
export interface SipEndpoint {
  /** The Contact URI as registered. */
  contact: string;
  userAgent: string;
  /** udp, tcp, tls, ws or wss. */
  transport: string;
  /** address:port the registration came from. */
  source: string;
  /** Seconds until the registration expires. */
  expiresIn: number;
  q: number;
  /** RFC 5626 instance id, when the client sent one. */
  instance?: string;
}

/** Handler of an event; for durable subscriptions, resolving acks the event. */
export type EventHandler<T = unknown> = (payload: T, meta: EventMeta) => unknown | Promise<unknown>;

/** Facts about a delivered event. */
export interface EventMeta {
  /** The topic it was published on. */
  readonly topic: string;
  /** Id of the plugin that published it. */
  readonly publisher: string;
  /** Outbox id for durable deliveries; absent for live deliveries. */
  readonly id?: string;
}

/** The typed event bus, limited to the manifest's declared topics. */
export interface PluginEvents {
  /** Publish to a topic listed in `permissions.events.publish`. */
  publish<T = unknown>(topic: string, payload: T): Promise<void>;
  /** Live (fire-and-forget) subscription to a topic listed in `permissions.events.subscribe`. */
  subscribe<T = unknown>(topic: string, handler: EventHandler<T>): void;
  /**
   * Durable subscription: every event published after the consumer first
   * subscribed is stored in the outbox and delivered at least once; it is
   * acked when `handler` resolves and redelivered (also after a restart) if
   * it throws or the process dies first.
   */
  subscribeDurable<T = unknown>(topic: string, consumerName: string, handler: EventHandler<T>): Promise<void>;
}

/** The plugin's own tables (declared as `entities` in `definePlugin`). */
export interface PluginDb {
  /** A typeorm repository for one of this plugin's own entities. */
  repository<T extends ObjectLiteral = ObjectLiteral>(entity: string | EntitySchema<T>): Repository<T>;
  /** Run `work` in a transaction; repositories from `tx` share it. */
  transaction<R>(work: (tx: { repository<T extends ObjectLiteral = ObjectLiteral>(entity: string | EntitySchema<T>): Repository<T> }) => Promise<R>): Promise<R>;
  /**
   * Insert `rows` into one of the plugin's own tables in one transaction
   * (every row or none) without holding up the host's main thread: on a
   * SQLite file the insert runs on a writer thread with its own connection
   * (SQLite writes are synchronous, and triggers such as a full-text index
   * can make one take tens of milliseconds); on MariaDB/MySQL and an
   * in-memory database it runs on the host's connection. For append-heavy
   * tables written while SIP is being answered (message history, journals).
   *
   * Every row must have the same columns (plain names: letters, digits,
   * `_`); values are strings, numbers, bigints, booleans (stored as 1/0),
   * null or Buffers. Resolves with the id the database gave each row (its
   * auto-increment key), in order, once committed; the rows are then visible
   * to `repository()` reads. Rejects with the database's error if any row
   * fails (nothing is written), with CORE_ERR_DB_ROWS_INVALID for rows it
   * cannot insert, and CORE_ERR_DB_TABLE_NOT_OWNED for another's table.
   * It is a transaction of its own: do not await it inside `transaction()`
   * (on a SQLite file it would wait for that transaction's write lock until
   * the busy timeout, 5 s, and fail).
   */
  insertRows(table: string, rows: ReadonlyArray<Record<string, unknown>>): Promise<number[]>;
}

/** The plugin's UI fragments for theme slots. */
export interface PluginUi {
  /**
   * Render `templatePath` (handlebars, relative to the plugin folder) into
   * `slot` on pages of sites where the plugin is enabled. The slot must be
   * named in the manifest's `ui.fragments`.
   */
  fragment(slot: string, templatePath: string): void;
  /**
   * Render a whole page for `site`: the site's theme layout (with its
   * branding) whose named slots are filled with the fragments of every
   * plugin enabled for that site, each wrapped in an element carrying
   * `data-plugin` and `data-slot`. Scripts and styles are same-origin URLs
   * (e.g. `/assets/plugins/<id>/app.js`); pages carry no inline script.
   */
  page(site: string, options: PageOptions): string;
}

/** What a page is made of besides the theme and the slots. */
export interface PageOptions {
  /** Text of the <title>. */
  title: string;
  /** Theme layout to use: `app` (the client shell with its slots) or `plain` (sign-in and simple pages). Default `app`. */
  layout?: 'app' | 'plain';
  /** Same-origin script URLs, loaded as deferred modules. */
  scripts?: string[];
  /** Same-origin stylesheet URLs, after the theme's own. */
  styles?: string[];
  /** Data handed to every fragment (escaped by handlebars); e.g. the signed-in user. */
  data?: Record<string, unknown>;
  /** Trusted HTML the page owner renders into the `main` slot before plugin fragments. */
  main?: string;
}

/** A browser session on the host's WebSocket (`/api/live`). */
export interface LiveClient {
  readonly site: string;
  readonly username: string;
  /** One per open socket; a user may have several (tabs, devices). */
  readonly sessionId: string;
}

/** Handles a client message; what it returns (or throws) is the reply to the client. */
export type LiveHandler<T = unknown> = (data: T, client: LiveClient) => unknown | Promise<unknown>;

/**
 * Live events for browser clients, over the one WebSocket each client keeps
 * open. Needs `permissions.live: true`. Event and message types must start
 * with the plugin id and a dot (`im.message`). Nothing is delivered for a
 * site where the plugin is disabled.
 */
export interface PluginLive {
  /** Push an event to every open session of the user; returns how many sessions got it. */
  toUser(site: string, username: string, type: string, data: unknown): number;
  /** Push an event to every open session on the site. */
  toSite(site: string, type: string, data: unknown): number;
  /** Handle messages of `type` that clients send; the result is sent back as the reply. */
  on<T = unknown>(type: string, handler: LiveHandler<T>): void;
  /** Called when a user's first session on a site opens (`true`) and when the last one closes (`false`). */
  onPresence(handler: (client: LiveClient, online: boolean) => void): void;
  /** How many sessions the user has open now. */
  sessionCount(site: string, username: string): number;
}

/** Named services, declared in `provides` and `permissions.services`. */
export interface PluginServices {
  /** Provide an implementation of a service named in the manifest's `provides`. */
  provide<T>(name: string, implementation: T): void;
  /** Get a service named in `permissions.services`; throws if no one provides it. */
  consume<T>(name: string): T;
  /** Like `consume` but returns `undefined` when nobody provides it (optional dependencies). */
  tryConsume<T>(name: string): T | undefined;
}

/** The sites the host serves and where this plugin is on. */
export interface PluginSites {
  /** All sites of the host. */
  list(): SiteInfo[];
  /** Whether this plugin is enabled for `site` right now. */
  isEnabled(site: string): boolean;
}

/**
 * A user of a site as the directory shows it. Credentials never appear here.
 * Usernames, aliases and phone numbers form one address space per site, so
 * an address reaches at most one user.
 */
export interface DirectoryUser {
  /** Stable id (UUID); survives renames of display name, aliases and so on. */
  id: string;
  /** The site's domain, e.g. `example.com`. */
  site: string;
  /** Lowercase login and SIP user part, unique per site. */
  username: string;
  /** Name shown to other users. */
  displayName: string;
  /** `sip:username@domain`. */
  sipUri: string;
  /** Other SIP user parts that reach this user (lowercase). */
  aliases: string[];
  /** Phone number, normalised to digits with an optional leading `+`. */
  phone?: string;
  /** E-mail address. */
  email?: string;
  /** Group names the user belongs to. */
  groups: string[];
  /** `site-admin` may administer the user's own site. */
  role: 'user' | 'site-admin';
  /** Disabled users cannot sign in or register and are not reachable. */
  enabled: boolean;
}

/** Read-only access to the users of the host's sites. */
export interface PluginDirectory {
  /** The user with this username on `site`, or `undefined`. */
  findUser(site: string, username: string): Promise<DirectoryUser | undefined>;
  /** The user a SIP user part reaches on `site`: username, alias or phone number. */
  findByAddress(site: string, userPart: string): Promise<DirectoryUser | undefined>;
  /** Users of `site` whose name, username, alias, phone or e-mail contains `q` (case-insensitive, at most 100). */
  search(site: string, q: string): Promise<DirectoryUser[]>;
  /** All users of `site`, ordered by username. */
  list(site: string): Promise<DirectoryUser[]>;
}

/** Everything a plugin may touch, scoped to its manifest. */
export interface PluginContext<Config = Record<string, unknown>> {
  /** The plugin id from the manifest. */
  readonly id: string;
  /** The plugin's folder on disk. */
  readonly dir: string;
  /** The validated manifest. */
  readonly manifest: PluginManifest;
  /** HTTP routes under the plugin's prefix. */
  readonly http: PluginHttp;
  /** SIP middleware for declared methods. */
  readonly sip: PluginSip;
  /** Event bus on declared topics. */
  readonly events: PluginEvents;
  /** Repositories of the plugin's own entities. */
  readonly db: PluginDb;
  /** UI fragments and pages. */
  readonly ui: PluginUi;
  /** Live events to and from browser clients (WebSocket). */
  readonly live: PluginLive;
  /** That site's config, validated against the manifest's `config` schema, defaults applied. */
  config(site: string): Config;
  /** Sites of the host. */
  readonly sites: PluginSites;
  /** Named services. */
  readonly services: PluginServices;
  /** The users of the host's sites, read-only. */
  readonly directory: PluginDirectory;
  /** pino logger bound to `{ plugin: id }`. */
  readonly log: Logger;
}
