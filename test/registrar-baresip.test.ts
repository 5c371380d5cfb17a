// Issue 4, point 8 "Real clients": baresip 1.0.0, a softphone no one here
// wrote, registers with digest auth through Switchboard's registrar over UDP
// and over TCP; two registered users call each other (the INVITE relayed by
// location routing with its SDP untouched, no media server) and exchange
// MESSAGE text. A wrong password is refused.
import t from 'tap';
import { createTestHost, type TestHost } from '../sdk/src/index.ts';
import { startBaresip, type Baresip, type BaresipOptions, type SipTraceEntry } from './helpers/baresip.ts';

const DOMAIN = 'example.test';
const WAIT_MS = 10_000;
// baresip 1.0.0's libre gives up on the whole challenge (ENOSYS, REGISTER_FAIL
// "Function not implemented") when the first WWW-Authenticate offers
// algorithm=SHA-256, instead of skipping to the MD5 one as RFC 8760 section
// 2.4 asks. Such clients need a host that offers MD5 only.
// createTestHost challenges no method by default (for plugin tests); the
// issue's policy challenges out-of-dialog INVITE and MESSAGE from local users.
const HOST_CONFIG = { sip: { registrar: { algorithms: ['MD5'] }, auth: { challengeMethods: ['INVITE', 'MESSAGE'] } } };

async function addSiteAndUsers(host: TestHost, users: Array<{ username: string; password: string }>): Promise<void> {
  // The site is already there from the host's config; the API says so with 409.
  const site = await host.adminFetch('/api/admin/sites', { method: 'POST', body: JSON.stringify({ domain: DOMAIN }) });
  if (site.status !== 201 && site.status !== 409) throw new Error(`creating site ${DOMAIN}: ${site.status} ${await site.text()}`);
  for (const u of users) {
    const res = await host.adminFetch(`/api/admin/sites/${DOMAIN}/users`, {
      method: 'POST',
      body: JSON.stringify({ username: u.username, password: u.password, displayName: u.username }),
    });
    if (res.status !== 201) throw new Error(`creating ${u.username}: ${res.status} ${await res.text()}`);
  }
}

