/**
 * PIDF (RFC 3863) with RPID (RFC 4480) to one device's presence. The
 * exact state travels in our `sb:state` extension when the publisher is a
 * Switchboard client; other clients are mapped from basic status, RPID
 * activities (and `other` words clients use for DND or BRB) and idle input.
 */
import { presenceError } from '../errors.ts';
import { isState, type PresenceState } from '../states.ts';
import { NS } from './namespaces.ts';
import { childrenOf, descendants, parseXml, type XmlElement } from './xml-tree.ts';

export interface PidfLimits {
  maxBytes: number;
  maxTuples: number;
  maxNoteLength: number;
}

export const DEFAULT_PIDF_LIMITS: PidfLimits = { maxBytes: 16_384, maxTuples: 32, maxNoteLength: 1024 };

/** What one device published. */
export interface DevicePresence {
  /** The document's `entity` attribute. */
  entity: string;
  state: PresenceState;
  /** A site-defined state id (sb:custom); `state` is its base. */
  custom?: string;
  /** `automatic` for idle reports and documents marked `sb:source automatic`. */
  source: 'manual' | 'automatic';
  note?: string;
  location?: string;
  /** The device says it is a mobile one (RFC 5196 mobility, or sb:device mobile). */
  mobile: boolean;
  /** False when the device lists its SIP methods without MESSAGE, or says im="false". */
  im: boolean;
}

const AWAY_ACTIVITIES = new Set(['away', 'vacation', 'holiday', 'permanent-absence', 'meal', 'breakfast', 'lunch', 'dinner', 'sleeping', 'travel', 'in-transit', 'steering', 'shopping']);
const MEETING_ACTIVITIES = new Set(['meeting', 'appointment', 'presentation']);

/** Words clients put in `<rpid:other>` (or our own ids), to a state. */
const OTHER_WORDS: Record<string, PresenceState> = {
  'do-not-disturb': 'do-not-disturb',
  dnd: 'do-not-disturb',
  'be-right-back': 'be-right-back',
  brb: 'be-right-back',
  'in-a-conference': 'in-a-conference',
  'in-conference': 'in-a-conference',
  conference: 'in-a-conference',
  inactive: 'inactive',
  idle: 'inactive',
  'in-a-call': 'in-a-call',
  'in-a-meeting': 'in-a-meeting',
};

/** Parse and validate; throws a PresenceError (callers answer 400) and never returns half a document. */
export function parsePidf(body: string, limits: PidfLimits = DEFAULT_PIDF_LIMITS): DevicePresence {
  if (Buffer.byteLength(body, 'utf8') > limits.maxBytes) throw presenceError('PRESENCE_ERR_BODY_TOO_LARGE', `${limits.maxBytes} bytes at most`);
  const root = parseXml(body, { maxElements: 500, maxDepth: 16 });
  if (root.ns !== NS.pidf || root.name !== 'presence') throw presenceError('PRESENCE_ERR_NOT_PIDF', `root is {${root.ns}}${root.name}`);
  const entity = root.attrs.entity;
  if (!entity || !/^(sips?|pres):[^\s]+$/i.test(entity)) throw presenceError('PRESENCE_ERR_INVALID_PIDF', 'presence needs an entity URI');

  const tuples = childrenOf(root, NS.pidf, 'tuple');
  if (tuples.length > limits.maxTuples) throw presenceError('PRESENCE_ERR_INVALID_PIDF', `more than ${limits.maxTuples} tuples`);
  const basics: string[] = [];
  for (const tuple of tuples) {
    if (!tuple.attrs.id) throw presenceError('PRESENCE_ERR_INVALID_PIDF', 'tuple without id');
    const status = childrenOf(tuple, NS.pidf, 'status');
    if (status.length !== 1) throw presenceError('PRESENCE_ERR_INVALID_PIDF', 'a tuple needs exactly one status');
    for (const basic of childrenOf(status[0]!, NS.pidf, 'basic')) {
      if (basic.text !== 'open' && basic.text !== 'closed') throw presenceError('PRESENCE_ERR_INVALID_PIDF', `basic "${basic.text}"`);
      basics.push(basic.text);
    }
  }

  const notes = [...descendants(root, NS.pidf, 'note'), ...descendants(root, NS.dm, 'note')].map((n) => n.text).filter(Boolean);
  for (const note of notes) {
    if (note.length > limits.maxNoteLength) throw presenceError('PRESENCE_ERR_INVALID_PIDF', `note longer than ${limits.maxNoteLength}`);
  }
  const location = locationOf(root);
  if (location && location.length > 256) throw presenceError('PRESENCE_ERR_INVALID_PIDF', 'location longer than 256');

  const sbState = descendants(root, NS.sb, 'state')[0]?.text;
  if (sbState !== undefined && !isState(sbState)) throw presenceError('PRESENCE_ERR_UNKNOWN_STATE', sbState);
  const sbSource = descendants(root, NS.sb, 'source')[0]?.text;
  const custom = descendants(root, NS.sb, 'custom')[0]?.text;
  if (custom !== undefined && !/^[a-z][a-z0-9-]{0,39}$/.test(custom)) throw presenceError('PRESENCE_ERR_UNKNOWN_STATE', custom);
  const idle = descendants(root, NS.rpid, 'user-input').some((u) => u.text === 'idle');
  const derived = sbState ?? stateFrom(basics, activitiesOf(root), idle);
  const automatic = sbSource === 'automatic' || (sbState === undefined && derived === 'inactive' && idle);

  return {
    entity,
    state: derived,
    ...(custom ? { custom } : {}),
    source: automatic ? 'automatic' : 'manual',
    ...(notes[0] ? { note: notes[0] } : {}),
    ...(location ? { location } : {}),
    mobile: isMobile(root),
    im: canIm(root),
  };
}

