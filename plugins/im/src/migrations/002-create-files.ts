import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export default class CreateImFiles implements MigrationInterface {
  name = '002-create-files';

  async up(runner: QueryRunner): Promise<void> {
    const mysql = ['mysql', 'mariadb'].includes(runner.connection.options.type);
    await runner.createTable(new Table({
      name: 'im_files',
      columns: [
        { name: 'id', type: 'varchar', length: '32', isPrimary: true },
        { name: 'site', type: 'varchar', length: '255' },
        { name: 'owner', type: 'varchar', length: '255' },
        { name: 'name', type: 'varchar', length: '255' },
        { name: 'content_type', type: 'varchar', length: '100' },
        { name: 'size', type: 'integer' },
        // Who may download: usernames wrapped in commas (`,bob,carol,`).
        { name: 'readers', type: 'text' },
        // BLOB stops at 64 KB on MariaDB.
        { name: 'data', type: mysql ? 'longblob' : 'blob' },
        { name: 'created_at', type: 'varchar', length: '24' },
      ],
    }));
    await runner.createIndex('im_files', new TableIndex({ name: 'ix_im_files_site', columnNames: ['site'] }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS im_files');
  }
}
