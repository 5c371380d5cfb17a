/**
 * The Switchboard host: wires config, storage, the plugin lifecycle, HTTP
 * and SIP together, and stops them in the reverse order.
 */
import { compactionFields, startIdleCompaction, type IdleCompaction } from '../threads/idle-compaction.ts';
import type { EngineThreadMemory } from '../sip-engine/engine-thread-main.ts';
import { fixMallocThresholds } from '../threads/malloc-trim.ts';
import { applyYoungGeneration } from '../threads/young-generation.ts';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { SwitchboardConfig } from '../config/index.ts';
import { coreError } from '../errors.ts';
import { EventBus } from '../events/event-bus.ts';
import { registerAdminRoutes } from '../http/admin-routes.ts';
import { registerLoginRateLimit } from '../http/auth.ts';
import { installIdentityGuard, registerIdentityHttp } from '../http/identity-http.ts';
import { principalResolver } from '../http/session-routes.ts';
import { Identity } from '../identity/identity-services.ts';
import type { UserDirectory } from '../identity/user-directory.ts';
import { mountPluginRoutes } from '../http/plugin-routes.ts';
import { createHttpServer, registerHealthRoute } from '../http/server.ts';
import { TokenSigner } from '../http/token.ts';
import { FragmentRegistry } from '../ui/fragment-registry.ts';
import { registerSlotRoutes } from '../ui/slot-routes.ts';
import type { PageRenderer } from '../ui/page-renderer.ts';
import { HostUi, UI_TABLES } from '../ui/host-ui.ts';
import type { SlotRenderScope } from '../ui/fragment-registry.ts';
import { LiveHub } from '../live/live-hub.ts';
import { registerLiveRoutes } from '../live/live-routes.ts';
import { registerEntryRoutes } from '../http/entry-routes.ts';
import { bootstrapAdmin, checkAdminCredentials } from './admin-users.ts';
import { reasonOf, withDeadline } from './containment.ts';
import { PluginAdmin } from './plugin-admin.ts';
import { loadPlugins, type LoadResult } from './plugin-loader.ts';
import type { PluginRuntime } from './plugin-runtime.ts';
import { ServiceRegistry } from './service-registry.ts';
import { SipConnection } from './sip-connection.ts';
import { SipRouter } from './sip-router.ts';
import { SipCore } from './sip-core.ts';
import type { Endpoint } from '../registrar/index.ts';
import { SiteRegistry } from './site-registry.ts';
import { openHostStorage, type HostStorage } from './storage-bridge.ts';
import { hostSecret } from './host-secrets.ts';
import { PluginDbGuard } from './db-guard.ts';
import { HOST_TABLES } from './core-tables.ts';
import { CORE_TABLES } from '../storage/entities.ts';
import { attachRegistry, type RegistryAttachment } from '../registry/attach-registry.ts';
import type { LoaderOptions } from './plugin-loader.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const HOST_VERSION: string = (JSON.parse(readFileSync(resolve(REPO_ROOT, 'core/package.json'), 'utf8')) as { version: string }).version;

/** One step of {@link SwitchboardHost.start} and its wall time. */
export interface BootPhase {
  phase: string;
  ms: number;
}

export interface HostOptions {
  config: SwitchboardConfig;
  /** Folder whose `plugins/` is scanned (default: the repository root). */
  rootDir?: string;
  /** Defaults to pino on stdout at config.log.level. */
  logger?: Logger;
  /** Gets the bootstrap admin password when one was generated; it is shown nowhere else. */
  onGeneratedAdminPassword?(password: string): void;
  /** Login attempts allowed per client per minute (default 10). */
  loginRateLimit?: number;
}

export class SwitchboardHost {
  readonly config: SwitchboardConfig;
  readonly log: Logger;
  #storage!: HostStorage;
  #http!: FastifyInstance;
  #bus!: EventBus;
  #sip!: SipConnection;
  #router?: SipRouter;
  /** runtime.compactWhenIdle on the main thread. */
  #compaction?: IdleCompaction;
  #sites!: SiteRegistry;
  #identity!: Identity;
  #sipCore?: SipCore;
  #admin!: PluginAdmin;
  #loaded!: LoadResult;
  #fragments = new FragmentRegistry();
  #live!: LiveHub;
  #pages!: PageRenderer;
  #ui!: HostUi;
  readonly #plugins = new Map<string, PluginRuntime>();
  #url = '';
  #stopping?: Promise<void>;
  /** Loader options minus dirs; registry installs (core/src/registry) reuse them for live activation. */
  #loaderOptions?: Omit<LoaderOptions, 'dirs' | 'plugins'>;
  #registry?: RegistryAttachment;
  readonly #phases: BootPhase[] = [];
  #phaseStart = 0;

