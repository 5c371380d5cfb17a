/**
 * Install, upgrade and uninstall plugins from registries or uploads.
 *
 * Every path goes through the same checks, in this order, and changes
 * nothing until all of them passed: size → sha512 integrity → safe unpack
 * (into a staging folder) → manifest valid and matching the catalog entry →
 * signature against the trust folder (or a recorded per-plugin override) →
 * host version and dependencies, both ways. Only then are files moved into
 * the install folder and migrations run; a migration failure puts the
 * previous files back, and the migration runner has already undone the
 * database side, so a failed upgrade leaves the previous version in place.
 */
import { lstat, mkdir, readFile, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, resolve, sep } from 'node:path';
import semver from 'semver';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { coreError, CoreError } from '../errors.ts';
import { validateManifest, type PluginManifest } from '../plugins/manifest.ts';
// The files, not storage/index.ts: the index also exports the test helpers, which load mysql2 on every start.
import { PluginInstallationEntity } from '../storage/entities.ts';
import type { StorageKind } from '../storage/storage-url.ts';
import { loadPluginMigrations, runPluginMigrations } from '../storage/plugin-migrations.ts';
import { pluginCodePath } from '../build/plugin-code.ts';
import { purgePluginTables } from '../storage/plugin-tables.ts';
import { findOffer, installableOffers, readCatalog, readSource, tarballLocation, type LoadedCatalog } from './catalog.ts';
import type { Activation, KnownPlugin, LivePlugins } from './live-plugins.ts';
import { unpackToTemp } from './safe-unpack.ts';
import { manifestDigest, sriSha512, verifyFields } from './signing.ts';
import { loadTrustStore } from './trust-store.ts';
import { ensureTrustOverridesTable, listTrustOverrides, recordTrustOverride, type TrustOverride } from './trust-overrides.ts';

export interface InstallerOptions {
  dataSource: DataSource;
  kind: StorageKind;
  hostVersion: string;
  installDir: string;
  trustDir: string;
  registries: string[];
  maxBytes: number;
  live: LivePlugins;
  log: Logger;
}

/** The admin's explicit acceptance of a plugin without a trusted signature. */
export interface TrustChoice {
  allowUnsigned?: boolean;
  reason?: string;
}

/** Signature material for an upload (a registry entry carries its own). */
export interface UploadSignature {
  signature?: string;
  keyId?: string;
}

export interface InstallOutcome {
  id: string;
  version: string;
  previousVersion?: string;
  integrity: string;
  /** `signed:<keyId>` or the override kind. */
  trust: string;
  state: string;
  error?: string;
  /** True when the running host needs a restart to run this version. */
  restartRequired: boolean;
}

interface Expected {
  id?: string;
  version?: string;
  integrity?: string;
  manifestDigest?: string;
  signature?: string;
  keyId?: string;
}

