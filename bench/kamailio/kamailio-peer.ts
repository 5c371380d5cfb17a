// Starts and stops a Kamailio 5.6 (Debian package `kamailio`) bound to
// 127.0.0.1, for the benchmark and for the sipp harness test. Kamailio runs
// in the foreground (-DD -E) with its own runtime directory, so several can
// run side by side and nothing is left behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { childPids } from '../proc-stats.ts';

export interface KamailioOptions {
  /** Config file path; defaults to the benchmark's bench/kamailio/kamailio.cfg. */
  config?: string;
  /** UDP port on 127.0.0.1 (must be free). */
  port: number;
  /** `-A NAME=VALUE` pre-processor defines (VALUE is used verbatim, quote strings yourself). */
  defines?: Record<string, string>;
  /** -m, MiB of shared memory (default 64). */
  sharedMemMb?: number;
  /** -M, MiB of private memory per process (default 8). */
  privateMemMb?: number;
  /** How long to wait for it to answer, ms (default 5000). */
  startTimeoutMs?: number;
}

export interface KamailioPeer {
  port: number;
  /** The main process id. */
  pid: number;
  /** The main process and all its workers, as they are now. */
  pids(): number[];
  /** Everything Kamailio wrote to stdout/stderr so far (last 64 KiB). */
  log(): string;
  stop(): Promise<void>;
}

export const BENCH_KAMAILIO_CFG = fileURLToPath(new URL('./kamailio.cfg', import.meta.url));

export function kamailioBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v kamailio'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new Error('kamailio is not installed: install the Debian package `kamailio` '
      + '(apt-get install -y --no-install-recommends kamailio)');
  }
  return path;
}

/** Sends an OPTIONS with Max-Forwards: 0; any answer (483) means Kamailio is up. */
async function probe(port: number, waitMs: number): Promise<boolean> {
  const sock = dgram.createSocket('udp4');
  try {
    await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
    const local = sock.address().port;
    const callId = `probe-${process.pid}-${Date.now()}`;
    const msg = [
      `OPTIONS sip:probe@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${callId}`,
      `From: <sip:probe@127.0.0.1:${local}>;tag=probe`,
      `To: <sip:probe@127.0.0.1:${port}>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 0',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const answered = new Promise<boolean>((res) => {
      const timer = setTimeout(() => res(false), waitMs);
      sock.once('message', () => { clearTimeout(timer); res(true); });
    });
    sock.send(msg, port, '127.0.0.1');
    return await answered;
  } finally {
    sock.close();
  }
}

export async function startKamailio(opts: KamailioOptions): Promise<KamailioPeer> {
  const binary = kamailioBinary();
  const runDir = mkdtempSync(join(tmpdir(), 'kamailio-'));
  const args = [
    '-f', opts.config ?? BENCH_KAMAILIO_CFG,
    '-DD', '-E',
    '-m', String(opts.sharedMemMb ?? 64),
    '-M', String(opts.privateMemMb ?? 8),
    '-Y', runDir,
    '-P', join(runDir, 'kamailio.pid'),
    '-w', runDir,
    '-l', `udp:127.0.0.1:${opts.port}`,
  ];
  for (const [name, value] of Object.entries(opts.defines ?? {})) args.push('-A', `${name}=${value}`);
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (c: Buffer): void => {
    output += c.toString('utf8');
    if (output.length > 65536) output = output.slice(-65536);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited = false;
  const exit = new Promise<void>((res) => child.once('close', () => { exited = true; res(); }));
  const pid = child.pid ?? -1;

  const stop = async (): Promise<void> => {
    if (!exited) {
      const workers = childPids(pid);
      child.kill('SIGTERM');
      const forced = setTimeout(() => {
        child.kill('SIGKILL');
        for (const w of workers) {
          try { process.kill(w, 'SIGKILL'); } catch { /* already gone */ }
        }
      }, 3000);
      await exit;
      clearTimeout(forced);
    }
    rmSync(runDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 5000);
  while (!(await probe(opts.port, 200))) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`kamailio did not start on udp:127.0.0.1:${opts.port}: ${output.slice(-3000)}`);
    }
  }
  return { port: opts.port, pid, pids: () => [pid, ...childPids(pid)], log: () => output, stop };
}
