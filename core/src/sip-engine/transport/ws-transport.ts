import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { normalizeAddress } from './address.ts';
import { socketError, TransportError, TransportErrorCode } from './errors.ts';
import type { FlowConnection, FlowSink } from './flow-connection.ts';
import type { StreamSettings } from './stream-transport.ts';
import type { BoundListener, Flow, ListenSpec, TlsMaterial } from './types.ts';
import { listenOn } from './listen-on.ts';

const SUBPROTOCOL = 'sip';
const PING = '\r\n\r\n';

function offersSip(req: IncomingMessage): boolean {
  const header = req.headers['sec-websocket-protocol'];
  if (typeof header !== 'string') return false;
  return header.split(',').some((p) => p.trim() === SUBPROTOCOL);
}

function refuse(socket: Duplex, status: string, reason: string): void {
  socket.end(
    `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
    `Content-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
}

/** One SIP-over-WebSocket connection (RFC 7118): one WS message is one SIP message. */
export class WsConnection implements FlowConnection {
  readonly flow: Flow;
  readonly #ws: WebSocket;
  readonly #idle: NodeJS.Timeout;

  constructor(ws: WebSocket, req: IncomingMessage, transport: 'ws' | 'wss', settings: StreamSettings, sink: FlowSink) {
    this.#ws = ws;
    const s = req.socket;
    const local = normalizeAddress(s.localAddress);
    const remote = normalizeAddress(s.remoteAddress);
    const localPort = s.localPort ?? 0;
    const remotePort = s.remotePort ?? 0;
    this.flow = {
      transport, localAddress: local, localPort, remoteAddress: remote, remotePort,
      id: sink.nextFlowId(transport, local, localPort, remote, remotePort),
    };
    this.#idle = setTimeout(() => ws.terminate(), settings.idleTimeoutMs);
    this.#idle.unref();
    ws.on('message', (raw: RawData) => {
      this.#idle.refresh();
      const data = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
      const text = data.toString('latin1');
      // SIP.js and JsSIP send RFC 5626-style CRLF pings over WebSocket too
      if (text === PING) { ws.send('\r\n'); return; }
      if (text.trim() === '') return;
      sink.message({ data, flow: this.flow, receivedAt: Date.now() });
    });
    // ws reports oversize frames (maxPayload) and protocol violations here, then closes
    ws.on('error', (err: Error & { code?: string }) => {
      sink.error(err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
        ? new TransportError(TransportErrorCode.TOO_LARGE,
          `WebSocket message larger than maxMessageSize ${settings.maxMessageSize} on ${this.flow.id}; the connection is closed`,
          { flowId: this.flow.id, cause: err })
        : socketError(err, this.flow.id));
    });
    ws.on('close', () => {
      clearTimeout(this.#idle);
      sink.closed(this);
    });
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  write(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.open) {
        reject(new TransportError(TransportErrorCode.NO_FLOW, `connection ${this.flow.id} is closed`, { flowId: this.flow.id }));
        return;
      }
      this.#idle.refresh();
      // RFC 7118 §5: text frames, unless the body is not UTF-8 (which text frames cannot carry)
      this.#ws.send(data, { binary: !isUtf8(data) }, (err) => (err ? reject(socketError(err, this.flow.id)) : resolve()));
    });
  }

  destroy(): void {
    this.#ws.terminate();
  }
}

/** An HTTP or HTTPS server that upgrades only handshakes offering the `sip` sub-protocol. */
export class WsListener {
  readonly spec: ListenSpec;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  #bound: BoundListener | undefined;

  constructor(spec: ListenSpec & { transport: 'ws' | 'wss' }, settings: StreamSettings, sink: FlowSink, tls?: TlsMaterial) {
    this.spec = spec;
    const transport = spec.transport;
    const onRequest = (_req: IncomingMessage, res: import('node:http').ServerResponse): void => {
      res.writeHead(426, { Upgrade: 'websocket', 'Content-Type': 'text/plain' });
      res.end('this port speaks SIP over WebSocket (RFC 7118): upgrade with sub-protocol "sip"\n');
    };
    if (transport === 'wss') {
      if (!tls) throw new TransportError(TransportErrorCode.BAD_OPTIONS, 'a wss listener needs certificate and key');
      this.#server = createHttpsServer({ cert: tls.cert, key: tls.key }, onRequest);
      this.#server.on('tlsClientError', (err: Error) => sink.error(socketError(err, `wss-listener:${spec.host}:${spec.port}`)));
    } else {
      this.#server = createHttpServer(onRequest);
    }
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: settings.maxMessageSize,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const onHandshakeError = (err: Error): void => sink.error(socketError(err, `${transport}-handshake`));
      socket.on('error', onHandshakeError);
      if (!offersSip(req)) {
        refuse(socket, '400 Bad Request', 'SIP over WebSocket requires the "sip" sub-protocol (RFC 7118)\n');
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        socket.off('error', onHandshakeError); // from here the WebSocket reports errors with its flow id
        sink.opened(new WsConnection(ws, req, transport, settings, sink));
      });
    });
    this.#server.on('error', (err) => sink.error(socketError(err, `${transport}-listener:${spec.host}:${spec.port}`)));
  }

  get bound(): BoundListener | undefined {
    return this.#bound;
  }

  async bind(): Promise<BoundListener> {
    this.#bound = await listenOn(this.#server, this.spec);
    return this.#bound;
  }


  close(): Promise<void> {
    this.#wss.close();
    return new Promise((resolve) => {
      if (!this.#server.listening) { resolve(); return; }
      this.#server.closeAllConnections();
      this.#server.close(() => resolve());
    });
  }
}
