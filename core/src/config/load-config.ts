import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { createAjv } from './ajv.ts';
import { CONFIG_PROFILE, precompiledValidator } from './precompiled.ts';
import { ConfigError } from './config-error.ts';
import { applyEnvOverrides, CONFIG_FILE_VARIABLE } from './env-overrides.ts';
import { parseJson } from './parse-json.ts';
import { describeAjvErrors } from './problems.ts';
import type { ConfigProblem, SwitchboardConfig } from './types.ts';

/** The repository root: core/src/config → ../../.. */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The JSON Schema every config is validated against (config/schema.json). */
export const configSchema: Record<string, unknown> = readJsonFile(resolve(REPO_ROOT, 'config/schema.json')) as Record<string, unknown>;

let validator: ValidateFunction | undefined;

function getValidator(): ValidateFunction {
  // Compiled by the build when config/schema.json has not changed since (precompiled.ts).
  validator ??= precompiledValidator(CONFIG_PROFILE, configSchema) ?? createAjv(CONFIG_PROFILE.options).compile(configSchema);
  return validator;
}

export interface LoadConfigOptions {
  /** A JSON config file; relative to the working folder. Defaults to $SWITCHBOARD_CONFIG when set. */
  file?: string;
  /** Source of SWITCHBOARD_* overrides; pass `process.env` explicitly, nothing else reads it. */
  env?: NodeJS.ProcessEnv;
  /** Applied last, deep-merged (tests, CLI flags). */
  overrides?: object;
  /** Folder holding config/default.json; defaults to the repository root. */
  rootDir?: string;
}

/**
 * Merge config/default.json ← file ← SWITCHBOARD_* ← overrides, then validate
 * once (filling defaults). Throws ConfigError listing every problem; nothing
 * is opened or bound before this returns.
 */
export function loadConfig(opts: LoadConfigOptions = {}): SwitchboardConfig {
  const env = opts.env ?? {};
  const rootDir = opts.rootDir ?? REPO_ROOT;
  const problems: ConfigProblem[] = [];

  const layers: unknown[] = [readLayer(resolve(rootDir, 'config/default.json'), problems)];
  const file = opts.file ?? env[CONFIG_FILE_VARIABLE];
  if (file) layers.push(readLayer(resolve(file), problems));
  if (problems.length > 0) throw new ConfigError(problems);

  let merged: Record<string, unknown> = {};
  for (const layer of layers) merged = deepMerge(merged, layer) as Record<string, unknown>;
  applyEnvOverrides(merged, env, configSchema);
  if (opts.overrides) merged = deepMerge(merged, structuredClone(opts.overrides)) as Record<string, unknown>;

  const validate = getValidator();
  if (!validate(merged)) problems.push(...describeAjvErrors(validate.errors ?? [], merged));
  problems.push(...checkSites(merged.sites));
  if (problems.length > 0) throw new ConfigError(problems);
  return merged as unknown as SwitchboardConfig;
}

function readJsonFile(path: string): unknown {
  return parseJson(readFileSync(path, 'utf8'));
}

function readLayer(path: string, problems: ConfigProblem[]): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    problems.push({ path: '', expected: `a readable JSON file at ${path}`, found: (err as NodeJS.ErrnoException).code ?? String(err) });
    return {};
  }
  try {
    const value = parseJson(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ path: '', expected: `a JSON object in ${path}`, found: Array.isArray(value) ? 'array' : String(value) });
      return {};
    }
    return value;
  } catch (err) {
    problems.push({ path: '', expected: `valid JSON in ${path}`, found: (err as Error).message });
    return {};
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Objects merge key by key; arrays and scalars replace (a file's sites list is the whole list). */
function deepMerge(base: unknown, layer: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(layer)) return layer === undefined ? base : layer;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(layer)) {
    out[key] = key in base ? deepMerge(base[key], value) : value;
  }
  return out;
}

/** What JSON Schema cannot say: a domain names one site only. */
function checkSites(sites: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, number>();
  if (!Array.isArray(sites)) return problems;
  sites.forEach((site: { domain?: unknown }, index) => {
    if (typeof site?.domain !== 'string') return;
    const domain = site.domain.toLowerCase();
    const first = seen.get(domain);
    if (first !== undefined) {
      problems.push({ path: `/sites/${index}/domain`, expected: `a domain not already used by /sites/${first}`, found: `string ${JSON.stringify(site.domain)}` });
    } else {
      seen.set(domain, index);
    }
  });
  return problems;
}
