/**
 * Site-defined distribution groups (config `distributionGroups`): named
 * sets of people and numbers an admin maintains, e.g. "Support" or "Front
 * desk". A member is a user (`bob`, `bob@site`, `sip:bob@site`), a phone
 * number (`+1 555 0100`, `tel:+15550100`) or another group (`group:<id>`);
 * `directoryGroup` adds every enabled user of the site in that directory
 * group. Expansion flattens nested groups (each group once, so cycles end),
 * drops duplicates, keeps the configured order, and shows each user's
 * presence as the asking user may see it.
 */
import type { PresenceView } from './access.ts';
import type { DistributionGroup } from './config.ts';
import { normaliseAddress } from './contacts.ts';
import { presenceError } from './errors.ts';
import type { PresenceCore } from './presence-core.ts';

const MAX_DEPTH = 8;

export interface ExpandedMember {
  /** `bob@site` or `tel:+15550100`. */
  address: string;
  kind: 'user' | 'phone';
  displayName: string;
  /** The group the member came from (the expanded group itself, or a nested one). */
  via: string;
  /** Users of this host's sites: their presence as the caller may see it; null for numbers and other domains. */
  presence: PresenceView | null;
}

export interface Expansion {
  id: string;
  name: string;
  members: ExpandedMember[];
  /** Entries that resolve to nobody: unknown users, unknown nested groups, groups nested too deep. */
  unresolved: string[];
}

export function distributionGroups(core: PresenceCore, site: string): DistributionGroup[] {
  return core.ctx.config(site).distributionGroups ?? [];
}

export async function expandGroup(core: PresenceCore, site: string, id: string, callerKey: string): Promise<Expansion> {
  const groups = distributionGroups(core, site);
  const root = groups.find((g) => g.id === id);
  if (!root) throw presenceError('PRESENCE_ERR_DISTRIBUTION_NOT_FOUND', id);
  const { ctx } = core;
  const sites = new Set(ctx.sites.list().map((s) => s.domain));
  const members: ExpandedMember[] = [];
  const seen = new Set<string>();
  const unresolved: string[] = [];
  const visited = new Set<string>();
  let directory: Awaited<ReturnType<typeof ctx.directory.list>> | undefined;

  const addUser = (address: string, displayName: string, via: string) => {
    if (seen.has(address)) return;
    seen.add(address);
    const at = address.lastIndexOf('@');
    const domain = address.slice(at + 1);
    const presence = sites.has(domain) && ctx.sites.isEnabled(domain) ? core.view(domain, address.slice(0, at), { key: callerKey }) : null;
    members.push({ address, kind: 'user', displayName, via, presence });
  };

  const walk = async (group: DistributionGroup, depth: number): Promise<void> => {
    visited.add(group.id);
    for (const entry of group.members ?? []) {
      const nested = /^group:(.+)$/i.exec(entry.trim());
      if (nested) {
        const child = groups.find((g) => g.id === nested[1]!.toLowerCase());
        if (!child || depth >= MAX_DEPTH) unresolved.push(entry);
        else if (!visited.has(child.id)) await walk(child, depth + 1);
        continue;
      }
      let normal: ReturnType<typeof normaliseAddress>;
      try {
        normal = normaliseAddress(site, entry);
      } catch {
        unresolved.push(entry);
        continue;
      }
      if (normal.kind === 'phone') {
        if (!seen.has(normal.address)) {
          seen.add(normal.address);
          members.push({ address: normal.address, kind: 'phone', displayName: '', via: group.id, presence: null });
        }
        continue;
      }
      const at = normal.address.lastIndexOf('@');
      const domain = normal.address.slice(at + 1);
      if (!sites.has(domain)) {
        addUser(normal.address, '', group.id);
        continue;
      }
      const user = await ctx.directory.findByAddress(domain, normal.address.slice(0, at));
      if (!user || user.enabled === false) {
        unresolved.push(entry);
        continue;
      }
      addUser(`${user.username}@${domain}`, user.displayName, group.id);
    }
    if (group.directoryGroup) {
      directory ??= await ctx.directory.list(site);
      const name = group.directoryGroup.toLowerCase();
      for (const user of directory) {
        if (user.enabled !== false && user.groups.some((g) => g.toLowerCase() === name)) addUser(`${user.username}@${site}`, user.displayName, group.id);
      }
    }
  };

  await walk(root, 0);
  return { id: root.id, name: root.name, members, unresolved };
}
