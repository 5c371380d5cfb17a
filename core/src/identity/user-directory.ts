/**
 * The read side of identity: who a user is, which user a SIP address
 * reaches, and the digest credentials the registrar checks. One indexed
 * query per lookup, joined on the site's domain.
 *
 * The lookups on the SIP path (`findUser`, `findByAddress`,
 * `digestCredentials`) are answered from a bounded in-memory cache: every
 * REGISTER, MESSAGE, SUBSCRIBE and PUBLISH asks them, and a REGISTER storm
 * must not become a database storm. Every identity write made through this
 * host empties the cache before and after it runs (`changed()`), so such a
 * change is seen at once; a change another host made in a shared database
 * is seen within {@link DIRECTORY_CACHE_MS}.
 */
import type { DataSource, SelectQueryBuilder } from 'typeorm';
import type { DirectoryUser } from '@switchboard/sdk';
import { SiteEntity } from '../storage/entities.ts';
import { addressKeys, normaliseName, normalisePhone } from './addresses.ts';
import { hashPassword, passwordNeedsRehash, verifyPassword } from './credentials.ts';
import { UserAddressEntity, UserEntity, type UserRecord } from './identity-entities.ts';

export type { DirectoryUser };

/** What the registrar needs to check a digest response; never the password. */
export interface DigestCredentials {
  userId: string;
  /** The site domain, used as the digest realm. */
  realm: string;
  ha1Md5: string;
  ha1Sha256: string;
}

/** A directory entry with its timestamps, as the admin API shows it. */
export interface UserView extends DirectoryUser {
  createdAt: string;
  updatedAt: string;
}

const SEARCH_LIMIT = 100;

/** How long a cached lookup is trusted without a write through this host (changes by another host sharing the database). */
export const DIRECTORY_CACHE_MS = 30_000;
/** Cached lookups kept at most; the oldest go first. */
const DIRECTORY_CACHE_ENTRIES = 100_000;

interface CacheEntry {
  /** When the load that read it started. */
  at: number;
  /** From then on a lookup that finds it starts reading it again in the background (see #cached). */
  refreshAt: number;
  row: UserRecord | undefined;
}

/**
 * The share of DIRECTORY_CACHE_MS after which a used entry is read again
 * ahead of its expiry: between half and nine tenths, drawn per entry, so
 * entries loaded together (a REGISTER storm) are not read again together.
 */
function refreshAge(): number {
  return DIRECTORY_CACHE_MS * (0.5 + Math.random() * 0.4);
}

/** A lookup's SQL, and the hydration of its rows into UserRecords. */
interface UserQuery {
  sql: string;
  hydrate: (raw: Record<string, unknown>) => UserRecord;
}

/**
 * The directory's lookups on the SIP path as plain SQL for this database,
 * from the entities' metadata (table and column names, quoting), their rows
 * hydrated by typeorm's driver (booleans, JSON columns, dates) as its query
 * builder would: users of one site (its domain the first parameter) by
 * username (`{ byName: true }`), or by `addresses` address keys in
 * user_addresses (joined on its primary key, site and address).
 */
function userQuery(ds: DataSource, by: { byName: true } | { addresses: number }): UserQuery {
  const users = ds.getMetadata(UserEntity);
  const sites = ds.getMetadata(SiteEntity);
  const addresses = ds.getMetadata(UserAddressEntity);
  const q = (name: string) => ds.driver.escape(name);
  const column = (meta: typeof users, property: string) => q(meta.findColumnWithPropertyName(property)!.databaseName);
  const selected = users.columns.map((c) => `u.${q(c.databaseName)} AS ${q(c.databaseName)}`).join(', ');
  let sql = `SELECT ${selected} FROM ${q(users.tableName)} u INNER JOIN ${q(sites.tableName)} s ON s.${column(sites, 'id')} = u.${column(users, 'siteId')}`;
  if ('byName' in by) {
    sql += ` WHERE s.${column(sites, 'domain')} = ? AND u.${column(users, 'username')} = ?`;
  } else {
    sql += ` INNER JOIN ${q(addresses.tableName)} a ON a.${column(addresses, 'userId')} = u.${column(users, 'id')} AND a.${column(addresses, 'siteId')} = u.${column(users, 'siteId')}`
      + ` WHERE s.${column(sites, 'domain')} = ? AND a.${column(addresses, 'address')} IN (${Array.from({ length: by.addresses }, () => '?').join(', ')})`;
  }
  const hydrate = (raw: Record<string, unknown>): UserRecord => {
    const record: Record<string, unknown> = {};
    for (const c of users.columns) record[c.propertyName] = ds.driver.prepareHydratedValue(raw[c.databaseName], c);
    return record as unknown as UserRecord;
  };
  return { sql, hydrate };
}

