/** The validated host configuration; see config/schema.json for the meaning of each key. */
export interface SwitchboardConfig {
  http: { host: string; port: number };
  sip: {
    /** drachtio-style contacts, e.g. `sip:0.0.0.0:5060;transport=udp,tcp`. */
    contacts: string[];
    engine: 'embedded' | 'external';
    /** Where the embedded engine runs: on the main thread, or on a worker thread of its own. */
    engineThread: 'main' | 'worker';
    /** Present (with all three fields) when `engine` is `external`. */
    external?: { host: string; port: number; secret: string };
    /** Where the embedded engine serves the drachtio wire protocol; port 0 picks a free one. */
    wire: { host: string; port: number; secret?: string; inProcess: boolean };
    tls?: { cert: string; key: string };
    maxMessageSize: number;
    timers: { t1: number; t2: number; t4: number };
    registrar: {
      minExpires: number;
      maxExpires: number;
      defaultExpires: number;
      maxBindingsPerUser: number;
      nonceTtlSeconds: number;
      algorithms: Array<'SHA-256' | 'MD5'>;
    };
    auth: { challengeMethods: string[] };
    security: {
      maxFailures: number;
      windowSeconds: number;
      lockoutSeconds: number;
      scannerUserAgents: string[];
      scannerAction: 'drop' | 'reject';
    };
  };
  storage: {
    /** `sqlite:PATH`, `sqlite::memory:` or `mysql://user:pass@host:port/db`. */
    url: string;
    /** SQLite only: each connection's page cache (KiB). */
    sqliteCacheKiB: number;
  };
  sites: SiteConfig[];
  admin: { password?: string };
  plugins: {
    /** Extra plugin folders, scanned after `plugins/`. */
    dirs: string[];
    /** Plugin catalogs: file paths or http(s) URLs. */
    registries: string[];
    /** Publisher public keys (*.pem) for signature checks. */
    trustDir: string;
    /** Where registry and uploaded plugins are unpacked; also discovered. */
    installDir: string;
    maxUploadBytes: number;
    handlerTimeoutMs: number;
    breaker: { failures: number; windowMs: number };
  };
  /** HTTP sign-in protection (identity); SIP's is sip.security. */
  security: {
    signIn: { maxFailures: number; maxFailuresPerAddress: number; windowSeconds: number; lockoutSeconds: number };
  };
  /** How the host's JavaScript threads use memory (see core/src/threads/young-generation.ts). */
  runtime: { youngGeneration: 'grow' | 'small'; compactWhenIdle: boolean; mallocThresholdKiB: number };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
}

export interface SiteConfig {
  domain: string;
  /** Methods whose out-of-dialog requests from this site's users need credentials; overrides sip.auth. */
  sipChallengeMethods?: string[];
  name?: string;
  /** Theme folder under themes/ (default `default`). */
  theme?: string;
  /** Logo, colours, sign-in text, help link and menu of the site's pages. */
  branding?: SiteBranding;
}

/** A site's branding (config/schema.json#/definitions/branding; core/src/ui/branding.ts). */
export interface SiteBranding {
  /** Same-origin path or https URL of the logo image. */
  logo?: string;
  /** CSS colours: primary, primaryText, background, surface, text, muted, border, link, focus. */
  colors?: Partial<Record<'primary' | 'primaryText' | 'background' | 'surface' | 'text' | 'muted' | 'border' | 'link' | 'focus', string>>;
  /** Plain text shown above the sign-in form. */
  signInText?: string;
  /** Link to the site's help (https URL or same-origin path). */
  helpUrl?: string;
  /** Extra menu entries. */
  menu?: Array<{ label: string; url: string }>;
}

/** One thing wrong with the merged configuration. */
export interface ConfigProblem {
  /** JSON pointer into the merged config, e.g. `/http/port`; empty for the whole document. */
  path: string;
  expected: string;
  found: string;
}