interface Activities {
  names: Set<string>;
  others: string[];
}

function activitiesOf(root: XmlElement): Activities {
  const names = new Set<string>();
  const others: string[] = [];
  for (const block of descendants(root, NS.rpid, 'activities')) {
    for (const a of block.children) {
      if (a.ns !== NS.rpid) continue;
      if (a.name === 'other') others.push(a.text.toLowerCase().trim().replace(/\s+/g, '-'));
      else names.add(a.name);
    }
  }
  return { names, others };
}

function stateFrom(basics: string[], activities: Activities, idle: boolean): PresenceState {
  if (basics.length > 0 && !basics.includes('open')) return 'offline';
  for (const word of activities.others) {
    const mapped = OTHER_WORDS[word];
    if (mapped) return mapped;
  }
  const { names } = activities;
  if (names.has('on-the-phone')) return 'in-a-call';
  if ([...names].some((n) => MEETING_ACTIVITIES.has(n))) return 'in-a-meeting';
  if (names.has('busy')) return 'busy';
  if ([...names].some((n) => AWAY_ACTIVITIES.has(n))) return 'away';
  if (names.has('unknown')) return 'unknown';
  if (idle) return 'inactive';
  if (basics.includes('open')) return 'available';
  return 'unknown';
}

function locationOf(root: XmlElement): string | undefined {
  const own = descendants(root, NS.sb, 'location')[0]?.text;
  if (own) return own;
  const place = descendants(root, NS.rpid, 'place-type')[0];
  if (!place) return undefined;
  const other = place.children.find((c) => c.name === 'other' && c.text);
  if (other) return other.text;
  return place.children[0]?.name;
}

function isMobile(root: XmlElement): boolean {
  const device = descendants(root, NS.sb, 'device')[0];
  if (device?.attrs.mobile !== undefined) return device.attrs.mobile === 'true';
  return descendants(root, NS.caps, 'mobility').some((m) =>
    childrenOf(m, NS.caps, 'supported').some((s) => childrenOf(s, NS.caps, 'mobile').length > 0));
}

function canIm(root: XmlElement): boolean {
  const device = descendants(root, NS.sb, 'device')[0];
  if (device?.attrs.im !== undefined) return device.attrs.im !== 'false';
  const methods = descendants(root, NS.caps, 'methods');
  if (methods.length === 0) return true;
  return methods.some((m) => childrenOf(m, NS.caps, 'supported').some((s) => childrenOf(s, NS.caps, 'MESSAGE').length > 0));
}
