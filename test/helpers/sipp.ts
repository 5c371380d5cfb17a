// Test harness around SIPp (Debian package `sip-tester`). sipp is the
// independent witness for the SIP engine: it was not written here, so when a
// sipp scenario passes against the engine the engine is talking real SIP.
//
// Every run is bounded: sipp gets `-timeout` (with `-timeout_error`) and the
// process is killed if it outlives that by a grace period. Every run gets its
// own temporary directory as cwd, because sipp writes its trace files
// (`<scenario>_<pid>_rtt.csv`, ...) next to the scenario name.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import dgram from 'node:dgram';
import net from 'node:net';

/** sipp `-t` transport modes: UDP mono/multi socket, TCP mono/multi, TLS mono. */
export type SippTransport = 'u1' | 'un' | 't1' | 'tn' | 'l1';

export interface SippRunOptions {
  /** A file under test/sipp (`uac-options.xml`), an absolute path, or a built-in name (`uac`, `uas`). */
  scenario: string;
  /** host:port of the far end; omitted for a UAS. */
  target?: string;
  transport?: SippTransport;
  /** Local SIP port; 0 or omitted picks a free one. */
  localPort?: number;
  /** `-m`: stop after this many calls. */
  calls?: number;
  /** `-r`: calls per second (per `ratePeriodMs`). */
  rate?: number;
  /** `-rp`: the period of `rate`, ms (sipp default 1000). */
  ratePeriodMs?: number;
  /** `-l`: maximum simultaneous calls. */
  callLimit?: number;
  /** Hard bound on the run; sipp fails (timeout_error) at this point and is killed shortly after. */
  timeoutMs: number;
  /** `-key name value` for each entry, used as `[name]` in scenarios. */
  keys?: Record<string, string>;
  /** `-s`: the request-URI user, `[service]`. */
  service?: string;
  /** `-inf`: CSV injection file. */
  injectFile?: string;
  /** Write per-call response times (`-trace_rtt`) and return them in `rtts`. */
  traceRtt?: boolean;
  /** `-rtt_freq`: how many calls sipp buffers between writes of the rtt file (default 1). */
  rttFreq?: number;
  /**
   * Keep one line per message sent/received (`-trace_shortmsg`: time in µs,
   * S/R, Call-ID, CSeq, first line) and return them in `shortMessages`; see
   * `responseLatencies`. Finer than `traceRtt`, whose clock ticks in ms.
   */
  traceShortMessages?: boolean;
  /** Keep sent/received messages (`-trace_msg`) and return them in `messages`; for debugging failures. */
  traceMessages?: boolean;
  extraArgs?: string[];
  /** Called with sipp's process id once it is spawned (e.g. to watch its CPU). */
  onSpawn?: (pid: number) => void;
}

/** The counters of sipp's final `-trace_stat` line that tests and the benchmark use. */
export interface SippStats {
  totalCallCreated: number;
  successfulCall: number;
  failedCall: number;
  retransmissions: number;
  outOfCallMsgs: number;
  deadCallMsgs: number;
  failedMaxUdpRetrans: number;
  failedUnexpectedMessage: number;
  failedTimeoutOnRecv: number;
  /** Every column of the final line, by header name. */
  raw: Record<string, string>;
}

export interface SippResult {
  /** sipp's exit code: 0 all calls succeeded, 1 some failed, 97/99 other ends; null when killed. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** true when the harness had to kill sipp because it outlived its timeout. */
  killed: boolean;
  successful: number;
  failed: number;
  stdout: string;
  stderr: string;
  stats?: SippStats;
  /** Response times in ms (sipp's clock has 1 ms resolution), when `traceRtt` was set. */
  rtts?: number[];
  /** sipp's `-trace_shortmsg` log, when `traceShortMessages` was set. */
  shortMessages?: string;
  /** sipp's `-trace_msg` log, when `traceMessages` was set. */
  messages?: string;
  /** sipp's errors log (unexpected messages and the like), when there is one. */
  errors?: string;
}

export interface SippServer {
  port: number;
  /** The sipp process id, for tests that want to watch it. */
  pid: number;
  /** Resolves when sipp exits on its own (e.g. after `calls` calls). */
  done: Promise<SippResult>;
  /** Asks sipp to quit (SIGUSR1, then SIGKILL if it lingers) and returns its result. */
  stop(): Promise<SippResult>;
}

export type SippServerOptions = Omit<SippRunOptions, 'target' | 'rate' | 'ratePeriodMs'>;

const SIPP_DIR = fileURLToPath(new URL('../sipp/', import.meta.url));
const KILL_GRACE_MS = 3000;
const OUTPUT_CAP = 256 * 1024;

