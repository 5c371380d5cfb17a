/**
 * Checking who signs in: site users (`alice@example.com`, or `alice` with a
 * site) against their scrypt hash, host admins (`admin`) against the admin
 * accounts. Failures count per client address and per account; a lockout
 * answers 429 (address) or 423 (account) and is reported through
 * `onLockout` for monitoring.
 */
import type { DataSource } from 'typeorm';
import { coreError } from '../errors.ts';
import { checkAdminCredentials } from '../host/admin-users.ts';
import { normaliseName } from './addresses.ts';
import { FailureLimiter, type FailureLimits, type Lockout } from './failure-limiter.ts';
import type { UserDirectory } from './user-directory.ts';

export type PrincipalRole = 'admin' | 'site-admin' | 'user';

/** Who a request is from, resolved fresh on every request. */
export interface Principal {
  /** `alice` for a site user, `admin` for a host admin. */
  username: string;
  role: PrincipalRole;
  /** The user's site; absent for host admins. */
  site?: string;
  userId?: string;
  /** Token subject: `alice@example.com` or `admin`. */
  subject: string;
}

export interface LockoutEvent {
  /** What got locked: a client address or an account. */
  scope: 'address' | 'account';
  /** The address or `user@site` / admin name. */
  key: string;
  failures: number;
  /** ISO time the lockout ends. */
  until: string;
  protocol: 'http';
}

export interface SignInInput {
  username: string;
  site?: string;
  password: string;
}

export interface SignInDeps {
  directory: UserDirectory;
  dataSource: DataSource;
  /** Separate limits: many users may share one (NAT) address. */
  limits: { account: FailureLimits; address: FailureLimits };
  onLockout(event: LockoutEvent): void;
}

export class SignInService {
  readonly #deps: SignInDeps;
  readonly #accounts: FailureLimiter;
  readonly #addresses: FailureLimiter;

  constructor(deps: SignInDeps) {
    this.#deps = deps;
    this.#accounts = new FailureLimiter(deps.limits.account);
    this.#addresses = new FailureLimiter(deps.limits.address);
  }

  /** The principal, or a CoreError: AUTH_INVALID 401, SIGNIN_THROTTLED 429, SIGNIN_LOCKED 423 (details.retryAfterMs). */
  async check(input: SignInInput, clientAddress: string): Promise<Principal> {
    const target = parseLogin(input);
    this.#assertUnlocked(clientAddress, target.subject);
    const principal = await this.#verify(target, input.password);
    if (principal) {
      // Only the account is cleared: one good sign-in must not reset an address guessing at others.
      this.#accounts.clear(target.subject);
      return principal;
    }
    const byAddress = this.#addresses.fail(clientAddress);
    const byAccount = this.#accounts.fail(target.subject);
    if (byAddress) this.#report('address', clientAddress, byAddress);
    if (byAccount) this.#report('account', target.subject, byAccount);
    this.#assertUnlocked(clientAddress, target.subject);
    throw coreError('CORE_ERR_AUTH_INVALID');
  }

  /** Count a failure that is not a sign-in (a wrong current password) against the account. */
  failedReauthentication(principal: Principal): void {
    const lock = this.#accounts.fail(principal.subject);
    if (lock) this.#report('account', principal.subject, lock);
  }

  /** ms the account must still wait, for routes that re-check a password. */
  accountLockedFor(principal: Principal): number {
    return this.#accounts.lockedFor(principal.subject);
  }

  /** The principal behind a verified token subject; undefined when the user is gone or disabled. */
  async principalOf(subject: string, tokenRole: string): Promise<Principal | undefined> {
    const at = subject.lastIndexOf('@');
    if (at < 0) return tokenRole === 'admin' ? { username: subject, role: 'admin', subject } : undefined;
    const username = subject.slice(0, at);
    const site = subject.slice(at + 1);
    const user = await this.#deps.directory.findUser(site, username);
    if (!user || !user.enabled) return undefined;
    return { username: user.username, role: user.role, site: user.site, userId: user.id, subject };
  }

  #assertUnlocked(clientAddress: string, subject: string): void {
    const address = this.#addresses.lockedFor(clientAddress);
    if (address > 0) throw coreError('CORE_ERR_SIGNIN_THROTTLED', `retry in ${Math.ceil(address / 1000)} s`, { retryAfterMs: address });
    const account = this.#accounts.lockedFor(subject);
    if (account > 0) throw coreError('CORE_ERR_SIGNIN_LOCKED', `retry in ${Math.ceil(account / 1000)} s`, { retryAfterMs: account });
  }

  async #verify(target: LoginTarget, password: string): Promise<Principal | undefined> {
    if (target.site === undefined) {
      const admin = await checkAdminCredentials(this.#deps.dataSource, target.username, password);
      return admin ? { username: admin.username, role: 'admin', subject: admin.username } : undefined;
    }
    const user = await this.#deps.directory.checkPassword(target.site, target.username, password);
    if (!user) return undefined;
    return { username: user.username, role: user.role, site: user.site, userId: user.id, subject: target.subject };
  }

  #report(scope: LockoutEvent['scope'], key: string, lock: Lockout): void {
    this.#deps.onLockout({ scope, key, failures: lock.failures, until: new Date(lock.until).toISOString(), protocol: 'http' });
  }
}

interface LoginTarget {
  username: string;
  site?: string;
  subject: string;
}

/** `alice@example.com`, `alice` + site, or a host admin name (no site). */
function parseLogin(input: SignInInput): LoginTarget {
  const at = input.username.lastIndexOf('@');
  if (at > 0) {
    const username = normaliseName(input.username.slice(0, at));
    const site = input.username.slice(at + 1).toLowerCase();
    if (input.site !== undefined && input.site.toLowerCase() !== site) throw coreError('CORE_ERR_AUTH_INVALID', 'the username names another site');
    return { username, site, subject: `${username}@${site}` };
  }
  if (input.site !== undefined) {
    const username = normaliseName(input.username);
    const site = input.site.toLowerCase();
    return { username, site, subject: `${username}@${site}` };
  }
  return { username: input.username, subject: input.username };
}
