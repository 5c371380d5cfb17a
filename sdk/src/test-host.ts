/**
 * A real host for a plugin's own tests: SQLite in memory (or the storage URL
 * given), HTTP and SIP on free loopback ports, an admin logged in, and the
 * plugins under test enabled for every site.
 */
import { mkdtemp, mkdir, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SwitchboardHost, loadConfig, type PluginView } from '@switchboard/core';

/** Options of {@link createTestHost}. */
export interface TestHostOptions {
  /** Plugin folders (each holding a plugin.json) to load. */
  plugins: string[];
  /** Site domains the host serves, e.g. `['example.test']`. */
  sites: string[];
  /** Storage URL; default `sqlite::memory:`. */
  storage?: string;
  /** Enable every loaded plugin for every site (dependency order). Default true. */
  enable?: boolean;
  /**
   * Extra config merged last (e.g. `{ plugins: { handlerTimeoutMs: 200 } }`).
   * The test host challenges no SIP method by default so a plugin's handlers
   * see requests from {@link sendSipRequest}; set `sip.auth.challengeMethods`
   * here to test behind digest authentication.
   */
  config?: Record<string, unknown>;
  /** pino level of the host log; default `silent`. */
  logLevel?: string;
  /** Start the embedded SIP engine; default true. */
  sip?: boolean;
  /** Bootstrap admin password; default random. Pass the same one to reopen a database of an earlier host. */
  adminPassword?: string;
  /** Login attempts per client per minute; default 1000 (tests log in often). */
  loginRateLimit?: number;
}

/** A running host from {@link createTestHost}. */
export interface TestHost {
  /** Base URL of the HTTP API. */
  readonly url: string;
  /** UDP and TCP port of the SIP engine on 127.0.0.1 (0 when SIP is off). */
  readonly sipPort: number;
  /** Bearer token of the bootstrap admin. */
  readonly adminToken: string;
  /** The admin password (random per test host). */
  readonly adminPassword: string;
  /** The host itself, for diagnostics. */
  readonly host: SwitchboardHost;
  /** `fetch` against the host with the admin token set. */
  adminFetch(path: string, init?: RequestInit): Promise<Response>;
  /** Stop the host and remove its temporary files. Safe to call twice. */
  close(): Promise<void>;
}

/** Boot a real Switchboard host with the given plugins. */
export async function createTestHost(options: TestHostOptions): Promise<TestHost> {
  const root = await mkdtemp(join(tmpdir(), 'switchboard-test-host-'));
  const pluginsDir = join(root, 'under-test');
  await mkdir(pluginsDir);
  for (const dir of options.plugins) await symlink(resolve(dir), join(pluginsDir, basename(resolve(dir))), 'dir');
  const sipPort = options.sip === false ? 0 : await freeUdpTcpPort();
  const adminPassword = options.adminPassword ?? randomBytes(12).toString('base64url');
  const config = loadConfig({
    env: {},
    overrides: deepMerge({
      http: { host: '127.0.0.1', port: 0 },
      sip: {
        contacts: [`sip:127.0.0.1:${sipPort};transport=udp,tcp`],
        engine: options.sip === false ? 'external' : 'embedded',
        ...(options.sip === false ? { external: { host: '127.0.0.1', port: 9, secret: 'unused' } } : {}),
        wire: { host: '127.0.0.1', port: 0 },
        auth: { challengeMethods: [] },
      },
      storage: { url: options.storage ?? 'sqlite::memory:' },
      sites: options.sites.map((domain) => ({ domain })),
      admin: { password: adminPassword },
      plugins: { dirs: [pluginsDir] },
      log: { level: options.logLevel ?? 'silent' },
    }, options.config ?? {}),
  });
  let host: SwitchboardHost;
  try {
    host = await SwitchboardHost.start({ config, rootDir: root, loginRateLimit: options.loginRateLimit ?? 1000 });
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= host.stop().finally(() => rm(root, { recursive: true, force: true })));
  try {
    const login = await fetch(`${host.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: adminPassword }),
    });
    if (!login.ok) throw new Error(`createTestHost: admin login failed with ${login.status}: ${await login.text()}`);
    const { token } = (await login.json()) as { token: string };
    const adminFetch = (path: string, init: RequestInit = {}) =>
      fetch(`${host.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) },
      });
    if (options.enable !== false) await enableAll(adminFetch, options.sites);
    return { url: host.url, sipPort, adminToken: token, adminPassword, host, adminFetch, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function enableAll(adminFetch: TestHost['adminFetch'], sites: string[]): Promise<void> {
  const { plugins } = (await (await adminFetch('/api/admin/plugins')).json()) as { plugins: PluginView[] };
  const ready = plugins.filter((p) => p.state === 'ready');
  // Dependencies first: repeat passes until nothing more can be enabled (bounded by the plugin count).
  const pending = new Set(ready.map((p) => p.id));
  for (let pass = 0; pass <= ready.length && pending.size > 0; pass++) {
    for (const plugin of ready) {
      if (!pending.has(plugin.id) || Object.keys(plugin.depends).some((d) => pending.has(d))) continue;
      for (const site of sites) {
        await adminFetch(`/api/admin/sites/${encodeURIComponent(site)}/plugins/${plugin.id}`, {
          method: 'PUT',
          body: JSON.stringify({ enabled: true }),
        });
      }
      pending.delete(plugin.id);
    }
  }
}

/** A port free for both UDP and TCP on 127.0.0.1 (probed, then released). */
/**
 * A port free on 127.0.0.1 for both UDP and TCP, drawn below Linux's
 * ephemeral range (32768–60999) so that no outgoing connection of another
 * process is handed it between this probe and the engine's bind.
 */
async function freeUdpTcpPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const tcpFree = await new Promise<boolean>((res) => {
      const server = createServer();
      server.once('error', () => res(false));
      server.listen(port, '127.0.0.1', () => server.close(() => res(true)));
    });
    if (!tcpFree) continue;
    const udpFree = await new Promise<boolean>((res) => {
      const socket = createSocket('udp4');
      socket.once('error', () => { socket.close(); res(false); });
      socket.bind(port, '127.0.0.1', () => socket.close(() => res(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free UDP/TCP port found on 127.0.0.1 in 20000-32000 after 50 attempts');
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] = isPlain(current) && isPlain(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
