/**
 * Contract between the transport layer and the rest of the engine.
 * The transport layer owns sockets (UDP, TCP, TLS, WS, WSS; IPv4 and IPv6),
 * stream framing and keep-alives; it knows nothing about transactions.
 */
export type TransportName = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** One socket to listen on, from a drachtio-style contact such as `sip:0.0.0.0:5060;transport=udp,tcp`. */
export interface ListenSpec {
  transport: TransportName;
  host: string;
  port: number;
  /** Address to advertise in Via/Contact/Record-Route instead of host (e.g. a public address). */
  external?: string;
}

/** A listener after bind: the port is the real one (port 0 resolves). */
export interface BoundListener {
  transport: TransportName;
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  /** Host to advertise (external ?? address, or 127.0.0.1 / ::1 for wildcard binds). */
  advertise: string;
}

/** Where a message came from / went to. For streams, id names the connection so replies reuse it. */
export interface Flow {
  transport: TransportName;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** Connection id for stream transports; for UDP `udp:<local>:<port>` of the socket. */
  id: string;
}

export interface InboundMessage {
  /** Exactly one complete SIP message (headers and body as framed by Content-Length). */
  data: Buffer;
  flow: Flow;
  receivedAt: number;
}

export interface SendTarget {
  transport: TransportName;
  address: string;
  port: number;
  /** Prefer this connection when it is still open (responses reuse the request's connection). */
  flowId?: string;
}

export interface TlsMaterial {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface TransportOptions {
  listen: ListenSpec[];
  /** Used for tls and wss listeners; when absent a self-signed certificate is generated. */
  tls?: TlsMaterial;
  /** Largest message accepted on any transport (bytes). */
  maxMessageSize: number;
  /** Stream connections with no traffic for this long are closed. */
  idleTimeoutMs: number;
  /** Outbound TCP/TLS connects give up after this long (default 10 s). */
  connectTimeoutMs?: number;
}

export interface TransportEvents {
  message: [InboundMessage];
  /** A framing problem on a stream (the connection is closed) or a socket error; never thrown. */
  error: [Error];
  'flow-closed': [Flow];
}
