// Shared by the registry, partner-plugin and trimmed-build tests: run the
// author CLI, copy a plugin under a new version, and talk to the admin API.
import { spawn } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, REPO_ROOT, type RunResult } from './host-cli-helpers.ts';

export const PLUGIN_BIN = fileURLToPath(new URL('../sdk/bin/switchboard-plugin.js', import.meta.url));
export const EXAMPLE_DIR = fileURLToPath(new URL('../sdk/examples/who-is-there', import.meta.url));

/** Run a node script to completion (killed after timeoutMs). */
export function runNode(args: string[], cwd = REPO_ROOT, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, env: cleanEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `switchboard-plugin ARGS`. */
export function pluginCli(args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return runNode([PLUGIN_BIN, ...args], REPO_ROOT, timeoutMs);
}

/** Copy a plugin folder (without tests) and set its version and, optionally, more manifest fields. */
export async function copyPluginAs(from: string, to: string, version: string, extra: Record<string, unknown> = {}): Promise<string> {
  await cp(from, to, { recursive: true, filter: (src) => !src.includes('node_modules') });
  const file = join(to, 'plugin.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  await writeFile(file, `${JSON.stringify({ ...manifest, ...extra, version }, null, 2)}\n`);
  return to;
}

/** Log in as the bootstrap admin and return a fetch that sends the token. */
export async function adminSession(url: string, password: string): Promise<(path: string, init?: RequestInit) => Promise<Response>> {
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const { token } = (await login.json()) as { token: string };
  return (path, init = {}) => fetch(`${url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      ...(typeof init.body === 'string' ? { 'content-type': 'application/json' } : {}),
      ...(init.headers ?? {}),
    },
  });
}

/** Pack, sign (when a key is given) and publish a plugin folder to a registry file; returns the tarball path. */
export async function packSignPublish(dir: string, outDir: string, registry: string, key?: string): Promise<string> {
  const packed = await pluginCli(['pack', dir, '--out', outDir, '--json']);
  if (packed.code !== 0) throw new Error(`pack failed: ${packed.stderr}`);
  const { file } = JSON.parse(packed.stdout) as { file: string };
  if (key) {
    const signed = await pluginCli(['sign', file, '--key', key]);
    if (signed.code !== 0) throw new Error(`sign failed: ${signed.stderr}`);
  }
  const published = await pluginCli(['publish', file, '--registry', registry]);
  if (published.code !== 0) throw new Error(`publish failed: ${published.stderr}`);
  return file;
}
