/**
 * Tables behind durable subscriptions. A consumer row outlives the process,
 * so events published while its plugin is down are still queued for it.
 */
import { EntitySchema } from 'typeorm';

export interface OutboxRow {
  id: number;
  consumer: string;
  topic: string;
  publisher: string;
  payload: string;
  attempts: number;
  createdAt: Date;
}

export const OutboxEntity = new EntitySchema<OutboxRow>({
  name: 'EventOutbox',
  tableName: 'event_outbox',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    consumer: { type: 'varchar', length: 200 },
    topic: { type: 'varchar', length: 200 },
    publisher: { type: 'varchar', length: 200 },
    payload: { type: 'text' },
    attempts: { type: 'integer', default: 0 },
    createdAt: { type: 'datetime', name: 'created_at', createDate: true },
  },
  indices: [{ name: 'idx_event_outbox_consumer', columns: ['consumer', 'id'] }],
});

export interface ConsumerRow {
  consumer: string;
  topic: string;
}

export const ConsumerEntity = new EntitySchema<ConsumerRow>({
  name: 'EventConsumer',
  tableName: 'event_consumers',
  columns: {
    consumer: { type: 'varchar', length: 200, primary: true },
    topic: { type: 'varchar', length: 200 },
  },
});
