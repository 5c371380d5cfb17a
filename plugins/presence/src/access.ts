/**
 * Access levels: what a watcher sees of a user depends on the level the
 * user gave that watcher (or the site's default).
 *
 * | field                        | Personal | Team | Company | Public  | Blocked |
 * |------------------------------|----------|------|---------|---------|---------|
 * | state                        | exact    | exact| exact   | coarse* | Offline |
 * | custom (site-defined) state  | yes      | yes  | yes     | no      | no      |
 * | note                         | yes      | yes  | yes     | no      | no      |
 * | location                     | yes      | yes  | no      | no      | no      |
 * | devices (mobile, can IM)     | yes      | yes  | yes     | no      | no      |
 * | phone numbers                | yes      | yes  | yes     | no      | no      |
 * | e-mail                       | yes      | yes  | yes     | yes     | no      |
 * | calendar detail (meeting/    | yes      | yes  | yes     | no*     | no      |
 * |   call/conference)           |          |      |         |         |         |
 * | may interrupt under DND      | no       | yes  | no      | no      | no      |
 *
 * *coarse: In a call / In a conference / In a meeting show as Busy,
 * Inactive / Be Right Back as Away (see coarseState).
 * Team watchers of a user in Do Not Disturb also see "urgent interruptions only".
 */
import type { ComposedPresence, DeviceSummary } from './compose.ts';
import { coarseState, type PresenceState } from './states.ts';

export const LEVELS = ['personal', 'team', 'company', 'public', 'blocked'] as const;
export type AccessLevel = (typeof LEVELS)[number];

export function isLevel(value: unknown): value is AccessLevel {
  return typeof value === 'string' && (LEVELS as readonly string[]).includes(value);
}

/** What one watcher may see of a user's presence. */
export interface PresenceView {
  state: PresenceState;
  /** Site-defined state id, for watchers who see exact states. */
  custom?: string;
  note?: string;
  location?: string;
  devices?: Array<Pick<DeviceSummary, 'mobile' | 'im'>>;
  /** Set for Team watchers while the user is in Do Not Disturb. */
  urgentInterruptionsOnly?: boolean;
}

export interface FieldRules {
  exactState: boolean;
  note: boolean;
  location: boolean;
  devices: boolean;
  phone: boolean;
  email: boolean;
}

export const FIELD_RULES: Record<AccessLevel, FieldRules> = {
  personal: { exactState: true, note: true, location: true, devices: true, phone: true, email: true },
  team: { exactState: true, note: true, location: true, devices: true, phone: true, email: true },
  company: { exactState: true, note: true, location: false, devices: true, phone: true, email: true },
  public: { exactState: false, note: false, location: false, devices: false, phone: false, email: true },
  blocked: { exactState: false, note: false, location: false, devices: false, phone: false, email: false },
};

export function filterPresence(presence: ComposedPresence, level: AccessLevel): PresenceView {
  if (level === 'blocked') return { state: 'offline' };
  const rules = FIELD_RULES[level];
  const view: PresenceView = { state: rules.exactState ? presence.state : coarseState(presence.state) };
  if (rules.exactState && presence.custom) view.custom = presence.custom;
  if (rules.note && presence.note) view.note = presence.note;
  if (rules.location && presence.location) view.location = presence.location;
  if (rules.devices && presence.devices.length > 0) view.devices = presence.devices.map((d) => ({ mobile: d.mobile, im: d.im }));
  if (level === 'team' && presence.state === 'do-not-disturb') view.urgentInterruptionsOnly = true;
  return view;
}

/** Under Do Not Disturb only Team may interrupt; Blocked never may. */
export function mayInterrupt(state: PresenceState, level: AccessLevel): boolean {
  if (level === 'blocked') return false;
  if (state === 'do-not-disturb') return level === 'team';
  return true;
}
