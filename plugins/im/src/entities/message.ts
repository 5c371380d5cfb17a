import { EntitySchema } from 'typeorm';

/** One accepted message, kept as history for its sender and recipients. */
export interface ImMessage {
  id: number;
  site: string;
  /** `pair:<a>:<b>` for pager mode (usernames sorted), else a conversation id. */
  conversationId: string;
  /** Username of the sender. */
  sender: string;
  /** Recipients' usernames wrapped in commas (`,bob,carol,`) so LIKE can find one exactly. */
  recipients: string;
  contentType: string;
  body: string;
  /** ISO 8601 UTC; fixed width, so string order is time order on every database. */
  createdAt: string;
  /** `sip` or `http`. */
  via: string;
}

export const ImMessageEntity = new EntitySchema<ImMessage>({
  name: 'ImMessage',
  tableName: 'im_messages',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    site: { type: 'varchar', length: 255 },
    conversationId: { type: 'varchar', length: 64, name: 'conversation_id' },
    sender: { type: 'varchar', length: 255 },
    recipients: { type: 'text' },
    contentType: { type: 'varchar', length: 100, name: 'content_type' },
    body: { type: 'text' },
    createdAt: { type: 'varchar', length: 24, name: 'created_at' },
    via: { type: 'varchar', length: 8 },
  },
});

/** A message waiting for a recipient that had no endpoint when it came. */
export interface ImPending {
  id: number;
  site: string;
  recipient: string;
  messageId: number;
  createdAt: string;
}

export const ImPendingEntity = new EntitySchema<ImPending>({
  name: 'ImPending',
  tableName: 'im_pending',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    site: { type: 'varchar', length: 255 },
    recipient: { type: 'varchar', length: 255 },
    messageId: { type: 'integer', name: 'message_id' },
    createdAt: { type: 'varchar', length: 24, name: 'created_at' },
  },
});