export class UserDirectory {
  readonly #ds: DataSource;
  readonly #cache = new Map<string, CacheEntry>();
  /** Loads under way, by key: lookups of one key at the same time share one query. */
  readonly #loading = new Map<string, Promise<UserRecord | undefined>>();
  /** The SIP-path lookups' SQL, built once per shape (userQuery). */
  readonly #queries = new Map<string, UserQuery>();
  /** Bumped by every write, so a read that overlapped one does not store what it read. */
  #generation = 0;
  #now: () => number;

  /** `storage` is the host's storage (anything with its typeorm DataSource). */
  constructor(storage: { dataSource: DataSource }, opts: { now?: () => number } = {}) {
    this.#ds = storage.dataSource;
    this.#now = opts.now ?? Date.now;
  }

  /** Called by identity writes (before and after each): forget every cached lookup. */
  changed(): void {
    this.#generation++;
    this.#cache.clear();
    // A load that started before the write may hold what it replaced: later lookups start their own.
    this.#loading.clear();
  }

  /** Lookups held in the cache now (fresh or not yet swept). */
  get cachedEntries(): number {
    return this.#cache.size;
  }

  /**
   * Drop the lookups older than DIRECTORY_CACHE_MS. Entries are kept in the
   * order they were stored, so this stops at the first fresh one. Runs on a
   * timer while the cache holds anything: without it every user who signed
   * in or registered once stayed cached (row, credentials and all) until
   * 100,000 others pushed it out.
   */
  sweepExpired(): void {
    const now = this.#now();
    for (const [key, entry] of this.#cache) {
      if (now - entry.at < DIRECTORY_CACHE_MS) break;
      this.#cache.delete(key);
    }
  }

  #sweepTimer?: NodeJS.Timeout;

  /** One timer at a time, due when the oldest entry expires; none while the cache is empty. */
  #armSweep(): void {
    if (this.#sweepTimer || this.#cache.size === 0) return;
    const oldest = this.#cache.values().next().value!;
    const wait = Math.min(DIRECTORY_CACHE_MS, Math.max(1000, oldest.at + DIRECTORY_CACHE_MS - this.#now()));
    this.#sweepTimer = setTimeout(() => {
      this.#sweepTimer = undefined;
      this.sweepExpired();
      this.#armSweep();
    }, wait);
    this.#sweepTimer.unref();
  }

  async findUser(siteDomain: string, username: string): Promise<DirectoryUser | undefined> {
    const row = await this.#cachedRecord(siteDomain, username);
    return row && toDirectoryUser(row, siteDomain);
  }

  /** The user `userPart` reaches: a username or alias (case-insensitive) or a phone number (separators ignored). */
  async findByAddress(siteDomain: string, userPart: string): Promise<DirectoryUser | undefined> {
    const site = siteDomain.toLowerCase();
    const row = await this.#cached(`a\u0000${site}\u0000${userPart.toLowerCase()}`, () => this.#byAddress(site, userPart));
    return row && toDirectoryUser(row, site);
  }

