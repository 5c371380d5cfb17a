/**
 * Server-stored contact lists: per user, contacts (people of any site, or
 * phone numbers) in optional groups, each with a position for sorting and a
 * tag ("alert me when this contact's state changes").
 */
import type { PresenceCore } from './presence-core.ts';
import { ContactEntity, GroupEntity, type ContactRow, type GroupRow } from './entities/tables.ts';
import { presenceError } from './errors.ts';

export interface ContactInput {
  address: string;
  displayName?: string;
  groupId?: number | null;
  position?: number;
  tagged?: boolean;
}

/** `bob` → `bob@site`, `sip:bob@other` → `bob@other`, `+1 555-0100` → `tel:+15550100`. */
export function normaliseAddress(site: string, address: string): { address: string; kind: 'user' | 'phone' } {
  const trimmed = address.trim();
  const phone = trimmed.replace(/^tel:/i, '');
  if (/^\+?[\d][\d\s().-]{2,30}$/.test(phone)) return { address: `tel:${phone.replace(/[\s().-]/g, '')}`, kind: 'phone' };
  const bare = trimmed.replace(/^sips?:/i, '').toLowerCase();
  if (!/^[^@\s;<>]+(@[^@\s;<>]+)?$/.test(bare)) throw presenceError('PRESENCE_ERR_CONTACT_NOT_FOUND', `not an address: ${address}`);
  return { address: bare.includes('@') ? bare : `${bare}@${site}`, kind: 'user' };
}

export class ContactLists {
  readonly #core: PresenceCore;

  constructor(core: PresenceCore) {
    this.#core = core;
  }

  groups(site: string, owner: string): Promise<GroupRow[]> {
    return this.#core.ctx.db.repository(GroupEntity).find({ where: { site, owner }, order: { position: 'ASC', name: 'ASC' } });
  }

  contacts(site: string, owner: string): Promise<ContactRow[]> {
    return this.#core.ctx.db.repository(ContactEntity).find({ where: { site, owner }, order: { position: 'ASC', displayName: 'ASC', address: 'ASC' } });
  }

  async addGroup(site: string, owner: string, name: string, position?: number): Promise<GroupRow> {
    const repo = this.#core.ctx.db.repository(GroupEntity);
    if (await repo.findOneBy({ site, owner, name })) throw presenceError('PRESENCE_ERR_GROUP_EXISTS', name);
    const count = await repo.countBy({ site, owner });
    return repo.save({ site, owner, name, position: position ?? count });
  }

  async updateGroup(site: string, owner: string, id: number, change: { name?: string; position?: number }): Promise<GroupRow> {
    const repo = this.#core.ctx.db.repository(GroupEntity);
    const group = await repo.findOneBy({ id, site, owner });
    if (!group) throw presenceError('PRESENCE_ERR_GROUP_NOT_FOUND', String(id));
    if (change.name !== undefined && change.name !== group.name && (await repo.findOneBy({ site, owner, name: change.name }))) {
      throw presenceError('PRESENCE_ERR_GROUP_EXISTS', change.name);
    }
    return repo.save({ ...group, ...change });
  }

