// sipp runs of the REGISTER benchmark: test/sipp/uac-register-auth.xml
// (REGISTER, 401, REGISTER with Authorization, 200) at a fixed rate, with the
// target's CPU and memory read from /proc, and the step ladder that finds the
// highest rate a target sustains with no failure.
import { runSipp } from '../test/helpers/sipp.ts';
import { CpuWatcher, MemorySampler, totalCpuMs } from './proc-stats.ts';
import { percentile } from './rate-search.ts';
import type { RegisterTarget } from './register-targets.ts';

export const SCENARIO = 'uac-register-auth.xml';

export interface SippLoad {
  /** Injection file from writeSippUsers. */
  injectFile: string;
  domain: string;
  /**
   * sipp's local port, the same for every run against one target: the
   * Contact (sip:user@127.0.0.1:PORT) then stays the same, so later runs
   * refresh each user's binding instead of adding one per run (and hitting
   * the 10-bindings-per-user limit).
   */
  localPort: number;
}

export interface RegisterStep {
  /** Asked rate, calls/s; one call = REGISTER, 401, REGISTER, 200. */
  rate: number;
  calls: number;
  successful: number;
  failed: number;
  retransmissions: number;
  achievedRate: number;
  clean: boolean;
  reason?: string;
  /** First REGISTER sent to 200 received (both round trips), ms; traced steps only. */
  p50Ms?: number;
  p99Ms?: number;
  /** The authenticated REGISTER to its 200 (credential lookup + binding), ms. */
  authP99Ms?: number;
  cpuPct: number;
  sippCpuPct: number;
  /** Peak resident memory of the target during the step, KiB. */
  peakMemKb: number;
  wallMs: number;
}

/** A step below this fraction of the asked rate measured sipp, not the target. */
const MIN_ACHIEVED_FRACTION = 0.9;

/**
 * From sipp's `-trace_shortmsg` log (tab-separated: date, time, epoch µs,
 * S|R, Call-ID, CSeq, first line): per call, first request sent to the 200,
 * and the CSeq 2 (authenticated) request sent to the 200.
 */
export function registerLatencies(shortMessages: string): { full: number[]; auth: number[] } {
  const calls = new Map<string, { first: number; auth?: number; done: boolean }>();
  const full: number[] = [];
  const auth: number[] = [];
  for (const line of shortMessages.split('\n')) {
    const f = line.split('\t');
    if (f.length < 7) continue;
    const at = Number(f[2]) * 1000;
    const [dir, callId, cseq, startLine] = [f[3], f[4] as string, f[5] as string, f[6] as string];
    const isRequest = !startLine.startsWith('SIP/2.0');
    let call = calls.get(callId);
    if (dir === 'S' && isRequest) {
      if (!call) calls.set(callId, (call = { first: at, done: false }));
      // Only the first transmission of the authenticated request counts.
      if (/\b2\b/.test(cseq) && call.auth === undefined) call.auth = at;
    } else if (dir === 'R' && call && !call.done && /^SIP\/2\.0 200/.test(startLine)) {
      call.done = true;
      full.push(at - call.first);
      if (call.auth !== undefined) auth.push(at - call.auth);
    }
  }
  return { full, auth };
}

function round2(v: number | undefined): number | undefined {
  return v === undefined ? undefined : Math.round(v * 100) / 100;
}

export interface StepOptions {
  rate: number;
  calls: number;
  /** Keep the per-message log for latencies (costs sipp some CPU). */
  traced: boolean;
  /** Fail fast (2 retransmissions, 4 s receive timeout), for the rate ladder. */
  failFast: boolean;
  timeoutMs: number;
}

