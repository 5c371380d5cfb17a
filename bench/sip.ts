// SIP benchmark: sipp over UDP against Kamailio 5.6 and against Switchboard's
// embedded engine (in-process and in a worker thread) running a minimal
// drachtio-srf app, for MESSAGE, REGISTER and INVITE/ACK/BYE. See
// bench/README.md for how to run it and read the table.
import { cpus } from 'node:os';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { freePort, sippBinary } from '../test/helpers/sipp.ts';
import { kamailioBinary } from './kamailio/kamailio-peer.ts';
import { totalPeakRssKb } from './proc-stats.ts';
import { WORKLOADS, maxCleanRate, searchMaxRate, type StepResult, type Workload } from './rate-search.ts';
import { formatTable, writeResults, type SipBenchReport, type TargetResult } from './sip-report.ts';
import { TARGET_LABELS, startTarget, type TargetKind } from './sip-targets.ts';

const DEFAULT_RATES = [500, 1000, 2000, 3500, 5000, 8000, 12000];
const ALL_TARGETS: TargetKind[] = ['kamailio', 'engine-inproc', 'engine-worker'];

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function versionOf(cmd: string, args: string[], pattern: RegExp): string {
  const out = spawnSync(cmd, args, { encoding: 'utf8' });
  const match = pattern.exec(`${out.stdout}${out.stderr}`);
  return match?.[1] ?? 'unknown';
}

function describeStep(s: StepResult): string {
  const lat = s.p50Ms === undefined ? '' : ` p50 ${s.p50Ms} ms p99 ${s.p99Ms} ms,`;
  const verdict = s.clean ? 'clean' : `NOT clean (${s.reason})`;
  return `    ${String(s.rate).padStart(6)}/s: ${s.successful}/${s.calls} ok, achieved ${s.achievedRate.toFixed(0)}/s,${lat} CPU ${s.cpuPct.toFixed(0)}% (sipp ${s.sippCpuPct.toFixed(0)}%), mem ${(s.peakMemKb / 1024).toFixed(0)} MiB - ${verdict}`;
}

async function benchOne(kind: TargetKind, workload: Workload, rates: number[], stepSeconds: number): Promise<TargetResult> {
  const result: TargetResult = {
    workload: workload.id,
    workloadLabel: workload.label,
    target: kind,
    maxCleanRate: 0,
    limitedBySipp: false,
    peakRssKb: 0,
    vmHwmSumKb: 0,
    steps: [],
  };
  say(`  ${TARGET_LABELS[kind]}`);
  let target;
  try {
    target = await startTarget(kind, await freePort('udp'));
  } catch (err) {
    result.error = err instanceof Error ? err.message.split('\n')[0] : String(err);
    say(`    could not start: ${result.error}`);
    return result;
  }
  try {
    result.steps = await searchMaxRate(target, workload, { rates, stepSeconds, onStep: (s) => say(describeStep(s)) });
    result.vmHwmSumKb = totalPeakRssKb(target.pids());
    result.peakRssKb = Math.max(0, ...result.steps.map((s) => s.peakMemKb));
  } finally {
    await target.stop();
  }
  result.maxCleanRate = maxCleanRate(result.steps);
  const firstUnclean = result.steps.find((s) => !s.clean);
  result.limitedBySipp = firstUnclean?.reason?.startsWith('sipp reached only') ?? false;
  const at1000 = result.steps.find((s) => s.rate === 1000);
  if (at1000) {
    result.p50MsAt1000 = at1000.p50Ms;
    result.p99MsAt1000 = at1000.p99Ms;
    result.cpuPctAt1000 = at1000.cpuPct;
    result.cleanAt1000 = at1000.clean;
  }
  return result;
}

function fasterEngineMode(results: TargetResult[], workload: string): TargetKind | undefined {
  const modes = results.filter((r) => r.workload === workload && r.target !== 'kamailio' && !r.error);
  modes.sort((a, b) => (b.maxCleanRate - a.maxCleanRate) || ((a.cpuPctAt1000 ?? Infinity) - (b.cpuPctAt1000 ?? Infinity)));
  return modes[0]?.target;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rates: { type: 'string' },
      'step-seconds': { type: 'string' },
      targets: { type: 'string' },
      workloads: { type: 'string' },
    },
  });
  const rates = values.rates ? values.rates.split(',').map(Number) : DEFAULT_RATES;
  const stepSeconds = Number(values['step-seconds'] ?? 5);
  const targets = (values.targets ? values.targets.split(',') : ALL_TARGETS) as TargetKind[];
  const workloads = values.workloads ? WORKLOADS.filter((w) => values.workloads?.split(',').includes(w.id)) : WORKLOADS;
  for (const t of targets) if (!ALL_TARGETS.includes(t)) throw new Error(`unknown target ${t}; use ${ALL_TARGETS.join(', ')}`);

  sippBinary();
  if (targets.includes('kamailio')) kamailioBinary();
  const report: SipBenchReport = {
    startedAt: new Date().toISOString(),
    finishedAt: '',
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      sipp: versionOf('sipp', ['-v'], /SIPp v(\d+\.\d+\.\d+)/),
      kamailio: versionOf('kamailio', ['-v'], /version: kamailio (\S+)/),
    },
    settings: { rates, stepSeconds, transport: 'udp' },
    results: [],
    fasterEngineMode: {},
  };
  say(`SIP benchmark: sipp ${report.machine.sipp} over UDP, ${report.machine.cpus} CPUs (${report.machine.cpuModel}), `
    + `steps of ${stepSeconds} s at ${rates.join(', ')}/s`);
  for (const workload of workloads) {
    say(`\n${workload.label} (${workload.scenario})`);
    for (const kind of targets) {
      report.results.push(await benchOne(kind, workload, rates, stepSeconds));
    }
    report.fasterEngineMode[workload.label] = fasterEngineMode(report.results, workload.id);
  }
  report.finishedAt = new Date().toISOString();
  say('\n' + formatTable(report));
  for (const [workload, mode] of Object.entries(report.fasterEngineMode)) {
    if (mode) say(`${workload}: the engine is faster ${mode === 'engine-inproc' ? 'in-process' : 'in a worker thread'}`);
  }
  const files = writeResults(report);
  say(`\nResults: ${files.join(', ')}`);
}
