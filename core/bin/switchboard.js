#!/usr/bin/env node
// The installed `switchboard` bin (and `npm start`). `npm ci` compiles the
// TypeScript to core/dist and sdk/dist (npm run build); when those are
// there and no source has changed since, the compiled JavaScript runs: no
// compiler at start (the start-up bundle, core/dist/bundle, when it is
// fresh too). Otherwise (no build, or a source edited after it) tsx
// is registered and the TypeScript entry point runs, as before.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compiledIsFresh, loadCachedBundle } from './compiled.js';

const core = fileURLToPath(new URL('..', import.meta.url));
const sdk = fileURLToPath(new URL('../../sdk', import.meta.url));

if (compiledIsFresh(core) && compiledIsFresh(sdk)) {
  // The start-up bundle (core/dist/bundle: the core and its packages in a few files) when it is
  // as fresh as core/dist and the packages it took in are unchanged; core/dist otherwise.
  const bundled = compiledIsFresh(core, 'dist/bundle/.compiled.json');
  const cjs = fileURLToPath(new URL('../dist/bundle/main-cjs.cjs', import.meta.url));
  let main;
  if (bundled && existsSync(cjs) && process.argv[2] === 'start') {
    // `start`: the bundle as one CommonJS file, loaded with V8's code cache (compiled.js); core/dist when
    // that fails. The other commands (API clients, build tools) run core/dist: they are short and not timed.
    try {
      ({ main } = loadCachedBundle(cjs, { writeBootCache: process.argv[2] === 'start' }).modules.main);
    } catch (err) {
      process.stderr.write(`switchboard: the start-up bundle did not load (${err?.message ?? err}); running core/dist\n`);
      ({ main } = await import('../dist/cli/main.js'));
    }
  } else {
    ({ main } = bundled && process.argv[2] === 'start' ? await import('../dist/bundle/main.js') : await import('../dist/cli/main.js'));
  }
  await main();
} else {
  if (process.stderr.isTTY && existsSync(new URL('../dist', import.meta.url))) {
    process.stderr.write('switchboard: core/dist or sdk/dist is older than the TypeScript sources; running them through tsx (npm run build refreshes dist/)\n');
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import('./switchboard.ts');
}
