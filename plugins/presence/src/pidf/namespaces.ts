/** Namespace URIs of the presence documents this plugin reads and writes. */
export const NS = {
  pidf: 'urn:ietf:params:xml:ns:pidf',
  dm: 'urn:ietf:params:xml:ns:pidf:data-model',
  rpid: 'urn:ietf:params:xml:ns:pidf:rpid',
  caps: 'urn:ietf:params:xml:ns:pidf:caps',
  /** Our extension: the exact state, its source, the location and device facts. */
  sb: 'urn:switchboard:params:xml:ns:presence',
} as const;

export const PIDF_CONTENT_TYPE = 'application/pidf+xml';
