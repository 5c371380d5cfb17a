/**
 * Registrar bindings (address of record → contacts), kept in memory for
 * routing and written behind to the database so they survive a restart:
 * changes are applied in memory at once and flushed in one batched
 * transaction a moment later (like Kamailio's usrloc write-back mode), so a
 * REGISTER never waits for a commit. A crash can lose at most the last
 * flush interval of changes; a clean stop flushes everything.
 * Expired bindings are swept on a timer.
 */
import { EntitySchema, LessThan, Table, TableIndex, type DataSource, type EntityManager, type Repository } from 'typeorm';
import { WriteQueue } from '../identity/write-queue.ts';
import { ownCopy } from '../sip-engine/own-string.ts';

export interface Binding {
  id: string;
  site: string;
  aor: string;
  /** The Contact value's URI as registered. */
  contact: string;
  /** Identity of the binding: `+sip.instance`/reg-id for outbound (RFC 5626), else the contact URI. */
  key: string;
  q: number;
  expiresAt: number;
  callId: string;
  cseq: number;
  userAgent: string;
  transport: string;
  sourceAddress: string;
  sourcePort: number;
  path: string[];
  instance?: string;
  regId?: number;
  updatedAt: number;
}

interface BindingRow {
  id: string; site: string; aor: string; contact: string; contactKey: string; q: string; expiresAt: string;
  callId: string; cseq: number; userAgent: string; transport: string; sourceAddress: string; sourcePort: number;
  path: string; instance: string | null; regId: number | null; updatedAt: string;
}

export const BindingEntity = new EntitySchema<BindingRow>({
  name: 'RegistrarBinding',
  tableName: 'registrar_bindings',
  columns: {
    id: { type: 'varchar', length: 64, primary: true },
    site: { type: 'varchar', length: 255 },
    aor: { type: 'varchar', length: 255 },
    contact: { type: 'text' },
    contactKey: { name: 'contact_key', type: 'varchar', length: 512 },
    q: { type: 'varchar', length: 8 },
    expiresAt: { name: 'expires_at', type: 'bigint' },
    callId: { name: 'call_id', type: 'varchar', length: 255 },
    cseq: { type: 'integer' },
    userAgent: { name: 'user_agent', type: 'varchar', length: 255 },
    transport: { type: 'varchar', length: 8 },
    sourceAddress: { name: 'source_address', type: 'varchar', length: 64 },
    sourcePort: { name: 'source_port', type: 'integer' },
    path: { type: 'text' },
    instance: { type: 'varchar', length: 255, nullable: true },
    regId: { name: 'reg_id', type: 'integer', nullable: true },
    updatedAt: { name: 'updated_at', type: 'bigint' },
  },
});

export async function ensureBindingTable(ds: DataSource): Promise<void> {
  const runner = ds.createQueryRunner();
  try {
    await runner.createTable(new Table({
      name: 'registrar_bindings',
      columns: [
        { name: 'id', type: 'varchar', length: '64', isPrimary: true },
        { name: 'site', type: 'varchar', length: '255' },
        { name: 'aor', type: 'varchar', length: '255' },
        { name: 'contact', type: 'text' },
        { name: 'contact_key', type: 'varchar', length: '512' },
        { name: 'q', type: 'varchar', length: '8' },
        { name: 'expires_at', type: 'bigint' },
        { name: 'call_id', type: 'varchar', length: '255' },
        { name: 'cseq', type: 'integer' },
        { name: 'user_agent', type: 'varchar', length: '255' },
        { name: 'transport', type: 'varchar', length: '8' },
        { name: 'source_address', type: 'varchar', length: '64' },
        { name: 'source_port', type: 'integer' },
        { name: 'path', type: 'text' },
        { name: 'instance', type: 'varchar', length: '255', isNullable: true },
        { name: 'reg_id', type: 'integer', isNullable: true },
        { name: 'updated_at', type: 'bigint' },
      ],
      indices: [new TableIndex({ name: 'idx_registrar_bindings_aor', columnNames: ['site', 'aor'] })],
    }), true);
  } finally {
    await runner.release();
  }
}

const toRow = (b: Binding): BindingRow => ({
  id: b.id, site: b.site, aor: b.aor, contact: b.contact, contactKey: b.key.slice(0, 512), q: String(b.q),
  expiresAt: String(b.expiresAt), callId: b.callId.slice(0, 255), cseq: b.cseq, userAgent: b.userAgent.slice(0, 255),
  transport: b.transport, sourceAddress: b.sourceAddress, sourcePort: b.sourcePort, path: JSON.stringify(b.path),
  instance: b.instance ?? null, regId: b.regId ?? null, updatedAt: String(b.updatedAt),
});

