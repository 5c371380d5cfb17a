// The compiled host: `npm run build` (run by `npm ci`) turns core, sdk and
// plugins into JavaScript under dist/, and the `switchboard` bin runs that
// instead of the TypeScript through tsx. Here a copy of the tree is compiled
// and its TypeScript removed, so nothing but the compiled code can run; its
// real `switchboard start` serves a compiled plugin and, beside it, a
// plugin given only as TypeScript (tsx registered on demand, its
// `@switchboard/sdk` import resolved to the compiled SDK), then stops on
// SIGTERM with exit code 0.
import t from 'tap';
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileUnits, treeUnits, type CompileUnit } from '../core/src/build/compile-code.ts';
import { compiledIsFresh } from '../core/bin/compiled.js';
import { RUNNING_COMPILED, pluginCodePath } from '../core/src/build/plugin-code.ts';
import { REPO_ROOT, cleanEnv, freePort } from './host-cli-helpers.ts';
import { adminSession } from './registry-helpers.ts';
import { sendSipRequest } from '@switchboard/sdk';

t.setTimeout(300_000);
const SITE = 'compiled.test';
const GOOD = join(REPO_ROOT, 'test', 'fixtures', 'plugins', 'good');

/** node_modules of the copy: the repository's packages (linked), with @switchboard/* pointing into the copy. */
async function linkNodeModules(tree: string): Promise<void> {
  const from = join(REPO_ROOT, 'node_modules');
  const to = join(tree, 'node_modules');
  await mkdir(join(to, '@switchboard'), { recursive: true });
  for (const name of await readdir(from)) {
    if (name === '@switchboard' || name === '.bin' || name.startsWith('.')) continue;
    await symlink(join(from, name), join(to, name), 'dir');
  }
  await symlink(join('..', '..', 'core'), join(to, '@switchboard', 'core'), 'dir');
  await symlink(join('..', '..', 'sdk'), join(to, '@switchboard', 'sdk'), 'dir');
}

t.test('compiled host: start from dist/ alone, a compiled and a TypeScript plugin, health, SIGTERM exits 0', async (t) => {
  const tree = await mkdtemp(join(tmpdir(), 'sb-compiled-'));
  t.teardown(() => rm(tree, { recursive: true, force: true }));
  const noTests = (src: string) => !/[/\\](test|dist|node_modules)([/\\]|$)/.test(src.slice(REPO_ROOT.length));
  await cp(join(REPO_ROOT, 'core'), join(tree, 'core'), { recursive: true, filter: noTests });
  for (const part of ['package.json', 'src']) await cp(join(REPO_ROOT, 'sdk', part), join(tree, 'sdk', part), { recursive: true, filter: noTests });
  for (const dir of ['config', 'themes']) {
    if (await stat(join(REPO_ROOT, dir)).then(() => true, () => false)) await cp(join(REPO_ROOT, dir), join(tree, dir), { recursive: true });
  }
  // The repository's package.json makes .ts files ES modules, for tsx too.
  await writeFile(join(tree, 'package.json'), JSON.stringify({ name: 'compiled-tree', private: true, type: 'module' }));
  await cp(join(GOOD, 'hello'), join(tree, 'plugins', 'hello'), { recursive: true, filter: noTests });
  await cp(join(GOOD, 'needs-hello'), join(tree, 'ts-plugins', 'needs-hello'), { recursive: true, filter: noTests });
  await linkNodeModules(tree);

  const units = await treeUnits(tree);
  t.same(units.map((u) => u.dir.slice(tree.length + 1)), ['core', 'sdk', join('plugins', 'hello')], 'core, sdk and plugins/ are compiled; ts-plugins/ is not');
  const compiled = await compileUnits(tree, units, { sourceRoot: REPO_ROOT });
  t.same(compiled.filter((c) => c.error), [], 'everything compiles');
  t.ok(compiled.every((c) => c.files > 0));
  const core = compiled.find((c) => c.dir === join(tree, 'core'));
  t.same(core?.bundle && 'error' in core.bundle ? core.bundle.error : 'bundled', 'bundled', 'core and its packages are bundled (core/dist/bundle), which the bin runs');
  t.ok((core?.validators?.files ?? 0) >= 4, 'the config, manifest, theme and plugin config schemas are compiled ahead');
  // Only the compiled code is left: a fall-back to TypeScript could not find a single source.
  for (const dir of ['core/src', 'sdk/src', 'plugins/hello/src']) await rm(join(tree, dir), { recursive: true });
  t.ok(compiledIsFresh(join(tree, 'core')) && compiledIsFresh(join(tree, 'sdk')), 'dist/ counts as fresh when the sources are gone');
  t.ok(compiledIsFresh(join(tree, 'core'), join('dist', 'bundle', '.compiled.json')), 'so does the bundle');

  const httpPort = await freePort();
  const sipPort = await freePort(true);
  const password = 'compiled-admin-password';
  const config = join(tree, 'site.json');
  await writeFile(config, JSON.stringify({
    http: { host: '127.0.0.1', port: httpPort },
    // The engine on its own thread: the worker must load its entry from core/dist too (the sources are gone).
    sip: { contacts: [`sip:127.0.0.1:${sipPort};transport=udp,tcp`], engineThread: 'worker' },
    storage: { url: `sqlite:${join(tree, 'compiled.db')}` },
    sites: [{ domain: SITE }],
    admin: { password },
    plugins: { dirs: [join(tree, 'ts-plugins')] },
    log: { level: 'warn' },
  }));

  const child = spawn(process.execPath, [join(tree, 'core', 'bin', 'switchboard.js'), 'start', '--config', config], { cwd: tree, env: cleanEnv() });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => (running = false));
  t.teardown(async () => {
    if (!running) return;
    child.kill('SIGKILL');
    await exited;
  });
  // The signal handlers are installed once the host says it is listening.
  for (let i = 0; i < 600 && running && !/listening on http/.test(log); i++) await new Promise((r) => setTimeout(r, 100));
  t.match(log, /switchboard listening on http:\/\/127\.0\.0\.1/, 'the compiled host starts');
  const url = `http://127.0.0.1:${httpPort}`;
  const healthRes = await fetch(`${url}/api/health`);
  t.equal(healthRes.status, 200);
  const health = (await healthRes.json()) as { sip: string; plugins: { ready: number; failed: number } };
  t.same(health.plugins, { ready: 2, failed: 0 }, `hello (compiled) and needs-hello (TypeScript) are ready\n${log}`);
  t.equal(health.sip, 'connected', `the core Srf reached the compiled engine on its worker thread\n${log}`);

  const api = await adminSession(url, password);
  for (const id of ['hello', 'needs-hello']) {
    const res = await api(`/api/admin/sites/${SITE}/plugins/${id}`, { method: 'PUT', body: JSON.stringify({ enabled: true }) });
    t.equal(res.status, 200, await res.clone().text());
  }
  const sip = await sendSipRequest({ port: sipPort, uri: `sip:bob@${SITE}`, body: 'over the engine thread' });
  // The default sip.auth challenges an out-of-dialog MESSAGE: the answer came from the core's Srf, across the thread.
  t.equal(sip.status, 407, 'the core answers a MESSAGE that came in on the compiled engine thread');
  // The TypeScript plugin consumes a service of the compiled one, through the compiled SDK.
  const relayed = await fetch(`${url}/api/plugins/needs-hello/sites/${SITE}/relay`);
  t.same(await relayed.json(), { relayed: `Hello, ${SITE}!` });

  child.kill('SIGTERM');
  t.equal(await exited, 0, `SIGTERM stops the compiled host cleanly\n${log}`);
});

