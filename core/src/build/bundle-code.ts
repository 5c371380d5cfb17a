/**
 * The core's start-up bundle: `core/dist/bundle/`, made after core/dist by
 * the same build (compile-code.ts). esbuild joins the core's modules and
 * the npm packages they import (fastify, typeorm, drachtio-srf, ajv, …)
 * into one file, so a cold start reads a handful of files instead of about
 * a thousand and Node's module resolution (a stat and a read per file,
 * package.json lookups) disappears.
 *
 * Two builds of the same modules:
 * - ES modules, split into shared chunks, one entry per export of the
 *   package (`index.js`, `registry.js`, `sip-engine.js`), `main.js` (the
 *   CLI) and `pkg-typeorm.js` (SHARED_PACKAGES);
 * - then, when that works, one CommonJS file, `main-cjs.cjs`, holding every
 *   entry (`modules[name]`). The ES entry files are then rewritten as thin
 *   re-exports of it and the chunks deleted, so everything (host, SDK,
 *   plugins) shares one copy. The bin loads `main-cjs.cjs` for `start` with
 *   V8's code cache (core/bin/compiled.js loadCachedBundle): Node 20 has
 *   no compile cache and none at all for ES modules, and parsing and
 *   compiling this much JavaScript was the largest cost left. The build
 *   writes a first cache (`.build.cache`, module code run once).
 *
 * What stays outside:
 * - packages with native code (better-sqlite3 and `bindings`, which finds
 *   the addon from its caller's file), optional drivers (mysql2,
 *   pino-pretty), and the compilers (tsx, esbuild, typescript);
 * - in the ES build, `@switchboard/sdk` (sdk/dist, which plugins share) and
 *   plain-JavaScript files of core (core/bin/compiled.js); the CommonJS
 *   file takes both in (requiring an ES module needs Node 20.19+).
 *
 * `import.meta.url` in a bundled module is the URL of that module's own
 * file outside the bundle (core/dist/…, the package's file), and a package
 * that reads `__dirname` gets its own folder: every path computed from them
 * (the repository root, config/, package.json, JSON schemas, a package's
 * data files) is the same as in the one-file-per-module build.
 *
 * The bundle's marker (`dist/bundle/.compiled.json`) records the mtime of
 * every bundled package's package.json besides the core's sources: after an
 * `npm install` that changes a bundled package the bin falls back to
 * core/dist until the next build.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Esbuild from 'esbuild';

/** Where the bundle goes, relative to the core folder. */
export const BUNDLE_DIR = join('dist', 'bundle');

/** Packages never bundled (see the header). A subpath (`pino/file`) follows its package. */
const EXTERNAL_PACKAGES = new Set([
  'better-sqlite3', 'bindings', 'mysql2', 'pino-pretty',
  'tsx', 'esbuild', 'typescript', 'reflect-metadata',
]);

/** Names the banner defines in every output file, for the rewritten __filename/__dirname. */
const PATH_OF = '__sbPathOf';
const BASE = '__sbBundleUrl';
/**
 * What `import.meta.url` becomes (esbuild's define, so strings and comments
 * that mention it are left alone): a variable each module that uses it
 * declares first, holding the URL of the module's own file outside the
 * bundle (core/dist/…, or the package's file in node_modules).
 */
const FILE_URL = '__sbFileUrl';
const DIR_OF = '__sbDirOf';
// Packages written as CommonJS call require(); bundled ESM has none, so each file gets one.
const BANNER = [
  "import { createRequire as __sbCreateRequire } from 'node:module';",
  "import { fileURLToPath as __sbFileURLToPath } from 'node:url';",
  "import { dirname as __sbDirname } from 'node:path';",
  'const require = __sbCreateRequire(import.meta.url);',
  // import.meta itself would make esbuild treat a CommonJS file it appears in as ESM.
  `const ${BASE} = import.meta.url;`,
  `const ${PATH_OF} = (rel) => __sbFileURLToPath(new URL(rel, ${BASE}));`,
  `const ${DIR_OF} = __sbDirname;`,
].join(' ');

