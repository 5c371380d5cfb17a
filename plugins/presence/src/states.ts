/**
 * The presence states users see, their labels, and the order "most
 * available" uses when several devices publish for one user.
 */
export const STATES = [
  'available',
  'inactive',
  'be-right-back',
  'away',
  'busy',
  'in-a-meeting',
  'in-a-conference',
  'in-a-call',
  'do-not-disturb',
  'unknown',
  'offline',
] as const;

export type PresenceState = (typeof STATES)[number];

export const STATE_LABELS: Record<PresenceState, string> = {
  available: 'Available',
  inactive: 'Inactive',
  'be-right-back': 'Be Right Back',
  away: 'Away',
  busy: 'Busy',
  'in-a-meeting': 'In a meeting',
  'in-a-conference': 'In a conference',
  'in-a-call': 'In a call',
  'do-not-disturb': 'Do Not Disturb',
  unknown: 'Unknown',
  offline: 'Offline',
};

/** Lower is more available: the index in {@link STATES}. */
export function availabilityRank(state: PresenceState): number {
  return STATES.indexOf(state);
}

export function isState(value: unknown): value is PresenceState {
  return typeof value === 'string' && (STATES as readonly string[]).includes(value);
}

/**
 * The coarse state a Public watcher sees: activity detail (call, meeting,
 * conference) folds into Busy, idle kinds into Away.
 */
export function coarseState(state: PresenceState): PresenceState {
  switch (state) {
    case 'in-a-call':
    case 'in-a-conference':
    case 'in-a-meeting':
      return 'busy';
    case 'inactive':
    case 'be-right-back':
      return 'away';
    default:
      return state;
  }
}
