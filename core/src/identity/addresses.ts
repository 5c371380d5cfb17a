/**
 * Normal forms of what identifies a user on a site, so that lookups from SIP
 * (request-URI user parts) and from the admin API agree on SQLite and
 * MariaDB alike (one is case-sensitive, the other not): usernames and aliases
 * are lowercase; phone numbers keep digits and a leading `+`, dropping the
 * visual separators RFC 3966 allows (space, `-`, `.`, `(`, `)`).
 */

/** Usernames and aliases: a SIP user part we can also put in URLs and CSV without quoting. */
export const NAME_PATTERN = '^[a-z0-9][a-z0-9._+-]{0,63}$';
/** Phone numbers as typed by people; normalised before storing. */
export const PHONE_PATTERN = '^\\+?[0-9 ().-]{2,40}$';

const NAME_RE = new RegExp(NAME_PATTERN);

export function normaliseName(value: string): string {
  return value.trim().toLowerCase();
}

export function isName(value: string): boolean {
  return NAME_RE.test(value);
}

/** `+1 (555) 010-2030` → `+15550102030`; undefined when it is not a phone number. */
export function normalisePhone(value: string): string | undefined {
  const compact = value.trim().replace(/[\s().-]/g, '');
  return /^\+?[0-9]{2,20}$/.test(compact) ? compact : undefined;
}

/** The user-part keys a SIP address could be stored under, most specific first. */
export function addressKeys(userPart: string): string[] {
  const keys = [normaliseName(userPart)];
  const phone = normalisePhone(userPart);
  if (phone && phone !== keys[0]) keys.push(phone);
  return keys;
}
