// A benchmark child script as plain JavaScript on the compiled host, so the
// process measured runs what `npm start` runs (core/dist, built by `npm ci`
// / `npm run build`) instead of TypeScript through tsx, whose loader thread,
// transform cache and source maps add tens of MiB of resident memory and
// some CPU that production never pays.
//
// esbuild turns the one script into JavaScript; every import of the core's
// sources (`../core/src/…ts`) is pointed at the same module under
// `core/dist/…js`, and packages stay imports. The output goes to
// bench/results/.build/ (git-ignored).
import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CORE_SRC = join(ROOT, 'core', 'src');
const CORE_DIST = join(ROOT, 'core', 'dist');
const OUT_DIR = join(ROOT, 'bench', 'results', '.build');

/** Compile `script` (a .ts file under bench/) and return the path of the .mjs to run with plain `node`. */
export async function compiledScript(script: string): Promise<string> {
  if (!existsSync(join(CORE_DIST, 'index.js'))) {
    throw new Error('core/dist is missing: run `npm run build` (npm ci does it) before the benchmark');
  }
  mkdirSync(OUT_DIR, { recursive: true });
  const outfile = join(OUT_DIR, basename(script).replace(/\.ts$/, '.mjs'));
  const toDist: Plugin = {
    name: 'core-src-to-dist',
    setup(b) {
      b.onResolve({ filter: /core\/src\// }, (args) => {
        const file = resolve(args.resolveDir, args.path);
        if (!file.startsWith(CORE_SRC)) return undefined;
        const compiled = join(CORE_DIST, relative(CORE_SRC, file)).replace(/\.ts$/, '.js');
        if (!existsSync(compiled)) throw new Error(`${relative(ROOT, compiled)} is missing: run \`npm run build\``);
        return { path: pathToFileURL(compiled).href, external: true };
      });
    },
  };
  await build({
    entryPoints: [script],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    plugins: [toDist],
    absWorkingDir: dirname(script),
  });
  return outfile;
}
