import { EntitySchema } from 'typeorm';

/** Someone who wrote to the bot on a site, and when last. */
export interface Sighting {
  id?: number;
  site: string;
  uri: string;
  lastSeen: Date;
}

/** A reply the bot gave, kept so web clients can read it over HTTP. */
export interface Reply {
  id?: number;
  site: string;
  toUri: string;
  body: string;
  createdAt: Date;
}

export const SightingEntity = new EntitySchema<Sighting>({
  name: 'WhoIsThereSighting',
  tableName: 'who_is_there_sightings',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    site: { type: 'varchar', length: 255 },
    uri: { type: 'varchar', length: 255 },
    lastSeen: { name: 'last_seen', type: 'datetime' },
  },
});

export const ReplyEntity = new EntitySchema<Reply>({
  name: 'WhoIsThereReply',
  tableName: 'who_is_there_replies',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    site: { type: 'varchar', length: 255 },
    toUri: { name: 'to_uri', type: 'varchar', length: 255 },
    body: { type: 'text' },
    createdAt: { name: 'created_at', type: 'datetime' },
  },
});
