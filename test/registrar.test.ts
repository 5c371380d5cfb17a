/**
 * The registrar and SIP authentication through a real host, on raw sockets
 * (RFC 3261 §10, RFC 8760, RFC 3327, RFC 5626), on SQLite and MariaDB.
 */
import t from 'tap';
import { createTestHost, type TestHost } from '../sdk/src/index.ts';
import { storageUrlsForTests, withTestDatabase } from '../core/src/storage/index.ts';
import { udpPeer, statusOf, type RawPeer } from './helpers/raw-sip.ts';
import { challengeOf, digestAnswer } from './helpers/digest-peer.ts';

const DOMAIN = 'example.test';
let seq = 0;

interface Reg { user?: string; aor?: string; contacts?: string[]; expires?: number | null; callId?: string; cseq?: number; auth?: string; extra?: string[] }

function register(peer: RawPeer, hostPort: number, r: Reg): string {
  const aor = r.aor ?? r.user ?? 'alice';
  return [
    `REGISTER sip:${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKreg${++seq}x${Date.now()};rport`,
    'Max-Forwards: 70',
    `From: <sip:${aor}@${DOMAIN}>;tag=r${seq}`,
    `To: <sip:${aor}@${DOMAIN}>`,
    `Call-ID: ${r.callId ?? `reg-${seq}`}`,
    `CSeq: ${r.cseq ?? 1} REGISTER`,
    ...(r.contacts ?? [`<sip:${aor}@127.0.0.1:${peer.port}>`]).map((c) => `Contact: ${c}`),
    ...(r.expires === null ? [] : [`Expires: ${r.expires ?? 300}`]),
    ...(r.auth ? [`Authorization: ${r.auth}`] : []),
    ...(r.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  void hostPort;
}

/** REGISTER, answer the challenge with `password`, return the final response. */
async function registerWithAuth(peer: RawPeer, host: TestHost, r: Reg & { password?: string; algorithm?: string }): Promise<string> {
  const callId = r.callId ?? `reg-auth-${++seq}`;
  peer.send(register(peer, host.sipPort, { ...r, callId, cseq: r.cseq ?? 1 }));
  const ch = await peer.next((m) => m.includes(callId) && statusOf(m) >= 200);
  if (statusOf(ch) !== 401) return ch;
  const c = challengeOf(ch, 'WWW-Authenticate', r.algorithm ?? 'SHA-256');
  const auth = digestAnswer({ username: r.user ?? 'alice', password: r.password ?? 'alice-secret', realm: c.realm, nonce: c.nonce, algorithm: c.algorithm, method: 'REGISTER', uri: `sip:${DOMAIN}` });
  peer.send(register(peer, host.sipPort, { ...r, callId, cseq: (r.cseq ?? 1) + 1, auth }));
  return peer.next((m) => m.includes(callId) && statusOf(m) >= 200 && m.includes(`CSeq: ${(r.cseq ?? 1) + 1} REGISTER`));
}

async function addUser(host: TestHost, username: string, password: string): Promise<void> {
  const res = await host.adminFetch(`/api/admin/sites/${DOMAIN}/users`, { method: 'POST', body: JSON.stringify({ username, password, displayName: username }) });
  if (res.status !== 201) throw new Error(`creating ${username}: ${res.status} ${await res.text()}`);
}

// REGISTER reaches the registrar without the wire by default (SipEngine.serveHost), with the engine on either
// thread; sip.wire.inProcess = false sends it through the wire and drachtio-srf. Every way must behave the same.
const ways: Array<{ url: string; label: string; sip: Record<string, unknown> }> = [
  ...storageUrlsForTests().map((url) => ({ url, label: url.split(':')[0]!, sip: {} })),
  { url: storageUrlsForTests()[0]!, label: `${storageUrlsForTests()[0]!.split(':')[0]!}, engine on a worker thread`, sip: { engineThread: 'worker' } },
  { url: storageUrlsForTests()[0]!, label: `${storageUrlsForTests()[0]!.split(':')[0]!}, through the wire and drachtio-srf`, sip: { wire: { inProcess: false } } },
];

for (const { url, label, sip } of ways) {
  t.test(`registrar on ${label}`, async (t) => {
    await withTestDatabase(url, async (dbUrl) => {
      const host = await createTestHost({ plugins: [], sites: [DOMAIN], storage: dbUrl, config: { sip: { ...sip, registrar: { maxBindingsPerUser: 3 }, security: { maxFailures: 4, lockoutSeconds: 2 } } } });
      t.teardown(() => host.close());
      await addUser(host, 'alice', 'alice-secret');
      await addUser(host, 'bob', 'bob-secret');
      const peer = await udpPeer({ host: '127.0.0.1', port: host.sipPort });
      t.teardown(() => peer.close());

      const first = register(peer, host.sipPort, { callId: 'c-1' });
      peer.send(first);
      const ch = await peer.next((m) => m.includes('c-1') && statusOf(m) >= 200);
      t.equal(statusOf(ch), 401, 'REGISTER without credentials is challenged');
      const offered = ch.split('\r\n').filter((l) => l.toLowerCase().startsWith('www-authenticate:'));
      t.same(offered.map((l) => /algorithm=([^,\s]+)/.exec(l)?.[1]), ['SHA-256', 'MD5'], 'SHA-256 first, then MD5');
      t.ok(offered.every((l) => l.includes('qop="auth"')));

      const ok = await registerWithAuth(peer, host, { callId: 'c-2' });
      t.equal(statusOf(ok), 200, 'SHA-256 answer accepted');
      t.match(ok, new RegExp(`Contact: <sip:alice@127.0.0.1:${peer.port}>;expires=(29\\d|300)`, 'i'));
      const md5 = await registerWithAuth(peer, host, { callId: 'c-md5', algorithm: 'MD5' });
      t.equal(statusOf(md5), 200, 'MD5 answer accepted');

      // Replaying the same nonce and count is refused.
      const c = challengeOf(ch);
      const auth = digestAnswer({ username: 'alice', password: 'alice-secret', realm: c.realm, nonce: c.nonce, algorithm: 'SHA-256', method: 'REGISTER', uri: `sip:${DOMAIN}`, cnonce: 'fixed' });
      peer.send(register(peer, host.sipPort, { callId: 'replay', cseq: 5, auth }));
      t.equal(statusOf(await peer.next((m) => m.includes('replay') && statusOf(m) >= 200)), 200, 'first use of a fresh nonce');
      peer.send(register(peer, host.sipPort, { callId: 'replay', cseq: 6, auth }));
      t.equal(statusOf(await peer.next((m) => m.includes('replay') && m.includes('CSeq: 6'))), 401, 'the same nonce count again is a replay');

      t.equal(statusOf(await registerWithAuth(peer, host, { callId: 'short', expires: 30 })), 423, 'below Min-Expires gets 423');
      t.match(peer.received.at(-1)!, /Min-Expires: 60/i);
      const long = await registerWithAuth(peer, host, { callId: 'long', expires: 999999, contacts: ['<sip:alice@127.0.0.1:1111>'] });
      t.match(long, /:1111>;expires=(3599|3600)/, 'above max expiry is clamped');

      const q = await registerWithAuth(peer, host, { callId: 'q', contacts: ['<sip:alice@127.0.0.1:2222>;q=0.5'] });
      t.match(q, /:2222>;expires=\d+;q=0.5/, 'q-values kept');
      t.equal(statusOf(await registerWithAuth(peer, host, { callId: 'q', cseq: 0, contacts: ['<sip:alice@127.0.0.1:2222>'] })), 500, 'an older CSeq on the same Call-ID is refused');

      const tooMany = await registerWithAuth(peer, host, { callId: 'many', contacts: ['<sip:alice@127.0.0.1:3333>', '<sip:alice@127.0.0.1:4444>'] });
      t.equal(statusOf(tooMany), 403, 'registrations per user are limited');

      t.equal(statusOf(await registerWithAuth(peer, host, { callId: 'theft', aor: 'bob' })), 403, 'alice cannot register bob');
      t.equal(statusOf(await registerWithAuth(peer, host, { callId: 'star-bad', contacts: ['*'], expires: 10 })), 400, 'Contact * needs Expires: 0');

      const path = await registerWithAuth(peer, host, { callId: 'path', user: 'bob', password: 'bob-secret', contacts: [`<sip:bob@127.0.0.1:${peer.port};x=ob>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000a95a0e128>";reg-id=1`], extra: ['Supported: path, outbound', 'Path: <sip:edge.example.test;lr>'] });
      t.equal(statusOf(path), 200);
      t.match(path, /Path: <sip:edge.example.test;lr>/i, 'Path echoed');
      t.match(path, /Require: outbound/i, 'outbound flow acknowledged');
      t.match(path, /reg-id=1/);

      const star = await registerWithAuth(peer, host, { callId: 'star', contacts: ['*'], expires: 0 });
      t.equal(statusOf(star), 200);
      t.notMatch(star, /Contact:/i, 'Contact * with Expires 0 removes every binding');

      // Wrong passwords lock the account out for a while.
      for (let i = 0; i < 4; i++) await registerWithAuth(peer, host, { callId: `bad-${i}`, user: 'bob', password: 'nope', aor: 'bob' });
      const locked = await registerWithAuth(peer, host, { callId: 'after-lock', user: 'bob', password: 'bob-secret', aor: 'bob' });
      t.equal(statusOf(locked), 403, 'locked out after repeated failures');
      t.match(locked, /Too Many Failures|Account Locked/);
      await new Promise((r) => setTimeout(r, 2200));
      t.equal(statusOf(await registerWithAuth(peer, host, { callId: 'after-wait', user: 'bob', password: 'bob-secret', aor: 'bob' })), 200, 'released after the lockout window');
    });
  });
}

t.test('bindings survive a restart and expire on time; scanners are dropped; foreign domains refused', async (t) => {
  await withTestDatabase('sqlite', async (dbUrl) => {
    const config = { sip: { registrar: { minExpires: 1 } } };
    const adminPassword = 'restart-admin-pw';
    let host = await createTestHost({ plugins: [], sites: [DOMAIN], storage: dbUrl, config, adminPassword });
    await addUser(host, 'alice', 'alice-secret');
    const peer = await udpPeer({ host: '127.0.0.1', port: host.sipPort });
    t.teardown(() => peer.close());
    t.equal(statusOf(await registerWithAuth(peer, host, { callId: 'keep', expires: 300 })), 200);
    t.equal(statusOf(await registerWithAuth(peer, host, { callId: 'brief', expires: 2, contacts: ['<sip:alice@127.0.0.1:5555>'] })), 200);
    await host.close();
    host = await createTestHost({ plugins: [], sites: [DOMAIN], storage: dbUrl, config, adminPassword });
    t.teardown(() => host.close());
    const again = new Map(host.host.sipEndpoints?.(DOMAIN, 'alice').map((e) => [e.contact, e]) ?? []);
    t.ok([...again.keys()].some((c) => c.endsWith(`${peer.port}`)), 'a binding from before the restart is back');
    await new Promise((r) => setTimeout(r, 2500));
    const later = host.host.sipEndpoints?.(DOMAIN, 'alice').map((e) => e.contact) ?? [];
    t.notOk(later.some((c) => c.includes(':5555')), 'the 2-second binding expired');
    t.equal(later.length, 1);

    const scanner = await udpPeer({ host: '127.0.0.1', port: host.sipPort });
    t.teardown(() => scanner.close());
    scanner.send(register(scanner, host.sipPort, { callId: 'scan', extra: ['User-Agent: friendly-scanner'] }));
    await t.rejects(scanner.next((m) => m.includes('scan'), 1500), /no matching SIP message/, 'a known scanner gets no answer');
    scanner.send(register(scanner, host.sipPort, { callId: 'foreign' }).replace(`REGISTER sip:${DOMAIN}`, 'REGISTER sip:elsewhere.test').replaceAll(`@${DOMAIN}`, '@elsewhere.test'));
    t.equal(statusOf(await scanner.next((m) => m.includes('foreign') && statusOf(m) >= 200)), 403, 'a foreign domain is refused');
  });
});

t.test('a SIP lockout is published for monitoring', async (t) => {
  const host = await createTestHost({ plugins: ['test/fixtures/plugins/identity/directory-watch'], sites: [DOMAIN], config: { sip: { security: { maxFailures: 3, lockoutSeconds: 60 } } } });
  t.teardown(() => host.close());
  await addUser(host, 'bob', 'bob-secret');
  const peer = await udpPeer({ host: '127.0.0.1', port: host.sipPort });
  t.teardown(() => peer.close());
  for (let i = 0; i < 3; i++) await registerWithAuth(peer, host, { callId: `mon-${i}`, user: 'bob', aor: 'bob', password: 'wrong' });
  let lockouts: Array<{ kind?: string; key?: string }> = [];
  for (let i = 0; i < 50 && !lockouts.some((l) => l.kind === 'sip-user'); i++) {
    await new Promise((r) => setTimeout(r, 50));
    lockouts = ((await (await fetch(`${host.url}/api/plugins/directory-watch/sites/${DOMAIN}/lockouts`)).json()) as { lockouts: typeof lockouts }).lockouts;
  }
  t.ok(lockouts.some((l) => l.kind === 'sip-user' && l.key === `${DOMAIN}|bob`), 'security.lockout event for the user');
  t.ok(lockouts.some((l) => l.kind === 'sip-ip' && l.key === '127.0.0.1'), 'and for the source address');
});
