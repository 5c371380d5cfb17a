/** A (filtered) presence view to a PIDF document with RPID and our extension. */
import type { PresenceView } from '../access.ts';
import type { PresenceState } from '../states.ts';
import { NS } from './namespaces.ts';
import { escapeXml } from './xml-tree.ts';

/** RPID activities for each state (RFC 4480 has no DND/BRB/conference, so `other` carries those). */
const ACTIVITIES: Record<PresenceState, string[]> = {
  available: [],
  inactive: [],
  'be-right-back': ['<rpid:away/>', '<rpid:other>be-right-back</rpid:other>'],
  away: ['<rpid:away/>'],
  busy: ['<rpid:busy/>'],
  'in-a-meeting': ['<rpid:meeting/>'],
  'in-a-conference': ['<rpid:on-the-phone/>', '<rpid:other>in-a-conference</rpid:other>'],
  'in-a-call': ['<rpid:on-the-phone/>'],
  'do-not-disturb': ['<rpid:busy/>', '<rpid:other>do-not-disturb</rpid:other>'],
  unknown: ['<rpid:unknown/>'],
  offline: [],
};

export function buildPidf(entity: string, view: PresenceView): string {
  const basic = view.state === 'offline' ? 'closed' : 'open';
  const note = view.note ? `<note>${escapeXml(view.note)}</note>` : '';
  const activities = ACTIVITIES[view.state];
  const person = [
    activities.length ? `<rpid:activities>${activities.join('')}</rpid:activities>` : '',
    view.state === 'inactive' ? '<rpid:user-input>idle</rpid:user-input>' : '',
    view.location ? `<rpid:place-type><rpid:other>${escapeXml(view.location)}</rpid:other></rpid:place-type>` : '',
    view.note ? `<dm:note>${escapeXml(view.note)}</dm:note>` : '',
    `<sb:state>${view.state}</sb:state>`,
    view.custom ? `<sb:custom>${escapeXml(view.custom)}</sb:custom>` : '',
    view.location ? `<sb:location>${escapeXml(view.location)}</sb:location>` : '',
    view.urgentInterruptionsOnly ? '<sb:urgent-interruptions-only/>' : '',
    ...(view.devices ?? []).map((d) => `<sb:device mobile="${d.mobile}" im="${d.im}"/>`),
  ].join('');
  return '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<presence xmlns="${NS.pidf}" xmlns:dm="${NS.dm}" xmlns:rpid="${NS.rpid}" xmlns:sb="${NS.sb}" entity="${escapeXml(entity)}">`
    + `<tuple id="sb"><status><basic>${basic}</basic></status>${note}</tuple>`
    + `<dm:person id="p">${person}</dm:person>`
    + '</presence>\n';
}
