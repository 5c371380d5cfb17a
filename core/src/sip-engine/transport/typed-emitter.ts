import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

type EventMap<E> = { [K in keyof E]: unknown[] };

/**
 * An emitter typed by an event map. A listener that throws is logged and the
 * others still run; an `error` with nobody listening is logged, not thrown,
 * so no socket problem can take the process down.
 */
export class TypedEmitter<E extends EventMap<E>> {
  readonly #ee = new EventEmitter();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#ee.setMaxListeners(0);
    this.#log = log;
  }

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): void {
    this.#ee.on(event, listener as (...args: unknown[]) => void);
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): void {
    this.#ee.once(event, listener as (...args: unknown[]) => void);
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): void {
    this.#ee.off(event, listener as (...args: unknown[]) => void);
  }

  listenerCount(event: keyof E & string): number {
    return this.#ee.listenerCount(event);
  }

  emit<K extends keyof E & string>(event: K, ...args: E[K]): void {
    const listeners = this.#ee.rawListeners(event) as Array<((...a: unknown[]) => void) & { listener?: unknown }>;
    if (listeners.length === 0) {
      if (event === 'error') this.#log.warn({ err: args[0] }, 'transport error with no listener');
      return;
    }
    for (const l of listeners) {
      try {
        // rawListeners keeps once-wrappers, which remove themselves when called
        l.apply(this.#ee, args);
      } catch (err) {
        this.#log.error({ err, event }, 'transport event listener threw');
      }
    }
  }
}
