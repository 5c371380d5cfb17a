/**
 * `switchboard build`: a self-contained folder with the core, the SDK's
 * runtime part, the profile's plugins (and their dependencies) and the
 * production node_modules they need, copied from the installed tree so no
 * network is needed. It has its own package.json (scripts `setup` and
 * `start`) and a README saying so. Nothing else from the repository goes in:
 * no tests, no benchmarks, no other plugins, no author tooling.
 */
import { cp, mkdir, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { coreError } from '../errors.ts';
import { readBuildProfile, type BuildProfile } from './build-profile.ts';
import { selectPlugins, type SelectedPlugin } from './plugin-selection.ts';
import { productionClosure } from './production-deps.ts';
import { buildReadme, setupScript } from './build-files.ts';
import { compileUnits, treeUnits } from './compile-code.ts';

export interface BuildOptions {
  /** The source tree (the repository root with node_modules installed). */
  sourceRoot: string;
  profileFile: string;
  outDir: string;
  hostVersion: string;
}

export interface BuildResult {
  outDir: string;
  profile: string;
  plugins: Array<{ id: string; version: string; reason: string }>;
  packages: number;
  bytes: number;
}

/** Folders and files never copied from core/ and sdk/. */
const NOT_SHIPPED = new RegExp(`(^|\\${sep})(test|tests|examples|cli-tests|\\.tap)(\\${sep}|$)|\\.test\\.ts$`);

export async function buildTrimmed(options: BuildOptions): Promise<BuildResult> {
  const root = resolve(options.sourceRoot);
  const out = resolve(options.outDir);
  if (out === root || root.startsWith(out + sep) || out.startsWith(join(root, 'core') + sep)) {
    throw coreError('CORE_ERR_BUILD_PROFILE_INVALID', `--out ${out} must not contain or sit inside the source`);
  }
  const profile = await readBuildProfile(resolve(options.profileFile));
  const { selected } = await selectPlugins(root, profile.pluginDirs, profile.plugins, options.hostVersion);
  if (await stat(out).then(() => true, () => false)) {
    if ((await readdir(out)).length > 0) throw coreError('CORE_ERR_BUILD_PROFILE_INVALID', `--out ${out} exists and is not empty`);
  }
  await mkdir(out, { recursive: true });

  // core/native ships only its built module (when the install built it), not its sources.
  const nativeModule = join('native', 'build', 'Release', 'switchboard_malloc.node');
  await copyTree(join(root, 'core'), join(out, 'core'), (rel) => rel === 'package.json' || rel.startsWith('bin') || rel.startsWith('src')
    || rel === nativeModule || nativeModule.startsWith(rel + sep));
  // The SDK's runtime part: definePlugin and types; the author CLI stays out (it needs typescript).
  await copyTree(join(root, 'sdk'), join(out, 'sdk'), (rel) => rel === 'package.json' || (rel.startsWith('src') && !rel.startsWith(join('src', 'cli'))));
  await trimSdkPackage(join(out, 'sdk', 'package.json'));
  for (const plugin of selected) await copyTree(plugin.dir, join(out, 'plugins', plugin.id), () => true);
  await mkdir(join(out, 'config'), { recursive: true });
  await cp(join(root, 'config', 'schema.json'), join(out, 'config', 'schema.json'));
  // The profile's config becomes the build's defaults, so `npm start -- --config site.json` still layers on top.
  const defaults = JSON.parse(await readFile(join(root, 'config', 'default.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(out, 'config', 'default.json'), `${JSON.stringify(deepMerge(defaults, profile.config), null, 2)}\n`);

  const packages = await productionClosure(root, [join(root, 'core'), join(root, 'sdk'), ...selected.map((p) => p.dir)], ['tsx'], (name) => name.startsWith('@switchboard/') || name.startsWith('@types/'));
  for (const rel of packages) await cp(join(root, rel), join(out, rel), { recursive: true, filter: (src) => runtimeFile(src.slice(root.length + 1)) });
  await mkdir(join(out, 'node_modules', '@switchboard'), { recursive: true });
  await symlink(join('..', '..', 'core'), join(out, 'node_modules', '@switchboard', 'core'), 'dir');
  await symlink(join('..', '..', 'sdk'), join(out, 'node_modules', '@switchboard', 'sdk'), 'dir');

  await compileBuild(out, root);

  await writeFile(join(out, 'package.json'), `${JSON.stringify(buildPackage(profile, options.hostVersion, selected), null, 2)}\n`);
  await writeFile(join(out, 'setup.mjs'), setupScript());
  await writeFile(join(out, 'README.md'), buildReadme(profile, selected));
  return {
    outDir: out,
    profile: profile.name,
    plugins: selected.map((p) => ({ id: p.id, version: p.manifest.version, reason: p.reason === 'named' ? 'named' : `needed by ${p.reason.neededBy}` })),
    packages: packages.length,
    bytes: await sizeOnDisk(out),
  };
}

/**
 * Files of an installed package that nothing loads at run time: source maps,
 * type declarations, docs, typeorm's browser bundle, and the native module's
 * sources and intermediate objects (the built .node file stays).
 */
const NOT_RUNTIME = /\.(map|d\.ts|d\.mts|d\.cts|md|markdown)$|(^|\/)(\.bin|\.github|docs)(\/|$)|^node_modules\/typeorm\/browser(\/|$)|^node_modules\/better-sqlite3\/(deps|src)(\/|$)|^node_modules\/better-sqlite3\/build\/(Release\/(obj|obj\.target|\.deps|test_extension\.node|sqlite3\.a)|deps)(\/|$)/;

function runtimeFile(rel: string): boolean {
  return !NOT_RUNTIME.test(rel.split(sep).join('/'));
}

async function copyTree(from: string, to: string, include: (rel: string) => boolean): Promise<void> {
  await cp(from, to, {
    recursive: true,
    filter: (src) => {
      const rel = src === from ? '' : src.slice(from.length + 1);
      if (rel === '') return true;
      if (NOT_SHIPPED.test(rel) || basename(rel).startsWith('.') || rel.split(sep).includes('node_modules')) return false;
      return include(rel);
    },
  });
}

/**
 * Compile the build's core, sdk and plugins to dist/ (see compile-code.ts)
 * and drop the TypeScript of every folder that compiled, so the build starts
 * without a compiler and cannot go stale; the packages' exports point at
 * dist/. A plugin that does not compile keeps its TypeScript (tsx is shipped
 * for it, and for third-party plugins given as TypeScript).
 */
async function compileBuild(out: string, sourceRoot: string): Promise<void> {
  const results = await compileUnits(out, await treeUnits(out), { sourceRoot, sourcemap: false });
  for (const unit of results) {
    if (unit.error) continue;
    await rm(join(unit.dir, 'src'), { recursive: true, force: true });
  }
  for (const name of ['core', 'sdk']) {
    const file = join(out, name, 'package.json');
    const pkg = JSON.parse(await readFile(file, 'utf8')) as { exports?: Record<string, unknown>; scripts?: Record<string, string> };
    // core's install script builds core/native from sources the build does not ship (its module is copied built).
    delete pkg.scripts;
    for (const [key, target] of Object.entries(pkg.exports ?? {})) {
      if (typeof target === 'string') pkg.exports![key] = target.replace(/^\.\/src\/(.*)\.ts$/, './dist/$1.js');
    }
    await writeFile(file, `${JSON.stringify(pkg, null, 2)}\n`);
  }
}

async function trimSdkPackage(file: string): Promise<void> {
  const pkg = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  delete pkg.bin;
  await writeFile(file, `${JSON.stringify(pkg, null, 2)}\n`);
}

function buildPackage(profile: BuildProfile, hostVersion: string, selected: SelectedPlugin[]): Record<string, unknown> {
  return {
    name: `switchboard-${profile.name}`,
    version: hostVersion,
    private: true,
    type: 'module',
    description: profile.description ?? `Switchboard trimmed build "${profile.name}"`,
    engines: { node: '>=20' },
    switchboardBuild: { profile: profile.name, plugins: selected.map((p) => `${p.id}@${p.manifest.version}`) },
    scripts: {
      setup: 'node setup.mjs',
      start: 'node core/bin/switchboard.js start',
    },
  };
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    const plain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    out[key] = plain(current) && plain(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** Bytes of every file under `dir` (links not followed). */
export async function sizeOnDisk(dir: string): Promise<number> {
  let total = 0;
  const walk = async (d: string, depth: number): Promise<void> => {
    if (depth > 64) return;
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path, depth + 1);
      else if (entry.isFile()) total += (await stat(path)).size;
    }
  };
  await walk(dir, 0);
  return total;
}
