/**
 * One end of a wire connection between two threads of one process (the
 * host's Srf on the main thread, the embedded engine on its own thread). To
 * whoever holds it, it is a `net.Socket` (drachtio-srf checks `instanceof
 * net.Socket`); what it writes crosses to the other thread as a message on a
 * `MessagePort`. Everything written in one tick goes as one message, so the
 * other side frames it in one pass. The wire protocol on top is unchanged
 * (authentication included).
 */
import type { MessagePort } from 'node:worker_threads';
import { MemorySocket, joinChunks, type Chunk } from './memory-socket.ts';

/** What crosses the port: data, the end of the connection, or a message beside the wire (see postExtra). */
type PortMessage = { data: string | Uint8Array } | { end: true } | { extra: unknown };

export class PortSocket extends MemorySocket {
  #port?: MessagePort;
  #out: Chunk[] = [];
  #flushing = false;

  constructor(port: MessagePort) {
    super();
    this.#port = port;
    port.on('message', (m: PortMessage) => {
      if ('extra' in m) {
        this.emit('extra', m.extra);
        return;
      }
      if ('end' in m) {
        this.#detach();
        this.destroy();
        return;
      }
      this.push(typeof m.data === 'string' ? m.data : Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
    });
    // The other thread went away (stopped or crashed): the connection is gone.
    port.on('close', () => {
      this.#port = undefined;
      if (!this.destroyed) this.destroy();
    });
  }

  /**
   * Send `message` to the other end beside the wire protocol, after the data
   * written so far (one port keeps order): it arrives there as an `extra`
   * event. The host's wire-less in-dialog requests and their answers use it.
   */
  postExtra(message: unknown): boolean {
    if (!this.#port) return false;
    this.#flush();
    this.#port.postMessage({ extra: message } satisfies PortMessage);
    return true;
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#flush();
    this.#port?.postMessage({ end: true } satisfies PortMessage);
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const port = this.#port;
    this.#out = [];
    if (port) {
      // The other end sees the connection close, as it would see a reset.
      try {
        port.postMessage({ end: true } satisfies PortMessage);
      } catch {
        // the port is already closed
      }
      this.#detach();
    }
    super._destroy(err, callback);
  }

  #detach(): void {
    const port = this.#port;
    this.#port = undefined;
    if (!port) return;
    port.removeAllListeners('message');
    port.close();
  }

  protected override queueChunk(chunk: Chunk): void {
    if (!this.#port) return;
    this.#out.push(chunk);
    if (this.#flushing) return;
    this.#flushing = true;
    process.nextTick(() => this.#flush());
  }

  #flush(): void {
    this.#flushing = false;
    const out = this.#out;
    this.#out = [];
    if (!this.#port || out.length === 0) return;
    this.#port.postMessage({ data: joinChunks(out) } satisfies PortMessage);
  }
}
