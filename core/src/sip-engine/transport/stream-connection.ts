import type { Socket } from 'node:net';
import { normalizeAddress } from './address.ts';
import { socketError, TransportError, TransportErrorCode } from './errors.ts';
import type { FlowConnection, FlowSink } from './flow-connection.ts';
import { StreamFramer } from './stream-framer.ts';
import type { Flow } from './types.ts';

const PONG = Buffer.from('\r\n');

/** One TCP or TLS connection, inbound or outbound: framing, keep-alive pongs, idle close. */
export class StreamConnection implements FlowConnection {
  readonly flow: Flow;
  readonly #socket: Socket;
  readonly #sink: FlowSink;
  readonly #framer: StreamFramer;
  #open = true;

  constructor(socket: Socket, transport: 'tcp' | 'tls', opts: { maxMessageSize: number; idleTimeoutMs: number }, sink: FlowSink) {
    this.#socket = socket;
    this.#sink = sink;
    const local = normalizeAddress(socket.localAddress);
    const remote = normalizeAddress(socket.remoteAddress);
    const localPort = socket.localPort ?? 0;
    const remotePort = socket.remotePort ?? 0;
    this.flow = {
      transport,
      localAddress: local,
      localPort,
      remoteAddress: remote,
      remotePort,
      id: sink.nextFlowId(transport, local, localPort, remote, remotePort),
    };
    this.#framer = new StreamFramer({
      maxMessageSize: opts.maxMessageSize,
      onPing: () => { if (this.#open) socket.write(PONG); },
    });
    socket.setNoDelay(true);
    // net's own timer already restarts on every read and write
    socket.setTimeout(opts.idleTimeoutMs);
    socket.on('timeout', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => sink.error(socketError(err, this.flow.id)));
    socket.on('close', () => {
      this.#open = false;
      sink.closed(this);
    });
    if (socket.destroyed) this.#open = false;
  }

  get open(): boolean {
    return this.#open && !this.#socket.destroyed;
  }

  write(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.open) {
        reject(new TransportError(TransportErrorCode.NO_FLOW, `connection ${this.flow.id} is closed`, { flowId: this.flow.id }));
        return;
      }
      this.#socket.write(data, (err) => (err ? reject(socketError(err, this.flow.id)) : resolve()));
    });
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    const messages = this.#framer.push(chunk);
    const receivedAt = Date.now();
    for (const data of messages) this.#sink.message({ data, flow: this.flow, receivedAt });
    const err = this.#framer.error;
    if (err) {
      this.#sink.error(new TransportError(err.code, `${err.message} (${this.flow.id})`, { flowId: this.flow.id }));
      this.#socket.destroy();
    }
  }
}
