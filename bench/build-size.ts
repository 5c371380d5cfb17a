// Branch build benchmark: `switchboard build --profile config/profiles/branch.json`
// into a temp folder, then its size on disk (total, node_modules, code) and
// its cold start through its own start command (node core/bin/switchboard.js
// start inside the build: spawn → first 200 from /api/health), on a fresh and
// on an existing SQLite file. Aim: branch cold start under 0.5 s.
// Prints a table; writes bench/results/build-size-<time>.json and -latest.json.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cleanEnv, freePort, runCli } from '../test/host-cli-helpers.ts';
import { cpuTimeMs } from './proc-stats.ts';

const AIM_MS = 500;
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const TIMEOUT_MS = 30_000;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await bytesUnder(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}

const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};


/** Spawn the build's start command; ms until /api/health answers 200 and the host's CPU time then; then SIGTERM and wait. */
async function coldStart(buildDir: string, configFile: string, port: number): Promise<{ ms: number; cpuMs: number }> {
  let output = '';
  let exited: string | undefined;
  const t0 = performance.now();
  const child = spawn(process.execPath, ['core/bin/switchboard.js', 'start', '--config', configFile], { cwd: buildDir, env: cleanEnv() });
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const done = new Promise<void>((resolve) => child.on('exit', (code, signal) => {
    exited ??= `build host exited (${code ?? signal}) before it was healthy:\n${output}`;
    resolve();
  }));
  try {
    for (;;) {
      if (exited) throw new Error(exited);
      if (performance.now() - t0 > TIMEOUT_MS) throw new Error(`no 200 from the build within ${TIMEOUT_MS} ms\n${output}`);
      const ok = await fetch(`http://127.0.0.1:${port}/api/health`).then((r) => r.status === 200, () => false);
      if (ok) return { ms: performance.now() - t0, cpuMs: child.pid === undefined ? NaN : cpuTimeMs(child.pid) };
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    exited ??= 'stopping';
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(kill);
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { runs: { type: 'string', default: '5' } }, allowPositionals: true });
  const runs = Math.max(1, Math.min(50, Number(values.runs)));
  const work = await mkdtemp(join(tmpdir(), 'switchboard-build-bench-'));
  try {
    const out = join(work, 'branch');
    const built = await runCli(['build', '--profile', 'config/profiles/branch.json', '--out', out, '--json'], cleanEnv(), 300_000);
    if (built.code !== 0) throw new Error(`build failed: ${built.stderr}`);
    const result = JSON.parse(built.stdout) as { plugins: Array<{ id: string }>; packages: number };
    const total = await bytesUnder(out);
    const modules = await bytesUnder(join(out, 'node_modules'));

    const port = await freePort();
    const config = join(work, 'site.json');
    const db = join(work, 'branch.db');
    await writeFile(config, JSON.stringify({
      http: { host: '127.0.0.1', port },
      sip: { contacts: [`sip:127.0.0.1:${await freePort(true)};transport=udp,tcp`] },
      storage: { url: `sqlite:${db}` },
      admin: { password: 'build-bench-password' },
      log: { level: 'warn' },
    }));
    const fresh: number[] = [];
    const existing: number[] = [];
    const freshCpu: number[] = [];
    const existingCpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      await rm(db, { force: true });
      await rm(`${db}-wal`, { force: true });
      await rm(`${db}-shm`, { force: true });
      const a = await coldStart(out, config, port);
      fresh.push(a.ms);
      freshCpu.push(a.cpuMs);
      const b = await coldStart(out, config, port);
      existing.push(b.ms);
      existingCpu.push(b.cpuMs);
    }
    const report = {
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', node: process.version },
      loadAverage: loadavg(),
      profile: 'branch',
      plugins: result.plugins.map((p) => p.id),
      packages: result.packages,
      bytes: { total, nodeModules: modules, code: total - modules },
      coldStartMs: { freshDb: { runs: fresh, median: median(fresh) }, existingDb: { runs: existing, median: median(existing) } },
      cpuMs: { freshDb: { runs: freshCpu, median: median(freshCpu) }, existingDb: { runs: existingCpu, median: median(existingCpu) } },
      aimMs: AIM_MS,
    };
    say(`branch build (${report.plugins.join(', ')}), ${result.packages} packages`);
    say(`  size on disk      ${mib(total)} (node_modules ${mib(modules)}, core + sdk + plugins + config ${mib(total - modules)})`);
    say(`  cold start, fresh database     median ${median(fresh).toFixed(0)} ms  (${fresh.map((x) => x.toFixed(0)).join(', ')}), host CPU median ${median(freshCpu).toFixed(0)} ms`);
    say(`  cold start, existing database  median ${median(existing).toFixed(0)} ms  (${existing.map((x) => x.toFixed(0)).join(', ')}), host CPU median ${median(existingCpu).toFixed(0)} ms`);
    say(`  aim < ${AIM_MS} ms: ${median(existing) < AIM_MS ? 'met' : 'NOT met'} (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
    await mkdir(RESULTS, { recursive: true });
    const json = `${JSON.stringify(report, null, 2)}\n`;
    await writeFile(join(RESULTS, `build-size-${report.at.replace(/[:.]/g, '-')}.json`), json);
    await writeFile(join(RESULTS, 'build-size-latest.json'), json);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
