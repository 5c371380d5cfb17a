/**
 * `switchboard-plugin validate [DIR]`: the manifest through core's own
 * validator, then the code: a TypeScript check of the plugin's files (only
 * their diagnostics are reported) and an import of `main`, which must
 * default-export definePlugin({...}).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type ts from 'typescript';
import { validateManifest, type PluginManifest } from '@switchboard/core/registry';
import { isDefinedPlugin } from '../define-plugin.ts';
import { SdkCliError } from './cli-error.ts';

export interface ValidateOptions {
  typecheck?: boolean;
}

/** Read and validate `<dir>/plugin.json`; returns the raw JSON and the defaults-filled manifest. */
export async function loadPluginManifest(dir: string): Promise<{ raw: unknown; manifest: PluginManifest }> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(dir, 'plugin.json'), 'utf8'));
  } catch (err) {
    throw new SdkCliError('SDK_ERR_MANIFEST_INVALID', `${join(dir, 'plugin.json')}: ${(err as Error).message}`);
  }
  const result = validateManifest(raw);
  if (!result.ok) throw new SdkCliError('SDK_ERR_MANIFEST_INVALID', result.errors.join('; '), { errors: result.errors });
  return { raw, manifest: result.manifest };
}

export async function validatePlugin(dirArg: string, options: ValidateOptions = {}): Promise<PluginManifest> {
  const dir = resolve(dirArg);
  const { manifest } = await loadPluginManifest(dir);
  if (options.typecheck !== false) await typecheck(dir, await tsFiles(dir));
  const main = resolve(dir, manifest.main);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(main).href)) as { default?: unknown };
  } catch (err) {
    throw new SdkCliError('SDK_ERR_MAIN_INVALID', `cannot import ${main}: ${(err as Error).message}`);
  }
  if (!isDefinedPlugin(mod.default)) throw new SdkCliError('SDK_ERR_MAIN_INVALID', main);
  return manifest;
}

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    if (depth > 20) return;
    for (const entry of await readdir(d, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path, depth + 1);
      else if (entry.isFile() && /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
    }
  };
  if ((await stat(dir)).isDirectory()) await walk(dir, 0);
  return out.sort();
}

async function typecheck(dir: string, files: string[]): Promise<void> {
  if (files.length === 0) return;
  // Loaded only here: the other commands should not pay for the compiler.
  const ts = (await import('typescript')).default;
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    resolveJsonModule: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    types: ['node'],
    // @types as the SDK sees them, whatever folder the author runs the CLI from.
    typeRoots: [dirname(dirname(createRequire(import.meta.url).resolve('@types/node/package.json')))],
  };
  const program = ts.createProgram(files, options);
  const own = resolve(dir) + sep;
  // The SDK and core are type-checked in their own repository; report only the plugin's problems.
  const problems = ts.getPreEmitDiagnostics(program)
    .filter((d) => !d.file || resolve(d.file.fileName).startsWith(own))
    .map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file || d.start === undefined) return text;
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      return `${d.file.fileName.slice(own.length)}:${line + 1}:${character + 1} TS${d.code}: ${text}`;
    });
  if (problems.length > 0) throw new SdkCliError('SDK_ERR_TYPECHECK_FAILED', `${problems.length} error(s)`, { errors: problems });
}