let sippPath: string | undefined;

/** The path of the sipp binary; throws (tests must fail, not skip) when it is missing. */
export function sippBinary(): string {
  if (sippPath) return sippPath;
  const found = spawnSync('sh', ['-c', 'command -v sipp'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new Error('sipp is not installed: install the Debian package `sip-tester` '
      + '(apt-get install -y --no-install-recommends sip-tester)');
  }
  sippPath = path;
  return path;
}

/**
 * Ports for listeners the tests start are drawn below Linux's ephemeral range
 * (32768–60999): there the kernel never hands one to another socket's
 * outgoing connection between this probe and the real bind, which on a busy
 * machine it did (EADDRINUSE in CI-like runs).
 */
const QUIET_PORTS = { from: 20_000, to: 32_000 };

async function udpFree(port: number): Promise<boolean> {
  const sock = dgram.createSocket('udp4');
  const free = await new Promise<boolean>((res) => {
    sock.once('error', () => res(false));
    sock.bind(port, '127.0.0.1', () => res(true));
  });
  await new Promise<void>((res) => sock.close(() => res()));
  return free;
}

async function tcpFree(port: number): Promise<boolean> {
  const server = net.createServer();
  const free = await new Promise<boolean>((res) => {
    server.once('error', () => res(false));
    server.listen(port, '127.0.0.1', () => res(true));
  });
  if (free) await new Promise<void>((res) => server.close(() => res()));
  return free;
}

/** A port on 127.0.0.1 free a moment ago for each of `kinds`, from {@link QUIET_PORTS}. */
export async function quietPort(kinds: Array<'udp' | 'tcp'>): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = QUIET_PORTS.from + Math.floor(Math.random() * (QUIET_PORTS.to - QUIET_PORTS.from));
    let free = true;
    for (const kind of kinds) free = free && (kind === 'udp' ? await udpFree(port) : await tcpFree(port));
    if (free) return port;
  }
  throw new Error(`no free ${kinds.join('+')} port found in ${QUIET_PORTS.from}-${QUIET_PORTS.to} after 50 tries`);
}

/** A port that was free on 127.0.0.1 a moment ago (see {@link QUIET_PORTS}). */
export async function freePort(kind: 'udp' | 'tcp'): Promise<number> {
  return quietPort([kind]);
}

/** A port free for both UDP and TCP, so sipp's SIP port works with any transport. */
async function freeSipPort(transport: SippTransport): Promise<number> {
  return freePort(transport.startsWith('u') ? 'udp' : 'tcp');
}

function resolveScenario(scenario: string): { file?: string; builtin?: string } {
  if (scenario.endsWith('.xml') || scenario.includes('/')) {
    const file = isAbsolute(scenario) ? scenario : resolve(SIPP_DIR, scenario);
    if (!existsSync(file)) throw new Error(`sipp scenario not found: ${file}`);
    return { file };
  }
  return { builtin: scenario };
}

interface Prepared {
  args: string[];
  workDir: string;
  statFile: string;
  localPort: number;
}

async function prepare(opts: SippRunOptions): Promise<Prepared> {
  const workDir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const transport = opts.transport ?? 'u1';
  const localPort = opts.localPort && opts.localPort > 0 ? opts.localPort : await freeSipPort(transport);
  // sipp binds a UDP control socket (default 8888, then searches upwards);
  // giving each run its own avoids collisions between parallel tests.
  const controlPort = await freePort('udp');
  const statFile = join(workDir, 'stats.csv');
  const args: string[] = [];
  const scenario = resolveScenario(opts.scenario);
  if (scenario.file) {
    const copy = join(workDir, basename(scenario.file));
    copyFileSync(scenario.file, copy);
    args.push('-sf', copy);
  } else {
    args.push('-sn', scenario.builtin as string);
  }
  if (opts.target) args.push(opts.target);
  args.push('-i', '127.0.0.1', '-p', String(localPort), '-t', transport, '-cp', String(controlPort));
  args.push('-nostdin', '-timeout', `${Math.max(1, Math.ceil(opts.timeoutMs))}ms`, '-timeout_error');
  args.push('-trace_stat', '-stf', statFile, '-trace_err', '-error_file', join(workDir, 'errors.log'));
  if (opts.calls !== undefined) args.push('-m', String(opts.calls));
  if (opts.rate !== undefined) args.push('-r', String(opts.rate));
  if (opts.ratePeriodMs !== undefined) args.push('-rp', String(opts.ratePeriodMs));
  if (opts.callLimit !== undefined) args.push('-l', String(opts.callLimit));
  if (opts.service !== undefined) args.push('-s', opts.service);
  if (opts.injectFile !== undefined) args.push('-inf', resolve(opts.injectFile));
  for (const [name, value] of Object.entries(opts.keys ?? {})) args.push('-key', name, value);
  if (opts.traceRtt) args.push('-trace_rtt', '-rtt_freq', String(opts.rttFreq ?? 1));
  if (opts.traceShortMessages) args.push('-trace_shortmsg', '-shortmessage_file', join(workDir, 'short.log'));
  if (opts.traceMessages) args.push('-trace_msg', '-message_file', join(workDir, 'messages.log'));
  args.push(...(opts.extraArgs ?? []));
  return { args, workDir, statFile, localPort };
}

