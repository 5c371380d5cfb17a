/**
 * Which file the host imports for a plugin's code (its `main`, its
 * migrations folder). Running from TypeScript (tsx: tests, a tree without
 * a build) that is the path the manifest names. Running compiled (dist/,
 * made by `npm run build`), a path under the plugin's `src/` maps to the
 * same path under its `dist/` (`.ts` → `.js`) when the plugin was compiled
 * and its sources have not changed since; otherwise the TypeScript is used
 * and tsx is registered first, only then (third-party plugins, a plugin
 * edited after the build).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledIsFresh, enableTypeScript } from '../../bin/compiled.js';

/** True when this module is the compiled one (core/dist/build/plugin-code.js). */
export const RUNNING_COMPILED = import.meta.url.endsWith('.js');

/** The compiled modules a TypeScript plugin's `@switchboard/*` imports resolve to (only used when compiled). */
function workspaceMap(): Record<string, string> {
  const at = (rel: string) => new URL(rel, import.meta.url).href;
  // The host runs the start-up bundle when it is fresh (core/bin/switchboard.js): share its modules then.
  const coreDir = fileURLToPath(new URL('../../', import.meta.url));
  if (compiledIsFresh(coreDir, join('dist', 'bundle', '.compiled.json'))) {
    return {
      '@switchboard/sdk': at('../../../sdk/dist/index.js'),
      '@switchboard/core': at('../bundle/index.js'),
      '@switchboard/core/registry': at('../bundle/registry.js'),
      '@switchboard/core/sip-engine': at('../bundle/sip-engine.js'),
    };
  }
  return {
    '@switchboard/sdk': at('../../../sdk/dist/index.js'),
    '@switchboard/core': at('../index.js'),
    '@switchboard/core/registry': at('../registry/index.js'),
    '@switchboard/core/sip-engine': at('../sip-engine/index.js'),
  };
}

const freshness = new Map<string, boolean>();

function isTypeScript(path: string): boolean {
  if (/\.[cm]?ts$/.test(path) && !path.endsWith('.d.ts')) return true;
  try {
    return readdirSync(path).some((f) => /\.[cm]?ts$/.test(f) && !f.endsWith('.d.ts'));
  } catch {
    return false;
  }
}

/**
 * The absolute path to import for `rel` (a file or a folder) of the plugin
 * in `pluginDir`.
 */
export async function pluginCodePath(pluginDir: string, rel: string): Promise<string> {
  const source = resolve(pluginDir, rel);
  if (!RUNNING_COMPILED) return source;
  const src = join(pluginDir, 'src');
  if (source === src || source.startsWith(src + sep)) {
    let fresh = freshness.get(pluginDir);
    if (fresh === undefined) freshness.set(pluginDir, (fresh = compiledIsFresh(pluginDir)));
    if (fresh) {
      const compiled = join(pluginDir, 'dist', relative(src, source)).replace(/\.(m?)ts$/, '.$1js');
      if (existsSync(compiled)) return compiled;
    }
  }
  if (isTypeScript(source)) await enableTypeScript(workspaceMap());
  return source;
}
