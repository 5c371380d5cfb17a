/**
 * `switchboard-plugin pack [DIR]`: the plugin as a gzipped tarball of what
 * the host runs (manifest, code, migrations, UI, assets; no tests, no
 * node_modules, no dotfiles), with fixed timestamps and sorted entries so
 * the same source gives the same bytes, and its sha512 integrity.
 */
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { create } from 'tar';
import { readFile } from 'node:fs/promises';
import { sriSha512, manifestDigest } from '@switchboard/core/registry';
import { loadPluginManifest } from './validate.ts';

export interface PackResult {
  file: string;
  id: string;
  version: string;
  integrity: string;
  manifestDigest: string;
  files: string[];
}

/** Top-level folders whose files ship; the manifest's main and migrations folders are added to these. */
const SHIPPED_DIRS = ['src', 'dist', 'ui', 'assets', 'migrations'];
const SHIPPED_FILES = /^(plugin\.json|package\.json|README(\..*)?|LICENSE(\..*)?|CHANGELOG(\..*)?)$/i;
const EXCLUDED = /(^|\/)(node_modules|test|tests|__tests__)(\/|$)|(^|\/)\.|\.test\.[a-z]+$|\.tgz$/;

export async function packPlugin(dirArg: string, outDir?: string): Promise<PackResult> {
  const dir = resolve(dirArg);
  const { raw, manifest } = await loadPluginManifest(dir);
  const roots = new Set(SHIPPED_DIRS);
  for (const path of [manifest.main, manifest.migrations, ...Object.values(manifest.ui?.fragments ?? {})]) {
    const top = path.split('/')[0];
    if (top) roots.add(top);
  }
  const files: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.isFile() && SHIPPED_FILES.test(entry.name)) files.push(entry.name);
    else if (entry.isDirectory() && roots.has(entry.name)) files.push(...(await listFiles(dir, join(dir, entry.name))));
    else if (entry.isFile() && roots.has(entry.name)) files.push(entry.name);
  }
  const shipped = files.filter((f) => !EXCLUDED.test(f)).sort();
  const file = resolve(outDir ?? dir, `${manifest.id}-${manifest.version}.tgz`);
  await create({ gzip: { level: 9 }, file, cwd: dir, portable: true, mtime: new Date(0), noDirRecurse: true, follow: false }, shipped);
  const integrity = sriSha512(await readFile(file));
  return { file, id: manifest.id, version: manifest.version, integrity, manifestDigest: manifestDigest(raw), files: shipped };
}

async function listFiles(root: string, dir: string, depth = 0): Promise<string[]> {
  if (depth > 30) return [];
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    // Links are never packed: the host refuses them, and they could point outside the plugin.
    if (entry.isDirectory()) out.push(...(await listFiles(root, path, depth + 1)));
    else if (entry.isFile()) out.push(relative(root, path).split('\\').join('/'));
  }
  return out;
}
