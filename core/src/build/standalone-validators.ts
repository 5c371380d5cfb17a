/**
 * The build's part of core/src/config/precompiled.ts: ajv "standalone" code
 * for the schemas a cold start would otherwise compile (config/schema.json,
 * plugin.json's schema, the theme schema, the config schema of every plugin
 * in the tree), written
 * to `core/dist/validators/<key>.cjs`. Each file requires only ajv's small
 * runtime helpers and ajv-formats' format checks, from the tree's
 * node_modules.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { _ } from 'ajv';
import standaloneModule from 'ajv/dist/standalone/index.js';
import { createAjv } from '../config/ajv.ts';
import { CONFIG_PROFILE, MANIFEST_PROFILE, PLUGIN_CONFIG_PROFILE, THEME_PROFILE, validatorKey, type ValidatorProfile } from '../config/precompiled.ts';
import { MANIFEST_FILE, manifestAjv, manifestSchema, validateManifest } from '../plugins/manifest.ts';
import { themeSchema } from '../ui/theme-catalog.ts';

// CommonJS with `exports.default`; the default import is the module object in types but the function at runtime.
const standaloneCode = standaloneModule as unknown as typeof standaloneModule.default;

/** Where the validators go, relative to the core folder. */
export const VALIDATORS_DIR = join('dist', 'validators');

export interface StandaloneResult {
  files: number;
  /** Schemas left to compile at run time, and why (a plugin whose config schema does not compile, say). */
  skipped: string[];
}

/** From core/dist/validators, the module with every format of the manifest schema. */
const MANIFEST_FORMATS = _`require("../plugins/manifest-formats.cjs")`;

async function writeValidator(dir: string, profile: ValidatorProfile, schema: unknown): Promise<void> {
  const ajv = profile === MANIFEST_PROFILE
    ? manifestAjv({ code: { source: true, formats: MANIFEST_FORMATS } })
    : createAjv({ ...profile.options, code: { source: true } });
  const validate = ajv.compile(schema as Record<string, unknown>);
  await writeFile(join(dir, `${validatorKey(profile, schema)}.cjs`), `${standaloneCode(ajv, validate)}\n`);
}

/**
 * Write the validators for the tree at `root` (its config/schema.json) and
 * the plugins in `pluginDirs` into `coreDir`/dist/validators.
 */
export async function writeStandaloneValidators(coreDir: string, root: string, pluginDirs: string[]): Promise<StandaloneResult> {
  const dir = join(coreDir, VALIDATORS_DIR);
  await mkdir(dir, { recursive: true });
  const skipped: string[] = [];
  let files = 0;
  const write = async (label: string, profile: ValidatorProfile, schema: unknown) => {
    try {
      await writeValidator(dir, profile, schema);
      files++;
    } catch (err) {
      skipped.push(`${label}: ${(err as Error).message}`);
    }
  };
  const configSchema = JSON.parse(await readFile(join(root, 'config', 'schema.json'), 'utf8')) as unknown;
  await write('config/schema.json', CONFIG_PROFILE, configSchema);
  await write('theme schema', THEME_PROFILE, themeSchema);
  await write('manifest schema', MANIFEST_PROFILE, manifestSchema);
  // A plugin without a config schema gets this one (plugin-loader.ts).
  await write('empty plugin config', PLUGIN_CONFIG_PROFILE, { type: 'object' });
  for (const pluginDir of pluginDirs) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(join(pluginDir, MANIFEST_FILE), 'utf8'));
    } catch {
      continue;
    }
    // The manifest as the host sees it (defaults filled), and only when it passes the host's checks,
    // the strict check of its config schema among them: a precompiled validator stands for that check.
    const result = validateManifest(json);
    if (!result.ok) {
      skipped.push(`${pluginDir}: ${result.errors.join('; ')}`);
      continue;
    }
    if (result.manifest.config) await write(`${pluginDir} config`, PLUGIN_CONFIG_PROFILE, result.manifest.config);
  }
  return { files, skipped };
}