/** The same names for the CommonJS variant (require, __filename are there already). */
const CJS_BANNER = [
  `const ${BASE} = require('node:url').pathToFileURL(__filename).href;`,
  `const ${PATH_OF} = (rel) => require('node:url').fileURLToPath(new URL(rel, ${BASE}));`,
  `const ${DIR_OF} = require('node:path').dirname;`,
].join(' ');

const TS_FILE = /(?<!\.d)\.(ts|mts)$/;

/** A shebang line, comments and "use strict" directives at the top of a module. */
const PROLOGUE = /^(?:#![^\n]*\n)?(?:\s+|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/|(['"])use strict\1;?)*/;

/**
 * `prefix` (declarations, one line) put after the module's prologue, so a
 * "use strict" stays a directive; no line break is added, so the lines of
 * the module keep their numbers.
 */
function withPrefix(text: string, prefix: string): string {
  const end = PROLOGUE.exec(text)?.[0].length ?? 0;
  return `${text.slice(0, end)}${prefix}${text.slice(end)}`;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function specifierFrom(fromDir: string, to: string): string {
  const rel = relative(fromDir, to).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** The package folder (holding package.json) a resolved file belongs to, for the marker. */
function packageDirOf(file: string, pkg: string): string | undefined {
  const marker = `${sep}node_modules${sep}${pkg.split('/').join(sep)}${sep}`;
  const at = file.lastIndexOf(marker);
  return at < 0 ? undefined : file.slice(0, at + marker.length - 1);
}

export interface BundleOptions {
  esbuild: typeof Esbuild;
  /** The core folder (with src/ and a freshly compiled dist/). */
  coreDir: string;
  /** The SDK's compiled entry (external). */
  sdkEntry: string;
  /** The SDK's TypeScript entry: the CommonJS variant takes the SDK in (an ES module required from CommonJS would need Node 20.19+). */
  sdkSource: string;
  /** `@switchboard/core…` specifier → its TypeScript source (the package's exports). */
  coreExports: Map<string, string>;
  tsconfigRaw: Esbuild.TsconfigRaw;
  sourcemap: boolean;
}

export interface BundleResult {
  dir: string;
  files: number;
  /** Packages that went into the bundle. */
  packages: string[];
}

/** What one esbuild run of bundleFiles needs. */
interface BundleJob {
  esbuild: typeof Esbuild;
  /** The unit (core, a plugin): its own modules are those under `src`, compiled one per file to `dist`. */
  unitDir: string;
  outdir: string;
  entryPoints: Record<string, string>;
  splitting: boolean;
  /** Specifier → a TypeScript file to bundle (the core's own exports). */
  internal: Map<string, string>;
  /** Specifier → a compiled file outside this bundle, imported where it is (the SDK, the core bundle's entries). */
  outside: Map<string, string>;
  /** Virtual modules: specifier → source (the shared packages' re-exports). */
  virtual: Map<string, string>;
  tsconfigRaw: Esbuild.TsconfigRaw;
  sourcemap: boolean;
}

/** typeorm drivers (DriverFactory's requires) that Switchboard's storage never opens. */
const ABSENT_DRIVER = /^\.\/(cockroachdb|mongodb|sqlserver|oracle|sqlite|cordova|react-native|nativescript|sqljs|postgres|expo|aurora-mysql|aurora-postgres|sap|capacitor|spanner)\/\w+$/;
const ABSENT_DRIVER_NAMESPACE = 'switchboard-absent-driver';

/** A stand-in module for one such driver: its class, whose constructor says what to use instead. */
function absentDriver(spec: string): string {
  const name = spec.slice(spec.lastIndexOf('/') + 1);
  const message = `typeorm's ${spec.slice(2, spec.lastIndexOf('/'))} driver is not in Switchboard's bundle: storage.url takes sqlite: or mysql:`;
  return `class ${name} { constructor() { throw new Error(${JSON.stringify(message)}); } }\nexports.${name} = ${name};\n`;
}

interface BundleRun {
  result: Esbuild.BuildResult & { metafile: Esbuild.Metafile };
  /** The unit's own sources that went in. */
  sources: Set<string>;
  /** Package name → its folder, for every npm package that went in. */
  packageDirs: Map<string, string>;
}

async function bundleFiles(job: BundleJob & { cjs?: boolean; write?: boolean }): Promise<BundleRun> {
  const { outdir } = job;
  const src = join(job.unitDir, 'src');
  const dist = join(job.unitDir, 'dist');
  const sources = new Set<string>();
  const packageDirs = new Map<string, string>();

  const plugin: Esbuild.Plugin = {
    name: 'switchboard-bundle',
    setup(build) {
      build.onResolve({ filter: new RegExp(`^${SHARED_NAMESPACE}:`) }, (args) => ({ path: args.path.slice(SHARED_NAMESPACE.length + 1), namespace: SHARED_NAMESPACE }));
      build.onLoad({ filter: /.*/, namespace: SHARED_NAMESPACE }, (args) => ({ contents: job.virtual.get(args.path) ?? '', loader: 'js', resolveDir: job.unitDir }));
      // typeorm's DriverFactory requires every driver it knows; Switchboard's storage opens only
      // better-sqlite3 and mysql (open-storage.ts). The others become a class that says so.
      build.onResolve({ filter: ABSENT_DRIVER }, (args) => {
        if (!args.importer.endsWith(`${sep}typeorm${sep}driver${sep}DriverFactory.js`)) return undefined;
        return { path: args.path, namespace: ABSENT_DRIVER_NAMESPACE };
      });
      build.onLoad({ filter: /.*/, namespace: ABSENT_DRIVER_NAMESPACE }, (args) => ({ contents: absentDriver(args.path), loader: 'js' }));
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || args.pluginData === 'inner') return undefined;
        const spec = args.path;
        if (spec.startsWith('node:')) return { path: spec, external: true };
        const internal = job.internal.get(spec);
        if (internal) return { path: internal };
        const outside = job.outside.get(spec);
        if (outside) return { path: specifierFrom(outdir, outside), external: true };
        if (spec.startsWith('@switchboard/')) return { errors: [{ text: `${spec} (from ${args.importer}) has no compiled entry` }] };
        const fromUnit = args.importer.startsWith(src + sep);
        if (spec.startsWith('.') || isAbsolute(spec)) {
          if (!fromUnit) return undefined;
          const target = resolve(args.resolveDir, spec);
          // Plain JavaScript beside the sources (core/bin/compiled.js) keeps its own file, except in the
          // CommonJS variant, which takes it in (an ES module cannot be required before Node 20.19).
          if (job.cjs && target.startsWith(join(job.unitDir, 'bin') + sep) && target.endsWith('.js')) return undefined;
          if (!TS_FILE.test(target) && !target.endsWith('.json')) return { path: specifierFrom(outdir, target), external: true };
          return undefined;
        }
        const pkg = packageName(spec);
        if (EXTERNAL_PACKAGES.has(pkg)) return { path: spec, external: true };
        const resolved = await build.resolve(spec, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'inner' });
        // Not installed (typeorm's optional drivers, optional peers): left for Node to fail on, as without the bundle.
        if (resolved.errors.length > 0 || !resolved.path) return { path: spec, external: true };
        if (resolved.external) return { path: spec, external: true };
        // A native addon found through a package: keep that package outside.
        if (resolved.path.endsWith('.node')) return { path: spec, external: true };
        const dir = packageDirOf(resolved.path, pkg);
        if (dir) packageDirs.set(pkg, dir);
        return { path: resolved.path, sideEffects: resolved.sideEffects };
      });
      // A bundled package that finds files beside itself (app-root-path, commander) gets its own
      // __dirname and __filename back, and import.meta.url of any module is its own file's URL
      // (see FILE_URL): the package stays installed where it was.
      build.onLoad({ filter: /\.(c?js|mjs)$/ }, async (args) => {
        const ownScript = job.cjs === true && args.path.startsWith(join(job.unitDir, 'bin') + sep);
        if (!args.path.includes(`${sep}node_modules${sep}`) && !ownScript) return undefined;
        const text = await readFile(args.path, 'utf8');
        const usesMeta = text.includes('import.meta');
        const usesPaths = /\b__(dirname|filename)\b/.test(text);
        if (!usesMeta && !usesPaths) return undefined;
        const rel = JSON.stringify(specifierFrom(outdir, args.path));
        let prefix = usesMeta ? `var ${FILE_URL} = new URL(${rel}, ${BASE}).href;` : '';
        if (usesPaths && !/\b(var|let|const)\s+__(dirname|filename)\b/.test(text)) {
          prefix += `var __filename = ${PATH_OF}(${rel}), __dirname = ${DIR_OF}(__filename);`;
        }
        return { contents: withPrefix(text, prefix), loader: 'js' };
      });
      build.onLoad({ filter: /\.m?ts$/ }, async (args) => {
        if (!TS_FILE.test(args.path)) return undefined;
        const own = args.path.startsWith(src + sep);
        if (own) sources.add(args.path);
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta')) return { contents: text, loader: 'ts' };
        // Another unit's TypeScript (the SDK in the CommonJS variant) keeps its source file's URL.
        const ownFile = own ? join(dist, relative(src, args.path)).replace(/\.(m?)ts$/, '.$1js') : args.path;
        return { contents: withPrefix(text, `var ${FILE_URL} = new URL(${JSON.stringify(specifierFrom(outdir, ownFile))}, ${BASE}).href;`), loader: 'ts' };
      });
    },
  };

  const result = await job.esbuild.build({
    entryPoints: job.entryPoints,
    outdir,
    bundle: true,
    splitting: job.splitting,
    format: job.cjs ? 'cjs' : 'esm',
    ...(job.cjs ? { outExtension: { '.js': '.cjs' } } : {}),
    platform: 'node',
    target: 'node20',
    keepNames: true,
    // The running host keeps the bundle's whole source text on its heap (V8 needs it to
    // compile functions lazily): no comments or indentation, and ASCII only, so V8 holds it
    // as a one-byte string. One em dash in a comment made it two bytes per character: 15 MiB.
    // Local names shortened and syntax folded too (5.1 → 3.0 MB with the drivers above; the
    // registrar build's idle heap 21.3 → 18.4 MiB); keepNames keeps every function's and
    // class's own name, which stack traces, typeorm's entities and the logs show.
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: true,
    legalComments: 'none',
    charset: 'ascii',
    banner: { js: job.cjs ? CJS_BANNER : BANNER },
    define: { 'import.meta.url': FILE_URL },
    chunkNames: 'chunk-[hash]',
    sourcemap: job.sourcemap ? 'linked' : false,
    tsconfigRaw: job.tsconfigRaw,
    plugins: [plugin],
    logLevel: 'silent',
    metafile: true,
    write: job.write ?? true,
  });
  if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.text).join('; '));
  return { result, sources, packageDirs };
}