  async #byAddress(siteDomain: string, userPart: string): Promise<UserRecord | undefined> {
    const keys = addressKeys(userPart);
    // a.siteId in the join lets the database find the address by its primary key (site, address);
    // without it SQLite walked every user of the site (1.6 ms per lookup at 5,100 users).
    const rows = await this.#query({ addresses: keys.length }, [siteDomain.toLowerCase(), ...keys]);
    // Both a name and a phone key can hit (two users); the name form is the more specific.
    for (const key of keys) {
      const row = rows.find((r) => r.username === key || r.aliases.includes(key) || r.phone === key);
      if (row) return row;
    }
    return undefined;
  }

  /** HA1 values for digest authentication; undefined for an unknown or disabled user. */
  async digestCredentials(siteDomain: string, username: string): Promise<DigestCredentials | undefined> {
    const row = await this.#cachedRecord(siteDomain, username);
    if (!row || !row.enabled) return undefined;
    return { userId: row.id, realm: siteDomain.toLowerCase(), ha1Md5: row.ha1Md5, ha1Sha256: row.ha1Sha256 };
  }

  /** Users whose display name, username, alias, phone or e-mail contains `q`, case-insensitive; at most 100. */
  async search(siteDomain: string, q: string): Promise<DirectoryUser[]> {
    const needle = q.trim().toLowerCase();
    if (needle === '') return this.list(siteDomain);
    const like = `%${needle.replace(/[!%_]/g, (c) => `!${c}`)}%`;
    const phone = normalisePhone(needle);
    const phoneLike = phone ? `%${phone}%` : like;
    // '!' as the LIKE escape: backslash means different things in MySQL and SQLite string literals.
    const rows = await this.#users(siteDomain)
      .andWhere(`(LOWER(u.displayName) LIKE :like ESCAPE '!' OR u.username LIKE :like ESCAPE '!' OR LOWER(u.email) LIKE :like ESCAPE '!'
        OR u.id IN (SELECT ua.user_id FROM user_addresses ua WHERE ua.site_id = u.siteId AND (ua.address LIKE :like ESCAPE '!' OR ua.address LIKE :phoneLike ESCAPE '!')))`,
      { like, phoneLike })
      .orderBy('u.username', 'ASC')
      .take(SEARCH_LIMIT)
      .getMany();
    return rows.map((r) => toDirectoryUser(r, siteDomain));
  }

  async list(siteDomain: string): Promise<DirectoryUser[]> {
    const rows = await this.#users(siteDomain).orderBy('u.username', 'ASC').getMany();
    return rows.map((r) => toDirectoryUser(r, siteDomain));
  }

  /** The user when the password is right and the account enabled (HTTP sign-in). */
  async checkPassword(siteDomain: string, username: string, password: string): Promise<DirectoryUser | undefined> {
    const row = await this.record(siteDomain, username);
    if (!row) return undefined;
    const ok = await verifyPassword(password, row.passwordHash);
    if (!ok || !row.enabled) return undefined;
    if (passwordNeedsRehash(row.passwordHash)) {
      // Made with weaker parameters than new hashes get: the password is known now, so store a hash of today's kind.
      // If that write fails the old hash stays valid and the next sign-in tries again; this one still succeeds.
      this.changed();
      try {
        await this.#ds.getRepository(UserEntity).update({ id: row.id }, { passwordHash: await hashPassword(password) });
      } catch {
        /* kept the older hash */
      }
      this.changed();
    }
    return toDirectoryUser(row, siteDomain);
  }

  /**
   * The stored row by username, credentials included; core-internal. On the
   * SIP path (every cache miss of a REGISTER storm) this and #byAddress are
   * plain SQL (userQuery): building the query through typeorm's query
   * builder cost about half a millisecond of the main thread per lookup, and
   * 5,000 phones coming back at once missed together.
   */
  async record(siteDomain: string, username: string): Promise<UserRecord | undefined> {
    const rows = await this.#query({ byName: true }, [siteDomain.toLowerCase(), normaliseName(username)]);
    return rows[0];
  }

  async #query(by: { byName: true } | { addresses: number }, parameters: string[]): Promise<UserRecord[]> {
    const key = 'byName' in by ? 'name' : `addresses ${by.addresses}`;
    let query = this.#queries.get(key);
    if (!query) this.#queries.set(key, (query = userQuery(this.#ds, by)));
    const rows = (await this.#ds.query(query.sql, parameters)) as Array<Record<string, unknown>>;
    return rows.map(query.hydrate);
  }

  #cachedRecord(siteDomain: string, username: string): Promise<UserRecord | undefined> {
    const site = siteDomain.toLowerCase();
    return this.#cached(`u\u0000${site}\u0000${normaliseName(username)}`, () => this.record(site, username));
  }

  /**
   * The row for `key`, from the cache when fresh. Rows are never handed out:
   * callers get new objects built from them, so nobody can change a cached row.
   *
   * A fresh entry past its refresh age is answered from the cache and read
   * again in the background, so the users a server keeps seeing (phones
   * re-registering) never miss: without it the entries a REGISTER storm
   * loaded all expired together 30 s later, and thousands of queries at once
   * held up the SIP answers behind them (the engine's pending-request bound
   * then answered 503).
   */
  async #cached(key: string, load: () => Promise<UserRecord | undefined>): Promise<UserRecord | undefined> {
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit && now - hit.at < DIRECTORY_CACHE_MS) {
      if (now >= hit.refreshAt) this.#load(key, load).catch(() => undefined);
      return hit.row;
    }
    return this.#load(key, load);
  }

  /** One load of `key` at a time; what it read is kept unless a write overlapped it. */
  #load(key: string, load: () => Promise<UserRecord | undefined>): Promise<UserRecord | undefined> {
    const under = this.#loading.get(key);
    if (under) return under;
    const generation = this.#generation;
    const at = this.#now();
    const loading = load().then((row) => {
      if (generation === this.#generation) {
        this.#cache.delete(key);
        if (this.#cache.size >= DIRECTORY_CACHE_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
        this.#cache.set(key, { at, refreshAt: at + refreshAge(), row });
        this.#armSweep();
      }
      return row;
    }).finally(() => {
      if (this.#loading.get(key) === loading) this.#loading.delete(key);
    });
    this.#loading.set(key, loading);
    return loading;
  }

  async view(siteDomain: string, username: string): Promise<UserView | undefined> {
    const row = await this.record(siteDomain, username);
    return row && toUserView(row, siteDomain);
  }

  async views(siteDomain: string, q?: string): Promise<UserView[]> {
    const users = q ? await this.search(siteDomain, q) : await this.list(siteDomain);
    if (users.length === 0) return [];
    const rows = await this.#users(siteDomain).andWhere('u.id IN (:...ids)', { ids: users.map((u) => u.id) }).orderBy('u.username', 'ASC').getMany();
    return rows.map((r) => toUserView(r, siteDomain));
  }

  #users(siteDomain: string): SelectQueryBuilder<UserRecord> {
    return this.#ds.getRepository(UserEntity).createQueryBuilder('u')
      .innerJoin('Site', 's', 's.id = u.siteId')
      .where('s.domain = :domain', { domain: siteDomain.toLowerCase() });
  }
}

export function toDirectoryUser(row: UserRecord, siteDomain: string): DirectoryUser {
  const site = siteDomain.toLowerCase();
  return {
    id: row.id,
    site,
    username: row.username,
    displayName: row.displayName,
    sipUri: `sip:${row.username}@${site}`,
    aliases: [...row.aliases],
    ...(row.phone ? { phone: row.phone } : {}),
    ...(row.email ? { email: row.email } : {}),
    groups: [...row.groups],
    role: row.role,
    enabled: Boolean(row.enabled),
  };
}

export function toUserView(row: UserRecord, siteDomain: string): UserView {
  return { ...toDirectoryUser(row, siteDomain), createdAt: new Date(row.createdAt).toISOString(), updatedAt: new Date(row.updatedAt).toISOString() };
}
