/**
 * The core schema, as typeorm migrations run through dataSource.runMigrations
 * (tracked in `core_migrations`). Add a new class for each change; never edit
 * one that has shipped. typeorm reads the 13-digit timestamp at the end of the
 * class name to order them.
 */
import { Table, TableForeignKey, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const createdNow = { type: 'datetime', default: 'CURRENT_TIMESTAMP' } as const;

export class CoreTables1735689600000 implements MigrationInterface {
  name = 'CoreTables1735689600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'sites',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'domain', type: 'varchar', length: '253', isUnique: true },
          { name: 'name', type: 'varchar', length: '255', isNullable: true },
          { name: 'theme', type: 'varchar', length: '64', isNullable: true },
          { name: 'created_at', ...createdNow },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'plugin_installations',
        columns: [
          { name: 'plugin_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'version', type: 'varchar', length: '64' },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'error', type: 'text', isNullable: true },
          { name: 'installed_at', ...createdNow },
          { name: 'updated_at', ...createdNow },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'site_plugins',
        columns: [
          { name: 'site_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'plugin_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'enabled', type: 'boolean', default: false },
          { name: 'config', type: 'text', isNullable: true },
          { name: 'updated_by', type: 'varchar', length: '255', isNullable: true },
          { name: 'updated_at', ...createdNow },
        ],
        indices: [new TableIndex({ name: 'idx_site_plugins_plugin', columnNames: ['plugin_id'] })],
        // Removing a site removes its per-plugin state; a plugin's rows stay until purged.
        foreignKeys: [
          new TableForeignKey({ name: 'fk_site_plugins_site', columnNames: ['site_id'], referencedTableName: 'sites', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'plugin_migrations',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'plugin_id', type: 'varchar', length: '64' },
          { name: 'name', type: 'varchar', length: '255' },
          { name: 'version', type: 'varchar', length: '64' },
          { name: 'run_at', ...createdNow },
        ],
        uniques: [{ name: 'uq_plugin_migrations_plugin_name', columnNames: ['plugin_id', 'name'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['plugin_migrations', 'site_plugins', 'plugin_installations', 'sites']) await q.dropTable(table, true);
  }
}

export const CORE_MIGRATIONS = [CoreTables1735689600000];
