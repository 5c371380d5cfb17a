/**
 * Identifiers the engine hands to apps (transaction ids, wire message ids).
 * They must be unique, not secret: a per-process random prefix plus a
 * counter is as unique as a UUID and costs no entropy per message.
 */
import { randomBytes } from 'node:crypto';

const prefix = randomBytes(6).toString('hex');
let counter = 0;

export function nextId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}-${counter.toString(36)}`;
}
