/**
 * The running host's side of install and uninstall: bring a freshly
 * installed plugin up without a restart (same steps as boot: import,
 * entities, migrations, setup) and take an uninstalled one out of service.
 * Upgrades replace code a process has already imported, so they take effect
 * at the next start; the installer says so.
 */
import { readManifest } from '../plugins/manifest.ts';
import { bringUp, type LoaderOptions } from '../host/plugin-loader.ts';
import { PluginRuntime } from '../host/plugin-runtime.ts';
import { reasonOf, withDeadline } from '../host/containment.ts';
import type { SiteRegistry } from '../host/site-registry.ts';
import type { AdminService } from '../http/admin-service.ts';
import type { PluginRouteGate } from '../http/plugin-routes.ts';
import { coreError } from '../errors.ts';
import { LateRoutes } from './late-routes.ts';

/** A plugin as the installer sees it. */
export interface KnownPlugin {
  id: string;
  version: string;
  dir: string;
  state: string;
  depends: Record<string, string>;
}

export interface Activation {
  state: string;
  error?: string;
  /** False when the plugin runs only after the next start. */
  live: boolean;
}

/** What the installer needs from the running host. */
export interface LivePlugins {
  list(): KnownPlugin[];
  activate(dir: string): Promise<Activation>;
  /** Disable on every site (dependents refuse with 409) and stop serving. */
  deactivate(id: string, by: string): Promise<void>;
}

export interface LiveHostParts {
  plugins: Map<string, PluginRuntime>;
  /** The host's dependency order; activated ids are appended. */
  order: string[];
  loader: Omit<LoaderOptions, 'dirs' | 'plugins'>;
  admin: AdminService;
  sites: SiteRegistry;
  lateRoutes: LateRoutes;
  gate: PluginRouteGate;
}

export function createLivePlugins(parts: LiveHostParts): LivePlugins {
  // ESM caches modules by URL: a folder imported once in this process cannot be loaded fresh again.
  const imported = new Set<string>([...parts.plugins.values()].map((p) => p.dir));
  const { deps } = { deps: parts.loader.contextDeps };

  return {
    list: () => [...parts.plugins.values()].map((p) => ({
      id: p.id, version: p.version, dir: p.dir, state: p.state, depends: { ...(p.manifest.depends ?? {}) },
    })),

    async activate(dir) {
      const read = await readManifest(dir);
      if (!read.ok) throw coreError('CORE_ERR_MANIFEST_INVALID', read.errors.join('; '));
      const plugin = new PluginRuntime(dir, read.manifest, parts.loader.breaker, parts.loader.onTrip);
      parts.plugins.set(plugin.id, plugin);
      if (imported.has(dir)) {
        // Known to the admin API (listed, uninstallable) but not run until the next start.
        plugin.state = 'installed';
        plugin.setupOpen = false;
        return { state: plugin.state, live: false };
      }
      imported.add(dir);
      await bringUp(plugin, { ...parts.loader, dirs: [], plugins: parts.plugins });
      plugin.setupOpen = false;
      parts.order.push(plugin.id);
      await parts.loader.storage.saveInstallation(plugin.id, plugin.version, plugin.state, plugin.error);
      if (plugin.state !== 'ready') return { state: plugin.state, ...(plugin.error ? { error: plugin.error } : {}), live: true };
      if (plugin.routes.length > 0) {
        if (!LateRoutes.canServe(plugin.prefix)) {
          return { state: plugin.state, live: false, error: `HTTP prefix ${plugin.prefix} is mounted at the next start` };
        }
        await parts.lateRoutes.mount(plugin, parts.gate);
      }
      return { state: plugin.state, live: true };
    },

    async deactivate(id, by) {
      const plugin = parts.plugins.get(id);
      if (!plugin) return;
      for (const site of parts.sites.list()) {
        if (parts.sites.isEnabled(site.domain, id)) await parts.admin.changeSitePlugin(site.domain, id, { enabled: false }, by);
      }
      const close = plugin.definition?.close;
      if (close && plugin.context && plugin.state !== 'failed') {
        await withDeadline(() => close.call(plugin.definition, plugin.context!), 5000).catch((err: unknown) =>
          deps.log.warn({ plugin: id, err: reasonOf(err) }, 'plugin close failed during uninstall'));
      }
      plugin.fail('uninstalled');
      deps.sip.removePlugin(id);
      deps.services.removePlugin(id);
      deps.fragments.removePlugin(id);
      await parts.lateRoutes.unmount(id);
      parts.plugins.delete(id);
      const at = parts.order.indexOf(id);
      if (at >= 0) parts.order.splice(at, 1);
    },
  };
}
