/**
 * The core error registry: every failure the host reports carries one of
 * these codes, so admins, the CLI and tests can match on a stable name instead
 * of a message. Add codes here (never inline), keep the `CORE_ERR_` prefix,
 * and make the message say what to do; `core/test/errors.test.ts` checks it.
 */
import { REGISTRY_ERRORS } from './registry/registry-errors.ts';

export interface CoreErrorSpec {
  /** What went wrong and what to do about it. */
  message: string;
  /** Status to answer with when the error reaches an HTTP client. */
  httpStatus: number;
  /** Longer help: where to look, which setting to change. */
  hint: string;
}

export const CORE_ERRORS: Record<string, CoreErrorSpec> = {
  CORE_ERR_UNKNOWN_CODE: {
    message: 'Internal error with an unregistered code; report it as a bug',
    httpStatus: 500,
    hint: 'coreError() was called with a code missing from CORE_ERRORS in core/src/errors.ts; add the code there.',
  },
  CORE_ERR_CONFIG_INVALID: {
    message: 'The configuration is invalid; fix every problem listed and start again',
    httpStatus: 500,
    hint: 'Config is merged from config/default.json, the --config file, SWITCHBOARD_* variables and overrides, then validated against config/schema.json.',
  },
  CORE_ERR_MANIFEST_INVALID: {
    message: 'The plugin manifest (plugin.json) is invalid; fix the fields listed',
    httpStatus: 422,
    hint: 'plugin.json is validated against core/src/plugins/manifest-schema.json; see ARCHITECTURE.md "A plugin".',
  },
  CORE_ERR_PLUGIN_DUPLICATE_ID: {
    message: 'Two plugin folders declare the same id; remove or rename one of them',
    httpStatus: 409,
    hint: 'Plugin ids are unique across plugins/ and every folder in plugins.dirs; the first one found wins.',
  },
  CORE_ERR_DEPENDENCY_FAILED: {
    message: 'A plugin dependency is missing, incompatible or cyclic; install a matching version or disable the dependent plugin',
    httpStatus: 409,
    hint: 'engines.switchboard and depends in plugin.json are semver ranges checked at boot; the reason names the whole chain.',
  },
  CORE_ERR_STORAGE_URL_INVALID: {
    message: 'storage.url is not understood; use sqlite:PATH, sqlite::memory: or mysql://user:pass@host:port/db',
    httpStatus: 500,
    hint: 'Set storage.url in the config file or SWITCHBOARD_STORAGE__URL.',
  },
  CORE_ERR_STORAGE_UNAVAILABLE: {
    message: 'The database could not be opened; check that it is running and that storage.url is right',
    httpStatus: 503,
    hint: 'For SQLite the folder must be writable; for MySQL/MariaDB the server, user, password and database must exist.',
  },
  CORE_ERR_STORAGE_CLOSED: {
    message: 'The storage was closed (the host is stopping); the write was not made',
    httpStatus: 503,
    hint: 'Writes after stop() are refused, as are batches still unanswered when the row writer thread had to be terminated.',
  },
  CORE_ERR_STORAGE_WRITER_LOST: {
    message: 'The row writer thread stopped with this batch in flight; look the rows up before writing them again',
    httpStatus: 500,
    hint: 'On a SQLite file, ctx.db.insertRows runs on a worker thread; if it dies, later calls run on the host\'s own connection and the log says why it died.',
  },
  CORE_ERR_DB_ROWS_INVALID: {
    message: 'ctx.db.insertRows was given rows it cannot insert; give one table, plain column names and the same columns in every row',
    httpStatus: 500,
    hint: 'Values may be strings, numbers, bigints, booleans, null or Buffers; details.reason says which rule the call broke.',
  },
  CORE_ERR_MIGRATION_FAILED: {
    message: 'A plugin migration failed and was rolled back; fix the migration and install again',
    httpStatus: 500,
    hint: 'Each migration runs in a transaction; on MariaDB/MySQL, where DDL is not transactional, down() is run to undo it, so make down() idempotent (DROP TABLE IF EXISTS).',
  },
  CORE_ERR_MIGRATION_INVALID: {
    message: 'A plugin migration file does not export a migration; export a class or object with name, up() and down()',
    httpStatus: 500,
    hint: 'Migrations live in the folder named by "migrations" in plugin.json (default src/migrations) and run in name order.',
  },
  CORE_ERR_TABLE_PREFIX: {
    message: 'A plugin table name lacks the plugin id prefix; name it <plugin_id>_<table> (hyphens become underscores)',
    httpStatus: 500,
    hint: 'Plugins share one database; the prefix keeps their tables apart and lets purge find them.',
  },
  // Host, scoped context and admin API (core/src/host, core/src/http).
  CORE_ERR_PLUGIN_MAIN_INVALID: {
    message: 'The plugin main module does not default-export definePlugin({...}); export default definePlugin from @switchboard/sdk',
    httpStatus: 500,
    hint: 'manifest "main" names the module (relative to the plugin folder) that the host imports.',
  },
  CORE_ERR_PLUGIN_SETUP_FAILED: {
    message: 'The plugin threw during setup and was marked failed; fix it and restart the host',
    httpStatus: 500,
    hint: 'The error field of GET /api/admin/plugins carries the thrown message; the host and other plugins keep running.',
  },
  CORE_ERR_PLUGIN_ENABLE_FAILED: {
    message: 'The plugin threw in enable/disable for this site and is off there (other sites keep it); fix the cause and enable it again',
    httpStatus: 500,
    hint: 'enable(site) and disable(site) run when an admin toggles the plugin and at boot for enabled sites; GET /api/admin/plugins shows the reason under sites[site].error.',
  },
  CORE_ERR_PLUGIN_NOT_FOUND: {
    message: 'No plugin with this id is installed; check GET /api/admin/plugins for the ids',
    httpStatus: 404,
    hint: 'Plugins are discovered under plugins/ and the folders in plugins.dirs.',
  },
  CORE_ERR_PLUGIN_FAILED: {
    message: 'The plugin is in the failed state and cannot be enabled; see its error, fix it and restart',
    httpStatus: 409,
    hint: 'GET /api/admin/plugins shows state and error for every plugin.',
  },
  CORE_ERR_PLUGIN_NOT_ENABLED: {
    message: 'The plugin is not enabled for this site; enable it with PUT /api/admin/sites/:site/plugins/:id',
    httpStatus: 404,
    hint: 'Plugin routes and SIP handlers only serve sites where the plugin is enabled.',
  },
  CORE_ERR_PLUGIN_CONFIG_INVALID: {
    message: 'The plugin config does not match the plugin config schema; nothing was changed',
    httpStatus: 400,
    hint: 'The schema is the "config" field of the plugin manifest; details lists the ajv errors.',
  },
  CORE_ERR_DEPENDENCY_DISABLED: {
    message: 'The plugin needs dependencies that are not enabled for this site; enable them first',
    httpStatus: 409,
    hint: 'depends in plugin.json lists what must be on for the same site; details names them.',
  },
  CORE_ERR_DEPENDENTS_ENABLED: {
    message: 'Other plugins enabled for this site depend on this one; disable them first',
    httpStatus: 409,
    hint: 'details names the dependent plugins.',
  },
  CORE_ERR_PLUGIN_BREAKER_OPEN: {
    message: 'The plugin failed too often and its breaker disabled it; once plugins.breaker.windowMs has passed, enable it again through PUT /api/admin/sites/:site/plugins/:id',
    httpStatus: 503,
    hint: 'plugins.breaker.failures failures within plugins.breaker.windowMs trip the breaker; it stays open for windowMs, then an admin re-enable closes it (or a restart). details.retryAfterMs says how long is left.',
  },
  CORE_ERR_HANDLER_FAILED: {
    message: 'A plugin handler threw while serving this request; only this request failed',
    httpStatus: 500,
    hint: 'See the host log for the plugin id and stack.',
  },
  CORE_ERR_HANDLER_TIMEOUT: {
    message: 'A plugin handler did not answer within plugins.handlerTimeoutMs and was cut off',
    httpStatus: 504,
    hint: 'Raise plugins.handlerTimeoutMs or fix the plugin so it answers in time.',
  },
  CORE_ERR_SITE_REQUIRED: {
    message: 'The request names no site; put it in the :site path parameter or the x-switchboard-site header',
    httpStatus: 400,
    hint: 'Every plugin route serves one site at a time.',
  },
  CORE_ERR_SITE_NOT_FOUND: {
    message: 'No site with this domain; add it to sites in the config or POST /api/admin/sites',
    httpStatus: 404,
    hint: 'Sites come from the config (stored at boot) or from the admin API.',
  },
  CORE_ERR_HTTP_OUTSIDE_PREFIX: {
    message: 'A plugin tried to register an HTTP route outside its prefix; use a path below ctx.http.prefix',
    httpStatus: 500,
    hint: 'The prefix is permissions.http.prefix in plugin.json, or /api/plugins/<id>.',
  },
  CORE_ERR_HTTP_ROUTES_CLOSED: {
    message: 'A plugin registered an HTTP route after setup finished; register routes inside setup()',
    httpStatus: 500,
    hint: 'Routes are mounted once when setup resolves.',
  },
  CORE_ERR_SIP_METHOD_NOT_DECLARED: {
    message: 'A plugin tried to handle a SIP method its manifest does not declare; add it to permissions.sip.methods',
    httpStatus: 500,
    hint: 'The manifest lists every SIP method the plugin handles.',
  },
  CORE_ERR_SIP_CONNECT_FAILED: {
    message: 'The core could not connect to the SIP engine; check sip.external host, port and secret (or sip.wire for the embedded engine)',
    httpStatus: 503,
    hint: 'The host keeps serving HTTP and retries the connection with backoff.',
  },
  CORE_ERR_EVENT_TOPIC_NOT_DECLARED: {
    message: 'A plugin used an event topic its manifest does not declare; add it to permissions.events.publish or .subscribe',
    httpStatus: 500,
    hint: 'Topics are declared per direction.',
  },
  CORE_ERR_DB_ENTITY_NOT_OWNED: {
    message: 'A plugin asked for a repository of an entity it does not own; pass your EntitySchemas in definePlugin({ entities })',
    httpStatus: 500,
    hint: 'ctx.db only reaches the plugin own tables.',
  },
  CORE_ERR_DB_TABLE_NOT_OWNED: {
    message: 'A plugin query touched a table it does not own; ctx.db reaches only tables whose names start with the plugin prefix',
    httpStatus: 500,
    hint: 'Other plugins\' tables and core tables are reached through services and events, never SQL; details.table names the table.',
  },
  CORE_ERR_UI_SLOT_NOT_DECLARED: {
    message: 'A plugin rendered into a UI slot its manifest does not declare; add the slot to ui.fragments',
    httpStatus: 500,
    hint: 'ui.fragments in plugin.json maps slot names to templates.',
  },
  CORE_ERR_UI_TEMPLATE_INVALID: {
    message: 'A plugin UI template could not be read or compiled; check the path and the handlebars syntax',
    httpStatus: 500,
    hint: 'Template paths are relative to the plugin folder.',
  },
  CORE_ERR_SERVICE_NOT_DECLARED: {
    message: 'A plugin provided or consumed a service its manifest does not declare; add it to provides or permissions.services',
    httpStatus: 500,
    hint: 'Services are declared on both sides so the dependency is visible.',
  },
  CORE_ERR_SERVICE_UNAVAILABLE: {
    message: 'No running plugin provides this service; enable the provider or declare it in depends',
    httpStatus: 503,
    hint: 'Providers set up before consumers only when the consumer depends on the provider.',
  },
  CORE_ERR_AUTH_REQUIRED: {
    message: 'This endpoint needs an admin token; POST /api/auth/login and send Authorization: Bearer <token>',
    httpStatus: 401,
    hint: 'Tokens expire; log in again when one is rejected.',
  },
  CORE_ERR_AUTH_INVALID: {
    message: 'Wrong username or password',
    httpStatus: 401,
    hint: 'The bootstrap admin is "admin" with admin.password (SWITCHBOARD_ADMIN_PASSWORD) from the first start.',
  },
  CORE_ERR_REQUEST_INVALID: {
    message: 'The request body or parameters are invalid; see details',
    httpStatus: 400,
    hint: 'details lists the ajv errors.',
  },
  CORE_ERR_RATE_LIMITED: {
    message: 'Too many requests; wait and try again',
    httpStatus: 429,
    hint: 'Login attempts are rate limited per client address.',
  },
  CORE_ERR_INTERNAL: {
    message: 'The host failed while serving this request; see the host log',
    httpStatus: 500,
    hint: 'The log entry carries the stack and the request id.',
  },
  CORE_ERR_ROUTE_NOT_FOUND: {
    message: 'No route matches this method and path',
    httpStatus: 404,
    hint: 'Core routes live under /api; plugin routes under their prefix.',
  },
  // Identity: sites, users, credentials, sign-in and roles (core/src/identity, core/src/http/*identity*, role-guard).
  CORE_ERR_ROUTE_ROLE_MISSING: {
    message: 'An HTTP route was registered without declaring the role it needs; add config: { role } to the route',
    httpStatus: 500,
    hint: 'Roles are public, user, site-admin and admin; a site-admin route needs a :site parameter or config.siteFiltered: true. See core/src/http/role-guard.ts.',
  },
  CORE_ERR_THEME_INVALID: {
    message: 'A theme folder is unusable and was left out; fix its theme.json or layouts and restart',
    httpStatus: 500,
    hint: 'Each themes/<name> needs theme.json and the layouts it names (app.hbs, plain.hbs); sites using it fall back to the default theme meanwhile (docs/themes.md).',
  },
  CORE_ERR_NO_CLIENT_ENABLED: {
    message: 'No web client is enabled for this site; ask your administrator to enable one',
    httpStatus: 404,
    hint: 'An admin enables a client plugin (e.g. web-client) for the site in the admin console or with PUT /api/admin/sites/:site/plugins/web-client.',
  },
  CORE_ERR_LIVE_BAD_FRAME: {
    message: 'The live channel message is malformed; send one JSON text frame {"type", "id"?, "data"?}',
    httpStatus: 400,
    hint: 'Frames on /api/live are JSON text, at most 64 KiB, with a string "type" of the form <plugin>.<name>.',
  },
  CORE_ERR_LIVE_UNKNOWN_TYPE: {
    message: 'No enabled plugin handles this live message type on your site',
    httpStatus: 404,
    hint: 'The plugin that owns the type prefix may be disabled for the site, failed, or not installed; GET /api/admin/plugins shows which.',
  },
  CORE_ERR_LIVE_RATE_LIMITED: {
    message: 'Too many live channel messages; slow down and retry',
    httpStatus: 429,
    hint: 'Each browser session may send a bounded number of frames a second on /api/live.',
  },
  CORE_ERR_LIVE_HANDLER_FAILED: {
    message: 'The plugin failed while handling this live message; retry, and tell an admin if it keeps failing',
    httpStatus: 500,
    hint: 'The plugin threw or timed out; its failures count towards its breaker (GET /api/admin/plugins shows the reason).',
  },
  CORE_ERR_LIVE_NOT_DECLARED: {
    message: 'The plugin used the live channel without declaring it; add "permissions": { "live": true } to plugin.json',
    httpStatus: 500,
    hint: 'Live event and message types must also start with the plugin id and a dot, e.g. "im.message".',
  },
  CORE_ERR_FORBIDDEN: {
    message: 'Your role does not allow this request; sign in as an admin of this site or of the host',
    httpStatus: 403,
    hint: 'admin reaches every site; site-admin only routes of its own site; user only its own account.',
  },
  CORE_ERR_SITE_EXISTS: {
    message: 'A site with this domain already exists',
    httpStatus: 409,
    hint: 'Site domains are unique; GET /api/admin/sites lists them.',
  },
  CORE_ERR_SITE_IN_CONFIG: {
    message: 'This site is defined in the config file; change or remove it there and restart',
    httpStatus: 409,
    hint: 'Sites listed under sites in the config are recreated at every start, so the API does not change them.',
  },
  CORE_ERR_SITE_IN_USE: {
    message: 'Plugins are still enabled for this site; disable them before removing the site',
    httpStatus: 409,
    hint: 'details.plugins names them; PUT /api/admin/sites/:site/plugins/:id with { "enabled": false }.',
  },
  CORE_ERR_USER_EXISTS: {
    message: 'A user with this username already exists on this site',
    httpStatus: 409,
    hint: 'Usernames are unique per site; PATCH the existing user instead.',
  },
  CORE_ERR_USER_NOT_FOUND: {
    message: 'No user with this username on this site',
    httpStatus: 404,
    hint: 'GET /api/admin/sites/:site/users lists the users of a site.',
  },
  CORE_ERR_ADDRESS_TAKEN: {
    message: 'An alias or phone number is already used by another user (or is another user\'s username) on this site',
    httpStatus: 409,
    hint: 'Usernames, aliases and phone numbers share one address space per site so a SIP request reaches exactly one user; details.address names the clash.',
  },
  CORE_ERR_PASSWORD_WRONG: {
    message: 'The current password is wrong; nothing was changed',
    httpStatus: 403,
    hint: 'POST /api/me/password needs the current password; an admin can reset it instead.',
  },
  CORE_ERR_SIGNIN_LOCKED: {
    message: 'This account is locked after too many failed sign-ins; wait for the lockout to end or ask an admin',
    httpStatus: 423,
    hint: 'security.signIn.maxFailures failures within windowMs lock the account for lockoutMs; Retry-After gives the seconds left.',
  },
  CORE_ERR_SIGNIN_THROTTLED: {
    message: 'Too many failed sign-ins from your address; wait before trying again',
    httpStatus: 429,
    hint: 'security.signIn limits failures per client address too; Retry-After gives the seconds left.',
  },
  CORE_ERR_IMPORT_INVALID: {
    message: 'The CSV file could not be read at all; it needs a header line naming at least username and password',
    httpStatus: 400,
    hint: 'Columns: username, password, displayName, aliases, phone, email, groups, role, enabled (lists separated by ;).',
  },
  // Plugin registry, installer and trimmed builds (core/src/registry, core/src/build).
  ...REGISTRY_ERRORS,
};

/** A failure with a stable `CORE_ERR_*` code, an HTTP status and optional structured details. */
export class CoreError extends Error {
  code: string;
  httpStatus: number;
  details?: unknown;

  constructor(code: string, message: string, httpStatus: number, details?: unknown) {
    super(message);
    this.name = 'CoreError';
    this.code = code;
    this.httpStatus = httpStatus;
    if (details !== undefined) this.details = details;
  }
}

/**
 * Build a CoreError from the registry. `detail` is appended to the registered
 * message so the reader gets both what happened here and what to do.
 */
export function coreError(code: string, detail?: string, details?: unknown): CoreError {
  const spec = CORE_ERRORS[code];
  if (!spec) {
    const unknown = CORE_ERRORS.CORE_ERR_UNKNOWN_CODE!;
    return new CoreError('CORE_ERR_UNKNOWN_CODE', `${unknown.message} (${code}${detail ? `: ${detail}` : ''})`, unknown.httpStatus, details);
  }
  const message = detail ? `${spec.message}: ${detail}` : spec.message;
  return new CoreError(code, message, spec.httpStatus, details);
}
