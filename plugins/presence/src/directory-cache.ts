/**
 * Directory answers on the SIP path, kept for a moment. Every SUBSCRIBE and
 * PUBLISH looks its presentity up (a database query with a join); thousands
 * of watchers subscribing to the same people ask the same questions over
 * and over. A user found is remembered for HOLD_MS, so a disabled or
 * renamed user is seen at most that much later; "not found" is never kept,
 * so a new user is reachable at once. Lookups of the same address that
 * overlap share one query.
 */
import type { DirectoryUser, PluginContext } from '@switchboard/sdk';

const HOLD_MS = 2000;
/** Beyond this many addresses the oldest answers are dropped first. */
const LIMIT = 10_000;

type Found = DirectoryUser | undefined;

export class PresenceDirectory {
  readonly #lookup: (site: string, userPart: string) => Promise<Found>;
  /** `site\0user part` → the answer (or the query under way) and when it was asked. */
  readonly #answers = new Map<string, { asked: number; answer: Promise<Found> }>();

  constructor(ctx: Pick<PluginContext, 'directory'>) {
    this.#lookup = (site, userPart) => ctx.directory.findByAddress(site, userPart);
  }

  findByAddress(site: string, userPart: string): Promise<Found> {
    const key = `${site}\u0000${userPart.toLowerCase()}`;
    const now = Date.now();
    const known = this.#answers.get(key);
    if (known && now - known.asked < HOLD_MS) return known.answer;
    if (known) this.#answers.delete(key);
    const answer = this.#lookup(site, userPart);
    this.#answers.set(key, { asked: now, answer });
    if (this.#answers.size > LIMIT) {
      // Maps iterate in insertion order: the first key is the oldest answer.
      const oldest = this.#answers.keys().next().value;
      if (oldest !== undefined) this.#answers.delete(oldest);
    }
    answer.then((user) => {
      if (!user && this.#answers.get(key)?.answer === answer) this.#answers.delete(key);
    }, () => {
      if (this.#answers.get(key)?.answer === answer) this.#answers.delete(key);
    });
    return answer;
  }
}
