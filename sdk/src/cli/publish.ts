/**
 * `switchboard-plugin publish TARBALL --registry FILE`: add one version to a
 * catalog. The tarball is copied beside the catalog (tarballs/) and referred
 * to by a relative path, so the catalog folder can be served or copied as a
 * whole. A version already in the catalog is never replaced.
 */
import { copyFile, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { emptyCatalog, validateCatalog, type Catalog, type CatalogVersion } from '@switchboard/core/registry';
import { SdkCliError } from './cli-error.ts';
import { describeTarball, type SignatureFile } from './signing-commands.ts';

export interface PublishOptions {
  registry: string;
  /** Signature file; default `<tarball>.sig.json` when it exists. */
  signatureFile?: string;
}

export async function publishTarball(tarballArg: string, options: PublishOptions): Promise<{ id: string; version: string; entry: CatalogVersion }> {
  const tarball = resolve(tarballArg);
  const registry = resolve(options.registry);
  const described = await describeTarball(tarball);
  const catalog = await readOrCreate(registry);
  const plugin = (catalog.plugins[described.id] ??= { versions: {} });
  if (plugin.versions[described.version]) {
    throw new SdkCliError('SDK_ERR_VERSION_EXISTS', `${described.id}@${described.version} in ${registry}`);
  }
  const sigPath = options.signatureFile ?? `${tarball}.sig.json`;
  let sig: SignatureFile | undefined;
  if (await stat(sigPath).then(() => true, () => false)) {
    sig = JSON.parse(await readFile(sigPath, 'utf8')) as SignatureFile;
    if (sig.integrity !== described.integrity || sig.manifestDigest !== described.manifestDigest || sig.id !== described.id || sig.version !== described.version) {
      throw new SdkCliError('SDK_ERR_SIGNATURE_MISMATCH', sigPath);
    }
  } else if (options.signatureFile) {
    throw new SdkCliError('SDK_ERR_SIGNATURE_MISMATCH', `${sigPath} does not exist`);
  }
  const tarballsDir = join(dirname(registry), 'tarballs');
  const stored = join(tarballsDir, basename(tarball));
  if (resolve(stored) !== tarball) {
    await mkdir(tarballsDir, { recursive: true });
    if (await stat(stored).then(() => true, () => false)) throw new SdkCliError('SDK_ERR_VERSION_EXISTS', `${stored} is already there`);
    await copyFile(tarball, stored);
  }
  const entry: CatalogVersion = {
    publisher: described.publisher,
    engines: described.engines,
    depends: described.depends,
    integrity: described.integrity,
    manifestDigest: described.manifestDigest,
    ...(sig ? { signature: sig.signature, keyId: sig.keyId } : {}),
    tarball: relative(dirname(registry), stored).split('\\').join('/'),
    ...(described.description ? { description: described.description } : {}),
    publishedAt: new Date().toISOString(),
  };
  plugin.versions[described.version] = entry;
  const checked = validateCatalog(catalog);
  if (!checked.ok) throw new SdkCliError('SDK_ERR_REGISTRY_INVALID', checked.errors.join('; '));
  // Write then rename, so a reader never sees half a catalog.
  const temp = `${registry}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(catalog, null, 2)}\n`);
  await rename(temp, registry);
  return { id: described.id, version: described.version, entry };
}

async function readOrCreate(file: string): Promise<Catalog> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyCatalog();
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SdkCliError('SDK_ERR_REGISTRY_INVALID', `${file}: ${(err as Error).message}`);
  }
  const result = validateCatalog(json);
  if (!result.ok) throw new SdkCliError('SDK_ERR_REGISTRY_INVALID', `${file}: ${result.errors.join('; ')}`);
  return result.catalog;
}
