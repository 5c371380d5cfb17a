/**
 * Live push over the host's WebSocket (`/api/live`) with the `ws` client
 * against a real host: a multiparty conversation mixing a SIP client (sipp)
 * and two browser participants (HTTP + WebSocket), on SQLite and MariaDB;
 * pager mode between browser and SIP users (messages and typing both ways);
 * the missed-conversation notice on sign-in; coded refusals of bad client
 * messages.
 */
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestHost, type TestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../../../core/src/storage/index.ts';
import { freePort, runSipp, startSippServer } from '../../../test/helpers/sipp.ts';
import { D, addUser, bodyOf, header, pluginDir, setConfig, SipUser, statusOf, webUser } from './helpers.ts';
import { LiveUser } from './live-client.ts';

const TYPING = (state: string) => `<?xml version="1.0" encoding="UTF-8"?><isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>${state}</state><refresh>60</refresh></isComposing>`;

/** Register `user` with sipp from `port` (digest), so the host sends to whatever listens there next. */
async function sippRegister(host: TestHost, user: string, port: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'im-live-'));
  const inf = join(dir, 'user.csv');
  writeFileSync(inf, `SEQUENTIAL\n${user};${user}-secret-pw;[authentication username=${user} password=${user}-secret-pw]\n`);
  const r = await runSipp({ scenario: 'uac-register-auth.xml', target: `127.0.0.1:${host.sipPort}`, localPort: port, injectFile: inf, calls: 1, timeoutMs: 15_000, keys: { domain: D, expires: '600' } });
  if (r.successful !== 1) throw new Error(`sipp register ${user}: ${r.stderr} ${r.errors ?? ''}`);
}

async function sippSend(host: TestHost, from: string, to: string, text: string, ctype = 'text/plain'): Promise<number> {
  const r = await runSipp({ scenario: 'im-uac-message.xml', target: `127.0.0.1:${host.sipPort}`, calls: 1, timeoutMs: 15_000, keys: { domain: D, from, to, text, ctype } });
  return r.successful;
}

