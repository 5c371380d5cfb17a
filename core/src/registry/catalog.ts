/**
 * The plugin catalog (`plugin-registry.json`): reading it from a file or an
 * http(s) URL, validating it with ajv, and resolving tarball locations
 * relative to where the catalog came from.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createAjv } from '../config/ajv.ts';
import { coreError } from '../errors.ts';

/** One published version of a plugin. */
export interface CatalogVersion {
  publisher: string;
  engines: { switchboard: string };
  depends: Record<string, string>;
  integrity: string;
  manifestDigest: string;
  signature?: string;
  keyId?: string;
  /** Relative to the catalog, or an http(s) URL. */
  tarball: string;
  description?: string;
  publishedAt?: string;
}

export interface Catalog {
  formatVersion: 1;
  name?: string;
  plugins: Record<string, { name?: string; versions: Record<string, CatalogVersion> }>;
}

/** A catalog together with where it was read from. */
export interface LoadedCatalog {
  /** The configured source: a file path or an http(s) URL. */
  source: string;
  catalog: Catalog;
}

export const catalogSchema: Record<string, unknown> = JSON.parse(
  readFileSync(fileURLToPath(new URL('./catalog-schema.json', import.meta.url)), 'utf8'),
) as Record<string, unknown>;

let validator: ValidateFunction | undefined;

/** Validate a parsed catalog; defaults (`depends: {}`) are filled on the value itself. */
export function validateCatalog(json: unknown): { ok: true; catalog: Catalog } | { ok: false; errors: string[] } {
  if (!validator) {
    const ajv = createAjv({ useDefaults: true });
    ajv.addFormat('semver', { type: 'string', validate: (s: string) => semver.valid(s) !== null });
    ajv.addFormat('semver-range', { type: 'string', validate: (s: string) => semver.validRange(s) !== null });
    validator = ajv.compile(catalogSchema);
  }
  if (validator(json)) return { ok: true, catalog: json as Catalog };
  return { ok: false, errors: (validator.errors ?? []).map(describe) };
}

function describe(e: ErrorObject): string {
  return `${e.instancePath || '/'} ${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})` : ''}`;
}

export function emptyCatalog(): Catalog {
  return { formatVersion: 1, plugins: {} };
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** Read bytes from a file path or an http(s) URL, refusing more than `maxBytes`. */
export async function readSource(location: string, maxBytes: number): Promise<Buffer> {
  if (isUrl(location)) {
    const response = await fetch(location, { redirect: 'follow' });
    if (!response.ok) throw new Error(`HTTP ${response.status} from ${location}`);
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > maxBytes) throw coreError('CORE_ERR_PACKAGE_TOO_LARGE', `${location}: ${declared} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) throw coreError('CORE_ERR_PACKAGE_TOO_LARGE', `${location}: more than ${maxBytes} bytes`);
      chunks.push(Buffer.from(chunk));
    }
    return Buffer.concat(chunks);
  }
  const data = await readFile(location);
  if (data.length > maxBytes) throw coreError('CORE_ERR_PACKAGE_TOO_LARGE', `${location}: ${data.length} bytes`);
  return data;
}

/** Read and validate one catalog; a relative file path is resolved against `baseDir`. */
export async function readCatalog(source: string, baseDir = process.cwd()): Promise<LoadedCatalog> {
  const location = isUrl(source) ? source : resolve(baseDir, source);
  let json: unknown;
  try {
    json = JSON.parse((await readSource(location, 50 * 1024 * 1024)).toString('utf8'));
  } catch (err) {
    throw coreError('CORE_ERR_CATALOG_UNREACHABLE', `${source}: ${(err as Error).message}`);
  }
  const result = validateCatalog(json);
  if (!result.ok) throw coreError('CORE_ERR_CATALOG_INVALID', `${source}: ${result.errors.join('; ')}`, { errors: result.errors });
  return { source: location, catalog: result.catalog };
}

/** Where a version's tarball is: URLs stay, relative paths are taken from the catalog's own folder or URL. */
export function tarballLocation(catalogSource: string, tarball: string): string {
  if (isUrl(tarball)) return tarball;
  if (isUrl(catalogSource)) return new URL(tarball, catalogSource).href;
  if (isAbsolute(tarball)) return tarball;
  return resolve(dirname(catalogSource), tarball);
}

/** A version offered by some catalog, as the admin API lists it. */
export interface Offer {
  id: string;
  version: string;
  registry: string;
  entry: CatalogVersion;
}

/** Every version of every catalog whose engines range accepts `hostVersion`, newest first per id. */
export function installableOffers(catalogs: LoadedCatalog[], hostVersion: string): Offer[] {
  const offers: Offer[] = [];
  const seen = new Set<string>();
  for (const { source, catalog } of catalogs) {
    for (const [id, plugin] of Object.entries(catalog.plugins)) {
      for (const [version, entry] of Object.entries(plugin.versions)) {
        // The first catalog listing an id@version wins, as for install.
        if (seen.has(`${id}@${version}`)) continue;
        if (!semver.satisfies(hostVersion, entry.engines.switchboard, { includePrerelease: true })) continue;
        seen.add(`${id}@${version}`);
        offers.push({ id, version, registry: source, entry });
      }
    }
  }
  return offers.sort((a, b) => (a.id !== b.id ? (a.id < b.id ? -1 : 1) : semver.rcompare(a.version, b.version)));
}

/** Find id@version in the catalogs, in configured order. */
export function findOffer(catalogs: LoadedCatalog[], id: string, version: string): Offer | undefined {
  for (const { source, catalog } of catalogs) {
    const entry = catalog.plugins[id]?.versions[version];
    if (entry) return { id, version, registry: source, entry };
  }
  return undefined;
}
