import t from 'tap';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readManifest, validateManifest } from '../src/plugins/manifest.ts';
import { discoverPlugins } from '../src/plugins/discovery.ts';

const fixtures = fileURLToPath(new URL('./fixtures/manifests/', import.meta.url));
const base = { id: 'demo', name: 'Demo', version: '1.0.0', engines: { switchboard: '^0.1.0' }, publisher: 'tests' };

function errorsOf(json: unknown): string[] {
  const result = validateManifest(json);
  if (result.ok) throw new Error(`expected invalid: ${JSON.stringify(json)}`);
  return result.errors;
}

t.test('a full manifest is valid and keeps its fields', async (t) => {
  const result = await readManifest(join(fixtures, 'main/im'));
  t.equal(result.ok, true);
  if (!result.ok) return;
  t.equal(result.dir, join(fixtures, 'main/im'));
  t.match(result.manifest, {
    id: 'im',
    version: '1.2.0',
    depends: { presence: '^1.0.0' },
    optionalDepends: { archiving: '>=0.5.0' },
    provides: ['im.delivery'],
    permissions: { sip: ['MESSAGE'], http: { prefix: '/im' }, events: { publish: ['im.message-sent'] }, services: ['presence.lookup'] },
    ui: { fragments: { 'user-menu': 'ui/user-menu.hbs' } },
  });
});

t.test('a minimal manifest gets defaults, and the input is not changed', async (t) => {
  const input = structuredClone(base);
  const result = validateManifest(input);
  t.ok(result.ok);
  if (!result.ok) return;
  t.same(result.manifest, { ...base, depends: {}, optionalDepends: {}, provides: [], permissions: {}, main: 'src/index.ts', migrations: 'src/migrations' });
  t.same(input, base);
});

t.test('each kind of invalid field is named', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', 'im', /^\/ must be object/],
    ['missing id', { ...base, id: undefined }, /^\/id is required/],
    ['id not kebab-case', { ...base, id: 'My_Plugin' }, /^\/id must be lowercase kebab-case/],
    ['id with double hyphen', { ...base, id: 'a--b' }, /^\/id must be lowercase kebab-case/],
    ['reserved id', { ...base, id: 'plugin' }, /^\/id is reserved for the core/],
    ['version not semver', { ...base, version: '1.0' }, /^\/version must be a semver version/],
    ['engines missing', { ...base, engines: undefined }, /^\/engines is required/],
    ['engines.switchboard not a range', { ...base, engines: { switchboard: 'latest' } }, /^\/engines\/switchboard must be a semver range/],
    ['publisher missing', { ...base, publisher: undefined }, /^\/publisher is required/],
    ['depends key not an id', { ...base, depends: { Presence: '^1' } }, /^\/depends has an invalid key "Presence"/],
    ['depends range invalid', { ...base, depends: { presence: 'soon' } }, /^\/depends\/presence must be a semver range/],
    ['optionalDepends range invalid', { ...base, optionalDepends: { x: 42 } }, /^\/optionalDepends\/x must be string/],
    ['unknown SIP method', { ...base, permissions: { sip: ['MESAGE'] } }, /^\/permissions\/sip\/0 must be one of INVITE/],
    ['http prefix without slash', { ...base, permissions: { http: { prefix: 'im' } } }, /^\/permissions\/http\/prefix must be a path/],
    ['http prefix trailing slash', { ...base, permissions: { http: { prefix: '/im/' } } }, /^\/permissions\/http\/prefix must be a path/],
    ['unknown permission', { ...base, permissions: { db: true } }, /^\/permissions\/db is not a manifest field/],
    ['misspelt top-level field', { ...base, dependss: {} }, /^\/dependss is not a manifest field/],
    ['main escapes the folder', { ...base, main: '../core/src/index.ts' }, /^\/main must be a relative path/],
    ['absolute migrations path', { ...base, migrations: '/etc' }, /^\/migrations must be a relative path/],
    ['fragment path escapes', { ...base, ui: { fragments: { header: '../../x.hbs' } } }, /^\/ui\/fragments\/header must be a relative path/],
    ['config not an object schema', { ...base, config: { type: 'array' } }, /^\/config must be a JSON Schema with "type": "object"/],
    ['config schema does not compile', { ...base, config: { type: 'object', properties: { a: { type: 'integr' } } } }, /^\/config is not a valid JSON Schema/],
    ['config schema with a misspelt keyword', { ...base, config: { type: 'object', properties: { a: { type: 'string', defualt: 'x' } } } }, /^\/config is not a valid JSON Schema: .*defualt/],
  ];
  for (const [name, json, expected] of cases) {
    const errors = errorsOf(json);
    t.ok(errors.some((e) => expected.test(e)), `${name}: ${errors.join(' | ')}`);
  }
});

t.test('all field errors are reported at once', async (t) => {
  const errors = errorsOf({ id: 'Bad', version: 'x', engines: {}, publisher: '' });
  t.ok(errors.length >= 5, errors.join('\n'));
  for (const field of ['/id', '/name', '/version', '/engines/switchboard', '/publisher']) {
    t.ok(errors.some((e) => e.startsWith(`${field} `)), `mentions ${field}`);
  }
});

t.test('bad JSON is reported with line and column', async (t) => {
  const result = await readManifest(join(fixtures, 'main/broken-json'));
  t.equal(result.ok, false);
  if (result.ok) return;
  t.match(result.errors[0], /^plugin\.json: invalid JSON at line 5 column 1: unexpected "}", expected a double-quoted property name/);
});

t.test('a folder without plugin.json is an error result, not a throw', async (t) => {
  const result = await readManifest(join(fixtures, 'main/no-manifest'));
  t.match(result, { ok: false, errors: [/plugin\.json: cannot read \(ENOENT\)/] });
});

t.test('discovery: every subfolder with plugin.json, failures and duplicates reported', async (t) => {
  const found = await discoverPlugins([join(fixtures, 'main'), join(fixtures, 'extra'), join(fixtures, 'does-not-exist')]);
  const summary = found.map((p) => ({ folder: p.dir.slice(fixtures.length), id: p.id, ok: p.manifest !== undefined }));
  t.same(summary, [
    { folder: 'main/bad-config', id: 'bad-config', ok: false },
    { folder: 'main/bad-fields', id: 'Bad_Fields', ok: false },
    { folder: 'main/broken-json', id: 'broken-json', ok: false },
    { folder: 'main/im', id: 'im', ok: true },
    { folder: 'main/minimal', id: 'minimal', ok: true },
    { folder: 'extra/im-copy', id: 'im', ok: false },
    { folder: 'extra/presence', id: 'presence', ok: true },
  ]);
  const byFolder = new Map(found.map((p) => [p.dir.slice(fixtures.length), p]));
  t.match(byFolder.get('extra/im-copy')!.error, /duplicate plugin id "im": already provided by .*main\/im$/);
  const badFields = byFolder.get('main/bad-fields')!.error!.split('; ');
  t.equal(badFields.length, 3, 'one entry per problem');
  for (const expected of [/^\/id must be lowercase kebab-case/, /^\/version must be a semver version/, /^\/permisions is not a manifest field/]) {
    t.ok(badFields.some((e) => expected.test(e)), String(expected));
  }
  t.match(byFolder.get('main/bad-config')!.error, /\/config is not a valid JSON Schema/);
  t.match(byFolder.get('main/broken-json')!.error, /invalid JSON at line 5/);
  t.equal(byFolder.get('main/im')!.error, undefined);
});
