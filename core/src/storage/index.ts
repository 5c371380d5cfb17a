export { openStorage, type Storage, type OpenStorageOptions } from './open-storage.ts';
export { loadPluginMigrations, type PluginMigration, type MigrationFailureDetails } from './plugin-migrations.ts';
export { pluginTablePrefix, isPluginTable } from './plugin-tables.ts';
export { parseStorageUrl, type StorageKind, type StorageTarget } from './storage-url.ts';
export { storageUrlsForTests, withTestDatabase } from './test-databases.ts';
export type { StorageLogger } from './typeorm-logger.ts';
export {
  SiteEntity,
  PluginInstallationEntity,
  SitePluginEntity,
  PluginMigrationEntity,
  CORE_ENTITIES,
  CORE_TABLES,
  type SiteRecord,
  type PluginInstallationRecord,
  type PluginInstallationState,
  type SitePluginRecord,
  type PluginMigrationRecord,
} from './entities.ts';
