/**
 * Secrets the host generates once and keeps in its database, such as the
 * key that signs bearer tokens: random at first start (never a constant in
 * code or config), the same after every restart and on every host of a pool
 * that shares the database.
 */
import { randomBytes } from 'node:crypto';
import { EntitySchema, type DataSource } from 'typeorm';

interface HostSecretRow {
  name: string;
  /** base64url */
  value: string;
}

export const HostSecretEntity = new EntitySchema<HostSecretRow>({
  name: 'HostSecret',
  tableName: 'host_secrets',
  columns: {
    name: { type: 'varchar', length: 64, primary: true },
    value: { type: 'varchar', length: 255 },
  },
});

/** The secret `name`, created with `bytes` random bytes if the database has none yet. */
export async function hostSecret(ds: DataSource, name: string, bytes = 32): Promise<Buffer> {
  const repo = ds.getRepository(HostSecretEntity);
  const existing = await repo.findOneBy({ name });
  if (existing) return Buffer.from(existing.value, 'base64url');
  try {
    await repo.insert({ name, value: randomBytes(bytes).toString('base64url') });
  } catch (err) {
    // Another host of the pool created it between our read and insert; theirs wins.
    if (!(await repo.findOneBy({ name }))) throw err;
  }
  const stored = await repo.findOneByOrFail({ name });
  return Buffer.from(stored.value, 'base64url');
}
