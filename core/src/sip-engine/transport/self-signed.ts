import type { TlsMaterial } from './types.ts';

/**
 * A throwaway certificate for tls/wss listeners when none is configured, so a
 * fresh install can take TLS clients at once. Kept in memory only: a new one
 * per start, nothing written to disk. EC P-256 because it generates fast.
 */
export async function generateSelfSigned(commonName = 'switchboard.invalid'): Promise<TlsMaterial> {
  // Loaded here, not with the module: its X.509 stack costs every start a few hundred ms, and only TLS without a certificate needs it.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: commonName },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
