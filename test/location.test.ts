/**
 * Authentication of requests (407 per site policy) and location routing:
 * parallel forking to every registered contact, 404/480, foreign domains,
 * and sipp registering many users with digest auth.
 */
import t from 'tap';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestHost, type TestHost } from '../sdk/src/index.ts';
import { udpPeer, statusOf, type RawPeer } from './helpers/raw-sip.ts';
import { challengeOf, digestAnswer } from './helpers/digest-peer.ts';
import { runSipp } from './helpers/sipp.ts';

const D = 'example.test';
// createTestHost turns challenges off for plugin tests; these tests are about them.
const CHALLENGE = { challengeMethods: ['INVITE', 'MESSAGE', 'SUBSCRIBE', 'PUBLISH', 'REFER', 'OPTIONS', 'INFO', 'NOTIFY', 'UPDATE'] };
let n = 0;
const header = (m: string, name: string) => new RegExp(`^${name}: (.*)$`, 'mi').exec(m)?.[1] ?? '';

async function addUser(host: TestHost, username: string, password = `${username}-secret`): Promise<void> {
  const res = await host.adminFetch(`/api/admin/sites/${D}/users`, { method: 'POST', body: JSON.stringify({ username, password, displayName: username }) });
  if (res.status !== 201) throw new Error(`creating ${username}: ${res.status} ${await res.text()}`);
}

