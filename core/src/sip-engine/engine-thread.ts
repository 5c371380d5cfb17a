/**
 * The embedded SIP engine on a worker thread of its own
 * (`sip.engineThread = "worker"`). The engine's work (parsing, transactions,
 * timers, sockets, and the garbage its messages leave) then runs beside the
 * host's apps instead of between them: on a machine with two or more cores
 * the main thread's event loop only carries drachtio-srf and the plugins.
 * Apps reach the engine's wire through a MessagePort each (PortSocket), and
 * other drachtio apps over TCP as before. The engine's log records are
 * written by the host's logger.
 */
import { MessageChannel, type Worker } from 'node:worker_threads';
import { moduleWorker } from '../threads/module-worker.ts';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { SipEngineOptions } from './sip-engine.ts';
import type { EngineThreadData, EngineThreadMemory, FromEngineThread, DirectItem, ToEngineThread, WireExtra } from './engine-thread-main.ts';
import { PortSocket } from './wire/port-socket.ts';
import { notDirect, sendsDirect, type DirectTarget } from './direct-methods.ts';
import type { HostAnswer, HostRequest } from './host-requests.ts';

const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** How long a stopping engine thread may take to close its sockets before it is terminated. */
const STOP_GRACE_MS = 5000;

export class EngineThread {
  readonly #options: Omit<SipEngineOptions, 'logger'>;
  readonly #compactWhenIdle: boolean;
  readonly #log: Logger;
  #worker?: Worker;
  #wirePort = 0;
  #stopping = false;
  #stopped?: () => void;
  /** The app on this thread whose port also carries the wire-less requests (the host's Srf). */
  #app?: PortSocket;
  /** Wire-less requests not yet handed to the thread (sent together once per turn of the loop). */
  #outbox: DirectItem[] = [];
  /** Request id → who waits for its final status. */
  readonly #waiting = new Map<number, (status: number) => void>();
  #nextId = 1;
  readonly #memoryAsked = new Map<number, (m: EngineThreadMemory | undefined) => void>();
  /** Where the requests the host serves itself go (serveHost). */
  #serving?: (request: HostRequest) => void;
  /** The host's answers not yet handed to the thread. */
  #answers: HostAnswer[] = [];

  /** `compactWhenIdle`: the thread compacts its own heap when quiet after growing (runtime.compactWhenIdle). */
  constructor(opts: SipEngineOptions & { compactWhenIdle?: boolean }) {
    const { logger, compactWhenIdle, ...options } = opts;
    this.#options = options;
    this.#compactWhenIdle = compactWhenIdle ?? false;
    if (!logger) throw new Error('EngineThread needs a logger for the engine thread\'s records');
    this.#log = logger;
  }

  get wirePort(): number {
    return this.#wirePort;
  }

