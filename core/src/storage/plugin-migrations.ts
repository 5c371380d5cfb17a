/**
 * Plugin migrations: tracked per plugin in `plugin_migrations`, each run in a
 * transaction, and never left half-applied. SQLite rolls DDL back with the
 * transaction. MariaDB/MySQL commit DDL implicitly, so on failure we also run
 * the failing migration's down() and drop any table it left behind, then undo
 * the migrations this same call already applied (down() in reverse), so the
 * plugin is back exactly where it was before the install or upgrade.
 */
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DataSource, QueryRunner } from 'typeorm';
import { coreError, CoreError } from '../errors.ts';
import { importModule } from '../host/import-module.ts';
import { isPluginTable, listTables, pluginTablePrefix } from './plugin-tables.ts';
import type { StorageKind } from './storage-url.ts';

export interface PluginMigration {
  /** Unique within the plugin; migrations run in the order given (loadPluginMigrations sorts by name). */
  name: string;
  up(q: QueryRunner): Promise<void>;
  /** Undo up(); should tolerate a partial up() (DROP TABLE IF EXISTS). */
  down?(q: QueryRunner): Promise<void>;
}

export interface MigrationFailureDetails {
  pluginId: string;
  version: string;
  migration: string;
  /** The database's (or the migration's) own error message. */
  cause: string;
  /** Migrations of this call that were applied and then undone. */
  undone: string[];
  /** Anything that could not be undone; empty when the prior state was restored. */
  undoProblems: string[];
}

export async function runPluginMigrations(
  ds: DataSource,
  kind: StorageKind,
  pluginId: string,
  version: string,
  migrations: PluginMigration[],
): Promise<{ ran: string[] }> {
  checkNames(pluginId, migrations);
  const q = ds.createQueryRunner();
  try {
    const recorded = new Set(
      ((await q.query('SELECT name FROM plugin_migrations WHERE plugin_id = ?', [pluginId])) as Array<{ name: string }>).map((r) => r.name),
    );
    const applied: PluginMigration[] = [];
    for (const migration of migrations) {
      if (recorded.has(migration.name)) continue;
      const failure = await applyOne(q, kind, pluginId, version, migration);
      if (failure === undefined) {
        applied.push(migration);
        continue;
      }
      const undoProblems = [...failure.undoProblems, ...(await undoApplied(q, pluginId, applied))];
      const details: MigrationFailureDetails = {
        pluginId,
        version,
        migration: migration.name,
        cause: failure.cause,
        undone: applied.map((m) => m.name).reverse(),
        undoProblems,
      };
      const restored = undoProblems.length === 0 ? '' : ` (NOT fully restored: ${undoProblems.join('; ')})`;
      throw coreError('CORE_ERR_MIGRATION_FAILED', `${pluginId}@${version} migration ${migration.name}: ${failure.cause}${restored}`, details);
    }
    return { ran: applied.map((m) => m.name) };
  } finally {
    await q.release();
  }
}

async function applyOne(
  q: QueryRunner,
  kind: StorageKind,
  pluginId: string,
  version: string,
  migration: PluginMigration,
): Promise<{ cause: string; undoProblems: string[] } | undefined> {
  const before = new Set(await listTables(q, kind));
  try {
    await q.startTransaction();
    await migration.up(q);
    const strays = (await listTables(q, kind)).filter((t) => !before.has(t) && !isPluginTable(pluginId, t));
    if (strays.length > 0) {
      throw coreError('CORE_ERR_TABLE_PREFIX', `${strays.join(', ')} must start with ${pluginTablePrefix(pluginId)}`);
    }
    await q.query('INSERT INTO plugin_migrations (plugin_id, name, version, run_at) VALUES (?, ?, ?, CURRENT_TIMESTAMP)', [pluginId, migration.name, version]);
    await q.commitTransaction();
    return undefined;
  } catch (err) {
    const undoProblems: string[] = [];
    if (q.isTransactionActive) await q.rollbackTransaction().catch((e: unknown) => undoProblems.push(`rollback: ${messageOf(e)}`));
    if (kind === 'mysql') {
      // DDL already committed itself; the migration's own down() knows what else (columns, indexes) to revert.
      if (migration.down) await migration.down(q).catch((e: unknown) => undoProblems.push(`${migration.name} down: ${messageOf(e)}`));
      for (const table of (await listTables(q, kind)).filter((t) => !before.has(t))) {
        await q.dropTable(table, true).catch((e: unknown) => undoProblems.push(`drop ${table}: ${messageOf(e)}`));
      }
    }
    return { cause: messageOf(err), undoProblems };
  }
}

