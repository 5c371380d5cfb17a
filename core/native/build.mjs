// Builds switchboard_malloc.node (malloc-trim.c) with node-gyp; run by npm
// as @switchboard/core's install script. Without it the host runs as
// before, only without handing freed C memory back after an idle compaction,
// so a failed build warns and says what to do, and the install goes on.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** node-gyp as npm runs it for install scripts, else the copy that comes with npm beside this node. */
function nodeGyp() {
  const given = process.env.npm_config_node_gyp;
  if (given && existsSync(given)) return given;
  const bundled = resolve(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return existsSync(bundled) ? bundled : undefined;
}

/** Node's own headers (no download): npm's nodedir setting, else the include/node beside this node. */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

const gyp = nodeGyp();
const dir = nodeDir();
const args = [gyp ?? 'node-gyp', 'rebuild', ...(dir ? [`--nodedir=${dir}`] : [])];
const r = gyp ? spawnSync(process.execPath, args, { cwd: here, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' }) : undefined;
if (!r || r.status !== 0) {
  const why = !r ? 'node-gyp was not found' : (r.stderr || r.stdout).trim().split('\n').slice(-6).join('\n');
  console.warn(`switchboard: core/native (malloc_trim) was not built; the host runs without giving freed C memory back after an idle compaction.\n${why}\n`
    + 'To build it: install a C compiler, make and python3 (and Node\'s headers), then run "npm rebuild @switchboard/core".');
} else {
  console.log('switchboard: core/native/build/Release/switchboard_malloc.node built');
}
