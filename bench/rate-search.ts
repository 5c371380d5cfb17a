// Finds the highest call rate a target sustains cleanly: sipp (UDP) at a
// series of fixed rates, each for a few seconds, stopping at the first step
// with a failed call, a retransmission, or a rate sipp itself could not reach.
import { responseLatencies, runSipp } from '../test/helpers/sipp.ts';
import { CpuWatcher, MemorySampler, totalCpuMs } from './proc-stats.ts';
import type { BenchTarget } from './sip-targets.ts';

export interface Workload {
  id: 'message' | 'register' | 'invite';
  label: string;
  /** Scenario under test/sipp. */
  scenario: string;
}

export const WORKLOADS: Workload[] = [
  { id: 'message', label: 'MESSAGE', scenario: 'uac-message.xml' },
  { id: 'register', label: 'REGISTER', scenario: 'uac-register.xml' },
  { id: 'invite', label: 'INVITE/ACK/BYE', scenario: 'uac-invite-bye.xml' },
];

export interface StepResult {
  rate: number;
  calls: number;
  successful: number;
  failed: number;
  retransmissions: number;
  /** Calls per second sipp actually achieved over the step. */
  achievedRate: number;
  clean: boolean;
  /** Why the step is not clean. */
  reason?: string;
  /**
   * Response time of each call's first request to its final response, ms,
   * from sipp's µs message log; measured only on steps up to LATENCY_MAX_RATE
   * so the logging does not slow sipp down where its own speed matters.
   */
  p50Ms?: number;
  p99Ms?: number;
  /** Peak memory of the target during the step, KiB (see MemorySampler). */
  peakMemKb: number;
  /** CPU time of the target's processes over the step, as % of one core. */
  cpuPct: number;
  /** CPU of sipp itself over the step, % of one core: near 100 means the load generator was the limit. */
  sippCpuPct: number;
  wallMs: number;
}

export interface SearchOptions {
  rates: number[];
  stepSeconds: number;
  /** Called after every step, for progress output. */
  onStep?: (step: StepResult) => void;
}

/** Steps above this rate are not latency-traced. */
export const LATENCY_MAX_RATE = 1000;

/** A sipp run that stays below this fraction of the asked rate says more about sipp than the target. */
const MIN_ACHIEVED_FRACTION = 0.9;

export function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

function round2(v: number | undefined): number | undefined {
  return v === undefined ? undefined : Math.round(v * 100) / 100;
}

export async function runStep(target: BenchTarget, workload: Workload, rate: number, stepSeconds: number): Promise<StepResult> {
  const calls = Math.round(rate * stepSeconds);
  const pids = target.pids();
  const cpuBefore = totalCpuMs(pids);
  const memory = new MemorySampler(pids);
  const sippCpu = new CpuWatcher();
  const started = Date.now();
  const traced = rate <= LATENCY_MAX_RATE;
  const res = await runSipp({
    scenario: workload.scenario,
    target: `127.0.0.1:${target.port}`,
    transport: 'u1',
    service: 'bench',
    calls,
    rate,
    timeoutMs: stepSeconds * 1000 + 8000,
    traceShortMessages: traced,
    // Retransmissions disqualify a step anyway; failing fast keeps steps short.
    // A 4 MiB socket buffer (Linux's default rmem_max here) so sipp's own
    // receive queue does not overflow in bursts and pass for the target's loss.
    extraArgs: ['-max_retrans', '2', '-recv_timeout', '4000', '-buff_size', '4194304'],
    onSpawn: (pid) => sippCpu.watch(pid),
  });
  const wallMs = Date.now() - started;
  const peakMemKb = memory.stop();
  const cpuPct = ((totalCpuMs(pids) - cpuBefore) / wallMs) * 100;
  const sippCpuPct = (sippCpu.stop() / wallMs) * 100;
  const stats = res.stats;
  const retransmissions = stats?.retransmissions ?? 0;
  const achievedRate = Number(stats?.raw['CallRate(C)'] ?? 0);
  const latencies = traced ? responseLatencies(res.shortMessages ?? '').sort((a, b) => a - b) : [];
  let reason: string | undefined;
  if (!stats) reason = `sipp gave no statistics (exit ${res.exitCode}): ${res.stderr.slice(-300)}`;
  else if (res.failed > 0) reason = `${res.failed} failed calls`;
  else if (retransmissions > 0) reason = `${retransmissions} retransmissions`;
  else if (res.successful < calls) reason = `${res.successful}/${calls} calls completed`;
  else if (achievedRate < rate * MIN_ACHIEVED_FRACTION) reason = `sipp reached only ${achievedRate.toFixed(0)}/s`;
  return {
    rate,
    calls,
    successful: res.successful,
    failed: res.failed,
    retransmissions,
    achievedRate,
    clean: reason === undefined,
    reason,
    p50Ms: round2(percentile(latencies, 50)),
    p99Ms: round2(percentile(latencies, 99)),
    peakMemKb,
    cpuPct,
    sippCpuPct,
    wallMs,
  };
}

/**
 * Steps up through `rates`; after the first unclean step, tries once halfway
 * between it and the last clean rate. Returns every step run.
 */
export async function searchMaxRate(target: BenchTarget, workload: Workload, opts: SearchOptions): Promise<StepResult[]> {
  const steps: StepResult[] = [];
  let lastClean = 0;
  for (const rate of opts.rates) {
    const step = await runStep(target, workload, rate, opts.stepSeconds);
    steps.push(step);
    opts.onStep?.(step);
    // Let transactions from the step expire before the next one.
    await new Promise((r) => setTimeout(r, 1000));
    if (!step.clean) {
      const middle = Math.round((lastClean + rate) / 2 / 100) * 100;
      if (lastClean > 0 && middle > lastClean && middle < rate) {
        const retry = await runStep(target, workload, middle, opts.stepSeconds);
        steps.push(retry);
        opts.onStep?.(retry);
      }
      break;
    }
    lastClean = rate;
  }
  return steps;
}

/** The highest clean rate among the steps (0 if none). */
export function maxCleanRate(steps: StepResult[]): number {
  return steps.filter((s) => s.clean).reduce((max, s) => Math.max(max, s.rate), 0);
}
