/**
 * One drachtio-srf application connected over the wire protocol. Parses the
 * commands it sends and formats what the engine sends back; what the
 * commands mean is the engine core's business.
 */
import { nextId } from '../ids.ts';
import type { Socket } from 'node:net';
import { WireFramer, frame } from './wire-framer.ts';

export interface SipCommand {
  msgId: string;
  txnId: string;
  dialogId: string;
  /** Optional outbound proxy the app asked for (4th token). */
  proxy: string;
  raw: string;
}

export interface ProxyCommand {
  msgId: string;
  txnId: string;
  remainInDialog: boolean;
  fullResponse: boolean;
  followRedirects: boolean;
  simultaneous: boolean;
  provisionalTimeout: string;
  finalTimeout: string;
  destinations: string[];
  raw: string;
}

export interface AppConnectionHandlers {
  authenticate(conn: AppConnection, secret: string, tags: string[]): boolean;
  hostport(): string;
  route(conn: AppConnection, verb: string): void;
  removeRoute(conn: AppConnection, verb: string): void;
  sip(conn: AppConnection, cmd: SipCommand): void;
  proxy(conn: AppConnection, cmd: ProxyCommand): void;
  closed(conn: AppConnection): void;
  protocolError(conn: AppConnection, err: Error): void;
}

/** Meta fields in the order drachtio-srf reads them after `sip|` or `response|rId|OK|`. */
export interface WireMeta {
  source: 'network' | 'application';
  protocol: string;
  address: string;
  port: number | string;
  time: string;
  transactionId: string;
  dialogId: string;
}

let seq = 0;

export class AppConnection {
  readonly id = `app-${++seq}`;
  readonly socket: Socket;
  authenticated = false;
  tags: string[] = [];
  #closed = false;
  readonly #framer = new WireFramer();
  readonly #h: AppConnectionHandlers;

  constructor(socket: Socket, handlers: AppConnectionHandlers) {
    this.socket = socket;
    this.#h = handlers;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes written to the app and not yet taken by it. */
  backlogBytes(): number {
    return this.socket.writableLength;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // end() flushes what is corked (e.g. the NOK that explains the close); destroy if the peer lingers.
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.#h.closed(this);
  }

  /** Engine-initiated message (sip, cdr:*). */
  send(payload: string): void {
    if (this.#closed) return;
    // Writes made in one tick leave in one writev: under load that halves the syscalls.
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(frame(`${nextId()}|${payload}`));
  }

  #corked = false;

  ok(rId: string, fields: Array<string | number> = [], body?: string): void {
    const head = ['response', rId, 'OK', ...fields].join('|');
    this.send(body === undefined ? head : `${head}\r\n${body}`);
  }

  nok(rId: string, reason: string): void {
    this.send(`response|${rId}|NOK|${reason.replace(/[|\r\n]/g, ' ')}`);
  }

  /** `response|rId|OK|<meta>` + CRLF + message (echo of what was sent, or a proxied response). */
  okWithMessage(rId: string, meta: WireMeta, raw: string, more = false): void {
    const fields = [meta.source, Buffer.byteLength(raw), meta.protocol, meta.address, meta.port, meta.time, meta.transactionId, meta.dialogId];
    if (more) fields.push('continue');
    this.ok(rId, fields, raw);
  }

  /** `sip|<meta>|<receivedOn>` + CRLF + message: a SIP message for the app. */
  sip(meta: WireMeta, raw: string, receivedOn?: { address: string; port: number }): void {
    const fields = ['sip', meta.source, Buffer.byteLength(raw), meta.protocol, meta.address, meta.port, meta.time, meta.transactionId, meta.dialogId];
    if (receivedOn) fields.push(receivedOn.address, receivedOn.port);
    this.send(`${fields.join('|')}\r\n${raw}`);
  }

  #onData(chunk: Buffer): void {
    let payloads: string[];
    try {
      payloads = this.#framer.push(chunk);
    } catch (err) {
      this.#h.protocolError(this, err as Error);
      this.close();
      return;
    }
    for (const p of payloads) {
      try {
        this.#dispatch(p);
      } catch (err) {
        this.#h.protocolError(this, err as Error);
      }
      if (this.#closed) return;
    }
  }

  #dispatch(payload: string): void {
    const crlf = payload.indexOf('\r\n');
    const leader = crlf < 0 ? payload : payload.slice(0, crlf);
    const raw = crlf < 0 ? '' : payload.slice(crlf + 2);
    const t = leader.split('|');
    const msgId = t[0] ?? '';
    const cmd = t[1] ?? '';
    if (cmd === 'authenticate') {
      const ok = this.#h.authenticate(this, t[2] ?? '', (t[3] ?? '').split(',').filter(Boolean));
      if (!ok) {
        this.nok(msgId, 'authentication failed');
        this.socket.end();
        return;
      }
      this.authenticated = true;
      this.ok(msgId, [this.#h.hostport(), 'v0.9.2-switchboard', this.#h.hostport()]);
      return;
    }
    if (!this.authenticated) {
      this.nok(msgId, 'not authenticated');
      this.close();
      return;
    }
    switch (cmd) {
      case 'ping':
        this.ok(msgId);
        return;
      case 'route':
        this.#h.route(this, t[2] ?? '');
        this.ok(msgId);
        return;
      case 'remove_route':
        this.#h.removeRoute(this, t[2] ?? '');
        this.ok(msgId);
        return;
      case 'sip':
        this.#h.sip(this, { msgId, txnId: t[2] ?? '', dialogId: t[3] ?? '', proxy: t[4] ?? '', raw });
        return;
      case 'proxy':
        this.#h.proxy(this, {
          msgId,
          txnId: t[2] ?? '',
          remainInDialog: t[3] === 'remainInDialog',
          fullResponse: t[4] === 'fullResponse',
          followRedirects: t[5] === 'followRedirects',
          simultaneous: t[6] === 'simultaneous',
          provisionalTimeout: t[7] ?? '',
          finalTimeout: t[8] ?? '',
          destinations: t.slice(9).filter(Boolean),
          raw,
        });
        return;
      default:
        this.nok(msgId, `unknown command '${cmd.slice(0, 32)}'`);
    }
  }
}

/** drachtio's time stamp format, HH:MM:SS.micro. */
export function wireTime(d = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}
