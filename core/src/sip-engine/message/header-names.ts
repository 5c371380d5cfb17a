/** RFC 3261 §7.3.3 compact forms plus the ones later RFCs registered. */
const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event',
  r: 'refer-to',
  b: 'referred-by',
  u: 'allow-events',
  x: 'session-expires',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  y: 'identity',
  n: 'identity-info',
};

const cache = new Map<string, string>();

/** Lower-case long form of a header name, for comparisons only. */
export function canonicalHeaderName(name: string): string {
  let c = cache.get(name);
  if (c !== undefined) return c;
  const lower = name.toLowerCase();
  c = lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
  if (cache.size < 4096) cache.set(name, c);
  return c;
}

/**
 * Headers whose values may be comma-joined lists (RFC 3261 §7.3.1); the others
 * (e.g. WWW-Authenticate, Date, Call-ID) must never be split on commas.
 */
export const LIST_HEADERS = new Set([
  'via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require',
  'unsupported', 'accept', 'accept-encoding', 'accept-language', 'allow-events', 'path',
  'content-encoding', 'content-language', 'in-reply-to', 'service-route', 'security-client',
  'security-server', 'security-verify', 'p-asserted-identity', 'reason', 'warning', 'call-info',
  'alert-info', 'error-info',
]);

const PRETTY = new Map(
  [
    'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
    'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition', 'Content-Encoding',
    'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info', 'Event', 'Expires', 'From',
    'In-Reply-To', 'Max-Forwards', 'Min-Expires', 'Min-SE', 'MIME-Version', 'Organization', 'P-Asserted-Identity',
    'Path', 'Priority', 'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'RAck', 'Reason',
    'Record-Route', 'Refer-To', 'Referred-By', 'Reply-To', 'Require', 'Retry-After', 'Route', 'RSeq', 'Server',
    'Service-Route', 'Session-Expires', 'SIP-ETag', 'SIP-If-Match', 'Subject', 'Subscription-State', 'Supported',
    'Timestamp', 'To', 'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
  ].map((n) => [n.toLowerCase(), n]),
);

/**
 * The conventional spelling of a header name written all in lower case
 * (drachtio-srf lower-cases the names it sets). Names are case-insensitive,
 * but some deployed phones compare them literally.
 */
export function conventionalCase(name: string): string {
  return name === name.toLowerCase() ? (PRETTY.get(name) ?? name) : name;
}
