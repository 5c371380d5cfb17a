/**
 * The host's page machinery in one place: themes (themes/), each site's
 * appearance (config + what admins stored), the page renderer behind
 * ctx.ui.page, and the HTTP routes for assets, branding and the admin
 * console. The host builds it once at boot and mounts its routes.
 */
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { SipEndpoint } from '@switchboard/sdk';
import type { SiteConfig } from '../config/index.ts';
import type { Identity } from '../identity/identity-services.ts';
import { registerAdminConsoleRoutes } from '../http/admin-console-routes.ts';
import { registerAppearanceRoutes } from '../http/appearance-routes.ts';
import { registerAssetRoutes } from '../http/asset-routes.ts';
import { BrandingStore } from './branding-store.ts';
import type { FragmentRegistry, SlotRenderScope } from './fragment-registry.ts';
import { PageRenderer } from './page-renderer.ts';
import { SiteAppearance } from './site-appearance.ts';
import { ThemeCatalog } from './theme-catalog.ts';

export { UI_TABLES } from './branding-store.ts';

export interface HostUiOptions {
  dataSource: DataSource;
  configSites: readonly SiteConfig[];
  /** The repository root: themes/ and core/public/ are found under it. */
  rootDir: string;
  fragments: FragmentRegistry;
  scopeFor(site: string, data: Record<string, unknown>): SlotRenderScope;
  siteName(site: string): { name?: string } | undefined;
  log: Logger;
}

export interface HostUiRouteOptions {
  identity: Identity;
  hasSite(site: string): boolean;
  /** Assets folder of a plugin that is active now (its manifest `ui.assets`), if any. */
  pluginAssets(id: string): string | undefined;
  endpoints(site: string, username: string): SipEndpoint[];
}

export class HostUi {
  readonly appearance: SiteAppearance;
  readonly pages: PageRenderer;
  readonly #rootDir: string;

  private constructor(options: HostUiOptions, appearance: SiteAppearance) {
    this.#rootDir = options.rootDir;
    this.appearance = appearance;
    this.pages = new PageRenderer({ fragments: options.fragments, appearance, scopeFor: options.scopeFor, siteName: options.siteName });
  }

  static async open(options: HostUiOptions): Promise<HostUi> {
    const themes = ThemeCatalog.load(resolve(options.rootDir, 'themes'), options.log.child({ component: 'themes' }));
    const appearance = new SiteAppearance(new BrandingStore(options.dataSource), themes, options.configSites);
    await appearance.load();
    return new HostUi(options, appearance);
  }

  registerRoutes(app: FastifyInstance, options: HostUiRouteOptions): void {
    registerAssetRoutes(app, {
      themeAssets: (name) => this.appearance.themes.find(name)?.assetsDir || undefined,
      pluginAssets: options.pluginAssets,
      coreAssets: resolve(this.#rootDir, 'core/public'),
    });
    registerAppearanceRoutes(app, { appearance: this.appearance, hasSite: options.hasSite });
    registerAdminConsoleRoutes(app, { pages: this.pages, identity: options.identity, hasSite: options.hasSite, endpoints: options.endpoints });
  }
}
