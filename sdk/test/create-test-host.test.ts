// createTestHost boots a real host; the `hello` fixture (written only against
// the SDK) is exercised through HTTP and SIP exactly as a plugin author would.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { createTestHost, sendSipRequest, type TestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../../core/src/storage/index.ts';

const fixture = (path: string) => fileURLToPath(new URL(`../../test/fixtures/plugins/${path}`, import.meta.url));
const HELLO = fixture('good/hello');
const AUDIT = fixture('events/audit');

async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  // Durable delivery is asynchronous; bounded by count, never by asserting a time.
  for (let i = 0; i < 200 && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}

t.test('the hello fixture: route, entity + migration, SIP MESSAGE, UI fragment, per-site config', async (t) => {
  const th = await createTestHost({ plugins: [HELLO], sites: ['one.test', 'two.test'] });
  t.teardown(() => th.close());
  t.match(th.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.ok(th.sipPort > 0);
  t.type(th.adminToken, 'string');

  t.same(await (await fetch(`${th.url}/api/plugins/hello/sites/one.test/greeting`)).json(), { greeting: 'Hello', site: 'one.test' }, 'config defaults apply');

  const sip = await sendSipRequest({ port: th.sipPort, uri: 'sip:bob@one.test', from: 'sip:alice@one.test', body: 'hello over SIP' });
  t.equal(sip.status, 200, 'SIP MESSAGE answered 200');
  const posted = await fetch(`${th.url}/api/plugins/hello/sites/one.test/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sender: 'carol', body: 'hello over HTTP' }),
  });
  t.equal(posted.status, 201);
  const invalid = await fetch(`${th.url}/api/plugins/hello/sites/one.test/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sender: 'carol' }),
  });
  t.equal(invalid.status, 400, 'the route schema is enforced');

  const listed = (await (await fetch(`${th.url}/api/plugins/hello/sites/one.test/messages`)).json()) as { messages: Array<{ sender: string; body: string; via: string }> };
  t.same(listed.messages.map((m) => [m.sender, m.body, m.via]), [
    ['sip:alice@one.test', 'hello over SIP', 'sip'],
    ['carol', 'hello over HTTP', 'http'],
  ], 'both stored through the plugin entity');
  const other = (await (await fetch(`${th.url}/api/plugins/hello/sites/two.test/messages`)).json()) as { messages: unknown[] };
  t.same(other.messages, [], 'per site');

  const deliveries = await poll(
    async () => ((await (await fetch(`${th.url}/api/plugins/hello/sites/one.test/deliveries`)).json()) as { deliveries: unknown[] }).deliveries,
    (d) => d.length >= 2,
  );
  t.equal(deliveries.length, 2, 'each published event reached the durable consumer once');

  const put = await th.adminFetch('/api/admin/sites/two.test/plugins/hello', { method: 'PUT', body: JSON.stringify({ config: { maxBody: 5 } }) });
  t.equal(put.status, 200);
  t.equal((await sendSipRequest({ port: th.sipPort, uri: 'sip:bob@two.test', body: 'far too long' })).status, 413, 'per-site config reaches the SIP handler');
  t.equal((await sendSipRequest({ port: th.sipPort, uri: 'sip:bob@one.test', body: 'far too long' })).status, 200, 'other site keeps its config');

  const slot = await (await fetch(`${th.url}/api/sites/one.test/ui/slots/home.widgets`)).text();
  t.match(slot, /<div data-plugin="hello" data-slot="home.widgets"><p class="hello-greeting">Hello, one\.test!<\/p>/);
});

for (const storageUrl of storageUrlsForTests()) {
  t.test(`durable events survive a restart and are delivered once accepted (${storageUrl.split(':')[0]})`, async (t) => {
    await withTestDatabase(storageUrl, async (url) => {
      const boot = () => createTestHost({
        plugins: [HELLO, AUDIT],
        sites: ['audit.test'],
        storage: url,
        adminPassword: 'durable-test-password',
        config: { plugins: { breaker: { failures: 1000, windowMs: 60_000 } } },
      });
      let th: TestHost = await boot();
      t.teardown(() => th.close());
      for (const body of ['first', 'second']) {
        t.equal((await sendSipRequest({ port: th.sipPort, uri: 'sip:x@audit.test', body })).status, 200);
      }
      const received = () => fetch(`${th.url}/api/plugins/audit/sites/audit.test/received`).then(async (r) => ((await r.json()) as { received: number[] }).received);
      t.same(await received(), [], 'the consumer refuses while not accepting');
      await th.close();

      th = await boot();
      t.equal((await th.adminFetch('/api/admin/sites/audit.test/plugins/audit', { method: 'PUT', body: JSON.stringify({ config: { accept: true } }) })).status, 200);
      const after = await poll(received, (r) => r.length >= 2);
      t.same(after, [1, 2], 'events published before the restart are delivered after it, in order, once each');
    });
  });
}
