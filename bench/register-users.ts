// Users for the REGISTER benchmark: the sipp injection file, Switchboard's
// users (one created through the admin API, the rest cloned from it in bulk)
// and Kamailio's standard `subscriber` table (SQLite file or MariaDB), all
// with the same names, password and realm.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import mysql from 'mysql2/promise';
import { openStorage } from '../core/src/storage/index.ts';
import { IDENTITY_ENTITIES, UserAddressEntity, UserEntity, digestHa1 } from '../core/src/identity/index.ts';
import type { UserRecord } from '../core/src/identity/identity-entities.ts';

/** The few calls of better-sqlite3 (a core dependency, shipped without types) used here. */
interface SqliteFile {
  exec(sql: string): void;
  prepare(sql: string): { run(...values: string[]): unknown };
  transaction<A>(fn: (arg: A) => void): (arg: A) => void;
  close(): void;
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => SqliteFile;

/** Every benchmark user has this password; only the HA1 (which includes the username) differs. */
export const BENCH_PASSWORD = 'bench-secret-7';

/** `prefix` + zero-padded index, e.g. u00042. */
export function userNames(prefix: string, count: number): string[] {
  const width = String(Math.max(1, count - 1)).length;
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(width, '0')}`);
}

/**
 * sipp injection file for test/sipp/uac-register-auth.xml: field0 user,
 * field1 password, field2 the literal `[authentication …]` keyword (sipp does
 * not expand fields inside it). SEQUENTIAL: call n uses line n (wrapping).
 */
export function writeSippUsers(file: string, names: string[]): void {
  const lines = names.map((u) => `${u};${BENCH_PASSWORD};[authentication username=${u} password=${BENCH_PASSWORD}]`);
  writeFileSync(file, `SEQUENTIAL\n${lines.join('\n')}\n`);
}

async function adminToken(httpUrl: string, adminPassword: string): Promise<string> {
  const res = await fetch(`${httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: adminPassword }),
  });
  if (!res.ok) throw new Error(`admin login: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/**
 * Creates `names` on a running Switchboard host. The first user goes through
 * the admin API (`POST /api/admin/sites/:site/users`: scrypt, both HA1s, its
 * address row); the others are copies of that row with their own id,
 * username and HA1s, inserted through the same typeorm entities in batches.
 * Cloning keeps one scrypt hash (valid for all, since they share the
 * password): 5,000 scrypt hashes (N=32768) take minutes on a busy 2-core
 * machine, which says nothing about the registrar.
 */
export async function seedSwitchboardUsers(opts: { httpUrl: string; adminPassword: string; storageUrl: string; domain: string; names: string[] }): Promise<void> {
  const [first, ...rest] = opts.names;
  if (!first) return;
  const token = await adminToken(opts.httpUrl, opts.adminPassword);
  const res = await fetch(`${opts.httpUrl}/api/admin/sites/${encodeURIComponent(opts.domain)}/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username: first, password: BENCH_PASSWORD, displayName: first }),
  });
  if (res.status !== 201) throw new Error(`creating ${first}: ${res.status} ${await res.text()}`);
  const storage = await openStorage(opts.storageUrl, { entities: IDENTITY_ENTITIES });
  try {
    const users = storage.dataSource.getRepository(UserEntity);
    const template = await users.findOneByOrFail({ username: first });
    const domain = opts.domain.toLowerCase();
    for (let i = 0; i < rest.length; i += 500) {
      const batch = rest.slice(i, i + 500).map((username): UserRecord => ({
        ...template,
        id: randomUUID(),
        username,
        displayName: username,
        ha1Md5: digestHa1('MD5', username, domain, BENCH_PASSWORD),
        ha1Sha256: digestHa1('SHA-256', username, domain, BENCH_PASSWORD),
        createdAt: new Date(),
        updatedAt: new Date(),
      }));
      // Address rows first: on MySQL typeorm's insert writes re-read columns back
      // into the batch objects by position, which can shuffle their ids.
      const addresses = batch.map((u) => ({ siteId: u.siteId, address: u.username, userId: u.id, kind: 'username' as const }));
      await storage.dataSource.transaction(async (m) => {
        await m.createQueryBuilder().insert().into(UserEntity).values(batch).updateEntity(false).execute();
        await m.createQueryBuilder().insert().into(UserAddressEntity).values(addresses).updateEntity(false).execute();
      });
    }
    const count = await users.countBy({ siteId: template.siteId });
    if (count < opts.names.length) throw new Error(`only ${count} of ${opts.names.length} users are in the database`);
  } finally {
    await storage.close();
  }
}

