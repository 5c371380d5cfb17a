import t from 'tap';
import { parsePidf } from '../src/pidf/parse.ts';
import { buildPidf } from '../src/pidf/build.ts';
import { compose, type Publication } from '../src/compose.ts';
import { FIELD_RULES, filterPresence, LEVELS, mayInterrupt } from '../src/access.ts';
import { STATES } from '../src/states.ts';
import { PresenceError } from '../src/errors.ts';

const doc = (inner: string, extraNs = '') =>
  `<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:r="urn:ietf:params:xml:ns:pidf:rpid" xmlns:d="urn:ietf:params:xml:ns:pidf:data-model" ${extraNs} entity="sip:alice@example.test">${inner}</presence>`;
const tuple = (basic: string, extra = '') => `<tuple id="t1"><status><basic>${basic}</basic></status>${extra}</tuple>`;

t.test('RPID and basic status map to states', async (t) => {
  t.equal(parsePidf(doc(tuple('open'))).state, 'available');
  t.equal(parsePidf(doc(tuple('closed'))).state, 'offline');
  const person = (acts: string) => `<d:person id="p"><r:activities>${acts}</r:activities></d:person>`;
  t.equal(parsePidf(doc(tuple('open') + person('<r:busy/>'))).state, 'busy');
  t.equal(parsePidf(doc(tuple('open') + person('<r:on-the-phone/>'))).state, 'in-a-call');
  t.equal(parsePidf(doc(tuple('open') + person('<r:meeting/>'))).state, 'in-a-meeting');
  t.equal(parsePidf(doc(tuple('open') + person('<r:away/>'))).state, 'away');
  t.equal(parsePidf(doc(tuple('open') + person('<r:vacation/>'))).state, 'away');
  t.equal(parsePidf(doc(tuple('open') + person('<r:busy/><r:other>Do Not Disturb</r:other>'))).state, 'do-not-disturb');
  t.equal(parsePidf(doc(tuple('open') + person('<r:other>BRB</r:other>'))).state, 'be-right-back');
  t.equal(parsePidf(doc(tuple('open') + person('<r:unknown/>'))).state, 'unknown');
  const idle = parsePidf(doc(tuple('open') + '<d:person id="p"><r:user-input>idle</r:user-input></d:person>'));
  t.equal(idle.state, 'inactive');
  t.equal(idle.source, 'automatic', 'idle reports are automatic');
  t.equal(parsePidf(doc(tuple('open'))).source, 'manual');
  // Prefixes are the client's choice: the same document with other prefixes.
  const other = `<p:presence xmlns:p="urn:ietf:params:xml:ns:pidf" xmlns:x="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:alice@example.test"><p:tuple id="a"><p:status><p:basic>open</p:basic></p:status></p:tuple><x:activities><x:on-the-phone/></x:activities></p:presence>`;
  t.equal(parsePidf(other).state, 'in-a-call');
  const noted = parsePidf(doc(tuple('open', '<note>back at 3 &amp; then</note>')));
  t.equal(noted.note, 'back at 3 & then');
});

t.test('device capabilities and location', async (t) => {
  const caps = 'xmlns:c="urn:ietf:params:xml:ns:pidf:caps"';
  const mobile = parsePidf(doc(`<tuple id="t"><status><basic>open</basic><c:servcaps><c:mobility><c:supported><c:mobile/></c:supported></c:mobility><c:methods><c:supported><c:INVITE/></c:supported></c:methods></c:servcaps></status></tuple>`, caps));
  t.equal(mobile.mobile, true);
  t.equal(mobile.im, false, 'methods listed without MESSAGE');
  const desk = parsePidf(doc(tuple('open')));
  t.equal(desk.mobile, false);
  t.equal(desk.im, true);
  const placed = parsePidf(doc(tuple('open') + '<d:person id="p"><r:place-type><r:other>Home</r:other></r:place-type></d:person>'));
  t.equal(placed.location, 'Home');
});

t.test('round trip through our own documents, every state', async (t) => {
  for (const state of STATES) {
    const body = buildPidf('sip:alice@example.test', { state, note: 'a <note> & "quotes"', location: 'Office', devices: [{ mobile: true, im: false }] });
    const back = parsePidf(body);
    t.equal(back.state, state, state);
    t.equal(back.note, 'a <note> & "quotes"');
    t.equal(back.location, 'Office');
    t.equal(back.mobile, true);
    t.equal(back.im, false);
  }
});

