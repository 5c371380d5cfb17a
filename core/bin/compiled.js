// Whether a folder's compiled JavaScript (dist/, made by `npm run build`,
// which `npm ci` runs) can be used instead of its TypeScript (src/): the
// build left dist/.compiled.json with every source's mtime, and none of
// those sources has changed since. A source that is gone does not count (a
// trimmed build ships dist/ alone); a changed one means the TypeScript runs
// through tsx until the next build. Plain JavaScript: it runs before
// anything is compiled or registered. Statting a few hundred files costs a
// few milliseconds.
import { readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

/**
 * @param {string} unitDir a folder with src/ and dist/ (core, sdk, a plugin)
 * @param {string} [markerFile] the marker, relative to unitDir (core's start-up bundle has its own: dist/bundle/.compiled.json)
 */
export function compiledIsFresh(unitDir, markerFile = join('dist', '.compiled.json')) {
  let marker;
  try {
    marker = JSON.parse(readFileSync(join(unitDir, markerFile), 'utf8'));
  } catch {
    return false;
  }
  if (!marker || typeof marker.sources !== 'object' || marker.sources === null) return false;
  for (const [rel, mtimeMs] of Object.entries(marker.sources)) {
    let now;
    try {
      now = statSync(join(unitDir, rel)).mtimeMs;
    } catch {
      continue;
    }
    if (now !== mtimeMs) return false;
  }
  return true;
}

let typescript;

/**
 * Let compiled code import TypeScript (a third-party plugin given as .ts):
 * register tsx once, only when such a file is actually imported, and make
 * `@switchboard/core` and `@switchboard/sdk` resolve to the compiled
 * modules already loaded, so that plugin shares the host's SDK rather than
 * compiling a second copy of it. Rejects with a clear message when tsx is
 * not installed.
 * @param {Record<string, string>} workspaceMap bare specifier → file URL of its compiled module
 */
export function enableTypeScript(workspaceMap) {
  typescript ??= (async () => {
    let api;
    try {
      api = await importHere('tsx/esm/api');
    } catch (err) {
      throw new Error(`loading TypeScript needs tsx, which is not installed here (${err.message}); install it (npm i tsx) or give the plugin compiled JavaScript as its main`);
    }
    api.register();
    // Registered after tsx, so it resolves first; everything else goes on to tsx and Node.
    Module.register(new URL('./workspace-resolve.js', import.meta.url), { data: { map: workspaceMap } });
  })();
  return typescript;
}

/**
 * Load the start-up bundle's CommonJS file (core/dist/bundle/main-cjs.cjs,
 * core/src/build/bundle-code.ts) with V8's code cache: the compiled
 * bytecode of an earlier run, so the ~7 MB of JavaScript is neither parsed
 * nor compiled again. Node 20 has no compile cache of its own
 * (module.enableCompileCache() is Node 22), so this does by hand what
 * Node's CommonJS loader does (wrap, compile, run) with `cachedData`
 * added. The module is put in require's cache, so the ESM files beside it
 * that require it (what the SDK and plugins import) get this same instance.
 *
 * Caches, beside the file: `.build.cache` (made by the build: the module
 * code run once, no host started) and `.boot.cache` (written when a
 * `start` exits: everything the host compiled while it ran). The boot cache
 * is preferred; a cache V8 rejects (another Node, another build) is
 * ignored and, with `writeBootCache`, replaced on exit. A cache that cannot
 * be written (read-only install) is not an error: starts are only slower.
 * @param {string} file absolute path of the .cjs bundle
 * @param {{ writeBootCache?: boolean }} [options]
 */
export function loadCachedBundle(file, options = {}) {
  // The key require's cache is looked up by: the real path.
  file = realpathSync(file);
  const cached = readCache(`${file}.boot.cache`) ?? readCache(`${file}.build.cache`);
  const { script, module } = compileBundle(file, cached?.data);
  const rejected = cached === undefined || script.cachedDataRejected === true;
  if (options.writeBootCache && (rejected || cached.kind === 'build')) {
    process.once('exit', () => writeCache(`${file}.boot.cache`, script));
  }
  return module.exports;
}

/** The build's part: run the bundle's module code once and keep what V8 compiled (`.build.cache`). */
export function writeBuildCache(file) {
  const { script } = compileBundle(file, undefined);
  writeCache(`${file}.build.cache`, script);
}

function readCache(path) {
  try {
    return { data: readFileSync(path), kind: path.endsWith('.boot.cache') ? 'boot' : 'build' };
  } catch {
    return undefined;
  }
}

function writeCache(path, script) {
  try {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, path);
  } catch {
    // Read-only or gone: the next start compiles again.
  }
}

/**
 * import() relative to this file. In the code-cached bundle an import() of
 * the bundle's own fails (see core/src/host/import-module.ts), so there the
 * bin's hook is used.
 */
function importHere(specifier) {
  const hook = globalThis[Symbol.for('switchboard.import')];
  return typeof hook === 'function' ? hook(specifier) : import(specifier);
}

let quietVmWarning = false;

function compileBundle(file, cachedData) {
  // Dynamic import() from the bundle (plugins' ES modules) goes through Node's own loader. In Node 20 that
  // option prints an ExperimentalWarning on first use; that one warning is dropped, every other one stays.
  if (!quietVmWarning) {
    quietVmWarning = true;
    const emit = process.emitWarning;
    process.emitWarning = function (warning, ...rest) {
      const text = typeof warning === 'string' ? warning : warning?.message;
      if (typeof text === 'string' && text.includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) return;
      return emit.call(process, warning, ...rest);
    };
  }
  // core/src/host/import-module.ts: dynamic imports of the bundle (plugins' modules, tsx) come here.
  globalThis[Symbol.for('switchboard.import')] ??= (specifier) => import(specifier);
  const source = readFileSync(file, 'utf8');
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = new Module(file);
  module.filename = file;
  module.paths = Module._nodeModulePaths(dirname(file));
  Module._cache[file] = module;
  try {
    script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  } catch (err) {
    delete Module._cache[file];
    throw err;
  }
  module.loaded = true;
  return { script, module };
}