  private constructor(options: HostOptions) {
    this.config = options.config;
    this.log = options.logger ?? pino({ level: options.config.log.level, base: { name: 'switchboard' } });
  }

  /** Boot the host; rejects (after cleaning up) when storage or the HTTP port cannot be opened. */
  static async start(options: HostOptions): Promise<SwitchboardHost> {
    const host = new SwitchboardHost(options);
    try {
      await host.#boot(options);
    } catch (err) {
      await host.stop().catch(() => undefined);
      throw err;
    }
    return host;
  }

  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:8080`. */
  get url(): string {
    return this.#url;
  }

  get sipState(): string {
    return this.#sip?.state ?? 'idle';
  }

  /**
   * The V8 heap of the SIP engine's thread when `sip.engineThread` is
   * "worker" (process.memoryUsage() covers the main thread only), after a
   * garbage collection there when `collect` is set and node runs with
   * --expose-gc (and a compaction after it with `compact`, as
   * runtime.compactWhenIdle would do); undefined when the engine runs on the
   * main thread.
   */
  sipEngineThreadMemory(opts: { collect?: boolean; compact?: boolean } = {}): Promise<EngineThreadMemory | undefined> {
    return this.#sip?.engineThreadMemory(opts.collect ?? false, opts.compact ?? false) ?? Promise.resolve(undefined);
  }

  /** How long each boot step took, in order (the startup benchmark prints these). */
  get bootPhases(): readonly BootPhase[] {
    return this.#phases;
  }

  #phaseDone(phase: string): void {
    const now = performance.now();
    this.#phases.push({ phase, ms: now - this.#phaseStart });
    this.#phaseStart = now;
  }

  /** Users of every site (core/src/identity); the registrar and location routing read it. */
  get directory(): UserDirectory {
    return this.#identity.directory;
  }

  /** A user's registered endpoints (contact, User-Agent, transport, source), from the registrar. */
  sipEndpoints(site: string, username: string): Endpoint[] {
    return this.#sipCore?.endpoints(site, username) ?? [];
  }

  /** A plugin's runtime by id (tests and diagnostics). */
  plugin(id: string): PluginRuntime | undefined {
    return this.#plugins.get(id);
  }

  async #boot(options: HostOptions): Promise<void> {
    const { config } = this;
    this.#phaseStart = performance.now();
    // Before the threads start, so their malloc arenas give their tops back.
    const mallocKiB = config.runtime.mallocThresholdKiB;
    if (mallocKiB > 0) {
      const fixed = fixMallocThresholds(mallocKiB * 1024);
      if (fixed === false) this.log.warn({ mallocThresholdKiB: mallocKiB }, 'glibc refused runtime.mallocThresholdKiB; its own thresholds stay');
      else if (fixed) this.log.debug({ mallocThresholdKiB: mallocKiB }, 'malloc trim and mmap thresholds fixed');
    }
    // Before the threads start: they take the process's V8 flags when they do.
    if (applyYoungGeneration(config.runtime.youngGeneration)) this.log.debug('young generation kept small (runtime.youngGeneration = "small")');
    if (config.runtime.compactWhenIdle) {
      // With the engine on this thread, its transactions draining after a burst is a moment to compact.
      this.#compaction = startIdleCompaction({ inFlight: () => this.#sip?.inFlight() ?? 0 }, (done) => this.log.info(compactionFields('main', done), 'heap compacted while idle'));
    }
    this.#storage = await openHostStorage(config.storage.url, {
      sqliteCacheKiB: config.storage.sqliteCacheKiB,
      onRowWriterLost: (reason) => this.log.error({ code: 'CORE_ERR_STORAGE_WRITER_LOST', reason }, 'row writer thread lost; ctx.db.insertRows now writes on the main connection'),
    });
    this.#phaseDone('storage');
    const ds = this.#storage.dataSource;
    const boot = await bootstrapAdmin(ds, config.admin.password);
    if (boot.generatedPassword) {
      if (options.onGeneratedAdminPassword) options.onGeneratedAdminPassword(boot.generatedPassword);
      else this.log.warn({ username: 'admin', password: boot.generatedPassword }, 'generated the bootstrap admin password; it is shown only once');
    }

    this.#phaseDone('admin user');
    this.#sites = new SiteRegistry(config.sites.map((s) => ({ domain: s.domain.toLowerCase(), ...(s.name ? { name: s.name } : {}) })));
    await this.#storage.upsertSites(this.#sites.list());
    this.#identity = await Identity.open({
      dataSource: ds,
      config,
      registry: this.#sites,
      upsertSites: (sites) => this.#storage.upsertSites(sites),
      enabledPlugins: (domain) => [...this.#plugins.keys()].filter((id) => this.#sites.isEnabled(domain, id)),
      publish: (topic, payload) => this.#bus.publish('core', topic, payload),
      log: this.log,
    });
    this.#sites.load(await this.#storage.sitePlugins.loadAll());

    const isActive = (id: string) => this.plugin(id)?.active === true;
    this.#bus = new EventBus(ds, this.log.child({ component: 'events' }), {
      isActive,
      run: async (id, work) => {
        try {
          await withDeadline(work, config.plugins.handlerTimeoutMs);
        } catch (err) {
          this.#recordFailure(id, `event handler: ${reasonOf(err)}`);
          throw err;
        }
      },
    });
    await this.#bus.open();
    const services = new ServiceRegistry(isActive);
    this.#sipCore = new SipCore({
      ds,
      config,
      directory: this.#identity.directory,
      isLocalSite: (d) => this.#sites.get(d) !== undefined,
      siteChallengeMethods: (d) => config.sites.find((s) => s.domain.toLowerCase() === d.toLowerCase())?.sipChallengeMethods,
      srf: () => this.#sip?.srf,
      publish: (topic, payload) => void Promise.resolve(this.#bus.publish('core', topic, payload)).catch(() => undefined),
      log: this.log,
    });
    await this.#sipCore.start();
    const router = this.#router = new SipRouter({
      order: () => this.#loaded?.order ?? [],
      hasSite: (d) => this.#sites.get(d) !== undefined,
      serves: (site, id) => isActive(id) && this.#sites.isEnabled(site, id),
      handlerTimeoutMs: config.plugins.handlerTimeoutMs,
      onFailure: (id, reason) => this.#recordFailure(id, `SIP: ${reason}`),
      log: this.log.child({ component: 'sip-router' }),
      core: this.#sipCore.policy,
    });

    this.#live = new LiveHub({
      isActive: (site, id) => isActive(id) && this.#sites.isEnabled(site, id),
      livePlugins: () => (this.#loaded?.order ?? []).filter((id) => this.plugin(id)?.manifest.permissions?.live === true),
      handlerTimeoutMs: config.plugins.handlerTimeoutMs,
      onFailure: (id, reason) => this.#recordFailure(id, reason),
      log: this.log.child({ component: 'live' }),
    });
    this.#ui = await HostUi.open({
      dataSource: ds, configSites: config.sites, rootDir: REPO_ROOT, fragments: this.#fragments, log: this.log,
      scopeFor: (site, data) => this.#slotScope(site, data), siteName: (site) => this.#sites.get(site),
    });
    this.#pages = this.#ui.pages;
    const dbGuard = new PluginDbGuard({ owners: () => this.#plugins.values(), coreTables: [...CORE_TABLES, ...HOST_TABLES, ...UI_TABLES] });
    dbGuard.install(ds);
    this.#sites.setConfigResolver((id, stored) => this.#withDefaults(id, stored));
    // Kept: plugins installed from a registry later are brought up with the same options.
    const loaderOptions: Omit<LoaderOptions, 'dirs' | 'plugins'> = {
      hostVersion: HOST_VERSION,
      breaker: config.plugins.breaker,
      setupTimeoutMs: Math.max(config.plugins.handlerTimeoutMs, 10_000),
      storage: this.#storage,
      contextDeps: { dataSource: ds, insertRows: (sql, rows) => this.#storage.insertRows(sql, rows), bus: this.#bus, fragments: this.#fragments, services, sip: router, sites: this.#sites, directory: this.#identity.directory, dbGuard, live: this.#live, pages: this.#pages, log: this.log },
      onTrip: (plugin, reason) => this.#trip(plugin, reason),
    };
    this.#loaderOptions = loaderOptions;
    this.#loaded = await loadPlugins({
      dirs: [resolve(options.rootDir ?? REPO_ROOT, 'plugins'), ...config.plugins.dirs.map((d) => resolve(d)), resolve(config.plugins.installDir)],
      ...loaderOptions,
      plugins: this.#plugins,
    });
    // Durable consumers subscribed during setup, before their plugin was ready; deliver their backlog now.
    this.#bus.kick();
    this.#phaseDone('sites, events, plugins');

    this.#admin = new PluginAdmin({
      plugins: this.#loaded.plugins,
      broken: this.#loaded.broken,
      sites: this.#sites,
      store: this.#storage.sitePlugins,
      hookTimeoutMs: Math.max(config.plugins.handlerTimeoutMs, 10_000),
      saveState: (p) => this.#storage.saveInstallation(p.id, p.version, p.state, p.error),
      checkCredentials: async (u, p) => {
        const user = await checkAdminCredentials(ds, u, p);
        return user ? { username: user.username, role: user.role } : undefined;
      },
    });
    await this.#enableAtBoot();
    this.#phaseDone('enable per site');
    await this.#startHttp(options);
    this.#phaseDone('http listening');
    this.#sip = new SipConnection(config.sip, this.log, router, { compactWhenIdle: config.runtime.compactWhenIdle });
    await this.#sip.start();
    this.#phaseDone('sip engine');
    this.log.debug({ phases: this.#phases }, 'boot phases');
  }

  /** Call enable(site) for every site where a ready plugin is on, so plugins can warm per-site state. */
  async #enableAtBoot(): Promise<void> {
    for (const id of this.#loaded.order) {
      const plugin = this.plugin(id);
      const hook = plugin?.definition?.enable;
      if (!plugin?.active || !hook) continue;
      for (const site of this.#sites.list()) {
        if (!this.#sites.isEnabled(site.domain, id)) continue;
        try {
          await withDeadline(() => hook.call(plugin.definition, site, plugin.context!), Math.max(this.config.plugins.handlerTimeoutMs, 10_000));
        } catch (err) {
          // That site only: the plugin keeps serving the others, and an admin re-enable retries the hook.
          this.#sites.markFailed(site.domain, id, `CORE_ERR_PLUGIN_ENABLE_FAILED: enable(${site.domain}) threw: ${reasonOf(err)}`);
          this.log.error({ plugin: id, site: site.domain, err, code: 'CORE_ERR_PLUGIN_ENABLE_FAILED' }, 'plugin failed in enable for one site');
        }
      }
    }
  }

  async #startHttp(options: HostOptions): Promise<void> {
    const app = createHttpServer({ log: this.log });
    this.#http = app;
    const tokens = new TokenSigner(undefined, await hostSecret(this.#storage.dataSource, 'token-signing-key'));
    // The role guard first: every route registered after it must declare its role.
    const identityHttp = installIdentityGuard(app, this.#identity, tokens);
    registerHealthRoute(app, { health: () => this.#health() });
    await registerLoginRateLimit(app);
    registerIdentityHttp(app, identityHttp, { identity: this.#identity, tokens, loginRateLimit: { max: options.loginRateLimit ?? 10, timeWindowMs: 60_000 } });
    registerAdminRoutes(app, this.#admin);
    registerSlotRoutes(app, {
      hasSite: (s) => this.#sites.get(s) !== undefined,
      renderSlot: (site, slot) => this.#fragments.render(slot, this.#slotScope(site, {})),
    });
    this.#ui.registerRoutes(app, {
      identity: this.#identity,
      hasSite: (s) => this.#sites.get(s) !== undefined,
      pluginAssets: (id) => {
        const p = this.plugin(id);
        return p?.active && p.manifest.ui?.assets ? resolve(p.dir, p.manifest.ui.assets) : undefined;
      },
      endpoints: (site, username) => this.sipEndpoints(site, username),
    });
    registerEntryRoutes(app, {
      sites: () => this.#sites.list().map((s) => s.domain),
      entries: (site) => (this.#loaded?.order ?? []).flatMap((id) => {
        const p = this.plugin(id);
        const entry = p?.manifest.ui?.entry;
        return entry && p.active && this.#sites.isEnabled(site, id) ? [entry] : [];
      }),
      page: (site, title, main) => this.#pages.renderCore({ ...(site ? { site } : {}), title, layout: 'plain', main }),
    });
    await registerLiveRoutes(app, {
      hub: this.#live,
      principalOfToken: (token) => principalResolver(tokens, this.#identity.signIn, identityHttp.revoked)({ headers: { authorization: `Bearer ${token}` } } as never),
    });
    for (const id of this.#loaded.order) {
      const plugin = this.plugin(id);
      if (!plugin || plugin.state !== 'ready' || plugin.routes.length === 0) continue;
      mountPluginRoutes(app, plugin, {
        hasSite: (s) => this.#sites.get(s) !== undefined,
        isEnabled: (s, pid) => this.#sites.isEnabled(s, pid),
        unavailable: (pid) => {
          const p = this.plugin(pid);
          if (p?.breaker.open) return coreError('CORE_ERR_PLUGIN_BREAKER_OPEN', `${pid}: ${p.error ?? ''}`);
          if (!p?.active) return coreError('CORE_ERR_PLUGIN_FAILED', `${pid}: ${p?.error ?? ''}`);
          return undefined;
        },
        onFailure: (pid, reason) => this.#recordFailure(pid, reason),
        handlerTimeoutMs: this.config.plugins.handlerTimeoutMs,
        tokens,
      });
    }
    this.#registry = await attachRegistry(app, {
      config: this.config, hostVersion: HOST_VERSION, storage: this.#storage, plugins: this.#plugins, order: this.#loaded.order,
      loader: this.#loaderOptions!, admin: this.#admin, sites: this.#sites, tokens, log: this.log,
    });
    const address = await app.listen({ host: this.config.http.host, port: this.config.http.port });
    this.#url = address.replace('[::1]', '[::1]');
    const bound = app.server.address();
    if (bound && typeof bound === 'object') {
      const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
      this.#url = `http://${host}:${bound.port}`;
    }
    this.log.info({ url: this.#url }, 'HTTP API listening');
  }

  /** Which plugins draw on a site's pages, and the data their fragments get. */
  #slotScope(site: string, data: Record<string, unknown>): SlotRenderScope {
    return {
      order: this.#loaded?.order ?? [],
      isActive: (id) => this.plugin(id)?.active === true && this.#sites.isEnabled(site, id),
      onError: (id, err) => this.#recordFailure(id, `UI fragment: ${reasonOf(err)}`),
      dataFor: (id) => ({ ...data, site, config: this.#sites.configOf(site, id) }),
    };
  }

  #health(): Record<string, unknown> {
    const all = [...(this.#loaded?.plugins.values() ?? [])];
    return {
      version: HOST_VERSION,
      sip: this.#sip?.state ?? 'idle',
      plugins: {
        ready: all.filter((p) => p.active).length,
        failed: all.filter((p) => !p.active).length + (this.#loaded?.broken.length ?? 0),
      },
    };
  }

  #withDefaults(pluginId: string, stored: Record<string, unknown>): Record<string, unknown> {
    const copy = structuredClone(stored);
    const validate = this.plugin(pluginId)?.configValidator;
    // A stored config that no longer matches (schema changed) still gets defaults; the admin sees it on the next save.
    validate?.(copy);
    return copy;
  }

  #recordFailure(pluginId: string, reason: string): void {
    this.plugin(pluginId)?.breaker.recordFailure(reason);
  }

  #trip(plugin: PluginRuntime, reason: string): void {
    plugin.fail(`CORE_ERR_PLUGIN_BREAKER_OPEN: ${reason}`);
    this.log.error({ plugin: plugin.id, code: 'CORE_ERR_PLUGIN_BREAKER_OPEN' }, reason);
    void this.#storage.saveInstallation(plugin.id, plugin.version, plugin.state, plugin.error).catch((err: unknown) => {
      this.log.error({ err, plugin: plugin.id }, 'could not persist breaker state');
    });
  }

  /** Stop: no new work, in-flight work finished, database closed. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#compaction?.stop();
    this.#live?.close();
    this.#router?.stopping();
    await this.#sip?.stop().catch((err: unknown) => this.log.error({ err }, 'stopping SIP'));
    await this.#sipCore?.stop().catch((err: unknown) => this.log.error({ err }, 'flushing registrar bindings'));
    await this.#http?.close().catch((err: unknown) => this.log.error({ err }, 'stopping HTTP'));
    await this.#registry?.close().catch((err: unknown) => this.log.error({ err }, 'stopping registry routes'));
    await this.#bus?.close();
    for (const plugin of this.#loaded?.plugins.values() ?? []) {
      const close = plugin.definition?.close;
      if (!close || !plugin.context || plugin.state === 'failed') continue;
      await withDeadline(() => close.call(plugin.definition, plugin.context!), 5000).catch((err: unknown) =>
        this.log.warn({ err, plugin: plugin.id }, 'plugin close failed'));
    }
    await this.#storage?.close();
    this.log.info('stopped');
  }
}
