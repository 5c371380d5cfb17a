/**
 * The themes a site can pick: each folder of themes/ with a theme.json,
 * handlebars layouts (`app`, `plain`) and an assets folder served at
 * /assets/themes/<name>/. Themes are read and compiled once at boot; a
 * broken theme is logged and left out, and a built-in layout stands in
 * should even `default` be missing, so pages always render.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Handlebars from 'handlebars';
import type { Logger } from 'pino';
import type { ValidateFunction } from 'ajv';
import { createAjv } from '../config/ajv.ts';
import { THEME_PROFILE, precompiledValidator } from '../config/precompiled.ts';

/** The regions every layout offers; plugin slots are placed into them. */
export const REGIONS = ['header', 'nav', 'sidebar', 'main', 'aside', 'footer'] as const;
export type Region = (typeof REGIONS)[number];
export type LayoutName = 'app' | 'plain';

/** What a layout's helpers reach while one page renders (handlebars private data). */
export interface RenderFrame {
  /** HTML of a region: its own slot, the plugin slots mapped to it, and for the fallback region every unplaced slot. */
  region(name: string): string;
  /** HTML of one slot's fragments. */
  slot(name: string): string;
}

export type LayoutTemplate = (context: Record<string, unknown>, frame: RenderFrame, filled: Record<string, boolean>) => string;

export interface Theme {
  name: string;
  description: string;
  /** Absolute folder served at /assets/themes/<name>/ (empty for the built-in theme). */
  assetsDir: string;
  /** Stylesheets relative to the assets folder, in load order. */
  stylesheets: string[];
  /** Whether a site's branding colours apply (a high-contrast theme keeps its own). */
  brandingColors: boolean;
  /** Plugin slots the theme places in each region. */
  regions: Record<Region, string[]>;
  /** Region that takes every plugin slot the theme does not place. */
  fallbackRegion: Region;
  /** Slots a layout names with `{{{slot "…"}}}` itself; never repeated by the fallback region. */
  placedByLayout: Set<string>;
  layouts: Record<LayoutName, LayoutTemplate>;
}

const slotName = { type: 'string', pattern: '^[a-z][a-z0-9-]*(\\.[a-z0-9-]+)*$' } as const;
const relativeFile = { type: 'string', minLength: 1, maxLength: 200, pattern: '^(?!/)(?!.*\\.\\.)[A-Za-z0-9._/-]+$' } as const;

/** The JSON Schema of a theme.json (the build precompiles it: precompiled.ts). */
export const themeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'description', 'layouts'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' },
    description: { type: 'string', maxLength: 500 },
    layouts: {
      type: 'object',
      additionalProperties: false,
      required: ['app', 'plain'],
      properties: { app: relativeFile, plain: relativeFile },
    },
    assets: { ...relativeFile, default: 'assets' },
    stylesheets: { type: 'array', items: relativeFile, default: [] },
    brandingColors: { type: 'boolean', default: true },
    regions: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: Object.fromEntries(REGIONS.map((r) => [r, { type: 'array', items: slotName, uniqueItems: true, default: [] }])),
    },
    fallbackRegion: { type: 'string', enum: [...REGIONS], default: 'aside' },
  },
} as const;

interface ThemeFile {
  name: string;
  description: string;
  layouts: Record<LayoutName, string>;
  assets: string;
  stylesheets: string[];
  brandingColors: boolean;
  regions: Partial<Record<Region, string[]>>;
  fallbackRegion: Region;
}

let themeValidator: ValidateFunction<ThemeFile> | undefined;

/** Compiled on first use, by the build when it can (precompiled.ts), not when this module is imported. */
function validateTheme(raw: unknown): raw is ThemeFile {
  themeValidator ??= precompiledValidator<ThemeFile>(THEME_PROFILE, themeSchema) ?? createAjv(THEME_PROFILE.options).compile<ThemeFile>(themeSchema);
  return themeValidator(raw);
}

export class ThemeCatalog {
  readonly #themes = new Map<string, Theme>();
  readonly #log: Logger;

  private constructor(log: Logger) {
    this.#log = log;
  }

  /** Read every theme under `dir`; problems are logged, never thrown. */
  static load(dir: string, log: Logger): ThemeCatalog {
    const catalog = new ThemeCatalog(log);
    const folders = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort() : [];
    for (const folder of folders) {
      try {
        const theme = readTheme(join(dir, folder));
        if (theme.name !== folder) throw new Error(`theme.json names "${theme.name}" but the folder is "${folder}"`);
        catalog.#themes.set(theme.name, theme);
      } catch (err) {
        log.error({ theme: folder, err, code: 'CORE_ERR_THEME_INVALID' }, `CORE_ERR_THEME_INVALID: theme ${folder} left out: ${(err as Error).message}`);
      }
    }
    if (!catalog.#themes.has('default')) {
      log.error({ dir }, 'no usable "default" theme; pages use the built-in fallback layout');
      catalog.#themes.set('default', builtInTheme());
    }
    return catalog;
  }

