/**
 * Compiled JavaScript for a tree (the repository, or a trimmed build): each
 * unit's `src/**.ts` becomes `dist/**.js` beside it, one file per source
 * file at the same depth, so every `import.meta.url`-relative path that
 * leaves `src/` (the repository root, `config/`, `package.json`) points at
 * the same place from `dist/`. Files in `src/` that are not TypeScript
 * (JSON schemas) are copied. Imports are rewritten: `./x.ts` → `./x.js`,
 * and `@switchboard/core`/`@switchboard/sdk` to the compiled entry in the
 * tree (the package's `exports` with src → dist), so compiled code never
 * reaches TypeScript. Each unit's `dist/.compiled.json` records the sources
 * and their mtimes; core/bin/compiled.js compares them at start and runs the
 * TypeScript through tsx when anything changed since.
 *
 * esbuild (tsx's own compiler, so the code is what tests run) does the work:
 * about a second for the whole repository, a few more for core's start-up
 * bundle (bundle-code.ts) and the precompiled schema validators
 * (standalone-validators.ts), which the same call makes.
 */
import { cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Esbuild from 'esbuild';
import { coreError } from '../errors.ts';
import { importModule } from '../host/import-module.ts';
import { BUNDLE_DIR, SHARED_PACKAGES, bundleCore, bundleEntryOf, bundlePlugin, packageMtimes, sharedEntryOf } from './bundle-code.ts';
import { writeStandaloneValidators } from './standalone-validators.ts';

/** A folder whose `src/` is compiled to `dist/`: core, sdk, or a plugin. */
export interface CompileUnit {
  dir: string;
  /** core and sdk must compile; a plugin that does not is skipped (the host then runs its TypeScript). */
  required: boolean;
}

export interface CompiledUnit {
  dir: string;
  files: number;
  error?: string;
  /** For core: the start-up bundle (bundle-code.ts), or why there is none (core/dist then runs). */
  bundle?: { files: number; packages: number } | { error: string };
  /** For core: validators compiled ahead (standalone-validators.ts); skipped ones compile at run time. */
  validators?: { files: number; skipped: string[] };
}

/** The marker each unit's dist/ gets; core/bin/compiled.js reads it. */
export const MARKER = '.compiled.json';

interface Marker {
  compiler: string;
  builtAt: string;
  /** Source path (relative to the unit) → mtimeMs when compiled. */
  sources: Record<string, number>;
}

const TS_SOURCE = /(?<!\.d)\.(ts|mts)$/;
const NOT_COMPILED = /\.test\.[cm]?ts$/;

async function loadEsbuild(): Promise<typeof Esbuild> {
  // esbuild comes with tsx (a dev dependency, and shipped in trimmed builds); resolve it the way tsx does.
  const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
  return importModule<typeof Esbuild>(pathToFileURL(fromTsx.resolve('esbuild')).href);
}

/** Every file under `dir` (absolute paths), skipping node_modules and dot-folders. */
async function filesUnder(dir: string, depth = 0): Promise<string[]> {
  if (depth > 32) return [];
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path, depth + 1)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

const isDir = (path: string) => stat(path).then((s) => s.isDirectory(), () => false);

/** `a/src/x/y.ts` → `a/dist/x/y.js` for the unit holding it, or undefined. */
function distPathOf(units: CompileUnit[], file: string): string | undefined {
  for (const unit of units) {
    const src = join(unit.dir, 'src') + sep;
    if (file.startsWith(src)) return join(unit.dir, 'dist', file.slice(src.length)).replace(/\.(m?)ts$/, '.$1js');
  }
  return undefined;
}

function relativeSpecifier(fromFile: string, to: string): string {
  const rel = relative(dirname(fromFile), to).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** `@switchboard/core/registry` → the TypeScript file its package exports, from the tree's own package.json files. */
async function workspaceExports(root: string): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const name of ['core', 'sdk']) {
    const dir = join(root, name);
    let pkg: { name?: string; exports?: Record<string, unknown> };
    try {
      pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as typeof pkg;
    } catch {
      continue;
    }
    if (!pkg.name || !pkg.exports) continue;
    for (const [key, target] of Object.entries(pkg.exports)) {
      if (typeof target !== 'string') continue;
      map.set(key === '.' ? pkg.name : `${pkg.name}${key.slice(1)}`, resolve(dir, target));
    }
  }
  return map;
}

