/**
 * Identity: sites, users, credentials, sign-in. The SIP side (registrar,
 * digest checks, location routing) reads users through UserDirectory.
 */
export { UserDirectory, type DirectoryUser, type DigestCredentials, type UserView } from './user-directory.ts';
export { UserAccounts } from './user-accounts.ts';
export { SiteCatalog, type SiteView, type SiteCatalogHooks } from './site-catalog.ts';
export { SignInService, type Principal, type PrincipalRole, type LockoutEvent, type SignInInput } from './sign-in.ts';
export { FailureLimiter, type FailureLimits, type Lockout } from './failure-limiter.ts';
export { digestHa1, deriveCredentials, type DigestAlgorithm } from './credentials.ts';
export { addressKeys, normaliseName, normalisePhone } from './addresses.ts';
export { parseUserCsv, importUsers, CSV_COLUMNS, type ImportReport, type ImportProblem } from './csv-import.ts';
export { IDENTITY_ENTITIES, UserEntity, UserAddressEntity } from './identity-entities.ts';
export { ensureIdentityTables } from './identity-tables.ts';
export { WriteQueue } from './write-queue.ts';
