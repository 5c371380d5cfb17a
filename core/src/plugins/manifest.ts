import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import type { Ajv, ErrorObject, Options, ValidateFunction } from 'ajv';
import { createAjv } from '../config/ajv.ts';
import { MANIFEST_PROFILE, PLUGIN_CONFIG_PROFILE, SCHEMA_CHECK_OPTIONS, precompiledValidator } from '../config/precompiled.ts';
import { parseJson } from '../config/parse-json.ts';

/** A plugin's plugin.json after validation, defaults filled (see ARCHITECTURE.md "A plugin"). */
export interface PluginManifest {
  /** Lowercase kebab-case; its tables are prefixed `<id with _ for ->_`. */
  id: string;
  name: string;
  /** Semver of the plugin. */
  version: string;
  engines: { switchboard: string };
  publisher: string;
  description?: string;
  /** Plugin id → semver range; all must be present and satisfied. */
  depends: Record<string, string>;
  /** Plugin id → semver range; set up first when present, never a failure when absent. */
  optionalDepends: Record<string, string>;
  /** Service names this plugin provides to others. */
  provides: string[];
  permissions: PluginPermissions;
  /** JSON Schema (type object, with defaults) of the per-site config. */
  config?: Record<string, unknown>;
  ui?: {
    /** Slot name → handlebars template path. */
    fragments?: Record<string, string>;
    /** Folder of static files (browser JS, CSS, images) served at `/assets/plugins/<id>/`. */
    assets?: string;
    /** A client plugin's start page (below its prefix, `:site` replaced); `GET /` redirects there. */
    entry?: string;
  };
  /** Entry module relative to the plugin folder; default `src/index.ts`. */
  main: string;
  /** Migrations folder relative to the plugin folder; default `src/migrations`. */
  migrations: string;
}

export interface PluginPermissions {
  /** SIP request methods handled. */
  sip?: string[];
  http?: { prefix: string };
  events?: { publish?: string[]; subscribe?: string[] };
  /** Service names consumed. */
  services?: string[];
  /** Push to and hear from browser clients over the host's WebSocket (`/api/live`). */
  live?: boolean;
}

export type ManifestResult = { ok: true; manifest: PluginManifest } | { ok: false; errors: string[] };
export type ReadManifestResult = ManifestResult & { dir: string };

export const MANIFEST_FILE = 'plugin.json';

export const manifestSchema: Record<string, unknown> = JSON.parse(
  readFileSync(fileURLToPath(new URL('./manifest-schema.json', import.meta.url)), 'utf8'),
) as Record<string, unknown>;

let validator: ValidateFunction | undefined;

/** An ajv for the manifest schema: the standard formats and `semver`, `semver-range` (the build uses it too). */
export function manifestAjv(options: Options = {}): Ajv {
  const ajv = createAjv({ ...MANIFEST_PROFILE.options, ...options });
  ajv.addFormat('semver', { type: 'string', validate: (s: string) => semver.valid(s) !== null });
  ajv.addFormat('semver-range', { type: 'string', validate: (s: string) => semver.validRange(s) !== null });
  return ajv;
}

function getValidator(): ValidateFunction {
  // Compiled by the build when manifest-schema.json has not changed since (precompiled.ts).
  validator ??= precompiledValidator(MANIFEST_PROFILE, manifestSchema) ?? manifestAjv().compile(manifestSchema);
  return validator;
}

/**
 * Validate a parsed plugin.json. On success the manifest has its defaults
 * filled in (a copy; the input is not changed). Errors are one line each,
 * naming the field.
 */
export function validateManifest(json: unknown): ManifestResult {
  const data = structuredCloneSafe(json);
  const validate = getValidator();
  if (!validate(data)) return { ok: false, errors: formatErrors(validate.errors ?? []) };
  const manifest = data as PluginManifest;
  const errors = [...checkConfigSchema(manifest.config), ...checkEntry(manifest)];
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, manifest };
}

/** A client entry page must be one of the plugin's own routes. */
function checkEntry(manifest: PluginManifest): string[] {
  const entry = manifest.ui?.entry;
  if (entry === undefined) return [];
  const prefix = manifest.permissions.http?.prefix;
  if (!prefix) return ['/ui/entry needs permissions.http.prefix: the entry page is one of the plugin\'s routes'];
  if (entry !== prefix && !entry.startsWith(`${prefix}/`)) return [`/ui/entry "${entry}" must start with the plugin's prefix ${prefix}`];
  return [];
}