/** The compiler settings of the tree's tsconfig.json that change emitted code (decorators, class fields). */
async function tsconfigRaw(sourceRoot: string): Promise<Esbuild.TsconfigRaw> {
  try {
    const config = JSON.parse(await readFile(join(sourceRoot, 'tsconfig.json'), 'utf8')) as { compilerOptions?: Record<string, unknown> };
    const o = config.compilerOptions ?? {};
    const pick = (k: string) => (o[k] === undefined ? {} : { [k]: o[k] });
    return { compilerOptions: { ...pick('experimentalDecorators'), ...pick('useDefineForClassFields'), ...pick('target'), ...pick('verbatimModuleSyntax') } } as Esbuild.TsconfigRaw;
  } catch {
    return { compilerOptions: { experimentalDecorators: true } };
  }
}

/**
 * Compile `units` (all in the tree at `root`). Each unit's dist/ is replaced.
 * Throws CORE_ERR_BUILD_FAILED when a required unit does not compile.
 */
export async function compileUnits(root: string, units: CompileUnit[], options: { sourceRoot?: string; sourcemap?: boolean; bundle?: boolean } = {}): Promise<CompiledUnit[]> {
  const esbuild = await loadEsbuild();
  const exportsMap = await workspaceExports(root);
  const raw = await tsconfigRaw(options.sourceRoot ?? root);
  const sourcemap = options.sourcemap ?? true;
  const results: CompiledUnit[] = [];
  /** `@switchboard/core…` → the bundle's entry, once core is bundled: the SDK and plugins then import the bundle. */
  const bundled = new Map<string, string>();
  const coreDir = join(root, 'core');
  for (const unit of units) {
    try {
      const compiled = await compileUnit(esbuild, unit, units, exportsMap, bundled, raw, sourcemap);
      if (unit.dir === coreDir) {
        compiled.validators = await writeStandaloneValidators(coreDir, root, units.filter((u) => !u.required).map((u) => u.dir))
          .catch((err: unknown) => ({ files: 0, skipped: [`all: ${(err as Error).message}`] }));
        if (options.bundle ?? true) compiled.bundle = await bundleUnit(esbuild, coreDir, root, exportsMap, bundled, raw, sourcemap);
      }
      results.push(compiled);
    } catch (err) {
      await rm(join(unit.dir, 'dist'), { recursive: true, force: true });
      const message = (err as Error).message;
      if (unit.required) throw coreError('CORE_ERR_BUILD_FAILED', `${relative(root, unit.dir) || '.'}: ${message}`);
      results.push({ dir: unit.dir, files: 0, error: message });
    }
  }
  return results;
}

/** Bundle core (bundle-code.ts); a failure is reported and leaves core/dist to run as it is. */
async function bundleUnit(
  esbuild: typeof Esbuild,
  coreDir: string,
  root: string,
  exportsMap: Map<string, string>,
  bundled: Map<string, string>,
  raw: Esbuild.TsconfigRaw,
  sourcemap: boolean,
): Promise<CompiledUnit['bundle']> {
  const coreExports = new Map([...exportsMap].filter(([k]) => k === '@switchboard/core' || k.startsWith('@switchboard/core/')));
  const sdkSource = exportsMap.get('@switchboard/sdk');
  const sdkEntry = sdkSource ? distPathOf([{ dir: join(root, 'sdk'), required: true }], sdkSource) : undefined;
  try {
    if (!sdkEntry) throw new Error('no @switchboard/sdk entry in sdk/package.json');
    const result = await bundleCore({ esbuild, coreDir, sdkEntry, sdkSource: sdkSource!, coreExports, tsconfigRaw: raw, sourcemap });
    for (const specifier of coreExports.keys()) bundled.set(specifier, bundleEntryOf(coreDir, specifier));
    for (const pkg of SHARED_PACKAGES) {
      const entry = sharedEntryOf(coreDir, pkg);
      if (await stat(entry).then(() => true, () => false)) bundled.set(pkg, entry);
    }
    return { files: result.files, packages: result.packages.length };
  } catch (err) {
    await rm(join(coreDir, BUNDLE_DIR), { recursive: true, force: true });
    return { error: (err as Error).message };
  }
}

