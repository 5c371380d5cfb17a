/**
 * Two connected in-memory sockets for an app that runs in the engine's own
 * process (the host's Srf and the embedded engine). They are real
 * `net.Socket`s to whoever holds them (drachtio-srf checks `instanceof
 * net.Socket`), but what one end writes reaches the other on the next tick,
 * with no kernel in between: no syscalls, no loopback TCP stack, no Nagle.
 * Everything written in one tick arrives as one chunk, so the reader frames
 * it in one pass. The wire protocol on top is unchanged (authentication
 * included).
 */
import { MemorySocket, joinChunks, type Chunk } from './memory-socket.ts';

export class LoopbackSocket extends MemorySocket {
  #peer?: LoopbackSocket;
  #out: Chunk[] = [];
  #outBytes = 0;
  #flushing = false;
  #ended = false;

  /** The two ends of one in-memory connection. */
  static pair(): [LoopbackSocket, LoopbackSocket] {
    const a = new LoopbackSocket();
    const b = new LoopbackSocket();
    a.#peer = b;
    b.#peer = a;
    return [a, b];
  }

  /** Bytes written here that the other end has not been handed yet. */
  get pendingBytes(): number {
    return this.#outBytes;
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#ended = true;
    this.#schedule();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const peer = this.#peer;
    this.#peer = undefined;
    this.#out = [];
    this.#outBytes = 0;
    // The other end sees the connection close, as it would see a reset.
    if (peer && !peer.destroyed) process.nextTick(() => peer.destroy());
    super._destroy(err, callback);
  }

  protected override queueChunk(chunk: Chunk): void {
    if (!this.#peer) return;
    this.#out.push(chunk);
    this.#outBytes += chunk.length;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    process.nextTick(() => this.#flush());
  }

  #flush(): void {
    this.#flushing = false;
    const peer = this.#peer;
    const out = this.#out;
    this.#out = [];
    this.#outBytes = 0;
    if (!peer || peer.destroyed) return;
    if (out.length) peer.push(joinChunks(out));
    if (this.#ended) peer.push(null);
  }
}