function req(peer: RawPeer, method: string, from: string, to: string, o: { callId: string; cseq?: number; auth?: string; authHeader?: string; toTag?: string; contact?: string; body?: string; expires?: number }): string {
  const body = o.body ?? '';
  return [
    `${method} sip:${to}@${D} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKloc${++n}x${Date.now()};rport`,
    'Max-Forwards: 70',
    `From: <sip:${from}@${D}>;tag=f${o.callId}`,
    `To: <sip:${to}@${D}>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq ?? 1} ${method}`,
    `Contact: ${o.contact ?? `<sip:${from}@127.0.0.1:${peer.port}>`}`,
    ...(o.expires !== undefined ? [`Expires: ${o.expires}`] : []),
    ...(o.auth ? [`${o.authHeader ?? 'Proxy-Authorization'}: ${o.auth}`] : []),
    ...(body ? ['Content-Type: text/plain'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** Send, answer a 401/407 challenge once, return the final response. */
async function withAuth(peer: RawPeer, method: string, from: string, to: string, o: Parameters<typeof req>[4] & { password?: string }): Promise<string> {
  peer.send(req(peer, method, from, to, o));
  const first = await peer.next((m) => m.includes(`Call-ID: ${o.callId}`) && statusOf(m) >= 200);
  const s = statusOf(first);
  if (s !== 401 && s !== 407) return first;
  const hdr = s === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
  const c = challengeOf(first, hdr);
  const uri = method === 'REGISTER' ? `sip:${D}` : `sip:${to}@${D}`;
  const auth = digestAnswer({ username: from, password: o.password ?? `${from}-secret`, realm: c.realm, nonce: c.nonce, algorithm: c.algorithm, method, uri });
  const cseq = (o.cseq ?? 1) + 1;
  peer.send(req(peer, method, from, to, { ...o, cseq, auth, authHeader: s === 401 ? 'Authorization' : 'Proxy-Authorization' }).replace(`${method} sip:${to}@${D}`, method === 'REGISTER' ? `REGISTER sip:${D}` : `${method} sip:${to}@${D}`));
  return peer.next((m) => m.includes(`Call-ID: ${o.callId}`) && m.includes(`CSeq: ${cseq} ${method}`) && statusOf(m) >= 200, 8000);
}

async function registerAs(peer: RawPeer, user: string, expires = 300): Promise<void> {
  peer.send(req(peer, 'REGISTER', user, user, { callId: `r-${user}-${peer.port}`, expires }).replace(`REGISTER sip:${user}@${D}`, `REGISTER sip:${D}`));
  const ch = await peer.next((m) => m.includes(`r-${user}-${peer.port}`) && statusOf(m) >= 200);
  const c = challengeOf(ch);
  const auth = digestAnswer({ username: user, password: `${user}-secret`, realm: c.realm, nonce: c.nonce, algorithm: c.algorithm, method: 'REGISTER', uri: `sip:${D}` });
  peer.send(req(peer, 'REGISTER', user, user, { callId: `r-${user}-${peer.port}`, cseq: 2, expires, auth, authHeader: 'Authorization' }).replace(`REGISTER sip:${user}@${D}`, `REGISTER sip:${D}`));
  const ok = await peer.next((m) => m.includes(`r-${user}-${peer.port}`) && m.includes('CSeq: 2 REGISTER') && statusOf(m) >= 200);
  if (statusOf(ok) !== 200) throw new Error(`register ${user}: ${ok}`);
}

function answer(m: string, status: number, reason: string, toTag: string): string {
  const keep = m.split('\r\n').filter((l) => /^(Via|From|Call-ID|CSeq):/i.test(l));
  return [`SIP/2.0 ${status} ${reason}`, ...keep, `To: ${header(m, 'To')};tag=${toTag}`, 'Content-Length: 0', '', ''].join('\r\n');
}

// Both with the engine on the main thread and on its own worker thread (sip.engineThread).
for (const engineThread of ['main', 'worker'] as const) {
  t.test(`authentication and location routing (engine on the ${engineThread} thread)`, async (t) => {
    const host = await createTestHost({ plugins: [], sites: [D], config: { sip: { engineThread, auth: CHALLENGE } } });
    t.teardown(() => host.close());
    for (const u of ['alice', 'bob', 'dave']) await addUser(host, u);
    const [a, b1, b2] = await Promise.all([0, 1, 2].map(() => udpPeer({ host: '127.0.0.1', port: host.sipPort })));
    t.teardown(() => Promise.all([a, b1, b2].map((p) => p!.close())));
    await registerAs(b1!, 'bob');
    await registerAs(b2!, 'bob');
    t.equal(host.host.sipEndpoints(D, 'bob').length, 2, 'bob has two endpoints');
    t.match(host.host.sipEndpoints(D, 'bob')[0], { transport: 'udp', userAgent: '' });

    a!.send(req(a!, 'MESSAGE', 'alice', 'bob', { callId: 'noauth', body: 'hi' }));
    t.equal(statusOf(await a!.next((m) => m.includes('noauth') && statusOf(m) >= 200)), 407, 'out-of-dialog MESSAGE from a local user is challenged');

    const invite = withAuth(a!, 'INVITE', 'alice', 'bob', { callId: 'fork-1', body: 'v=0' });
    const [i1, i2] = await Promise.all([b1!.next((m) => m.startsWith('INVITE ')), b2!.next((m) => m.startsWith('INVITE '))]);
    t.ok(i1 && i2, 'the INVITE forked to both endpoints');
    t.equal(i1!.split('\r\n\r\n')[1], 'v=0', 'body relayed untouched');
    b1!.send(answer(i1!, 180, 'Ringing', 'b1'));
    b2!.send(answer(i2!, 180, 'Ringing', 'b2'));
    b1!.send(answer(i1!, 200, 'OK', 'b1').replace('Content-Length: 0', `Contact: <sip:bob@127.0.0.1:${b1!.port}>\r\nContent-Length: 0`));
    const final = await invite;
    t.equal(statusOf(final), 200, 'the caller gets the first 2xx');
    t.match(header(final, 'To'), /tag=b1/);
    const cancel = await b2!.next((m) => m.startsWith('CANCEL '));
    t.ok(cancel, 'the other branch is cancelled');
    b2!.send(answer(cancel, 200, 'OK', 'b2'));
    b2!.send(answer(i2!, 487, 'Request Terminated', 'b2'));
    await b2!.next((m) => m.startsWith('ACK '));

    const msg = withAuth(a!, 'MESSAGE', 'alice', 'bob', { callId: 'msg-1', body: 'hello bob' });
    const [m1, m2] = await Promise.all([b1!.next((m) => m.startsWith('MESSAGE ')), b2!.next((m) => m.startsWith('MESSAGE '))]);
    t.match(m1, /hello bob/);
    b1!.send(answer(m1, 200, 'OK', 'b1'));
    b2!.send(answer(m2, 200, 'OK', 'b2'));
    t.equal(statusOf(await msg), 200, 'MESSAGE delivered to every endpoint and answered');

    t.equal(statusOf(await withAuth(a!, 'MESSAGE', 'alice', 'carol', { callId: 'unknown', body: 'x' })), 404, 'unknown user: 404');
    t.equal(statusOf(await withAuth(a!, 'MESSAGE', 'alice', 'dave', { callId: 'offline', body: 'x' })), 480, 'known but not registered: 480');

    a!.send(req(a!, 'MESSAGE', 'alice', 'bob', { callId: 'in-dialog', toTag: 'existing', body: 'in dialog' }));
    const inDialog = await b1!.next((m) => m.includes('in-dialog'));
    t.ok(inDialog, 'an in-dialog request is not re-challenged');
    b1!.send(answer(inDialog, 200, 'OK', 'existing'));
    await b2!.next((m) => m.includes('in-dialog')).then((m) => b2!.send(answer(m, 200, 'OK', 'existing')));

    const wrong = await withAuth(a!, 'MESSAGE', 'alice', 'bob', { callId: 'wrongpw', password: 'nope', body: 'x' });
    t.equal(statusOf(wrong), 403, 'wrong password: 403');
  });

  t.test(`sipp registers many users with digest auth and sends challenged MESSAGEs (engine on the ${engineThread} thread)`, async (t) => {
    const host = await createTestHost({ plugins: [], sites: [D], config: { sip: { engineThread, auth: CHALLENGE, registrar: { algorithms: ['MD5', 'SHA-256'] } } } });
    t.teardown(() => host.close());
    const users = Array.from({ length: 40 }, (_, i) => `user${i}`);
    for (const u of users) await addUser(host, u);
    const dir = mkdtempSync(join(tmpdir(), 'sb-sipp-'));
    const inf = join(dir, 'users.csv');
    // sipp does not expand keywords inside [authentication …], so the whole header spec is a field.
    writeFileSync(inf, `SEQUENTIAL\n${users.map((u) => `${u};${u}-secret;[authentication username=${u} password=${u}-secret]`).join('\n')}\n`);
    const r = await runSipp({ scenario: 'uac-register-auth.xml', target: `127.0.0.1:${host.sipPort}`, injectFile: inf, calls: users.length, rate: 40, timeoutMs: 20000, keys: { domain: D, expires: '300' } });
    t.equal(r.successful, users.length, `all ${users.length} registered (${r.errors ?? ''})`);
    t.equal(users.filter((u) => host.host.sipEndpoints(D, u).length === 1).length, users.length, 'each has one binding');

    const target = await udpPeer({ host: '127.0.0.1', port: host.sipPort });
    t.teardown(() => target.close());
    await addUser(host, 'inbox');
    await registerAs(target, 'inbox');
    target.received.length = 0;
    const answering = setInterval(() => {
      for (const m of target.received.splice(0)) if (m.startsWith('MESSAGE ')) target.send(answer(m, 200, 'OK', 'in'));
    }, 10);
    t.teardown(() => clearInterval(answering));
    const msg = await runSipp({ scenario: 'uac-message-auth.xml', target: `127.0.0.1:${host.sipPort}`, injectFile: inf, calls: 10, rate: 20, timeoutMs: 20000, keys: { domain: D, to: 'inbox' } });
    t.equal(msg.successful, 10, `challenged MESSAGEs relayed to the registered user (${msg.errors ?? ''})`);
  });
}

t.test('a WebSocket client is reached over its own connection', async (t) => {
  const { freePort } = await import('./helpers/sipp.ts');
  const { wsPeer } = await import('./helpers/raw-sip.ts');
  const [udpPort, wsPort] = [await freePort('udp'), await freePort('tcp')];
  const host = await createTestHost({ plugins: [], sites: [D], config: { sip: { auth: CHALLENGE, contacts: [`sip:127.0.0.1:${udpPort};transport=udp`, `sip:127.0.0.1:${wsPort};transport=ws`] } } });
  t.teardown(() => host.close());
  await addUser(host, 'alice');
  await addUser(host, 'webby');
  const ws = await wsPeer(`ws://127.0.0.1:${wsPort}`);
  t.teardown(() => ws.close());
  const wsReg = (cseq: number, auth?: string) => [
    `REGISTER sip:${D} SIP/2.0`,
    `Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKws${cseq};rport`,
    'Max-Forwards: 70',
    `From: <sip:webby@${D}>;tag=ws1`,
    `To: <sip:webby@${D}>`,
    'Call-ID: ws-reg',
    `CSeq: ${cseq} REGISTER`,
    'Contact: <sip:webby@df7jal23ls0d.invalid;transport=ws>;expires=300',
    ...(auth ? [`Authorization: ${auth}`] : []),
    'Content-Length: 0', '', '',
  ].join('\r\n');
  ws.send(wsReg(1));
  const ch = challengeOf(await ws.next((m) => m.includes('ws-reg') && statusOf(m) === 401));
  ws.send(wsReg(2, digestAnswer({ username: 'webby', password: 'webby-secret', realm: ch.realm, nonce: ch.nonce, algorithm: ch.algorithm, method: 'REGISTER', uri: `sip:${D}` })));
  t.equal(statusOf(await ws.next((m) => m.includes('CSeq: 2 REGISTER') && statusOf(m) >= 200)), 200, 'registered over WebSocket');
  t.equal(host.host.sipEndpoints(D, 'webby')[0]?.transport, 'ws');

  const a = await udpPeer({ host: '127.0.0.1', port: udpPort });
  t.teardown(() => a.close());
  const sent = withAuth(a, 'MESSAGE', 'alice', 'webby', { callId: 'to-ws', body: 'hello browser' });
  const got = await ws.next((m) => m.startsWith('MESSAGE ') && m.includes('to-ws'));
  t.match(got, /hello browser/, 'the MESSAGE arrived over the client\'s WebSocket');
  ws.send(answer(got, 200, 'OK', 'wsc'));
  t.equal(statusOf(await sent), 200);
});

t.test('plugins reach the location service through ctx.sip', async (t) => {
  const host = await createTestHost({ plugins: ['test/fixtures/plugins/location/locator'], sites: [D] });
  t.teardown(() => host.close());
  await addUser(host, 'bob');
  const b = await udpPeer({ host: '127.0.0.1', port: host.sipPort });
  t.teardown(() => b.close());
  await registerAs(b, 'bob');
  b.send(req(b, 'MESSAGE', 'bob', 'where', { callId: 'where-1', body: 'where am I' }));
  const where = await b.next((m) => m.includes('where-1') && statusOf(m) >= 200);
  t.equal(statusOf(where), 200);
  t.equal(header(where, 'X-Endpoints'), '1', 'ctx.sip.endpoints lists the registration');
  t.match(header(where, 'X-First'), new RegExp(`^udp sip:bob@127.0.0.1:${b.port}`));
  const a = await udpPeer({ host: '127.0.0.1', port: host.sipPort });
  t.teardown(() => a.close());
  a.send(req(a, 'MESSAGE', 'carol', 'desk', { callId: 'desk-1', body: 'to the desk' }));
  const got = await b.next((m) => m.startsWith('MESSAGE ') && m.includes('desk-1'));
  t.match(got, /to the desk/, 'ctx.sip.routeToUser forked it to bob');
  b.send(answer(got, 200, 'OK', 'bd'));
  t.equal(statusOf(await a.next((m) => m.includes('desk-1') && statusOf(m) >= 200)), 200);
});
