import { hostPort } from './address.ts';
import type { Flow, InboundMessage, TransportName } from './types.ts';

/** A live connection (TCP, TLS, WS or WSS) that replies can be sent over. */
export interface FlowConnection {
  readonly flow: Flow;
  readonly open: boolean;
  write(data: Buffer): Promise<void>;
  /** Ends the connection at once; `closed` on the sink follows. */
  destroy(): void;
}

/** What listeners and connections report to the layer that owns them. */
export interface FlowSink {
  nextFlowId(transport: TransportName, local: string, localPort: number, remote: string, remotePort: number): string;
  message(msg: InboundMessage): void;
  error(err: Error): void;
  opened(conn: FlowConnection): void;
  closed(conn: FlowConnection): void;
}

export function streamFlowId(
  transport: TransportName, local: string, localPort: number, remote: string, remotePort: number, seq: number,
): string {
  return `${transport}:${hostPort(local, localPort)}-${hostPort(remote, remotePort)}#${seq}`;
}
