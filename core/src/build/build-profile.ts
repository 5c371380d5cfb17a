/**
 * Build profiles (config/profiles/*.json): which plugins a trimmed build
 * carries, where to find them, and the config the build starts with.
 */
import { readFile } from 'node:fs/promises';
import { createAjv } from '../config/ajv.ts';
import { coreError } from '../errors.ts';

export interface BuildProfile {
  name: string;
  description?: string;
  /** Folders (relative to the source root) whose plugin subfolders are candidates; default `["plugins"]`. */
  pluginDirs: string[];
  /** Plugin ids the build carries; their `depends` come along. */
  plugins: string[];
  /** Merged into the build's config/default.json. */
  config: Record<string, unknown>;
}

const profileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'plugins'],
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', pattern: '^[a-z][a-z0-9-]*$', maxLength: 40 },
    description: { type: 'string', maxLength: 1000 },
    pluginDirs: { type: 'array', items: { type: 'string', minLength: 1, pattern: '^(?!/)(?!.*(^|/)\\.\\.(/|$)).+$' }, default: ['plugins'] },
    plugins: { type: 'array', uniqueItems: true, items: { type: 'string', pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$' } },
    config: { type: 'object', default: {} },
  },
} as const;

export async function readBuildProfile(file: string): Promise<BuildProfile> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw coreError('CORE_ERR_BUILD_PROFILE_INVALID', `${file}: ${(err as Error).message}`);
  }
  const validate = createAjv({ useDefaults: true }).compile(profileSchema);
  if (!validate(json)) {
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
    throw coreError('CORE_ERR_BUILD_PROFILE_INVALID', `${file}: ${errors.join('; ')}`, { errors });
  }
  return json as BuildProfile;
}
