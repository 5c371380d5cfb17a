/**
 * The registrar and SIP authenticator (RFC 3261 §10 and §22): digest
 * challenges with expiring, non-replayable nonces; bindings with min/max
 * expiry, q-values, `Contact: *`, Call-ID/CSeq ordering, Path (RFC 3327)
 * and outbound flows (RFC 5626); failure limits per IP and per user.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { challenges, parseAuthorization, verifyAnswer, type DigestAlgorithm } from './digest.ts';
import { NonceManager } from './nonce-manager.ts';
import { FailureLimiter, type FailureLimits } from '../identity/failure-limiter.ts';
import { BindingStore, ensureBindingTable, type Binding } from './binding-store.ts';
import { readContacts, contactIdentity, ContactError } from './contact-list.ts';
import type { SrfReq, SrfRes } from './srf-types.ts';

export interface CredentialSource {
  digestCredentials(siteDomain: string, username: string): Promise<{ userId: string; realm: string; ha1Md5: string; ha1Sha256: string } | undefined>;
  /** Resolve a user part (username, alias or number) to the username, for AOR checks and routing. */
  findByAddress(siteDomain: string, userPart: string): Promise<{ username: string; enabled?: boolean } | undefined>;
}

export interface RegistrarOptions {
  minExpires: number;
  maxExpires: number;
  defaultExpires: number;
  maxBindingsPerUser: number;
  nonceTtlMs: number;
  algorithms: DigestAlgorithm[];
  limits: FailureLimits;
  /** User-Agent substrings of known SIP scanners (case-insensitive). */
  scannerUserAgents: string[];
  /** What to do with a scanner: drop silently, or answer 403. */
  scannerAction: 'drop' | 'reject';
  onEvent?: (topic: string, payload: Record<string, unknown>) => void;
}

export const DEFAULT_REGISTRAR_OPTIONS: RegistrarOptions = {
  minExpires: 60,
  maxExpires: 3600,
  defaultExpires: 3600,
  maxBindingsPerUser: 10,
  nonceTtlMs: 300_000,
  algorithms: ['SHA-256', 'MD5'],
  limits: { maxFailures: 10, windowMs: 60_000, lockoutMs: 300_000 },
  scannerUserAgents: ['friendly-scanner', 'sipvicious', 'sipcli', 'sip-scan', 'sundayddr', 'iWar', 'VaxSIPUserAgent', 'pplsip'],
  scannerAction: 'drop',
};

export interface AuthResult {
  username: string;
  site: string;
}

/** Several values of one header for srf (it would comma-join an array, which breaks challenges). */
function multi(name: string, values: string[]): string {
  return values.join(`\r\n${name}: `);
}

export class Registrar {
  readonly bindings: BindingStore;
  readonly #creds: CredentialSource;
  readonly #opts: RegistrarOptions;
  readonly #nonces: NonceManager;
  readonly #byIp: FailureLimiter;
  readonly #byUser: FailureLimiter;
  readonly #log: Logger;
  readonly #ds: DataSource;

  constructor(ds: DataSource, creds: CredentialSource, opts: Partial<RegistrarOptions>, log: Logger) {
    this.#ds = ds;
    this.#creds = creds;
    this.#opts = { ...DEFAULT_REGISTRAR_OPTIONS, ...opts };
    this.#nonces = new NonceManager({ ttlMs: this.#opts.nonceTtlMs });
    this.#byIp = new FailureLimiter(this.#opts.limits);
    this.#byUser = new FailureLimiter(this.#opts.limits);
    this.#log = log;
    this.bindings = new BindingStore(ds);
    this.bindings.onFlushError = (err) => this.#log.error({ err }, 'writing registrar bindings failed; retrying');
    this.bindings.onExpire = (b) => this.#opts.onEvent?.('registrar.expired', { site: b.site, user: b.aor, contact: b.contact });
  }

