/**
 * The production dependency closure of a set of packages, resolved the way
 * Node resolves them (nearest node_modules upwards), so a trimmed build can
 * copy exactly the package folders it needs from an installed tree without
 * a network or a lock file.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

interface PackageJson {
  name?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

async function readPackage(dir: string): Promise<PackageJson | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/** The folder `name` resolves to from `fromDir`, walking up no further than `root`. */
async function resolvePackageDir(name: string, fromDir: string, root: string): Promise<string | undefined> {
  let dir = fromDir;
  // Bounded by the depth of fromDir below root.
  for (let i = 0; i < 64; i++) {
    const candidate = join(dir, 'node_modules', name);
    if (await isDir(candidate)) return candidate;
    if (dir === root || !dir.startsWith(root + sep)) return undefined;
    dir = dirname(dir);
  }
  return undefined;
}

/**
 * Package folders (relative to `root`, e.g. `node_modules/fastify`) needed
 * at run time by `start` packages' dependencies plus `extra` names. Missing
 * optional dependencies are skipped; a missing required one throws.
 */
export async function productionClosure(root: string, startDirs: string[], extra: string[], skip: (name: string) => boolean): Promise<string[]> {
  const found = new Set<string>();
  const work: Array<{ name: string; from: string; optional: boolean }> = [];
  const push = (pkg: PackageJson, from: string) => {
    for (const name of Object.keys(pkg.dependencies ?? {})) work.push({ name, from, optional: false });
    for (const name of Object.keys(pkg.optionalDependencies ?? {})) work.push({ name, from, optional: true });
    for (const name of Object.keys(pkg.peerDependencies ?? {})) work.push({ name, from, optional: true });
  };
  for (const dir of startDirs) {
    const pkg = await readPackage(dir);
    if (pkg) push(pkg, dir);
  }
  for (const name of extra) work.push({ name, from: root, optional: false });
  // Every package folder is visited once; the loop ends when no new folder appears.
  while (work.length > 0) {
    const { name, from, optional } = work.pop()!;
    if (skip(name)) continue;
    const dir = await resolvePackageDir(name, from, root);
    if (!dir) {
      if (optional) continue;
      throw new Error(`${name} (needed from ${relative(root, from) || '.'}) is not installed; run npm ci first`);
    }
    const rel = relative(root, dir);
    if (found.has(rel)) continue;
    found.add(rel);
    const pkg = await readPackage(dir);
    if (pkg) push(pkg, dir);
  }
  // A folder inside another copied folder comes along with it.
  const sorted = [...found].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && p.startsWith(q + sep)));
}
