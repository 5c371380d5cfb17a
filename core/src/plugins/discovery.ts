import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { MANIFEST_FILE, readManifest, type PluginManifest } from './manifest.ts';

/** A plugin folder found on disk: a valid manifest, or the reason it has none. */
export interface DiscoveredPlugin {
  /** Absolute path of the plugin folder. */
  dir: string;
  /** Best-known id: the manifest's id when it has one (even if invalid), else the folder name. */
  id: string;
  manifest?: PluginManifest;
  error?: string;
}

/**
 * Every immediate subfolder of `dirs` holding a plugin.json, in the order of
 * `dirs` then folder name. A folder that does not exist is skipped (a trimmed
 * build may have no plugins/); an invalid manifest or a second plugin with an
 * id already seen is reported on that entry, never thrown.
 */
export async function discoverPlugins(dirs: string[]): Promise<DiscoveredPlugin[]> {
  const found: DiscoveredPlugin[] = [];
  const firstDirById = new Map<string, string>();
  for (const root of dirs) {
    for (const dir of await pluginFolders(resolve(root))) {
      const result = await readManifest(dir);
      if (!result.ok) {
        found.push({ dir, id: await guessId(dir), error: result.errors.join('; ') });
        continue;
      }
      const { manifest } = result;
      const first = firstDirById.get(manifest.id);
      if (first !== undefined) {
        found.push({ dir, id: manifest.id, error: `duplicate plugin id "${manifest.id}": already provided by ${first}` });
        continue;
      }
      firstDirById.set(manifest.id, dir);
      found.push({ dir, id: manifest.id, manifest });
    }
  }
  return found;
}

async function pluginFolders(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
  const folders: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const dir = join(root, entry.name);
    // Symlinked plugin folders are common in development (npm link), so follow links.
    if (!entry.isDirectory() && !(entry.isSymbolicLink() && (await isDirectory(dir)))) continue;
    if (await exists(join(dir, MANIFEST_FILE))) folders.push(dir);
  }
  return folders;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** For a plugin with a broken manifest, still name it by its id when one can be read, so admins recognise it. */
async function guessId(dir: string): Promise<string> {
  try {
    const json = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as { id?: unknown };
    if (typeof json.id === 'string' && json.id.length > 0) return json.id;
  } catch {
    // Unreadable or malformed: the folder name is the best we have.
  }
  return basename(dir);
}
