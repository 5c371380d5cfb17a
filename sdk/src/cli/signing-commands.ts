/**
 * `keygen` and `sign`: an ed25519 key pair for a publisher, and a signature
 * file for a packed tarball. The signature covers the tarball's integrity
 * and the digest of the plugin.json inside it, read from the tarball itself
 * so what is signed is exactly what ships.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createPrivateKey } from 'node:crypto';
import { resolve } from 'node:path';
import {
  generateSigningKeyPair, manifestDigest, readTarball, signFields, sriSha512, validateManifest, type SignedFields,
} from '@switchboard/core/registry';
import { SdkCliError } from './cli-error.ts';

/** What `sign` writes next to the tarball (`<tarball>.sig.json`). */
export interface SignatureFile extends SignedFields {
  signature: string;
  keyId: string;
}

export async function keygen(outDir: string, name: string): Promise<{ keyId: string; privateKeyFile: string; publicKeyFile: string }> {
  const pair = generateSigningKeyPair();
  const privateKeyFile = resolve(outDir, `${name}.key`);
  const publicKeyFile = resolve(outDir, `${name}.pub.pem`);
  // wx: never overwrite a key someone already signed with.
  await writeFile(privateKeyFile, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  await writeFile(publicKeyFile, pair.publicKeyPem, { flag: 'wx' });
  return { keyId: pair.keyId, privateKeyFile, publicKeyFile };
}

/** Integrity, id, version and manifest digest of a packed tarball. */
export async function describeTarball(file: string): Promise<SignedFields & { publisher: string; engines: { switchboard: string }; depends: Record<string, string>; description?: string }> {
  const tgz = await readFile(file);
  let raw: unknown;
  try {
    const { files } = await readTarball(tgz, { maxUnpackedBytes: 500 * 1024 * 1024, maxEntries: 10_000 });
    const entry = files.find((f) => f.path === 'plugin.json');
    if (!entry) throw new Error('no plugin.json at the top of the tarball');
    raw = JSON.parse(entry.data.toString('utf8'));
  } catch (err) {
    throw new SdkCliError('SDK_ERR_TARBALL_INVALID', `${file}: ${(err as Error).message}`);
  }
  const result = validateManifest(raw);
  if (!result.ok) throw new SdkCliError('SDK_ERR_MANIFEST_INVALID', result.errors.join('; '));
  const m = result.manifest;
  return {
    id: m.id,
    version: m.version,
    integrity: sriSha512(tgz),
    manifestDigest: manifestDigest(raw),
    publisher: m.publisher,
    engines: m.engines,
    depends: m.depends,
    ...(m.description ? { description: m.description } : {}),
  };
}

export async function signTarball(file: string, keyFile: string): Promise<{ sigFile: string; signature: SignatureFile }> {
  const described = await describeTarball(resolve(file));
  let pem: string;
  try {
    pem = await readFile(keyFile, 'utf8');
    if (createPrivateKey(pem).asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
  } catch (err) {
    throw new SdkCliError('SDK_ERR_KEY_INVALID', `${keyFile}: ${(err as Error).message}`);
  }
  const fields: SignedFields = { id: described.id, version: described.version, integrity: described.integrity, manifestDigest: described.manifestDigest };
  const { signature, keyId } = signFields(fields, pem);
  const sigFile = `${resolve(file)}.sig.json`;
  const content: SignatureFile = { ...fields, signature, keyId };
  await writeFile(sigFile, `${JSON.stringify(content, null, 2)}\n`);
  return { sigFile, signature: content };
}

