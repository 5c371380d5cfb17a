/**
 * The core's own tables as typeorm EntitySchemas (no decorators, so no
 * reflect-metadata at runtime). Properties are camelCase, columns snake_case.
 * The tables themselves are created by core-migrations.ts, never by
 * `synchronize`, so SQLite and MariaDB get the same reviewed DDL.
 */
import { EntitySchema } from 'typeorm';

export interface SiteRecord {
  id: string;
  domain: string;
  name: string | null;
  theme: string | null;
  createdAt: Date;
}

export type PluginInstallationState = 'installed' | 'failed' | 'uninstalled';

export interface PluginInstallationRecord {
  pluginId: string;
  version: string;
  state: PluginInstallationState;
  /** Why the plugin failed; null unless state is failed. */
  error: string | null;
  installedAt: Date;
  updatedAt: Date;
}

export interface SitePluginRecord {
  siteId: string;
  pluginId: string;
  enabled: boolean;
  /** The site's config for the plugin, validated against its schema before saving; stored as JSON text. */
  config: Record<string, unknown> | null;
  /** Admin user (or `cli`, `system`) who made the last change. */
  updatedBy: string | null;
  updatedAt: Date;
}

export interface PluginMigrationRecord {
  id: number;
  pluginId: string;
  name: string;
  /** Plugin version being installed when the migration ran. */
  version: string;
  runAt: Date;
}

export const SiteEntity = new EntitySchema<SiteRecord>({
  name: 'Site',
  tableName: 'sites',
  columns: {
    id: { type: 'varchar', length: 36, primary: true, generated: 'uuid' },
    domain: { type: 'varchar', length: 253, unique: true },
    name: { type: 'varchar', length: 255, nullable: true },
    theme: { type: 'varchar', length: 64, nullable: true },
    createdAt: { name: 'created_at', type: 'datetime', createDate: true },
  },
});

export const PluginInstallationEntity = new EntitySchema<PluginInstallationRecord>({
  name: 'PluginInstallation',
  tableName: 'plugin_installations',
  columns: {
    pluginId: { name: 'plugin_id', type: 'varchar', length: 64, primary: true },
    version: { type: 'varchar', length: 64 },
    state: { type: 'varchar', length: 16 },
    error: { type: 'text', nullable: true },
    installedAt: { name: 'installed_at', type: 'datetime', createDate: true },
    updatedAt: { name: 'updated_at', type: 'datetime', updateDate: true },
  },
});

export const SitePluginEntity = new EntitySchema<SitePluginRecord>({
  name: 'SitePlugin',
  tableName: 'site_plugins',
  columns: {
    siteId: { name: 'site_id', type: 'varchar', length: 36, primary: true },
    pluginId: { name: 'plugin_id', type: 'varchar', length: 64, primary: true },
    enabled: { type: 'boolean', default: false },
    config: { type: 'simple-json', nullable: true },
    updatedBy: { name: 'updated_by', type: 'varchar', length: 255, nullable: true },
    updatedAt: { name: 'updated_at', type: 'datetime', updateDate: true },
  },
});

export const PluginMigrationEntity = new EntitySchema<PluginMigrationRecord>({
  name: 'PluginMigration',
  tableName: 'plugin_migrations',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    pluginId: { name: 'plugin_id', type: 'varchar', length: 64 },
    name: { type: 'varchar', length: 255 },
    version: { type: 'varchar', length: 64 },
    runAt: { name: 'run_at', type: 'datetime', createDate: true },
  },
  uniques: [{ name: 'uq_plugin_migrations_plugin_name', columns: ['pluginId', 'name'] }],
});

export const CORE_ENTITIES = [SiteEntity, PluginInstallationEntity, SitePluginEntity, PluginMigrationEntity];

/** Tables the core owns; purge never drops them whatever a plugin's id. */
export const CORE_TABLES = ['sites', 'plugin_installations', 'site_plugins', 'plugin_migrations', 'core_migrations'];