/** Switchboard's stored bindings for a site (the write-through copy), to check nothing was lost. */
export async function countStoredBindings(storageUrl: string, domain: string): Promise<number> {
  const storage = await openStorage(storageUrl);
  try {
    const rows = (await storage.dataSource.query(
      storage.kind === 'sqlite' ? 'SELECT COUNT(*) AS n FROM registrar_bindings WHERE site = ?' : 'SELECT COUNT(*) AS n FROM `registrar_bindings` WHERE site = ?',
      [domain.toLowerCase()],
    )) as Array<{ n: number | string }>;
    return Number(rows[0]?.n ?? 0);
  } finally {
    await storage.close();
  }
}

const KAMAILIO_SQL = '/usr/share/kamailio';

/** The Debian package's schema scripts, so the tables are exactly Kamailio's own. */
function kamailioSchema(dialect: 'db_sqlite' | 'mysql', withLocation: boolean): string {
  const files = ['standard-create.sql', 'auth_db-create.sql', ...(withLocation ? ['usrloc-create.sql'] : [])];
  try {
    return files.map((f) => readFileSync(`${KAMAILIO_SQL}/${dialect}/${f}`, 'utf8')).join('\n');
  } catch (err) {
    const pkg = dialect === 'mysql' ? 'kamailio-mysql-modules' : 'kamailio-sqlite-modules';
    throw new Error(`Kamailio's ${dialect} schema is missing (${(err as Error).message}); install the Debian package ${pkg}`);
  }
}

function subscriberRows(domain: string, names: string[]): Array<[string, string, string, string, string]> {
  const d = domain.toLowerCase();
  // ha1b = MD5(user@domain:realm:password), as kamctl writes it; unused here.
  return names.map((u) => [u, d, '', digestHa1('MD5', u, d, BENCH_PASSWORD), createHash('md5').update(`${u}@${d}:${d}:${BENCH_PASSWORD}`).digest('hex')]);
}

/** A fresh SQLite file with Kamailio's standard, subscriber (and location) tables and the users. */
export function seedKamailioSqlite(file: string, domain: string, names: string[], withLocation: boolean): void {
  const db = new Database(file);
  try {
    db.exec(kamailioSchema('db_sqlite', withLocation));
    const insert = db.prepare('INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, ?, ?, ?, ?)');
    db.transaction((rows: Array<[string, string, string, string, string]>) => {
      for (const row of rows) insert.run(...row);
    })(subscriberRows(domain, names));
  } finally {
    db.close();
  }
}

/** Drops and recreates the MariaDB database `name` with Kamailio's tables and the users. */
export async function seedKamailioMysql(server: { host: string; port: number; user: string; password: string }, name: string, domain: string, names: string[], withLocation: boolean): Promise<void> {
  const conn = await mysql.createConnection({ ...server, multipleStatements: true });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await conn.query(`CREATE DATABASE \`${name}\``);
    await conn.query(`USE \`${name}\``);
    await conn.query(kamailioSchema('mysql', withLocation));
    const rows = subscriberRows(domain, names);
    for (let i = 0; i < rows.length; i += 1000) {
      await conn.query('INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES ?', [rows.slice(i, i + 1000)]);
    }
  } finally {
    await conn.end();
  }
}

/** Creates (fresh) or drops a MariaDB database for Switchboard's own storage. */
export async function mysqlDatabase(server: { host: string; port: number; user: string; password: string }, name: string, action: 'create' | 'drop'): Promise<void> {
  const conn = await mysql.createConnection(server);
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
    if (action === 'create') await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await conn.end();
  }
}