export class PluginInstaller {
  readonly #o: InstallerOptions;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: InstallerOptions) {
    this.#o = { ...options, installDir: resolve(options.installDir), trustDir: resolve(options.trustDir) };
  }

  async open(): Promise<void> {
    await ensureTrustOverridesTable(this.#o.dataSource);
  }

  get installDir(): string {
    return this.#o.installDir;
  }

  /** Versions installable on this host, per registry; a registry that fails is reported, not fatal. */
  async listInstallable(): Promise<{ hostVersion: string; registries: Array<{ source: string; error?: string }>; plugins: unknown[] }> {
    const { catalogs, problems } = await this.#catalogs(false);
    const installed = new Map(this.#o.live.list().map((p) => [p.id, p.version]));
    const plugins = installableOffers(catalogs, this.#o.hostVersion).map((o) => ({
      id: o.id,
      version: o.version,
      publisher: o.entry.publisher,
      engines: o.entry.engines,
      depends: o.entry.depends,
      signed: Boolean(o.entry.signature),
      keyId: o.entry.keyId,
      registry: o.registry,
      installedVersion: installed.get(o.id),
    }));
    return {
      hostVersion: this.#o.hostVersion,
      registries: [...catalogs.map((c) => ({ source: c.source })), ...problems],
      plugins,
    };
  }

  overrides(): Promise<TrustOverride[]> {
    return listTrustOverrides(this.#o.dataSource);
  }

  install(id: string, version: string, trust: TrustChoice, by: string): Promise<InstallOutcome> {
    return this.#serial(async () => {
      if (this.#known(id)) throw coreError('CORE_ERR_PLUGIN_INSTALLED', `${id} ${this.#known(id)!.version}`);
      const { tgz, expected } = await this.#fetch(id, version);
      return this.#deploy(tgz, expected, trust, 'install', by);
    });
  }

  upgrade(id: string, version: string, trust: TrustChoice, by: string): Promise<InstallOutcome> {
    return this.#serial(async () => {
      await this.#requireManaged(id);
      const { tgz, expected } = await this.#fetch(id, version);
      return this.#deploy(tgz, expected, trust, 'upgrade', by);
    });
  }

  /** An uploaded tarball; installs, or upgrades when `upgrade` is set and the id is installed. */
  installUpload(tgz: Buffer, signature: UploadSignature, trust: TrustChoice, upgrade: boolean, by: string): Promise<InstallOutcome> {
    return this.#serial(() => this.#deploy(tgz, { ...signature }, trust, upgrade ? 'upgrade' : 'install', by));
  }

  uninstall(id: string, purge: boolean, by: string): Promise<{ id: string; purged: boolean; dropped: string[] }> {
    return this.#serial(async () => {
      const plugin = await this.#requireManaged(id);
      const dependents = this.#o.live.list().filter((p) => p.id !== id && Object.hasOwn(p.depends, id)).map((p) => p.id);
      if (dependents.length > 0) {
        throw coreError('CORE_ERR_DEPENDENCY_UNSATISFIED', `${dependents.join(', ')} depend on ${id}; uninstall them first`, { dependents });
      }
      await this.#o.live.deactivate(id, by);
      await rm(plugin.dir, { recursive: true, force: true });
      let dropped: string[] = [];
      if (purge) {
        const q = this.#o.dataSource.createQueryRunner();
        try {
          dropped = (await purgePluginTables(q, this.#o.kind, id)).dropped;
        } finally {
          await q.release();
        }
      }
      await this.#o.dataSource.getRepository(PluginInstallationEntity).save({ pluginId: id, version: plugin.version, state: 'uninstalled', error: null });
      this.#o.log.info({ plugin: id, by, purge }, 'plugin uninstalled');
      return { id, purged: purge, dropped };
    });
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #known(id: string): KnownPlugin | undefined {
    return this.#o.live.list().find((p) => p.id === id);
  }

  async #requireManaged(id: string): Promise<KnownPlugin> {
    const plugin = this.#known(id);
    if (!plugin) throw coreError('CORE_ERR_PLUGIN_NOT_FOUND', id);
    const dir = await realpath(plugin.dir).catch(() => plugin.dir);
    const root = await realpath(this.#o.installDir).catch(() => this.#o.installDir);
    if (!dir.startsWith(root + sep)) throw coreError('CORE_ERR_PLUGIN_NOT_MANAGED', `${id} lives in ${plugin.dir}`);
    return plugin;
  }

  async #catalogs(strict: boolean): Promise<{ catalogs: LoadedCatalog[]; problems: Array<{ source: string; error: string }> }> {
    const catalogs: LoadedCatalog[] = [];
    const problems: Array<{ source: string; error: string }> = [];
    for (const source of this.#o.registries) {
      try {
        catalogs.push(await readCatalog(source));
      } catch (err) {
        if (strict && this.#o.registries.length === 1) throw err;
        problems.push({ source, error: err instanceof CoreError ? `${err.code}: ${err.message}` : String(err) });
      }
    }
    return { catalogs, problems };
  }

  async #fetch(id: string, version: string): Promise<{ tgz: Buffer; expected: Expected }> {
    const { catalogs } = await this.#catalogs(true);
    const offer = findOffer(catalogs, id, version);
    if (!offer) throw coreError('CORE_ERR_REGISTRY_VERSION_NOT_FOUND', `${id}@${version}`);
    const location = tarballLocation(offer.registry, offer.entry.tarball);
    let tgz: Buffer;
    try {
      tgz = await readSource(location, this.#o.maxBytes);
    } catch (err) {
      if (err instanceof CoreError) throw err;
      throw coreError('CORE_ERR_CATALOG_UNREACHABLE', `tarball ${location}: ${(err as Error).message}`);
    }
    const { entry } = offer;
    return {
      tgz,
      expected: {
        id, version, integrity: entry.integrity, manifestDigest: entry.manifestDigest,
        ...(entry.signature ? { signature: entry.signature } : {}),
        ...(entry.keyId ? { keyId: entry.keyId } : {}),
      },
    };
  }

  async #deploy(tgz: Buffer, expected: Expected, trust: TrustChoice, mode: 'install' | 'upgrade', by: string): Promise<InstallOutcome> {
    const o = this.#o;
    if (tgz.length > o.maxBytes) throw coreError('CORE_ERR_PACKAGE_TOO_LARGE', `${tgz.length} bytes`);
    const integrity = sriSha512(tgz);
    if (expected.integrity && expected.integrity !== integrity) {
      throw coreError('CORE_ERR_INTEGRITY_MISMATCH', `${expected.id}@${expected.version}: expected ${expected.integrity.slice(0, 24)}…, got ${integrity.slice(0, 24)}…`);
    }
    const staging = await unpackToTemp(tgz, `${o.installDir}.staging`, { maxUnpackedBytes: o.maxBytes * 10, maxEntries: 10_000 });
    try {
      const { manifest, digest } = await readStagedManifest(staging);
      if ((expected.id && manifest.id !== expected.id) || (expected.version && manifest.version !== expected.version)) {
        throw coreError('CORE_ERR_PACKAGE_MISMATCH', `asked for ${expected.id}@${expected.version}, the tarball holds ${manifest.id}@${manifest.version}`);
      }
      if (expected.manifestDigest && expected.manifestDigest !== digest) {
        throw coreError('CORE_ERR_PACKAGE_MISMATCH', `${manifest.id}@${manifest.version}: plugin.json differs from the published manifest digest`);
      }
      const trustLabel = await this.#checkSignature(manifest, integrity, digest, expected, trust);
      const current = this.#known(manifest.id);
      if (mode === 'install' && current) throw coreError('CORE_ERR_PLUGIN_INSTALLED', `${manifest.id} ${current.version}`);
      if (mode === 'upgrade') {
        if (!current) throw coreError('CORE_ERR_PLUGIN_NOT_FOUND', manifest.id);
        await this.#requireManaged(manifest.id);
      }
      this.#checkDependencies(manifest);
      const outcome = await this.#place(staging, manifest, current, mode);
      if (trustLabel.override) {
        await recordTrustOverride(o.dataSource, {
          pluginId: manifest.id, version: manifest.version, kind: trustLabel.label,
          reason: trust.reason!, grantedBy: by, grantedAt: new Date().toISOString(),
        });
        o.log.warn({ plugin: manifest.id, version: manifest.version, by, reason: trust.reason, kind: trustLabel.label }, 'plugin installed under a trust override');
      }
      o.log.info({ plugin: manifest.id, version: manifest.version, mode, by }, `plugin ${mode}ed`);
      return {
        id: manifest.id,
        version: manifest.version,
        ...(current ? { previousVersion: current.version } : {}),
        integrity,
        trust: trustLabel.label,
        state: outcome.state,
        ...(outcome.error ? { error: outcome.error } : {}),
        restartRequired: !outcome.live,
      };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  async #checkSignature(manifest: PluginManifest, integrity: string, digest: string, expected: Expected, trust: TrustChoice): Promise<{ label: string; override: boolean }> {
    const fields = { id: manifest.id, version: manifest.version, integrity, manifestDigest: digest };
    const overrideOk = trust.allowUnsigned === true && typeof trust.reason === 'string' && trust.reason.trim().length > 0;
    if (!expected.signature || !expected.keyId) {
      if (overrideOk) return { label: 'unsigned', override: true };
      throw coreError('CORE_ERR_SIGNATURE_MISSING', `${manifest.id}@${manifest.version} is unsigned`);
    }
    const keys = await loadTrustStore(this.#o.trustDir, this.#o.log);
    const key = keys.get(expected.keyId);
    if (!key) {
      if (overrideOk) return { label: `unknown-key:${expected.keyId}`, override: true };
      throw coreError('CORE_ERR_SIGNATURE_MISSING', `${manifest.id}@${manifest.version} is signed by key ${expected.keyId}, which is not in ${this.#o.trustDir}`);
    }
    // A signature that does not verify is tampering, not a missing key: no override accepts it.
    if (!verifyFields(fields, expected.signature, key.key)) {
      throw coreError('CORE_ERR_SIGNATURE_INVALID', `${manifest.id}@${manifest.version} with key ${expected.keyId}`);
    }
    return { label: `signed:${expected.keyId}`, override: false };
  }

  /** Host version, the plugin's own dependencies, and what installed plugins ask of it. */
  #checkDependencies(manifest: PluginManifest): void {
    const problems: string[] = [];
    const opts = { includePrerelease: true };
    if (!semver.satisfies(this.#o.hostVersion, manifest.engines.switchboard, opts)) {
      problems.push(`engines.switchboard ${manifest.engines.switchboard} does not accept host ${this.#o.hostVersion}`);
    }
    const installed = new Map(this.#o.live.list().filter((p) => p.id !== manifest.id).map((p) => [p.id, p]));
    for (const [dep, range] of Object.entries(manifest.depends ?? {})) {
      const have = installed.get(dep);
      if (!have) problems.push(`needs ${dep}@${range}, which is not installed`);
      else if (!semver.satisfies(have.version, range, opts)) problems.push(`needs ${dep}@${range}, installed is ${have.version}`);
      else if (have.state === 'failed') problems.push(`needs ${dep}, which is failed`);
    }
    for (const other of installed.values()) {
      const range = other.depends[manifest.id];
      if (range && !semver.satisfies(manifest.version, range, opts)) problems.push(`${other.id} needs ${manifest.id}@${range}`);
    }
    if (problems.length > 0) {
      throw coreError('CORE_ERR_DEPENDENCY_UNSATISFIED', `${manifest.id}@${manifest.version}: ${problems.join('; ')}`, { problems });
    }
  }

  /** Move the staged files into place and run migrations; put the previous version back on failure. */
  async #place(staging: string, manifest: PluginManifest, current: KnownPlugin | undefined, mode: 'install' | 'upgrade'): Promise<Activation> {
    const o = this.#o;
    const target = mode === 'upgrade' && current ? current.dir : join(o.installDir, manifest.id);
    const backup = join(`${o.installDir}.previous`, `${manifest.id}-${Date.now()}`);
    await mkdir(`${o.installDir}.previous`, { recursive: true });
    await mkdir(o.installDir, { recursive: true });
    await linkHostModules(o.installDir);
    const hadFiles = await rename(target, backup).then(() => true, (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    });
    try {
      await rename(staging, target);
      const migrations = await loadPluginMigrations(await pluginCodePath(target, manifest.migrations ?? 'src/migrations')).catch((err: unknown) => {
        if (err instanceof CoreError) throw err;
        throw coreError('CORE_ERR_MIGRATION_INVALID', `${manifest.id}@${manifest.version}: ${(err as Error).message}`);
      });
      await runPluginMigrations(o.dataSource, o.kind, manifest.id, manifest.version, migrations);
      await o.dataSource.getRepository(PluginInstallationEntity).save({ pluginId: manifest.id, version: manifest.version, state: 'installed', error: null });
    } catch (err) {
      await rm(target, { recursive: true, force: true });
      if (hadFiles) await rename(backup, target);
      if (mode === 'upgrade') {
        const cause = err instanceof CoreError ? `${err.code}: ${err.message}` : (err as Error).message;
        throw coreError('CORE_ERR_UPGRADE_FAILED', `${manifest.id} stays at ${current?.version}: ${cause}`, { cause, details: (err as CoreError).details });
      }
      throw err;
    }
    if (hadFiles) await rm(backup, { recursive: true, force: true });
    if (mode === 'upgrade') return { state: 'installed', live: false };
    return o.live.activate(target);
  }
}

