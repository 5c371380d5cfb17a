import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Uploads in parts (files larger than one request may carry): a file row is
 * `uploading` until every byte arrived, its bytes live in im_file_parts
 * (one row per part, so no statement carries more than a part), and it
 * remembers whom it is for until it is complete.
 */
export default class ImFileParts implements MigrationInterface {
  name = '004-file-parts';

  async up(runner: QueryRunner): Promise<void> {
    const mysql = ['mysql', 'mariadb'].includes(runner.connection.options.type);
    await runner.query("ALTER TABLE im_files ADD COLUMN state varchar(12) NOT NULL DEFAULT 'ready'");
    await runner.query('ALTER TABLE im_files ADD COLUMN received integer NOT NULL DEFAULT 0');
    await runner.query("ALTER TABLE im_files ADD COLUMN target varchar(300) NOT NULL DEFAULT ''");
    await runner.createTable(new Table({
      name: 'im_file_parts',
      columns: [
        { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
        { name: 'file_id', type: 'varchar', length: '32' },
        { name: 'seq', type: 'integer' },
        // BLOB stops at 64 KB on MariaDB; a part is at most 512 KiB.
        { name: 'data', type: mysql ? 'mediumblob' : 'blob' },
      ],
      uniques: [{ name: 'uq_im_file_parts_file_seq', columnNames: ['file_id', 'seq'] }],
    }));
    await runner.createIndex('im_files', new TableIndex({ name: 'ix_im_files_state_created', columnNames: ['state', 'created_at'] }));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS im_file_parts');
    await runner.dropIndex('im_files', 'ix_im_files_state_created');
    for (const column of ['target', 'received', 'state']) await runner.dropColumn('im_files', column);
  }
}
