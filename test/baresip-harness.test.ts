// Checks the baresip harness (test/helpers/baresip.ts) without Switchboard:
// baresip against sipp UASes (REGISTER, MESSAGE, INVITE/BYE) and against
// another baresip (call and MESSAGE text), over UDP and TCP, so a failure of
// the real-client tests later is not the harness's.
import t from 'tap';
import { startBaresip, toneWav, readNetstrings, netstring, type Baresip } from './helpers/baresip.ts';
import { startSippServer, type SippResult } from './helpers/sipp.ts';

const TRANSPORTS = [
  { name: 'udp', sipp: 'u1' },
  { name: 'tcp', sipp: 't1' },
] as const;

/** Shown by tap only when an assertion fails. */
function diag(res: SippResult, phone?: Baresip): Record<string, unknown> {
  return { sipp: `exit ${res.exitCode}, ok ${res.successful}, failed ${res.failed}\n${res.errors ?? ''}\n${res.stderr}`,
    baresip: phone?.log().slice(-6000) };
}

t.test('netstrings and the generated wav', async (t) => {
  const framed = Buffer.from(netstring('{"a":"é"}') + netstring('') + '12:{"b"');
  const { payloads, rest } = readNetstrings(framed);
  t.same(payloads, ['{"a":"é"}', ''], 'whole netstrings are split, multibyte lengths counted in bytes');
  t.equal(rest.toString(), '12:{"b"', 'an unfinished netstring is kept for the next chunk');
  const wav = toneWav(0.5);
  t.equal(wav.toString('ascii', 0, 4), 'RIFF');
  t.equal(wav.readUInt32LE(24), 8000, '8 kHz');
  t.equal(wav.readUInt32LE(40), 8000, '0.5 s of 16-bit samples');
});

