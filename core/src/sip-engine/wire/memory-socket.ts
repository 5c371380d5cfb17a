/**
 * What the engine's in-memory wire sockets share (LoopbackSocket within a
 * thread, PortSocket across threads): a `net.Socket` to its holder whose
 * writes are queued by the subclass and handed over once per tick, and whose
 * reads are pushed by the other end.
 */
import { Socket } from 'node:net';

export type Chunk = string | Buffer;

export abstract class MemorySocket extends Socket {
  /** Take one written chunk (sent on with the others of this tick). */
  protected abstract queueChunk(chunk: Chunk): void;

  override _read(): void {
    /* data is pushed by the other end */
  }

  override _write(chunk: Chunk, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.queueChunk(chunk);
    callback();
  }

  override _writev(chunks: Array<{ chunk: Chunk; encoding: BufferEncoding }>, callback: (err?: Error | null) => void): void {
    for (const c of chunks) this.queueChunk(c.chunk);
    callback();
  }
}

/** The chunks of one tick as one: a string when all are strings, else a Buffer. */
export function joinChunks(chunks: Chunk[]): Chunk {
  if (chunks.length === 1) return chunks[0]!;
  return chunks.every((c) => typeof c === 'string') ? chunks.join('') : Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}
