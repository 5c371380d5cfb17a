/** The per-site config (manifest `config` schema, defaults applied by the host). */
import type { AccessLevel } from './access.ts';
import type { PresenceState } from './states.ts';

/** A site-defined state, shown as `label`, composed and coarsened as `base`. */
export interface CustomState {
  id: string;
  label: string;
  base: PresenceState;
}

/** A site-defined distribution group (see src/distribution.ts). */
export interface DistributionGroup {
  id: string;
  name: string;
  /** Users, phone numbers, or `group:<id>` for a nested group. */
  members?: string[];
  /** Every enabled user of the site in this directory group is a member too. */
  directoryGroup?: string;
}

export interface PresenceConfig {
  /** Level of a same-site user the owner has not placed anywhere. */
  defaultLevel: AccessLevel;
  /** Active presence subscriptions one watcher may hold. */
  maxSubscriptionsPerUser: number;
  minExpires: number;
  maxExpires: number;
  defaultExpires: number;
  /** Largest PIDF body accepted (bytes). */
  maxBodyBytes: number;
  maxContacts: number;
  /** Idle minutes before Inactive / Away (web client idle reports). */
  inactiveMinutes: number;
  awayMinutes: number;
  customStates: CustomState[];
  distributionGroups: DistributionGroup[];
}
