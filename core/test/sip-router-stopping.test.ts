// SipRouter.requestInDialog while the host stops SIP: a request the stop
// ends unanswered (the engine ends its transaction 503) rejects, so a
// plugin does not take it for the peer's answer (presence would otherwise
// drop a subscription's journal record and the next start could not end
// it); before the stop, and for any other status, the status as it came.
import t from 'tap';
import pino from 'pino';
import { SipRouter } from '../src/host/sip-router.ts';

function router(statuses: number[]) {
  const r = new SipRouter({
    order: () => [], hasSite: () => true, serves: () => false, handlerTimeoutMs: 1000, onFailure: () => undefined, log: pino({ level: 'silent' }),
  });
  const answers: Array<(status: number) => void> = [];
  r.useDirect(() => new Promise<number>((resolve) => answers.push(resolve)));
  return { r, answer: () => answers.shift()!(statuses.shift()!) };
}

t.test('before the stop: 503 is the status it came with', async (t) => {
  const { r, answer } = router([503]);
  const p = r.requestInDialog('d1', { method: 'NOTIFY' });
  answer();
  t.equal(await p, 503);
});

t.test('during the stop: 503 rejects, other statuses come as they are', async (t) => {
  const { r, answer } = router([503, 200, 481]);
  const cut = r.requestInDialog('d1', { method: 'NOTIFY' });
  const ok = r.requestInDialog('d2', { method: 'NOTIFY' });
  const refused = r.requestInDialog('d3', { method: 'NOTIFY' });
  r.stopping();
  answer();
  answer();
  answer();
  await t.rejects(cut, /SIP stopped before the request was answered/, 'the request the stop cut short rejects');
  t.equal(await ok, 200, 'an answer is an answer');
  t.equal(await refused, 481, 'and so is a refusal');
});
