import { createServer as createNetServer, connect as netConnect, isIP, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { normalizeAddress } from './address.ts';
import { socketError, TransportError, TransportErrorCode } from './errors.ts';
import type { FlowSink } from './flow-connection.ts';
import { StreamConnection } from './stream-connection.ts';
import type { BoundListener, ListenSpec, TlsMaterial } from './types.ts';
import { listenOn } from './listen-on.ts';

export interface StreamSettings {
  maxMessageSize: number;
  idleTimeoutMs: number;
}

/** A TCP or TLS server socket; every accepted connection becomes a StreamConnection. */
export class StreamListener {
  readonly spec: ListenSpec;
  readonly #server: Server;
  #bound: BoundListener | undefined;

  constructor(spec: ListenSpec & { transport: 'tcp' | 'tls' }, settings: StreamSettings, sink: FlowSink, tls?: TlsMaterial) {
    this.spec = spec;
    const transport = spec.transport;
    const accept = (socket: Socket): void => {
      // the connection may already be gone by the time we see it
      if (socket.destroyed || !socket.remoteAddress) { socket.destroy(); return; }
      sink.opened(new StreamConnection(socket, transport, settings, sink));
    };
    if (transport === 'tls') {
      if (!tls) throw new TransportError(TransportErrorCode.BAD_OPTIONS, 'a tls listener needs certificate and key');
      const server = createTlsServer({ cert: tls.cert, key: tls.key }, accept);
      server.on('tlsClientError', (err, socket) => {
        sink.error(socketError(err, `tls:${normalizeAddress(socket.remoteAddress)}:${socket.remotePort ?? 0}`));
      });
      this.#server = server;
    } else {
      this.#server = createNetServer(accept);
    }
    this.#server.on('error', (err) => sink.error(socketError(err, `${transport}-listener:${spec.host}:${spec.port}`)));
  }

  get bound(): BoundListener | undefined {
    return this.#bound;
  }

  async bind(): Promise<BoundListener> {
    this.#bound = await listenOn(this.#server, this.spec);
    return this.#bound;
  }


  /** Stops accepting; open connections are destroyed by their owner. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) { resolve(); return; }
      this.#server.close(() => resolve());
    });
  }
}

/**
 * Opens an outbound TCP or TLS connection. TLS does not verify the peer
 * (rejectUnauthorized false) because deployments here run on self-signed
 * certificates; verification belongs to a later, configurable policy.
 */
export function connectStream(transport: 'tcp' | 'tls', address: string, port: number, timeoutMs: number): Promise<Socket> {
  const host = normalizeAddress(address);
  return new Promise((resolve, reject) => {
    const socket: Socket = transport === 'tls'
      ? tlsConnect({ host, port, rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }) })
      : netConnect({ host, port });
    const readyEvent = transport === 'tls' ? 'secureConnect' : 'connect';
    const target = `${transport}:${host}:${port}`;
    const fail = (reason: string, cause?: unknown): void => {
      cleanup();
      socket.destroy();
      reject(new TransportError(TransportErrorCode.CONNECT, `cannot connect to ${target}: ${reason}`, { flowId: target, cause }));
    };
    const onError = (err: Error): void => fail(err.message, err);
    const onTimeout = (): void => fail(`no answer within ${timeoutMs} ms`);
    const onReady = (): void => {
      cleanup();
      socket.setTimeout(0);
      resolve(socket);
    };
    const cleanup = (): void => {
      socket.off('error', onError);
      socket.off('timeout', onTimeout);
      socket.off(readyEvent, onReady);
    };
    socket.setTimeout(timeoutMs);
    socket.once('error', onError);
    socket.once('timeout', onTimeout);
    socket.once(readyEvent, onReady);
  });
}
