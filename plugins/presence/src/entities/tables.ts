/** The presence plugin's tables: access levels, contact lists, groups and the web client's manual state. */
import { EntitySchema } from 'typeorm';

export interface AccessRow {
  id: number;
  site: string;
  /** The user who granted the level (username). */
  owner: string;
  /** The watcher: `user@site` lowercase. */
  watcher: string;
  level: string;
}

export const AccessEntity = new EntitySchema<AccessRow>({
  name: 'PresenceAccess',
  tableName: 'presence_access',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    site: { type: 'varchar', length: 190 },
    owner: { type: 'varchar', length: 64 },
    watcher: { type: 'varchar', length: 255 },
    level: { type: 'varchar', length: 16 },
  },
  uniques: [{ name: 'presence_access_uq', columns: ['site', 'owner', 'watcher'] }],
});

export interface GroupRow {
  id: number;
  site: string;
  owner: string;
  name: string;
  position: number;
}

export const GroupEntity = new EntitySchema<GroupRow>({
  name: 'PresenceGroup',
  tableName: 'presence_groups',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    site: { type: 'varchar', length: 190 },
    owner: { type: 'varchar', length: 64 },
    name: { type: 'varchar', length: 100 },
    position: { type: 'integer', default: 0 },
  },
  uniques: [{ name: 'presence_groups_uq', columns: ['site', 'owner', 'name'] }],
});

export interface ContactRow {
  id: number;
  site: string;
  owner: string;
  /** `user@site` for people, `tel:+123` for phone-number contacts. */
  address: string;
  kind: string;
  displayName: string;
  groupId: number | null;
  position: number;
  /** Alert the owner when this contact's state changes. */
  tagged: boolean;
}

export const ContactEntity = new EntitySchema<ContactRow>({
  name: 'PresenceContact',
  tableName: 'presence_contacts',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    site: { type: 'varchar', length: 190 },
    owner: { type: 'varchar', length: 64 },
    address: { type: 'varchar', length: 255 },
    kind: { type: 'varchar', length: 8 },
    displayName: { type: 'varchar', length: 200, name: 'display_name', default: '' },
    groupId: { type: 'integer', name: 'group_id', nullable: true },
    position: { type: 'integer', default: 0 },
    tagged: { type: 'boolean', default: false },
  },
  uniques: [{ name: 'presence_contacts_uq', columns: ['site', 'owner', 'address'] }],
});

export interface ManualRow {
  id: number;
  site: string;
  username: string;
  state: string;
  custom: string | null;
  note: string | null;
  location: string | null;
  updatedAt: Date;
}

export const ManualEntity = new EntitySchema<ManualRow>({
  name: 'PresenceManual',
  tableName: 'presence_manual',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    site: { type: 'varchar', length: 190 },
    username: { type: 'varchar', length: 64 },
    state: { type: 'varchar', length: 32 },
    custom: { type: 'varchar', length: 40, nullable: true },
    note: { type: 'varchar', length: 1024, nullable: true },
    location: { type: 'varchar', length: 256, nullable: true },
    updatedAt: { type: 'datetime', name: 'updated_at' },
  },
  uniques: [{ name: 'presence_manual_uq', columns: ['site', 'username'] }],
});

/**
 * A presence subscription's dialog, kept so that after a restart the
 * subscriber can be told the subscription ended (NOTIFY terminated;
 * reason=deactivated) and subscribe anew.
 */
export interface SubscriptionRow {
  id: number;
  /** The dialog: the SIP stack's dialog id (`<Call-ID>;from-tag=<subscriber's tag>`). */
  dialog: string;
  site: string;
  presentity: string;
  kind: string;
  /** The Event header as the subscriber sent it. */
  event: string;
  /** Watcher key (`user@site`) when known. */
  watcher: string | null;
  callId: string;
  /** Our side: `<sip:presentity@site>;tag=…` (the NOTIFY's From). */
  localParty: string;
  /** The subscriber's From header (the NOTIFY's To). */
  remoteParty: string;
  /** The subscriber's Contact (the dialog's remote target). */
  remoteTarget: string;
  /** Seconds since the epoch when the subscription expires. */
  expiresAt: number;
}

export const SubscriptionEntity = new EntitySchema<SubscriptionRow>({
  name: 'PresenceSubscription',
  tableName: 'presence_subscriptions',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    dialog: { type: 'varchar', length: 255 },
    site: { type: 'varchar', length: 190 },
    presentity: { type: 'varchar', length: 64 },
    kind: { type: 'varchar', length: 16 },
    event: { type: 'varchar', length: 128 },
    watcher: { type: 'varchar', length: 255, nullable: true },
    callId: { type: 'varchar', length: 255, name: 'call_id' },
    localParty: { type: 'varchar', length: 512, name: 'local_party' },
    remoteParty: { type: 'varchar', length: 512, name: 'remote_party' },
    remoteTarget: { type: 'varchar', length: 512, name: 'remote_target' },
    expiresAt: { type: 'integer', name: 'expires_at' },
  },
  uniques: [{ name: 'presence_subscriptions_uq', columns: ['dialog'] }],
});
