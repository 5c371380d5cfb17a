/**
 * Runs identity writes one at a time. On SQLite typeorm shares a single
 * query runner, so two overlapping `dataSource.transaction` calls would nest
 * as savepoints of one transaction and a rollback of one could take the
 * other's rows with it; queuing keeps every transaction whole.
 */
export class WriteQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(work);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}
