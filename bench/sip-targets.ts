// The systems under test in the SIP benchmark, behind one small interface so
// the rate search treats Kamailio and the engine alike.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startKamailio } from './kamailio/kamailio-peer.ts';

export type TargetKind = 'kamailio' | 'engine-inproc' | 'engine-worker';

export const TARGET_LABELS: Record<TargetKind, string> = {
  kamailio: 'Kamailio 5.6 (tm, 2 children)',
  'engine-inproc': 'engine, in-process',
  'engine-worker': 'engine, worker thread',
};

export interface BenchTarget {
  kind: TargetKind;
  port: number;
  /** Every process whose CPU and memory count for this target, as of now. */
  pids(): number[];
  stop(): Promise<void>;
}

export const KAMAILIO_SHM_MB = 1024;

const ENGINE_TARGET = fileURLToPath(new URL('./engine-target.ts', import.meta.url));

async function startEngineTarget(kind: 'engine-inproc' | 'engine-worker', port: number): Promise<BenchTarget> {
  const mode = kind === 'engine-inproc' ? 'inproc' : 'worker';
  const child = spawn(process.execPath, ['--import', 'tsx', ENGINE_TARGET, mode, String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => { stderr = (stderr + c.toString('utf8')).slice(-8192); });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('close', () => { exited = true; resolve(); }));
  const ready = await new Promise<string>((resolve) => {
    let out = '';
    const timer = setTimeout(() => resolve('FAILED engine target not ready within 15 s'), 15_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const line = out.split('\n').find((l) => l.startsWith('READY') || l.startsWith('FAILED'));
      if (line) { clearTimeout(timer); resolve(line); }
    });
    void exit.then(() => { clearTimeout(timer); resolve(`FAILED engine target exited: ${stderr.slice(-2000)}`); });
  });
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const forced = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(forced);
  };
  if (!ready.startsWith('READY')) {
    await stop();
    throw new Error(ready.replace(/^FAILED /, ''));
  }
  const pid = child.pid ?? -1;
  return { kind, port, pids: () => [pid], stop };
}

export async function startTarget(kind: TargetKind, port: number): Promise<BenchTarget> {
  if (kind === 'kamailio') {
    // 1 GiB of shared memory, not 64 MiB: tm keeps every finished transaction
    // for its wait timer (5 s), about 6 KiB each; 64 MiB runs out at 1,000
    // calls/s and 256 MiB at 8,000 MESSAGE/s ("out of mem", then 500
    // replies), which would measure the config rather than Kamailio.
    const peer = await startKamailio({ port, sharedMemMb: KAMAILIO_SHM_MB, privateMemMb: 8 });
    return { kind, port, pids: () => peer.pids(), stop: () => peer.stop() };
  }
  return startEngineTarget(kind, port);
}
