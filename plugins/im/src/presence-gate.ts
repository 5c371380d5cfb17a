/**
 * The presence plugin's policy, when it is there: a Blocked sender, or one
 * Do Not Disturb keeps out, is treated as if the recipient were offline.
 * Without the presence plugin everyone may interrupt everyone.
 */
import type { PluginContext } from '@switchboard/sdk';
import type { ImConfig } from './config.ts';

/** What this plugin needs of `presence.policy`. */
export interface PresencePolicy {
  mayInterrupt(site: string, from: string, to: string): boolean | { allowed: boolean } | Promise<boolean | { allowed: boolean }>;
}

export async function mayInterrupt(ctx: PluginContext<ImConfig>, site: string, from: string, to: string): Promise<boolean> {
  const policy = ctx.services.tryConsume<PresencePolicy>('presence.policy');
  if (!policy || typeof policy.mayInterrupt !== 'function') return true;
  try {
    const verdict = await policy.mayInterrupt(site, from, to);
    return typeof verdict === 'object' && verdict !== null ? verdict.allowed !== false : verdict !== false;
  } catch (err) {
    // A broken policy must not silence IM for everyone; deliver and say so.
    ctx.log.warn({ err, site }, 'presence.policy failed; delivering anyway');
    return true;
  }
}
