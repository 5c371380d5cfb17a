/**
 * presence: who is available, and who may see it.
 *
 * SIP: PUBLISH and SUBSCRIBE/NOTIFY for the `presence` event package with
 * PIDF/RPID bodies (src/sip). HTTP: the web client's own state, other
 * users' filtered presence, access levels and contact lists (src/http).
 * Service `presence.policy` answers "may A interrupt B now?" for other
 * plugins (IM, calls).
 */
import { definePlugin } from '@switchboard/sdk';
import type { PresenceConfig } from './config.ts';
import { ACTIVITY_TOPIC, handleActivity } from './activity.ts';
import { AccessEntity, ContactEntity, GroupEntity, ManualEntity, SubscriptionEntity } from './entities/tables.ts';
import { registerRoutes } from './http/routes.ts';
import { loadManualStates } from './manual-state.ts';
import { PresenceCore } from './presence-core.ts';
import { createPolicy, type PresencePolicy } from './policy.ts';
import { publishHandler } from './sip/publish-handler.ts';
import { endStoredSubscriptions } from './sip/restart.ts';
import { subscribeHandler } from './sip/subscribe-handler.ts';

export type { PresencePolicy } from './policy.ts';

/** One core per host (tests run several hosts in one process), keyed by the context the host gave. */
const cores = new WeakMap<object, PresenceCore>();

export default definePlugin<PresenceConfig>({
  entities: [AccessEntity, GroupEntity, ContactEntity, ManualEntity, SubscriptionEntity],

  async setup(ctx) {
    const core = new PresenceCore(ctx);
    cores.set(ctx, core);
    await core.access.load();
    await loadManualStates(core);
    await core.alerts.load();
    await core.live.load();
    core.live.register();
    ctx.services.provide<PresencePolicy>('presence.policy', createPolicy(core));
    ctx.sip.on('PUBLISH', publishHandler(core));
    ctx.sip.on('SUBSCRIBE', subscribeHandler(core));
    registerRoutes(core);
    ctx.events.subscribe(ACTIVITY_TOPIC, (payload, meta) => handleActivity(core, payload, meta.publisher));
    // Subscriptions of the last run: their subscribers are told to subscribe anew (src/sip/restart.ts).
    const stored = await core.journal.takeAll();
    if (stored.length > 0) {
      core.restarted = endStoredSubscriptions(core, stored).then((outcome) => {
        ctx.log.info(outcome, 'ended the subscriptions of the last run');
        return outcome;
      }, (err: unknown) => {
        ctx.log.warn({ err }, 'could not end the subscriptions of the last run');
        return { ended: 0, unreached: stored.length };
      });
    }
  },

  async disable(site, ctx) {
    // Watchers are told the subscription ended (they may retry later) instead of going silent.
    const core = cores.get(ctx);
    await core?.subscriptions.terminateAll('deactivated', site.domain);
  },

  async close(ctx) {
    // The host stops SIP before plugins, so no final NOTIFY can go out here. The dialogs stay
    // stored: the next start sends each subscriber NOTIFY terminated;reason=deactivated.
    const core = cores.get(ctx);
    if (!core) return;
    core.closed = true;
    core.subscriptions.dropAll();
    core.idle.close();
    core.publications.close();
    cores.delete(ctx);
    await core.journal.flush();
  },
});
