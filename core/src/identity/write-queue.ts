/**
 * Runs identity writes one at a time. On SQLite typeorm shares a single
 * query runner, so two overlapping `dataSource.transaction` calls would nest
 * as savepoints of one transaction and a rollback of one could take the
 * other's rows with it; queuing keeps every transaction whole.
 */
export class WriteQueue {
  #tail: Promise<unknown> = Promise.resolve();
  readonly #around: (() => void) | undefined;

  /** `around` runs just before and just after each write (e.g. to drop cached reads). */
  constructor(around?: () => void) {
    this.#around = around;
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    const around = this.#around;
    const next = this.#tail.then(around ? async () => {
      around();
      try {
        return await work();
      } finally {
        around();
      }
    } : work);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}
