/**
 * The web client's manual state: stored in presence_manual so it survives
 * a restart, and held in the publication store as device `web` without
 * expiry, so it composes with SIP devices by the same rules.
 */
import type { DevicePresence } from './pidf/parse.ts';
import { ManualEntity, type ManualRow } from './entities/tables.ts';
import type { PresenceCore } from './presence-core.ts';
import { isState, type PresenceState } from './states.ts';

export interface ManualState {
  state: PresenceState;
  /** Site-defined state id; `state` is its base. */
  custom?: string;
  note?: string;
  location?: string;
}

function toDevice(site: string, username: string, m: ManualState): DevicePresence {
  return {
    entity: `sip:${username}@${site}`,
    state: m.state,
    ...(m.custom ? { custom: m.custom } : {}),
    source: 'manual',
    ...(m.note ? { note: m.note } : {}),
    ...(m.location ? { location: m.location } : {}),
    mobile: false,
    im: true,
  };
}

export async function loadManualStates(core: PresenceCore): Promise<void> {
  for (const row of await core.ctx.db.repository(ManualEntity).find()) {
    if (!isState(row.state)) continue;
    const m = rowToManual(row as ManualRow & { state: PresenceState });
    core.publications.setWeb(row.site, row.username, toDevice(row.site, row.username, m), new Date(row.updatedAt).getTime());
  }
}

export async function getManualState(core: PresenceCore, site: string, username: string): Promise<ManualState | undefined> {
  const row = await core.ctx.db.repository(ManualEntity).findOneBy({ site, username });
  if (!row || !isState(row.state)) return undefined;
  return rowToManual(row as ManualRow & { state: PresenceState });
}

/** Set (or with undefined, clear) a user's manual state. */
export async function setManualState(core: PresenceCore, site: string, username: string, m: ManualState | undefined): Promise<void> {
  const repo = core.ctx.db.repository(ManualEntity);
  const existing = await repo.findOneBy({ site, username });
  if (!m) {
    if (existing) await repo.delete({ id: existing.id });
    core.publications.setWeb(site, username, undefined);
    return;
  }
  await repo.save({ ...(existing ?? {}), site, username, state: m.state, custom: m.custom ?? null, note: m.note ?? null, location: m.location ?? null, updatedAt: new Date() });
  core.publications.setWeb(site, username, toDevice(site, username, m));
}

function rowToManual(row: ManualRow & { state: PresenceState }): ManualState {
  return {
    state: row.state,
    ...(row.custom ? { custom: row.custom } : {}),
    ...(row.note ? { note: row.note } : {}),
    ...(row.location ? { location: row.location } : {}),
  };
}