  async start(): Promise<void> {
    if (this.#worker) return;
    const data: EngineThreadData = { options: this.#options, logLevel: this.#log.level, compactWhenIdle: this.#compactWhenIdle };
    const worker = moduleWorker(import.meta.url, './engine-thread-main', { workerData: data, name: 'switchboard-sip-engine' });
    this.#worker = worker;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        this.#worker = undefined;
        void worker.terminate();
        reject(err);
      };
      worker.on('message', (m: FromEngineThread) => {
        switch (m.type) {
          case 'log':
            this.#write(m.line);
            break;
          case 'ready':
            this.#wirePort = m.wirePort;
            resolve();
            break;
          case 'failed':
            fail(Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
            break;
          case 'stopped':
            this.#stopped?.();
            break;
          case 'memory':
            this.#memoryAsked.get(m.id)?.(m.memory);
            this.#memoryAsked.delete(m.id);
            break;
        }
      });
      worker.once('error', (err) => {
        if (!this.#wirePort) fail(err);
        else this.#log.error({ err, code: 'SIP_ERR_ENGINE_THREAD' }, 'the SIP engine thread failed; SIP is down until the host restarts');
      });
      worker.once('exit', (code) => {
        if (!this.#wirePort) fail(new Error(`the SIP engine thread exited (${code}) before it was ready`));
        else if (!this.#stopping) this.#log.error({ code: 'SIP_ERR_ENGINE_THREAD', exitCode: code }, 'the SIP engine thread exited; SIP is down until the host restarts');
        if (this.#worker === worker) this.#worker = undefined;
        // Requests the thread took with it: the engine is gone, so they were not sent (or not answered).
        for (const resolve of this.#waiting.values()) resolve(503);
        this.#waiting.clear();
        for (const answer of this.#memoryAsked.values()) answer(undefined);
        this.#memoryAsked.clear();
        this.#stopped?.();
      });
    });
  }

  /**
   * The engine thread's V8 heap, after collecting its garbage when `collect`
   * is set and the process runs with --expose-gc (monitoring and benchmarks:
   * the main thread's process.memoryUsage() does not include it), then
   * compacting it when `compact` is set too (see compactHeapNow). Undefined
   * when the thread is not running or does not answer within 5 s.
   */
  memory(collect = false, compact = false): Promise<EngineThreadMemory | undefined> {
    const worker = this.#worker;
    if (!worker || this.#stopping) return Promise.resolve(undefined);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#memoryAsked.delete(id);
        resolve(undefined);
      }, 5000);
      this.#memoryAsked.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      worker.postMessage({ type: 'memory', id, collect, compact } satisfies ToEngineThread);
    });
  }

  /** A connection to the engine's wire for an app on this thread (hand it to drachtio-srf). */
  openLoopback(): Socket {
    const worker = this.#worker;
    if (!worker) throw new Error('the SIP engine thread is not running');
    const { port1, port2 } = new MessageChannel();
    worker.postMessage({ type: 'adopt', port: port2 } satisfies ToEngineThread, [port2]);
    const app = new PortSocket(port1);
    app.on('extra', (x: WireExtra) => {
      if ('finals' in x) for (const [id, status] of x.finals) this.#settle(id, status);
      else if ('inbound' in x) for (const r of x.inbound) this.#serving?.(r);
    });
    app.once('close', () => {
      if (this.#app === app) this.#app = undefined;
    });
    this.#app = app;
    return app;
  }

  /**
   * SipEngine.requestDirect, on the engine's thread. The requests of one
   * turn of the event loop cross together, on the app's port after what the
   * app wrote on the wire before them (a 200 to a PUBLISH goes out before
   * the NOTIFYs it causes, as it would through the wire).
   */
  requestDirect(target: DirectTarget, method: string, headers: Record<string, string>, body?: string): Promise<number> {
    if (!sendsDirect(target, method.toUpperCase())) return Promise.reject(notDirect(method.toUpperCase()));
    if (!this.#worker || this.#stopping) return Promise.resolve(503);
    const id = this.#nextId++;
    if (this.#outbox.push({ id, target, method, headers, ...(body !== undefined ? { body } : {}) }) === 1) {
      setImmediate(() => {
        const items = this.#outbox;
        this.#outbox = [];
        if (!this.#app?.postExtra({ requests: items } satisfies WireExtra)) for (const item of items) this.#settle(item.id, 503);
      });
    }
    return new Promise<number>((resolve) => this.#waiting.set(id, resolve));
  }

  /**
   * SipEngine.serveHost, on the engine's thread: requests of these methods
   * cross on the app's port as plain data, together once per turn of the
   * loop, and the answers go back the same way. Call after openLoopback().
   */
  serveHost(methods: readonly string[], deliver?: (request: HostRequest) => void): void {
    if (!this.#app) throw new Error('the SIP engine thread has no connection from this thread yet (openLoopback first)');
    this.#serving = deliver;
    this.#app.postExtra({ serve: deliver ? [...methods] : [] } satisfies WireExtra);
  }

  /** SipEngine.answerHost, on the engine's thread (sent once per turn of the loop, with the others of that turn). */
  answerHost(answer: HostAnswer): boolean {
    if (!this.#app) return false;
    if (this.#answers.push(answer) === 1) {
      setImmediate(() => {
        const items = this.#answers;
        this.#answers = [];
        this.#app?.postExtra({ answers: items } satisfies WireExtra);
      });
    }
    return true;
  }

  #settle(id: number, status: number): void {
    const resolve = this.#waiting.get(id);
    this.#waiting.delete(id);
    resolve?.(status);
  }

  async stop(): Promise<void> {
    const worker = this.#worker;
    if (!worker || this.#stopping) return;
    this.#stopping = true;
    const stopped = new Promise<void>((resolve) => {
      this.#stopped = resolve;
    });
    worker.postMessage({ type: 'stop' } satisfies ToEngineThread);
    const grace = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    await stopped;
    clearTimeout(grace);
    await worker.terminate();
    this.#worker = undefined;
  }

  /** One of the engine thread's pino records, written by the host's logger. */
  #write(line: string): void {
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const { level, msg, time: _time, ...fields } = rec;
    const method = LEVELS[Number(level)] ?? 'info';
    this.#log[method](fields, typeof msg === 'string' ? msg : '');
  }
}
