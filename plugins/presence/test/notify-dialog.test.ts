// NOTIFYs belong to the subscription's dialog (RFC 6665 §4.2.2, RFC 3261 §12.2.1.1):
// same Call-ID, our tag from the 2xx in From, the subscriber's tag in To, CSeq going up,
// the route set from Record-Route, the Contact as Request-URI; and in-dialog SUBSCRIBEs
// are checked like new ones (400, 423, 481 for another package).
import t from 'tap';
import { header, pidf, presenceHost, statusOf, stateIn, tagOf, Ua } from './helpers.ts';

const cseqOf = (m: string) => Number((header(m, '(?:cseq)') ?? '').split(/\s+/)[0]);

t.test('NOTIFYs in the dialog: Call-ID, tags, CSeq, route set, target; in-dialog SUBSCRIBE checks', async (t) => {
  const host = await presenceHost(['alice', 'bob']);
  t.teardown(() => host.close());
  const alice = await Ua.open('alice', host.sipPort);
  const bob = await Ua.open('bob', host.sipPort);
  t.teardown(() => Promise.all([alice.close(), bob.close()]));
  const published = await alice.send('PUBLISH', 'alice', { headers: ['Event: presence', 'Content-Type: application/pidf+xml'], body: pidf('alice', { activities: '<rpid:away/>' }) });
  t.equal(statusOf(published), 200);

  const callId = `dlg-${Date.now()}`;
  // A Record-Route pointing at bob itself: the route set must come back as Route on every NOTIFY.
  const route = `<sip:127.0.0.1:${bob.port};lr>`;
  const ok = await bob.send('SUBSCRIBE', 'alice', { callId, fromTag: 'bobdlg', headers: ['Event: presence', 'Expires: 600', `Record-Route: ${route}`] });
  t.equal(statusOf(ok), 202);
  const ourTag = tagOf(header(ok, '(?:to|t)'));
  t.ok(ourTag, '2xx carries our tag');
  const contact = /<([^>]+)>/.exec(header(ok, '(?:contact|m)') ?? '')?.[1];
  t.ok(contact, '2xx carries a Contact');

  const first = await bob.nextNotify((m) => m.includes(callId));
  t.match(first, /^NOTIFY sip:bob@127\.0\.0\.1:\d+ SIP\/2\.0/, 'Request-URI is the subscriber\'s Contact');
  t.equal(header(first, '(?:call-id|i)'), callId);
  t.equal(tagOf(header(first, '(?:from|f)')), ourTag, 'From tag is the tag of our 2xx');
  t.equal(tagOf(header(first, '(?:to|t)')), 'bobdlg', 'To tag is the subscriber\'s');
  t.equal(header(first, 'Route'), route, 'route set from Record-Route');
  t.match(header(first, '(?:cseq)'), /^\d+ NOTIFY$/);
  const granted = Number(/expires=(\d+)/.exec(header(first, 'Subscription-State') ?? '')?.[1]);
  t.ok(granted <= 600 && granted >= 590, `Subscription-State expires (${granted}) within the granted 600 s`);

  const before = bob.notifies.length;
  const modify = ['Event: presence', 'Content-Type: application/pidf+xml', `SIP-If-Match: ${header(published, 'SIP-ETag')}`];
  t.equal(statusOf(await alice.send('PUBLISH', 'alice', { headers: modify, body: pidf('alice', { activities: '<rpid:busy/>' }) })), 200);
  const second = await bob.nextNotify((m) => m.includes(callId) && stateIn(m) === 'busy', 15_000, before);
  t.ok(cseqOf(second) > cseqOf(first), `CSeq goes up (${cseqOf(first)} → ${cseqOf(second)})`);
  t.equal(tagOf(header(second, '(?:from|f)')), ourTag);

  // In-dialog SUBSCRIBEs: checked like new ones, and the subscription survives a refused one.
  const inDialog = (cseq: number, headers: string[]) => bob.send('SUBSCRIBE', 'alice', { ruri: contact, callId, fromTag: 'bobdlg', toTag: ourTag, cseq, headers });
  t.equal(statusOf(await inDialog(2, ['Event: presence', 'Expires: 5'])), 423, 'refresh below Min-Expires');
  t.equal(statusOf(await inDialog(3, ['Event: presence', 'Expires: soon'])), 400, 'malformed Expires');
  t.equal(statusOf(await inDialog(4, ['Event: presence.winfo', 'Expires: 600'])), 481, 'no subscription of another package in this dialog');
  const refreshed = bob.notifies.length;
  const refresh = await inDialog(5, ['Event: presence', 'Expires: 1200']);
  t.equal(statusOf(refresh), 200, 'refresh');
  t.equal(header(refresh, 'Expires'), '1200');
  const third = await bob.nextNotify((m) => m.includes(callId), 15_000, refreshed);
  t.match(header(third, 'Subscription-State'), /^active;expires=(1200|119\d)$/, 'NOTIFY after the refresh has the new expiry');
  t.ok(cseqOf(third) > cseqOf(second), 'CSeq still going up');

  const ending = bob.notifies.length;
  t.equal(statusOf(await inDialog(6, ['Event: presence', 'Expires: 0'])), 200, 'unsubscribe');
  const final = await bob.nextNotify((m) => m.includes(callId) && /^terminated/.test(header(m, 'Subscription-State') ?? ''), 15_000, ending);
  t.match(header(final, 'Subscription-State'), /^terminated;reason=timeout$/);
  t.equal(stateIn(final), 'busy', 'the final NOTIFY carries the state');
  t.ok(cseqOf(final) > cseqOf(third));
  t.equal(statusOf(await inDialog(7, ['Event: presence', 'Expires: 600'])), 481, 'ended: the dialog is gone');
});
