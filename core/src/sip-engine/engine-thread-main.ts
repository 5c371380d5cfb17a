/**
 * The worker-thread side of `sip.engineThread = "worker"`: runs one
 * SipEngine and serves its wire to apps on the main thread over
 * MessagePorts (see engine-thread.ts for the main side and the messages).
 * Log records go to the main thread, which writes them with the host's
 * logger, so a host's logs look the same whichever thread the engine is on.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import pino from 'pino';
import { SipEngine, type SipEngineOptions } from './sip-engine.ts';
import { PortSocket } from './wire/port-socket.ts';
import { compactHeapNow, compactionFields, startIdleCompaction } from '../threads/idle-compaction.ts';
import type { DirectTarget } from './direct-methods.ts';
import type { HostAnswer, HostRequest } from './host-requests.ts';

export interface EngineThreadData {
  options: Omit<SipEngineOptions, 'logger'>;
  /** The host logger's level; records below it are not even formatted. */
  logLevel: string;
  /** runtime.compactWhenIdle: this thread compacts its own heap when quiet after growing. */
  compactWhenIdle?: boolean;
}

/** Main thread → engine thread. */
export type ToEngineThread = { type: 'adopt'; port: MessagePort } | { type: 'stop' } | { type: 'memory'; id: number; collect: boolean; compact?: boolean };

/** The engine thread's V8 heap (bytes), as `process.memoryUsage()` reports the main thread's. */
export interface EngineThreadMemory {
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** Whether garbage was collected first (only when the process runs with --expose-gc). */
  collected: boolean;
}

/**
 * Beside the wire on an app's port (PortSocket.postExtra): wire-less requests and their final statuses back;
 * the methods the host serves itself (`serve`, see SipEngine.serveHost), those requests (`inbound`) and the
 * host's answers.
 */
export type WireExtra =
  | { requests: DirectItem[] }
  | { finals: Array<[id: number, status: number]> }
  | { serve: string[] }
  | { inbound: HostRequest[] }
  | { answers: HostAnswer[] };

/** One wire-less request (SipEngine.requestDirect) and the id its status comes back with. */
export interface DirectItem {
  id: number;
  target: DirectTarget;
  method: string;
  headers: Record<string, string>;
  body?: string;
}
/** Engine thread → main thread. */
export type FromEngineThread =
  | { type: 'ready'; wirePort: number }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'log'; line: string }
  | { type: 'memory'; id: number; memory: EngineThreadMemory }
  | { type: 'stopped' };

const parent = parentPort;
if (!parent) throw new Error('engine-thread-main runs as a worker thread (sip.engineThread = "worker")');
const data = workerData as EngineThreadData;
const post = (m: FromEngineThread, transfer?: MessagePort[]): void => parent.postMessage(m, transfer);

const logger = pino({ level: data.logLevel, base: null }, { write: (line: string) => post({ type: 'log', line }) });
const engine = new SipEngine({ ...data.options, logger });
const compaction = data.compactWhenIdle
  ? startIdleCompaction({ inFlight: () => engine.inFlight() }, (done) => logger.info(compactionFields('sip-engine', done), 'heap compacted while idle'))
  : undefined;

/**
 * An app on the main thread: its wire, and beside it the host's in-dialog
 * wire-less requests (SipEngine.requestDirect), whose final statuses go back on the
 * same port, together once per tick.
 */
function adopt(port: MessagePort): void {
  const socket = new PortSocket(port);
  let finals: Array<[number, number]> = [];
  const flush = (): void => {
    const items = finals;
    finals = [];
    socket.postExtra({ finals: items } satisfies WireExtra);
  };
  let inbound: HostRequest[] = [];
  const flushInbound = (): void => {
    const items = inbound;
    inbound = [];
    socket.postExtra({ inbound: items } satisfies WireExtra);
  };
  let serving = false;
  socket.once('close', () => {
    // The host's end is gone: what it served goes to the apps again (a 503 when none routes it).
    if (serving) engine.serveHost([]);
  });
  socket.on('extra', (x: WireExtra) => {
    if ('serve' in x) {
      serving = x.serve.length > 0;
      engine.serveHost(x.serve, (r) => {
        if (inbound.push(r) === 1) setImmediate(flushInbound);
      });
      return;
    }
    if ('answers' in x) {
      for (const a of x.answers) engine.answerHost(a);
      return;
    }
    if (!('requests' in x)) return;
    for (const item of x.requests) {
      const done = (status: number): void => {
        if (finals.push([item.id, status]) === 1) setImmediate(flush);
      };
      engine.requestDirect(item.target, item.method, item.headers, item.body).then(done, () => done(503));
    }
  });
  engine.adoptApp(socket);
}

function memory(collect: boolean, compact: boolean): EngineThreadMemory {
  const gc = collect ? (globalThis as { gc?: () => void }).gc : undefined;
  gc?.();
  if (gc && compact) compactHeapNow();
  const h = getHeapStatistics();
  return { heapUsed: h.used_heap_size, heapTotal: h.total_heap_size, external: h.external_memory, collected: gc !== undefined };
}

parent.on('message', (m: ToEngineThread) => {
  if (m.type === 'adopt') {
    adopt(m.port);
    return;
  }
  if (m.type === 'memory') {
    post({ type: 'memory', id: m.id, memory: memory(m.collect, m.compact ?? false) });
    return;
  }
  compaction?.stop();
  engine.stop().then(
    () => post({ type: 'stopped' }),
    (err: unknown) => {
      logger.error({ err }, 'SIP engine stop failed');
      post({ type: 'stopped' });
    },
  );
});

try {
  await engine.start();
  post({ type: 'ready', wirePort: engine.wirePort });
} catch (err) {
  const code = (err as { code?: unknown } | null)?.code;
  post({ type: 'failed', message: err instanceof Error ? err.message : String(err), ...(typeof code === 'string' ? { code } : {}) });
}