/** The mtimes of bundled packages' package.json files, for a marker (paths relative to `unitDir`). */
export async function packageMtimes(unitDir: string, packageDirs: Iterable<string>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const dir of packageDirs) {
    const manifest = join(dir, 'package.json');
    out[relative(unitDir, manifest).split(sep).join('/')] = (await stat(manifest)).mtimeMs;
  }
  return out;
}

/**
 * Build core/dist/bundle. Throws when esbuild fails; the caller removes the
 * folder then and everything runs from core/dist as before.
 */
export async function bundleCore(options: BundleOptions): Promise<BundleResult> {
  const { esbuild, coreDir } = options;
  const src = join(coreDir, 'src');
  const outdir = join(coreDir, BUNDLE_DIR);
  await rm(outdir, { recursive: true, force: true });

  const entryPoints: Record<string, string> = { main: join(src, 'cli', 'main.ts') };
  for (const [specifier, file] of options.coreExports) {
    const name = specifier === '@switchboard/core' ? 'index' : specifier.slice('@switchboard/core/'.length).replace(/\//g, '-');
    entryPoints[name] = file;
  }
  // The shared packages' entries (see SHARED_PACKAGES): virtual modules re-exporting the bundled copy.
  const virtual = new Map<string, string>();
  for (const pkg of SHARED_PACKAGES) {
    const names = sharedExportNames(coreDir, pkg);
    if (!names) continue;
    virtual.set(pkg, `import pkg from ${JSON.stringify(pkg)};\nexport default pkg;\n${names.map((n) => `export const ${n} = pkg.${n};`).join('\n')}\n`);
    entryPoints[sharedEntryName(pkg)] = `${SHARED_NAMESPACE}:${pkg}`;
  }
  const sdk = new Map([['@switchboard/sdk', options.sdkEntry]]);
  const { result, sources: coreSources, packageDirs } = await bundleFiles({
    esbuild, unitDir: coreDir, outdir, entryPoints, splitting: true, internal: options.coreExports, outside: sdk, virtual,
    tsconfigRaw: options.tsconfigRaw, sourcemap: options.sourcemap,
  });

  // The same modules once more as one CommonJS file, which the bin can load with V8's code cache;
  // when that works the ES entry files become thin re-exports of it and the ES chunks go.
  try {
    await cachedVariant({ ...options, outdir, entryPoints, virtual, sdk, esm: result.metafile });
  } catch {
    await rm(join(outdir, `${CJS_NAME}.cjs`), { force: true });
  }

  const sources: Record<string, number> = {};
  for (const file of coreSources) sources[relative(coreDir, file).split(sep).join('/')] = (await stat(file)).mtimeMs;
  Object.assign(sources, await packageMtimes(coreDir, packageDirs.values()));
  await mkdir(outdir, { recursive: true });
  await writeFile(join(outdir, '.compiled.json'), `${JSON.stringify({ compiler: `esbuild ${esbuild.version}`, builtAt: new Date().toISOString(), sources })}\n`);
  const files = (await readdir(outdir)).filter((f) => /\.c?js$/.test(f)).length;
  return { dir: outdir, files, packages: [...packageDirs.keys()].sort() };
}

/** The CommonJS variant of the bundle: `dist/bundle/main-cjs.cjs`. */
const CJS_NAME = 'main-cjs';

/**
 * Build the CommonJS variant: one virtual entry exporting every entry's
 * module namespace as `modules[name]`; then each ES entry file (index.js,
 * registry.js, …) is rewritten to re-export its names from it (names from
 * the ES build's metafile), the ES chunks are deleted, and the build's
 * code cache is written (core/bin/compiled.js writeBuildCache, in a child
 * process so this one's module state is untouched).
 */
async function cachedVariant(options: BundleOptions & {
  outdir: string;
  entryPoints: Record<string, string>;
  virtual: Map<string, string>;
  sdk: Map<string, string>;
  esm: Esbuild.Metafile;
}): Promise<void> {
  const { outdir } = options;
  const names = Object.keys(options.entryPoints);
  const lines = names.map((name, i) => {
    const target = options.entryPoints[name]!;
    return `import * as m${i} from ${JSON.stringify(target)};`;
  });
  lines.push(`export const modules = { ${names.map((name, i) => `${JSON.stringify(name)}: m${i}`).join(', ')} };`);
  const virtual = new Map(options.virtual);
  virtual.set(CJS_NAME, `${lines.join('\n')}\n`);
  await bundleFiles({
    esbuild: options.esbuild, unitDir: options.coreDir, outdir, entryPoints: { [CJS_NAME]: `${SHARED_NAMESPACE}:${CJS_NAME}` }, splitting: false, cjs: true,
    internal: new Map([...options.coreExports, ['@switchboard/sdk', options.sdkSource]]), outside: new Map(), virtual,
    tsconfigRaw: options.tsconfigRaw, sourcemap: options.sourcemap,
  });
  const exportsOf = new Map<string, string[]>();
  for (const [out, meta] of Object.entries(options.esm.outputs)) {
    if (!meta.entryPoint || !out.endsWith('.js')) continue;
    exportsOf.set(resolve(out), meta.exports);
  }
  const facades = new Map<string, string>();
  for (const name of names) {
    const file = join(outdir, `${name}.js`);
    const exported = exportsOf.get(file);
    if (!exported) throw new Error(`no exports listed for ${file}`);
    const plain = exported.filter((n) => n !== 'default');
    facades.set(file, [
      "import { createRequire } from 'node:module';",
      `const m = createRequire(import.meta.url)(${JSON.stringify(`./${CJS_NAME}.cjs`)}).modules[${JSON.stringify(name)}];`,
      ...(plain.length > 0 ? [`export const { ${plain.join(', ')} } = m;`] : []),
      ...(exported.includes('default') ? ['export default m.default;'] : []),
      '',
    ].join('\n'));
  }
  for (const entry of await readdir(outdir)) {
    if (entry.startsWith('chunk-')) await rm(join(outdir, entry), { force: true });
  }
  for (const [file, text] of facades) {
    await writeFile(file, text);
    await rm(`${file}.map`, { force: true });
  }
  const bin = join(options.coreDir, 'bin', 'compiled.js');
  const cjs = join(outdir, `${CJS_NAME}.cjs`);
  const script = `import { writeBuildCache } from ${JSON.stringify(pathToFileURL(bin).href)}; writeBuildCache(${JSON.stringify(cjs)});`;
  await new Promise<void>((done) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 }, () => done());
  });
}