for (const storageUrl of storageUrlsForTests()) {
  const kind = storageUrl.split(':')[0];
  t.test(`a conversation of a sipp client and two browser participants on ${kind}`, async (t) => {
    await withTestDatabase(storageUrl, async (storage) => {
      // sipp answers digest challenges with MD5 only.
      const host = await createTestHost({ plugins: [pluginDir], sites: [D], storage, config: { sip: { registrar: { algorithms: ['MD5', 'SHA-256'] } } } });
      t.teardown(() => host.close());
      for (const u of ['alice', 'bob', 'carol', 'dave']) await addUser(host, u, u === 'alice' ? 'Alice' : u);

      // bob is sipp: registered from a port where a sipp UAS then answers every MESSAGE.
      const bobPort = await freePort('udp');
      await sippRegister(host, 'bob', bobPort);
      const bobPhone = await startSippServer({ scenario: 'uas-200.xml', localPort: bobPort, calls: 3, timeoutMs: 60_000, traceMessages: true });
      t.teardown(() => bobPhone.stop());

      const alice = await LiveUser.open(host, 'alice');
      const carol = await LiveUser.open(host, 'carol');
      t.teardown(() => Promise.all([alice.close(), carol.close()]));
      t.equal(alice.hello.data.username, 'alice');
      t.ok(alice.hello.data.plugins.includes('im'), 'the hello frame lists im');
      const aliceHttp = await webUser(host, 'alice');

      const created = await aliceHttp('/conversations', { method: 'POST', body: { participants: ['bob', 'carol'], subject: 'Launch' } });
      t.equal(created.status, 201);
      const conv = created.json as { id: string; address: string };
      const confUser = `conf-${conv.id}`;
      for (const who of [alice, carol]) {
        const ev = await who.event('im.conversation');
        t.match(ev, { reason: 'created', by: 'alice', conversation: { id: conv.id, subject: 'Launch', participants: ['alice', 'bob', 'carol'], address: conv.address } }, `${who.user} told of the new conversation`);
      }

      // 1. alice posts over HTTP: carol's browser and bob's phone get it; alice's own sessions too.
      t.equal((await aliceHttp(`/conversations/${conv.id}/messages`, { method: 'POST', body: { body: 'Kick-off at 10' } })).status, 201);
      const pushed = await carol.event('im.message');
      t.match(pushed, { conversationId: conv.id, sender: 'alice', recipients: ['bob', 'carol'], body: 'Kick-off at 10', via: 'http', contentType: 'text/plain' });
      t.equal((await alice.event('im.message')).id, pushed.id, 'the sender\'s sessions get it too');

      // 2. carol types over the socket: alice's browser sees it, bob's phone gets isComposing.
      const typed = await carol.request('im.typing', { conversation: conv.id, state: 'active' });
      t.match(typed, { ok: true, data: { sessions: 1 } }, 'one browser session reached');
      t.match(await alice.event('im.typing'), { conversationId: conv.id, from: 'carol', state: 'active', via: 'live' });

      // 3. carol sends over the socket; the reply is the stored message.
      const sent = await carol.request('im.send', { conversation: conv.id, body: 'Agreed <3' });
      t.equal(sent.ok, true, JSON.stringify(sent));
      // The emoticon becomes the same emoji for the browsers and the phone.
      t.match(sent.data, { status: 'posted', message: { conversationId: conv.id, sender: 'carol', body: 'Agreed \u2764\uFE0F', via: 'live' } });
      t.equal((await alice.event('im.message', (m) => m.sender === 'carol')).id, sent.data.message.id);

      // 4. bob (sipp) replies to the conversation address: both browsers get it.
      t.equal(await sippSend(host, 'bob', confUser, 'Works for me'), 1, 'sipp MESSAGE to the conversation answered 200');
      for (const who of [alice, carol]) {
        const m = await who.event('im.message', (x) => x.sender === 'bob');
        t.equal(m.body.trim(), 'Works for me', `${who.user} got bob's SIP message`);
        t.equal(m.via, 'sip');
      }
      t.equal(await sippSend(host, 'bob', confUser, TYPING('active'), 'application/im-iscomposing+xml'), 1, 'sipp isComposing to the conversation');
      for (const who of [alice, carol]) t.match(await who.event('im.typing', (x) => x.from === 'bob'), { conversationId: conv.id, state: 'active', refresh: 60, via: 'sip' });

      // What bob's phone received, in order: alice's post, carol's typing, carol's message.
      const phone = await bobPhone.done;
      t.equal(phone.successful, 3, `bob's phone answered three MESSAGEs (${phone.errors ?? ''})`);
      const log = phone.messages ?? '';
      const received = log.split(/-{10,}[^\n]*\n/).filter((block) => /^MESSAGE sip:/m.test(block));
      t.equal(received.length, 3, 'three MESSAGEs reached the phone');
      t.match(received[0], /Kick-off at 10/);
      t.match(received[0], new RegExp(`From: "Alice \\(Launch\\)" <${conv.address}>`), 'from the conversation address');
      t.match(received[1], /Content-Type: application\/im-iscomposing\+xml/i);
      t.match(received[1], /<state>active<\/state>/);
      t.match(received[2], /Agreed \u2764\uFE0F/u);

      // 5. a participant added mid-conversation: everyone's browser hears of it, the newcomer too.
      const dave = await LiveUser.open(host, 'dave');
      t.teardown(() => dave.close());
      t.equal((await aliceHttp(`/conversations/${conv.id}/participants`, { method: 'POST', body: { username: 'dave' } })).status, 200);
      for (const who of [alice, carol, dave]) {
        t.match(await who.event('im.conversation', (e) => e.reason === 'participant-added'), { by: 'alice', added: 'dave', conversation: { participants: ['alice', 'bob', 'carol', 'dave'] } }, `${who.user} told dave joined`);
      }
      t.equal((await dave.request('im.send', { conversation: conv.id, body: 'hi all' })).ok, true);
      t.equal((await carol.event('im.message', (m) => m.sender === 'dave')).body, 'hi all');

      // Refusals are coded replies; nothing is stored.
      const outsiderHttp = await webUser(host, 'dave');
      const before = (await outsiderHttp('/history')).json.messages.length;
      const notMember = await alice.request('im.send', { conversation: '0123456789ab', body: 'x' });
      t.match(notMember, { ok: false, error: { code: 'IM_ERR_CONVERSATION_NOT_FOUND' } });
      t.equal((await outsiderHttp('/history')).json.messages.length, before);
    });
  });
}

