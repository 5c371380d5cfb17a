// RFC 4662 resource list server: a user's contact list as one subscription.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { runSipp } from '../../../test/helpers/sipp.ts';
import { bodyOf, header, presenceHost, statusOf, tagOf, Ua, userClient } from './helpers.ts';

const scenario = fileURLToPath(new URL('../../../test/sipp/presence-rls.xml', import.meta.url));

async function listOwner(host: Awaited<ReturnType<typeof presenceHost>>) {
  const alice = await userClient(host, 'alice');
  const bob = await userClient(host, 'bob');
  const carol = await userClient(host, 'carol');
  for (const address of ['bob', 'carol', 'dave@elsewhere.test', '+1 555 0100']) {
    const r = await alice.call('POST', '/contacts', { address });
    if (r.status !== 201) throw new Error(`contact ${address}: ${r.status}`);
  }
  await bob.call('PUT', '/me', { state: 'busy', note: 'release' });
  await carol.call('PUT', '/me', { state: 'available' });
  await carol.call('PUT', '/access/alice', { level: 'blocked' });
  return { alice, bob, carol };
}

t.test('sipp: resource list subscription, full then partial state, unsubscribe', async (t) => {
  const host = await presenceHost(['alice', 'bob', 'carol']);
  t.teardown(() => host.close());
  await listOwner(host);
  const result = await runSipp({ scenario, target: `127.0.0.1:${host.sipPort}`, service: 'alice', calls: 1, timeoutMs: 30_000, traceMessages: true });
  if (result.exitCode !== 0) t.comment(JSON.stringify(result).slice(0, 8000));
  t.equal(result.exitCode, 0, 'sipp scenario succeeded');
  t.equal(result.stats?.successfulCall, 1);
});

/** The RLMI part and the PIDF parts of a multipart/related NOTIFY, by Content-ID. */
function parts(notify: string): { rlmi: string; byCid: Map<string, string>; boundary: string } {
  const type = header(notify, '(?:content-type|c)') ?? '';
  const boundary = /boundary="([^"]+)"/.exec(type)?.[1] ?? '';
  const start = /start="<([^>]+)>"/.exec(type)?.[1] ?? '';
  const byCid = new Map<string, string>();
  for (const chunk of bodyOf(notify).split(`--${boundary}`).slice(1)) {
    if (chunk.startsWith('--')) break;
    const cid = /Content-ID: <([^>]+)>/i.exec(chunk)?.[1] ?? '';
    const i = chunk.indexOf('\r\n\r\n');
    byCid.set(cid, chunk.slice(i + 4).replace(/\r\n$/, ''));
  }
  return { rlmi: byCid.get(start) ?? '', byCid, boundary };
}

