/**
 * RFC 4662 resource list NOTIFY bodies: multipart/related (RFC 2387) whose
 * root part is the RLMI document and whose other parts are the PIDF
 * documents of the resources it lists as active.
 */
import { randomBytes } from 'node:crypto';
import { escapeXml } from './xml-tree.ts';

export const RLMI_CONTENT_TYPE = 'application/rlmi+xml';

export interface ListResource {
  /** `sip:bob@site`. */
  uri: string;
  name?: string;
  /** Stable per subscription and resource. */
  instance: string;
  /** `active` with a PIDF document; `terminated` (with a reason) when the list server cannot watch it. */
  state: 'active' | 'terminated';
  reason?: 'noresource' | 'rejected';
  /** The PIDF document for an active resource. */
  pidf?: string;
}

export interface ListNotify {
  contentType: string;
  body: string;
}

/** One NOTIFY body: the RLMI document for `resources` (all of them when `fullState`) and their PIDF parts. */
export function buildListNotify(listUri: string, listName: string | undefined, version: number, fullState: boolean, resources: readonly ListResource[], domain: string): ListNotify {
  const boundary = `sb-${randomBytes(9).toString('base64url')}`;
  const token = randomBytes(6).toString('base64url');
  const rootCid = `rlmi.${token}@${domain}`;
  const parts: Array<{ cid: string; type: string; body: string }> = [];
  const items = resources.map((r, i) => {
    const name = r.name ? `<name>${escapeXml(r.name)}</name>` : '';
    if (r.state === 'active' && r.pidf) {
      const cid = `${r.instance}.${token}.${i}@${domain}`;
      parts.push({ cid, type: 'application/pidf+xml', body: r.pidf });
      return `<resource uri="${escapeXml(r.uri)}">${name}<instance id="${escapeXml(r.instance)}" state="active" cid="${escapeXml(cid)}"/></resource>`;
    }
    return `<resource uri="${escapeXml(r.uri)}">${name}<instance id="${escapeXml(r.instance)}" state="terminated" reason="${r.reason ?? 'noresource'}"/></resource>`;
  });
  const rlmi = '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="${escapeXml(listUri)}" version="${version}" fullState="${fullState}">`
    + (listName ? `<name>${escapeXml(listName)}</name>` : '')
    + items.join('')
    + '</list>\n';
  const part = (cid: string, type: string, body: string) =>
    `--${boundary}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${cid}>\r\nContent-Type: ${type};charset="UTF-8"\r\n\r\n${body}\r\n`;
  const body = part(rootCid, RLMI_CONTENT_TYPE, rlmi) + parts.map((p) => part(p.cid, p.type, p.body)).join('') + `--${boundary}--\r\n`;
  return {
    contentType: `multipart/related;type="${RLMI_CONTENT_TYPE}";start="<${rootCid}>";boundary="${boundary}"`,
    body,
  };
}