t.test('compileUnits: imports rewritten, assets copied, freshness follows the sources, failures reported', async (t) => {
  const tree = await mkdtemp(join(tmpdir(), 'sb-compile-unit-'));
  t.teardown(() => rm(tree, { recursive: true, force: true }));
  const unit = join(tree, 'plugins', 'sample');
  await mkdir(join(unit, 'src', 'lib'), { recursive: true });
  await writeFile(join(unit, 'plugin.json'), '{}');
  await writeFile(join(unit, 'src', 'index.ts'), [
    "import type { Shape } from './lib/shape.ts';",
    "import { area } from './lib/shape.ts';",
    "import { readFileSync } from 'node:fs';",
    "const data = JSON.parse(readFileSync(new URL('./data.json', import.meta.url), 'utf8')) as { side: number };",
    'const square: Shape = { side: data.side };',
    'export const result = area(square);',
    "export const lazy = async () => (await import('./lib/shape.ts')).area({ side: 3 });",
  ].join('\n'));
  await writeFile(join(unit, 'src', 'lib', 'shape.ts'), 'export interface Shape { side: number }\nexport function area(s: Shape): number { return s.side * s.side; }\n');
  await writeFile(join(unit, 'src', 'data.json'), '{ "side": 4 }');

  const units: CompileUnit[] = [{ dir: unit, required: false }];
  const [done] = await compileUnits(tree, units, { sourceRoot: REPO_ROOT });
  t.equal(done?.error, undefined);
  t.equal(done?.files, 2);
  const js = await readFile(join(unit, 'dist', 'index.js'), 'utf8');
  t.match(js, /from "\.\/lib\/shape\.js"/);
  t.match(js, /import\("\.\/lib\/shape\.js"\)/);
  t.notMatch(js, /\.ts["']/, 'no import of TypeScript is left');
  const mod = (await import(pathToFileURL(join(unit, 'dist', 'index.js')).href)) as { result: number; lazy(): Promise<number> };
  t.equal(mod.result, 16, 'the compiled module runs and reads its copied asset');
  t.equal(await mod.lazy(), 9);

  t.ok(compiledIsFresh(unit));
  const later = new Date(Date.now() + 5_000);
  await utimes(join(unit, 'src', 'lib', 'shape.ts'), later, later);
  t.notOk(compiledIsFresh(unit), 'a source changed after the build makes dist/ stale');
  await compileUnits(tree, units, { sourceRoot: REPO_ROOT });
  t.ok(compiledIsFresh(unit), 'building again makes it fresh');
  await rm(join(unit, 'dist', '.compiled.json'));
  t.notOk(compiledIsFresh(unit), 'no marker, no compiled code');

  // Under tsx (as here) the host imports the manifest's own paths.
  t.equal(RUNNING_COMPILED, false);
  t.equal(await pluginCodePath(unit, 'src/index.ts'), join(unit, 'src', 'index.ts'));

  await writeFile(join(unit, 'src', 'lib', 'shape.ts'), 'export function area(: number {');
  const [broken] = await compileUnits(tree, units, { sourceRoot: REPO_ROOT });
  t.match(broken?.error, /Expected|Unexpected/, 'a plugin that does not compile is reported');
  await t.rejects(readdir(join(unit, 'dist')), 'and left without dist/, to run as TypeScript');
  await t.rejects(compileUnits(tree, [{ dir: unit, required: true }], { sourceRoot: REPO_ROOT }), { code: 'CORE_ERR_BUILD_FAILED' }, 'core or sdk failing to compile fails the build');
});
