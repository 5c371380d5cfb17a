/** What the admin HTTP API needs from the host; the host implements it. */

export interface PluginSiteView {
  enabled: boolean;
  config: Record<string, unknown>;
  /** Set when the plugin's enable/disable hook threw for this site; it does not serve the site meanwhile. */
  error?: string;
}

export interface PluginView {
  id: string;
  name?: string;
  version?: string;
  state: string;
  error?: string;
  dir: string;
  depends: Record<string, string>;
  configSchema?: Record<string, unknown>;
  sites: Record<string, PluginSiteView>;
}

export interface SitePluginChange {
  enabled?: boolean;
  config?: Record<string, unknown>;
}

export interface AdminService {
  listPlugins(): PluginView[];
  /** Validates, persists and applies; throws CoreError (400/404/409) and changes nothing on failure. */
  changeSitePlugin(site: string, pluginId: string, change: SitePluginChange, changedBy: string): Promise<PluginView>;
  /** The admin user when the credentials match. */
  checkCredentials(username: string, password: string): Promise<{ username: string; role: string } | undefined>;
  listSites(): Array<{ domain: string; name?: string }>;
}
