import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Full-text index over message bodies for history search.
 * - SQLite: an FTS5 table with im_messages as external content (rowid = id),
 *   kept in step by triggers; existing rows are indexed by `rebuild`.
 * - MariaDB/MySQL: a FULLTEXT index on im_messages.body (InnoDB).
 */
export default class ImFullText implements MigrationInterface {
  name = '003-full-text';

  async up(runner: QueryRunner): Promise<void> {
    if (['mysql', 'mariadb'].includes(runner.connection.options.type)) {
      await runner.query('CREATE FULLTEXT INDEX ix_im_messages_body_ft ON im_messages (body)');
      return;
    }
    await runner.query("CREATE VIRTUAL TABLE im_messages_fts USING fts5(body, content='im_messages', content_rowid='id', tokenize='unicode61')");
    await runner.query(`CREATE TRIGGER im_messages_fts_ai AFTER INSERT ON im_messages BEGIN
      INSERT INTO im_messages_fts(rowid, body) VALUES (new.id, new.body);
    END`);
    await runner.query(`CREATE TRIGGER im_messages_fts_ad AFTER DELETE ON im_messages BEGIN
      INSERT INTO im_messages_fts(im_messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END`);
    await runner.query(`CREATE TRIGGER im_messages_fts_au AFTER UPDATE OF body ON im_messages BEGIN
      INSERT INTO im_messages_fts(im_messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
      INSERT INTO im_messages_fts(rowid, body) VALUES (new.id, new.body);
    END`);
    await runner.query("INSERT INTO im_messages_fts(im_messages_fts) VALUES ('rebuild')");
  }

  async down(runner: QueryRunner): Promise<void> {
    if (['mysql', 'mariadb'].includes(runner.connection.options.type)) {
      await runner.query('DROP INDEX ix_im_messages_body_ft ON im_messages');
      return;
    }
    for (const trigger of ['im_messages_fts_ai', 'im_messages_fts_ad', 'im_messages_fts_au']) await runner.query(`DROP TRIGGER IF EXISTS ${trigger}`);
    await runner.query('DROP TABLE IF EXISTS im_messages_fts');
  }
}