t.test('resource lists: owner only, filtering per resource, list changes, fetch, refresh', async (t) => {
  const host = await presenceHost(['alice', 'bob', 'carol', 'erin']);
  t.teardown(() => host.close());
  const { alice, bob } = await listOwner(host);
  const ua = await Ua.open('alice', host.sipPort);
  const other = await Ua.open('erin', host.sipPort);
  t.teardown(() => Promise.all([ua.close(), other.close()]));
  const list = { ruri: 'sip:alice-contacts@example.test' };

  t.equal(statusOf(await other.send('SUBSCRIBE', 'alice-contacts', { ...list, headers: ['Event: presence', 'Supported: eventlist', 'Expires: 600'] })), 403, 'only the owner');
  t.equal(statusOf(await ua.send('SUBSCRIBE', 'nobody-contacts', { ruri: 'sip:nobody-contacts@example.test', headers: ['Event: presence', 'Supported: eventlist', 'Expires: 600'] })), 404, 'no such owner');
  t.equal(statusOf(await ua.send('SUBSCRIBE', 'alice-contacts', { ...list, headers: ['Event: presence', 'Supported: eventlist', 'Accept: application/pidf+xml', 'Expires: 600'] })), 406, 'must accept multipart/related');
  const noExt = await ua.send('SUBSCRIBE', 'alice-contacts', { ...list, headers: ['Event: presence', 'Expires: 600'] });
  t.equal(statusOf(noExt), 421);
  t.equal(header(noExt, 'Require'), 'eventlist');

  // Fetch: one terminating NOTIFY with full state.
  const fetchId = `rls-fetch-${Date.now()}`;
  t.ok([200, 202].includes(statusOf(await ua.send('SUBSCRIBE', 'alice-contacts', { ...list, callId: fetchId, headers: ['Event: presence', 'Supported: eventlist', 'Expires: 0'] }))));
  const fetched = await ua.nextNotify((m) => m.includes(fetchId));
  t.match(header(fetched, 'Subscription-State'), /^terminated/);
  t.match(parts(fetched).rlmi, /fullState="true"/);

  const callId = `rls-${Date.now()}`;
  const ok = await ua.send('SUBSCRIBE', 'alice-contacts', { ...list, callId, fromTag: 'rlsft', headers: ['Event: presence', 'Supported: eventlist', 'Expires: 600'] });
  t.ok([200, 202].includes(statusOf(ok)));
  t.equal(header(ok, 'Require'), 'eventlist');
  const first = await ua.nextNotify((m) => m.includes(callId));
  const full = parts(first);
  t.match(full.rlmi, /<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="sip:alice-contacts@example.test" version="0" fullState="true">/);
  const resources = [...full.rlmi.matchAll(/<resource uri="([^"]+)">(?:<name>[^<]*<\/name>)?<instance id="([^"]+)" state="(\w+)"(?: cid="([^"]+)")?(?: reason="(\w+)")?\/><\/resource>/g)]
    .map((m) => ({ uri: m[1], id: m[2], state: m[3], cid: m[4], reason: m[5] }));
  t.same(resources.map((r) => [r.uri, r.state, r.reason]), [
    ['sip:bob@example.test', 'active', undefined],
    ['sip:carol@example.test', 'active', undefined],
    ['sip:dave@elsewhere.test', 'terminated', 'noresource'],
  ], 'people in list order; phone numbers left out; other domains not watched');
  t.equal(full.byCid.size, 3, 'RLMI plus two PIDF parts');
  const bobPidf = full.byCid.get(resources[0]!.cid!)!;
  t.match(bobPidf, /entity="sip:bob@example.test"/);
  t.match(bobPidf, /<sb:state>busy<\/sb:state>/);
  t.match(bobPidf, /release/, 'company level sees the note');
  const carolPidf = full.byCid.get(resources[1]!.cid!)!;
  t.match(carolPidf, /<sb:state>offline<\/sb:state>/, 'carol blocked alice: offline');

  // bob gives alice Public: his part changes (coarse, no note); a partial NOTIFY with bob only.
  let mark = ua.notifies.length;
  t.equal((await bob.call('PUT', '/access/alice', { level: 'public' })).status, 200);
  const partial = parts(await ua.nextNotify((m) => m.includes(callId), 15_000, mark));
  t.match(partial.rlmi, /version="1" fullState="false"/);
  t.match(partial.rlmi, /sip:bob@example.test/);
  t.notMatch(partial.rlmi, /carol|dave/);
  const bobNow = [...partial.byCid.values()].find((b) => b.includes('entity="sip:bob@example.test"'))!;
  t.notMatch(bobNow, /release/, 'public level: no note');

  // A change of the list: full state again, with the new entry; same instance ids for the rest.
  mark = ua.notifies.length;
  t.equal((await alice.call('POST', '/contacts', { address: 'erin' })).status, 201);
  const grown = parts(await ua.nextNotify((m) => m.includes(callId), 15_000, mark));
  t.match(grown.rlmi, /version="2" fullState="true"/);
  t.match(grown.rlmi, /sip:erin@example.test/);
  t.match(grown.rlmi, new RegExp(`<resource uri="sip:bob@example.test"><name>BOB</name><instance id="${resources[0]!.id}"`), 'instance ids are stable');

  // A change of someone not on the list: nothing.
  mark = ua.notifies.length;
  const outsider = await userClient(host, 'erin');
  t.equal((await alice.call('DELETE', `/contacts/${(await alice.call('GET', '/contacts')).json.contacts.find((c: { address: string }) => c.address === 'erin@example.test').id}`)).status, 204);
  const shrunk = parts(await ua.nextNotify((m) => m.includes(callId), 15_000, mark));
  t.notMatch(shrunk.rlmi, /erin/, 'removed from the list');
  mark = ua.notifies.length;
  await outsider.call('PUT', '/me', { state: 'away' });
  await bob.call('PUT', '/me', { state: 'available' });
  const afterOutsider = await ua.nextNotify((m) => m.includes(callId), 15_000, mark);
  t.match(parts(afterOutsider).rlmi, /sip:bob@example.test/, 'the next NOTIFY is about bob');
  t.notMatch(parts(afterOutsider).rlmi, /erin/, 'nothing about someone no longer listed');

  // Refresh: 200 with Require, full state.
  mark = ua.notifies.length;
  const refresh = await ua.send('SUBSCRIBE', 'alice-contacts', { ruri: /<([^>]+)>/.exec(header(ok, '(?:contact|m)') ?? '')?.[1], callId, fromTag: 'rlsft', toTag: tagOf(header(ok, '(?:to|t)')), cseq: 2, headers: ['Event: presence', 'Supported: eventlist', 'Expires: 600'] });
  t.equal(statusOf(refresh), 200);
  t.equal(header(refresh, 'Require'), 'eventlist');
  t.match(parts(await ua.nextNotify((m) => m.includes(callId), 15_000, mark)).rlmi, /fullState="true"/);
});