function num(raw: Record<string, string>, name: string): number {
  const value = Number(raw[name]);
  return Number.isFinite(value) ? value : 0;
}

/** Parses the last line of a `-trace_stat` CSV (`;`-separated, header first). */
export function parseSippStats(csv: string): SippStats | undefined {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return undefined;
  const header = (lines[0] as string).split(';');
  const values = (lines[lines.length - 1] as string).split(';');
  const raw: Record<string, string> = {};
  header.forEach((name, i) => { raw[name] = values[i] ?? ''; });
  return {
    totalCallCreated: num(raw, 'TotalCallCreated'),
    successfulCall: num(raw, 'SuccessfulCall(C)'),
    failedCall: num(raw, 'FailedCall(C)'),
    retransmissions: num(raw, 'Retransmissions(C)'),
    outOfCallMsgs: num(raw, 'OutOfCallMsgs(C)'),
    deadCallMsgs: num(raw, 'DeadCallMsgs(C)'),
    failedMaxUdpRetrans: num(raw, 'FailedMaxUDPRetrans(C)'),
    failedUnexpectedMessage: num(raw, 'FailedUnexpectedMessage(C)'),
    failedTimeoutOnRecv: num(raw, 'FailedTimeoutOnRecv(C)'),
    raw,
  };
}

/** Reads `*_rtt.csv` (`Date_ms;response_time_ms;rtd_no`) into a list of ms values. */
function readRtts(workDir: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync(workDir)) {
    if (!name.endsWith('_rtt.csv')) continue;
    for (const line of readFileSync(join(workDir, name), 'utf8').split('\n').slice(1)) {
      const value = Number(line.split(';')[1]);
      if (line.trim() !== '' && Number.isFinite(value)) out.push(value);
    }
  }
  return out;
}

/**
 * From a `-trace_shortmsg` log, the time in ms from each call's first request
 * sent to the first final response (2xx-6xx) received for that request's CSeq.
 * Lines are tab-separated: date, time, epoch seconds (µs), S|R, Call-ID, "CSeq:N METHOD", first line.
 */
export function responseLatencies(shortMessages: string): number[] {
  const firstRequest = new Map<string, { at: number; cseq: string }>();
  const out: number[] = [];
  for (const line of shortMessages.split('\n')) {
    const f = line.split('\t');
    if (f.length < 7) continue;
    const at = Number(f[2]) * 1000;
    const [dir, callId, cseq, startLine] = [f[3], f[4] as string, f[5] as string, f[6] as string];
    const sent = firstRequest.get(callId);
    if (dir === 'S' && !sent && !startLine.startsWith('SIP/2.0')) {
      firstRequest.set(callId, { at, cseq });
    } else if (dir === 'R' && sent && sent.at >= 0 && cseq === sent.cseq && /^SIP\/2\.0 [2-6]/.test(startLine)) {
      out.push(at - sent.at);
      sent.at = -1;
    }
  }
  return out;
}

