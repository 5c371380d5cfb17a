import { isAbsolute, resolve } from 'node:path';
import { coreError } from '../errors.ts';

export type StorageKind = 'sqlite' | 'mysql';

export type StorageTarget =
  | { kind: 'sqlite'; /** A file path, or `:memory:`. */ database: string }
  | { kind: 'mysql'; host: string; port: number; username: string; password: string; database: string };

/**
 * `sqlite:PATH` (relative to baseDir), `sqlite::memory:`, or
 * `mysql://user:pass@host:port/db` (also `mariadb://`; user and password are
 * URL-decoded).
 */
export function parseStorageUrl(url: string, baseDir: string = process.cwd()): StorageTarget {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '') throw coreError('CORE_ERR_STORAGE_URL_INVALID', `"${url}" has no path`);
    if (path === ':memory:') return { kind: 'sqlite', database: ':memory:' };
    return { kind: 'sqlite', database: isAbsolute(path) ? path : resolve(baseDir, path) };
  }
  if (/^(mysql|mariadb):\/\//.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw coreError('CORE_ERR_STORAGE_URL_INVALID', `"${redact(url)}" is not a URL`);
    }
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    if (!parsed.hostname || !database || database.includes('/')) {
      throw coreError('CORE_ERR_STORAGE_URL_INVALID', `"${redact(url)}" needs a host and a database name`);
    }
    return {
      kind: 'mysql',
      host: parsed.hostname.replace(/^\[|\]$/g, ''),
      port: parsed.port ? Number(parsed.port) : 3306,
      username: decodeURIComponent(parsed.username) || 'root',
      password: decodeURIComponent(parsed.password),
      database,
    };
  }
  throw coreError('CORE_ERR_STORAGE_URL_INVALID', `"${redact(url)}"`);
}

/** Error messages end up in logs: never print the password. */
export function redact(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
