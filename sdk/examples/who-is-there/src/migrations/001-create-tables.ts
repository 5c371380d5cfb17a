import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

export default class CreateWhoIsThereTables implements MigrationInterface {
  name = '001-create-tables';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(new Table({
      name: 'who_is_there_sightings',
      columns: [
        { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
        { name: 'site', type: 'varchar', length: '255' },
        { name: 'uri', type: 'varchar', length: '255' },
        { name: 'last_seen', type: 'datetime' },
      ],
      uniques: [{ name: 'uq_who_is_there_sightings_site_uri', columnNames: ['site', 'uri'] }],
    }));
    await runner.createTable(new Table({
      name: 'who_is_there_replies',
      columns: [
        { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
        { name: 'site', type: 'varchar', length: '255' },
        { name: 'to_uri', type: 'varchar', length: '255' },
        { name: 'body', type: 'text' },
        { name: 'created_at', type: 'datetime' },
      ],
    }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS who_is_there_replies');
    await runner.query('DROP TABLE IF EXISTS who_is_there_sightings');
  }
}
