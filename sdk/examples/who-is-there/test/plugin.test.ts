import t from 'tap';
import { fileURLToPath } from 'node:url';
import { createTestHost, sendSipRequest } from '@switchboard/sdk';
import { answerFor } from '../src/index.ts';

const pluginDir = fileURLToPath(new URL('..', import.meta.url));

t.test('answers', async (t) => {
  t.equal(answerFor('help', []), 'Send "who" to see who has been around lately.');
  t.equal(answerFor(' WHO ', []), 'Nobody else has been around lately.');
  t.equal(answerFor('who', ['sip:a@x', 'sip:b@x']), 'Around lately: sip:a@x, sip:b@x');
});

t.test('who-is-there on a real host: SIP MESSAGE to bot@site, replies and presence over HTTP', async (t) => {
  const host = await createTestHost({ plugins: [pluginDir], sites: ['branch.test'] });
  t.teardown(() => host.close());
  const base = `${host.url}/api/plugins/who-is-there/sites/branch.test`;

  const alice = await sendSipRequest({ port: host.sipPort, uri: 'sip:bot@branch.test', from: 'sip:alice@branch.test', body: 'hello' });
  t.equal(alice.status, 200);
  const bob = await sendSipRequest({ port: host.sipPort, uri: 'sip:bot@branch.test', from: 'sip:bob@branch.test', body: 'who' });
  t.equal(bob.status, 200);
  t.equal(bob.body, '', 'a 2xx to MESSAGE carries no body');

  const replies = (await (await fetch(`${base}/replies?to=${encodeURIComponent('sip:bob@branch.test')}`)).json()) as { replies: Array<{ body: string }> };
  t.same(replies.replies.map((r) => r.body), ['Around lately: sip:alice@branch.test']);
  const help = (await (await fetch(`${base}/replies?to=${encodeURIComponent('sip:alice@branch.test')}`)).json()) as { replies: Array<{ body: string }> };
  t.match(help.replies[0]?.body, /Send "who"/);

  const present = (await (await fetch(`${base}/present`)).json()) as { present: Array<{ uri: string }> };
  t.same(present.present.map((p) => p.uri), ['sip:alice@branch.test', 'sip:bob@branch.test']);

  const missingQuery = await fetch(`${base}/replies`);
  t.equal(missingQuery.status, 400, 'the route schema is enforced');
});
