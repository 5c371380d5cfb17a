/**
 * Running plugin code so that one plugin cannot stall or crash the host:
 * every call gets a deadline and its failure is reported, never thrown past
 * the caller that asked for containment.
 */

/** Raised when plugin code does not settle before its deadline. */
export class HandlerTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`handler did not settle within ${timeoutMs} ms`);
    this.name = 'HandlerTimeoutError';
  }
}

/**
 * Await `work()` but give up after `timeoutMs`. The plugin's promise keeps
 * running in the background (JS cannot cancel it); the caller moves on.
 */
export async function withDeadline<T>(work: () => T | Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandlerTimeoutError(timeoutMs)), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([Promise.resolve().then(work), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A readable one-line reason from anything thrown. */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
