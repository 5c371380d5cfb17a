// Booting the real `switchboard start` process: invalid config refused before
// anything is opened, a valid one serves health, SIGTERM exits 0, the
// bootstrap admin password is never a default.
import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, freePort, runCli, startHost } from './host-cli-helpers.ts';

const GOOD_PLUGINS = fileURLToPath(new URL('./fixtures/plugins/good', import.meta.url));
/** The host also discovers the repository's own plugins/ folder. */
const REPO_PLUGINS = fileURLToPath(new URL('../plugins', import.meta.url));
const repoPluginCount = (): number =>
  existsSync(REPO_PLUGINS) ? readdirSync(REPO_PLUGINS).filter((d) => existsSync(join(REPO_PLUGINS, d, 'plugin.json'))).length : 0;

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sb-boot-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

async function validConfig(dir: string, extra: Record<string, unknown> = {}): Promise<string> {
  const file = join(dir, 'switchboard.json');
  await writeFile(file, JSON.stringify({
    http: { host: '127.0.0.1', port: await freePort() },
    sip: { contacts: [`sip:127.0.0.1:${await freePort(true)};transport=udp,tcp`], engine: 'embedded' },
    storage: { url: `sqlite:${join(dir, 'db', 'switchboard.db')}` },
    sites: [{ domain: 'boot.test' }],
    plugins: { dirs: [GOOD_PLUGINS] },
    log: { level: 'warn' },
    ...extra,
  }));
  return file;
}

t.test('an invalid config prints every problem and exits non-zero before opening anything', async (t) => {
  const dir = await tempDir(t);
  const port = await freePort();
  const file = join(dir, 'bad.json');
  await writeFile(file, JSON.stringify({
    http: { host: '127.0.0.1', port: 'eighty' },
    sip: { engine: 'quantum' },
    storage: { url: `sqlite:${join(dir, 'db', 'never.db')}` },
    sites: [{ name: 'no domain' }],
    admin: { password: 42 },
    bogus: true,
  }));
  void port;
  const result = await runCli(['start', '--config', file]);
  t.not(result.code, 0, 'exit code is non-zero');
  t.match(result.stderr, /CORE_ERR_CONFIG_INVALID/);
  t.match(result.stderr, /\/http\/port: expected an integer, found string "eighty"/);
  t.match(result.stderr, /\/sip\/engine: expected one of/);
  t.match(result.stderr, /\/sites\/0\/domain/);
  t.match(result.stderr, /\/admin\/password/);
  t.match(result.stderr, /\/bogus/);
  t.notMatch(result.stdout, /listening/, 'never started listening');
  t.notOk(existsSync(join(dir, 'db')), 'the database was never touched');
});

t.test('an invalid config through the environment is refused too', async (t) => {
  const dir = await tempDir(t);
  const file = await validConfig(dir);
  const result = await runCli(['start', '--config', file], cleanEnv({ SWITCHBOARD_HTTP__PORT: '-3' }));
  t.not(result.code, 0);
  t.match(result.stderr, /\/http\/port/);
  t.notOk(existsSync(join(dir, 'db')), 'the database was never touched');
});

t.test('a valid config boots, serves health and stops on SIGTERM with exit 0', async (t) => {
  const dir = await tempDir(t);
  const file = await validConfig(dir);
  const host = await startHost(file);
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await host.stop();
  });
  const health = await fetch(`${host.url}/api/health`);
  t.equal(health.status, 200);
  t.match(await health.json(), { status: 'ok', plugins: { ready: 2 + repoPluginCount(), failed: 0 } }, 'the two fixtures and the repository plugins are ready');
  const { stdout } = host.output();
  const generated = /created with password: (\S+)/.exec(stdout)?.[1];
  t.ok(generated, 'with no admin.password a random password is printed');
  const login = await fetch(`${host.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: generated }),
  });
  t.equal(login.status, 200, 'the printed password logs in');
  const wrong = await fetch(`${host.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'admin' }),
  });
  t.equal(wrong.status, 401, 'no default password');

  const port = Number(new URL(host.url).port);
  const exit = await host.stop();
  stopped = true;
  t.equal(exit.code, 0, 'SIGTERM exits 0');
  t.ok(await portIsClosed(port), 'the HTTP port is closed after stop');

  const again = await startHost(file);
  t.notMatch(again.output().stdout, /created with password/, 'the password is printed only at first start');
  t.equal((await again.stop()).code, 0);
});