  async start(): Promise<void> {
    await ensureBindingTable(this.#ds);
    const n = await this.bindings.load();
    this.bindings.startSweeping();
    this.#log.info({ bindings: n }, 'registrar bindings restored');
  }

  async stop(): Promise<void> {
    await this.bindings.stop();
  }

  /** Known scanner: true when the request was dealt with (dropped or rejected). */
  screenScanner(req: SrfReq, res: SrfRes): boolean {
    const ua = (req.get('User-Agent') ?? '').toLowerCase();
    if (!ua || !this.#opts.scannerUserAgents.some((s) => ua.includes(s.toLowerCase()))) return false;
    this.#opts.onEvent?.('security.scanner', { ip: req.source_address, userAgent: ua });
    if (this.#opts.scannerAction === 'reject') res.send(403);
    // 'drop': no answer at all; the engine's transaction simply times out on the scanner's side.
    return true;
  }

  /**
   * Digest-authenticate a request for `site`. Answers 401/407 (challenge,
   * stale=true on an expired nonce) or 403 itself and returns undefined;
   * returns the user when the answer is right.
   */
  async authenticate(req: SrfReq, res: SrfRes, site: string, proxy: boolean): Promise<AuthResult | undefined> {
    const ip = req.source_address;
    const status = proxy ? 407 : 401;
    const hdr = proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
    if (this.#byIp.lockedFor(ip) > 0) {
      res.send(403, 'Forbidden - Too Many Failures');
      return undefined;
    }
    const raw = req.get(proxy ? 'Proxy-Authorization' : 'Authorization');
    const answers = raw ? splitChallenges(raw).map(parseAuthorization).filter((a) => a !== undefined) : [];
    const answer = answers.find((a) => a.realm.toLowerCase() === site.toLowerCase());
    const challenge = (stale = false) =>
      res.send(status, { headers: { [hdr]: multi(hdr, challenges(site, this.#nonces.issue(), { stale, algorithms: this.#opts.algorithms })) } });
    if (!answer) {
      challenge();
      return undefined;
    }
    const userKey = `${site}|${answer.username.toLowerCase()}`;
    if (this.#byUser.lockedFor(userKey) > 0) {
      res.send(403, 'Forbidden - Account Locked');
      return undefined;
    }
    const verdict = this.#nonces.check(answer.nonce, answer.qop ? answer.nc : undefined);
    if (verdict === 'stale') {
      challenge(true);
      return undefined;
    }
    const creds = verdict === 'ok' ? await this.#credentials(site, answer.username) : undefined;
    if (verdict === 'ok' && creds && this.#opts.algorithms.includes(answer.algorithm) && verifyAnswer(answer, req.method, creds)) {
      // Only the account is cleared: one good account must not reset an address's count.
      this.#byUser.clear(userKey);
      return { username: answer.username, site };
    }
    this.#failed(ip, userKey, verdict === 'ok' ? 'bad credentials' : `nonce ${verdict}`);
    if (verdict === 'replay' || verdict === 'invalid' || !creds) challenge();
    else res.send(403, 'Forbidden');
    return undefined;
  }

  // The directory caches these lookups (invalidated by every identity write), so a
  // REGISTER storm does not become a database storm.
  #credentials(site: string, username: string) {
    return this.#creds.digestCredentials(site, username);
  }

  #owner(site: string, userPart: string) {
    return this.#creds.findByAddress(site, userPart);
  }

  #failed(ip: string, userKey: string, why: string): void {
    this.#log.info({ ip, user: userKey, why }, 'SIP authentication failed');
    if (this.#byIp.fail(ip)) this.#opts.onEvent?.('security.lockout', { kind: 'sip-ip', key: ip });
    if (this.#byUser.fail(userKey)) this.#opts.onEvent?.('security.lockout', { kind: 'sip-user', key: userKey });
  }

  /** REGISTER for a site (§10.3). */
  async register(req: SrfReq, res: SrfRes, site: string): Promise<void> {
    const user = await this.authenticate(req, res, site, false);
    if (!user) return;
    const toUser = userPart(req.get('To') ?? '');
    const owner = toUser ? await this.#owner(site, toUser) : undefined;
    if (!owner || owner.username.toLowerCase() !== user.username.toLowerCase()) {
      res.send(403, 'Forbidden - Not Your Address');
      return;
    }
    const aor = owner.username.toLowerCase();
    let list;
    try {
      list = readContacts(req.getRawHeaders?.('Contact') ?? (req.get('Contact') ? [req.get('Contact')!] : []));
    } catch (err) {
      res.send(400, err instanceof ContactError ? `Bad Request - ${err.message}` : 'Bad Request');
      return;
    }
    const now = Date.now();
    const callId = req.get('Call-ID') ?? '';
    const cseq = Number((req.get('CSeq') ?? '0').trim().split(/\s+/)[0]);
    const headerExpires = req.get('Expires');
    if (headerExpires !== undefined && !/^\s*\d{1,10}\s*$/.test(headerExpires)) {
      res.send(400, 'Bad Request - Expires');
      return;
    }
    const existing = this.bindings.get(site, aor, now);
    if (list.kind === 'none') return this.#ok(req, res, site, aor);
    if (list.kind === 'star') {
      if (headerExpires === undefined || Number(headerExpires) !== 0) {
        res.send(400, 'Bad Request - Contact * needs Expires: 0');
        return;
      }
      const removals = existing.filter((b) => b.callId !== callId || cseq > b.cseq);
      if (removals.length !== existing.length) {
        res.send(500, 'Server Internal Error - Out Of Order');
        return;
      }
      await this.bindings.apply(site, aor, [], removals);
      this.#opts.onEvent?.('registrar.changed', { site, user: aor, contacts: 0 });
      return this.#ok(req, res, site, aor);
    }
    const upserts: Binding[] = [];
    const removals: Binding[] = [];
    const outbound = /\boutbound\b/i.test(req.get('Supported') ?? '');
    const path = /\bpath\b/i.test(req.get('Supported') ?? '') && req.get('Path') ? [req.get('Path')!] : [];
    for (const c of list.contacts) {
      const expires = c.expires ?? (headerExpires !== undefined ? Number(headerExpires) : this.#opts.defaultExpires);
      if (expires > 0 && expires < this.#opts.minExpires) {
        res.send(423, { headers: { 'Min-Expires': String(this.#opts.minExpires) } });
        return;
      }
      const key = outbound && c.instance && c.regId !== undefined ? `outbound:${c.instance}:${c.regId}` : contactIdentity(c.uri);
      const prior = existing.find((b) => b.key === key);
      if (prior && prior.callId === callId && cseq <= prior.cseq) {
        res.send(500, 'Server Internal Error - Out Of Order');
        return;
      }
      if (expires === 0) {
        if (prior) removals.push(prior);
        continue;
      }
      upserts.push({
        id: prior?.id ?? randomUUID(),
        site, aor, contact: c.uri, key, q: c.q,
        expiresAt: now + Math.min(expires, this.#opts.maxExpires) * 1000,
        callId, cseq,
        userAgent: (req.get('User-Agent') ?? '').slice(0, 255),
        transport: (req.protocol ?? 'udp').toLowerCase(),
        sourceAddress: req.source_address,
        sourcePort: Number(req.source_port),
        path,
        ...(c.instance ? { instance: c.instance } : {}),
        ...(c.regId !== undefined ? { regId: c.regId } : {}),
        updatedAt: now,
      });
    }
    const after = existing.filter((b) => !removals.includes(b) && !upserts.some((u) => u.id === b.id)).length + upserts.length;
    if (after > this.#opts.maxBindingsPerUser) {
      res.send(403, `Forbidden - At Most ${this.#opts.maxBindingsPerUser} Registrations`);
      return;
    }
    await this.bindings.apply(site, aor, upserts, removals);
    this.#opts.onEvent?.('registrar.changed', { site, user: aor, contacts: after });
    this.#ok(req, res, site, aor, path, outbound && upserts.some((u) => u.regId !== undefined));
  }

  #ok(req: SrfReq, res: SrfRes, site: string, aor: string, path: string[] = [], outbound = false): void {
    const now = Date.now();
    const contacts = this.bindings.get(site, aor, now).map((b) => {
      const params = [`expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`];
      if (b.q !== 1) params.push(`q=${b.q}`);
      if (b.instance) params.push(`+sip.instance="${b.instance}"`);
      if (b.regId !== undefined) params.push(`reg-id=${b.regId}`);
      return `<${b.contact}>;${params.join(';')}`;
    });
    const headers: Record<string, string> = { Date: new Date(now).toUTCString() };
    if (contacts.length) headers.Contact = contacts.join(', ');
    if (path.length) headers.Path = path.join(', ');
    if (outbound) headers.Require = 'outbound';
    void req;
    res.send(200, { headers });
  }
}

/** Split several `Digest …` answers joined by commas (only at a new `Digest` token). */
function splitChallenges(raw: string): string[] {
  return raw.split(/,\s*(?=Digest\s)/i);
}

function userPart(nameAddr: string): string | undefined {
  const m = /sips?:([^@;>]+)@/i.exec(nameAddr);
  return m ? decodeURIComponent(m[1]!) : undefined;
}