/**
 * A compiled plugin's main module with its own modules and the npm
 * packages only it uses (sanitize-html, fast-xml-parser, …) in one file,
 * written over its one-file-per-module `dist/<main>.js` (the other compiled
 * files stay: migrations are loaded from them). `outside` maps the
 * `@switchboard/*` and shared packages to the files the host has loaded.
 * Returns the packages that went in; throws when esbuild fails, leaving the
 * per-module file as it was.
 */
export async function bundlePlugin(options: {
  esbuild: typeof Esbuild;
  pluginDir: string;
  /** The main module (TypeScript under src/). */
  main: string;
  outside: Map<string, string>;
  tsconfigRaw: Esbuild.TsconfigRaw;
  sourcemap: boolean;
}): Promise<Map<string, string>> {
  const src = join(options.pluginDir, 'src');
  const name = relative(src, options.main).replace(/\.(m?)ts$/, '');
  const { packageDirs } = await bundleFiles({
    esbuild: options.esbuild, unitDir: options.pluginDir, outdir: join(options.pluginDir, 'dist'), entryPoints: { [name]: options.main },
    splitting: false, internal: new Map(), outside: options.outside, virtual: new Map(), tsconfigRaw: options.tsconfigRaw, sourcemap: options.sourcemap,
  });
  return packageDirs;
}