for (const tp of TRANSPORTS) {
  t.test(`REGISTER and MESSAGE to a sipp UAS (${tp.name})`, async (t) => {
    // Two calls of uas-200: the REGISTER, then the MESSAGE (each its own Call-ID).
    const sipp = await startSippServer({ scenario: 'uas-200.xml', transport: tp.sipp, calls: 2, timeoutMs: 15_000, traceMessages: true });
    let phone: Baresip | undefined;
    try {
      phone = await startBaresip({
        user: 'alice', domain: 'example.test', password: 'secret',
        registrar: { host: '127.0.0.1', port: sipp.port, transport: tp.name },
      });
      const ok = await phone.waitRegistered(5000);
      t.equal(ok.accountaor, 'sip:alice@example.test', 'REGISTER_OK for the account');
      const register = await phone.waitSip((m) => m.direction === 'sent' && m.method === 'REGISTER', 2000);
      t.match(register.raw, new RegExp(`^REGISTER sip:example.test(;transport=${tp.name})? SIP/2.0`), 'REGISTER goes to the domain');
      t.equal(register.transport, tp.name.toUpperCase(), `REGISTER sent over ${tp.name}`);

      await phone.sendMessage(`sip:service@127.0.0.1:${sipp.port}`, 'hello sipp');
      const res = await sipp.done;
      t.equal(res.exitCode, 0, 'sipp answered both requests', diag(res, phone));
      t.equal(res.successful, 2);
      t.match(res.messages ?? '', /MESSAGE sip:service@127\.0\.0\.1:\d+[^\n]*SIP\/2\.0[\s\S]*hello sipp/, 'sipp got the MESSAGE text');
      const answered = await phone.waitSip((m) => m.direction === 'received' && /CSeq: \d+ MESSAGE/.test(m.raw), 2000);
      t.equal(answered.status, 200, 'baresip got 200 for its MESSAGE');
    } finally {
      await phone?.stop();
      await sipp.stop();
    }
  });

  t.test(`call to a sipp UAS and hangup (${tp.name})`, async (t) => {
    const sipp = await startSippServer({ scenario: 'uas-answer.xml', transport: tp.sipp, calls: 1, timeoutMs: 15_000 });
    let phone: Baresip | undefined;
    try {
      // regint 0: no REGISTER, sipp is only the outbound proxy / far end.
      phone = await startBaresip({
        user: 'alice', domain: 'example.test', password: 'secret', regint: 0,
        registrar: { host: '127.0.0.1', port: sipp.port, transport: tp.name },
      });
      await phone.dial(`sip:service@127.0.0.1:${sipp.port}`);
      const up = await phone.waitEvent('CALL_ESTABLISHED', 5000);
      t.equal(up.direction, 'outgoing');
      const invite = await phone.waitSip((m) => m.direction === 'sent' && m.method === 'INVITE', 2000);
      t.match(invite.body, /m=audio \d+ RTP\/AVP [^\r\n]*\b0\b/, 'the INVITE offers PCMU');
      await phone.hangup();
      await phone.waitEvent('CALL_CLOSED', 5000);
      const res = await sipp.done;
      t.equal(res.exitCode, 0, 'sipp saw INVITE, ACK and BYE', diag(res, phone));
      t.equal(res.successful, 1);
    } finally {
      await phone?.stop();
      await sipp.stop();
    }
  });

  t.test(`baresip to baresip: call and MESSAGE text (${tp.name})`, async (t) => {
    const phones: Baresip[] = [];
    try {
      // bob needs no registrar; alice uses bob itself as outbound proxy.
      const bob = await startBaresip({
        user: 'bob', domain: '127.0.0.1', password: 'x', regint: 0,
        registrar: { host: '127.0.0.1', port: 9, transport: tp.name },
      });
      phones.push(bob);
      const alice = await startBaresip({
        user: 'alice', domain: '127.0.0.1', password: 'x', regint: 0,
        registrar: { host: '127.0.0.1', port: bob.sipPort, transport: tp.name },
      });
      phones.push(alice);
      const bobUri = `sip:bob@127.0.0.1:${bob.sipPort};transport=${tp.name}`;

      await alice.sendMessage(bobUri, 'hi "bob", how are you?');
      const got = await bob.waitMessage(() => true, 5000);
      t.equal(got.text, 'hi "bob", how are you?', 'bob sees the exact text');
      t.match(got.from, /^sip:alice@127\.0\.0\.1/, 'from alice');

      await alice.dial(bobUri);
      // With answermode=auto, 1.0.0 sends no CALL_INCOMING: the call is up at once.
      const incoming = await bob.waitEvent('CALL_ESTABLISHED', 5000);
      t.equal(incoming.direction, 'incoming');
      t.match(incoming.peeruri, /^sip:alice@/, 'bob sees alice calling');
      t.equal((await alice.waitEvent('CALL_ESTABLISHED', 5000)).direction, 'outgoing');
      const sent = await alice.waitSip((m) => m.direction === 'sent' && m.method === 'INVITE', 2000);
      const received = await bob.waitSip((m) => m.direction === 'received' && m.method === 'INVITE', 2000);
      t.match(sent.body, /^v=0\r\n/, 'alice sent an SDP offer');
      t.equal(received.body, sent.body, 'bob received the same SDP (direct, nothing in between)');
      await alice.hangup();
      await bob.waitEvent('CALL_CLOSED', 5000);
    } finally {
      for (const p of phones) await p.stop();
    }
  });
}

t.test('an unknown command and an unmet wait fail clearly', async (t) => {
  const sipp = await startSippServer({ scenario: 'uas-200.xml', calls: 1, timeoutMs: 10_000 });
  const phone = await startBaresip({
    user: 'carol', domain: 'example.test', password: 'x', regint: 0,
    registrar: { host: '127.0.0.1', port: sipp.port, transport: 'udp' },
  });
  try {
    const res = await phone.command('no_such_command');
    t.equal(res.ok, false, 'an unknown command answers ok=false');
    await t.rejects(phone.waitEvent('CALL_ESTABLISHED', 200), /no CALL_ESTABLISHED event within 200 ms/, 'waits are bounded');
  } finally {
    await phone.stop();
    await phone.stop();
    await sipp.stop();
  }
});
