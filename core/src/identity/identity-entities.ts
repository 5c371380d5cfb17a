/**
 * Users and their addresses. A user row carries only derived credentials
 * (scrypt for HTTP, digest HA1 per algorithm for SIP); the password itself
 * is never stored. `user_addresses` holds every SIP user part that reaches a
 * user (username, aliases, phone) under one per-site primary key, so the
 * database itself refuses an alias that is already someone's username.
 */
import { EntitySchema } from 'typeorm';

export type UserRole = 'user' | 'site-admin';

export interface UserRecord {
  id: string;
  siteId: string;
  username: string;
  displayName: string;
  aliases: string[];
  phone: string | null;
  email: string | null;
  groups: string[];
  role: UserRole;
  enabled: boolean;
  /** `scrypt$N$r$p$salt$hash` for HTTP sign-in. */
  passwordHash: string;
  /** hex MD5(username:realm:password), realm = site domain (RFC 7616). */
  ha1Md5: string;
  /** hex SHA-256(username:realm:password) (RFC 7616, RFC 8760). */
  ha1Sha256: string;
  createdAt: Date;
  updatedAt: Date;
}

export type AddressKind = 'username' | 'alias' | 'phone';

export interface UserAddressRecord {
  siteId: string;
  address: string;
  userId: string;
  kind: AddressKind;
}

export const UserEntity = new EntitySchema<UserRecord>({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    siteId: { name: 'site_id', type: 'varchar', length: 36 },
    username: { type: 'varchar', length: 64 },
    displayName: { name: 'display_name', type: 'varchar', length: 255 },
    aliases: { type: 'simple-json' },
    phone: { type: 'varchar', length: 32, nullable: true },
    email: { type: 'varchar', length: 254, nullable: true },
    // GROUPS is reserved in MySQL 8, hence the column name.
    groups: { name: 'group_names', type: 'simple-json' },
    role: { type: 'varchar', length: 16 },
    enabled: { type: 'boolean' },
    passwordHash: { name: 'password_hash', type: 'varchar', length: 255 },
    ha1Md5: { name: 'ha1_md5', type: 'varchar', length: 32 },
    ha1Sha256: { name: 'ha1_sha256', type: 'varchar', length: 64 },
    createdAt: { name: 'created_at', type: 'datetime', createDate: true },
    updatedAt: { name: 'updated_at', type: 'datetime', updateDate: true },
  },
  uniques: [{ name: 'uq_users_site_username', columns: ['siteId', 'username'] }],
});

export const UserAddressEntity = new EntitySchema<UserAddressRecord>({
  name: 'UserAddress',
  tableName: 'user_addresses',
  columns: {
    siteId: { name: 'site_id', type: 'varchar', length: 36, primary: true },
    address: { type: 'varchar', length: 64, primary: true },
    userId: { name: 'user_id', type: 'varchar', length: 36 },
    kind: { type: 'varchar', length: 16 },
  },
});

export const IDENTITY_ENTITIES: EntitySchema<any>[] = [UserEntity, UserAddressEntity];
