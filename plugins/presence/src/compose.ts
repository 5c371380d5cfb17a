/**
 * One user's state from all of their devices' publications.
 *
 * The rule, in order:
 * 1. Manual beats automatic: when any live publication was set by the user
 *    (a state picked in a client or the web), automatic ones (idle reports,
 *    states other plugins derived from calls) are ignored for the state.
 * 2. Most available wins among what is left, in the order of STATES
 *    (Available, Inactive, Be Right Back, Away, Busy, In a meeting,
 *    In a conference, In a call, Do Not Disturb, Unknown, Offline).
 *    Ties go to the newest publication.
 * 3. Newest note: the note is the most recently published non-empty note of
 *    any device, whichever device won the state.
 * 4. Location: the winning publication's, else the newest one published.
 * 5. Nothing published: Offline.
 */
import { availabilityRank, type PresenceState } from './states.ts';
import type { DevicePresence } from './pidf/parse.ts';

export interface Publication extends DevicePresence {
  /** Stable per device: the entity tag chain's first tag, or `web`. */
  device: string;
  /** ms since epoch of the last change. */
  updatedAt: number;
}

export interface DeviceSummary {
  device: string;
  state: PresenceState;
  mobile: boolean;
  im: boolean;
}

export interface ComposedPresence {
  state: PresenceState;
  /** The winner's site-defined state, if it published one. */
  custom?: string;
  source: 'manual' | 'automatic' | 'none';
  note?: string;
  location?: string;
  devices: DeviceSummary[];
}

export function compose(publications: readonly Publication[]): ComposedPresence {
  if (publications.length === 0) return { state: 'offline', source: 'none', devices: [] };
  const manual = publications.filter((p) => p.source === 'manual');
  const candidates = manual.length > 0 ? manual : publications;
  const winner = [...candidates].sort((a, b) =>
    availabilityRank(a.state) - availabilityRank(b.state) || b.updatedAt - a.updatedAt)[0]!;
  const newest = [...publications].sort((a, b) => b.updatedAt - a.updatedAt);
  const note = newest.find((p) => p.note)?.note;
  const location = winner.location ?? newest.find((p) => p.location)?.location;
  return {
    state: winner.state,
    ...(winner.custom ? { custom: winner.custom } : {}),
    source: winner.source,
    ...(note ? { note } : {}),
    ...(location ? { location } : {}),
    devices: publications.map((p) => ({ device: p.device, state: p.state, mobile: p.mobile, im: p.im })),
  };
}

/** Same content (what a watcher could see changing). */
export function sameComposed(a: ComposedPresence, b: ComposedPresence): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
