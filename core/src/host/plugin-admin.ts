/**
 * Admin operations on plugins: the view the API lists and the per-site
 * toggle with its checks (schema, dependencies, dependents). Changes are
 * serialised so two admins cannot interleave a check and a write.
 */
import { coreError } from '../errors.ts';
import type { AdminService, PluginView, SitePluginChange } from '../http/admin-service.ts';
import type { BrokenPlugin } from './plugin-loader.ts';
import type { PluginRuntime } from './plugin-runtime.ts';
import type { SitePluginStore, SiteRegistry } from './site-registry.ts';
import { reasonOf, withDeadline } from './containment.ts';

export interface PluginAdminDeps {
  plugins: Map<string, PluginRuntime>;
  broken: BrokenPlugin[];
  sites: SiteRegistry;
  store: SitePluginStore;
  hookTimeoutMs: number;
  /** Persist a plugin's state (after an admin closed its breaker). */
  saveState(plugin: PluginRuntime): Promise<void>;
  checkCredentials: AdminService['checkCredentials'];
}

export class PluginAdmin implements AdminService {
  readonly #deps: PluginAdminDeps;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: PluginAdminDeps) {
    this.#deps = deps;
  }

  listSites(): Array<{ domain: string; name?: string }> {
    return this.#deps.sites.list().map((s) => ({ ...s }));
  }

  checkCredentials(username: string, password: string) {
    return this.#deps.checkCredentials(username, password);
  }

  listPlugins(): PluginView[] {
    const views = [...this.#deps.plugins.values()].map((p) => this.view(p));
    for (const b of this.#deps.broken) {
      views.push({ id: b.id, state: 'failed', error: b.error, dir: b.dir, depends: {}, sites: {} });
    }
    return views.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  view(p: PluginRuntime): PluginView {
    const sites: PluginView['sites'] = {};
    for (const site of this.#deps.sites.list()) {
      const setting = this.#deps.sites.setting(site.domain, p.id);
      const failure = this.#deps.sites.failure(site.domain, p.id);
      sites[site.domain] = { enabled: setting?.enabled ?? false, config: setting?.config ?? {}, ...(failure ? { error: failure } : {}) };
    }
    return {
      id: p.id,
      name: p.manifest.name,
      version: p.version,
      state: p.breaker.open && p.state === 'ready' ? 'failed' : p.state,
      ...(p.error ? { error: p.error } : {}),
      dir: p.dir,
      depends: { ...(p.manifest.depends ?? {}) },
      ...(p.manifest.config ? { configSchema: p.manifest.config } : {}),
      sites,
    };
  }

  changeSitePlugin(site: string, pluginId: string, change: SitePluginChange, changedBy: string): Promise<PluginView> {
    const run = this.#queue.then(() => this.#change(site.toLowerCase(), pluginId, change, changedBy));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #change(site: string, pluginId: string, change: SitePluginChange, changedBy: string): Promise<PluginView> {
    const { sites, plugins } = this.#deps;
    const siteInfo = sites.require(site);
    const plugin = plugins.get(pluginId);
    if (!plugin) {
      if (this.#deps.broken.some((b) => b.id === pluginId)) throw coreError('CORE_ERR_PLUGIN_FAILED', pluginId);
      throw coreError('CORE_ERR_PLUGIN_NOT_FOUND', pluginId);
    }
    const current = sites.setting(site, pluginId) ?? { enabled: false, config: {} };
    const config = change.config ?? current.config;
    const validate = plugin.configValidator;
    if (validate && !validate(structuredClone(config))) {
      throw coreError('CORE_ERR_PLUGIN_CONFIG_INVALID', `${pluginId} on ${site}`, validate.errors);
    }
    const enabled = change.enabled ?? current.enabled;
    if (change.enabled === true && plugin.breaker.open) await this.#closeBreaker(plugin);
    // Enabling again where enable(site) failed before retries the hook.
    if (enabled && (!current.enabled || (change.enabled === true && sites.failure(site, pluginId)))) {
      if (!plugin.active) throw coreError('CORE_ERR_PLUGIN_FAILED', `${pluginId}: ${plugin.error ?? 'not ready'}`);
      const missing = Object.keys(plugin.manifest.depends ?? {}).filter((dep) => !sites.isEnabled(site, dep));
      if (missing.length > 0) {
        throw coreError('CORE_ERR_DEPENDENCY_DISABLED', `${pluginId} on ${site} needs ${missing.join(', ')}`, { missing });
      }
      // enable(site) sees the config it is being enabled with; a failure puts the old one back.
      sites.set(site, pluginId, { enabled: current.enabled, config: structuredClone(config) });
      await this.#hook(plugin, 'enable', siteInfo).catch((err: unknown) => {
        sites.set(site, pluginId, current);
        throw err;
      });
      sites.clearFailure(site, pluginId);
    } else if (!enabled && current.enabled) {
      const dependents = [...plugins.values()]
        .filter((p) => Object.hasOwn(p.manifest.depends ?? {}, pluginId) && sites.isEnabled(site, p.id))
        .map((p) => p.id);
      if (dependents.length > 0) {
        throw coreError('CORE_ERR_DEPENDENTS_ENABLED', `${dependents.join(', ')} on ${site} need ${pluginId}`, { dependents });
      }
      // Off means off: a disable hook that throws is recorded for the site but cannot keep the plugin on.
      await this.#hook(plugin, 'disable', siteInfo).then(() => sites.clearFailure(site, pluginId), () => undefined);
    }
    const setting = { enabled, config: structuredClone(config) };
    await this.#deps.store.save(site, pluginId, setting, changedBy);
    sites.set(site, pluginId, setting);
    return this.view(plugin);
  }

  /**
   * An admin re-enable closes a tripped breaker once its window has passed;
   * before that it answers 503 with the time left (see breaker.ts).
   */
  async #closeBreaker(plugin: PluginRuntime): Promise<void> {
    const retryAfterMs = plugin.breaker.retryAfterMs();
    if (retryAfterMs > 0) {
      throw coreError('CORE_ERR_PLUGIN_BREAKER_OPEN', `${plugin.id}: ${plugin.error ?? ''}; retry in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
    }
    plugin.breaker.reset();
    plugin.state = 'ready';
    delete plugin.error;
    await this.#deps.saveState(plugin);
  }

  /** Run enable/disable for one site; a throw fails the plugin for that site only. */
  async #hook(plugin: PluginRuntime, name: 'enable' | 'disable', site: { domain: string; name?: string }): Promise<void> {
    const hook = plugin.definition?.[name];
    if (!hook || !plugin.context) return;
    try {
      await withDeadline(() => hook.call(plugin.definition, site, plugin.context!), this.#deps.hookTimeoutMs);
    } catch (err) {
      const reason = `CORE_ERR_PLUGIN_ENABLE_FAILED: ${name}(${site.domain}) threw: ${reasonOf(err)}`;
      this.#deps.sites.markFailed(site.domain, plugin.id, reason);
      throw coreError('CORE_ERR_PLUGIN_ENABLE_FAILED', `${plugin.id} on ${site.domain}: ${reasonOf(err)}`);
    }
  }
}