/**
 * npm packages whose classes and registries the host and plugins must share:
 * a compiled plugin's `import { EntitySchema, In } from 'typeorm'` gets the
 * bundle's typeorm (compile-code.ts rewrites it to `core/dist/bundle/pkg-typeorm.js`)
 * rather than loading the installed package a second time, about 500 files.
 */
export const SHARED_PACKAGES = ['typeorm'];
const SHARED_NAMESPACE = 'switchboard-shared';

function sharedEntryName(pkg: string): string {
  return `pkg-${pkg.replace(/^@/, '').replace(/\//g, '-')}`;
}

/** The bundle's file for a shared package (SHARED_PACKAGES). */
export function sharedEntryOf(coreDir: string, pkg: string): string {
  return join(coreDir, BUNDLE_DIR, `${sharedEntryName(pkg)}.js`);
}

/**
 * The names a CommonJS package exports, for static ESM re-exports: read by
 * loading it once in the build (its own copy in the tree being built).
 * Undefined when it is not installed there.
 */
function sharedExportNames(coreDir: string, pkg: string): string[] | undefined {
  let mod: Record<string, unknown>;
  try {
    mod = createRequire(join(coreDir, 'package.json'))(pkg) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  return Object.keys(mod).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default' && n !== '__esModule').sort();
}

/** `core/dist/bundle/<name>.js` for an exports specifier of the core (`@switchboard/core/registry` → registry.js). */
export function bundleEntryOf(coreDir: string, specifier: string): string {
  const name = specifier === '@switchboard/core' ? 'index' : specifier.slice('@switchboard/core/'.length).replace(/\//g, '-');
  return join(coreDir, BUNDLE_DIR, `${name}.js`);
}
