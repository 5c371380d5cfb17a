import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions, type EntitySchema, type Repository } from 'typeorm';
import { coreError } from '../errors.ts';
import { CORE_MIGRATIONS } from './core-migrations.ts';
import {
  CORE_ENTITIES,
  PluginInstallationEntity,
  PluginMigrationEntity,
  SiteEntity,
  SitePluginEntity,
  type PluginInstallationRecord,
  type PluginMigrationRecord,
  type SitePluginRecord,
  type SiteRecord,
} from './entities.ts';
import { runPluginMigrations, type PluginMigration } from './plugin-migrations.ts';
import { purgePluginTables } from './plugin-tables.ts';
import { RowWriter } from './row-writer.ts';
import { parseStorageUrl, redact, type StorageKind, type StorageTarget } from './storage-url.ts';
import { PinoTypeormLogger, type StorageLogger } from './typeorm-logger.ts';

export interface Storage {
  dataSource: DataSource;
  kind: StorageKind;
  sites: Repository<SiteRecord>;
  pluginInstallations: Repository<PluginInstallationRecord>;
  sitePlugins: Repository<SitePluginRecord>;
  pluginMigrations: Repository<PluginMigrationRecord>;
  /**
   * Run the plugin's migrations not yet recorded, in the order given, each in
   * a transaction. On failure everything this call applied is undone and a
   * CoreError CORE_ERR_MIGRATION_FAILED names the migration and the database's
   * error (details: MigrationFailureDetails).
   */
  runPluginMigrations(pluginId: string, version: string, migrations: PluginMigration[]): Promise<{ ran: string[] }>;
  /**
   * Run `sql` (one INSERT whose values are bound to its `?` parameters) once per row in one
   * transaction, off the main thread on a SQLite file (see row-writer.ts).
   * Resolves with each row's id, in order. The SQL is not checked here.
   */
  insertRows(sql: string, rows: unknown[][]): Promise<number[]>;
  /** Drop the plugin's tables (all with its prefix when `tables` is omitted) and forget its migrations and per-site state. */
  purgePluginData(pluginId: string, tables?: string[]): Promise<{ dropped: string[] }>;
  /** Safe to call twice. */
  close(): Promise<void>;
}

export interface OpenStorageOptions {
  logger?: StorageLogger;
  /** Folder a relative `sqlite:PATH` is resolved against; default the working folder. */
  baseDir?: string;
  /** More entity schemas to register from the start (host tables, plugin entities). */
  entities?: EntitySchema<any>[];
  /** Told when the row writer thread is lost (insertRows then runs on the host's connection). */
  onRowWriterLost?: (reason: string) => void;
  /** SQLite only: each connection's page cache, KiB (storage.sqliteCacheKiB); default SQLITE_CACHE_KIB. */
  sqliteCacheKiB?: number;
}

/**
 * The page cache better-sqlite3 is built with (16 MiB; SQLite's own default
 * is 2 MiB). Measured with the REGISTER benchmark: 2 MiB saves about 3 MiB
 * of the registrar build's RSS, at a step of the rate ladder on one machine
 * and none on another; 512 KiB 2 MiB more, at the same rate (3,500/s, 7
 * December); the registrar build profile sets 512 KiB.
 */
export const SQLITE_CACHE_KIB = 16384;

/**
 * Open the database named by `url`, bring the core schema up to date and hand
 * back typed repositories. Errors are CoreErrors: CORE_ERR_STORAGE_URL_INVALID,
 * CORE_ERR_STORAGE_UNAVAILABLE (cannot connect), CORE_ERR_MIGRATION_FAILED (core schema).
 */
