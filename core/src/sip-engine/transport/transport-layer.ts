import { isIP } from 'node:net';
import { pino, type Logger } from 'pino';
import { familyOf, normalizeAddress } from './address.ts';
import { TransportError, TransportErrorCode } from './errors.ts';
import { streamFlowId, type FlowConnection, type FlowSink } from './flow-connection.ts';
import { generateSelfSigned } from './self-signed.ts';
import { StreamConnection } from './stream-connection.ts';
import { connectStream, StreamListener } from './stream-transport.ts';
import { TypedEmitter } from './typed-emitter.ts';
import { UdpListener } from './udp-transport.ts';
import { WsListener } from './ws-transport.ts';
import type {
  BoundListener, Flow, InboundMessage, ListenSpec, SendTarget, TlsMaterial, TransportEvents, TransportName, TransportOptions,
} from './types.ts';

type Listener = UdpListener | StreamListener | WsListener;
type State = 'new' | 'starting' | 'started' | 'closing' | 'closed';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

function remoteKey(transport: TransportName, address: string, port: number): string {
  return `${transport}|${normalizeAddress(address)}|${port}`;
}

function checkOptions(opts: TransportOptions): void {
  const fail = (field: string, why: string): never => {
    throw new TransportError(TransportErrorCode.BAD_OPTIONS, `transport options: ${field} ${why}`);
  };
  if (!Array.isArray(opts.listen)) fail('listen', 'must be an array of ListenSpec (see parseContact)');
  opts.listen.forEach((s, i) => {
    if (!['udp', 'tcp', 'tls', 'ws', 'wss'].includes(s.transport)) fail(`listen[${i}].transport`, 'must be udp, tcp, tls, ws or wss');
    if (isIP(normalizeAddress(s.host)) === 0) fail(`listen[${i}].host`, 'must be an IPv4 or IPv6 address');
    if (!Number.isInteger(s.port) || s.port < 0 || s.port > 65535) fail(`listen[${i}].port`, 'must be an integer 0-65535');
  });
  if (!(Number.isInteger(opts.maxMessageSize) && opts.maxMessageSize > 0)) fail('maxMessageSize', 'must be a positive integer');
  if (!(opts.idleTimeoutMs > 0)) fail('idleTimeoutMs', 'must be a positive number of milliseconds');
}

/**
 * Owns every SIP socket of the engine. Messages arrive as `message` events
 * with the flow they came on; `send` picks (or opens) the flow to answer on.
 */
export class TransportLayer {
  readonly #opts: TransportOptions;
  readonly #log: Logger;
  readonly #events: TypedEmitter<TransportEvents>;
  readonly #listeners: Listener[] = [];
  readonly #connections = new Map<string, FlowConnection>();
  /** remoteKey → ids of open connections to that peer, for reuse by address. */
  readonly #byRemote = new Map<string, Set<string>>();
  /** Outbound connects in progress, so concurrent sends share one connection. */
  readonly #connecting = new Map<string, Promise<FlowConnection>>();
  #seq = 0;
  #state: State = 'new';
  #closing: Promise<void> | undefined;

  constructor(opts: TransportOptions, log?: Logger) {
    checkOptions(opts);
    this.#opts = { ...opts, listen: opts.listen.map((s) => ({ ...s, host: normalizeAddress(s.host) })) };
    this.#log = log ?? pino({ level: 'silent' });
    this.#events = new TypedEmitter<TransportEvents>(this.#log);
  }

  on<K extends keyof TransportEvents & string>(event: K, listener: (...args: TransportEvents[K]) => void): this {
    this.#events.on(event, listener);
    return this;
  }

  once<K extends keyof TransportEvents & string>(event: K, listener: (...args: TransportEvents[K]) => void): this {
    this.#events.once(event, listener);
    return this;
  }

  off<K extends keyof TransportEvents & string>(event: K, listener: (...args: TransportEvents[K]) => void): this {
    this.#events.off(event, listener);
    return this;
  }

