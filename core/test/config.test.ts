import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, configSchema } from '../src/config/index.ts';
import { createAjv } from '../src/config/ajv.ts';

const dir = mkdtempSync(join(tmpdir(), 'sb-config-'));
function writeConfig(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

function problemsOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

t.test('defaults: nothing but config/default.json', async (t) => {
  const config = loadConfig({ env: {} });
  t.equal(config.http.host, '127.0.0.1');
  t.equal(config.http.port, 8080);
  t.same(config.sip.contacts, ['sip:127.0.0.1:5060;transport=udp,tcp']);
  t.equal(config.sip.engine, 'embedded');
  t.same(config.sip.wire, { host: '127.0.0.1', port: 0, inProcess: true });
  t.equal(config.storage.url, 'sqlite:data/switchboard.db');
  t.same(config.sites, []);
  t.equal(config.admin.password, undefined, 'never a default password');
  t.equal(config.plugins.handlerTimeoutMs, 5000);
  t.same(config.plugins.breaker, { failures: 5, windowMs: 60000 });
  t.equal(config.log.level, 'info');
});

t.test('config/default.json says the same as the schema defaults', async (t) => {
  const fromSchema: Record<string, unknown> = {};
  const validate = createAjv().compile(configSchema);
  t.ok(validate(fromSchema));
  const fromFile = JSON.parse(readFileSync(new URL('../../config/default.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  delete fromFile.$schema;
  t.same(fromSchema, fromFile);
});

t.test('schema defaults fill a trimmed default.json', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sb-root-'));
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(root, 'config'));
  writeFileSync(join(root, 'config', 'default.json'), '{}');
  const config = loadConfig({ rootDir: root, env: {} });
  t.equal(config.http.port, 8080);
  t.equal(config.plugins.breaker.windowMs, 60000);
});

t.test('precedence: default < file < env < overrides', async (t) => {
  const file = writeConfig('precedence.json', {
    http: { host: '0.0.0.0', port: 9000 },
    storage: { url: 'sqlite::memory:' },
    sites: [{ domain: 'example.com', name: 'Example' }],
    log: { level: 'warn' },
  });
  const config = loadConfig({
    file,
    env: {
      SWITCHBOARD_HTTP__PORT: '8081',
      SWITCHBOARD_LOG__LEVEL: 'debug',
      SWITCHBOARD_ADMIN_PASSWORD: '12345678',
      SWITCHBOARD_PLUGINS__HANDLER_TIMEOUT_MS: '250',
      SWITCHBOARD_SIP__CONTACTS: '["sip:127.0.0.1:5070;transport=tcp"]',
      SWITCHBOARD_SITES__0__THEME: 'dark',
      HOME: '/not/ours',
    },
    overrides: { log: { level: 'error' } },
  });
  t.equal(config.http.host, '0.0.0.0', 'file beats default');
  t.equal(config.http.port, 8081, 'env beats file, parsed as JSON');
  t.equal(config.log.level, 'error', 'overrides beat env');
  t.equal(config.storage.url, 'sqlite::memory:');
  t.equal(config.admin.password, '12345678', 'a password of digits stays a string');
  t.equal(config.plugins.handlerTimeoutMs, 250, 'single underscores inside a segment match camelCase keys');
  t.same(config.sip.contacts, ['sip:127.0.0.1:5070;transport=tcp']);
  t.same(config.sites, [{ domain: 'example.com', name: 'Example', theme: 'dark' }], 'indexed env changes one field of a site');
  t.equal(config.plugins.breaker.failures, 5, 'untouched nested defaults survive a partial file');
});

t.test('SWITCHBOARD_CONFIG names the file when none is given', async (t) => {
  const file = writeConfig('by-env.json', { http: { port: 7000 } });
  t.equal(loadConfig({ env: { SWITCHBOARD_CONFIG: file } }).http.port, 7000);
});

t.test('three problems are all listed with path, expected and found', async (t) => {
  const file = writeConfig('three.json', {
    http: { port: 70000 },
    sip: { engine: 'turbo' },
    sites: [{ name: 'no domain' }],
  });
  const err = problemsOf(() => loadConfig({ file, env: {} }));
  t.equal(err.code, 'CORE_ERR_CONFIG_INVALID');
  t.equal(err.problems.length, 3, err.message);
  const byPath = new Map(err.problems.map((p) => [p.path, p]));
  t.match(byPath.get('/http/port'), { expected: /65535/, found: /70000/ });
  t.match(byPath.get('/sip/engine'), { expected: /"embedded", "external"/, found: /turbo/ });
  t.match(byPath.get('/sites/0/domain'), { expected: /required/, found: 'nothing' });
  const lines = err.message.split('\n');
  for (const path of ['/http/port', '/sip/engine', '/sites/0/domain']) {
    t.ok(lines.some((line) => line.includes(path) && line.includes('expected') && line.includes('found')), `message has a line for ${path}`);
  }
});

t.test('env values are validated like file values, unknown keys are named, secrets are not echoed', async (t) => {
  const err = problemsOf(() =>
    loadConfig({ env: { SWITCHBOARD_HTTP__PORT: 'eighty', SWITCHBOARD_ADMIN_PASSWORD: 'short', SWITCHBOARD_HTPP__HOST: 'x' } }),
  );
  const paths = err.problems.map((p) => p.path).sort();
  t.same(paths, ['/admin/password', '/htpp', '/http/port']);
  const password = err.problems.find((p) => p.path === '/admin/password')!;
  t.notMatch(password.found, /short/);
  t.match(password.expected, /8 characters/);
  t.match(err.problems.find((p) => p.path === '/http/port')!, { expected: 'an integer', found: 'string "eighty"' });
});

t.test('external engine requires host, port and secret', async (t) => {
  let err = problemsOf(() => loadConfig({ env: {}, overrides: { sip: { engine: 'external' } } }));
  t.same(err.problems.map((p) => p.path), ['/sip/external']);
  err = problemsOf(() => loadConfig({ env: {}, overrides: { sip: { engine: 'external', external: { host: '127.0.0.1' } } } }));
  t.same(err.problems.map((p) => p.path).sort(), ['/sip/external/port', '/sip/external/secret']);
  const config = loadConfig({ env: {}, overrides: { sip: { engine: 'external', external: { host: '127.0.0.1', port: 9022, secret: 'cymru' } } } });
  t.same(config.sip.external, { host: '127.0.0.1', port: 9022, secret: 'cymru' });
  t.doesNotThrow(() => loadConfig({ env: {}, overrides: { sip: { external: { host: 'only-when-used' } } } }), 'embedded engine ignores a partial external block');
});

t.test('storage urls, contacts, tls and sites', async (t) => {
  for (const url of ['sqlite::memory:', 'sqlite:/var/lib/sb.db', 'mysql://u:p@127.0.0.1:3306/sb']) {
    t.equal(loadConfig({ env: {}, overrides: { storage: { url } } }).storage.url, url);
  }
  const err = problemsOf(() =>
    loadConfig({
      env: {},
      overrides: {
        storage: { url: 'postgres://x' },
        sip: { contacts: ['udp://1.2.3.4'], tls: { cert: 'c.pem' } },
        sites: [{ domain: 'a.example' }, { domain: 'A.example' }],
      },
    }),
  );
  t.same(err.problems.map((p) => p.path).sort(), ['/sip/contacts/0', '/sip/tls/key', '/sites/1/domain', '/storage/url']);
  const dup = problemsOf(() => loadConfig({ env: {}, overrides: { sites: [{ domain: 'a.example' }, { domain: 'A.example' }] } }));
  t.same(dup.problems, [{ path: '/sites/1/domain', expected: 'a domain not already used by /sites/0', found: 'string "A.example"' }]);
});

t.test('unreadable or malformed file is a problem, not a crash', async (t) => {
  let err = problemsOf(() => loadConfig({ file: join(dir, 'missing.json'), env: {} }));
  t.match(err.problems[0], { path: '', found: 'ENOENT' });
  const file = writeConfig('bad.json', '{\n  "http": { "port": 80, }\n}');
  err = problemsOf(() => loadConfig({ file, env: {} }));
  t.match(err.problems[0]!.found, /line 2 column 25/);
});

t.test('runtime.mallocThresholdKiB: 128 unless set, 0 or 4 to 32768', async (t) => {
  t.equal(loadConfig({ env: {} }).runtime.mallocThresholdKiB, 128);
  t.equal(loadConfig({ env: {}, overrides: { runtime: { mallocThresholdKiB: 0 } } }).runtime.mallocThresholdKiB, 0);
  t.equal(loadConfig({ env: { SWITCHBOARD_RUNTIME__MALLOC_THRESHOLD_KI_B: '256' } }).runtime.mallocThresholdKiB, 256);
  for (const bad of [2, 40_000, -1, 'a lot']) {
    const err = problemsOf(() => loadConfig({ env: {}, overrides: { runtime: { mallocThresholdKiB: bad } } }));
    t.ok(err.problems.some((p) => p.path === '/runtime/mallocThresholdKiB'), `${JSON.stringify(bad)} is refused at /runtime/mallocThresholdKiB: ${err.message}`);
  }
});
