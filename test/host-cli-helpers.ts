// Shared by the host CLI tests: run the real `switchboard` bin as a child
// process, bounded in time, and find free loopback ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { quietPort } from './helpers/sipp.ts';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const BIN = fileURLToPath(new URL('../core/bin/switchboard.js', import.meta.url));

/** The environment minus SWITCHBOARD_* so the developer's shell cannot leak into a test. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SWITCHBOARD_')) env[k] = v;
  return { ...env, ...extra };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion (killed after timeoutMs). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = cleanEnv(), timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env });
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

export interface RunningHost {
  child: ChildProcess;
  url: string;
  output(): { stdout: string; stderr: string };
  /** SIGTERM and wait for exit (SIGKILL after timeoutMs). */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `switchboard start --config FILE` and wait for its "listening on" line. */
export function startHost(configFile: string, env: NodeJS.ProcessEnv = cleanEnv(), timeoutMs = 120_000): Promise<RunningHost> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start', '--config', configFile], { cwd: REPO_ROOT, env });
    let stdout = '';
    let stderr = '';
    let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
    let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`host did not start within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match && !exited) {
        exited = exit;
        clearTimeout(timer);
        resolve({
          child,
          url: match[1]!,
          output: () => ({ stdout, stderr }),
          stop: (stopTimeoutMs = 20_000) => {
            stopping ??= (async () => {
              const kill = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
              child.kill('SIGTERM');
              const result = await exit;
              clearTimeout(kill);
              return result;
            })();
            return stopping;
          },
        });
      }
    });
    void exit.then(({ code }) => {
      clearTimeout(timer);
      if (!exited) reject(new Error(`host exited with ${code} before listening\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}

/** A port free on 127.0.0.1 for TCP (and UDP when `udp`); see quietPort. */
export async function freePort(udp = false): Promise<number> {
  return quietPort(udp ? ['tcp', 'udp'] : ['tcp']);
}
