import { createSocket, type Socket } from 'node:dgram';
import { advertiseFor, familyOf, hostPort, normalizeAddress } from './address.ts';
import { socketError, TransportError, TransportErrorCode } from './errors.ts';
import type { FlowSink } from './flow-connection.ts';
import type { BoundListener, Flow, ListenSpec } from './types.ts';

const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

/** Datagrams of only CR/LF/space are keep-alives (RFC 5626 §3.5.1 style), not messages. */
function isKeepAlive(buf: Buffer): boolean {
  for (const byte of buf) if (byte !== 0x0d && byte !== 0x0a && byte !== 0x20) return false;
  return true;
}

/** One bound UDP socket; every datagram is one SIP message. */
export class UdpListener {
  readonly spec: ListenSpec;
  readonly #socket: Socket;
  readonly #sink: FlowSink;
  readonly #maxMessageSize: number;
  #bound: BoundListener | undefined;
  #flowId = '';
  #closed = false;

  constructor(spec: ListenSpec, maxMessageSize: number, sink: FlowSink) {
    this.spec = spec;
    this.#sink = sink;
    this.#maxMessageSize = maxMessageSize;
    const family = familyOf(spec.host);
    // A short stall (a GC, a disk sync) at thousands of datagrams a second overflows the
    // default ~200 KiB receive buffer and the kernel drops requests, which then come back as
    // retransmissions; 4 MiB rides out such a stall (the kernel caps it at net.core.rmem_max).
    this.#socket = createSocket({
      type: family === 'IPv6' ? 'udp6' : 'udp4',
      ipv6Only: family === 'IPv6',
      recvBufferSize: UDP_BUFFER_BYTES,
      sendBufferSize: UDP_BUFFER_BYTES,
    });
    this.#socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo.address, rinfo.port));
    this.#socket.on('error', (err) => sink.error(socketError(err, this.#flowId || `udp:${spec.host}:${spec.port}`)));
  }

  get bound(): BoundListener | undefined {
    return this.#bound;
  }

  get flowId(): string {
    return this.#flowId;
  }

  bind(): Promise<BoundListener> {
    const { host, port, external } = this.spec;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new TransportError(TransportErrorCode.BIND,
          `cannot listen on udp ${host}:${port}: ${err.message}; pick a free port or port 0`, { cause: err }));
      };
      this.#socket.once('error', onError);
      this.#socket.bind({ address: host, port }, () => {
        this.#socket.off('error', onError);
        const realPort = this.#socket.address().port;
        this.#flowId = `udp:${hostPort(host, realPort)}`;
        this.#bound = { transport: 'udp', address: host, port: realPort, family: familyOf(host), advertise: advertiseFor(host, external) };
        resolve(this.#bound);
      });
    });
  }

  flowTo(address: string, port: number): Flow {
    return {
      transport: 'udp',
      localAddress: this.spec.host,
      localPort: this.#bound?.port ?? this.spec.port,
      remoteAddress: normalizeAddress(address),
      remotePort: port,
      id: this.#flowId,
    };
  }

  send(data: Buffer, address: string, port: number): Promise<Flow> {
    const flow = this.flowTo(address, port);
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new TransportError(TransportErrorCode.NO_FLOW, `udp socket ${this.#flowId} is closed`, { flowId: this.#flowId }));
        return;
      }
      this.#socket.send(data, port, flow.remoteAddress, (err) => (err ? reject(socketError(err, this.#flowId)) : resolve(flow)));
    });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve(); // never bound (bind failed): nothing to wait for
      }
    });
  }

  #onMessage(msg: Buffer, address: string, port: number): void {
    if (msg.length > this.#maxMessageSize) {
      this.#sink.error(new TransportError(TransportErrorCode.TOO_LARGE,
        `dropped a ${msg.length}-byte datagram from ${hostPort(normalizeAddress(address), port)} on ${this.#flowId}: ` +
        `larger than maxMessageSize ${this.#maxMessageSize}`, { flowId: this.#flowId }));
      return;
    }
    if (isKeepAlive(msg)) return;
    this.#sink.message({ data: msg, flow: this.flowTo(address, port), receivedAt: Date.now() });
  }
}
