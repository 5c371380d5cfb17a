/** The presence plugin's coded errors (one registry, as the house style asks). */
export const PRESENCE_ERRORS = {
  PRESENCE_ERR_BODY_TOO_LARGE: 'presence document exceeds the size limit',
  PRESENCE_ERR_MALFORMED_XML: 'presence document is not well-formed XML',
  PRESENCE_ERR_NOT_PIDF: 'document is not a PIDF presence document',
  PRESENCE_ERR_INVALID_PIDF: 'PIDF document violates a limit or rule',
  PRESENCE_ERR_UNKNOWN_STATE: 'unknown presence state',
  PRESENCE_ERR_UNKNOWN_USER: 'no such user on this site',
  PRESENCE_ERR_AUTH_REQUIRED: 'sign in as a user of this site',
  PRESENCE_ERR_CONTACT_NOT_FOUND: 'no such contact',
  PRESENCE_ERR_GROUP_NOT_FOUND: 'no such group',
  PRESENCE_ERR_GROUP_EXISTS: 'a group with that name exists',
  PRESENCE_ERR_CONTACT_EXISTS: 'that contact is already in the list',
  PRESENCE_ERR_LIMIT: 'limit reached',
  PRESENCE_ERR_BAD_INPUT: 'malformed request',
  PRESENCE_ERR_DISTRIBUTION_NOT_FOUND: 'no such distribution group on this site',
} as const;

export type PresenceErrorCode = keyof typeof PRESENCE_ERRORS;

export class PresenceError extends Error {
  readonly code: PresenceErrorCode;
  readonly detail?: string;

  constructor(code: PresenceErrorCode, detail?: string) {
    super(detail ? `${PRESENCE_ERRORS[code]}: ${detail}` : PRESENCE_ERRORS[code]);
    this.name = 'PresenceError';
    this.code = code;
    if (detail !== undefined) this.detail = detail;
  }
}

export function presenceError(code: PresenceErrorCode, detail?: string): PresenceError {
  return new PresenceError(code, detail);
}
