// IM benchmark (`npm run bench -- im`): sipp users send MESSAGE (RFC 3428)
// to other registered sipp users through Switchboard's IM plugin, and through
// Kamailio 5.6 relaying the same load (bench/im-kamailio.ts), one target
// after the other. Every message carries a unique id and its send time; the
// receiving sipp logs each one it gets, so every message sent is counted
// against every message received, and latency is end to end (sender's clock
// to receiver's clock, both on this machine, microseconds).
//
// Per target: receivers register (digest on Switchboard), a warm-up, a soak
// at a fixed rate (`--soak SECONDS`, `--soak-rate`; progress and RSS every
// `--sample-seconds`), then a ladder of rates (`--rates`, `--step-seconds`
// each) up to the first step that is not clean. See bench/README.md (IM).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { withTestDatabase } from '../core/src/storage/index.ts';
import { freePort, runSipp, sippBinary, startSippServer, type SippServer } from '../test/helpers/sipp.ts';
import { startImKamailio } from './im-kamailio.ts';
import { kamailioBinary } from './kamailio/kamailio-peer.ts';
import { MemorySampler, totalCpuMs } from './proc-stats.ts';
import { percentile } from './rate-search.ts';
import { parseImLogLine } from './im-log-line.ts';

const DOMAIN = 'bench.example';
const PASSWORD = 'bench-secret-7';
const DEFAULT_RATES = [250, 500, 1000, 1500, 2000, 3000, 4000, 6000];
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
/** A step below this fraction of the asked rate measured sipp, not the target. */
const MIN_ACHIEVED_FRACTION = 0.9;

type TargetKind = 'switchboard' | 'kamailio';

interface Settings {
  targets: TargetKind[];
  rates: number[];
  stepSeconds: number;
  users: number;
  soakSeconds: number;
  soakRate: number;
  soakTargets: TargetKind[];
  sampleSeconds: number;
  db: 'sqlite' | 'mysql';
  kamailioChildren: number;
  fixedRate: number;
  /** sip.engineThread of the Switchboard host. */
  engineThread: 'main' | 'worker';
}

interface Target {
  kind: TargetKind;
  label: string;
  port: number;
  pids(): number[];
  /** Heap and RSS after a full GC (Switchboard only). */
  gcMemory?(): Promise<{ rssKb: number; heapUsedKb: number }>;
  stop(): Promise<void>;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function versionOf(cmd: string, args: string[], pattern: RegExp): string {
  const out = spawnSync(cmd, args, { encoding: 'utf8' });
  return pattern.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'unknown';
}

/** Resident memory now, KiB: private memory of all processes plus shared memory counted once. */
function residentKb(pids: number[]): number {
  let privateKb = 0;
  let sharedKb = 0;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? 0);
      privateKb += field('RssAnon') + field('RssFile');
      sharedKb = Math.max(sharedKb, field('RssShmem'));
    } catch {
      // The process ended; it holds nothing.
    }
  }
  return privateKb + sharedKb;
}

/** Where to start looking for messages that never arrived: their ids, lines the receiver logged that were not counted, and its errors. */
function sayMissing(step: ImStep, load: Load): void {
  say(`    never received: ids ${step.missingIds.join(', ')}${step.missing > step.missingIds.length ? ', …' : ''}`);
  say(`    receiver log lines not counted: ${load.receiverLog.other}${load.receiverLog.otherSamples.map((l) => `\n      ${l}`).join('')}`);
  const errors = existsSync(load.errorFile) ? readFileSync(load.errorFile, 'latin1').split('\n').filter(Boolean) : [];
  say(`    receiver errors: ${errors.length} lines${errors.slice(-15).map((l) => `\n      ${l.slice(0, 300)}`).join('')}`);
}

// ---------------------------------------------------------------- receiver log

interface RunTally {
  calls: number;
  seen: Uint8Array;
  distinct: number;
  duplicates: number;
  /** End-to-end latency of each first arrival, ms. */
  latencies: Float64Array;
}

/** Reads the receiving sipp's `-trace_logs` file as it grows (see test/sipp/im-uas-count.xml). */
class ReceiverLog {
  readonly #file: string;
  #offset = 0;
  #partial = '';
  readonly #runs = new Map<string, RunTally>();
  /** Lines that were not a benchmark message (or of an unknown run). */
  other = 0;
  /** The first few of them, to show when messages are missing. */
  readonly otherSamples: string[] = [];

