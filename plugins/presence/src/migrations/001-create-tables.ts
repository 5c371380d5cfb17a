import { Table, TableUnique, type MigrationInterface, type QueryRunner } from 'typeorm';

const id = { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' as const };
const site = { name: 'site', type: 'varchar', length: '190' };

export default class CreatePresenceTables implements MigrationInterface {
  name = '001-create-tables';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(new Table({
      name: 'presence_access',
      columns: [id, site, { name: 'owner', type: 'varchar', length: '64' }, { name: 'watcher', type: 'varchar', length: '255' }, { name: 'level', type: 'varchar', length: '16' }],
      uniques: [new TableUnique({ name: 'presence_access_uq', columnNames: ['site', 'owner', 'watcher'] })],
    }));
    await runner.createTable(new Table({
      name: 'presence_groups',
      columns: [id, site, { name: 'owner', type: 'varchar', length: '64' }, { name: 'name', type: 'varchar', length: '100' }, { name: 'position', type: 'integer', default: 0 }],
      uniques: [new TableUnique({ name: 'presence_groups_uq', columnNames: ['site', 'owner', 'name'] })],
    }));
    await runner.createTable(new Table({
      name: 'presence_contacts',
      columns: [
        id, site,
        { name: 'owner', type: 'varchar', length: '64' },
        { name: 'address', type: 'varchar', length: '255' },
        { name: 'kind', type: 'varchar', length: '8' },
        { name: 'display_name', type: 'varchar', length: '200', default: "''" },
        { name: 'group_id', type: 'integer', isNullable: true },
        { name: 'position', type: 'integer', default: 0 },
        { name: 'tagged', type: 'boolean', default: false },
      ],
      uniques: [new TableUnique({ name: 'presence_contacts_uq', columnNames: ['site', 'owner', 'address'] })],
    }));
    await runner.createTable(new Table({
      name: 'presence_manual',
      columns: [
        id, site,
        { name: 'username', type: 'varchar', length: '64' },
        { name: 'state', type: 'varchar', length: '32' },
        { name: 'note', type: 'varchar', length: '1024', isNullable: true },
        { name: 'location', type: 'varchar', length: '256', isNullable: true },
        { name: 'updated_at', type: 'datetime' },
      ],
      uniques: [new TableUnique({ name: 'presence_manual_uq', columnNames: ['site', 'username'] })],
    }));
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['presence_manual', 'presence_contacts', 'presence_groups', 'presence_access']) {
      await runner.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
