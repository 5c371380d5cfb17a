/**
 * Automatic states from the web client's idle reports: Inactive after the
 * site's `inactiveMinutes` without input, Away after `awayMinutes`. The
 * client reports how long it has been idle; the plugin moves the state on
 * by itself between reports, and forgets the device when reports stop
 * (after `maxExpires`). These are automatic, so a manual state beats them.
 */
import type { PresenceCore } from './presence-core.ts';
import type { PresenceState } from './states.ts';

export const IDLE_DEVICE = 'web-idle';

export class IdleTracker {
  readonly #core: PresenceCore;
  /** `site\0user` → timers that move the state on. */
  readonly #timers = new Map<string, NodeJS.Timeout[]>();

  constructor(core: PresenceCore) {
    this.#core = core;
  }

  /** The client has been idle for `idleSeconds`; returns the automatic state now in force. */
  report(site: string, username: string, idleSeconds: number): PresenceState {
    const config = this.#core.ctx.config(site);
    const inactiveAt = config.inactiveMinutes * 60;
    const awayAt = Math.max(config.awayMinutes * 60, inactiveAt);
    const k = `${site}\u0000${username}`;
    for (const timer of this.#timers.get(k) ?? []) clearTimeout(timer);
    const timers: NodeJS.Timeout[] = [];
    const state: PresenceState = idleSeconds >= awayAt ? 'away' : idleSeconds >= inactiveAt ? 'inactive' : 'available';
    this.#set(site, username, state, config.maxExpires);
    const later = (after: number, next: PresenceState) => {
      const timer = setTimeout(() => this.#set(site, username, next, config.maxExpires), after * 1000);
      timer.unref();
      timers.push(timer);
    };
    if (state === 'available') later(inactiveAt - idleSeconds, 'inactive');
    if (state !== 'away') later(awayAt - idleSeconds, 'away');
    this.#timers.set(k, timers);
    return state;
  }

  /**
   * A browser session of the user opened (first one): the web device is
   * Available (automatic) and does not expire while a session is open.
   * Idle reports then move it on; a manual state still beats it.
   */
  signedIn(site: string, username: string): void {
    this.#set(site, username, 'available', 0);
  }

  /** The web client signed out: its automatic device goes. */
  clear(site: string, username: string): void {
    const k = `${site}\u0000${username}`;
    for (const timer of this.#timers.get(k) ?? []) clearTimeout(timer);
    this.#timers.delete(k);
    this.#core.publications.setDevice(site, username, IDLE_DEVICE, undefined, 0);
  }

  close(): void {
    for (const timers of this.#timers.values()) for (const timer of timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #set(site: string, username: string, state: PresenceState, expiresSec: number): void {
    // An open browser session keeps the device; without one, it lapses when reports stop.
    if (this.#core.ctx.live.sessionCount(site, username) > 0) expiresSec = 0;
    this.#core.publications.setDevice(site, username, IDLE_DEVICE, {
      entity: `sip:${username}@${site}`,
      state,
      source: 'automatic',
      mobile: false,
      im: true,
    }, expiresSec);
  }
}
