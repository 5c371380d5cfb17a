// Startup benchmark: how long the host takes from nothing to serving.
//
// 1. Cold start through the real bin: spawn `switchboard start --config F`
//    (the good fixture plugins enabled through plugins.dirs, a temp SQLite
//    file) and time from spawn until GET /api/health answers 200. Measured
//    on a fresh database (migrations, bootstrap admin) and on the database
//    of an earlier run (an ordinary restart). The bin runs the compiled
//    JavaScript (core/dist, sdk/dist, each plugin's dist/, made by
//    `npm run build`, which `npm ci` runs); when dist/ is missing or older
//    than the sources the benchmark builds it first, so what is measured is
//    the current code.
// 2. For comparison, a few cold starts of the TypeScript through tsx (what
//    the bin falls back to without a build).
// 3. In-process: SwitchboardHost.start() in this process, modules already
//    loaded, with the host's own per-phase breakdown.
// 4. The trimmed branch build (bench/build-size.ts): size and cold start.
//
// Prints a table and the verdict against the aim (compiled cold start < 1 s),
// and writes bench/results/startup-<time>.json and startup-latest.json.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BIN, REPO_ROOT, cleanEnv, freePort } from '../test/host-cli-helpers.ts';
import { compiledIsFresh } from '../core/bin/compiled.js';
import { cpuTimeMs } from './proc-stats.ts';
import { compileUnits, treeUnits } from '../core/src/build/compile-code.ts';

/** The start-up bundle's own marker (core/src/build/bundle-code.ts), relative to core/. */
const BUNDLE_MARKER = join('dist', 'bundle', '.compiled.json');

