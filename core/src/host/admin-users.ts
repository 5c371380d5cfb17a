/**
 * Admin accounts. Only the bootstrap admin exists today; passwords are
 * stored as scrypt hashes so a leaked database does not leak credentials.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { EntitySchema, type DataSource } from 'typeorm';
import { scryptOnThread as scrypt } from '../identity/scrypt-thread.ts';

export interface AdminUserRow {
  username: string;
  passwordHash: string;
  role: string;
  createdAt: Date;
}

export const AdminUserEntity = new EntitySchema<AdminUserRow>({
  name: 'AdminUser',
  tableName: 'admin_users',
  columns: {
    username: { type: 'varchar', length: 64, primary: true },
    passwordHash: { type: 'varchar', length: 255, name: 'password_hash' },
    role: { type: 'varchar', length: 32 },
    createdAt: { type: 'datetime', name: 'created_at', createDate: true },
  },
});

/**
 * N=32768, r=8: 32 MiB of memory per hash. Besides being the stronger
 * setting, the size matters to the host's memory: glibc serves a block over
 * its largest mmap threshold (32 MiB) with mmap and returns it to the system
 * when freed, whereas after freeing a 16 MiB block (N=16384) it raises its
 * thresholds and keeps the next one in the thread's arena for good — about
 * 15 MiB of a registrar's resident memory for the rest of its life.
 * Hashes made with weaker parameters still verify, and are replaced at the
 * next successful sign-in (passwordNeedsRehash).
 */
const SCRYPT = { N: 32768, r: 8, p: 1 };
const KEYLEN = 32;

/** `scrypt$N$r$p$salt$hash`, all base64url; the parameters travel with the hash so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, KEYLEN, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** The stored hash was made with other parameters than new hashes get: hash the password again once it is known to be right. */
export function passwordNeedsRehash(stored: string): boolean {
  const [kind, n, r, p] = stored.split('$');
  return kind !== 'scrypt' || Number(n) !== SCRYPT.N || Number(r) !== SCRYPT.r || Number(p) !== SCRYPT.p;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n), r: Number(r), p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export interface BootstrapResult {
  /** Set only when a random password was generated and must be shown once. */
  generatedPassword?: string;
  created: boolean;
}

/**
 * Create `admin` on first start. An existing admin is left alone: changing
 * admin.password later must not silently reset a password set elsewhere.
 */
export async function bootstrapAdmin(ds: DataSource, configuredPassword: string | undefined): Promise<BootstrapResult> {
  const repo = ds.getRepository(AdminUserEntity);
  if (await repo.findOneBy({ username: 'admin' })) return { created: false };
  const generated = configuredPassword ? undefined : randomBytes(18).toString('base64url');
  const passwordHash = await hashPassword(configuredPassword ?? generated!);
  await repo.insert({ username: 'admin', passwordHash, role: 'admin' });
  return { created: true, ...(generated ? { generatedPassword: generated } : {}) };
}

export async function checkAdminCredentials(ds: DataSource, username: string, password: string): Promise<AdminUserRow | undefined> {
  const user = await ds.getRepository(AdminUserEntity).findOneBy({ username });
  if (!user) {
    // Hash anyway so a missing user costs the same time as a wrong password.
    await hashPassword(password);
    return undefined;
  }
  if (!(await verifyPassword(password, user.passwordHash))) return undefined;
  if (passwordNeedsRehash(user.passwordHash)) {
    // The older hash stays valid if this write fails; the next sign-in tries again.
    try {
      const passwordHash = await hashPassword(password);
      await ds.getRepository(AdminUserEntity).update({ username }, { passwordHash });
      return { ...user, passwordHash };
    } catch {
      return user;
    }
  }
  return user;
}