/** What tap shows when an assertion fails: each phone's SIP trace. */
function traces(...phones: Baresip[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of phones) {
    out[p.aor] = p.sipTrace().map((m) => `${m.direction} ${m.transport} ${m.src} -> ${m.dst}\n${m.raw}`).join('\n----\n').slice(-12_000);
    // baresip's own log lines (errors such as a failed connect), without the trace.
    out[`${p.aor} log`] = p.log().replace(/\x1b\[36;1m#\n[\s\S]*?\x1b\[;m/g, '').slice(-3000);
  }
  return out;
}

const cseqMethod = (m: SipTraceEntry): string | undefined => /\r\nCSeq:\s*\d+\s+(\w+)/i.exec(m.raw)?.[1];

const VARIANTS: Array<{ name: string; transport: 'udp' | 'tcp'; outbound?: boolean }> = [
  { name: 'udp', transport: 'udp' },
  { name: 'tcp', transport: 'tcp' },
  // RFC 5626: +sip.instance, reg-id, requests to bob only over his own connection.
  { name: 'tcp with SIP outbound', transport: 'tcp', outbound: true },
];

for (const variant of VARIANTS) {
  const { transport } = variant;
  t.test(`two baresip users through the registrar over ${variant.name}`, async (t) => {
    const host = await createTestHost({ plugins: [], sites: [DOMAIN], config: HOST_CONFIG });
    const phones: Baresip[] = [];
    t.teardown(async () => {
      for (const p of phones) await p.stop();
      await host.close();
    });
    await addSiteAndUsers(host, [
      { username: 'alice', password: 'alice-secret' },
      { username: 'bob', password: 'bob-secret' },
    ]);
    const common: Omit<BaresipOptions, 'user' | 'password'> = {
      domain: DOMAIN,
      registrar: { host: '127.0.0.1', port: host.sipPort, transport },
      regint: 300,
      outbound: variant.outbound === true,
    };
    const alice = await startBaresip({ ...common, user: 'alice', password: 'alice-secret' });
    phones.push(alice);
    const bob = await startBaresip({ ...common, user: 'bob', password: 'bob-secret' });
    phones.push(bob);

    // Registration with digest auth: a 401 challenge, then 200 for the answer.
    for (const phone of [alice, bob]) {
      try {
        await phone.waitRegistered(WAIT_MS);
      } catch (err) {
        t.fail(`${phone.aor} registers`, { error: String(err), ...traces(phone) });
        return;
      }
      // The trace comes on stdout, which may lag the event on the control socket.
      const ok = await phone.waitSip((m) => m.direction === 'received' && cseqMethod(m) === 'REGISTER' && m.status === 200, WAIT_MS);
      const answers = phone.sipTrace().filter((m) => m.direction === 'received' && cseqMethod(m) === 'REGISTER').map((m) => m.status);
      t.equal(answers[0], 401, `${phone.aor}: the first REGISTER is challenged with 401`, traces(phone));
      // The accepted REGISTER is the one with the 200's CSeq (a UDP retransmission may come between).
      const cseq = /\r\nCSeq:\s*(\d+)/i.exec(ok.raw)?.[1];
      const authorized = phone.sipTrace().find((m) => m.direction === 'sent' && m.method === 'REGISTER'
        && /\r\nCSeq:\s*(\d+)/i.exec(m.raw)?.[1] === cseq);
      t.match(authorized?.raw ?? '', /\r\nAuthorization:\s*Digest [^\r\n]*username="[^"]+"/i, 'the accepted REGISTER carries digest credentials');
      t.equal(authorized?.transport, transport.toUpperCase(), `REGISTER over ${transport}`);
    }
    const endpoints = host.host.sipEndpoints(DOMAIN, 'bob');
    t.equal(endpoints.length, 1, 'bob has one registered endpoint', { endpoints });
    t.match(JSON.stringify(endpoints), /bob-[^@]*@127\.0\.0\.1/, "bob's binding is his own contact", { endpoints });

    await t.test('alice calls bob', (t) => callAndHangUp(t, alice, bob));
    await t.test('MESSAGE both ways', (t) => messagesBothWays(t, alice, bob, variant.name));
  });
}

/** A tap subtest (the last overload of t.test takes just the callback). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

// Location routing forks alice's INVITE to bob's one contact; the SDP is
// relayed untouched both ways (no media server yet).
async function callAndHangUp(t: TapTest, alice: Baresip, bob: Baresip): Promise<void> {
  const aliceMark = alice.events.length;
  const bobMark = bob.events.length;
  await alice.dial(`sip:bob@${DOMAIN}`);
  let incoming;
  try {
    incoming = await bob.waitFor((e) => e.type === 'CALL_ESTABLISHED', WAIT_MS, bobMark);
    await alice.waitFor((e) => e.type === 'CALL_ESTABLISHED', WAIT_MS, aliceMark);
  } catch (err) {
    t.fail('the call is established on both sides', { error: String(err), ...traces(alice, bob) });
    await alice.hangup().catch(() => undefined);
    return;
  }
  t.equal(incoming.direction, 'incoming', 'bob answered an incoming call');
  t.match(incoming.peeruri, new RegExp(`^sip:alice@${DOMAIN.replace('.', '\\.')}`), 'from alice');

  // The offer bob got is byte for byte the one alice sent (her last INVITE,
  // after any 407), and so is the answer alice got.
  await alice.waitSip((m) => m.direction === 'received' && m.status === 200 && cseqMethod(m) === 'INVITE', WAIT_MS);
  const offers = alice.sipTrace().filter((m) => m.direction === 'sent' && m.method === 'INVITE');
  const offerSent = offers[offers.length - 1];
  const offerGot = await bob.waitSip((m) => m.direction === 'received' && m.method === 'INVITE', WAIT_MS);
  const inviteFinals = alice.sipTrace().filter((m) => m.direction === 'received' && cseqMethod(m) === 'INVITE' && (m.status ?? 0) >= 200)
    .map((m) => m.status);
  t.equal(inviteFinals[0], 407, "alice's first INVITE is challenged (407)", { inviteFinals });
  t.match(offerSent?.raw ?? '', /\r\nProxy-Authorization:\s*Digest /i, 'her last INVITE carries credentials');
  t.match(offerSent?.body ?? '', /^v=0\r\no=- \d+ \d+ IN IP4 127\.0\.0\.1\r\n/, 'alice offered SDP');
  t.equal(offerGot.body, offerSent?.body, 'the SDP offer reached bob unchanged', traces(alice, bob));
  const answerSent = await bob.waitSip((m) => m.direction === 'sent' && m.status === 200 && cseqMethod(m) === 'INVITE', WAIT_MS);
  const answerGot = await alice.waitSip((m) => m.direction === 'received' && m.status === 200 && cseqMethod(m) === 'INVITE', WAIT_MS);
  t.match(answerSent.body, /^v=0\r\n/, 'bob answered with SDP');
  t.equal(answerGot.body, answerSent.body, 'the SDP answer reached alice unchanged', traces(alice, bob));

  await alice.hangup();
  try {
    await bob.waitFor((e) => e.type === 'CALL_CLOSED', WAIT_MS, bobMark);
    t.pass('bob sees the hangup');
  } catch (err) {
    t.fail('bob sees the hangup', { error: String(err), ...traces(alice, bob) });
  }
  t.ok(await bob.waitSip((m) => m.direction === 'received' && m.method === 'BYE', WAIT_MS), 'the BYE reached bob');
  const byeAnswer = await alice.waitSip((m) => m.direction === 'received' && cseqMethod(m) === 'BYE' && (m.status ?? 0) >= 200, WAIT_MS);
  t.equal(byeAnswer.status, 200, 'the in-dialog BYE is not challenged');
}

async function messagesBothWays(t: TapTest, alice: Baresip, bob: Baresip, variant: string): Promise<void> {
  const text = `hello bob over ${variant}, "quoted" & unicode é`;
  await alice.sendMessage(`sip:bob@${DOMAIN}`, text);
  try {
    const got = await bob.waitMessage((m) => m.text === text, WAIT_MS);
    t.match(got.from, new RegExp(`^sip:alice@${DOMAIN.replace('.', '\\.')}`), 'bob got the MESSAGE from alice');
  } catch (err) {
    t.fail('bob receives the MESSAGE text', { error: String(err), ...traces(alice, bob) });
  }
  const answered = await alice.waitSip((m) => m.direction === 'received' && cseqMethod(m) === 'MESSAGE' && (m.status ?? 0) >= 200
    && m.status !== 401 && m.status !== 407, WAIT_MS);
  t.equal(answered.status, 200, "alice's MESSAGE was answered 200", traces(alice, bob));
  const messageFinals = alice.sipTrace().filter((m) => m.direction === 'received' && cseqMethod(m) === 'MESSAGE' && (m.status ?? 0) >= 200)
    .map((m) => m.status);
  t.equal(messageFinals[0], 407, "alice's MESSAGE was challenged first", { messageFinals });
  t.equal(messageFinals[messageFinals.length - 1], 200, 'then delivered with credentials', { messageFinals });
  await bob.sendMessage(`sip:alice@${DOMAIN}`, 'hi alice');
  try {
    await alice.waitMessage((m) => m.text === 'hi alice', WAIT_MS);
    t.pass('alice got the MESSAGE from bob');
  } catch (err) {
    t.fail('alice receives the MESSAGE text', { error: String(err), ...traces(alice, bob) });
  }
}

t.test('a wrong password is refused', async (t) => {
  const host = await createTestHost({ plugins: [], sites: [DOMAIN], config: HOST_CONFIG });
  let phone: Baresip | undefined;
  t.teardown(async () => {
    await phone?.stop();
    await host.close();
  });
  await addSiteAndUsers(host, [{ username: 'carol', password: 'carol-secret' }]);
  phone = await startBaresip({
    user: 'carol', domain: DOMAIN, password: 'not-her-password', regint: 300,
    registrar: { host: '127.0.0.1', port: host.sipPort, transport: 'udp' },
  });
  await t.rejects(phone.waitRegistered(WAIT_MS), /REGISTER_FAIL/, 'baresip reports the registration failed');
  t.equal(host.host.sipEndpoints(DOMAIN, 'carol').length, 0, 'no binding for carol');
  // The trace comes on stdout, apart from the event: wait for it (see waitSip) before reading it.
  await phone.waitSip((m) => m.direction === 'received' && cseqMethod(m) === 'REGISTER' && (m.status ?? 0) >= 400, WAIT_MS);
  const finals = phone.sipTrace().filter((m) => m.direction === 'received' && cseqMethod(m) === 'REGISTER').map((m) => m.status);
  t.ok(finals.length > 0 && finals.every((s) => s === 401 || s === 403), 'every REGISTER was refused', { finals });
});