  constructor(file: string) {
    this.#file = file;
  }

  expect(run: string, calls: number): RunTally {
    const tally: RunTally = { calls, seen: new Uint8Array(calls + 1), distinct: 0, duplicates: 0, latencies: new Float64Array(calls) };
    this.#runs.set(run, tally);
    return tally;
  }

  poll(): void {
    if (!existsSync(this.#file)) return;
    const fd = openSync(this.#file, 'r');
    try {
      const size = fstatSync(fd).size;
      while (this.#offset < size) {
        const buf = Buffer.alloc(Math.min(4 * 1024 * 1024, size - this.#offset));
        const n = readSync(fd, buf, 0, buf.length, this.#offset);
        if (n <= 0) break;
        this.#offset += n;
        const text = this.#partial + buf.subarray(0, n).toString('latin1');
        const lines = text.split('\n');
        this.#partial = lines.pop() ?? '';
        for (const line of lines) this.#line(line);
      }
    } finally {
      closeSync(fd);
    }
  }

  #noteOther(line: string): void {
    this.other++;
    if (this.otherSamples.length < 5) this.otherSamples.push(line.slice(0, 300));
  }

  #line(line: string): void {
    const m = parseImLogLine(line);
    const tally = m ? this.#runs.get(m.run) : undefined;
    if (!m || !tally) {
      if (line.trim()) this.#noteOther(line);
      return;
    }
    const n = m.n;
    if (!(n >= 1 && n <= tally.calls)) {
      this.#noteOther(line);
      return;
    }
    if (tally.seen[n]) {
      tally.duplicates++;
      return;
    }
    tally.seen[n] = 1;
    tally.latencies[tally.distinct++] = (m.receivedUs - m.sentUs) / 1000;
  }
}

// ---------------------------------------------------------------- targets

/** Extra node options for the host, e.g. IM_HOST_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile it. */
function hostNodeArgs(): string[] {
  return (process.env.IM_HOST_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
}

async function startSwitchboard(storageUrl: string, users: string[], engineThread: Settings['engineThread']): Promise<Target> {
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', ...hostNodeArgs(), '--import', 'tsx', join(ROOT, 'bench/im-host.ts'), JSON.stringify({ storageUrl, domain: DOMAIN, users, password: PASSWORD, engineThread })], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
  // IM_HOST_STDERR=FILE keeps everything the host logs (warnings such as SIP_ERR_OVERLOAD included).
  if (process.env.IM_HOST_STDERR) child.stderr?.pipe(createWriteStream(process.env.IM_HOST_STDERR));
  // IM_HOST_STDOUT=FILE: a copy of the host's stdout (e.g. with IM_HOST_NODE_ARGS='--trace-gc').
  if (process.env.IM_HOST_STDOUT) child.stdout?.pipe(createWriteStream(process.env.IM_HOST_STDOUT));
  const lines = createInterface({ input: child.stdout! });
  const waiters: Array<(line: string) => void> = [];
  lines.on('line', (line) => {
    // Only the host's answers; anything else on its stdout (node's --trace-gc, say) is not for us.
    if (!/^(READY|FAILED|MEM) /.test(line)) return;
    const w = waiters.shift();
    if (w) w(line);
  });
  const nextLine = (ms: number) => new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Switchboard host did not answer within ${ms} ms: ${stderr}`)), ms);
    waiters.push((line) => { clearTimeout(timer); resolve(line); });
  });
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  const first = await nextLine(120_000);
  if (!first.startsWith('READY ')) {
    child.kill('SIGKILL');
    throw new Error(`Switchboard host: ${first} ${stderr}`);
  }
  const { sipPort } = JSON.parse(first.slice(6)) as { sipPort: number };
  const pid = child.pid!;
  return {
    kind: 'switchboard',
    label: `Switchboard (IM plugin, engine on the ${engineThread} thread)`,
    port: sipPort,
    pids: () => [pid],
    async gcMemory() {
      child.stdin!.write('mem\n');
      const line = await nextLine(30_000);
      const m = JSON.parse(line.replace(/^MEM /, '')) as { rssKb: number; heapUsedKb: number };
      return { rssKb: m.rssKb, heapUsedKb: m.heapUsedKb };
    },
    async stop() {
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(forced);
    },
  };
}

async function startKamailioTarget(children: number): Promise<Target> {
  const peer = await startImKamailio(await freePort('udp'), children);
  return { kind: 'kamailio', label: `Kamailio 5.6 (tm + usrloc, ${children} children)`, port: peer.port, pids: () => peer.pids(), stop: () => peer.stop() };
}

// ---------------------------------------------------------------- runs

interface Load {
  pairsFile: string;
  receiverLog: ReceiverLog;
  /** The receiving sipp's error log. */
  errorFile: string;
}

export interface ImStep {
  run: string;
  rate: number;
  calls: number;
  seconds: number;
  /** MESSAGEs the sender saw answered 200 (relayed and accepted). */
  answered: number;
  failed: number;
  retransmissions: number;
  achievedRate: number;
  /** Distinct messages the receiving sipp got. */
  received: number;
  missing: number;
  duplicates: number;
  /** A few ids sent but never received. */
  missingIds: number[];
  clean: boolean;
  reason?: string;
  p50Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
  maxMs?: number;
  cpuPct: number;
  peakRssKb: number;
  /** RSS samples during the run: seconds since start, KiB. */
  rss: Array<[number, number]>;
}

const round2 = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 100) / 100);

async function runLoad(target: Target, load: Load, run: string, rate: number, seconds: number, opts: { failFast: boolean; sampleSeconds?: number; progress?: boolean }): Promise<ImStep> {
  const calls = Math.max(1, Math.round(rate * seconds));
  const tally = load.receiverLog.expect(run, calls);
  const pids = target.pids();
  const cpuBefore = totalCpuMs(pids);
  const memory = new MemorySampler(pids);
  const rss: Array<[number, number]> = [];
  const started = Date.now();
  const sampleEvery = (opts.sampleSeconds ?? 10) * 1000;
  const sampler = setInterval(() => {
    load.receiverLog.poll();
    const t = Math.round((Date.now() - started) / 1000);
    const kb = residentKb(pids);
    rss.push([t, kb]);
    if (opts.progress) {
      const due = Math.min(calls, Math.round(((Date.now() - started) / 1000) * rate));
      say(`      ${String(t).padStart(5)} s: received ${tally.distinct} of ~${due} sent so far (${tally.duplicates} duplicates), RSS ${(kb / 1024).toFixed(1)} MiB`);
    }
  }, sampleEvery);
  const res = await runSipp({
    scenario: 'im-uac-load.xml',
    target: `127.0.0.1:${target.port}`,
    transport: 'u1',
    injectFile: load.pairsFile,
    keys: { domain: DOMAIN, run },
    calls,
    rate,
    timeoutMs: seconds * 1000 + 60_000,
    // Errors go nowhere: a long overloaded run can write gigabytes of them, and every message is counted here anyway.
    extraArgs: [...(opts.failFast ? ['-max_retrans', '2', '-recv_timeout', '10000'] : []), '-buff_size', '4194304', '-error_file', '/dev/null'],
  });
  const wallMs = Date.now() - started;
  // The last messages may still be on their way to the receiver's log.
  for (let i = 0; i < 50; i++) {
    load.receiverLog.poll();
    if (tally.distinct >= res.successful && tally.distinct >= calls) break;
    await sleep(200);
  }
  clearInterval(sampler);
  rss.push([Math.round(wallMs / 1000), residentKb(pids)]);
  const peakRssKb = memory.stop();
  const cpuPct = ((totalCpuMs(pids) - cpuBefore) / wallMs) * 100;
  const stats = res.stats;
  const retransmissions = stats?.retransmissions ?? 0;
  const achievedRate = Number(stats?.raw['CallRate(C)'] ?? 0);
  const missingIds: number[] = [];
  for (let n = 1; n <= calls && missingIds.length < 10; n++) if (!tally.seen[n]) missingIds.push(n);
  const lat = Array.from(tally.latencies.subarray(0, tally.distinct)).sort((a, b) => a - b);
  let reason: string | undefined;
  if (!stats) reason = `sipp gave no statistics (exit ${res.exitCode}): ${res.stderr.slice(-300)}`;
  else if (res.failed > 0) reason = `${res.failed} MESSAGEs not answered 200`;
  else if (calls - tally.distinct > 0) reason = `${calls - tally.distinct} MESSAGEs never reached the receiver`;
  else if (tally.duplicates > 0) reason = `${tally.duplicates} duplicates`;
  else if (retransmissions > 0) reason = `${retransmissions} retransmissions`;
  else if (res.successful < calls) reason = `${res.successful}/${calls} answered`;
  else if (achievedRate < rate * MIN_ACHIEVED_FRACTION) reason = `sipp reached only ${achievedRate.toFixed(0)}/s`;
  return {
    run, rate, calls, seconds,
    answered: res.successful,
    failed: res.failed,
    retransmissions,
    achievedRate,
    received: tally.distinct,
    missing: calls - tally.distinct,
    duplicates: tally.duplicates,
    missingIds,
    clean: reason === undefined,
    ...(reason !== undefined ? { reason } : {}),
    p50Ms: round2(percentile(lat, 50)),
    p99Ms: round2(percentile(lat, 99)),
    p999Ms: round2(percentile(lat, 99.9)),
    maxMs: round2(lat.at(-1)),
    cpuPct,
    peakRssKb,
    rss,
  };
}

function describe(s: ImStep): string {
  const verdict = s.clean ? 'clean' : `NOT clean (${s.reason})`;
  return `    ${String(s.rate).padStart(5)}/s x ${s.seconds} s: sent ${s.calls}, answered 200 ${s.answered}, received ${s.received} `
    + `(missing ${s.missing}, duplicates ${s.duplicates}), achieved ${s.achievedRate.toFixed(0)}/s, `
    + `e2e p50 ${s.p50Ms ?? '-'} ms p99 ${s.p99Ms ?? '-'} ms, CPU ${s.cpuPct.toFixed(0)}%, RSS peak ${(s.peakRssKb / 1024).toFixed(0)} MiB - ${verdict}`;
}

export interface SoakSummary {
  step: ImStep;
  /** Mean RSS over the first and the last minute (or fifth) of the run, KiB. */
  rssEarlyKb: number;
  rssLateKb: number;
  rssMinKb: number;
  rssMaxKb: number;
  heapBefore?: { rssKb: number; heapUsedKb: number };
  heapAfter?: { rssKb: number; heapUsedKb: number };
}

function soakSummary(step: ImStep, heapBefore?: SoakSummary['heapBefore'], heapAfter?: SoakSummary['heapAfter']): SoakSummary {
  const samples = step.rss.filter(([t]) => t > 0);
  const window = Math.max(1, Math.min(60, Math.round(step.seconds / 5)));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  // The first window after warm-up, against the last one.
  const early = samples.filter(([t]) => t <= window * 2 && t > window / 2).map(([, kb]) => kb);
  const late = samples.filter(([t]) => t >= step.seconds - window).map(([, kb]) => kb);
  return {
    step,
    rssEarlyKb: Math.round(mean(early.length ? early : samples.slice(0, 1).map(([, kb]) => kb))),
    rssLateKb: Math.round(mean(late.length ? late : samples.slice(-1).map(([, kb]) => kb))),
    rssMinKb: Math.min(...samples.map(([, kb]) => kb)),
    rssMaxKb: Math.max(...samples.map(([, kb]) => kb)),
    ...(heapBefore ? { heapBefore } : {}),
    ...(heapAfter ? { heapAfter } : {}),
  };
}

export interface TargetResult {
  target: TargetKind;
  label: string;
  registered: number;
  soak?: SoakSummary;
  steps: ImStep[];
  maxCleanRate: number;
  limitedBySipp: boolean;
  error?: string;
}

function userNames(prefix: string, count: number): string[] {
  const width = String(Math.max(1, count - 1)).length;
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(width, '0')}`);
}

async function benchTarget(kind: TargetKind, s: Settings, storageUrl: string): Promise<TargetResult> {
  const senders = userNames('s', s.users);
  const receivers = userNames('r', s.users);
  const workDir = mkdtempSync(join(tmpdir(), `im-bench-${kind}-`));
  const result: TargetResult = { target: kind, label: kind, registered: 0, steps: [], maxCleanRate: 0, limitedBySipp: false };
  let target: Target | undefined;
  let receiver: SippServer | undefined;
  try {
    const started = Date.now();
    target = kind === 'switchboard' ? await startSwitchboard(storageUrl, [...senders, ...receivers], s.engineThread) : await startKamailioTarget(s.kamailioChildren);
    result.label = target.label;
    say(`\n${target.label}`);
    say(`    started (${((Date.now() - started) / 1000).toFixed(1)} s)${kind === 'switchboard' ? `, ${senders.length + receivers.length} users, history in ${s.db}` : ''}`);

    // Receivers register from one port, where a sipp UAS then answers and logs every MESSAGE.
    const receiverPort = await freePort('udp');
    const regFile = join(workDir, 'receivers.csv');
    writeFileSync(regFile, `SEQUENTIAL\n${receivers.map((u) => `${u};${PASSWORD};[authentication username=${u} password=${PASSWORD}]`).join('\n')}\n`);
    const reg = await runSipp({ scenario: 'im-register.xml', target: `127.0.0.1:${target.port}`, localPort: receiverPort, injectFile: regFile, keys: { domain: DOMAIN }, calls: receivers.length, rate: 50, timeoutMs: 60_000 });
    result.registered = reg.successful;
    if (reg.successful !== receivers.length) throw new Error(`only ${reg.successful}/${receivers.length} receivers registered: ${reg.errors ?? reg.stderr.slice(-500)}`);
    const logFile = join(workDir, 'received.log');
    // What the receiving sipp found wrong (unexpected messages, dead calls): shown when a message is missing.
    // (No -ringbuffer_* options: sipp applies them to the -log_file too, and a rotated log loses the count.)
    const errorFile = join(workDir, 'receiver-errors.log');
    const totalSeconds = s.soakSeconds + s.rates.length * (s.stepSeconds + 15) + 600;
    receiver = await startSippServer({ scenario: 'im-uas-count.xml', localPort: receiverPort, timeoutMs: totalSeconds * 1000, extraArgs: ['-trace_logs', '-log_file', logFile, '-buff_size', '4194304', '-error_file', errorFile] });
    const pairsFile = join(workDir, 'pairs.csv');
    writeFileSync(pairsFile, `SEQUENTIAL\n${senders.map((u, i) => `${u};${receivers[i]}`).join('\n')}\n`);
    const load: Load = { pairsFile, receiverLog: new ReceiverLog(logFile), errorFile };
    say(`    ${reg.successful} receivers registered; ${senders.length} senders, each writing to one receiver`);

    const warm = await runLoad(target, load, 'warm', 200, 3, { failFast: false });
    say(`    warm-up: ${describe(warm).trim()}`);
    await sleep(2000);

    if (s.soakSeconds > 0 && s.soakTargets.includes(kind)) {
      say(`    soak: ${s.soakRate}/s for ${s.soakSeconds} s (progress every ${s.sampleSeconds} s)`);
      const before = await target.gcMemory?.();
      const step = await runLoad(target, load, 'soak', s.soakRate, s.soakSeconds, { failFast: false, sampleSeconds: s.sampleSeconds, progress: true });
      await sleep(2000);
      const after = await target.gcMemory?.();
      result.soak = soakSummary(step, before, after);
      say(describe(step));
      const r = result.soak;
      say(`    soak RSS: first window ${(r.rssEarlyKb / 1024).toFixed(1)} MiB, last window ${(r.rssLateKb / 1024).toFixed(1)} MiB, min ${(r.rssMinKb / 1024).toFixed(1)}, max ${(r.rssMaxKb / 1024).toFixed(1)} MiB`
        + `${before && after ? `; heap after GC ${(before.heapUsedKb / 1024).toFixed(1)} -> ${(after.heapUsedKb / 1024).toFixed(1)} MiB` : ''}`);
      if (step.missingIds.length) sayMissing(step, load);
      await sleep(3000);
    }

    say(`    rate steps of ${s.stepSeconds} s:`);
    let lastClean = 0;
    const step = async (rate: number): Promise<ImStep> => {
      const st = await runLoad(target!, load, `k${rate}`, rate, s.stepSeconds, { failFast: true });
      result.steps.push(st);
      say(describe(st));
      if (st.missingIds.length && st.retransmissions === 0) sayMissing(st, load);
      await sleep(2000);
      return st;
    };
    for (const rate of s.rates) {
      if ((await step(rate)).clean) {
        lastClean = rate;
        continue;
      }
      const middle = Math.round((lastClean + rate) / 2 / 50) * 50;
      if (lastClean > 0 && middle > lastClean && middle < rate) await step(middle);
      break;
    }
    if (!result.steps.some((x) => x.rate === s.fixedRate)) {
      await sleep(5000);
      await step(s.fixedRate);
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message.split('\n')[0] : String(err);
    say(`    failed: ${result.error}`);
  } finally {
    await receiver?.stop().catch(() => undefined);
    await target?.stop().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
  result.maxCleanRate = result.steps.filter((x) => x.clean).reduce((m, x) => Math.max(m, x.rate), 0);
  result.limitedBySipp = result.steps.find((x) => !x.clean)?.reason?.startsWith('sipp reached only') ?? false;
  return result;
}

// ---------------------------------------------------------------- report

function fmtMs(v: number | undefined): string {
  return v === undefined ? '-' : `${v.toFixed(2)} ms`;
}

function tables(results: TargetResult[], s: Settings): string {
  const out: string[] = [];
  out.push(`| target | max clean rate | e2e p50 @${s.fixedRate}/s | e2e p99 @${s.fixedRate}/s | CPU % @${s.fixedRate}/s | peak RSS |`);
  out.push('|---|---|---|---|---|---|');
  for (const r of results) {
    const at = r.steps.find((x) => x.rate === s.fixedRate);
    const star = at && !at.clean ? '*' : '';
    out.push(`| ${r.label} | ${r.limitedBySipp ? '>=' : ''}${r.maxCleanRate}/s | ${fmtMs(at?.p50Ms)}${star} | ${fmtMs(at?.p99Ms)}${star} | ${at ? at.cpuPct.toFixed(0) : '-'} | ${(Math.max(0, ...r.steps.map((x) => x.peakRssKb), r.soak?.step.peakRssKb ?? 0) / 1024).toFixed(0)} MiB |`);
  }
  const soaks = results.filter((r) => r.soak);
  if (soaks.length) {
    out.push('');
    out.push('| soak | rate × time | sent | answered 200 | received | lost | dup | e2e p50 | e2e p99 | e2e p99.9 | RSS first → last window (min–max) | heap after GC |');
    out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of soaks) {
      const k = r.soak!;
      const st = k.step;
      out.push(`| ${r.label} | ${st.rate}/s × ${st.seconds} s | ${st.calls} | ${st.answered} | ${st.received} | ${st.missing} | ${st.duplicates} | ${fmtMs(st.p50Ms)} | ${fmtMs(st.p99Ms)} | ${fmtMs(st.p999Ms)} | `
        + `${(k.rssEarlyKb / 1024).toFixed(1)} → ${(k.rssLateKb / 1024).toFixed(1)} MiB (${(k.rssMinKb / 1024).toFixed(1)}–${(k.rssMaxKb / 1024).toFixed(1)}) | `
        + `${k.heapBefore && k.heapAfter ? `${(k.heapBefore.heapUsedKb / 1024).toFixed(1)} → ${(k.heapAfter.heapUsedKb / 1024).toFixed(1)} MiB` : '-'} |`);
    }
  }
  return out.join('\n');
}

function ratios(results: TargetResult[], s: Settings): string[] {
  const sb = results.find((r) => r.target === 'switchboard');
  const k = results.find((r) => r.target === 'kamailio');
  if (!sb || !k || !k.maxCleanRate) return [];
  const lines = [`Switchboard/Kamailio max clean rate: ${(sb.maxCleanRate / k.maxCleanRate).toFixed(2)} (${sb.maxCleanRate}/s vs ${k.maxCleanRate}/s${k.limitedBySipp ? ', Kamailio limited by sipp: ratio is an upper bound' : ''})`];
  const a = sb.steps.find((x) => x.rate === s.fixedRate);
  const b = k.steps.find((x) => x.rate === s.fixedRate);
  if (a?.p99Ms !== undefined && b?.p99Ms) lines.push(`Switchboard/Kamailio e2e p99 at ${s.fixedRate}/s: ${(a.p99Ms / b.p99Ms).toFixed(1)}x (${a.p99Ms} ms vs ${b.p99Ms} ms); CPU ${a.cpuPct.toFixed(0)}% vs ${b.cpuPct.toFixed(0)}%`);
  if (sb.soak && k.soak && k.soak.step.p99Ms) lines.push(`Soak e2e p99: ${sb.soak.step.p99Ms} ms vs ${k.soak.step.p99Ms} ms`);
  return lines;
}

function list<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T[]): T[] {
  if (!value) return fallback;
  const items = value.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = items.filter((x) => !(allowed as readonly string[]).includes(x));
  if (bad.length) throw new Error(`unknown ${bad.join(', ')}; choose from ${allowed.join(', ')}`);
  return items as T[];
}

function numbers(value: string | undefined, fallback: number[]): number[] {
  if (!value) return fallback;
  const xs = value.split(',').map(Number);
  if (xs.some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`not a list of positive numbers: ${value}`);
  return xs;
}

function positive(value: string | undefined, fallback: number, name: string, allowZero = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new Error(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`);
  return n;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      targets: { type: 'string' },
      rates: { type: 'string' },
      'step-seconds': { type: 'string' },
      users: { type: 'string' },
      soak: { type: 'string' },
      'soak-rate': { type: 'string' },
      'soak-targets': { type: 'string' },
      'sample-seconds': { type: 'string' },
      db: { type: 'string' },
      'kamailio-children': { type: 'string' },
      'fixed-rate': { type: 'string' },
      'engine-thread': { type: 'string' },
    },
  });
  const targets = list(values.targets, ['switchboard', 'kamailio'] as const, ['kamailio', 'switchboard']);
  const s: Settings = {
    targets,
    rates: numbers(values.rates, DEFAULT_RATES),
    stepSeconds: positive(values['step-seconds'], 5, 'step-seconds'),
    users: Math.round(positive(values.users, 20, 'users')),
    soakSeconds: positive(values.soak, 30, 'soak', true),
    soakRate: positive(values['soak-rate'], 1000, 'soak-rate'),
    soakTargets: list(values['soak-targets'], ['switchboard', 'kamailio'] as const, targets),
    sampleSeconds: positive(values['sample-seconds'], values.soak && Number(values.soak) >= 120 ? 30 : 5, 'sample-seconds'),
    db: (list(values.db, ['sqlite', 'mysql'] as const, ['sqlite'])[0]!),
    kamailioChildren: Math.round(positive(values['kamailio-children'], 2, 'kamailio-children')),
    fixedRate: positive(values['fixed-rate'], 1000, 'fixed-rate'),
    engineThread: list(values['engine-thread'], ['main', 'worker'] as const, ['worker'])[0]!,
  };
  sippBinary();
  if (s.targets.includes('kamailio')) kamailioBinary();
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    sipp: versionOf('sipp', ['-v'], /SIPp v(\d+\.\d+\.\d+)/),
    kamailio: versionOf('kamailio', ['-v'], /version: kamailio (\d+\.\d+\.\d+)/),
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
  say(`IM benchmark: sipp ${machine.sipp} over UDP, ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}`);
  say(`  ${s.users} senders -> ${s.users} registered receivers; soak ${s.soakSeconds} s at ${s.soakRate}/s on ${s.soakTargets.join(', ')}; steps ${s.rates.join(', ')}/s of ${s.stepSeconds} s; Switchboard history in ${s.db}, its SIP engine on the ${s.engineThread} thread (sip.engineThread)`);
  const results: TargetResult[] = [];
  for (const kind of s.targets) {
    if (kind === 'switchboard' && s.db === 'mysql') {
      results.push(await withTestDatabase('mysql', (url) => benchTarget(kind, s, url)));
    } else if (kind === 'switchboard') {
      const dir = mkdtempSync(join(tmpdir(), 'im-bench-db-'));
      try {
        results.push(await benchTarget(kind, s, `sqlite:${join(dir, 'switchboard.db')}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } else {
      results.push(await benchTarget(kind, s, ''));
    }
  }
  const loadAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  say('');
  say(tables(results, s));
  for (const line of ratios(results, s)) say(line);
  say(`load average at the end: ${loadAtEnd.join(' ')}`);
  mkdirSync(RESULTS, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const report = { bench: 'im', at: new Date().toISOString(), machine: { ...machine, loadAverageAtEnd: loadAtEnd }, settings: s, results };
  const json = JSON.stringify(report, null, 2);
  writeFileSync(join(RESULTS, `im-${stamp}.json`), json);
  writeFileSync(join(RESULTS, 'im-latest.json'), json);
  say(`results: bench/results/im-${stamp}.json`);
}
