/**
 * Keeps a plugin's `ctx.db` on its own tables. Every typeorm object a plugin
 * receives (repository, and whatever it leads to: manager, query builder,
 * data source, query runner) is wrapped so its calls run with the plugin's
 * id in an AsyncLocalStorage; the data source's query runners check each
 * SQL statement run under a plugin id against the tables it may touch.
 *
 * This guards against mistakes and casual reach across plugins, not against
 * hostile code: a plugin runs in the host's process and could open the
 * database file itself. Core queries (no plugin id) are never checked.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource } from 'typeorm';
import { coreError } from '../errors.ts';

/** A plugin as the guard sees it: an id and the table prefix it owns. */
export interface TableOwner {
  readonly id: string;
  readonly tablePrefix: string;
}

export interface DbGuardOptions {
  /** Every known plugin (for other plugins' prefixes). */
  owners(): Iterable<TableOwner>;
  /** Tables of the core, never reachable from a plugin. */
  coreTables: readonly string[];
}

/** Database catalogues no plugin needs: reading them reveals other plugins' tables. */
const SYSTEM_NAMES = new Set(['sqlite_master', 'sqlite_schema', 'sqlite_temp_master', 'information_schema', 'mysql', 'performance_schema', 'sys']);
/** Keywords after which a statement names a table. */
const TABLE_POSITION = new Set(['from', 'join', 'into', 'update', 'table']);

type AnyFn = (...args: unknown[]) => unknown;

export class PluginDbGuard {
  readonly #als = new AsyncLocalStorage<string>();
  readonly #options: DbGuardOptions;
  readonly #coreTables: Set<string>;
  readonly #proxies = new Map<string, WeakMap<object, object>>();
  readonly #patched = new WeakSet<object>();

  constructor(options: DbGuardOptions) {
    this.#options = options;
    this.#coreTables = new Set(options.coreTables.map((t) => t.toLowerCase()));
  }

  /** Check SQL run by query runners of `ds` while a plugin's call is under way. */
  install(ds: DataSource): void {
    const driver = ds.driver as unknown as { createQueryRunner: AnyFn; queryRunner?: object };
    const create = driver.createQueryRunner;
    driver.createQueryRunner = (...args: unknown[]) => this.#patchRunner(create.apply(driver, args) as object);
    if (driver.queryRunner) this.#patchRunner(driver.queryRunner);
  }

  /** Run `work` as core code: queries in it are not checked (e.g. ctx.events writing the outbox). */
  asCore<T>(work: () => T): T {
    return this.#als.exit(work);
  }