export async function runRegisterStep(target: RegisterTarget, load: SippLoad, opts: StepOptions): Promise<RegisterStep> {
  const pids = target.pids();
  const cpuBefore = totalCpuMs(pids);
  const memory = new MemorySampler(pids);
  const sippCpu = new CpuWatcher();
  const started = Date.now();
  const res = await runSipp({
    scenario: SCENARIO,
    target: `127.0.0.1:${target.port}`,
    transport: 'u1',
    localPort: load.localPort,
    injectFile: load.injectFile,
    keys: { domain: load.domain, expires: '3600' },
    calls: opts.calls,
    rate: opts.rate,
    timeoutMs: opts.timeoutMs,
    traceShortMessages: opts.traced,
    // 4 MiB socket buffer so sipp's own receive queue does not overflow and pass for the target's loss.
    extraArgs: [...(opts.failFast ? ['-max_retrans', '2', '-recv_timeout', '4000'] : []), '-buff_size', '4194304'],
    onSpawn: (pid) => sippCpu.watch(pid),
  });
  const wallMs = Date.now() - started;
  const peakMemKb = memory.stop();
  const cpuPct = ((totalCpuMs(pids) - cpuBefore) / wallMs) * 100;
  const sippCpuPct = (sippCpu.stop() / wallMs) * 100;
  const stats = res.stats;
  const retransmissions = stats?.retransmissions ?? 0;
  const achievedRate = Number(stats?.raw['CallRate(C)'] ?? 0);
  const lat = opts.traced ? registerLatencies(res.shortMessages ?? '') : { full: [], auth: [] };
  lat.full.sort((a, b) => a - b);
  lat.auth.sort((a, b) => a - b);
  let reason: string | undefined;
  if (!stats) reason = `sipp gave no statistics (exit ${res.exitCode}): ${res.stderr.slice(-300)}`;
  else if (res.failed > 0) reason = `${res.failed} failed calls`;
  else if (retransmissions > 0) reason = `${retransmissions} retransmissions`;
  else if (res.successful < opts.calls) reason = `${res.successful}/${opts.calls} calls completed`;
  else if (achievedRate < opts.rate * MIN_ACHIEVED_FRACTION) reason = `sipp reached only ${achievedRate.toFixed(0)}/s`;
  return {
    rate: opts.rate,
    calls: opts.calls,
    successful: res.successful,
    failed: res.failed,
    retransmissions,
    achievedRate,
    clean: reason === undefined,
    ...(reason !== undefined ? { reason } : {}),
    ...(opts.traced ? { p50Ms: round2(percentile(lat.full, 50)), p99Ms: round2(percentile(lat.full, 99)), authP99Ms: round2(percentile(lat.auth, 99)) } : {}),
    cpuPct,
    sippCpuPct,
    peakMemKb,
    wallMs,
  };
}

export interface LadderOptions {
  rates: number[];
  stepSeconds: number;
  /** Steps at or below this rate are traced for latency. */
  traceMaxRate: number;
  onStep?: (step: RegisterStep) => void;
}

/**
 * Steps up through `rates` (each run once, so the ladder is bounded by its
 * length); after the first step that is not clean, tries once halfway
 * between it and the last clean rate, then stops.
 */
export async function registerLadder(target: RegisterTarget, load: SippLoad, opts: LadderOptions): Promise<RegisterStep[]> {
  const steps: RegisterStep[] = [];
  const step = async (rate: number): Promise<RegisterStep> => {
    const s = await runRegisterStep(target, load, {
      rate,
      calls: Math.round(rate * opts.stepSeconds),
      traced: rate <= opts.traceMaxRate,
      failFast: true,
      timeoutMs: opts.stepSeconds * 1000 + 8000,
    });
    steps.push(s);
    opts.onStep?.(s);
    // Let the step's transactions end before the next one starts.
    await new Promise((r) => setTimeout(r, 1000));
    return s;
  };
  let lastClean = 0;
  for (const rate of opts.rates) {
    if ((await step(rate)).clean) {
      lastClean = rate;
      continue;
    }
    const middle = Math.round((lastClean + rate) / 2 / 50) * 50;
    if (lastClean > 0 && middle > lastClean && middle < rate) await step(middle);
    break;
  }
  return steps;
}

export function maxCleanRate(steps: RegisterStep[]): number {
  return steps.filter((s) => s.clean).reduce((max, s) => Math.max(max, s.rate), 0);
}
