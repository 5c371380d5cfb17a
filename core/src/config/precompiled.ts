/**
 * JSON Schema validators compiled by the build instead of at every start.
 *
 * Compiling a schema with ajv (code generation, `$ref` inlining, the
 * meta-schema check) costs tens of milliseconds per schema, and a cold start
 * used to compile config/schema.json, the theme schema and every plugin's
 * config schema. `npm run build` (core/src/build/standalone-validators.ts)
 * writes each of them as ajv "standalone" code to
 * `core/dist/validators/<key>.cjs`; the key is a hash of the schema, the ajv
 * options it is compiled with (the profile) and the ajv version, so a file
 * can only ever be used for exactly the schema and options it was made
 * from. When there is no file for a key (no build yet, a schema edited since,
 * a plugin from outside the tree) the caller compiles at run time as before.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Options, ValidateFunction } from 'ajv';

/** How a kind of schema is compiled: the ajv options (JSON) and a name for what else is set up. */
export interface ValidatorProfile {
  name: string;
  options: Options;
}

/** config/schema.json (load-config.ts): createAjv() defaults. */
export const CONFIG_PROFILE: ValidatorProfile = { name: 'config', options: {} };
/**
 * plugin.json (manifest.ts): createAjv() defaults plus the `semver` and
 * `semver-range` formats; the precompiled code finds every format in
 * core/dist/plugins/manifest-formats.cjs.
 */
export const MANIFEST_PROFILE: ValidatorProfile = { name: 'manifest', options: {} };
/** Theme files (theme-catalog.ts). */
export const THEME_PROFILE: ValidatorProfile = { name: 'theme', options: {} };
/**
 * A plugin's per-site config schema (plugin-loader.ts). The build only makes
 * one for a schema that also passes the manifest's strict schema check
 * (manifest.ts), so finding it also answers that check.
 */
export const PLUGIN_CONFIG_PROFILE: ValidatorProfile = { name: 'plugin-config', options: { useDefaults: true, allErrors: true, strict: false } };
/** The strict options manifest.ts checks a plugin's config schema with (not a profile of its own: part of PLUGIN_CONFIG_PROFILE's key). */
export const SCHEMA_CHECK_OPTIONS: Options = { strict: true, strictTypes: false, strictTuples: false, strictRequired: false };

const require = createRequire(import.meta.url);
/** core/dist/validators, from core/src/config or from core/dist/config alike. */
const DIR = fileURLToPath(new URL('../../dist/validators/', import.meta.url));

let ajvVersion: string | undefined;

function currentAjvVersion(): string {
  ajvVersion ??= (require('ajv/package.json') as { version: string }).version;
  return ajvVersion;
}

/** The file name (without .cjs) of the precompiled validator of `schema` under `profile`. */
export function validatorKey(profile: ValidatorProfile, schema: unknown, version = currentAjvVersion()): string {
  const extra = profile === PLUGIN_CONFIG_PROFILE ? SCHEMA_CHECK_OPTIONS : {};
  return createHash('sha256')
    .update(JSON.stringify([version, profile.name, profile.options, extra]))
    .update('\0')
    .update(JSON.stringify(schema))
    .digest('hex')
    .slice(0, 40);
}

/** The precompiled validator of `schema` under `profile`, or undefined (compile it then). */
export function precompiledValidator<T = unknown>(profile: ValidatorProfile, schema: unknown): ValidateFunction<T> | undefined {
  let key: string;
  try {
    key = validatorKey(profile, schema);
  } catch {
    return undefined;
  }
  let mod: { default?: unknown } | undefined;
  try {
    mod = require(`${DIR}${key}.cjs`) as { default?: unknown };
  } catch {
    return undefined;
  }
  return typeof mod?.default === 'function' ? (mod.default as ValidateFunction<T>) : undefined;
}

/** Whether the build made a validator for `schema` under `profile` (without loading it). */
export function hasPrecompiledValidator(profile: ValidatorProfile, schema: unknown): boolean {
  return precompiledValidator(profile, schema) !== undefined;
}
