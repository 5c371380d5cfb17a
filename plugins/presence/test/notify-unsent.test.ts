// A NOTIFY that could not be sent or was cut short (the host stopping SIP:
// ctx.sip.requestInDialog rejects then, core/test/sip-router-stopping.test.ts)
// ends the subscription in memory but keeps its journal record: the
// subscriber never answered, and the next start tells it to subscribe anew
// (src/sip/restart.ts). A NOTIFY the subscriber refused (481) removes the
// record too. Found as a rare failure of restart.test.ts in CI, it seems:
// sipp's 200 to the initial NOTIFY came after the host had stopped SIP, the
// engine ended the NOTIFY 503, the record went, and the final NOTIFY after
// the restart never came.
import t from 'tap';
import pino from 'pino';
import { SubscriptionManager, type NotifySend } from '../src/sip/subscriptions.ts';
import type { DialogRecord, SubscriptionJournal } from '../src/sip/journal.ts';
import type { PresenceView } from '../src/access.ts';

function manager(notify: NotifySend) {
  const puts: DialogRecord[] = [];
  const removed: string[] = [];
  const journal = { put: (r: DialogRecord) => puts.push(r), touch: () => undefined, remove: (d: string) => removed.push(d) } as unknown as SubscriptionJournal;
  const m = new SubscriptionManager({
    view: () => ({}) as PresenceView,
    pidf: () => '<presence/>',
    notify,
    log: pino({ level: 'silent' }),
    journal,
  });
  const record: DialogRecord = {
    dialog: '', site: 'example.test', presentity: 'alice', kind: 'presence', event: 'presence', watcher: 'bob@example.test',
    callId: 'unsent-1', localParty: '<sip:alice@example.test>;tag=a1', remoteParty: '<sip:bob@example.test>;tag=b1',
    remoteTarget: 'sip:bob@127.0.0.1:5070', expiresAt: 0,
  };
  m.add({ site: 'example.test', presentity: 'alice', key: 'bob@example.test', owner: 'bob@example.test', event: 'presence', dialogId: 'unsent-1;from-tag=b1', kind: 'presence' }, 600, record);
  return { m, puts, removed };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

t.test('a NOTIFY not sent: the subscription ends here, its journal record stays for the next start', async (t) => {
  let sent = 0;
  const { m, puts, removed } = manager(async () => {
    sent++;
    throw new Error('SIP connection closed');
  });
  await settle();
  t.equal(sent, 1, 'the initial NOTIFY was attempted');
  t.equal(puts.length, 1, 'the dialog was journaled');
  t.equal(m.size, 0, 'the subscription is gone from memory');
  t.same(removed, [], 'its journal record is kept');
});

t.test('a NOTIFY refused (481): the journal record goes too', async (t) => {
  const { m, puts, removed } = manager(async () => 481);
  await settle();
  t.equal(puts.length, 1);
  t.equal(m.size, 0, 'the subscription is gone');
  t.same(removed, ['unsent-1;from-tag=b1'], 'and so is its journal record');
});
