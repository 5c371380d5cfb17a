/**
 * Creates the identity tables if missing, with typeorm's schema builder so
 * SQLite and MariaDB get the same DDL (the host's own tables follow the same
 * pattern in host/core-tables.ts). Foreign keys make a deleted site or user
 * take its rows with it.
 */
import { Table, TableForeignKey, TableIndex, type DataSource } from 'typeorm';

export async function ensureIdentityTables(ds: DataSource): Promise<void> {
  const q = ds.createQueryRunner();
  try {
    await q.createTable(new Table({
      name: 'users',
      columns: [
        { name: 'id', type: 'varchar', length: '36', isPrimary: true },
        { name: 'site_id', type: 'varchar', length: '36' },
        { name: 'username', type: 'varchar', length: '64' },
        { name: 'display_name', type: 'varchar', length: '255' },
        { name: 'aliases', type: 'text' },
        { name: 'phone', type: 'varchar', length: '32', isNullable: true },
        { name: 'email', type: 'varchar', length: '254', isNullable: true },
        { name: 'group_names', type: 'text' },
        { name: 'role', type: 'varchar', length: '16' },
        { name: 'enabled', type: 'boolean' },
        { name: 'password_hash', type: 'varchar', length: '255' },
        { name: 'ha1_md5', type: 'varchar', length: '32' },
        { name: 'ha1_sha256', type: 'varchar', length: '64' },
        { name: 'created_at', type: 'datetime', default: 'CURRENT_TIMESTAMP' },
        { name: 'updated_at', type: 'datetime', default: 'CURRENT_TIMESTAMP' },
      ],
      uniques: [{ name: 'uq_users_site_username', columnNames: ['site_id', 'username'] }],
      foreignKeys: [
        new TableForeignKey({ name: 'fk_users_site', columnNames: ['site_id'], referencedTableName: 'sites', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
      ],
    }), true);
    await q.createTable(new Table({
      name: 'user_addresses',
      columns: [
        { name: 'site_id', type: 'varchar', length: '36', isPrimary: true },
        { name: 'address', type: 'varchar', length: '64', isPrimary: true },
        { name: 'user_id', type: 'varchar', length: '36' },
        { name: 'kind', type: 'varchar', length: '16' },
      ],
      indices: [new TableIndex({ name: 'idx_user_addresses_user', columnNames: ['user_id'] })],
      foreignKeys: [
        new TableForeignKey({ name: 'fk_user_addresses_user', columnNames: ['user_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
      ],
    }), true);
  } finally {
    await q.release();
  }
}
