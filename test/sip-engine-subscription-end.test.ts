/**
 * Subscription dialogs end in the engine when the subscriber is gone, not
 * only after a terminating NOTIFY: a NOTIFY answered 481, one that times
 * out, and one refused without Retry-After end the dialog (RFC 5057 §5.1
 * and §5.2, RFC 6665 §4.2.2); a refusal with Retry-After and a 200 keep it.
 * A drachtio-srf app is the notifier; a raw UDP socket is the subscriber.
 */
import t from 'tap';
import { startEngineWithApp, type EngineWithApp } from './helpers/engine.ts';
import { udpPeer, type RawPeer } from './helpers/raw-sip.ts';

function subscribe(peer: RawPeer, sipPort: number, callId: string): string {
  return [
    `SUBSCRIBE sip:alice@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-${callId}-1;rport`,
    'Max-Forwards: 70',
    `From: <sip:bob@example.test>;tag=bob-${callId}`,
    'To: <sip:alice@example.test>',
    `Call-ID: ${callId}`,
    'CSeq: 1 SUBSCRIBE',
    `Contact: <sip:bob@127.0.0.1:${peer.port}>`,
    'Event: presence',
    'Expires: 600',
    'Content-Length: 0',
    '', '',
  ].join('\r\n');
}

/** A response to `req` that copies Via, From, To, Call-ID and CSeq. */
function answer(req: string, status: number, reason: string, extra: string[] = []): string {
  const keep = req.split('\r\n').filter((l) => /^(via|v|from|f|to|t|call-id|i|cseq)\s*:/i.test(l));
  return [`SIP/2.0 ${status} ${reason}`, ...keep, ...extra, 'Content-Length: 0', '', ''].join('\r\n');
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return check();
}

interface Case {
  name: string;
  /** What the subscriber answers to the first NOTIFY; undefined: nothing at all. */
  reply?: (notify: string) => string;
  dialogKept: boolean;
  status: number;
}

const CASES: Case[] = [
  { name: 'a NOTIFY answered 481 ends the dialog', reply: (n) => answer(n, 481, 'Call/Transaction Does Not Exist'), dialogKept: false, status: 481 },
  { name: 'a NOTIFY refused 500 without Retry-After ends the dialog', reply: (n) => answer(n, 500, 'Server Internal Error'), dialogKept: false, status: 500 },
  { name: 'a NOTIFY refused 503 with Retry-After keeps the dialog', reply: (n) => answer(n, 503, 'Service Unavailable', ['Retry-After: 30']), dialogKept: true, status: 503 },
  { name: 'a NOTIFY answered 200 keeps the dialog', reply: (n) => answer(n, 200, 'OK'), dialogKept: true, status: 200 },
  { name: 'a NOTIFY that times out ends the dialog', dialogKept: false, status: 408 },
];

for (const c of CASES) {
  t.test(c.name, async (t) => {
    // A short T1 so the unanswered NOTIFY times out (64*T1) within the test.
    const env: EngineWithApp = await startEngineWithApp({ timers: { t1: 20, t2: 80, t4: 100 } });
    t.teardown(() => env.close());
    const notifyStatuses: number[] = [];
    let dialog: { request(opts: unknown): Promise<{ status: number }> } | undefined;
    env.srf.subscribe(async (req: unknown, res: unknown) => {
      dialog = await env.srf.createUAS(req, res, { headers: { Expires: '600' } });
      const r = await dialog!.request({ method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': 'active;expires=600', 'Content-Type': 'text/plain' }, body: 'open' });
      notifyStatuses.push(r.status);
    });
    const peer = await udpPeer({ host: '127.0.0.1', port: env.sipPort });
    t.teardown(() => peer.close());
    const callId = `sub-end-${Math.random().toString(36).slice(2)}`;
    peer.send(subscribe(peer, env.sipPort, callId));
    const ok = await peer.next((m) => m.startsWith('SIP/2.0 2'));
    t.match(ok, /^SIP\/2\.0 20[02]/, 'SUBSCRIBE accepted');
    const notify = await peer.next((m) => m.startsWith('NOTIFY '));
    t.equal(env.engine.stats().dialogs, 1, 'one dialog while the NOTIFY is out');
    if (c.reply) peer.send(c.reply(notify));
    t.ok(await until(() => notifyStatuses.length === 1, 10_000), 'the app got the NOTIFY\'s final response');
    t.equal(notifyStatuses[0], c.status);
    if (c.dialogKept) {
      t.equal(env.engine.stats().dialogs, 1, 'the dialog stays');
      // And it still carries requests.
      const second = dialog!.request({ method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': 'active;expires=500', 'Content-Type': 'text/plain' }, body: 'closed' });
      const again = await peer.next((m) => m.startsWith('NOTIFY ') && m.includes('closed'));
      peer.send(answer(again, 200, 'OK'));
      t.equal((await second).status, 200, 'a later NOTIFY in the kept dialog is answered');
    } else {
      t.equal(env.engine.stats().dialogs, 0, 'no dialog left in the engine');
      await t.rejects(dialog!.request({ method: 'NOTIFY', headers: { Event: 'presence', 'Subscription-State': 'active;expires=500' } }), 'a request in the ended dialog is refused, not sent');
    }
  });
}
