import { Table, TableUnique, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Presence subscription dialogs, so a restart can end them cleanly (NOTIFY terminated;reason=deactivated). */
export default class CreatePresenceSubscriptions implements MigrationInterface {
  name = '003-subscriptions';

  async up(runner: QueryRunner): Promise<void> {
    const text = (name: string, length: string, nullable = false) => ({ name, type: 'varchar', length, isNullable: nullable });
    await runner.createTable(new Table({
      name: 'presence_subscriptions',
      columns: [
        { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' as const },
        text('dialog', '255'),
        text('site', '190'),
        text('presentity', '64'),
        text('kind', '16'),
        text('event', '128'),
        text('watcher', '255', true),
        text('call_id', '255'),
        text('local_party', '512'),
        text('remote_party', '512'),
        text('remote_target', '512'),
        { name: 'expires_at', type: 'integer' },
      ],
      uniques: [new TableUnique({ name: 'presence_subscriptions_uq', columnNames: ['dialog'] })],
    }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS presence_subscriptions');
  }
}