/** Read and validate `<dir>/plugin.json`; unreadable or malformed JSON is an error result, never a throw. */
export async function readManifest(dir: string): Promise<ReadManifestResult> {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, dir, errors: [`${MANIFEST_FILE}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`] };
  }
  let json: unknown;
  try {
    json = parseJson(text);
  } catch (err) {
    return { ok: false, dir, errors: [`${MANIFEST_FILE}: ${(err as Error).message}`] };
  }
  return { ...validateManifest(json), dir };
}

function structuredCloneSafe(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
}

function formatErrors(errors: ErrorObject[]): string[] {
  const lines: string[] = [];
  for (const error of errors) {
    // The key's own failure inside propertyNames is restated by the wrapper below.
    if (error.propertyName !== undefined && error.keyword !== 'propertyNames') continue;
    const params = error.params as Record<string, unknown>;
    let path = error.instancePath || '/';
    let text: string;
    if (error.keyword === 'required') {
      path = `${error.instancePath}/${String(params.missingProperty)}`;
      text = 'is required';
    } else if (error.keyword === 'additionalProperties') {
      path = `${error.instancePath}/${String(params.additionalProperty)}`;
      text = 'is not a manifest field (check the spelling)';
    } else if (error.keyword === 'propertyNames') {
      text = `has an invalid key ${JSON.stringify(params.propertyName)}`;
    } else if (error.keyword === 'format' && params.format === 'semver') {
      text = 'must be a semver version such as 1.2.3';
    } else if (error.keyword === 'format' && params.format === 'semver-range') {
      text = 'must be a semver range such as ^1.2.0';
    } else if (error.keyword === 'pattern' && /\/id$|^\/depends\/|^\/optionalDepends\//.test(error.instancePath)) {
      text = 'must be lowercase kebab-case (a-z, 0-9, single hyphens), starting with a letter';
    } else if (error.keyword === 'pattern' && /^\/(main|migrations)$|^\/ui\/fragments\//.test(error.instancePath)) {
      text = 'must be a relative path inside the plugin folder (no leading /, no ..)';
    } else if (error.keyword === 'pattern' && error.instancePath === '/permissions/http/prefix') {
      text = 'must be a path such as /im (lowercase, leading /, no trailing /)';
    } else if (error.keyword === 'not' && error.instancePath === '/id') {
      text = 'is reserved for the core (its table prefix would clash with core tables); choose another id';
    } else if (error.keyword === 'enum') {
      text = `must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    } else {
      text = error.message ?? `fails ${error.keyword}`;
    }
    const line = `${path} ${text}`;
    if (!lines.includes(line)) lines.push(line);
  }
  return lines;
}

/** A plugin's config schema must compile: a broken one would only fail later, at an admin's first save. */
function checkConfigSchema(schema: Record<string, unknown> | undefined): string[] {
  if (schema === undefined) return [];
  if (schema.type !== 'object') return ['/config must be a JSON Schema with "type": "object" (per-site config is an object)'];
  // The build made a validator for this very schema only after it passed this check (precompiled.ts).
  if (precompiledValidator(PLUGIN_CONFIG_PROFILE, schema)) return [];
  // One checker for every manifest: a new ajv compiles the JSON Schema meta-schema again (tens of ms per plugin at start).
  // A schema with an $id (anywhere in it) gets a checker of its own, so it cannot meet another manifest's $id.
  const ajv = JSON.stringify(schema).includes('"$id"') ? newSchemaChecker() : (schemaChecker ??= newSchemaChecker());
  try {
    ajv.compile(schema);
    return [];
  } catch (err) {
    return [`/config is not a valid JSON Schema: ${(err as Error).message}`];
  } finally {
    // Checked, not kept.
    ajv.removeSchema(schema);
  }
}

let schemaChecker: Ajv | undefined;

function newSchemaChecker(): Ajv {
  return createAjv({ ...SCHEMA_CHECK_OPTIONS, logger: false });
}
