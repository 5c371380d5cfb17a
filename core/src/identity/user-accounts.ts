/**
 * The write side of identity: create, change and remove users, and set
 * passwords. Each operation is one transaction (queued, see write-queue.ts)
 * that writes the user row and its addresses together, so a failure leaves
 * nothing half-made. Slow hashing happens before the transaction opens.
 */
import { randomUUID } from 'node:crypto';
import { QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import { coreError } from '../errors.ts';
import { SiteEntity, type SiteRecord } from '../storage/entities.ts';
import { normaliseName, normalisePhone } from './addresses.ts';
import { deriveCredentials, verifyPassword } from './credentials.ts';
import { UserAddressEntity, UserEntity, type AddressKind, type UserAddressRecord, type UserRecord } from './identity-entities.ts';
import type { CreateUserInput, UpdateUserInput } from './user-schemas.ts';
import { toUserView, type UserView } from './user-directory.ts';
import type { WriteQueue } from './write-queue.ts';

interface Address {
  address: string;
  kind: AddressKind;
  /** Input field it came from, for error reports. */
  field: string;
}

export class UserAccounts {
  readonly #ds: DataSource;
  readonly #queue: WriteQueue;

  constructor(ds: DataSource, queue: WriteQueue) {
    this.#ds = ds;
    this.#queue = queue;
  }

  /** Throws CORE_ERR_SITE_NOT_FOUND, CORE_ERR_USER_EXISTS or CORE_ERR_ADDRESS_TAKEN and then stores nothing. */
  async create(siteDomain: string, input: CreateUserInput): Promise<UserView> {
    const domain = siteDomain.toLowerCase();
    const username = normaliseName(input.username);
    const credentials = await deriveCredentials(username, domain, input.password);
    const phone = input.phone === undefined ? undefined : normalisePhone(input.phone);
    if (input.phone !== undefined && !phone) throw coreError('CORE_ERR_REQUEST_INVALID', `phone "${input.phone}" is not a phone number`, [{ instancePath: '/phone', message: 'is not a phone number' }]);
    return this.#write(async (m) => {
      const site = await requireSite(m, domain);
      if (await m.getRepository(UserEntity).findOneBy({ siteId: site.id, username })) {
        throw coreError('CORE_ERR_USER_EXISTS', `${username}@${domain}`, { field: 'username' });
      }
      const row: UserRecord = {
        id: randomUUID(),
        siteId: site.id,
        username,
        displayName: input.displayName ?? username,
        aliases: (input.aliases ?? []).map(normaliseName),
        phone: phone ?? null,
        email: input.email ?? null,
        groups: input.groups ?? [],
        role: input.role ?? 'user',
        enabled: input.enabled ?? true,
        ...credentials,
        createdAt: new Date(),
        updatedAt: new Date(),
      };
      const addresses = addressesOf(row);
      await assertFree(m, site.id, addresses, undefined);
      await m.getRepository(UserEntity).insert(row);
      await m.getRepository(UserAddressEntity).insert(addresses.map((a) => ({ siteId: site.id, address: a.address, kind: a.kind, userId: row.id })));
      return toUserView((await m.getRepository(UserEntity).findOneByOrFail({ id: row.id })), domain);
    });
  }

  async update(siteDomain: string, username: string, change: UpdateUserInput): Promise<UserView> {
    const domain = siteDomain.toLowerCase();
    let phone: string | null | undefined;
    if (change.phone === null) phone = null;
    else if (change.phone !== undefined) {
      phone = normalisePhone(change.phone);
      if (!phone) throw coreError('CORE_ERR_REQUEST_INVALID', `phone "${change.phone}" is not a phone number`, [{ instancePath: '/phone', message: 'is not a phone number' }]);
    }
    return this.#write(async (m) => {
      const site = await requireSite(m, domain);
      const row = await requireUser(m, site, username);
      const next: UserRecord = {
        ...row,
        ...(change.displayName !== undefined ? { displayName: change.displayName } : {}),
        ...(change.aliases !== undefined ? { aliases: change.aliases.map(normaliseName) } : {}),
        ...(phone !== undefined ? { phone } : {}),
        ...(change.email !== undefined ? { email: change.email } : {}),
        ...(change.groups !== undefined ? { groups: change.groups } : {}),
        ...(change.role !== undefined ? { role: change.role } : {}),
        ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
        updatedAt: new Date(),
      };
      if (change.aliases !== undefined || phone !== undefined) {
        const addresses = addressesOf(next);
        await assertFree(m, site.id, addresses, row.id);
        await m.getRepository(UserAddressEntity).delete({ userId: row.id });
        await m.getRepository(UserAddressEntity).insert(addresses.map((a) => ({ siteId: site.id, address: a.address, kind: a.kind, userId: row.id })));
      }
      const { id, createdAt: _c, ...fields } = next;
      await m.getRepository(UserEntity).update({ id }, fields);
      return toUserView(await m.getRepository(UserEntity).findOneByOrFail({ id }), domain);
    });
  }

  async remove(siteDomain: string, username: string): Promise<void> {
    await this.#write(async (m) => {
      const site = await requireSite(m, siteDomain.toLowerCase());
      const row = await requireUser(m, site, username);
      await m.getRepository(UserAddressEntity).delete({ userId: row.id });
      await m.getRepository(UserEntity).delete({ id: row.id });
    });
  }

  /** Admin reset, or the second half of a user's own change once the old password checked out. */
  async setPassword(siteDomain: string, username: string, password: string): Promise<void> {
    const domain = siteDomain.toLowerCase();
    const name = normaliseName(username);
    const credentials = await deriveCredentials(name, domain, password);
    await this.#write(async (m) => {
      const row = await requireUser(m, await requireSite(m, domain), name);
      await m.getRepository(UserEntity).update({ id: row.id }, { ...credentials, updatedAt: new Date() });
    });
  }

  /** The user's own change: the old password must match. Throws CORE_ERR_PASSWORD_WRONG. */
  async changePassword(siteDomain: string, username: string, oldPassword: string, newPassword: string): Promise<void> {
    const domain = siteDomain.toLowerCase();
    const row = await this.#ds.getRepository(UserEntity).createQueryBuilder('u')
      .innerJoin('Site', 's', 's.id = u.siteId')
      .where('s.domain = :domain AND u.username = :username', { domain, username: normaliseName(username) })
      .getOne();
    if (!row) throw coreError('CORE_ERR_USER_NOT_FOUND', `${username}@${domain}`);
    if (!(await verifyPassword(oldPassword, row.passwordHash))) throw coreError('CORE_ERR_PASSWORD_WRONG');
    await this.setPassword(domain, username, newPassword);
  }

  #write<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.#queue.run(async () => {
      try {
        return await this.#ds.transaction(work);
      } catch (err) {
        // A concurrent writer (another host in a pool) beat our pre-checks to a unique key.
        if (err instanceof QueryFailedError && /unique|duplicate/i.test(err.message)) {
          throw coreError('CORE_ERR_ADDRESS_TAKEN', 'a username, alias or phone number was taken meanwhile');
        }
        throw err;
      }
    });
  }
}

