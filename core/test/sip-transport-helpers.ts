import type { Socket } from 'node:net';
import { TransportLayer } from '../src/sip-engine/transport/index.ts';
import type { InboundMessage, ListenSpec, TransportOptions } from '../src/sip-engine/transport/index.ts';

/** A small SIP request whose Content-Length matches its body. */
export function sipRequest(tag: string, body = '', lengthHeader = 'Content-Length'): Buffer {
  return Buffer.from(
    `OPTIONS sip:bob@example.com SIP/2.0\r\n` +
    `Via: SIP/2.0/TCP client.invalid;branch=z9hG4bK${tag}\r\n` +
    `Call-ID: ${tag}@test\r\nCSeq: 1 OPTIONS\r\n` +
    `${lengthHeader}: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export async function startLayer(listen: ListenSpec[], extra: Partial<TransportOptions> = {}): Promise<TransportLayer> {
  const layer = new TransportLayer({ listen, maxMessageSize: 8192, idleTimeoutMs: 30_000, ...extra });
  await layer.start();
  return layer;
}

/** Resolves with the next `count` messages, or rejects after `ms` so a test never hangs. */
export function nextMessages(layer: TransportLayer, count: number, ms = 5000): Promise<InboundMessage[]> {
  return new Promise((resolve, reject) => {
    const got: InboundMessage[] = [];
    const timer = setTimeout(() => {
      layer.off('message', onMessage);
      reject(new Error(`only ${got.length} of ${count} messages arrived`));
    }, ms);
    const onMessage = (m: InboundMessage): void => {
      got.push(m);
      if (got.length === count) {
        clearTimeout(timer);
        layer.off('message', onMessage);
        resolve(got);
      }
    };
    layer.on('message', onMessage);
  });
}

export function nextError(layer: TransportLayer, ms = 5000): Promise<Error & { code?: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no error event')), ms);
    layer.once('error', (err) => { clearTimeout(timer); resolve(err); });
  });
}

/** Reads from a socket until `predicate` holds on everything read so far (bounded by ms). */
export function readUntil(socket: Socket, predicate: (all: Buffer) => boolean, ms = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let all = Buffer.alloc(0);
    const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out; read ${JSON.stringify(all.toString())}`)); }, ms);
    const onData = (chunk: Buffer): void => {
      all = Buffer.concat([all, chunk]);
      if (predicate(all)) { cleanup(); resolve(all); }
    };
    const onClose = (): void => { cleanup(); reject(new Error(`closed; read ${JSON.stringify(all.toString())}`)); };
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/** Resolves when the socket closes; rejects if it is still open after ms. */
export function closedWithin(socket: Socket, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) { resolve(); return; }
    socket.on('error', () => {}); // a reset is one way of being closed
    const timer = setTimeout(() => reject(new Error('socket still open')), ms);
    socket.once('close', () => { clearTimeout(timer); resolve(); });
  });
}

export const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
