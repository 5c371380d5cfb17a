/**
 * Derived credentials of a site user. SIP digest needs HA1 =
 * H(username:realm:password) per algorithm (RFC 7616 section 3.4.2, SHA-256
 * for SIP per RFC 8760); HTTP sign-in uses the slow scrypt hash shared with
 * the admin accounts. Realm is the site domain, so renaming a domain would
 * invalidate every HA1: domains are immutable.
 */
import { createHash } from 'node:crypto';
import { hashPassword, passwordNeedsRehash, verifyPassword } from '../host/admin-users.ts';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

export interface StoredCredentials {
  passwordHash: string;
  ha1Md5: string;
  ha1Sha256: string;
}

/** Lowercase hex H(username:realm:password). */
export function digestHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(`${username}:${realm}:${password}`, 'utf8').digest('hex');
}

export async function deriveCredentials(username: string, realm: string, password: string): Promise<StoredCredentials> {
  return {
    passwordHash: await hashPassword(password),
    ha1Md5: digestHa1('MD5', username, realm, password),
    ha1Sha256: digestHa1('SHA-256', username, realm, password),
  };
}

export { hashPassword, passwordNeedsRehash, verifyPassword };
