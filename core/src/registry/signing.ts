/**
 * Plugin integrity and signatures, shared by the author CLI (pack, sign) and
 * the host (install). Integrity is SRI sha512 over the tarball bytes; the
 * signature is ed25519 over the canonical JSON of
 * `{ id, version, integrity, manifestDigest }`, so it binds the exact
 * tarball and the manifest inside it to the published id and version.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

/** What a publisher signs for one plugin version. */
export interface SignedFields {
  id: string;
  version: string;
  /** `sha512-<base64>` of the tarball. */
  integrity: string;
  /** `sha512-<base64>` of the canonical JSON of plugin.json. */
  manifestDigest: string;
}

export function sriSha512(data: Buffer | string): string {
  return `sha512-${createHash('sha512').update(data).digest('base64')}`;
}

/** Digest of a parsed plugin.json, independent of its formatting. */
export function manifestDigest(manifest: unknown): string {
  return sriSha512(canonicalJson(manifest));
}

export function signingPayload(fields: SignedFields): string {
  const { id, version, integrity, manifestDigest: digest } = fields;
  return canonicalJson({ id, version, integrity, manifestDigest: digest });
}

/** Key id: the first 16 bytes of sha256 over the SPKI DER of the public key, hex. */
export function keyIdOf(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const der = key.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 32);
}

export interface GeneratedKeyPair {
  keyId: string;
  /** PKCS#8 PEM; keep it secret. */
  privateKeyPem: string;
  /** SPKI PEM; goes into hosts' trust folders. */
  publicKeyPem: string;
}

export function generateSigningKeyPair(): GeneratedKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    keyId: keyIdOf(publicKey),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Base64 ed25519 signature of the fields, plus the key id of the signer. */
export function signFields(fields: SignedFields, privateKeyPem: string): { signature: string; keyId: string } {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('signFields: the private key must be ed25519');
  const signature = sign(null, Buffer.from(signingPayload(fields)), key).toString('base64');
  return { signature, keyId: keyIdOf(createPublicKey(key)) };
}

export function verifyFields(fields: SignedFields, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(signingPayload(fields)), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