/** The table's columns in the order rowValues() gives them. */
const COLUMNS = ['id', 'site', 'aor', 'contact', 'contact_key', 'q', 'expires_at', 'call_id', 'cseq', 'user_agent', 'transport',
  'source_address', 'source_port', 'path', 'instance', 'reg_id', 'updated_at'] as const;

const rowValues = (r: BindingRow): unknown[] => [r.id, r.site, r.aor, r.contact, r.contactKey, r.q, r.expiresAt, r.callId, r.cseq,
  r.userAgent, r.transport, r.sourceAddress, r.sourcePort, r.path, r.instance, r.regId, r.updatedAt];

/** 17 parameters a row: 50 rows stay under SQLite's oldest limit of 999 parameters a statement. */
const ROWS_PER_STATEMENT = 50;

/**
 * Insert-or-update rows, 50 to a statement, in SQL written once per batch
 * size: typeorm's upsert builds its query through the query builder, whose
 * parameter handling grows with the square of the batch (a quarter of the
 * host's CPU under a REGISTER storm went there).
 */
async function upsertRows(m: EntityManager, rows: BindingRow[]): Promise<void> {
  const mysql = m.connection.options.type === 'mysql' || m.connection.options.type === 'mariadb';
  const q = (name: string) => m.connection.driver.escape(name);
  const tuple = `(${COLUMNS.map(() => '?').join(', ')})`;
  const update = mysql
    ? `ON DUPLICATE KEY UPDATE ${COLUMNS.slice(1).map((c) => `${q(c)} = VALUES(${q(c)})`).join(', ')}`
    : `ON CONFLICT(${q('id')}) DO UPDATE SET ${COLUMNS.slice(1).map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')}`;
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    const sql = `INSERT INTO ${q('registrar_bindings')} (${COLUMNS.map(q).join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')} ${update}`;
    await m.query(sql, chunk.flatMap(rowValues));
  }
}

/** At most this many distinct shared values are remembered; past it the table starts again. */
const SHARED_VALUES_MAX = 4096;
/** The path of every binding registered without one. */
const NO_PATH: string[] = Object.freeze([]) as unknown as string[];

/**
 * One string for each value many bindings hold alike (site, User-Agent,
 * transport, source address): 5,000 phones of one model behind one NAT keep
 * one copy of each instead of 5,000, and none of them a piece of the
 * REGISTER it came from.
 */
class SharedValues {
  readonly #values = new Map<string, string>();

  get(s: string): string {
    const known = this.#values.get(s);
    if (known !== undefined) return known;
    if (this.#values.size >= SHARED_VALUES_MAX) this.#values.clear();
    const own = ownCopy(s);
    this.#values.set(own, own);
    return own;
  }
}

const fromRow = (r: BindingRow): Binding => ({
  id: r.id, site: r.site, aor: r.aor, contact: r.contact, key: r.contactKey, q: Number(r.q), expiresAt: Number(r.expiresAt),
  callId: r.callId, cseq: r.cseq, userAgent: r.userAgent, transport: r.transport, sourceAddress: r.sourceAddress,
  sourcePort: r.sourcePort, path: JSON.parse(r.path) as string[],
  ...(r.instance ? { instance: r.instance } : {}), ...(r.regId !== null ? { regId: r.regId } : {}), updatedAt: Number(r.updatedAt),
});

export class BindingStore {
  readonly #repo: Repository<BindingRow>;
  readonly #byAor = new Map<string, Binding[]>();
  readonly #shared = new SharedValues();
  /** SQLite shares one connection: overlapping transactions must not nest. */
  readonly #writes = new WriteQueue();
  #sweeper?: NodeJS.Timeout;
  /** Pending database changes by binding id: a row to save, or null to delete. */
  #pending = new Map<string, BindingRow | null>();
  #flushTimer?: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();
  readonly #flushDelayMs: number;
  /** Called for bindings that expired (for events / monitoring). */
  onExpire?: (b: Binding) => void;

  constructor(ds: DataSource, opts: { flushDelayMs?: number } = {}) {
    this.#repo = ds.getRepository(BindingEntity);
    this.#flushDelayMs = opts.flushDelayMs ?? 100;
  }

  static aorKey(site: string, aor: string): string {
    return `${site.toLowerCase()}|${aor.toLowerCase()}`;
  }

  async load(now = Date.now()): Promise<number> {
    await this.#repo.delete({ expiresAt: LessThan(String(now)) });
    const rows = await this.#repo.find();
    this.#byAor.clear();
    for (const r of rows) this.#put(fromRow(r));
    return rows.length;
  }

  startSweeping(everyMs = 1000): void {
    this.#sweeper = setInterval(() => void this.sweep().catch(() => {}), everyMs);
    this.#sweeper.unref();
  }

