// REGISTER benchmark: sipp registers users with digest authentication
// (test/sipp/uac-register-auth.xml) against Kamailio 5.6 (registrar, usrloc,
// auth_db on a local database) and against a Switchboard host (its
// registrar, users in SQLite or MariaDB), in one run. Per target: memory per
// registered user (RSS before and after registering 5,000 distinct users),
// then the highest rate with no failure, and latency and CPU at a fixed
// moderate rate. See bench/README.md.
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { freePort, sippBinary } from '../test/helpers/sipp.ts';
import { kamailioBinary } from './kamailio/kamailio-peer.ts';
import { computeRatio, formatTables, writeRegisterResults, type MemoryRun, type RegisterBenchReport, type RegisterTargetResult } from './register-report.ts';
import { maxCleanRate, registerLadder, runRegisterStep, type RegisterStep, type SippLoad } from './register-steps.ts';
import { startRegisterTarget, targetLabel, type BenchDb, type RegisterTarget, type RegisterTargetKind, type SwitchboardHostKind } from './register-targets.ts';
import { userNames, writeSippUsers } from './register-users.ts';

const DOMAIN = 'bench.example';
// Up to 16,000/s: Kamailio was still clean at 6,000/s on a 2-core Intel machine, and the ratio needs its real maximum.
const DEFAULT_RATES = [25, 50, 100, 200, 400, 700, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 10000, 12000, 16000];
const ALL_TARGETS: RegisterTargetKind[] = ['kamailio', 'switchboard'];
/** Users registered before the "before" snapshot, so code paths, JIT and pools are warm. */
const WARM_USERS = 100;
/** After the warm-up: long enough for tm's 5 s wait timer and Switchboard's queued binding writes. */
const SETTLE_MS = 6000;
/**
 * After the 5,000 registrations: a UDP non-INVITE server transaction lives
 * on for Timer J (64*T1 = 32 s) after its final response in the engine, so
 * the "after" snapshot waits that out and counts bindings, not transactions;
 * and the host's compaction once they have drained (runtime.compactWhenIdle,
 * read every 2 s): 40 s.
 */
const AFTER_SETTLE_MS = 40_000;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function versionOf(cmd: string, args: string[], pattern: RegExp): string {
  const out = spawnSync(cmd, args, { encoding: 'utf8' });
  return pattern.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'unknown';
}

const sleep = (msDelay: number) => new Promise((r) => setTimeout(r, msDelay));

function describeStep(s: RegisterStep): string {
  const lat = s.p99Ms === undefined ? '' : ` p50 ${s.p50Ms} ms p99 ${s.p99Ms} ms (auth leg p99 ${s.authP99Ms} ms),`;
  const verdict = s.clean ? 'clean' : `NOT clean (${s.reason})`;
  return `    ${String(s.rate).padStart(5)}/s: ${s.successful}/${s.calls} ok, achieved ${s.achievedRate.toFixed(0)}/s,${lat} `
    + `CPU ${s.cpuPct.toFixed(0)}% (sipp ${s.sippCpuPct.toFixed(0)}%), mem ${(s.peakMemKb / 1024).toFixed(0)} MiB - ${verdict}`;
}

interface Settings {
  db: BenchDb;
  rates: number[];
  stepSeconds: number;
  fixedRate: number;
  users: number;
  memoryRate: number;
  usrlocDbMode: number;
  kamailioChildren: number;
  /** sip.engineThread of the Switchboard host; unset: the build's own (config/default.json: "main"). */
  engineThread?: 'main' | 'worker';
  /** The registrar build as shipped (default), or the host from source through tsx. */
  switchboardHost: SwitchboardHostKind;
}

