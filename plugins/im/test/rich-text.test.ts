/** Rich text: HTML sanitised against the allow-list, over HTTP and SIP, links removed when the URL filter is on. */
import t from 'tap';
import { sanitizeRichText } from '../src/rich-text.ts';
import { addUser, bodyOf, header, imHost, setConfig, SipUser, statusOf, webUser } from './helpers.ts';

t.test('the allow-list', async (t) => {
  t.equal(sanitizeRichText('<b>bold</b> <script>alert(1)</script><i onclick="x()">it</i>', true), '<b>bold</b> <i>it</i>');
  t.equal(sanitizeRichText('<img src=x onerror=alert(1)><p style="color:red">p</p>', true), '<p>p</p>');
  t.equal(sanitizeRichText('<a href="javascript:alert(1)">x</a>', true), '<a rel="noopener noreferrer" target="_blank">x</a>', 'no script links');
  t.equal(sanitizeRichText('<a href="https://ok.example/">ok</a>', true), '<a href="https://ok.example/" rel="noopener noreferrer" target="_blank">ok</a>');
  t.equal(sanitizeRichText('<a href="https://ok.example/">ok</a>', false), 'ok', 'links dropped when the URL filter is on');
});

t.test('rich text through the plugin', async (t) => {
  const host = await imHost();
  t.teardown(() => host.close());
  for (const u of ['alice', 'bob']) await addUser(host, u);
  const bob = await SipUser.open(host, 'bob');
  const alice = await SipUser.open(host, 'alice');
  t.teardown(() => Promise.all([bob.close(), alice.close()]));
  await bob.register();
  const aliceWeb = await webUser(host, 'alice');

  const sent = await aliceWeb('/messages', { method: 'POST', body: { to: 'bob', contentType: 'text/html', body: '<b>Hi</b><script>steal()</script>' } });
  t.equal(sent.json.body, '<b>Hi</b>');
  const got = await bob.receive();
  t.equal(bodyOf(got), '<b>Hi</b>', 'the recipient gets the clean HTML');
  t.match(header(got, 'Content-Type'), /^text\/html/);

  t.equal(statusOf(await alice.send('bob', '<i>sip</i><iframe src="x"></iframe>', 'text/html')), 200);
  t.equal(bodyOf(await bob.receive()), '<i>sip</i>', 'from SIP too');

  await setConfig(host, { urls: 'defang' });
  await aliceWeb('/messages', { method: 'POST', body: { to: 'bob', contentType: 'text/html', body: '<a href="https://evil.example/">https://evil.example/</a>' } });
  t.equal(bodyOf(await bob.receive()), 'hxxps://evil[.]example/', 'the link is gone and its text defanged');
});