  /** Remove a group; its contacts stay in the list, ungrouped. */
  async removeGroup(site: string, owner: string, id: number): Promise<void> {
    await this.#core.ctx.db.transaction(async (tx) => {
      const groups = tx.repository(GroupEntity);
      const group = await groups.findOneBy({ id, site, owner });
      if (!group) throw presenceError('PRESENCE_ERR_GROUP_NOT_FOUND', String(id));
      await tx.repository(ContactEntity).update({ site, owner, groupId: id }, { groupId: null });
      await groups.delete({ id });
    });
  }

  async addContact(site: string, owner: string, input: ContactInput): Promise<ContactRow> {
    const repo = this.#core.ctx.db.repository(ContactEntity);
    const { address, kind } = normaliseAddress(site, input.address);
    if (await repo.findOneBy({ site, owner, address })) throw presenceError('PRESENCE_ERR_CONTACT_EXISTS', address);
    const count = await repo.countBy({ site, owner });
    if (count >= this.#core.ctx.config(site).maxContacts) throw presenceError('PRESENCE_ERR_LIMIT', 'contact list is full');
    await this.#checkGroup(site, owner, input.groupId);
    let displayName = input.displayName ?? '';
    if (!displayName && kind === 'user' && address.endsWith(`@${site}`)) {
      const user = await this.#core.ctx.directory.findUser(site, address.slice(0, address.lastIndexOf('@')));
      if (!user) throw presenceError('PRESENCE_ERR_UNKNOWN_USER', address);
      displayName = user.displayName;
    }
    const saved = await repo.save({ site, owner, address, kind, displayName, groupId: input.groupId ?? null, position: input.position ?? count, tagged: input.tagged ?? false });
    if (kind === 'user' && saved.tagged) this.#core.alerts.retag(`${owner}@${site}`, address, true);
    if (kind === 'user') this.#core.live.listed(`${owner}@${site}`, address, true);
    await this.#core.listChanged(site, owner);
    return saved;
  }

  /**
   * Add several contacts at once (a distribution group into the list): those already in the
   * list are skipped; all or nothing when the list would overflow or the group is unknown.
   */
  async addMany(site: string, owner: string, entries: Array<{ address: string; displayName: string }>, groupId: number | null): Promise<{ added: ContactRow[]; skipped: string[] }> {
    const result = await this.#core.ctx.db.transaction(async (tx) => {
      const repo = tx.repository(ContactEntity);
      if (groupId !== null && !(await tx.repository(GroupEntity).findOneBy({ id: groupId, site, owner }))) {
        throw presenceError('PRESENCE_ERR_GROUP_NOT_FOUND', String(groupId));
      }
      const existing = await repo.find({ where: { site, owner } });
      const have = new Set(existing.map((c) => c.address));
      const skipped: string[] = [];
      const fresh: Array<{ address: string; kind: 'user' | 'phone'; displayName: string }> = [];
      for (const e of entries) {
        const { address, kind } = normaliseAddress(site, e.address);
        if (have.has(address)) {
          skipped.push(address);
          continue;
        }
        have.add(address);
        fresh.push({ address, kind, displayName: e.displayName });
      }
      const limit = this.#core.ctx.config(site).maxContacts;
      if (existing.length + fresh.length > limit) throw presenceError('PRESENCE_ERR_LIMIT', `contact list would hold ${existing.length + fresh.length} of at most ${limit}`);
      const added: ContactRow[] = [];
      let position = existing.length;
      for (const f of fresh) added.push(await repo.save({ site, owner, ...f, groupId, position: position++, tagged: false }));
      return { added, skipped };
    });
    for (const c of result.added) if (c.kind === 'user') this.#core.live.listed(`${owner}@${site}`, c.address, true);
    if (result.added.length > 0) await this.#core.listChanged(site, owner);
    return result;
  }

  async updateContact(site: string, owner: string, id: number, change: Omit<Partial<ContactInput>, 'address'>): Promise<ContactRow> {
    const repo = this.#core.ctx.db.repository(ContactEntity);
    const contact = await repo.findOneBy({ id, site, owner });
    if (!contact) throw presenceError('PRESENCE_ERR_CONTACT_NOT_FOUND', String(id));
    await this.#checkGroup(site, owner, change.groupId);
    const saved = await repo.save({ ...contact, ...change });
    if (saved.kind === 'user' && change.tagged !== undefined) this.#core.alerts.retag(`${owner}@${site}`, saved.address, Boolean(saved.tagged));
    await this.#core.listChanged(site, owner);
    return saved;
  }

  async removeContact(site: string, owner: string, id: number): Promise<void> {
    const repo = this.#core.ctx.db.repository(ContactEntity);
    const contact = await repo.findOneBy({ id, site, owner });
    if (!contact) throw presenceError('PRESENCE_ERR_CONTACT_NOT_FOUND', String(id));
    await repo.delete({ id });
    if (contact.kind === 'user') {
      this.#core.alerts.retag(`${owner}@${site}`, contact.address, false);
      this.#core.live.listed(`${owner}@${site}`, contact.address, false);
    }
    await this.#core.listChanged(site, owner);
  }

  async #checkGroup(site: string, owner: string, groupId: number | null | undefined): Promise<void> {
    if (groupId === undefined || groupId === null) return;
    if (!(await this.#core.ctx.db.repository(GroupEntity).findOneBy({ id: groupId, site, owner }))) {
      throw presenceError('PRESENCE_ERR_GROUP_NOT_FOUND', String(groupId));
    }
  }
}
