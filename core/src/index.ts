/**
 * The public surface of @switchboard/core: the host, config loading and the
 * types the SDK re-exports. Plugins import the SDK, never this.
 */
export { SwitchboardHost, HOST_VERSION, type HostOptions } from './host/host.ts';
export { loadConfig, ConfigError, type SwitchboardConfig, type SiteConfig, type ConfigProblem } from './config/index.ts';
export { CoreError, CORE_ERRORS, coreError } from './errors.ts';
export type { PluginManifest, PluginPermissions } from './plugins/manifest.ts';
export type { PluginView, SitePluginChange } from './http/admin-service.ts';
