/**
 * Inserts of many rows that should not hold up the host's main thread
 * (message history under load, say). On a SQLite file they run on a worker
 * thread with a connection of its own (row-writer-thread.ts): SQLite writes
 * are synchronous, and the full-text merges an insert can trigger took the
 * main thread, which also answers SIP, for tens of milliseconds at a time.
 * On MariaDB/MySQL (asynchronous already) and an in-memory SQLite database
 * (which a second connection cannot see) they run on the host's own
 * connection. Either way one call is one transaction: every row or none.
 *
 * The thread starts on first use. Should it die, the calls in flight are
 * refused (whether they were written is unknown) and later ones run on the
 * host's connection.
 */
import type { Worker } from 'node:worker_threads';
import type { DataSource } from 'typeorm';
import { coreError } from '../errors.ts';
import { moduleWorker } from '../threads/module-worker.ts';
import type { FromRowWriterThread, RowWriterThreadData, ToRowWriterThread } from './row-writer-thread.ts';

/** better-sqlite3's default, and typeorm's: how long a write waits for the other connection. */
const BUSY_TIMEOUT_MS = 5000;
/** How long closing waits for writes in flight before the thread is terminated. */
const CLOSE_GRACE_MS = 5000;

export interface RowWriterOptions {
  dataSource: DataSource;
  /** The SQLite file to write on a thread; undefined: write on `dataSource`. */
  sqliteFile?: string;
  /** The thread's page cache, KiB (as the host's own connection). */
  cacheKiB: number;
  /** Told once when the thread is lost and writes move to the host's connection. */
  onThreadLost?: (reason: string) => void;
}

interface Waiting {
  resolve: (ids: number[]) => void;
  reject: (err: Error) => void;
}

export class RowWriter {
  readonly #options: RowWriterOptions;
  #worker?: Worker;
  #starting?: Promise<Worker | undefined>;
  #threadLost = false;
  #closed = false;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;

  constructor(options: RowWriterOptions) {
    this.#options = options;
  }

  /** Whether inserts run (or will run) on the writer thread. */
  get onThread(): boolean {
    return this.#options.sqliteFile !== undefined && !this.#threadLost;
  }

  /**
   * Run `sql` (one INSERT whose values are bound to its `?` parameters) once per row, in one
   * transaction. Resolves with each row's id (the auto-increment key the
   * database gave it), in order.
   */
  async insert(sql: string, rows: unknown[][]): Promise<number[]> {
    if (this.#closed) throw coreError('CORE_ERR_STORAGE_CLOSED', 'insert after the storage was closed');
    if (!rows.length) return [];
    const worker = this.onThread ? await this.#thread() : undefined;
    if (!worker) return this.#onConnection(sql, rows);
    const id = this.#nextId++;
    return new Promise<number[]>((resolve, reject) => {
      // An idle thread never keeps the process alive; one with writes in flight does.
      if (!this.#waiting.size) worker.ref();
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ type: 'insert', id, sql, rows } satisfies ToRowWriterThread);
    });
  }

  /** The last batch on the host's connection: they run one after another (see #onConnection). */
  #connectionTail: Promise<unknown> = Promise.resolve();

  /**
   * On the host's connection. One batch at a time: typeorm's SQLite driver
   * shares one connection, where a second BEGIN while a transaction is open
   * fails; on MariaDB the pool would allow more, but order is kept the same.
   */
  #onConnection(sql: string, rows: unknown[][]): Promise<number[]> {
    const run = (): Promise<number[]> => this.#options.dataSource.transaction(async (manager) => {
      const ids: number[] = [];
      for (const row of rows) ids.push(insertedId(await manager.query(sql, row)));
      return ids;
    });
    const result = this.#connectionTail.then(run, run);
    this.#connectionTail = result.catch(() => undefined);
    return result;
  }

  #thread(): Promise<Worker | undefined> {
    if (this.#worker) return Promise.resolve(this.#worker);
    this.#starting ??= this.#start().finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  async #start(): Promise<Worker | undefined> {
    const data: RowWriterThreadData = { database: this.#options.sqliteFile!, busyTimeoutMs: BUSY_TIMEOUT_MS, cacheKiB: this.#options.cacheKiB };
    const worker = moduleWorker(import.meta.url, './row-writer-thread', { workerData: data, name: 'switchboard-row-writer' });
    const ready = await new Promise<true | string>((resolve) => {
      worker.once('error', (err) => resolve(err.message));
      worker.once('exit', (code) => resolve(`exited with code ${code}`));
      worker.on('message', (m: FromRowWriterThread) => {
        if (m.type === 'ready') resolve(true);
        else if (m.type === 'failed') resolve(m.message);
        else this.#answer(m);
      });
    });
    if (ready !== true) {
      void worker.terminate();
      this.#lose(`the row writer thread did not start: ${ready}`);
      return undefined;
    }
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    worker.on('error', (err) => this.#lose(`the row writer thread failed: ${err.message}`));
    worker.on('exit', (code) => {
      if (!this.#closed) this.#lose(`the row writer thread exited with code ${code}`);
    });
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #answer(m: FromRowWriterThread): void {
    if (m.type !== 'done' && m.type !== 'refused') return;
    const waiting = this.#waiting.get(m.id);
    if (!waiting) return;
    this.#waiting.delete(m.id);
    if (!this.#waiting.size) this.#worker?.unref();
    if (m.type === 'done') waiting.resolve(m.ids);
    else waiting.reject(Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
  }

  #lose(reason: string): void {
    if (this.#threadLost) return;
    this.#threadLost = true;
    this.#worker = undefined;
    for (const [, w] of this.#waiting) {
      w.reject(coreError('CORE_ERR_STORAGE_WRITER_LOST', `${reason}; whether this batch was written is unknown (look it up before writing it again)`));
    }
    this.#waiting.clear();
    this.#options.onThreadLost?.(reason);
  }

  /** Waits for writes in flight (at most CLOSE_GRACE_MS), then closes the thread's connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#starting;
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    const closed = new Promise<void>((resolve) => {
      worker.on('message', (m: FromRowWriterThread) => {
        if (m.type === 'closed') resolve();
        else this.#answer(m);
      });
      worker.once('exit', () => resolve());
    });
    // Messages are handled in order: every insert posted before 'close' is answered first.
    worker.postMessage({ type: 'close' } satisfies ToRowWriterThread);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
    clearTimeout(timer);
    await worker.terminate();
    for (const [, w] of this.#waiting) w.reject(coreError('CORE_ERR_STORAGE_CLOSED', 'the storage closed before this batch was answered'));
    this.#waiting.clear();
  }
}

/** The new row's id: better-sqlite3 (through typeorm) answers the last rowid, mysql2 an OkPacket with insertId. */
export function insertedId(result: unknown): number {
  const id = typeof result === 'object' && result !== null && 'insertId' in result ? (result as { insertId: number | string }).insertId : result;
  const n = Number(id);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`unexpected INSERT result ${String(id)}`);
  return n;
}