t.test('malformed, oversized and non-PIDF bodies are refused with a code', async (t) => {
  const refuse = (body: string, code: string, what: string) => {
    try {
      parsePidf(body, { maxBytes: 4096, maxTuples: 4, maxNoteLength: 64 });
      t.fail(`${what}: accepted`);
    } catch (err) {
      t.ok(err instanceof PresenceError, what);
      t.equal((err as PresenceError).code, code, what);
    }
  };
  refuse('<presence', 'PRESENCE_ERR_MALFORMED_XML', 'truncated');
  refuse('', 'PRESENCE_ERR_MALFORMED_XML', 'empty');
  refuse('not xml at all', 'PRESENCE_ERR_MALFORMED_XML', 'text');
  refuse(doc(tuple('open')).replace('</presence>', '</presense>'), 'PRESENCE_ERR_MALFORMED_XML', 'mismatched tags');
  refuse(`<!DOCTYPE x [<!ENTITY a "aaaa">]>${doc(tuple('open', '<note>&a;</note>'))}`, 'PRESENCE_ERR_MALFORMED_XML', 'DTD');
  refuse(doc(tuple('open', `<note>${'x'.repeat(5000)}</note>`)), 'PRESENCE_ERR_BODY_TOO_LARGE', 'oversized');
  refuse('<presence xmlns="urn:example" entity="sip:a@b"/>', 'PRESENCE_ERR_NOT_PIDF', 'wrong namespace');
  refuse('<presence xmlns="urn:ietf:params:xml:ns:pidf"/>', 'PRESENCE_ERR_INVALID_PIDF', 'no entity');
  refuse(doc(tuple('maybe')), 'PRESENCE_ERR_INVALID_PIDF', 'bad basic');
  refuse(doc('<tuple id="a"></tuple>'), 'PRESENCE_ERR_INVALID_PIDF', 'no status');
  refuse(doc(tuple('open', `<note>${'n'.repeat(65)}</note>`)), 'PRESENCE_ERR_INVALID_PIDF', 'long note');
  refuse(doc(Array.from({ length: 5 }, (_, i) => tuple('open').replace('t1', `t${i}`)).join('')), 'PRESENCE_ERR_INVALID_PIDF', 'too many tuples');
  refuse(doc('<x:foo/>'), 'PRESENCE_ERR_MALFORMED_XML', 'undeclared prefix');
  refuse(doc('<d:person id="p"><sb:state xmlns:sb="urn:switchboard:params:xml:ns:presence">napping</sb:state></d:person>'), 'PRESENCE_ERR_UNKNOWN_STATE', 'unknown sb:state');
  refuse(doc('<a>'.repeat(20) + '</a>'.repeat(20)), 'PRESENCE_ERR_INVALID_PIDF', 'too deep');
});

const pub = (device: string, state: Publication['state'], updatedAt: number, extra: Partial<Publication> = {}): Publication =>
  ({ device, entity: 'sip:alice@example.test', state, source: 'manual', mobile: false, im: true, updatedAt, ...extra });

t.test('composition across devices', async (t) => {
  t.equal(compose([]).state, 'offline');
  t.equal(compose([pub('a', 'busy', 1), pub('b', 'available', 2)]).state, 'available', 'most available wins');
  t.equal(compose([pub('a', 'do-not-disturb', 1), pub('b', 'away', 2)]).state, 'away');
  t.equal(compose([pub('a', 'in-a-call', 5, { source: 'automatic' }), pub('b', 'do-not-disturb', 1)]).state, 'do-not-disturb', 'manual beats automatic');
  t.equal(compose([pub('a', 'inactive', 5, { source: 'automatic' }), pub('b', 'away', 1, { source: 'automatic' })]).state, 'inactive');
  const noted = compose([pub('a', 'available', 1, { note: 'old' }), pub('b', 'busy', 9, { note: 'new' }), pub('c', 'away', 5)]);
  t.equal(noted.note, 'new', 'newest note, whichever device won');
  t.equal(noted.devices.length, 3);
});

t.test('access levels: every level x every field', async (t) => {
  const full = compose([pub('a', 'in-a-meeting', 1, { note: 'n', location: 'Office', mobile: true })]);
  for (const level of LEVELS) {
    const view = filterPresence(full, level);
    const rules = FIELD_RULES[level];
    if (level === 'blocked') t.same(view, { state: 'offline' }, 'blocked sees Offline and nothing else');
    else t.equal(view.state, rules.exactState ? 'in-a-meeting' : 'busy', `${level} state`);
    t.equal(view.note, rules.note ? 'n' : undefined, `${level} note`);
    t.equal(view.location, rules.location ? 'Office' : undefined, `${level} location`);
    t.same(view.devices, rules.devices ? [{ mobile: true, im: true }] : undefined, `${level} devices`);
  }
  const dnd = compose([pub('a', 'do-not-disturb', 1)]);
  t.equal(filterPresence(dnd, 'team').urgentInterruptionsOnly, true);
  t.equal(filterPresence(dnd, 'personal').urgentInterruptionsOnly, undefined);
  t.same(LEVELS.filter((l) => mayInterrupt('do-not-disturb', l)), ['team'], 'under DND only Team may interrupt');
  t.same(LEVELS.filter((l) => mayInterrupt('busy', l)), ['personal', 'team', 'company', 'public']);
});