async function memoryRun(target: RegisterTarget, load: SippLoad, warmLoad: SippLoad, s: Settings): Promise<MemoryRun> {
  // Warm-up with users outside the measured set.
  await runRegisterStep(target, warmLoad, { rate: 50, calls: WARM_USERS, traced: false, failFast: false, timeoutMs: 30_000 });
  await sleep(SETTLE_MS);
  const before = await target.memory();
  say(`    before: RSS ${(before.rssKb / 1024).toFixed(1)} MiB${before.heapUsedKb !== undefined ? `, heap ${(before.heapUsedKb / 1024).toFixed(1)} MiB` : ''}${before.detail ? ` (${before.detail})` : ''}; registering ${s.users} users at ${s.memoryRate}/s`);
  const step = await runRegisterStep(target, load, {
    rate: s.memoryRate,
    calls: s.users,
    traced: false,
    failFast: false,
    timeoutMs: Math.ceil((s.users / s.memoryRate) * 1000) + 30_000,
  });
  say(`    registered ${step.successful}/${s.users}; waiting ${AFTER_SETTLE_MS / 1000} s for transactions to end`);
  await sleep(AFTER_SETTLE_MS);
  const after = await target.memory();
  const run: MemoryRun = { registered: step.successful, asked: s.users, rate: s.memoryRate, before, after };
  if (step.successful > 0) {
    run.rssBytesPerUser = ((after.rssKb - before.rssKb) * 1024) / step.successful;
    if (before.heapUsedKb !== undefined && after.heapUsedKb !== undefined) run.heapBytesPerUser = ((after.heapUsedKb - before.heapUsedKb) * 1024) / step.successful;
  }
  if (!step.clean) run.error = step.reason;
  if (target.storedBindings) run.storedBindings = await target.storedBindings();
  say(`    after:  RSS ${(after.rssKb / 1024).toFixed(1)} MiB${after.heapUsedKb !== undefined ? `, heap ${(after.heapUsedKb / 1024).toFixed(1)} MiB` : ''}${after.detail ? ` (${after.detail})` : ''}; `
    + `${step.successful}/${s.users} registered (${step.retransmissions} retransmissions)`
    + `${run.rssBytesPerUser !== undefined ? `, ${(run.rssBytesPerUser / 1024).toFixed(2)} KiB RSS per user` : ''}`
    + `${run.storedBindings !== undefined ? `, ${run.storedBindings} bindings in the database` : ''}`);
  return run;
}

