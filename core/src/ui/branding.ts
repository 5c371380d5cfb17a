/**
 * A site's branding: logo, colours, sign-in text, help link and menu
 * entries. One JSON schema serves the config file (config/schema.json has a
 * copy under definitions.branding) and the admin API; colours become a
 * stylesheet of custom properties served from /assets/sites/<site>/branding.css,
 * never inline styles, so the page keeps a strict Content-Security-Policy.
 */
import { createHash } from 'node:crypto';
import type { SiteBranding } from '../config/index.ts';
import { BRANDING_COLOR_PROPERTIES, CSS_COLOR_SCHEMA, isCssColor, type BrandingColorKey } from './css-color.ts';

/** A site's branding; the type lives with the config typings. */
export type Branding = SiteBranding;

// No quotes, angle brackets, backslashes or whitespace; a path must not start with `//` (another host).
const LINK_PATTERN = '^(https?://[^\\s"\'<>\\\\]+|/(?!/)[^\\s"\'<>\\\\]*)$';
const LOGO_PATTERN = '^(https://[^\\s"\'<>\\\\]+|/(?!/)[^\\s"\'<>\\\\]*)$';

/** JSON Schema of a branding object (same as config/schema.json#/definitions/branding). */
export const BRANDING_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    logo: { type: 'string', minLength: 1, maxLength: 2048, pattern: LOGO_PATTERN, description: 'Same-origin path or https URL of the logo.' },
    colors: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(Object.keys(BRANDING_COLOR_PROPERTIES).map((k) => [k, { $ref: '#/definitions/cssColor' }])),
    },
    signInText: { type: 'string', maxLength: 2000 },
    helpUrl: { type: 'string', minLength: 1, maxLength: 2048, pattern: LINK_PATTERN },
    menu: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['label', 'url'],
        properties: {
          label: { type: 'string', minLength: 1, maxLength: 80 },
          url: { type: 'string', minLength: 1, maxLength: 2048, pattern: LINK_PATTERN },
        },
      },
    },
  },
} as const;

/** Theme names as config and API accept them (the folder name under themes/). */
export const THEME_NAME_SCHEMA = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' } as const;

/** Body of PUT /api/admin/sites/:site/branding. */
export const APPEARANCE_CHANGE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  definitions: { cssColor: CSS_COLOR_SCHEMA },
  properties: {
    theme: { anyOf: [THEME_NAME_SCHEMA, { type: 'null' }] },
    branding: { anyOf: [BRANDING_SCHEMA, { type: 'null' }] },
  },
} as const;

/**
 * The stylesheet for a site's colours, or '' when it sets none. Every value
 * is checked again here, so nothing but a valid colour reaches the CSS.
 */
export function brandingCss(branding: Branding | undefined): string {
  const lines: string[] = [];
  for (const [key, property] of Object.entries(BRANDING_COLOR_PROPERTIES)) {
    const value = branding?.colors?.[key as BrandingColorKey];
    if (value !== undefined && isCssColor(value)) lines.push(`  ${property}: ${value};`);
  }
  return lines.length ? `:root {\n${lines.join('\n')}\n}\n` : '';
}

/** Short content hash for cache-busting the branding stylesheet URL. */
export function cssVersion(css: string): string {
  return createHash('sha256').update(css).digest('base64url').slice(0, 12);
}