  /** Binds every ListenSpec; on any failure closes what was bound and rejects with SIP_ERR_BIND. */
  async start(): Promise<void> {
    if (this.#state !== 'new') {
      throw new TransportError(TransportErrorCode.NOT_STARTED, `start() called in state ${this.#state}; create a new TransportLayer`);
    }
    this.#state = 'starting';
    try {
      const tls = await this.#tlsMaterial();
      const sink = this.#sink();
      const settings = { maxMessageSize: this.#opts.maxMessageSize, idleTimeoutMs: this.#opts.idleTimeoutMs };
      for (const spec of this.#opts.listen) this.#listeners.push(this.#createListener(spec, settings, sink, tls));
      // sequential so a bind error names the first listener that failed
      for (const l of this.#listeners) {
        const b = await l.bind();
        this.#log.info({ transport: b.transport, address: b.address, port: b.port }, 'sip transport listening');
      }
      if ((this.#state as State) !== 'starting') throw new TransportError(TransportErrorCode.NOT_STARTED, 'closed while starting');
      this.#state = 'started';
    } catch (err) {
      await this.#shutdown();
      this.#state = 'closed';
      throw err;
    }
  }

  listeners(): BoundListener[] {
    return this.#listeners.flatMap((l) => (l.bound ? [{ ...l.bound }] : []));
  }

  /** Sends one complete message; resolves with the flow it went over. */
  async send(target: SendTarget, data: Buffer): Promise<Flow> {
    if (this.#state !== 'started') {
      throw new TransportError(TransportErrorCode.NOT_STARTED, `cannot send while the transport layer is ${this.#state}; await start() first`);
    }
    if (target.transport === 'udp') return this.#sendUdp(target, data);
    const conn = await this.#connectionFor(target);
    await conn.write(data);
    return conn.flow;
  }

  /** Closes every socket and server. Safe to call more than once. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#state === 'starting') this.#state = 'closing';
    this.#closing = this.#shutdown().then(() => { this.#state = 'closed'; });
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    if (this.#state !== 'closed') this.#state = 'closing';
    for (const conn of [...this.#connections.values()]) conn.destroy();
    await Promise.all(this.#listeners.map((l) => l.close()));
  }

  async #tlsMaterial(): Promise<TlsMaterial | undefined> {
    if (this.#opts.tls) return this.#opts.tls;
    if (!this.#opts.listen.some((s) => s.transport === 'tls' || s.transport === 'wss')) return undefined;
    this.#log.warn('no TLS certificate configured: using a generated self-signed one');
    return generateSelfSigned();
  }

  #createListener(spec: ListenSpec, settings: { maxMessageSize: number; idleTimeoutMs: number }, sink: FlowSink, tls?: TlsMaterial): Listener {
    switch (spec.transport) {
      case 'udp': return new UdpListener(spec, settings.maxMessageSize, sink);
      case 'tcp':
      case 'tls': return new StreamListener({ ...spec, transport: spec.transport }, settings, sink, tls);
      case 'ws':
      case 'wss': return new WsListener({ ...spec, transport: spec.transport }, settings, sink, tls);
    }
  }

  #sink(): FlowSink {
    return {
      nextFlowId: (transport, local, localPort, remote, remotePort) =>
        streamFlowId(transport, local, localPort, remote, remotePort, ++this.#seq),
      message: (msg: InboundMessage) => this.#events.emit('message', msg),
      error: (err: Error) => this.#events.emit('error', err),
      opened: (conn) => this.#adopt(conn),
      closed: (conn) => this.#forget(conn),
    };
  }

  #adopt(conn: FlowConnection): void {
    if (this.#state === 'closing' || this.#state === 'closed') { conn.destroy(); return; }
    if (!conn.open) return;
    const { flow } = conn;
    this.#connections.set(flow.id, conn);
    const key = remoteKey(flow.transport, flow.remoteAddress, flow.remotePort);
    let ids = this.#byRemote.get(key);
    if (!ids) this.#byRemote.set(key, (ids = new Set()));
    ids.add(flow.id);
    this.#log.debug({ flow: flow.id }, 'sip flow opened');
  }

  #forget(conn: FlowConnection): void {
    const { flow } = conn;
    if (this.#connections.get(flow.id) !== conn) return;
    this.#connections.delete(flow.id);
    const key = remoteKey(flow.transport, flow.remoteAddress, flow.remotePort);
    const ids = this.#byRemote.get(key);
    ids?.delete(flow.id);
    if (ids?.size === 0) this.#byRemote.delete(key);
    this.#log.debug({ flow: flow.id }, 'sip flow closed');
    this.#events.emit('flow-closed', flow);
  }

  #sendUdp(target: SendTarget, data: Buffer): Promise<Flow> {
    const family = familyOf(target.address);
    const udp = this.#listeners.filter((l): l is UdpListener => l instanceof UdpListener && l.bound?.family === family);
    const chosen = udp.find((l) => l.flowId === target.flowId) ?? udp[0];
    if (!chosen) {
      return Promise.reject(new TransportError(TransportErrorCode.NO_LISTENER,
        `no ${family} udp listener to send to ${target.address}:${target.port}; add one to sip contacts`));
    }
    return chosen.send(data, target.address, target.port);
  }

  async #connectionFor(target: SendTarget): Promise<FlowConnection> {
    const byId = target.flowId ? this.#connections.get(target.flowId) : undefined;
    if (byId?.open && byId.flow.transport === target.transport) return byId;
    const key = remoteKey(target.transport, target.address, target.port);
    for (const id of this.#byRemote.get(key) ?? []) {
      const conn = this.#connections.get(id);
      if (conn?.open) return conn;
    }
    if (target.transport === 'ws' || target.transport === 'wss') {
      throw new TransportError(TransportErrorCode.NO_FLOW,
        `no open ${target.transport} connection to ${target.address}:${target.port}` +
        `${target.flowId ? ` (flow ${target.flowId} is gone)` : ''}; WebSocket peers must connect to us first`);
    }
    const transport = target.transport;
    if (transport === 'udp') throw new TransportError(TransportErrorCode.NO_FLOW, 'udp has no connections');
    let pending = this.#connecting.get(key);
    if (!pending) {
      pending = this.#connect(transport, target.address, target.port).finally(() => this.#connecting.delete(key));
      this.#connecting.set(key, pending);
    }
    return pending;
  }

  async #connect(transport: 'tcp' | 'tls', address: string, port: number): Promise<FlowConnection> {
    const timeout = this.#opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const socket = await connectStream(transport, address, port, timeout);
    if (this.#state !== 'started') {
      socket.destroy();
      throw new TransportError(TransportErrorCode.NOT_STARTED, 'transport layer closed while connecting');
    }
    const settings = { maxMessageSize: this.#opts.maxMessageSize, idleTimeoutMs: this.#opts.idleTimeoutMs };
    const conn = new StreamConnection(socket, transport, settings, this.#sink());
    this.#adopt(conn);
    return conn;
  }
}