async function compileUnit(
  esbuild: typeof Esbuild,
  unit: CompileUnit,
  units: CompileUnit[],
  exportsMap: Map<string, string>,
  bundled: Map<string, string>,
  raw: Esbuild.TsconfigRaw,
  sourcemap: boolean,
): Promise<CompiledUnit> {
  const src = join(unit.dir, 'src');
  const dist = join(unit.dir, 'dist');
  await rm(dist, { recursive: true, force: true });
  const files = await filesUnder(src);
  const entries = files.filter((f) => TS_SOURCE.test(f) && !NOT_COMPILED.test(f));
  const assets = files.filter((f) => !TS_SOURCE.test(f) && !f.endsWith('.d.ts') && !f.endsWith('.md'));

  const rewrite: Esbuild.Plugin = {
    name: 'switchboard-imports',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const importerOut = distPathOf(units, args.importer);
        if (!importerOut) return { path: args.path, external: true };
        const bundleEntry = bundled.get(args.path);
        if (bundleEntry) return { path: relativeSpecifier(importerOut, bundleEntry), external: true };
        const workspaceTarget = exportsMap.get(args.path);
        if (workspaceTarget) {
          const out = distPathOf(units, workspaceTarget);
          if (!out) return { errors: [{ text: `${args.path} is not compiled in this tree` }] };
          return { path: relativeSpecifier(importerOut, out), external: true };
        }
        if (!args.path.startsWith('.')) return { path: args.path, external: true };
        const target = resolve(args.resolveDir, args.path);
        if (!TS_SOURCE.test(target)) {
          // A relative import of something that is not compiled (core/bin/compiled.js): keep its place.
          return { path: relativeSpecifier(importerOut, target), external: true };
        }
        const out = distPathOf(units, target);
        if (!out) return { errors: [{ text: `${args.path} (from ${args.importer}) is outside every compiled src/ folder` }] };
        return { path: relativeSpecifier(importerOut, out), external: true };
      });
    },
  };

  if (entries.length > 0) {
    const result = await esbuild.build({
      entryPoints: entries,
      outbase: src,
      outdir: dist,
      outExtension: { '.js': '.js' },
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      keepNames: true,
      sourcemap: sourcemap ? 'linked' : false,
      tsconfigRaw: raw,
      plugins: [rewrite],
      logLevel: 'silent',
      write: true,
    });
    if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.text).join('; '));
  }
  for (const asset of assets) {
    const to = join(dist, relative(src, asset));
    await mkdir(dirname(to), { recursive: true });
    await cp(asset, to);
  }
  const sources: Record<string, number> = {};
  for (const file of [...entries, ...assets]) sources[relative(unit.dir, file).split(sep).join('/')] = (await stat(file)).mtimeMs;
  // A plugin of a tree whose core is bundled: its main module becomes one file too (bundle-code.ts).
  if (!unit.required && bundled.size > 0) {
    const main = await pluginMain(unit.dir);
    if (main && entries.includes(main)) {
      const outside = new Map(bundled);
      const sdk = exportsMap.get('@switchboard/sdk');
      const sdkOut = sdk ? distPathOf(units, sdk) : undefined;
      if (sdkOut) outside.set('@switchboard/sdk', sdkOut);
      try {
        const packages = await bundlePlugin({ esbuild, pluginDir: unit.dir, main, outside, tsconfigRaw: raw, sourcemap });
        Object.assign(sources, await packageMtimes(unit.dir, packages.values()));
      } catch {
        // Left as compiled one file per module: it loads the same, only slower.
      }
    }
  }
  const marker: Marker = { compiler: `esbuild ${esbuild.version}`, builtAt: new Date().toISOString(), sources };
  await mkdir(dist, { recursive: true });
  await writeFile(join(dist, MARKER), `${JSON.stringify(marker)}\n`);
  return { dir: unit.dir, files: entries.length };
}

/** The TypeScript file a plugin's manifest names as its main (default src/index.ts), or undefined. */
async function pluginMain(dir: string): Promise<string | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, 'plugin.json'), 'utf8')) as { main?: unknown };
    return resolve(dir, typeof manifest.main === 'string' ? manifest.main : 'src/index.ts');
  } catch {
    return undefined;
  }
}

/** Plugin folders (a plugin.json and a src/ folder) directly under `dir`. */
export async function pluginFolders(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => join(dir, e.name));
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const path of entries.sort()) {
    const manifest = await stat(join(path, 'plugin.json')).then((s) => s.isFile(), () => false);
    if (manifest && (await isDir(join(path, 'src')))) out.push(path);
  }
  return out;
}

/**
 * The units of a tree: core, sdk, the plugins under `plugins/`, and those
 * under `extraPluginDirs` (relative to root; the repository adds the folders
 * its build profiles draw plugins from).
 */
export async function treeUnits(root: string, extraPluginDirs: string[] = []): Promise<CompileUnit[]> {
  const units: CompileUnit[] = [];
  for (const name of ['core', 'sdk']) if (await isDir(join(root, name, 'src'))) units.push({ dir: join(root, name), required: true });
  const seen = new Set<string>();
  for (const d of ['plugins', ...extraPluginDirs]) {
    for (const dir of await pluginFolders(resolve(root, d))) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      units.push({ dir, required: false });
    }
  }
  return units;
}

/** The repository root this module belongs to (core/src/build → ../../..; the same from core/dist/build). */
export const SOURCE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
