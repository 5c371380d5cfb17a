/**
 * XML text to a small namespace-resolved element tree. fast-xml-parser
 * keeps prefixes as written, and clients choose their own prefixes, so
 * elements are matched by (namespace URI, local name) instead.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { presenceError } from '../errors.ts';

export interface XmlElement {
  /** Namespace URI ('' when none is in scope). */
  ns: string;
  /** Local name, without prefix. */
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated, trimmed text content directly inside the element. */
  text: string;
}

export interface XmlLimits {
  maxElements: number;
  maxDepth: number;
}

type Ordered = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Only the five predefined entities; a DOCTYPE is refused before parsing.
  processEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

/** Parse `text`; throws PRESENCE_ERR_MALFORMED_XML or PRESENCE_ERR_INVALID_PIDF. */
export function parseXml(text: string, limits: XmlLimits): XmlElement {
  // Entity declarations are how XML bombs work; PIDF never needs a DTD.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw presenceError('PRESENCE_ERR_MALFORMED_XML', 'DTDs are not accepted');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw presenceError('PRESENCE_ERR_MALFORMED_XML', valid.err.msg);
  const nodes = parser.parse(text) as Ordered[];
  const roots = nodes.filter((n) => elementName(n) !== undefined);
  if (roots.length !== 1) throw presenceError('PRESENCE_ERR_MALFORMED_XML', 'expected exactly one root element');
  const counter = { count: 0 };
  return convert(roots[0]!, new Map([['', '']]), 1, limits, counter);
}

function elementName(node: Ordered): string | undefined {
  return Object.keys(node).find((k) => k !== ':@' && k !== '#text');
}

function convert(node: Ordered, scope: Map<string, string>, depth: number, limits: XmlLimits, counter: { count: number }): XmlElement {
  if (++counter.count > limits.maxElements) throw presenceError('PRESENCE_ERR_INVALID_PIDF', `more than ${limits.maxElements} elements`);
  if (depth > limits.maxDepth) throw presenceError('PRESENCE_ERR_INVALID_PIDF', `nested deeper than ${limits.maxDepth}`);
  const qname = elementName(node)!;
  const rawAttrs = (node[':@'] ?? {}) as Record<string, string>;
  let inner = scope;
  const attrs: Record<string, string> = {};
  for (const [key, value] of Object.entries(rawAttrs)) {
    if (key === 'xmlns' || key.startsWith('xmlns:')) {
      if (inner === scope) inner = new Map(scope);
      inner.set(key === 'xmlns' ? '' : key.slice(6), String(value));
    } else {
      attrs[key.includes(':') && !key.startsWith('xml:') ? key.slice(key.indexOf(':') + 1) : key] = String(value);
    }
  }
  const colon = qname.indexOf(':');
  const prefix = colon >= 0 ? qname.slice(0, colon) : '';
  const ns = inner.get(prefix);
  if (ns === undefined) throw presenceError('PRESENCE_ERR_MALFORMED_XML', `undeclared namespace prefix "${prefix}"`);
  const children: XmlElement[] = [];
  const texts: string[] = [];
  for (const child of (node[qname] ?? []) as Ordered[]) {
    if ('#text' in child) texts.push(String(child['#text']));
    else if (elementName(child) !== undefined) children.push(convert(child, inner, depth + 1, limits, counter));
  }
  return { ns, name: colon >= 0 ? qname.slice(colon + 1) : qname, attrs, children, text: texts.join('').trim() };
}

/** Direct children with this namespace and local name. */
export function childrenOf(el: XmlElement, ns: string | undefined, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name && (ns === undefined || c.ns === ns));
}

/** Every descendant (depth first) with this local name, in any namespace when `ns` is undefined. */
export function descendants(el: XmlElement, ns: string | undefined, name: string, out: XmlElement[] = []): XmlElement[] {
  for (const c of el.children) {
    if (c.name === name && (ns === undefined || c.ns === ns)) out.push(c);
    descendants(c, ns, name, out);
  }
  return out;
}

/** Escape text for element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}