t.test('pager mode between a browser and a SIP phone over the live channel', async (t) => {
  const host = await createTestHost({ plugins: [pluginDir], sites: [D] });
  t.teardown(() => host.close());
  for (const u of ['alice', 'bob', 'carol', 'erin']) await addUser(host, u);
  const alice = await LiveUser.open(host, 'alice');
  const alice2 = await LiveUser.open(host, 'alice');
  const bob = await SipUser.open(host, 'bob');
  t.teardown(() => Promise.all([alice.close(), alice2.close(), bob.close()]));
  await bob.register();

  // SIP → browser: delivered (200) although alice has no phone; both tabs get it.
  t.equal(statusOf(await bob.send('alice', 'ping from the phone')), 200, 'a browser session counts as delivery');
  for (const tab of [alice, alice2]) t.match(await tab.event('im.message'), { sender: 'bob', recipients: ['alice'], body: 'ping from the phone', via: 'sip', conversationId: 'pair:alice:bob' });
  t.equal(statusOf(await bob.send('alice', TYPING('active'), 'application/im-iscomposing+xml')), 200, 'typing to a browser-only user is answered 200');
  t.match(await alice.event('im.typing'), { from: 'bob', state: 'active', refresh: 60, via: 'sip', conversationId: 'pair:alice:bob' });

  // Browser → SIP: typing becomes isComposing, the message a MESSAGE; the reply is the stored message.
  t.match(await alice.request('im.typing', { to: 'bob' }), { ok: true, data: { sessions: 0, endpoints: 1 } });
  const composing = await bob.receive();
  t.match(header(composing, 'Content-Type'), /application\/im-iscomposing\+xml/);
  t.match(bodyOf(composing), /<state>active<\/state>/);
  t.match(header(composing, 'From'), /<sip:alice@example\.test>/);
  const sent = await alice.request('im.send', { to: 'bob', body: 'pong from the browser' });
  t.match(sent, { ok: true, data: { status: 'delivered', message: { sender: 'alice', recipients: ['bob'], body: 'pong from the browser', via: 'live' } } });
  t.equal(bodyOf(await bob.receive()), 'pong from the browser');
  t.equal((await alice2.event('im.message', (m) => m.sender === 'alice')).id, sent.data.message.id, 'the other tab sees what alice sent');

  // Coded refusals; the socket stays up and nothing is stored.
  t.match(await alice.request('im.send', { to: 'nobody', body: 'x' }), { ok: false, error: { code: 'IM_ERR_UNKNOWN_USER' } });
  t.match(await alice.request('im.send', { to: 'bob' }), { ok: false, error: { code: 'IM_ERR_BAD_REQUEST', message: /"body"/ } });
  t.match(await alice.request('im.send', { to: 'bob', conversation: '0123456789ab', body: 'x' }), { ok: false, error: { code: 'IM_ERR_BAD_REQUEST', message: /exactly one/ } });
  t.match(await alice.request('im.send', 'hello'), { ok: false, error: { code: 'IM_ERR_BAD_REQUEST' } });
  t.match(await alice.request('im.send', { to: 'bob', body: 'x', html: true }), { ok: false, error: { code: 'IM_ERR_BAD_REQUEST', message: /unknown field html/ } });
  t.match(await alice.request('im.typing', { to: 'bob', state: 'thinking' }), { ok: false, error: { code: 'IM_ERR_BAD_REQUEST', message: /"state"/ } });
  t.match(await alice.request('im.typing', { to: 'carol' }), { ok: false, error: { code: 'IM_ERR_UNAVAILABLE' } }, 'typing to someone signed in nowhere');
  await setConfig(host, { keywords: { words: ['darn'], action: 'block' } });
  t.match(await alice.request('im.send', { to: 'bob', body: 'darn it' }), { ok: false, error: { code: 'IM_ERR_BLOCKED', message: /keyword filter/ } });
  t.match(await alice.request('im.send', { to: 'bob', body: 'x', contentType: 'image/png' }), { ok: false, error: { code: 'IM_ERR_BAD_REQUEST', message: /contentType/ } });
  const unknownType = await alice.request('im.nothing', {});
  t.match(unknownType, { type: 'error', code: 'CORE_ERR_LIVE_UNKNOWN_TYPE' }, 'unknown types are the host\'s refusal');
  const history = (await (await webUser(host, 'alice'))('/history')).json.messages.map((m: { body: string }) => m.body);
  t.same(history, ['ping from the phone', 'pong from the browser'], 'refused messages are not kept');
  t.equal(await bob.settle(500), 2, 'bob got nothing refused');
});

t.test('messages stored for a user are pushed as im.missed when a browser session opens', async (t) => {
  const host = await createTestHost({ plugins: [pluginDir], sites: [D] });
  t.teardown(() => host.close());
  for (const u of ['alice', 'bob', 'dave']) await addUser(host, u);
  const alice = await webUser(host, 'alice');
  const bob = await webUser(host, 'bob');
  t.equal((await alice('/messages', { method: 'POST', body: { to: 'dave', body: 'are you there?' } })).json.status, 'stored');
  t.equal((await bob('/messages', { method: 'POST', body: { to: 'dave', body: 'call me' } })).json.status, 'stored');

  const dave = await LiveUser.open(host, 'dave');
  t.teardown(() => dave.close());
  const missed = await dave.event('im.missed');
  t.match(missed, { count: 2, senders: ['alice', 'bob'] });
  t.same(missed.messages.map((m: { body: string }) => m.body), ['are you there?', 'call me'], 'in order');

  // Pushed once: a phone registering now gets no second notice.
  const phone = await SipUser.open(host, 'dave');
  t.teardown(() => phone.close());
  await phone.register();
  t.equal(await phone.settle(700), 0, 'nothing left queued for the phone');
  const tab2 = await LiveUser.open(host, 'dave');
  t.teardown(() => tab2.close());
  t.equal(await tab2.quiet('im.missed'), 0, 'a second tab gets no notice again');

  // Delivered live from now on: not stored.
  t.equal((await alice('/messages', { method: 'POST', body: { to: 'dave', body: 'there you are' } })).json.status, 'delivered');
  t.equal((await dave.event('im.message')).body, 'there you are');
});
