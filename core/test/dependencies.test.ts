import t from 'tap';
import { resolvePlugins } from '../src/plugins/dependencies.ts';
import { validateManifest, type PluginManifest } from '../src/plugins/manifest.ts';

const HOST = '0.1.0';

/** A real, validated manifest so the resolver sees what discovery would give it. */
function plugin(id: string, extra: Partial<Omit<PluginManifest, 'id'>> = {}): { manifest: PluginManifest } {
  const result = validateManifest({ id, name: id, version: '1.0.0', engines: { switchboard: '^0.1.0' }, publisher: 'tests', ...extra });
  if (!result.ok) throw new Error(result.errors.join('; '));
  return { manifest: result.manifest };
}

t.test('independent plugins: all ok, ordered by id', async (t) => {
  const { order, failed } = resolvePlugins([plugin('zeta'), plugin('alpha'), plugin('mid')], HOST);
  t.same(order, ['alpha', 'mid', 'zeta']);
  t.equal(failed.size, 0);
});

t.test('dependencies come before dependents, ties broken by id', async (t) => {
  const { order, failed } = resolvePlugins(
    [
      plugin('conferencing', { depends: { im: '^1.0.0', presence: '^1.0.0' } }),
      plugin('im', { depends: { presence: '^1.0.0' } }),
      plugin('presence'),
      plugin('archiving'),
      plugin('bots', { depends: { im: '1.x' } }),
    ],
    HOST,
  );
  t.equal(failed.size, 0);
  t.same(order, ['archiving', 'presence', 'im', 'bots', 'conferencing']);
});

t.test('a missing dependency fails the plugin and names it', async (t) => {
  const { order, failed } = resolvePlugins([plugin('im', { depends: { presence: '^1.0.0' } }), plugin('other')], HOST);
  t.same(order, ['other']);
  t.equal(failed.get('im'), 'depends on presence@^1.0.0 → presence is not installed');
});

t.test('an incompatible version fails with both versions named', async (t) => {
  const { order, failed } = resolvePlugins([plugin('im'), plugin('bots', { depends: { im: '^2' } })], HOST);
  t.same(order, ['im']);
  t.equal(failed.get('bots'), 'depends on im@^2 → im 1.0.0 does not satisfy ^2');
});

t.test('engine mismatch fails the plugin; prereleases of the host count', async (t) => {
  const { order, failed } = resolvePlugins([plugin('future', { engines: { switchboard: '^2.0.0' } }), plugin('today')], HOST);
  t.same(order, ['today']);
  t.equal(failed.get('future'), 'engines.switchboard ^2.0.0 is not satisfied by host 0.1.0');

  const pre = resolvePlugins([plugin('next', { engines: { switchboard: '^1.0.0-0' } }), plugin('stable', { engines: { switchboard: '>=0.9.0' } })], '1.0.0-rc.2');
  t.same(pre.order, ['next', 'stable'], 'a prerelease host satisfies ranges that include it');
  t.equal(pre.failed.size, 0);
});

t.test('a cycle fails every plugin on it and names the cycle', async (t) => {
  const { order, failed } = resolvePlugins(
    [plugin('a', { depends: { b: '*' } }), plugin('b', { depends: { a: '*' } }), plugin('c', { depends: { c: '*' } }), plugin('free')],
    HOST,
  );
  t.same(order, ['free']);
  t.equal(failed.get('a'), 'cycle: a → b → a');
  t.equal(failed.get('b'), 'cycle: b → a → b');
  t.equal(failed.get('c'), 'cycle: c → c');
});

t.test('a longer cycle with a tail: the tail fails by propagation', async (t) => {
  const { order, failed } = resolvePlugins(
    [
      plugin('x', { depends: { y: '*' } }),
      plugin('y', { depends: { z: '*' } }),
      plugin('z', { depends: { x: '*' } }),
      plugin('tail', { depends: { x: '*' } }),
    ],
    HOST,
  );
  t.same(order, []);
  t.equal(failed.get('y'), 'cycle: y → z → x → y');
  t.equal(failed.get('tail'), 'dependency x failed: cycle: x → y → z → x');
});

t.test('failure propagates down a chain, naming each link', async (t) => {
  const { order, failed } = resolvePlugins(
    [
      plugin('presence', { engines: { switchboard: '^9' } }),
      plugin('im', { depends: { presence: '^1' } }),
      plugin('conferencing', { depends: { im: '^1' } }),
      plugin('unrelated'),
    ],
    HOST,
  );
  t.same(order, ['unrelated']);
  t.equal(failed.get('presence'), 'engines.switchboard ^9 is not satisfied by host 0.1.0');
  t.equal(failed.get('im'), 'dependency presence failed: engines.switchboard ^9 is not satisfied by host 0.1.0');
  t.equal(failed.get('conferencing'), 'dependency im failed: dependency presence failed: engines.switchboard ^9 is not satisfied by host 0.1.0');
});

t.test('several direct problems are all reported', async (t) => {
  const { failed } = resolvePlugins([plugin('im', { version: '1.0.0' }), plugin('p', { engines: { switchboard: '^3' }, depends: { im: '^2', gone: '*' } })], HOST);
  t.equal(failed.get('p'), 'engines.switchboard ^3 is not satisfied by host 0.1.0; depends on gone@* → gone is not installed; depends on im@^2 → im 1.0.0 does not satisfy ^2');
});

t.test('optional dependencies order setup when present and never fail', async (t) => {
  const present = resolvePlugins([plugin('aa', { optionalDepends: { zz: '^1' } }), plugin('zz')], HOST);
  t.same(present.order, ['zz', 'aa'], 'a present optional dependency is set up first');
  t.equal(present.failed.size, 0);

  const absent = resolvePlugins([plugin('aa', { optionalDepends: { missing: '^1', zz: '^5' } }), plugin('zz')], HOST);
  t.same(absent.order, ['aa', 'zz'], 'missing or out-of-range optional dependencies are ignored');
  t.equal(absent.failed.size, 0);

  const failedOptional = resolvePlugins([plugin('aa', { optionalDepends: { broken: '*' } }), plugin('broken', { engines: { switchboard: '^7' } })], HOST);
  t.same(failedOptional.order, ['aa'], 'a failed optional dependency does not fail the dependent');

  const mutual = resolvePlugins(
    [plugin('a', { optionalDepends: { b: '*' } }), plugin('b', { depends: { a: '*' } }), plugin('c', { optionalDepends: { c: '*' } })],
    HOST,
  );
  t.same(mutual.order, ['c', 'a', 'b'], 'c is ready first; then the optional edge closing the a/b cycle is dropped and the required one kept');
  t.equal(mutual.failed.size, 0);
});

t.test('order is deterministic whatever the input order', async (t) => {
  const list = [
    plugin('d', { depends: { b: '*' } }),
    plugin('c'),
    plugin('b', { depends: { a: '*' } }),
    plugin('a'),
    plugin('e', { optionalDepends: { d: '*' } }),
  ];
  const expected = ['a', 'b', 'c', 'd', 'e'];
  for (let i = 0; i < 5; i++) {
    const shuffled = [...list.slice(i), ...list.slice(0, i)].reverse();
    t.same(resolvePlugins(shuffled, HOST).order, expected);
  }
});