async function requireSite(m: EntityManager, domain: string): Promise<SiteRecord> {
  const site = await m.getRepository(SiteEntity).findOneBy({ domain });
  if (!site) throw coreError('CORE_ERR_SITE_NOT_FOUND', domain);
  return site;
}

async function requireUser(m: EntityManager, site: SiteRecord, username: string): Promise<UserRecord> {
  const row = await m.getRepository(UserEntity).findOneBy({ siteId: site.id, username: normaliseName(username) });
  if (!row) throw coreError('CORE_ERR_USER_NOT_FOUND', `${normaliseName(username)}@${site.domain}`);
  return row;
}

function addressesOf(row: UserRecord): Address[] {
  const list: Address[] = [{ address: row.username, kind: 'username', field: 'username' }];
  row.aliases.forEach((alias, i) => list.push({ address: alias, kind: 'alias', field: `aliases/${i}` }));
  if (row.phone) list.push({ address: row.phone, kind: 'phone', field: 'phone' });
  const seen = new Set<string>();
  for (const a of list) {
    if (seen.has(a.address)) throw coreError('CORE_ERR_ADDRESS_TAKEN', `"${a.address}" appears twice for this user`, { address: a.address, field: a.field });
    seen.add(a.address);
  }
  return list;
}

/** Names the first address already used by someone else, so the caller learns which field to fix. */
async function assertFree(m: EntityManager, siteId: string, addresses: Address[], ownUserId: string | undefined): Promise<void> {
  const taken: UserAddressRecord[] = await m.getRepository(UserAddressEntity).createQueryBuilder('a')
    .where('a.siteId = :siteId AND a.address IN (:...list)', { siteId, list: addresses.map((a) => a.address) })
    .getMany();
  const clash = taken.find((t) => t.userId !== ownUserId);
  if (!clash) return;
  const field = addresses.find((a) => a.address === clash.address)!.field;
  if (field === 'username' && clash.kind === 'username') throw coreError('CORE_ERR_USER_EXISTS', clash.address, { field });
  throw coreError('CORE_ERR_ADDRESS_TAKEN', `"${clash.address}" (${field}) is already the ${clash.kind} of another user`, { address: clash.address, field });
}