export async function openStorage(url: string, opts: OpenStorageOptions = {}): Promise<Storage> {
  const target = parseStorageUrl(url, opts.baseDir);
  const dataSource = new DataSource(dataSourceOptions(target, opts));
  try {
    if (target.kind === 'sqlite' && target.database !== ':memory:') mkdirSync(dirname(target.database), { recursive: true });
    await dataSource.initialize();
  } catch (err) {
    throw coreError('CORE_ERR_STORAGE_UNAVAILABLE', `${redact(url)}: ${(err as Error).message}`);
  }
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (err) {
    await dataSource.destroy().catch(() => undefined);
    throw coreError('CORE_ERR_MIGRATION_FAILED', `core schema on ${redact(url)}: ${(err as Error).message}`);
  }
  const kind = target.kind;
  const sqliteFile = target.kind === 'sqlite' && target.database !== ':memory:' ? target.database : undefined;
  // A second connection writes to the file (the row writer thread): see beginImmediate.
  if (sqliteFile) beginImmediate(dataSource);
  const rowWriter = new RowWriter({
    dataSource, cacheKiB: opts.sqliteCacheKiB ?? SQLITE_CACHE_KIB, ...(sqliteFile ? { sqliteFile } : {}), ...(opts.onRowWriterLost ? { onThreadLost: opts.onRowWriterLost } : {}),
  });
  let closed = false;
  const storage: Storage = {
    dataSource,
    kind,
    sites: dataSource.getRepository(SiteEntity),
    pluginInstallations: dataSource.getRepository(PluginInstallationEntity),
    sitePlugins: dataSource.getRepository(SitePluginEntity),
    pluginMigrations: dataSource.getRepository(PluginMigrationEntity),
    runPluginMigrations: (pluginId, version, migrations) => runPluginMigrations(dataSource, kind, pluginId, version, migrations),
    purgePluginData: async (pluginId, tables) => {
      const q = dataSource.createQueryRunner();
      try {
        return await purgePluginTables(q, kind, pluginId, tables);
      } finally {
        await q.release();
      }
    },
    insertRows: (sql, rows) => rowWriter.insert(sql, rows),
    close: async () => {
      if (closed) return;
      closed = true;
      await rowWriter.close();
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  };
  return storage;
}

/**
 * The host's SQLite transactions take the write lock when they begin
 * (BEGIN IMMEDIATE) instead of at their first write. With another connection
 * writing to the same file, a deferred transaction that read first and then
 * writes fails at once with SQLITE_BUSY (its snapshot is stale); an
 * immediate one waits for the other writer (busy timeout) and then runs.
 */
function beginImmediate(dataSource: DataSource): void {
  const runner = dataSource.driver.createQueryRunner('master') as unknown as { query: (sql: string, ...rest: unknown[]) => Promise<unknown> };
  const query = runner.query.bind(runner);
  runner.query = (sql, ...rest) => query(sql === 'BEGIN TRANSACTION' ? 'BEGIN IMMEDIATE TRANSACTION' : sql, ...rest);
}

function dataSourceOptions(target: StorageTarget, opts: OpenStorageOptions): DataSourceOptions {
  const common = {
    entities: [...CORE_ENTITIES, ...(opts.entities ?? [])],
    migrations: CORE_MIGRATIONS,
    migrationsTableName: 'core_migrations',
    synchronize: false,
    logging: opts.logger !== undefined,
    ...(opts.logger ? { logger: new PinoTypeormLogger(opts.logger) } : {}),
  };
  if (target.kind === 'sqlite') {
    // WAL lets readers (admin API) proceed while a writer (SIP handling) holds the file.
    const cacheKiB = opts.sqliteCacheKiB ?? SQLITE_CACHE_KIB;
    return {
      type: 'better-sqlite3', database: target.database, enableWAL: target.database !== ':memory:', ...common,
      prepareDatabase: (db: { pragma(source: string): unknown }) => {
        db.pragma(`cache_size = -${Math.floor(cacheKiB)}`);
      },
    };
  }
  return {
    type: 'mysql',
    connectorPackage: 'mysql2',
    host: target.host,
    port: target.port,
    username: target.username,
    password: target.password,
    database: target.database,
    charset: 'utf8mb4_unicode_ci',
    // Store and read datetimes as UTC whatever the server's zone.
    timezone: 'Z',
    ...common,
  };
}

