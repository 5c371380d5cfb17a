/**
 * The in-process event bus. Live subscriptions are fire-and-forget; durable
 * ones go through the outbox table: a row per (event, consumer), deleted
 * once the consumer's handler resolved, so delivery is at-least-once and
 * survives a restart.
 */
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { ConsumerEntity, OutboxEntity, type OutboxRow } from './outbox-entities.ts';

export interface EventMetaOut {
  topic: string;
  publisher: string;
  id?: string;
}

export type BusHandler = (payload: unknown, meta: EventMetaOut) => unknown | Promise<unknown>;

/** How the bus runs subscriber code: the host supplies deadlines and breaker accounting. */
export interface SubscriberRunner {
  /** Whether the owning plugin may receive events now. */
  isActive(pluginId: string): boolean;
  /** Run the handler contained; rejects on throw or timeout. */
  run(pluginId: string, work: () => unknown): Promise<void>;
}

interface LiveSubscription {
  pluginId: string;
  handler: BusHandler;
}

interface DurableConsumer {
  key: string;
  pluginId: string;
  topic: string;
  handler: BusHandler;
  draining: boolean;
  again: boolean;
  retryTimer?: NodeJS.Timeout;
  failures: number;
}

const BATCH = 50;
const MAX_RETRY_MS = 30_000;

export class EventBus {
  readonly #ds: DataSource;
  readonly #log: Logger;
  readonly #runner: SubscriberRunner;
  readonly #live = new Map<string, LiveSubscription[]>();
  readonly #durable = new Map<string, DurableConsumer>();
  /** topic → consumer keys known in the database (also those not subscribed in this run). */
  readonly #consumersByTopic = new Map<string, Set<string>>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(ds: DataSource, log: Logger, runner: SubscriberRunner) {
    this.#ds = ds;
    this.#log = log;
    this.#runner = runner;
  }

  /** Load consumers registered in earlier runs so their events keep queueing. */
  async open(): Promise<void> {
    for (const row of await this.#ds.getRepository(ConsumerEntity).find()) {
      this.#remember(row.topic, row.consumer);
    }
  }

  subscribe(pluginId: string, topic: string, handler: BusHandler): void {
    const list = this.#live.get(topic) ?? [];
    list.push({ pluginId, handler });
    this.#live.set(topic, list);
  }

  async subscribeDurable(pluginId: string, topic: string, consumerName: string, handler: BusHandler): Promise<void> {
    const key = `${pluginId}:${consumerName}`;
    const repo = this.#ds.getRepository(ConsumerEntity);
    if (!(await repo.findOneBy({ consumer: key }))) await repo.insert({ consumer: key, topic });
    this.#remember(topic, key);
    this.#durable.set(key, { key, pluginId, topic, handler, draining: false, again: false, failures: 0 });
    this.kick(key);
  }

  async publish(publisher: string, topic: string, payload: unknown): Promise<void> {
    if (this.#closed) return;
    const serialized = JSON.stringify(payload ?? null);
    const consumers = [...(this.#consumersByTopic.get(topic) ?? [])];
    if (consumers.length > 0) {
      await this.#ds.getRepository(OutboxEntity).insert(
        consumers.map((consumer) => ({ consumer, topic, publisher, payload: serialized, attempts: 0 })),
      );
      for (const key of consumers) this.kick(key);
    }
    for (const sub of this.#live.get(topic) ?? []) {
      if (!this.#runner.isActive(sub.pluginId)) continue;
      // A fresh copy per subscriber so one cannot mutate what another sees.
      const copy = JSON.parse(serialized) as unknown;
      this.#track(
        this.#runner.run(sub.pluginId, () => sub.handler(copy, { topic, publisher })).catch((err: unknown) => {
          this.#log.warn({ err, plugin: sub.pluginId, topic }, 'live event handler failed');
        }),
      );
    }
  }

  /** Deliver pending events of one consumer (or all, after a plugin came back). */
  kick(key?: string): void {
    if (this.#closed) return;
    const targets = key ? [this.#durable.get(key)].filter((c): c is DurableConsumer => !!c) : [...this.#durable.values()];
    for (const consumer of targets) {
      if (consumer.draining) {
        consumer.again = true;
        continue;
      }
      this.#track(this.#drain(consumer));
    }
  }

  /** Stop delivering and wait for handlers already running. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const consumer of this.#durable.values()) clearTimeout(consumer.retryTimer);
    await Promise.allSettled([...this.#inFlight]);
  }

  #remember(topic: string, key: string): void {
    const set = this.#consumersByTopic.get(topic) ?? new Set<string>();
    set.add(key);
    this.#consumersByTopic.set(topic, set);
  }

  #track(p: Promise<unknown>): void {
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }

  async #drain(consumer: DurableConsumer): Promise<void> {
    consumer.draining = true;
    try {
      do {
        consumer.again = false;
        if (this.#closed || !this.#runner.isActive(consumer.pluginId)) return;
        const rows = await this.#ds.getRepository(OutboxEntity).find({
          where: { consumer: consumer.key },
          order: { id: 'ASC' },
          take: BATCH,
        });
        for (const row of rows) {
          if (this.#closed) return;
          if (!(await this.#deliver(consumer, row))) return;
        }
        if (rows.length === BATCH) consumer.again = true;
      } while (consumer.again);
    } catch (err) {
      this.#log.error({ err, consumer: consumer.key }, 'outbox drain failed');
    } finally {
      consumer.draining = false;
    }
  }

  /** Returns false when delivery failed and a retry was scheduled. */
  async #deliver(consumer: DurableConsumer, row: OutboxRow): Promise<boolean> {
    const repo = this.#ds.getRepository(OutboxEntity);
    try {
      const payload = JSON.parse(row.payload) as unknown;
      await this.#runner.run(consumer.pluginId, () =>
        consumer.handler(payload, { topic: row.topic, publisher: row.publisher, id: String(row.id) }),
      );
    } catch (err) {
      consumer.failures += 1;
      await repo.update({ id: row.id }, { attempts: row.attempts + 1 });
      const delay = Math.min(MAX_RETRY_MS, 100 * 2 ** Math.min(consumer.failures, 10));
      this.#log.warn({ err, consumer: consumer.key, event: row.id, retryInMs: delay }, 'durable event handler failed; will redeliver');
      consumer.retryTimer = setTimeout(() => this.kick(consumer.key), delay);
      consumer.retryTimer.unref();
      return false;
    }
    consumer.failures = 0;
    await repo.delete({ id: row.id });
    return true;
  }
}
