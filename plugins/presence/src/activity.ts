/**
 * Automatic states from other plugins: a call or conference plugin (or a
 * calendar) publishes `presence.activity` with
 * `{ site, username, activity: 'in-a-call' | 'in-a-conference' | 'in-a-meeting', active, source? }`.
 * Each source is one automatic device of the user, so a manual state still
 * wins and several sources compose like devices do.
 */
import type { PresenceCore } from './presence-core.ts';
import type { PresenceState } from './states.ts';

export const ACTIVITY_TOPIC = 'presence.activity';
export const CHANGED_TOPIC = 'presence.changed';

const ACTIVITIES = new Set<PresenceState>(['in-a-call', 'in-a-conference', 'in-a-meeting']);

export interface ActivityEvent {
  site: string;
  username: string;
  activity: PresenceState;
  active: boolean;
  /** Distinguishes several sources of one user (default: the publishing plugin). */
  source?: string;
}

function isActivityEvent(value: unknown): value is ActivityEvent {
  const v = value as Partial<ActivityEvent> | null;
  return typeof v === 'object' && v !== null
    && typeof v.site === 'string' && typeof v.username === 'string' && v.username.length <= 64
    && typeof v.activity === 'string' && ACTIVITIES.has(v.activity)
    && typeof v.active === 'boolean'
    && (v.source === undefined || (typeof v.source === 'string' && /^[a-z0-9._-]{1,40}$/.test(v.source)));
}

export function handleActivity(core: PresenceCore, payload: unknown, publisher: string): void {
  if (!isActivityEvent(payload)) {
    core.ctx.log.warn({ publisher }, 'ignored a malformed presence.activity event');
    return;
  }
  const site = payload.site.toLowerCase();
  if (!core.ctx.sites.isEnabled(site)) return;
  const username = payload.username.toLowerCase();
  const device = `auto:${payload.source ?? publisher}`;
  core.publications.setDevice(site, username, device, payload.active ? {
    entity: `sip:${username}@${site}`,
    state: payload.activity,
    source: 'automatic',
    mobile: false,
    im: true,
  } : undefined, payload.active ? core.ctx.config(site).maxExpires : 0);
}
