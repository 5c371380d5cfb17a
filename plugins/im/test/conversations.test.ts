/**
 * Multiparty conversations mixing SIP and web participants: web posts reach
 * SIP participants from the conversation address, SIP replies to that
 * address reach everyone, participants join mid-conversation, and the
 * per-site participant limit refuses the one too many.
 */
import t from 'tap';
import { D, addUser, bodyOf, header, imHost, setConfig, SipUser, statusOf, webUser } from './helpers.ts';

t.test('a conversation with SIP and web participants', async (t) => {
  const host = await imHost();
  t.teardown(() => host.close());
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) await addUser(host, u, u === 'alice' ? 'Alice' : u);
  const alice = await webUser(host, 'alice');
  const carolWeb = await webUser(host, 'carol');
  const daveWeb = await webUser(host, 'dave');
  const bob = await SipUser.open(host, 'bob');
  const carol = await SipUser.open(host, 'carol');
  const outsider = await SipUser.open(host, 'erin');
  t.teardown(() => Promise.all([bob.close(), carol.close(), outsider.close()]));
  await bob.register();
  await carol.register();

  const created = await alice('/conversations', { method: 'POST', body: { participants: ['bob', 'carol'], subject: 'Launch' } });
  t.equal(created.status, 201);
  const conv = created.json as { id: string; address: string; participants: string[] };
  t.same(conv.participants, ['alice', 'bob', 'carol']);
  t.match(conv.address, new RegExp(`^sip:conf-[0-9a-f]{12}@${D.replace('.', '\\.')}$`));
  const confUser = conv.address.slice(4, conv.address.indexOf('@'));

  const posted = await alice(`/conversations/${conv.id}/messages`, { method: 'POST', body: { body: 'Kick-off at 10' } });
  t.equal(posted.status, 201);
  for (const [name, ua] of [['bob', bob], ['carol', carol]] as const) {
    const got = await ua.receive();
    t.equal(bodyOf(got), 'Kick-off at 10', `${name} (SIP) got the web post`);
    t.match(header(got, 'From'), new RegExp(`^"Alice \\(Launch\\)" <${conv.address}>`), `${name} sees who, from the conversation address`);
  }

  const reply = await bob.send(confUser, 'Works for me');
  t.equal(statusOf(reply), 200, 'a SIP participant replies to the conversation address');
  t.equal(bodyOf(await carol.receive()), 'Works for me', 'the other SIP participant gets it');
  const read = await carolWeb(`/conversations/${conv.id}/messages`);
  t.same(read.json.messages.map((m: { sender: string; body: string }) => `${m.sender}: ${m.body}`), ['alice: Kick-off at 10', 'bob: Works for me'], 'web participants read it back');
  const after = read.json.messages[0].id;
  const paged = await carolWeb(`/conversations/${conv.id}/messages?afterId=${after}`);
  t.equal(paged.status, 200, JSON.stringify(paged.json));
  t.same((await carolWeb(`/conversations/${conv.id}/messages?afterId=${after}`)).json.messages.map((m: { body: string }) => m.body), ['Works for me'], 'paging forward');

  t.equal(statusOf(await outsider.send(confUser, 'let me in')), 403, 'a non-participant is refused over SIP');
  t.equal((await daveWeb(`/conversations/${conv.id}/messages`)).status, 403, 'and over HTTP');
  t.equal((await daveWeb(`/conversations/${conv.id}/messages`, { method: 'POST', body: { body: 'hi' } })).json.code, 'IM_ERR_NOT_A_MEMBER');

  const added = await carolWeb(`/conversations/${conv.id}/participants`, { method: 'POST', body: { username: 'dave' } });
  t.equal(added.status, 200);
  t.same(added.json.participants, ['alice', 'bob', 'carol', 'dave'], 'added mid-conversation');
  t.equal((await daveWeb(`/conversations/${conv.id}/messages`, { method: 'POST', body: { body: 'thanks for adding me' } })).status, 201);
  t.equal(bodyOf(await bob.receive()), 'thanks for adding me');
  t.equal(bodyOf(await carol.receive()), 'thanks for adding me');
  t.same((await daveWeb(`/history?q=thanks`)).json.messages.map((m: { conversationId: string }) => m.conversationId), [conv.id], 'conversation messages are in history too');

  t.equal((await alice('/conversations/0123456789ab')).status, 404, 'unknown conversation');
  t.equal((await alice('/conversations', { method: 'POST', body: { participants: ['nobody'] } })).json.code, 'IM_ERR_UNKNOWN_USER');
  t.equal(statusOf(await bob.send('conf-0123456789ab', 'anyone?')), 404, 'unknown conversation address over SIP');
  t.equal(await outsider.settle(500), 0, 'the outsider received nothing');
});

t.test('the participant limit is per site config, default 100', async (t) => {
  const host = await imHost();
  t.teardown(() => host.close());
  for (const u of ['alice', 'bob', 'carol', 'dave']) await addUser(host, u);
  const view = (await (await host.adminFetch('/api/admin/plugins')).json()) as { plugins: Array<{ id: string; configSchema?: { properties?: { maxParticipants?: { default?: number } } } }> };
  const im = view.plugins.find((p) => p.id === 'im');
  t.equal(im?.configSchema?.properties?.maxParticipants?.default, 100, 'default limit is 100');

  await setConfig(host, { maxParticipants: 3 });
  const alice = await webUser(host, 'alice');
  const tooMany = await alice('/conversations', { method: 'POST', body: { participants: ['bob', 'carol', 'dave'] } });
  t.equal(tooMany.status, 409);
  t.match(tooMany.json, { code: 'IM_ERR_CONVERSATION_FULL', message: /at most 3 participants/ });
  const conv = (await alice('/conversations', { method: 'POST', body: { participants: ['bob', 'carol'] } })).json as { id: string };
  const fourth = await alice(`/conversations/${conv.id}/participants`, { method: 'POST', body: { username: 'dave' } });
  t.equal(fourth.status, 409, 'the one over the limit is refused when added');
  t.match(fourth.json, { code: 'IM_ERR_CONVERSATION_FULL' });
  t.same((await alice(`/conversations/${conv.id}`)).json.participants, ['alice', 'bob', 'carol'], 'membership unchanged');
});
