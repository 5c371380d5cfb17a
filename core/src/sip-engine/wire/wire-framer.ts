/**
 * drachtio wire framing: `<byte length>#<payload>`, where the payload is
 * `<msgId>|<command>|…` and may carry a SIP message after the first CRLF.
 */
export class WireFramer {
  #buf: Buffer = Buffer.alloc(0);
  readonly #maxFrame: number;

  constructor(maxFrame = 1024 * 1024) {
    this.#maxFrame = maxFrame;
  }

  /** Returns complete payloads; throws on a malformed length prefix. */
  push(chunk: Buffer): string[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out: string[] = [];
    for (;;) {
      const hash = this.#buf.indexOf(0x23 /* # */);
      if (hash < 0) {
        if (this.#buf.length > 24) throw new Error('missing length prefix');
        return out;
      }
      const lenText = this.#buf.toString('latin1', 0, hash);
      if (!/^\d{1,9}$/.test(lenText)) throw new Error(`invalid length prefix '${lenText.slice(0, 24)}'`);
      const len = Number(lenText);
      if (len <= 0 || len > this.#maxFrame) throw new Error(`frame length ${len} out of range`);
      const end = hash + 1 + len;
      if (this.#buf.length < end) return out;
      out.push(this.#buf.toString('utf8', hash + 1, end));
      this.#buf = this.#buf.subarray(end);
    }
  }
}

export function frame(payload: string): string {
  return `${Buffer.byteLength(payload, 'utf8')}#${payload}`;
}
