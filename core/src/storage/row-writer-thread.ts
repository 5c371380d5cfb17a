/**
 * The row writer's worker thread (see row-writer.ts): its own better-sqlite3
 * connection to the host's SQLite file, inserting batches of rows, each batch
 * in one IMMEDIATE transaction. The main thread never waits on these writes
 * (nor on the full-text merges their triggers cause).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { lowerThisThreadPriority } from '../threads/thread-priority.ts';

export interface RowWriterThreadData {
  /** The SQLite file (never `:memory:`: another connection could not see it). */
  database: string;
  /** How long a write waits for another connection's transaction (SQLite busy timeout), ms. */
  busyTimeoutMs: number;
  /** The page cache, KiB (storage.sqliteCacheKiB, as the host's own connection). */
  cacheKiB: number;
}

export type ToRowWriterThread =
  | { type: 'insert'; id: number; sql: string; rows: unknown[][] }
  | { type: 'close' };

export type FromRowWriterThread =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'done'; id: number; ids: number[] }
  | { type: 'refused'; id: number; message: string; code?: string }
  | { type: 'closed' };

/** Prepared statements kept per SQL text (a plugin inserts into a handful of tables). */
const MAX_STATEMENTS = 64;

const parent = parentPort;
if (!parent) throw new Error('row-writer-thread runs as a worker thread of the host');
const port = parent;
const data = workerData as RowWriterThreadData;
const post = (m: FromRowWriterThread): void => port.postMessage(m);
// Inserts (and the merges their triggers cause) yield to the threads that answer SIP.
lowerThisThreadPriority();

let db: Database.Database;
try {
  db = new Database(data.database, { fileMustExist: true, timeout: data.busyTimeoutMs });
  // The same settings as the host's own connection (typeorm's better-sqlite3 driver).
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`cache_size = -${Math.floor(data.cacheKiB)}`);
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'failed', message: (err as Error).message });
  process.exit(1);
}

const statements = new Map<string, Database.Statement>();

function statement(sql: string): Database.Statement {
  let stmt = statements.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value!);
    statements.set(sql, stmt);
  }
  return stmt;
}

port.on('message', (m: ToRowWriterThread) => {
  if (m.type === 'close') {
    db.close();
    post({ type: 'closed' });
    port.close();
    return;
  }
  try {
    const stmt = statement(m.sql);
    const ids = db.transaction((rows: unknown[][]) => rows.map((row) => Number(stmt.run(row).lastInsertRowid))).immediate(m.rows);
    post({ type: 'done', id: m.id, ids });
  } catch (err) {
    const e = err as Error & { code?: string };
    post({ type: 'refused', id: m.id, message: e.message, ...(typeof e.code === 'string' ? { code: e.code } : {}) });
  }
});
