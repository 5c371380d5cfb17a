/**
 * Publisher keys an admin trusts: every `*.pem` in the trust folder holding
 * an ed25519 public key, indexed by key id. A key id is derived from the key
 * itself, so renaming a file cannot make one key pass for another.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { keyIdOf } from './signing.ts';

export interface TrustedKey {
  keyId: string;
  file: string;
  key: KeyObject;
}

export async function loadTrustStore(dir: string, log?: Logger): Promise<Map<string, TrustedKey>> {
  const keys = new Map<string, TrustedKey>();
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.pem')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return keys;
    throw err;
  }
  for (const name of files) {
    const file = join(dir, name);
    try {
      const key = createPublicKey(await readFile(file, 'utf8'));
      if (key.asymmetricKeyType !== 'ed25519') {
        log?.warn({ file }, 'trust folder: not an ed25519 public key, ignored');
        continue;
      }
      const keyId = keyIdOf(key);
      keys.set(keyId, { keyId, file, key });
    } catch (err) {
      log?.warn({ file, err }, 'trust folder: unreadable public key, ignored');
    }
  }
  return keys;
}
