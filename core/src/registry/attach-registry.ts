/**
 * Wires the registry into a host: the installer, live activation, the
 * catch-all for late plugin routes and the admin routes. The host calls
 * this once before its HTTP server listens.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { SwitchboardConfig } from '../config/index.ts';
import { coreError } from '../errors.ts';
import type { LoaderOptions } from '../host/plugin-loader.ts';
import type { PluginRuntime } from '../host/plugin-runtime.ts';
import type { SiteRegistry } from '../host/site-registry.ts';
import type { HostStorage } from '../host/storage-bridge.ts';
import type { AdminService } from '../http/admin-service.ts';
import type { PluginRouteGate } from '../http/plugin-routes.ts';
import { registerRegistryRoutes } from '../http/registry-routes.ts';
import type { TokenSigner } from '../http/token.ts';
import { LateRoutes } from './late-routes.ts';
import { createLivePlugins } from './live-plugins.ts';
import { PluginInstaller } from './plugin-installer.ts';

export interface RegistryHostParts {
  config: SwitchboardConfig;
  hostVersion: string;
  storage: HostStorage;
  plugins: Map<string, PluginRuntime>;
  order: string[];
  loader: Omit<LoaderOptions, 'dirs' | 'plugins'>;
  admin: AdminService;
  sites: SiteRegistry;
  tokens: TokenSigner;
  log: Logger;
}

export interface RegistryAttachment {
  installer: PluginInstaller;
  close(): Promise<void>;
}

export async function attachRegistry(app: FastifyInstance, parts: RegistryHostParts): Promise<RegistryAttachment> {
  const log = parts.log.child({ component: 'registry' });
  const lateRoutes = new LateRoutes(log);
  const gate: PluginRouteGate = {
    hasSite: (s) => parts.sites.get(s) !== undefined,
    isEnabled: (s, id) => parts.sites.isEnabled(s, id),
    unavailable: (id) => {
      const p = parts.plugins.get(id);
      if (p?.breaker.open) return coreError('CORE_ERR_PLUGIN_BREAKER_OPEN', `${id}: ${p.error ?? ''}`);
      if (!p?.active) return coreError('CORE_ERR_PLUGIN_FAILED', `${id}: ${p?.error ?? ''}`);
      return undefined;
    },
    onFailure: (id, reason) => parts.plugins.get(id)?.breaker.recordFailure(reason),
    handlerTimeoutMs: parts.config.plugins.handlerTimeoutMs,
    tokens: parts.tokens,
  };
  const live = createLivePlugins({
    plugins: parts.plugins, order: parts.order, loader: parts.loader, admin: parts.admin, sites: parts.sites, lateRoutes, gate,
  });
  const installer = new PluginInstaller({
    dataSource: parts.storage.dataSource,
    kind: parts.storage.kind,
    hostVersion: parts.hostVersion,
    installDir: parts.config.plugins.installDir,
    trustDir: parts.config.plugins.trustDir,
    registries: parts.config.plugins.registries,
    maxBytes: parts.config.plugins.maxUploadBytes,
    live,
    log,
  });
  await installer.open();
  lateRoutes.attach(app);
  registerRegistryRoutes(app, { installer, tokens: parts.tokens, maxUploadBytes: parts.config.plugins.maxUploadBytes });
  return { installer, close: () => lateRoutes.close() };
}