const AIM_MS = 1000;
const GOOD_PLUGINS = fileURLToPath(new URL('../test/fixtures/plugins/good', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const SPAWN_TIMEOUT_MS = 60_000;
/** The TypeScript entry point, run as the bin does without a build. */
const TS_BIN = fileURLToPath(new URL('../core/bin/switchboard.ts', import.meta.url));

interface Stats {
  runs: number[];
  min: number;
  median: number;
  max: number;
}

interface StartupReport {
  at: string;
  machine: { cpus: number; model: string; node: string };
  aimMs: number;
  /** What the bin ran: the start-up bundle (core/dist/bundle), the compiled JavaScript one file per module (dist/), or the TypeScript through tsx. */
  mode: 'bundle' | 'compiled' | 'tsx';
  coldFreshDb: Stats;
  coldExistingDb: Stats;
  cpuFreshDb: Stats;
  cpuExistingDb: Stats;
  /** Resident memory of the host when health first answered (MiB), existing database. */
  rssMiB: Stats;
  /** The same host run as TypeScript through tsx (no build), existing database. */
  tsx?: { cold: Stats; cpu: Stats; rssMiB: Stats };
  inProcess: Stats;
  inProcessPhases: Array<{ phase: string; medianMs: number }>;
  pluginsAtHealth?: { ready: number; failed: number };
  loadAverage: number[];
  verdict: string;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function stats(runs: number[]): Stats {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { runs, min: sorted[0] ?? NaN, median, max: sorted[sorted.length - 1] ?? NaN };
}

async function writeConfig(dir: string, dbFile: string): Promise<{ file: string; port: number }> {
  const file = join(dir, 'switchboard.json');
  const port = await freePort();
  await writeFile(file, JSON.stringify({
    http: { host: '127.0.0.1', port },
    sip: { contacts: [`sip:127.0.0.1:${await freePort(true)};transport=udp,tcp`], engine: 'embedded' },
    storage: { url: `sqlite:${dbFile}` },
    sites: [{ domain: 'bench.test' }],
    admin: { password: 'startup-bench-password' },
    plugins: { dirs: [GOOD_PLUGINS] },
    log: { level: 'warn' },
  }));
  return { file, port };
}

interface Healthy {
  at: number;
  /** The plugin counts health reported (the repository's plugins/ load too, besides the fixtures). */
  plugins?: { ready: number; failed: number };
}

/** GET /api/health until 200; resolves with the time it first answered. */
async function waitHealthy(url: string, exited: () => string | undefined, deadline: number): Promise<Healthy> {
  for (;;) {
    const why = exited();
    if (why) throw new Error(why);
    if (performance.now() > deadline) throw new Error(`no 200 from ${url} within ${SPAWN_TIMEOUT_MS} ms`);
    try {
      const res = await fetch(url);
      const body = await res.text();
      if (res.status === 200) {
        const at = performance.now();
        return { at, plugins: (JSON.parse(body) as { plugins?: Healthy['plugins'] }).plugins };
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

let lastPlugins: Healthy['plugins'];
/** CPU (user + system) the host process had used when health first answered, per cold start. */
const cpuAtHealth: number[] = [];
/** Resident memory (MiB) of the host when health first answered, per cold start. */
const rssAtHealth: number[] = [];

function rssMiBOf(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}


/** How the host is started: the real bin (compiled when built), or the TypeScript through tsx. */
type Launch = 'bin' | 'tsx';

/** One spawn of the real bin: ms from spawn to the first 200 of /api/health, then SIGTERM. */
async function coldStart(configFile: string, port: number, launch: Launch = 'bin'): Promise<number> {
  let output = '';
  let exit: string | undefined;
  const args = launch === 'bin' ? [BIN, 'start', '--config', configFile] : ['--import', 'tsx', TS_BIN, 'start', '--config', configFile];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: cleanEnv() });
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', (code, signal) => {
    exit ??= `host exited (${code ?? signal}) before it was healthy:\n${output}`;
    resolve();
  }));
  try {
    const healthy = await waitHealthy(`http://127.0.0.1:${port}/api/health`, () => exit, t0 + SPAWN_TIMEOUT_MS);
    lastPlugins = healthy.plugins;
    const cpu = child.pid === undefined ? undefined : cpuTimeMs(child.pid);
    if (cpu !== undefined) cpuAtHealth.push(cpu);
    const rss = child.pid === undefined ? undefined : rssMiBOf(child.pid);
    if (rss !== undefined) rssAtHealth.push(rss);
    return healthy.at - t0;
  } finally {
    exit ??= 'stopping';
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(kill);
  }
}

async function coldStarts(runs: number, freshDb: boolean, launch: Launch = 'bin'): Promise<number[]> {
  const out: number[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'sb-bench-startup-'));
  try {
    for (let i = 0; i < runs; i++) {
      const db = freshDb ? join(dir, `fresh-${i}.db`) : join(dir, 'existing.db');
      const { file, port } = await writeConfig(dir, db);
      // The "existing" series starts from a database an unmeasured run created.
      if (!freshDb && i === 0) await coldStart(file, port, launch);
      out.push(await coldStart(file, port, launch));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

async function inProcessStarts(runs: number): Promise<{ times: number[]; phases: Array<Array<{ phase: string; ms: number }>> }> {
  const { SwitchboardHost } = await import('../core/src/host/host.ts');
  const { loadConfig } = await import('../core/src/config/index.ts');
  const dir = await mkdtemp(join(tmpdir(), 'sb-bench-inproc-'));
  const times: number[] = [];
  const phases: Array<Array<{ phase: string; ms: number }>> = [];
  try {
    for (let i = 0; i < runs; i++) {
      const { file } = await writeConfig(dir, join(dir, `inproc-${i}.db`));
      const config = loadConfig({ file, env: {}, overrides: { log: { level: 'silent' } } });
      const t0 = performance.now();
      const host = await SwitchboardHost.start({ config });
      times.push(performance.now() - t0);
      phases.push(host.bootPhases.map((p) => ({ ...p })));
      await host.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { times, phases };
}

function loadText(): string {
  return loadavg().map((l) => l.toFixed(1)).join(' ');
}

function fmt(ms: number): string {
  return `${ms.toFixed(0)} ms`;
}

/**
 * The compiled code the bin runs: core, sdk, plugins/ and the fixture plugins. When
 * any of it is missing or older than its sources, build it (`npm run build`).
 */
async function ensureCompiled(): Promise<void> {
  const units = await treeUnits(REPO_ROOT, [GOOD_PLUGINS]);
  if (units.every((u) => compiledIsFresh(u.dir)) && compiledIsFresh(join(REPO_ROOT, 'core'), BUNDLE_MARKER)) return;
  say('  dist/ is missing or older than the sources: compiling first (npm run build)');
  const results = await compileUnits(REPO_ROOT, units);
  for (const r of results.filter((x) => x.error)) say(`  not compiled: ${r.dir}: ${r.error}`);
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { runs: { type: 'string', default: '7' }, 'tsx-runs': { type: 'string', default: '3' } }, allowPositionals: false });
  const runs = Math.max(1, Math.min(50, Number(values.runs) || 7));
  const tsxRuns = Math.max(0, Math.min(50, Number(values['tsx-runs']) || 0));
  say(`startup: ${runs} runs each; aim: cold start under ${fmt(AIM_MS)}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
  await ensureCompiled();
  const compiled = compiledIsFresh(join(REPO_ROOT, 'core')) && compiledIsFresh(join(REPO_ROOT, 'sdk'));
  const mode = !compiled ? 'tsx' : compiledIsFresh(join(REPO_ROOT, 'core'), BUNDLE_MARKER) ? 'bundle' : 'compiled';
  const modes = { bundle: 'the start-up bundle (core/dist/bundle) and the compiled plugins', compiled: 'the compiled JavaScript, one file per module (dist/; the bundle is missing or stale)', tsx: 'the TypeScript through tsx (dist/ went stale while measuring)' };
  say(`  the bin runs: ${modes[mode]}`);

  cpuAtHealth.length = 0;
  rssAtHealth.length = 0;
  const fresh = stats(await coldStarts(runs, true));
  const freshCpu = stats([...cpuAtHealth]);
  cpuAtHealth.length = 0;
  rssAtHealth.length = 0;
  say(`  cold start, fresh database: ${fresh.runs.map(fmt).join(', ')} (CPU ${freshCpu.runs.map(fmt).join(', ')}; load average ${loadText()})`);
  const existing = stats(await coldStarts(runs, false));
  // The first run of this series only creates the database and is not measured.
  const existingCpu = stats(cpuAtHealth.slice(1));
  const rss = stats(rssAtHealth.slice(1));
  say(`  cold start, existing database: ${existing.runs.map(fmt).join(', ')} (CPU ${existingCpu.runs.map(fmt).join(', ')}; load average ${loadText()})`);
  // Other work in the same checkout can make a plugin's dist/ stale mid-run: that plugin then runs through tsx and inflates the figures.
  const staleNow = (await treeUnits(REPO_ROOT, [GOOD_PLUGINS])).filter((u) => !compiledIsFresh(u.dir));
  if (staleNow.length > 0) say(`  WARNING: went stale while measuring (ran through tsx for part of the runs): ${staleNow.map((u) => u.dir.slice(REPO_ROOT.length)).join(', ')}`);
  say(`  plugins at health: ${lastPlugins ? `${lastPlugins.ready} ready, ${lastPlugins.failed} failed (fixtures plus the repository's plugins/)` : 'unknown'}`);

  let tsx: StartupReport['tsx'];
  if (tsxRuns > 0) {
    cpuAtHealth.length = 0;
    rssAtHealth.length = 0;
    const cold = stats(await coldStarts(tsxRuns, false, 'tsx'));
    tsx = { cold, cpu: stats(cpuAtHealth.slice(1)), rssMiB: stats(rssAtHealth.slice(1)) };
    say(`  for comparison, TypeScript through tsx (no build), existing database: ${cold.runs.map(fmt).join(', ')} (load average ${loadText()})`);
  }
  const inproc = await inProcessStarts(runs);
  const inProcess = stats(inproc.times);
  say(`  SwitchboardHost.start() in process: ${inProcess.runs.map(fmt).join(', ')} (load average ${loadText()})`);

  const phaseNames = inproc.phases[0]?.map((p) => p.phase) ?? [];
  const inProcessPhases = phaseNames.map((phase) => ({
    phase,
    medianMs: stats(inproc.phases.map((run) => run.find((p) => p.phase === phase)?.ms ?? 0)).median,
  }));

  say('');
  say('| measurement | min | median | max |');
  say('|---|---|---|---|');
  say(`| spawn → /api/health 200, fresh database | ${fmt(fresh.min)} | ${fmt(fresh.median)} | ${fmt(fresh.max)} |`);
  say(`| spawn → /api/health 200, existing database | ${fmt(existing.min)} | ${fmt(existing.median)} | ${fmt(existing.max)} |`);
  say(`| host CPU (user+sys) until 200, fresh database | ${fmt(freshCpu.min)} | ${fmt(freshCpu.median)} | ${fmt(freshCpu.max)} |`);
  say(`| host CPU (user+sys) until 200, existing database | ${fmt(existingCpu.min)} | ${fmt(existingCpu.median)} | ${fmt(existingCpu.max)} |`);
  const mib = (x: number) => `${x.toFixed(0)} MiB`;
  say(`| host RSS at first 200, existing database | ${mib(rss.min)} | ${mib(rss.median)} | ${mib(rss.max)} |`);
  if (tsx) {
    say(`| tsx (no build): spawn → 200, existing database | ${fmt(tsx.cold.min)} | ${fmt(tsx.cold.median)} | ${fmt(tsx.cold.max)} |`);
    say(`| tsx (no build): host CPU until 200 | ${fmt(tsx.cpu.min)} | ${fmt(tsx.cpu.median)} | ${fmt(tsx.cpu.max)} |`);
    say(`| tsx (no build): host RSS at first 200 | ${mib(tsx.rssMiB.min)} | ${mib(tsx.rssMiB.median)} | ${mib(tsx.rssMiB.max)} |`);
  }
  say(`| SwitchboardHost.start() in process | ${fmt(inProcess.min)} | ${fmt(inProcess.median)} | ${fmt(inProcess.max)} |`);
  say('');
  say('In-process phases (median):');
  for (const p of inProcessPhases) say(`  ${p.phase.padEnd(24)} ${fmt(p.medianMs)}`);

  const worst = Math.max(fresh.median, existing.median);
  const load = loadavg()[0]!;
  const busy = load > cpus().length ? ` — the machine was busy (load average ${load.toFixed(1)} on ${cpus().length} CPUs), so wall times are inflated; the host CPU time until 200 (median ${fmt(existingCpu.median)}) is the steadier figure` : '';
  const verdict = worst < AIM_MS
    ? `met: median cold start (${mode}) ${fmt(worst)} < ${fmt(AIM_MS)}`
    : `NOT met: median cold start (${mode}) ${fmt(worst)} >= ${fmt(AIM_MS)} (best run ${fmt(Math.min(fresh.min, existing.min))})${busy}`;
  say('');
  say(`Aim (cold start < ${fmt(AIM_MS)}): ${verdict}`);

  const report: StartupReport = {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
    aimMs: AIM_MS,
    mode,
    coldFreshDb: fresh,
    coldExistingDb: existing,
    cpuFreshDb: freshCpu,
    cpuExistingDb: existingCpu,
    rssMiB: rss,
    ...(tsx ? { tsx } : {}),
    inProcess,
    inProcessPhases,
    ...(lastPlugins ? { pluginsAtHealth: lastPlugins } : {}),
    loadAverage: loadavg(),
    verdict,
  };
  await mkdir(RESULTS, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  await writeFile(join(RESULTS, `startup-${report.at.replace(/[:.]/g, '-')}.json`), json);
  await writeFile(join(RESULTS, 'startup-latest.json'), json);

  // Issue 8 asks `npm run bench -- startup` to report the branch build too (its cold start and size on disk).
  say('startup: the trimmed branch build (config/profiles/branch.json)');
  await (await import('./build-size.ts')).run(['--runs', String(Math.min(runs, 3))]);
}