  has(name: string): boolean {
    return this.#themes.has(name);
  }

  /** The named theme, or `default` (with a warning) when it does not exist. */
  get(name: string | undefined): Theme {
    const theme = name ? this.#themes.get(name) : undefined;
    if (theme) return theme;
    if (name && name !== 'default') this.#log.warn({ theme: name }, 'unknown theme; using "default"');
    return this.#themes.get('default')!;
  }

  /** Only existing themes (for the asset routes). */
  find(name: string): Theme | undefined {
    return this.#themes.get(name);
  }

  list(): Array<{ name: string; description: string }> {
    return [...this.#themes.values()].map((t) => ({ name: t.name, description: t.description }));
  }
}

function readTheme(dir: string): Theme {
  const raw = JSON.parse(readFileSync(join(dir, 'theme.json'), 'utf8')) as unknown;
  if (!validateTheme(raw)) {
    const first = themeValidator?.errors?.[0];
    throw new Error(`theme.json${first?.instancePath ?? ''} ${first?.message ?? 'is invalid'}`);
  }
  const file = raw;
  const hbs = Handlebars.create();
  registerHelpers(hbs);
  const placedByLayout = new Set<string>();
  const layouts = {} as Record<LayoutName, LayoutTemplate>;
  for (const name of ['app', 'plain'] as const) {
    const source = readFileSync(join(dir, file.layouts[name]), 'utf8');
    for (const m of source.matchAll(/\{\{\{?\s*slot\s+"([^"]+)"/g)) placedByLayout.add(m[1]!);
    layouts[name] = compileLayout(hbs, source);
  }
  const assetsDir = realpathOrSelf(resolve(dir, file.assets));
  for (const sheet of file.stylesheets) {
    if (!existsSync(join(assetsDir, sheet)) || !statSync(join(assetsDir, sheet)).isFile()) throw new Error(`stylesheet ${sheet} is not in ${file.assets}/`);
  }
  return {
    name: file.name,
    description: file.description,
    assetsDir,
    stylesheets: file.stylesheets,
    brandingColors: file.brandingColors,
    regions: Object.fromEntries(REGIONS.map((r) => [r, file.regions[r] ?? []])) as Record<Region, string[]>,
    fallbackRegion: file.fallbackRegion,
    placedByLayout,
    layouts,
  };
}

/**
 * Helpers a layout may use: `{{{region "sidebar"}}}`, `{{{slot "presence.contact-list"}}}`.
 * They read the page being rendered from handlebars' private data, so one
 * compiled layout serves every site and request.
 */
function registerHelpers(hbs: typeof Handlebars): void {
  hbs.registerHelper('region', (name: unknown, options: Handlebars.HelperOptions) =>
    new hbs.SafeString(frameOf(options).region(String(name))));
  hbs.registerHelper('slot', (name: unknown, options: Handlebars.HelperOptions) =>
    new hbs.SafeString(frameOf(options).slot(String(name))));
}

function frameOf(options: Handlebars.HelperOptions): RenderFrame {
  const frame = (options.data as { sb?: RenderFrame } | undefined)?.sb;
  if (!frame) throw new Error('region/slot used outside a page render');
  return frame;
}

function compileLayout(hbs: typeof Handlebars, source: string): LayoutTemplate {
  // Escaping stays on: only `main` and region/slot output (already wrapped and escaped by their producers) are raw.
  const template = hbs.compile(source, { strict: false, noEscape: false });
  return (context, frame, filled) => template(context, { data: { sb: frame, filled } });
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

const BUILT_IN = `<!doctype html>
<html lang="{{lang}}" data-theme="{{theme}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · {{site.label}}</title><link rel="icon" href="data:,">
{{#each styles}}<link rel="stylesheet" href="{{this}}">{{/each}}
{{#each scripts}}<script type="module" src="{{this}}"></script>{{/each}}
</head><body data-site="{{site.domain}}"><a href="#sb-main">Skip to main content</a>
<header>{{{region "header"}}}</header><nav aria-label="Site menu">{{{region "nav"}}}</nav>
<aside aria-label="Sidebar">{{{region "sidebar"}}}</aside>
<main id="sb-main">{{{main}}}{{{region "main"}}}</main>
<aside aria-label="Details">{{{region "aside"}}}</aside><footer>{{{region "footer"}}}</footer></body></html>`;

function builtInTheme(): Theme {
  const hbs = Handlebars.create();
  registerHelpers(hbs);
  const layout = compileLayout(hbs, BUILT_IN);
  return {
    name: 'default',
    description: 'Built-in fallback (themes/default is missing or invalid)',
    assetsDir: '',
    stylesheets: [],
    brandingColors: true,
    regions: Object.fromEntries(REGIONS.map((r) => [r, []])) as unknown as Record<Region, string[]>,
    fallbackRegion: 'aside',
    placedByLayout: new Set(),
    layouts: { app: layout, plain: layout },
  };
}
