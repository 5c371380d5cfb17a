/**
 * `npm run build` (run by `npm ci`/`npm install` through `prepare`): compile
 * the repository's core, sdk and plugins to dist/ folders. The plugin
 * folders are plugins/ and every folder a build profile
 * (config/profiles/*.json) draws plugins from, with core's start-up bundle
 * and the precompiled schema validators. Offline; about five seconds.
 * A plugin that does not compile is reported and left to run as TypeScript.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { SOURCE_ROOT, compileUnits, treeUnits } from './compile-code.ts';

async function profilePluginDirs(root: string): Promise<string[]> {
  const dir = join(root, 'config', 'profiles');
  const dirs: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue;
    try {
      const profile = JSON.parse(await readFile(join(dir, name), 'utf8')) as { pluginDirs?: unknown };
      if (Array.isArray(profile.pluginDirs)) dirs.push(...profile.pluginDirs.filter((d): d is string => typeof d === 'string'));
    } catch {
      // A broken profile is `switchboard build`'s to report, not the install's.
    }
  }
  return dirs;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const units = await treeUnits(SOURCE_ROOT, await profilePluginDirs(SOURCE_ROOT));
  const results = await compileUnits(SOURCE_ROOT, units);
  const files = results.reduce((n, r) => n + r.files, 0);
  for (const r of results.filter((x) => x.error)) {
    process.stderr.write(`switchboard build: ${relative(SOURCE_ROOT, r.dir)} not compiled (it will run as TypeScript through tsx): ${r.error}\n`);
  }
  for (const r of results) {
    if (r.bundle && 'error' in r.bundle) process.stderr.write(`switchboard build: the start-up bundle (core/dist/bundle) was not made (core/dist runs instead): ${r.bundle.error}\n`);
  }
  for (const skipped of results.flatMap((r) => r.validators?.skipped ?? [])) {
    process.stderr.write(`switchboard build: a validator is left to compile at start: ${skipped}\n`);
  }
  const validators = results.reduce((n, r) => n + (r.validators?.files ?? 0), 0);
  const bundle = results.find((r) => r.bundle && !('error' in r.bundle))?.bundle as { files: number; packages: number } | undefined;
  const bundled = `, ${validators} schema validators${bundle ? `, start-up bundle of ${bundle.files} files with ${bundle.packages} packages` : ''}`;
  process.stdout.write(`switchboard: compiled ${files} files in ${results.length - results.filter((r) => r.error).length} folders to dist/${bundled} in ${(performance.now() - t0).toFixed(0)} ms\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`switchboard build: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
