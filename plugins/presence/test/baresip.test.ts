// baresip (a softphone no one here wrote) publishes and subscribes presence through
// Switchboard, authenticating PUBLISH and SUBSCRIBE with digest.
import t from 'tap';
import { freePort } from '../../../test/helpers/sipp.ts';
import { PresencePhone, until } from './baresip-presence.ts';
import { presenceHost, userClient } from './helpers.ts';

t.test('baresip: PUBLISH open/closed, SUBSCRIBE and NOTIFYs it understands, access levels apply', async (t) => {
  const port = await freePort('udp');
  // baresip 1.0 fails on SHA-256-first challenges: MD5 only; PUBLISH and SUBSCRIBE are challenged.
  const host = await presenceHost(['alice', 'bob'], {}, undefined, undefined, {
    sip: { contacts: [`sip:127.0.0.1:${port};transport=udp,tcp`], registrar: { algorithms: ['MD5'] }, auth: { challengeMethods: ['PUBLISH', 'SUBSCRIBE'] } },
  });
  t.teardown(() => host.close());
  const alice = await userClient(host, 'alice');
  const viewer = await userClient(host, 'alice');
  t.equal((await alice.call('PUT', '/me', { state: 'busy', note: 'planning' })).status, 200);

  const phone = await PresencePhone.start({ user: 'bob', domain: 'example.test', password: 'pw-bob-secret', proxyPort: port, watch: ['alice'] });
  t.teardown(() => phone.stop());
  // When something fails, the softphone's own SIP trace says what it sent and got.
  t.teardown(() => { if (!t.passing()) t.comment(`baresip trace:\n${phone.log().slice(-20_000)}`); });
  const trace = () => phone.log().slice(-6000);
  const bobSeen = async () => (await viewer.call('GET', '/users/bob')).json.presence.state as string;

  t.equal(await until(bobSeen, 'available'), 'available', 'baresip published open (after a digest challenge)');
  t.match(phone.log(), /PUBLISH sip:bob@example\.test[\s\S]*(401 Unauthorized|407 Proxy Authentication Required)[\s\S]*Authorization: Digest[\s\S]*SIP\/2\.0 200 OK/, 'PUBLISH was challenged (401 or 407, both RFC 3261) and answered');
  t.equal(await until(() => phone.contactStatus('alice'), 'Busy'), 'Busy', `baresip shows alice Busy from our NOTIFY\n${trace()}`);

  // State changes reach baresip's contact list.
  await alice.call('PUT', '/me', { state: 'away' });
  // baresip 1.0 reads <rpid:away/> as closed: its contact list says Offline.
  t.equal(await until(() => phone.contactStatus('alice'), 'Offline'), 'Offline', 'away (rpid:away) as baresip shows it');
  await alice.call('PUT', '/me', { state: 'available' });
  t.equal(await until(() => phone.contactStatus('alice'), 'Online'), 'Online');
  await alice.call('PUT', '/me', { state: 'in-a-call' });
  t.equal(await until(() => phone.contactStatus('alice'), 'Busy'), 'Busy', 'on-the-phone shows as Busy in baresip');

  // Access levels filter what baresip gets: Blocked sees Offline.
  t.equal((await alice.call('PUT', '/access/bob', { level: 'blocked' })).status, 200);
  t.equal(await until(() => phone.contactStatus('alice'), 'Offline'), 'Offline', 'blocked: Offline');
  t.equal((await alice.call('DELETE', '/access/bob')).status, 200);
  t.equal(await until(() => phone.contactStatus('alice'), 'Busy'), 'Busy', 'unblocked: the real state again');

  // baresip's own status goes out as PUBLISH and composes with bob's other devices.
  t.ok((await phone.command('presence_offline')).ok);
  t.equal(await until(bobSeen, 'offline'), 'offline', 'baresip published closed');
  t.ok((await phone.command('presence_online')).ok);
  t.equal(await until(bobSeen, 'available'), 'available', 'and open again');
  const bob = await userClient(host, 'bob');
  await bob.call('PUT', '/me', { state: 'be-right-back' });
  t.equal(await bobSeen(), 'available', 'two devices: the most available (the phone) wins');
  t.equal((await bob.call('GET', '/me')).json.presence.devices.length, 2, 'phone and web are two devices');
  t.ok((await phone.command('presence_offline')).ok);
  t.equal(await until(bobSeen, 'be-right-back'), 'be-right-back', 'phone closed: the web state shows');

  t.match(phone.log(), /SUBSCRIBE sip:alice@example\.test[\s\S]*Authorization: Digest/, 'SUBSCRIBE was authenticated');
  t.notMatch(phone.log(), /presence: notifier closed|subscriber closed/, 'no subscription failed');
});