t.test('admin.password from the environment sets the bootstrap password', async (t) => {
  const dir = await tempDir(t);
  const file = await validConfig(dir);
  const host = await startHost(file, cleanEnv({ SWITCHBOARD_ADMIN_PASSWORD: 'from-env-secret' }));
  t.teardown(() => host.stop());
  t.notMatch(host.output().stdout, /created with password/, 'nothing is printed when the password is configured');
  const login = await fetch(`${host.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'from-env-secret' }),
  });
  t.equal(login.status, 200);
  t.type(((await login.json()) as { token: unknown }).token, 'string');
});

t.test('SIGTERM lets an in-flight request finish', async (t) => {
  const dir = await tempDir(t);
  const file = await validConfig(dir);
  const host = await startHost(file, cleanEnv({ SWITCHBOARD_ADMIN_PASSWORD: 'pw-inflight' }));
  const login = await fetch(`${host.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'pw-inflight' }),
  });
  t.equal(login.status, 200);
  const { token } = (await login.json()) as { token: string };
  const enabled = await fetch(`${host.url}/api/admin/sites/boot.test/plugins/hello`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ enabled: true }),
  });
  t.equal(enabled.status, 200);
  // Expect: 100-continue makes the server confirm it holds the request before
  // the signal is sent; the body follows after SIGTERM.
  const body = JSON.stringify({ sender: 'sigterm', body: 'finishing' });
  const target = new URL('/api/plugins/hello/sites/boot.test/messages', host.url);
  const response = new Promise<{ status: number } | Error>((resolve) => {
    const req = request(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    });
    req.on('continue', () => {
      const stopping = host.stop();
      req.end(body);
      void stopping;
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', (err) => resolve(err));
    req.flushHeaders();
  });
  const answered = await response;
  const exit = await host.stop();
  t.equal(exit.code, 0, 'exit 0');
  if (!(answered instanceof Error)) t.equal(answered.status, 201, 'in-flight request answered');
  else t.fail(`in-flight request was dropped: ${String(answered)}`);
});

t.test('an unreachable external SIP engine is reported clearly while HTTP keeps serving', async (t) => {
  const dir = await tempDir(t);
  const wrongPort = await freePort();
  const file = await validConfig(dir, {
    sip: { contacts: ['sip:127.0.0.1:5060;transport=udp'], engine: 'external', external: { host: '127.0.0.1', port: wrongPort, secret: 'cymru' } },
    log: { level: 'error' },
  });
  const host = await startHost(file, cleanEnv({ SWITCHBOARD_ADMIN_PASSWORD: 'external-pw' }));
  t.teardown(() => host.stop());
  // The first connection attempt fails within milliseconds on loopback; poll the log, bounded.
  let log = '';
  for (let i = 0; i < 100 && !/CORE_ERR_SIP_CONNECT_FAILED/.test(log); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    log = host.output().stdout;
  }
  const line = log.split('\n').find((l) => l.includes('CORE_ERR_SIP_CONNECT_FAILED')) ?? '';
  t.match(line, `127.0.0.1:${wrongPort}`, 'the error names host:port');
  t.match(line, /check sip\.external\.host\/port/, 'and says what to check');
  t.match(line, /retrying/);
  const health = await fetch(`${host.url}/api/health`);
  t.equal(health.status, 200, 'HTTP keeps serving');
  t.match(await health.json(), { sip: 'connecting' });
  t.equal((await host.stop()).code, 0, 'and it still stops cleanly');
});
