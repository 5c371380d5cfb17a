/**
 * Plugins share one database. Every table a plugin creates is named
 * `<prefix><name>` where the prefix is the plugin id with hyphens turned into
 * underscores plus one underscore (`group-chat` → `group_chat_messages`).
 * Ids cannot contain underscores, so two plugins never share a prefix; core
 * tables are protected by name in case an id happens to match them
 * (`plugin` → `plugin_installations`).
 */
import type { QueryRunner } from 'typeorm';
import { coreError } from '../errors.ts';
import { CORE_TABLES } from './entities.ts';
import type { StorageKind } from './storage-url.ts';

export function pluginTablePrefix(pluginId: string): string {
  return `${pluginId.replace(/-/g, '_')}_`;
}

export function isPluginTable(pluginId: string, table: string): boolean {
  return table.startsWith(pluginTablePrefix(pluginId)) && !CORE_TABLES.includes(table);
}

/** Base tables of the current database (SQLite's internal ones excluded). */
export async function listTables(q: QueryRunner, kind: StorageKind): Promise<string[]> {
  const rows = (await q.query(
    kind === 'sqlite'
      ? "SELECT name AS name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
      : "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
  )) as Array<{ name: string }>;
  return rows.map((row) => row.name).sort();
}

/**
 * Drop a plugin's tables and forget its migrations and per-site state, so a
 * later install starts clean. Without `tables`, every table carrying the
 * plugin's prefix is dropped. Foreign keys between the plugin's own tables
 * would make drop order matter, so checks are off while dropping.
 */
export async function purgePluginTables(q: QueryRunner, kind: StorageKind, pluginId: string, tables?: string[]): Promise<{ dropped: string[] }> {
  const existing = await listTables(q, kind);
  const targets = tables ?? existing.filter((table) => isPluginTable(pluginId, table));
  const foreign = targets.filter((table) => !isPluginTable(pluginId, table));
  if (foreign.length > 0) {
    throw coreError('CORE_ERR_TABLE_PREFIX', `purge of ${pluginId} refused for ${foreign.join(', ')} (prefix ${pluginTablePrefix(pluginId)})`);
  }
  const dropped = targets.filter((table) => existing.includes(table));
  await q.query(kind === 'sqlite' ? 'PRAGMA foreign_keys = OFF' : 'SET FOREIGN_KEY_CHECKS = 0');
  try {
    for (const table of dropped) await q.dropTable(table, true);
  } finally {
    await q.query(kind === 'sqlite' ? 'PRAGMA foreign_keys = ON' : 'SET FOREIGN_KEY_CHECKS = 1');
  }
  await q.query('DELETE FROM plugin_migrations WHERE plugin_id = ?', [pluginId]);
  await q.query('DELETE FROM site_plugins WHERE plugin_id = ?', [pluginId]);
  return { dropped };
}
