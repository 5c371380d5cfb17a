/**
 * Whole pages for a site: the site's theme layout with its regions filled
 * by the fragments of the plugins enabled there, each fragment in an
 * element carrying `data-plugin` and `data-slot` (fragment-registry.ts).
 * Which plugin slot lands in which region is the theme's choice
 * (theme.json `regions`); slots a theme does not place go to its
 * `fallbackRegion`, so a plugin's UI never silently disappears.
 */
import type { PageOptions } from '@switchboard/sdk';
import { coreError } from '../errors.ts';
import type { FragmentRegistry, SlotRenderScope } from './fragment-registry.ts';
import type { SiteAppearance } from './site-appearance.ts';
import { REGIONS, type RenderFrame, type Theme } from './theme-catalog.ts';

export interface PageRendererOptions {
  fragments: FragmentRegistry;
  appearance: SiteAppearance;
  /** Render scope of a site (enabled plugins in dependency order). */
  scopeFor(site: string, data: Record<string, unknown>): SlotRenderScope;
  /** The site's display name, undefined for an unknown site. */
  siteName(site: string): { name?: string } | undefined;
}

/** Slots every layout offers (the regions). */
export const PAGE_SLOTS = REGIONS;

/** A core page (admin console): no plugin fragments, drawn with a site's theme or a named one. */
export interface CorePageOptions extends PageOptions {
  /** Site whose theme and branding to use; without it, `theme` (default `default`) and no branding. */
  site?: string;
  theme?: string;
}

export class PageRenderer {
  readonly #opts: PageRendererOptions;

  constructor(options: PageRendererOptions) {
    this.#opts = options;
  }

  /** ctx.ui.page: the site's page; throws CORE_ERR_SITE_NOT_FOUND for an unknown site. */
  render(site: string, options: PageOptions): string {
    const domain = site.toLowerCase();
    const info = this.#opts.siteName(domain);
    if (!info) throw coreError('CORE_ERR_SITE_NOT_FOUND', site);
    const scope = this.#opts.scopeFor(domain, options.data ?? {});
    const theme = this.#opts.appearance.theme(domain);
    const frame = this.#frame(theme, (slot) => this.#opts.fragments.render(slot, scope));
    return this.#compose(theme, frame, options, { domain, label: info.name ?? domain, ...(info.name ? { name: info.name } : {}) }, domain);
  }

  /** A page of the core itself (no plugin fragments). */
  renderCore(options: CorePageOptions): string {
    const domain = options.site?.toLowerCase();
    const known = domain !== undefined && this.#opts.siteName(domain) !== undefined;
    const theme = known ? this.#opts.appearance.theme(domain) : this.#opts.appearance.themes.get(options.theme ?? 'default');
    const frame = this.#frame(theme, () => '');
    const info = known ? this.#opts.siteName(domain)! : {};
    const site = known ? { domain, label: info.name ?? domain, ...(info.name ? { name: info.name } : {}) } : { domain: '', label: 'Switchboard' };
    return this.#compose(theme, frame, options, site, known ? domain : undefined);
  }

  #compose(theme: Theme, frame: RenderFrame, options: PageOptions, site: Record<string, string>, brandedSite: string | undefined): string {
    const appearance = this.#opts.appearance;
    const styles = theme.stylesheets.map((s) => `/assets/themes/${theme.name}/${s}`);
    if (brandedSite) {
      const css = appearance.css(brandedSite);
      if (css.css) styles.push(`/assets/sites/${encodeURIComponent(brandedSite)}/branding.css?v=${css.version}`);
    }
    styles.push(...sameOrigin(options.styles ?? [], 'styles'));
    // Lazy: a layout that never asks about a region does not render its fragments.
    const filled: Record<string, boolean> = {};
    for (const r of REGIONS) Object.defineProperty(filled, r, { enumerable: true, get: () => frame.region(r) !== '' });
    const context = {
      lang: 'en',
      title: options.title,
      theme: theme.name,
      layout: options.layout ?? 'app',
      site,
      branding: brandedSite ? appearance.branding(brandedSite) : {},
      user: options.data?.user,
      data: options.data ?? {},
      styles,
      scripts: sameOrigin(options.scripts ?? [], 'scripts'),
      main: options.main ?? '',
    };
    const layout = theme.layouts[options.layout ?? 'app'] ?? theme.layouts.app;
    return layout(context, frame, filled);
  }

  /** Regions rendered once per page (a layout may ask for one twice, e.g. to test it is filled). */
  #frame(theme: Theme, renderSlot: (slot: string) => string): RenderFrame {
    const slots = new Map<string, string>();
    const slot = (name: string) => {
      let html = slots.get(name);
      if (html === undefined) {
        html = renderSlot(name);
        slots.set(name, html);
      }
      return html;
    };
    const placed = new Set<string>([...REGIONS, ...theme.placedByLayout, ...Object.values(theme.regions).flat()]);
    const regions = new Map<string, string>();
    return {
      slot,
      region: (name) => {
        let html = regions.get(name);
        if (html === undefined) {
          const names = [name, ...(theme.regions[name as keyof Theme['regions']] ?? [])];
          if (name === theme.fallbackRegion) names.push(...[...this.#opts.fragments.slots()].filter((s) => !placed.has(s)).sort());
          html = names.map(slot).filter(Boolean).join('\n');
          regions.set(name, html);
        }
        return html;
      },
    };
  }
}

/** Scripts and styles must be same-origin paths: CSP allows nothing else, so fail loudly instead of silently. */
function sameOrigin(urls: string[], field: string): string[] {
  urls.forEach((url, i) => {
    if (typeof url !== 'string' || !/^\/(?!\/)[^\s"'<>\\]*$/.test(url)) {
      throw coreError('CORE_ERR_REQUEST_INVALID', `PageOptions.${field}[${i}] must be a same-origin path such as /assets/plugins/<id>/app.js`, [
        { instancePath: `/${field}/${i}`, keyword: 'pattern', message: 'must be a same-origin path', params: {} },
      ]);
    }
  });
  return urls;
}
