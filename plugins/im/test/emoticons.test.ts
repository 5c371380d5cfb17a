/** Emoticons: text emoticons become the same Unicode emoji for SIP, web and history; per-site switch. */
import t from 'tap';
import { EMOTICONS, emojify } from '../src/emoticons.ts';
import { sanitizeRichText } from '../src/rich-text.ts';
import { addUser, bodyOf, imHost, setConfig, SipUser, statusOf, webUser } from './helpers.ts';
import { LiveUser } from './live-client.ts';

t.test('the mapping', async (t) => {
  t.equal(emojify('hi :)'), 'hi \u{1F642}');
  t.equal(emojify(':-) :( ;) :D xD :P :O :\'( :| :/ :* B-) >:( ^^ <3 </3'),
    '\u{1F642} \u{1F641} \u{1F609} \u{1F603} \u{1F606} \u{1F61B} \u{1F62E} \u{1F622} \u{1F610} \u{1F615} \u{1F618} \u{1F60E} \u{1F620} \u{1F60A} \u2764\uFE0F \u{1F494}');
  t.equal(emojify('great :), really!'), 'great \u{1F642}, really!', 'before punctuation');
  t.equal(emojify('see http://example.com/:) or https://x.example'), 'see http://example.com/:) or https://x.example', 'URLs untouched');
  t.equal(emojify('at 10:30 :Daily'), 'at 10:30 :Daily', 'only whole emoticons');
  t.equal(emojify('f(x:) = 1'), 'f(x:) = 1', 'not glued to a word');
  t.equal(emojify('a :) :) b'), 'a \u{1F642} \u{1F642} b', 'side by side');
  const spellings = EMOTICONS.flatMap(([s]) => s);
  t.equal(new Set(spellings).size, spellings.length, 'each spelling maps to one emoji');
});

t.test('in rich text, text nodes only and never in code', async (t) => {
  t.equal(sanitizeRichText('<b>yes :)</b> <code>a :) b</code> <3', true, true), '<b>yes \u{1F642}</b> <code>a :) b</code> \u2764\uFE0F');
  t.equal(sanitizeRichText('<p title=":)">x</p>', true, true), '<p>x</p>', 'attributes are not text');
  t.equal(sanitizeRichText('<b>yes :)</b>', true, false), '<b>yes :)</b>', 'off');
});

t.test('through the plugin: SIP, web and history see the same emoji', async (t) => {
  const host = await imHost();
  t.teardown(() => host.close());
  for (const u of ['alice', 'bob']) await addUser(host, u);
  const bob = await SipUser.open(host, 'bob');
  const alice = await SipUser.open(host, 'alice');
  const bobLive = await LiveUser.open(host, 'bob');
  t.teardown(() => Promise.all([bob.close(), alice.close(), bobLive.close()]));
  await bob.register();

  t.equal(statusOf(await alice.send('bob', 'see you :) <3')), 200);
  t.equal(bodyOf(await bob.receive()), 'see you \u{1F642} \u2764\uFE0F', 'the phone gets emoji');
  t.equal((await bobLive.event('im.message')).body, 'see you \u{1F642} \u2764\uFE0F', 'the browser too');
  const bobWeb = await webUser(host, 'bob');
  t.same((await bobWeb('/history')).json.messages.map((m: { body: string }) => m.body), ['see you \u{1F642} \u2764\uFE0F'], 'and history');
  const aliceWeb = await webUser(host, 'alice');
  t.equal((await aliceWeb('/messages', { method: 'POST', body: { to: 'bob', contentType: 'text/html', body: '<i>ok ;)</i>' } })).json.body, '<i>ok \u{1F609}</i>');
  t.equal(bodyOf(await bob.receive()), '<i>ok \u{1F609}</i>');

  await setConfig(host, { emoticons: false });
  t.equal((await aliceWeb('/messages', { method: 'POST', body: { to: 'bob', body: 'raw :)' } })).json.body, 'raw :)', 'a site can keep them as typed');
  t.equal(bodyOf(await bob.receive()), 'raw :)');
});