async function benchTarget(kind: RegisterTargetKind, s: Settings): Promise<RegisterTargetResult> {
  const label = targetLabel(kind, s.kamailioChildren, s.engineThread, s.switchboardHost);
  const result: RegisterTargetResult = { target: kind, label, maxCleanRate: 0, limitedBySipp: false, peakRssKb: 0, steps: [] };
  say(`\n${label}`);
  const workDir = mkdtempSync(join(tmpdir(), `register-bench-${kind}-`));
  const warm = userNames('w', WARM_USERS);
  const users = userNames('u', s.users);
  const load: SippLoad = { injectFile: join(workDir, 'users.csv'), domain: DOMAIN, localPort: await freePort('udp') };
  const warmLoad: SippLoad = { ...load, injectFile: join(workDir, 'warm.csv') };
  writeSippUsers(load.injectFile, users);
  writeSippUsers(warmLoad.injectFile, warm);
  let target: RegisterTarget | undefined;
  try {
    const started = Date.now();
    target = await startRegisterTarget(kind, {
      port: await freePort('udp'),
      domain: DOMAIN,
      users: [...warm, ...users],
      db: s.db,
      workDir,
      kamailioUsrlocDbMode: s.usrlocDbMode,
      kamailioChildren: s.kamailioChildren,
      ...(s.engineThread ? { engineThread: s.engineThread } : {}),
      switchboardHost: s.switchboardHost,
    });
    say(`    started with ${warm.length + users.length} users in ${s.db} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    result.memory = await memoryRun(target, load, warmLoad, s);
    say(`    rate steps of ${s.stepSeconds} s:`);
    result.steps = await registerLadder(target, load, {
      rates: s.rates,
      stepSeconds: s.stepSeconds,
      traceMaxRate: s.fixedRate,
      onStep: (step) => say(describeStep(step)),
    });
    if (!result.steps.some((x) => x.rate === s.fixedRate)) {
      const extra = await runRegisterStep(target, load, { rate: s.fixedRate, calls: s.fixedRate * s.stepSeconds, traced: true, failFast: true, timeoutMs: s.stepSeconds * 1000 + 8000 });
      say(describeStep(extra));
      result.steps.push(extra);
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message.split('\n')[0] : String(err);
    say(`    failed: ${result.error}`);
  } finally {
    await target?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  result.maxCleanRate = maxCleanRate(result.steps);
  result.peakRssKb = Math.max(0, ...result.steps.map((x) => x.peakMemKb));
  result.limitedBySipp = result.steps.find((x) => !x.clean)?.reason?.startsWith('sipp reached only') ?? false;
  const fixed = result.steps.find((x) => x.rate === s.fixedRate);
  if (fixed) result.atFixedRate = fixed;
  return result;
}

function numberList(value: string | undefined, fallback: number[]): number[] {
  if (!value) return fallback;
  const list = value.split(',').map(Number);
  if (list.some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`not a list of positive numbers: ${value}`);
  return list;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      targets: { type: 'string' },
      db: { type: 'string' },
      rates: { type: 'string' },
      'step-seconds': { type: 'string' },
      'fixed-rate': { type: 'string' },
      users: { type: 'string' },
      'memory-rate': { type: 'string' },
      'usrloc-db-mode': { type: 'string' },
      'kamailio-children': { type: 'string' },
      'engine-thread': { type: 'string' },
      host: { type: 'string' },
    },
  });
  const targets = (values.targets ? values.targets.split(',') : ALL_TARGETS) as RegisterTargetKind[];
  for (const t of targets) if (!ALL_TARGETS.includes(t)) throw new Error(`unknown target ${t}; use ${ALL_TARGETS.join(', ')}`);
  const db = (values.db ?? 'sqlite') as BenchDb;
  if (db !== 'sqlite' && db !== 'mariadb') throw new Error(`--db is sqlite or mariadb, not ${db}`);
  const fixedRate = Number(values['fixed-rate'] ?? 50);
  const s: Settings = {
    db,
    // The fixed rate is always one of the steps, so its latency comes from the ladder.
    rates: [...new Set([...numberList(values.rates, DEFAULT_RATES), fixedRate])].sort((a, b) => a - b),
    stepSeconds: Number(values['step-seconds'] ?? 5),
    fixedRate,
    users: Number(values.users ?? 5000),
    memoryRate: Number(values['memory-rate'] ?? 60),
    usrlocDbMode: Number(values['usrloc-db-mode'] ?? 0),
    kamailioChildren: Number(values['kamailio-children'] ?? 2),
    ...(values['engine-thread'] !== undefined ? { engineThread: values['engine-thread'] as 'main' | 'worker' } : {}),
    switchboardHost: (values.host ?? 'build') as SwitchboardHostKind,
  };
  if (s.switchboardHost !== 'build' && s.switchboardHost !== 'source') throw new Error('--host is build or source');
  if (s.engineThread !== undefined && s.engineThread !== 'main' && s.engineThread !== 'worker') throw new Error('--engine-thread is main or worker');
  if (![0, 1, 2].includes(s.usrlocDbMode)) throw new Error('--usrloc-db-mode is 0, 1 or 2');

  sippBinary();
  if (targets.includes('kamailio')) kamailioBinary();
  const report: RegisterBenchReport = {
    startedAt: new Date().toISOString(),
    finishedAt: '',
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
      node: process.version,
      sipp: versionOf('sipp', ['-v'], /SIPp v(\d+\.\d+\.\d+)/),
      kamailio: versionOf('kamailio', ['-v'], /version: kamailio (\S+)/),
    },
    settings: {
      db: s.db, rates: s.rates, stepSeconds: s.stepSeconds, fixedRate: s.fixedRate, users: s.users, memoryRate: s.memoryRate,
      kamailioUsrlocDbMode: s.usrlocDbMode, kamailioChildren: s.kamailioChildren, algorithm: 'MD5', transport: 'udp',
    },
    results: [],
  };
  say(`REGISTER benchmark: sipp ${report.machine.sipp} over UDP, digest MD5 qop=auth, users in ${s.db}; `
    + `${report.machine.cpus} CPUs (${report.machine.cpuModel}), load average ${report.machine.loadAverage.join(' ')}`);
  say(`Kamailio usrloc db_mode ${s.usrlocDbMode}; steps of ${s.stepSeconds} s at ${s.rates.join(', ')} calls/s; latency at ${s.fixedRate}/s; ${s.users} users at ${s.memoryRate}/s for memory`);
  for (const kind of targets) report.results.push(await benchTarget(kind, s));
  report.finishedAt = new Date().toISOString();
  const ratio = computeRatio(report.results);
  if (ratio !== undefined) report.ratio = ratio;
  say(`\n${formatTables(report)}`);
  if (ratio !== undefined) say(`Switchboard/Kamailio max clean rate: ${ratio.toFixed(2)}x (aim: >= 0.5x)`);
  const sb = report.results.find((r) => r.target === 'switchboard')?.memory;
  if (sb) say(`Switchboard RSS with ${sb.registered} users registered: ${(sb.after.rssKb / 1024).toFixed(1)} MiB (aim: well under 100 MB)`);
  const files = writeRegisterResults(report);
  say(`\nResults: ${files.join(', ')}`);
}
