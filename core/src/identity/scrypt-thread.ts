/**
 * scrypt on one thread of its own instead of libuv's pool. A hash with
 * N=16384, r=8 allocated 16 MiB; on the pool, every one of its four threads
 * ended up holding such a block in its own malloc arena after the hash was
 * done (glibc raises its mmap threshold after the first free), so four
 * sign-ins left a host about 100 MiB larger for good. One thread keeps that
 * to one arena (and new hashes, N=32768, are too large for glibc to keep:
 * see admin-users.ts). Hashes run one after another there, which also bounds
 * how much CPU and memory a burst of sign-ins can take; the thread stops
 * after a quiet minute and starts again on the next hash.
 */
import { Worker } from 'node:worker_threads';
import { keepYoungGenerationSmall, workerResourceLimits } from '../threads/young-generation.ts';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

// Plain CommonJS, evaluated by the worker: no file to find next to a bundle.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
parentPort.on('message', (m) => {
  try {
    const key = scryptSync(m.password, Buffer.from(m.salt), m.keylen, { N: m.N, r: m.r, p: m.p, maxmem: m.maxmem });
    parentPort.postMessage({ id: m.id, key });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: err && err.message ? err.message : String(err) });
  }
});
`;

const IDLE_MS = 60_000;
/** Enough for N=32768, r=8 (32 MiB); a stored hash asking for more fails instead of eating memory. */
const MAX_MEM = 64 * 1024 * 1024;

interface Pending {
  resolve(key: Buffer): void;
  reject(err: Error): void;
}

class ScryptThread {
  #worker: Worker | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #idle: NodeJS.Timeout | undefined;

  hash(password: string, salt: Buffer, keylen: number, params: ScryptParams): Promise<Buffer> {
    const worker = this.#ensure();
    const id = this.#nextId++;
    clearTimeout(this.#idle);
    this.#idle = undefined;
    worker.ref();
    return new Promise<Buffer>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, password, salt: new Uint8Array(salt), keylen, N: params.N, r: params.r, p: params.p, maxmem: MAX_MEM });
    });
  }

  #ensure(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'switchboard-scrypt', resourceLimits: workerResourceLimits() });
    keepYoungGenerationSmall(worker);
    worker.on('message', (m: { id: number; key?: Uint8Array; error?: string }) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.key) p.resolve(Buffer.from(m.key.buffer, m.key.byteOffset, m.key.byteLength));
      else p.reject(new Error(m.error ?? 'scrypt failed'));
      if (this.#pending.size === 0) this.#rest(worker);
    });
    const fail = (err: Error): void => {
      if (this.#worker === worker) this.#worker = undefined;
      clearTimeout(this.#idle);
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the scrypt thread exited (${code})`)));
    this.#worker = worker;
    return worker;
  }

  /** Stops the thread now if nothing is in flight (what the quiet minute would do); true when no thread is left. */
  async stopIfIdle(): Promise<boolean> {
    const worker = this.#worker;
    if (!worker) return true;
    if (this.#pending.size > 0) return false;
    clearTimeout(this.#idle);
    this.#worker = undefined;
    await worker.terminate();
    return true;
  }

  /** Nothing in flight: let the process exit without it, and stop it after a quiet minute. */
  #rest(worker: Worker): void {
    worker.unref();
    this.#idle = setTimeout(() => {
      if (this.#worker !== worker || this.#pending.size > 0) return;
      this.#worker = undefined;
      void worker.terminate();
    }, IDLE_MS);
    this.#idle.unref();
  }
}

const thread = new ScryptThread();

/** scrypt(password, salt) on the process's scrypt thread. */
export function scryptOnThread(password: string, salt: Buffer, keylen: number, params: ScryptParams): Promise<Buffer> {
  return thread.hash(password, salt, keylen, params);
}

/**
 * Stops the scrypt thread at once when it has nothing to do (it would stop
 * by itself after a quiet minute). For memory readings of a host at rest,
 * which should not depend on how long ago the last sign-in was.
 */
export function stopScryptThreadIfIdle(): Promise<boolean> {
  return thread.stopIfIdle();
}
