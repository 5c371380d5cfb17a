// The settings both Switchboard hosts of the REGISTER benchmark run with
// (register-host.ts from source, the registrar build through its config
// file), so the two measure the same registrar.

export interface RegisterHostOptions {
  storageUrl: string;
  sipPort: number;
  domain: string;
  adminPassword: string;
  /** sip.engineThread of the host; unset: the host's own (the registrar build's: "main"). */
  engineThread?: 'main' | 'worker';
}

/** Config for the host: SIP on 127.0.0.1 (UDP), MD5 offered first, no lockout, its storage, one site, the admin password. */
export function registerHostConfig(opts: RegisterHostOptions) {
  return {
    sip: {
      contacts: [`sip:127.0.0.1:${opts.sipPort};transport=udp`],
      engine: 'embedded',
      ...(opts.engineThread ? { engineThread: opts.engineThread } : {}),
      wire: { host: '127.0.0.1', port: 0 },
      // sipp answers only MD5, and takes the first challenge.
      registrar: { algorithms: ['MD5', 'SHA-256'] },
      // The lockout would turn the first overloaded step (a retransmitted,
      // already-used nonce counts as a failure) into minutes of 403s for
      // every later step from 127.0.0.1; Kamailio's config has none either.
      security: { maxFailures: 1_000_000_000 },
    },
    storage: { url: opts.storageUrl },
    sites: [{ domain: opts.domain }],
    admin: { password: opts.adminPassword },
    log: { level: 'warn' },
  };
}
