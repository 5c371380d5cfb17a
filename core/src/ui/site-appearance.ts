/**
 * Which theme and branding each site is drawn with, held in memory so page
 * rendering (synchronous, like ctx.ui.page) needs no query. The effective
 * value comes from, first to last: what an admin stored at runtime
 * (BrandingStore), the site's entry in the config, the site record (sites
 * added through the API), then the `default` theme and no branding.
 */
import { coreError } from '../errors.ts';
import type { SiteConfig } from '../config/index.ts';
import { brandingCss, cssVersion, type Branding } from './branding.ts';
import type { BrandingStore, StoredAppearance } from './branding-store.ts';
import type { Theme, ThemeCatalog } from './theme-catalog.ts';

export type AppearanceSource = 'stored' | 'config' | 'site' | 'default';

export interface AppearanceView {
  site: string;
  theme: string;
  themeSource: AppearanceSource;
  branding: Branding;
  brandingSource: AppearanceSource;
  updatedBy?: string;
  updatedAt?: string;
}

export interface AppearanceChange {
  /** null reverts to the config's theme. */
  theme?: string | null;
  /** null reverts to the config's branding. */
  branding?: Branding | null;
}

export class SiteAppearance {
  readonly #store: BrandingStore;
  readonly #themes: ThemeCatalog;
  readonly #config = new Map<string, SiteConfig>();
  #stored = new Map<string, StoredAppearance>();
  #siteThemes = new Map<string, string>();
  readonly #css = new Map<string, { css: string; version: string }>();

  constructor(store: BrandingStore, themes: ThemeCatalog, configSites: readonly SiteConfig[]) {
    this.#store = store;
    this.#themes = themes;
    for (const site of configSites) this.#config.set(site.domain.toLowerCase(), site);
  }

  async load(): Promise<void> {
    await this.#store.ensureTable();
    this.#stored = new Map((await this.#store.loadAll()).map((r) => [r.site, r]));
    this.#siteThemes = await this.#store.siteThemes();
    this.#css.clear();
  }

  /** Re-read themes stored on site records (after a site was added or changed through the API). */
  async refreshSiteThemes(): Promise<void> {
    this.#siteThemes = await this.#store.siteThemes();
  }

  get themes(): ThemeCatalog {
    return this.#themes;
  }

  view(site: string): AppearanceView {
    const domain = site.toLowerCase();
    const stored = this.#stored.get(domain);
    const config = this.#config.get(domain);
    const [theme, themeSource] = this.#themeName(domain);
    const branding: [Branding, AppearanceSource] = stored?.branding
      ? [stored.branding, 'stored']
      : config?.branding ? [config.branding, 'config'] : [{}, 'default'];
    return {
      site: domain,
      theme,
      themeSource,
      branding: branding[0],
      brandingSource: branding[1],
      ...(stored?.updatedBy ? { updatedBy: stored.updatedBy } : {}),
      ...(stored?.updatedAt ? { updatedAt: stored.updatedAt } : {}),
    };
  }

  theme(site: string): Theme {
    return this.#themes.get(this.#themeName(site.toLowerCase())[0]);
  }

  branding(site: string): Branding {
    return this.view(site).branding;
  }

  /** The site's colour stylesheet and its version; empty when the theme ignores branding colours or none are set. */
  css(site: string): { css: string; version: string } {
    const domain = site.toLowerCase();
    let entry = this.#css.get(domain);
    if (!entry) {
      const css = this.theme(domain).brandingColors ? brandingCss(this.branding(domain)) : '';
      entry = { css, version: cssVersion(css) };
      this.#css.set(domain, entry);
    }
    return entry;
  }

  /** Persist then apply; an unknown theme is refused (400) and nothing changes. Body shape is checked by the route schema. */
  async change(site: string, change: AppearanceChange, changedBy: string): Promise<AppearanceView> {
    const domain = site.toLowerCase();
    if (typeof change.theme === 'string' && !this.#themes.has(change.theme)) {
      throw coreError('CORE_ERR_REQUEST_INVALID', `unknown theme "${change.theme}"; installed: ${this.#themes.list().map((t) => t.name).join(', ')}`, [
        { instancePath: '/theme', keyword: 'enum', message: `must be one of the installed themes: ${this.#themes.list().map((t) => t.name).join(', ')}`, params: {} },
      ]);
    }
    const current = this.#stored.get(domain);
    const next: StoredAppearance = {
      site: domain,
      theme: change.theme !== undefined ? change.theme : (current?.theme ?? null),
      branding: change.branding !== undefined ? change.branding : (current?.branding ?? null),
      updatedBy: changedBy,
      updatedAt: new Date().toISOString(),
    };
    if (next.theme === null && next.branding === null) await this.#store.remove(domain);
    else await this.#store.save(next);
    if (next.theme === null && next.branding === null) this.#stored.delete(domain);
    else this.#stored.set(domain, next);
    this.#css.delete(domain);
    return this.view(domain);
  }

  /** Drop what admins stored for a site (the site was deleted). */
  async forget(site: string): Promise<void> {
    const domain = site.toLowerCase();
    await this.#store.remove(domain);
    this.#stored.delete(domain);
    this.#siteThemes.delete(domain);
    this.#css.delete(domain);
  }

  #themeName(domain: string): [string, AppearanceSource] {
    const stored = this.#stored.get(domain)?.theme;
    if (stored) return [stored, 'stored'];
    const config = this.#config.get(domain)?.theme;
    if (config) return [config, 'config'];
    const record = this.#siteThemes.get(domain);
    if (record) return [record, 'site'];
    return ['default', 'default'];
  }
}