function readIfExists(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

function appendCapped(buf: string, chunk: Buffer): string {
  const next = buf + chunk.toString('utf8');
  return next.length > OUTPUT_CAP ? next.slice(next.length - OUTPUT_CAP) : next;
}

interface Running {
  child: ChildProcess;
  result: Promise<SippResult>;
  prepared: Prepared;
}

function launch(opts: SippRunOptions, prepared: Prepared): Running {
  const child = spawn(sippBinary(), prepared.args, { cwd: prepared.workDir, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  let stdout = '';
  let stderr = '';
  let killed = false;
  child.stdout?.on('data', (c: Buffer) => { stdout = appendCapped(stdout, c); });
  child.stderr?.on('data', (c: Buffer) => { stderr = appendCapped(stderr, c); });
  // sipp enforces -timeout itself; this is the backstop for a wedged process.
  const killer = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, opts.timeoutMs + KILL_GRACE_MS);
  const result = new Promise<SippResult>((resolveResult) => {
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(killer);
      const csv = readIfExists(prepared.statFile);
      const stats = csv ? parseSippStats(csv) : undefined;
      const out: SippResult = {
        exitCode,
        signal,
        killed,
        successful: stats?.successfulCall ?? 0,
        failed: stats?.failedCall ?? 0,
        stdout,
        stderr,
        stats,
        errors: readIfExists(join(prepared.workDir, 'errors.log')),
      };
      if (opts.traceRtt) out.rtts = readRtts(prepared.workDir);
      if (opts.traceShortMessages) out.shortMessages = readIfExists(join(prepared.workDir, 'short.log'));
      if (opts.traceMessages) out.messages = readIfExists(join(prepared.workDir, 'messages.log'));
      rmSync(prepared.workDir, { recursive: true, force: true });
      resolveResult(out);
    };
    child.once('error', (err) => { stderr += `\nspawn error: ${err.message}`; finish(null, null); });
    child.once('close', finish);
  });
  return { child, result, prepared };
}

/** Runs sipp in the foreground until its calls are done or `timeoutMs` passes. */
/** sipp could not bind the port it was given (another process took it after freePort probed it). */
function lostPortRace(res: SippResult): boolean {
  return /errno = 98|Address already in use/.test(`${res.stderr}\n${res.stdout.slice(-2000)}`);
}

/** The race lost was for the control socket, whose port prepare() picks afresh each try. */
function lostControlPortRace(res: SippResult): boolean {
  return /remote control socket/.test(`${res.stderr}\n${res.stdout.slice(-2000)}`);
}

/** Tries allowed when a probed free port is taken before sipp binds it (parallel test files race for ports). */
const PORT_RACE_TRIES = 3;

export async function runSipp(opts: SippRunOptions): Promise<SippResult> {
  sippBinary();
  for (let attempt = 1; ; attempt++) {
    const prepared = await prepare(opts);
    const res = await launch(opts, prepared).result;
    if (attempt >= PORT_RACE_TRIES || !lostPortRace(res)) return res;
    if (opts.localPort && !lostControlPortRace(res)) return res;
  }
}

/**
 * true when a socket is bound to `port` for this transport (i.e. sipp has
 * bound it). Read from the kernel's socket tables, not by trying to bind the
 * port: a probe bind made while sipp starts would hold the port at the very
 * moment sipp binds it, and sipp would exit with EADDRINUSE (seen in CI).
 */
async function portTaken(port: number, transport: SippTransport): Promise<boolean> {
  const tables = transport.startsWith('u') ? ['/proc/net/udp', '/proc/net/udp6'] : ['/proc/net/tcp', '/proc/net/tcp6'];
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of tables) {
    let text: string;
    try {
      text = await readFile(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (!local || !local.endsWith(`:${hexPort}`)) continue;
      // TCP: only a listening socket (state 0A) counts; UDP: any bound socket.
      if (transport.startsWith('u') || cols[3] === '0A') return true;
    }
  }
  return false;
}

/**
 * Starts a long-lived sipp (usually a UAS scenario) and resolves once it has
 * bound its SIP port. `timeoutMs` bounds its whole life.
 */
export async function startSippServer(opts: SippServerOptions): Promise<SippServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startSippServerOnce(opts);
    } catch (err) {
      if (attempt >= PORT_RACE_TRIES || !/errno = 98|Address already in use/.test(String(err))) throw err;
      if (opts.localPort && !/remote control socket/.test(String(err))) throw err;
    }
  }
}

async function startSippServerOnce(opts: SippServerOptions): Promise<SippServer> {
  sippBinary();
  const prepared = await prepare(opts);
  const running = launch(opts, prepared);
  let exited = false;
  void running.result.then(() => { exited = true; });
  const transport = opts.transport ?? 'u1';
  const readyBy = Date.now() + 5000;
  while (!(await portTaken(prepared.localPort, transport))) {
    if (exited) {
      const res = await running.result;
      throw new Error(`sipp server exited before binding port ${prepared.localPort}: ${res.stderr || res.stdout.slice(-2000)}`);
    }
    if (Date.now() > readyBy) {
      running.child.kill('SIGKILL');
      throw new Error(`sipp server did not bind port ${prepared.localPort} within 5 s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const stop = async (): Promise<SippResult> => {
    if (!exited) {
      // SIGUSR1 is sipp's "quit gracefully": it stops, writes its final stats and exits.
      running.child.kill('SIGUSR1');
      const forced = setTimeout(() => { if (!exited) running.child.kill('SIGKILL'); }, 2000);
      const res = await running.result;
      clearTimeout(forced);
      return res;
    }
    return running.result;
  };
  return { port: prepared.localPort, pid: running.child.pid ?? -1, done: running.result, stop };
}
