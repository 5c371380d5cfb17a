/**
 * The escalation hook: a conference plugin (fixture) answers through the
 * im.escalation service, every escalation goes out as the im.escalate event
 * with the participants, and participants' browsers get im.escalation.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { createTestHost } from '@switchboard/sdk';
import { D, addUser, pluginDir, webUser } from './helpers.ts';
import { LiveUser } from './live-client.ts';

const bridgeDir = fileURLToPath(new URL('./fixtures/bridge', import.meta.url));

t.test('escalating conversations to calls and conferences', async (t) => {
  const host = await createTestHost({ plugins: [pluginDir, bridgeDir], sites: [D] });
  t.teardown(() => host.close());
  for (const u of ['alice', 'bob', 'carol', 'dave']) await addUser(host, u);
  const [alice, dave] = await Promise.all(['alice', 'dave'].map((u) => webUser(host, u)));
  const aliceLive = await LiveUser.open(host, 'alice');
  const bobLive = await LiveUser.open(host, 'bob');
  t.teardown(() => Promise.all([aliceLive.close(), bobLive.close()]));
  const log = async () => (await (await host.adminFetch(`/api/plugins/bridge/sites/${D}/log`)).json()) as { handled: any[]; events: any[] };

  const conv = (await alice('/conversations', { method: 'POST', body: { participants: ['bob', 'carol'], subject: 'Launch' } })).json as { id: string; address: string };
  const up = await alice(`/conversations/${conv.id}/escalate`, { method: 'POST', body: { medium: 'conference' } });
  t.equal(up.status, 200, JSON.stringify(up.json));
  t.match(up.json, {
    handledBy: 'bridge',
    result: { address: `sip:bridge-${conv.id}@${D}`, detail: '3 invited' },
    escalation: { site: D, conversationId: conv.id, address: conv.address, subject: 'Launch', requestedBy: 'alice', medium: 'conference', participants: ['alice', 'bob', 'carol'] },
  });
  t.notOk('secret' in up.json.result, 'only the documented result fields pass');
  for (const who of [aliceLive, bobLive]) {
    const ev = await who.event('im.escalation');
    t.same(ev, up.json, `${who.user}'s browser is told where to join`);
  }
  t.same((await log()).handled.map((h) => h.participants), [['alice', 'bob', 'carol']], 'the handler got the participants');

  // No plugin handles audio: announced as the event, answered 202.
  const call = await alice('/escalate', { method: 'POST', body: { with: 'bob', medium: 'audio' } });
  t.equal(call.status, 202);
  t.match(call.json, { handledBy: null, result: null, escalation: { conversationId: 'pair:alice:bob', address: `sip:bob@${D}`, participants: ['alice', 'bob'], medium: 'audio' } });
  const fromSocket = await bobLive.request('im.escalate', { to: 'alice', medium: 'video' });
  t.match(fromSocket, { ok: true, data: { handledBy: null, escalation: { requestedBy: 'bob', medium: 'video', participants: ['bob', 'alice'] } } });

  let events: any[] = [];
  for (let i = 0; i < 50 && events.length < 3; i++) {
    events = (await log()).events;
    if (events.length < 3) await new Promise((r) => setTimeout(r, 100));
  }
  t.same(events.map((e) => `${e.requestedBy} ${e.medium} ${e.handledBy} ${e.participants.join(',')}`),
    ['alice conference bridge alice,bob,carol', 'alice audio null alice,bob', 'bob video null bob,alice'], 'every escalation is an im.escalate event');
  t.equal(events[0].result.address, `sip:bridge-${conv.id}@${D}`);

  // Refusals change nothing.
  t.match((await dave(`/conversations/${conv.id}/escalate`, { method: 'POST', body: { medium: 'conference' } })).json, { code: 'IM_ERR_NOT_A_MEMBER' });
  t.equal((await alice(`/conversations/${conv.id}/escalate`, { method: 'POST', body: { medium: 'fax' } })).status, 400);
  t.match((await alice('/escalate', { method: 'POST', body: { with: 'alice', medium: 'audio' } })).json, { code: 'IM_ERR_BAD_REQUEST' });
  t.match((await alice('/escalate', { method: 'POST', body: { with: 'nobody', medium: 'audio' } })).json, { code: 'IM_ERR_UNKNOWN_USER' });
  t.match(await aliceLive.request('im.escalate', { conversation: conv.id, medium: 'smoke' }), { ok: false, error: { code: 'IM_ERR_BAD_REQUEST', message: /medium/ } });
  const failing = (await alice('/conversations', { method: 'POST', body: { participants: ['bob'], subject: 'fail' } })).json as { id: string };
  const failed = await alice(`/conversations/${failing.id}/escalate`, { method: 'POST', body: { medium: 'conference' } });
  t.equal(failed.status, 502);
  t.match(failed.json, { code: 'IM_ERR_ESCALATION_FAILED', message: /bridge: no bridge ports free/ }, 'the handler\'s failure is reported, coded');
  await new Promise((r) => setTimeout(r, 300));
  t.equal((await log()).events.length, 3, 'a failed escalation is not announced');
});