  /** Stop sweeping and write every pending change. */
  async stop(): Promise<void> {
    clearInterval(this.#sweeper);
    clearTimeout(this.#flushTimer);
    await this.flush();
  }

  /** Write pending changes now (one transaction). */
  flush(): Promise<void> {
    this.#flushTimer = undefined;
    this.#flushing = this.#flushing.then(async () => {
      if (!this.#pending.size) return;
      const batch = this.#pending;
      this.#pending = new Map();
      const deletes = [...batch].filter(([, row]) => row === null).map(([id]) => id);
      const saves = [...batch.values()].filter((row): row is BindingRow => row !== null);
      try {
        await this.#writes.run(() => this.#repo.manager.transaction(async (m) => {
          if (deletes.length) await m.delete(BindingEntity, deletes);
          if (saves.length) await upsertRows(m, saves);
        }));
      } catch (err) {
        // Keep what failed for the next flush unless newer changes replaced it.
        for (const [id, row] of batch) if (!this.#pending.has(id)) this.#pending.set(id, row);
        this.onFlushError?.(err);
        this.#schedule();
      }
    });
    return this.#flushing;
  }

  onFlushError?: (err: unknown) => void;

  #schedule(): void {
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => void this.flush(), this.#flushDelayMs);
    this.#flushTimer.unref();
  }

  /** Live bindings of an AOR, best q first. */
  get(site: string, aor: string, now = Date.now()): Binding[] {
    return (this.#byAor.get(BindingStore.aorKey(site, aor)) ?? []).filter((b) => b.expiresAt > now).sort((a, b) => b.q - a.q);
  }

  count(): number {
    let n = 0;
    for (const list of this.#byAor.values()) n += list.length;
    return n;
  }

  /** Apply one REGISTER's changes atomically: upserts and removals for one AOR. */
  async apply(site: string, aor: string, upserts: Binding[], removals: Binding[]): Promise<void> {
    // Own copies first: the rows waiting to be written hold the same strings.
    const added = upserts.map((b) => this.#kept(b));
    for (const b of removals) this.#pending.set(b.id, null);
    for (const b of added) this.#pending.set(b.id, toRow(b));
    this.#schedule();
    const key = BindingStore.aorKey(site, aor);
    const gone = new Set(removals.map((b) => b.id));
    const kept = (this.#byAor.get(key) ?? []).filter((b) => !gone.has(b.id) && !added.some((u) => u.id === b.id));
    // concat: an array of the length it holds (one grown by push keeps room for 17: about 130 bytes more a user).
    const list = added.length ? kept.concat(added) : kept.slice();
    if (list.length) this.#byAor.set(key, list);
    else this.#byAor.delete(key);
  }

  async sweep(now = Date.now()): Promise<void> {
    const expired: Binding[] = [];
    for (const [key, list] of this.#byAor) {
      const live = list.filter((b) => b.expiresAt > now);
      if (live.length === list.length) continue;
      expired.push(...list.filter((b) => b.expiresAt <= now));
      if (live.length) this.#byAor.set(key, live.slice());
      else this.#byAor.delete(key);
    }
    if (!expired.length) return;
    for (const b of expired) this.#pending.set(b.id, null);
    this.#schedule();
    for (const b of expired) this.onExpire?.(b);
  }

  /**
   * The binding as kept in memory (changed in place): shared values shared, an empty path the
   * one frozen empty path, and every other text a string of its own. The Contact URI and the
   * Call-ID come as pieces of the REGISTER's text, and a piece keeps the whole message (600
   * bytes from sipp, several KiB from a softphone) for as long as the binding lives: 3 MiB
   * with 5,000 users before this copied them.
   */
  #kept(b: Binding): Binding {
    const v = this.#shared;
    b.site = v.get(b.site);
    b.userAgent = v.get(b.userAgent);
    b.transport = v.get(b.transport);
    b.sourceAddress = v.get(b.sourceAddress);
    b.id = ownCopy(b.id);
    b.aor = ownCopy(b.aor);
    const sameKey = b.key === b.contact;
    b.contact = ownCopy(b.contact);
    b.key = sameKey ? b.contact : ownCopy(b.key);
    b.callId = ownCopy(b.callId);
    if (b.instance !== undefined) b.instance = ownCopy(b.instance);
    b.path = b.path.length === 0 ? NO_PATH : b.path.map(ownCopy);
    return b;
  }

  #put(b: Binding): void {
    const key = BindingStore.aorKey(b.site, b.aor);
    // An array literal has room for what it holds; one grown by push has room for 17.
    const list = this.#byAor.get(key);
    this.#byAor.set(key, list ? list.concat(this.#kept(b)) : [this.#kept(b)]);
  }
}
