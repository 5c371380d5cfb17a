/** Reading the Contact header of a REGISTER (RFC 3261 §10.3 steps 6–7, RFC 5626 instance/reg-id). */
import { parseNameAddr, splitHeaderList, nameAddrParam } from '../sip-engine/message/index.ts';

export interface RegisteredContact {
  uri: string;
  expires?: number;
  q: number;
  instance?: string;
  regId?: number;
}

export type ContactList = { kind: 'none' } | { kind: 'star' } | { kind: 'list'; contacts: RegisteredContact[] };

export class ContactError extends Error {}

export function readContacts(values: string[]): ContactList {
  const all = values.flatMap((v) => splitHeaderList(v));
  if (!all.length) return { kind: 'none' };
  if (all.some((c) => c.trim() === '*')) {
    if (all.length !== 1) throw new ContactError('Contact: * must be the only contact');
    return { kind: 'star' };
  }
  const contacts = all.map((text) => {
    let na;
    try {
      na = parseNameAddr(text, 'Contact');
    } catch (err) {
      throw new ContactError(`unreadable Contact '${text.slice(0, 80)}': ${(err as Error).message}`);
    }
    const exp = nameAddrParam(na, 'expires');
    const q = nameAddrParam(na, 'q');
    const instance = nameAddrParam(na, '+sip.instance');
    const regId = nameAddrParam(na, 'reg-id');
    const c: RegisteredContact = { uri: na.uri, q: q ? Math.min(1, Math.max(0, Number(q))) || 0 : 1 };
    if (typeof exp === 'string') {
      if (!/^\d{1,10}$/.test(exp)) throw new ContactError(`bad expires parameter '${exp}'`);
      c.expires = Number(exp);
    }
    if (typeof instance === 'string') c.instance = instance.replace(/^"|"$/g, '');
    if (typeof regId === 'string' && /^\d+$/.test(regId)) c.regId = Number(regId);
    return c;
  });
  return { kind: 'list', contacts };
}

/** Compare contact URIs loosely enough for binding identity (scheme, user, host, port, transport). */
export function contactIdentity(uri: string): string {
  const m = /^(sips?):(?:([^@;>]+)@)?([^;>?]+)(.*)$/i.exec(uri.trim());
  if (!m) return uri.toLowerCase();
  const transport = /;transport=([^;>?]+)/i.exec(m[4] ?? '')?.[1]?.toLowerCase() ?? '';
  return `${m[1]!.toLowerCase()}:${m[2] ?? ''}@${m[3]!.toLowerCase()};${transport}`;
}
