/**
 * Test support: every storage test runs on SQLite and on the MariaDB at
 * 127.0.0.1:3306. Engineers' suites run at the same time against that one
 * server, so each run gets a database of its own, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { parseStorageUrl, type StorageKind } from './storage-url.ts';

const SQLITE_URL = 'sqlite::memory:';
const MYSQL_URL = 'mysql://root@127.0.0.1:3306/test';

/** The two storage back ends tests must cover; pass either to withTestDatabase for a fresh, private database. */
export function storageUrlsForTests(): string[] {
  return [SQLITE_URL, MYSQL_URL];
}

/**
 * Run `fn` with the URL of a fresh, empty database of the given kind (or the
 * kind of a URL from storageUrlsForTests): a temporary SQLite file (so a test
 * can close and reopen it), or a new `sb_test_<random>` MariaDB database. It is
 * removed afterwards, whatever `fn` does.
 */
export async function withTestDatabase<T>(kindOrUrl: StorageKind | string, fn: (url: string) => Promise<T>): Promise<T> {
  const kind: StorageKind = kindOrUrl === 'sqlite' || kindOrUrl.startsWith('sqlite:') ? 'sqlite' : 'mysql';
  if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'sb-test-db-'));
    try {
      return await fn(`sqlite:${join(dir, 'switchboard.db')}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const server = parseStorageUrl(kindOrUrl.includes('://') ? kindOrUrl : MYSQL_URL);
  if (server.kind !== 'mysql') throw new TypeError(`not a MySQL URL: ${kindOrUrl}`);
  const name = `sb_test_${randomBytes(6).toString('hex')}`;
  const admin = await mysql.createConnection({ host: server.host, port: server.port, user: server.username, password: server.password });
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    const credentials = server.password ? `${encodeURIComponent(server.username)}:${encodeURIComponent(server.password)}` : encodeURIComponent(server.username);
    try {
      return await fn(`mysql://${credentials}@${server.host}:${server.port}/${name}`);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
    }
  } finally {
    await admin.end();
  }
}
