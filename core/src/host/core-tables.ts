/**
 * Tables the host itself owns beyond storage's (admin users, event outbox).
 * Created if missing with typeorm's schema builder so the same code serves
 * SQLite and MySQL/MariaDB.
 */
import { Table, TableIndex, type DataSource, type EntitySchema } from 'typeorm';
import { AdminUserEntity } from './admin-users.ts';
import { HostSecretEntity } from './host-secrets.ts';
import { ConsumerEntity, OutboxEntity } from '../events/outbox-entities.ts';
import { IDENTITY_ENTITIES } from '../identity/identity-entities.ts';
import { BindingEntity } from '../registrar/binding-store.ts';
import { ensureIdentityTables } from '../identity/identity-tables.ts';

export const HOST_ENTITIES: EntitySchema<any>[] = [AdminUserEntity, HostSecretEntity, OutboxEntity, ConsumerEntity, ...IDENTITY_ENTITIES, BindingEntity];
/** Names of the host's tables; plugins never reach them through ctx.db. */
export const HOST_TABLES: readonly string[] = HOST_ENTITIES.map((e) => e.options.tableName ?? e.options.name);

const now = (_ds: DataSource): string => 'CURRENT_TIMESTAMP';

export async function ensureHostTables(ds: DataSource): Promise<void> {
  const runner = ds.createQueryRunner();
  try {
    await runner.createTable(new Table({
      name: 'admin_users',
      columns: [
        { name: 'username', type: 'varchar', length: '64', isPrimary: true },
        { name: 'password_hash', type: 'varchar', length: '255' },
        { name: 'role', type: 'varchar', length: '32' },
        { name: 'created_at', type: 'datetime', default: now(ds) },
      ],
    }), true);
    await runner.createTable(new Table({
      name: 'event_outbox',
      columns: [
        { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
        { name: 'consumer', type: 'varchar', length: '200' },
        { name: 'topic', type: 'varchar', length: '200' },
        { name: 'publisher', type: 'varchar', length: '200' },
        { name: 'payload', type: 'text' },
        { name: 'attempts', type: 'integer', default: 0 },
        { name: 'created_at', type: 'datetime', default: now(ds) },
      ],
      indices: [new TableIndex({ name: 'idx_event_outbox_consumer', columnNames: ['consumer', 'id'] })],
    }), true);
    await runner.createTable(new Table({
      name: 'host_secrets',
      columns: [
        { name: 'name', type: 'varchar', length: '64', isPrimary: true },
        { name: 'value', type: 'varchar', length: '255' },
      ],
    }), true);
    await runner.createTable(new Table({
      name: 'event_consumers',
      columns: [
        { name: 'consumer', type: 'varchar', length: '200', isPrimary: true },
        { name: 'topic', type: 'varchar', length: '200' },
      ],
    }), true);
  } finally {
    await runner.release();
  }
  // Users and their addresses (core/src/identity).
  await ensureIdentityTables(ds);
}
