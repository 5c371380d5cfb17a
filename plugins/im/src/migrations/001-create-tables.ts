import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const id = { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' as const };
const at = (name: string) => ({ name, type: 'varchar', length: '24' });
const isMysql = (runner: QueryRunner) => ['mysql', 'mariadb'].includes(runner.connection.options.type);

export default class CreateImTables implements MigrationInterface {
  name = '001-create-tables';

  async up(runner: QueryRunner): Promise<void> {
    await runner.createTable(new Table({
      name: 'im_messages',
      columns: [
        id,
        { name: 'site', type: 'varchar', length: '255' },
        { name: 'conversation_id', type: 'varchar', length: '64' },
        { name: 'sender', type: 'varchar', length: '255' },
        { name: 'recipients', type: 'text' },
        { name: 'content_type', type: 'varchar', length: '100' },
        // TEXT stops at 64 KB on MariaDB; message bodies may be as large as maxBodyBytes (1 MB).
        { name: 'body', type: isMysql(runner) ? 'mediumtext' : 'text' },
        at('created_at'),
        { name: 'via', type: 'varchar', length: '8' },
      ],
    }));
    await runner.createIndex('im_messages', new TableIndex({ name: 'ix_im_messages_site_created', columnNames: ['site', 'created_at'] }));
    await runner.createIndex('im_messages', new TableIndex({ name: 'ix_im_messages_conversation', columnNames: ['conversation_id'] }));
    await runner.createTable(new Table({
      name: 'im_pending',
      columns: [
        id,
        { name: 'site', type: 'varchar', length: '255' },
        { name: 'recipient', type: 'varchar', length: '255' },
        { name: 'message_id', type: 'integer' },
        at('created_at'),
      ],
    }));
    await runner.createIndex('im_pending', new TableIndex({ name: 'ix_im_pending_recipient', columnNames: ['site', 'recipient'] }));
    await runner.createTable(new Table({
      name: 'im_conversations',
      columns: [
        { name: 'id', type: 'varchar', length: '32', isPrimary: true },
        { name: 'site', type: 'varchar', length: '255' },
        { name: 'subject', type: 'varchar', length: '255' },
        { name: 'created_by', type: 'varchar', length: '255' },
        at('created_at'),
      ],
    }));
    await runner.createTable(new Table({
      name: 'im_members',
      columns: [
        id,
        { name: 'conversation_id', type: 'varchar', length: '32' },
        { name: 'username', type: 'varchar', length: '255' },
        at('joined_at'),
      ],
      uniques: [{ name: 'uq_im_members_conversation_user', columnNames: ['conversation_id', 'username'] }],
    }));
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['im_members', 'im_conversations', 'im_pending', 'im_messages']) {
      await runner.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