/** Restore the state before this call: undo what it applied, newest first, forgetting each record. */
async function undoApplied(q: QueryRunner, pluginId: string, applied: PluginMigration[]): Promise<string[]> {
  const problems: string[] = [];
  for (const migration of [...applied].reverse()) {
    if (!migration.down) {
      problems.push(`${migration.name} has no down() and stays applied`);
      continue;
    }
    try {
      await q.startTransaction();
      await migration.down(q);
      await q.query('DELETE FROM plugin_migrations WHERE plugin_id = ? AND name = ?', [pluginId, migration.name]);
      await q.commitTransaction();
    } catch (err) {
      if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
      problems.push(`${migration.name} down: ${messageOf(err)}`);
    }
  }
  return problems;
}

function checkNames(pluginId: string, migrations: PluginMigration[]): void {
  const seen = new Set<string>();
  for (const migration of migrations) {
    if (typeof migration.name !== 'string' || migration.name === '' || typeof migration.up !== 'function') {
      throw coreError('CORE_ERR_MIGRATION_INVALID', `${pluginId}: every migration needs a name and an up()`);
    }
    if (seen.has(migration.name)) throw coreError('CORE_ERR_MIGRATION_INVALID', `${pluginId}: two migrations are named ${migration.name}`);
    seen.add(migration.name);
  }
}

function messageOf(err: unknown): string {
  if (err instanceof CoreError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

const MIGRATION_FILE = /\.(ts|js|mjs)$/;

/**
 * Import every migration module in `dir` (`*.ts`, `*.js`, `*.mjs`; not
 * `.d.ts` or tests). Each export that is a class with up() is instantiated;
 * each object with up() is used as is. The name is the object's `name`, else
 * the class name. Sorted by name, so name them in run order (`001-create-messages`
 * or typeorm's `CreateMessages1700000000000` with zero-padded prefixes).
 * A missing folder means no migrations.
 */
export async function loadPluginMigrations(dir: string): Promise<PluginMigration[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => MIGRATION_FILE.test(f) && !f.endsWith('.d.ts') && !/\.test\.[a-z]+$/.test(f));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const migrations: PluginMigration[] = [];
  for (const file of files.sort()) {
    const path = join(dir, file);
    const module = await importModule(pathToFileURL(path).href);
    const found = migrationsOf(module);
    if (found.length === 0) throw coreError('CORE_ERR_MIGRATION_INVALID', `${path} exports no migration (${extname(file)} file)`);
    migrations.push(...found);
  }
  const names = new Set<string>();
  for (const m of migrations) {
    if (names.has(m.name)) throw coreError('CORE_ERR_MIGRATION_INVALID', `two migrations in ${dir} are named ${m.name}`);
    names.add(m.name);
  }
  return migrations.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

type Candidate = { up?: unknown; down?: unknown; name?: unknown };

function migrationsOf(module: Record<string, unknown>): PluginMigration[] {
  const out: PluginMigration[] = [];
  // `export default X` and `export { X }` are the same value: take it once.
  for (const value of new Set(Object.values(module))) {
    if (typeof value === 'function' && typeof (value.prototype as Candidate | undefined)?.up === 'function') {
      const instance = new (value as new () => Candidate)();
      const name = typeof instance.name === 'string' && instance.name ? instance.name : value.name;
      out.push(bind(instance, name));
    } else if (value && typeof value === 'object' && typeof (value as Candidate).up === 'function') {
      const candidate = value as Candidate;
      if (typeof candidate.name !== 'string' || candidate.name === '') {
        throw coreError('CORE_ERR_MIGRATION_INVALID', 'a migration object has no name');
      }
      out.push(bind(candidate, candidate.name));
    }
  }
  return out;
}

function bind(candidate: Candidate, name: string): PluginMigration {
  const up = candidate.up as (q: QueryRunner) => Promise<void>;
  const down = candidate.down as ((q: QueryRunner) => Promise<void>) | undefined;
  return {
    name,
    up: (q) => up.call(candidate, q),
    ...(typeof down === 'function' ? { down: (q: QueryRunner) => down.call(candidate, q) } : {}),
  };
}