/** The host's own packages (the SDK, typeorm, …), which a plugin imports as peers. */
const HOST_MODULES = fileURLToPath(new URL('../../../node_modules', import.meta.url));

/**
 * Plugins resolve their imports by walking up from their own folder. An
 * install folder outside the host's tree would find nothing, so it gets a
 * node_modules link to the host's packages and a package.json marking its
 * files as ES modules (discovery skips both: they hold no plugin.json).
 */
async function linkHostModules(installDir: string): Promise<void> {
  const link = join(installDir, 'node_modules');
  if (!(await lstat(link).then(() => true, () => false))) await symlink(HOST_MODULES, link, 'dir');
  // Plugins are ES modules like the host; without a package.json of their own, this one says so.
  await writeFile(join(installDir, 'package.json'), `${JSON.stringify({ private: true, type: 'module' })}\n`, { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
}

async function readStagedManifest(dir: string): Promise<{ manifest: PluginManifest; digest: string }> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(dir, 'plugin.json'), 'utf8'));
  } catch (err) {
    throw coreError('CORE_ERR_MANIFEST_INVALID', `plugin.json in the tarball: ${(err as Error).message}`);
  }
  const result = validateManifest(raw);
  if (!result.ok) throw coreError('CORE_ERR_MANIFEST_INVALID', result.errors.join('; '), { errors: result.errors });
  return { manifest: result.manifest, digest: manifestDigest(raw) };
}