  /** Wrap a typeorm object handed to plugin `pluginId`. Anything else is returned as is. */
  wrap<T>(value: T, pluginId: string): T {
    if (!isTypeormObject(value)) return value;
    let cache = this.#proxies.get(pluginId);
    if (!cache) this.#proxies.set(pluginId, (cache = new WeakMap()));
    const known = cache.get(value);
    if (known) return known as T;
    const proxy = new Proxy(value, {
      get: (target, prop) => {
        const member = Reflect.get(target, prop, target) as unknown;
        if (typeof member !== 'function') return this.wrap(member, pluginId);
        // Classes (e.g. metadata.target) stay as they are; methods run as the plugin, on the real object.
        if (/^class\b/.test(Function.prototype.toString.call(member))) return member;
        return (...args: unknown[]) => this.wrap(this.#als.run(pluginId, () => (member as AnyFn).apply(target, args)), pluginId);
      },
    });
    cache.set(value, proxy);
    return proxy as T;
  }

  /** Throws CORE_ERR_DB_TABLE_NOT_OWNED when `sql` names a table `pluginId` does not own. */
  check(pluginId: string, sql: string): void {
    const owners = [...this.#options.owners()];
    const mine = owners.find((o) => o.id === pluginId)?.tablePrefix;
    if (!mine) return;
    const tokens = identifiers(sql);
    for (let i = 0; i < tokens.length; i++) {
      const { name, quoted } = tokens[i]!;
      const owner = ownerOf(name, owners);
      if (owner === pluginId) continue;
      const { tablePosition } = tokens[i]!;
      const foreign = owner !== undefined || this.#coreTables.has(name) || SYSTEM_NAMES.has(name);
      if (foreign || (tablePosition && (quoted || !isKeyword(name)))) {
        throw coreError('CORE_ERR_DB_TABLE_NOT_OWNED', `${pluginId} touched "${name}"; its tables start with "${mine}"`, { plugin: pluginId, table: name });
      }
    }
  }

  #patchRunner(runner: object): object {
    if (this.#patched.has(runner)) return runner;
    this.#patched.add(runner);
    const r = runner as Record<string, AnyFn>;
    for (const method of ['query', 'stream'] as const) {
      const original = r[method];
      if (typeof original !== 'function') continue;
      r[method] = (...args: unknown[]) => {
        const pluginId = this.#als.getStore();
        if (pluginId !== undefined && typeof args[0] === 'string') {
          try {
            this.check(pluginId, args[0]);
          } catch (err) {
            return Promise.reject(err);
          }
        }
        return original.apply(runner, args);
      };
    }
    return runner;
  }
}

/** The plugin whose prefix `table` has (longest prefix wins: `a_b_x` is `a-b`'s, not `a`'s). */
function ownerOf(table: string, owners: readonly TableOwner[]): string | undefined {
  let best: TableOwner | undefined;
  for (const o of owners) {
    if (table.startsWith(o.tablePrefix) && (!best || o.tablePrefix.length > best.tablePrefix.length)) best = o;
  }
  return best?.id;
}

interface Token {
  name: string;
  quoted: boolean;
  /** Where a table name would stand: right after FROM, JOIN, INTO, UPDATE or TABLE. */
  tablePosition: boolean;
}

/**
 * Identifiers of a statement, lowercased, after dropping string literals and
 * comments. In `a.b` both parts are returned; `b` stands where `a` stood, so
 * `FROM db.other_table` is judged by `other_table` (and `db` by the other rules).
 */
function identifiers(sql: string): Token[] {
  const cleaned = sql
    .replace(/'(?:[^'\\]|\\.|'')*'/g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ');
  const out: Token[] = [];
  const pattern = /"((?:[^"]|"")+)"|`((?:[^`]|``)+)`|\[([^\]]+)\]|([A-Za-z_][A-Za-z0-9_$]*)|(\S)/g;
  let afterTableKeyword = false;
  let afterDot = false;
  let carried = false;
  for (let m = pattern.exec(cleaned); m; m = pattern.exec(cleaned)) {
    const name = m[1] ?? m[2] ?? m[3] ?? m[4];
    if (name === undefined) {
      afterDot = m[5] === '.';
      if (!afterDot) {
        afterTableKeyword = false;
        carried = false;
      }
      continue;
    }
    const quoted = m[4] === undefined;
    const lower = name.toLowerCase();
    const position: boolean = afterDot ? carried : afterTableKeyword;
    const qualifier = cleaned[pattern.lastIndex] === '.';
    out.push({ name: lower, quoted, tablePosition: position && !qualifier });
    carried = position;
    afterDot = false;
    afterTableKeyword = !quoted && TABLE_POSITION.has(lower);
  }
  return out;
}

/** Words that may follow FROM/INTO/… without naming a table (subqueries, SQLite/MySQL syntax). */
function isKeyword(name: string): boolean {
  return ['select', 'with', 'values', 'lateral', 'dual', 'ignore', 'only', 'if', 'exists', 'not', 'temporary', 'temp'].includes(name);
}

function isTypeormObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  if (typeof (value as { then?: unknown }).then === 'function') return false;
  const name = (value as object).constructor?.name ?? '';
  return /(Repository|EntityManager|QueryBuilder|DataSource|Connection|QueryRunner|EntityMetadata|Driver)$/.test(name);
}
