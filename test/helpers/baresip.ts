// Test harness around baresip 1.0.0 (Debian package `baresip-core`), a real
// SIP softphone that no one here wrote: when it registers, calls and sends
// MESSAGE through Switchboard, Switchboard is talking SIP a real client
// understands.
//
// baresip runs headless from a private config directory:
// - ctrl_tcp: netstring-framed JSON commands (`{"command","params","token"}`)
//   answered by `{"response":true,"ok","data","token"}`, plus pushed events
//   (`{"event":true,"type":"REGISTER_OK",...}`);
// - cons: the UI console on TCP, the only place 1.0.0 shows the text of an
//   incoming MESSAGE (`\r<from>: "<text>"`); ctrl_tcp has no event for it;
// - `-s`: the SIP trace on stdout (run under `stdbuf -oL` so it arrives line
//   by line), kept so tests can inspect the exact messages and failures can
//   show the SIP exchange;
// - audio: a generated 8 kHz PCM wav through aufile (the call ends when the
//   file ends, so it is long), received audio to the aubridge null player.
//
// The account is added with `uanew` once the control connection is up, not
// from the accounts file: baresip registers at once and ctrl_tcp does not
// replay events, so REGISTERING/REGISTER_OK would otherwise be lost.
//
// `/message` in 1.0.0 only sends to the contact module's "current contact",
// so `sendMessage` rewrites the contacts file with the one target, reloads the
// contact module and selects it before sending.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { freePort } from './sipp.ts';

export interface BaresipOptions {
  user: string;
  domain: string;
  password: string;
  /** Where REGISTER (and every other request: it is the outbound proxy) is sent. */
  registrar: { host: string; port: number; transport: 'udp' | 'tcp' };
  /** Registration interval in seconds; 0 disables REGISTER. Default 600. */
  regint?: number;
  /** Answer incoming calls at once (answermode=auto). Default true. */
  autoAnswer?: boolean;
  displayName?: string;
  /** SIP outbound (RFC 5626: `sipnat=outbound`, +sip.instance, reg-id, keep-alives). Default false. */
  outbound?: boolean;
  /** Length of the generated audio source; the call ends when it runs out. Default 120 s. */
  audioSeconds?: number;
}

/** One event pushed by ctrl_tcp (REGISTER_OK, CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED, ...). */
export interface BaresipEvent {
  type: string;
  class?: string;
  accountaor?: string;
  direction?: string;
  peeruri?: string;
  id?: string;
  param?: string;
  [key: string]: unknown;
}

export interface BaresipResponse {
  ok: boolean;
  data: string;
}

/** The text of a MESSAGE baresip received, as its console printed it. */
export interface BaresipMessage {
  from: string;
  text: string;
}

/** One SIP message from baresip's `-s` trace. */
export interface SipTraceEntry {
  direction: 'sent' | 'received';
  transport: string;
  src: string;
  dst: string;
  /** The message with CRLF line ends, as on the wire. */
  raw: string;
  /** The request method, or undefined for a response. */
  method?: string;
  /** The response status, or undefined for a request. */
  status?: number;
  body: string;
}

export interface Baresip {
  /** `sip:user@domain`. */
  readonly aor: string;
  readonly sipPort: number;
  readonly controlPort: number;
  readonly pid: number;
  /** Every event received so far, oldest first. */
  readonly events: readonly BaresipEvent[];
  /** Every MESSAGE text received so far, oldest first. */
  readonly messages: readonly BaresipMessage[];
  /** Sends a ctrl_tcp command and resolves with its response (ok may be false). */
  command(cmd: string, params?: string, timeoutMs?: number): Promise<BaresipResponse>;
  /** The first event (from index `since`, default 0) matching `predicate`, waiting up to `ms`. */
  waitFor(predicate: (e: BaresipEvent) => boolean, ms: number, since?: number): Promise<BaresipEvent>;
  /** Shorthand for waitFor on an event type. */
  waitEvent(type: string, ms: number, since?: number): Promise<BaresipEvent>;
  /** Resolves on REGISTER_OK, rejects at once on REGISTER_FAIL. */
  waitRegistered(ms?: number, since?: number): Promise<BaresipEvent>;
  /** The first received MESSAGE (from index `since`) matching `predicate`, waiting up to `ms`. */
  waitMessage(predicate: (m: BaresipMessage) => boolean, ms: number, since?: number): Promise<BaresipMessage>;
  dial(uri: string): Promise<void>;
  /** Answers the incoming call (with autoAnswer false, after CALL_INCOMING). */
  accept(): Promise<void>;
  hangup(): Promise<void>;
  /** Sends `text` in a MESSAGE to `uri`; resolves once baresip has sent it (not on the far end's answer). */
  sendMessage(uri: string, text: string): Promise<void>;
  /** The SIP trace so far. */
  sipTrace(): SipTraceEntry[];
  /**
   * The first traced SIP message matching `predicate`, waiting up to `ms`.
   * Use it rather than `sipTrace()` right after an event: stdout and the
   * control socket are separate pipes, so the trace may lag the event.
   */
  waitSip(predicate: (m: SipTraceEntry) => boolean, ms: number): Promise<SipTraceEntry>;
  /** Raw stdout+stderr (SIP trace and log), for failure messages. */
  log(): string;
  /** `quit`, then SIGKILL if baresip is still running after a bound; removes the config dir. Safe to call twice. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 5000;
const COMMAND_TIMEOUT_MS = 3000;
const STOP_GRACE_MS = 2000;
const LOG_CAP = 1024 * 1024;
const TRACE_START = '\x1b[36;1m#\n';
const TRACE_END = '\x1b[;m';

let baresipPath: string | undefined;

/** The path of the baresip binary; throws (tests must fail, not skip) when it is missing. */
export function baresipBinary(): string {
  if (baresipPath) return baresipPath;
  const found = spawnSync('sh', ['-c', 'command -v baresip'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new Error('baresip is not installed: install the Debian package `baresip-core` '
      + '(apt-get install -y --no-install-recommends baresip-core)');
  }
  baresipPath = path;
  return path;
}

/** A 16-bit mono PCM wav of a quiet 440 Hz tone at 8 kHz. */
export function toneWav(seconds: number): Buffer {
  const rate = 8000;
  const samples = Math.max(1, Math.round(seconds * rate));
  const out = Buffer.alloc(44 + samples * 2);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + samples * 2, 4);
  out.write('WAVEfmt ', 8, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) out.writeInt16LE(Math.round(4000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return out;
}

async function portFree(port: number, kind: 'udp' | 'tcp'): Promise<boolean> {
  if (kind === 'tcp') {
    const server = net.createServer();
    return new Promise((res) => {
      server.once('error', () => res(false));
      server.listen(port, '127.0.0.1', () => server.close(() => res(true)));
    });
  }
  const { createSocket } = await import('node:dgram');
  const sock = createSocket('udp4');
  return new Promise((res) => {
    sock.once('error', () => { sock.close(); res(false); });
    sock.bind(port, '127.0.0.1', () => sock.close(() => res(true)));
  });
}

/** baresip binds UDP and TCP on its SIP port and TLS on the next one: all three must be free. */
async function freeSipPort(): Promise<number> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const port = await freePort('tcp');
    if (port < 65535 && await portFree(port, 'udp') && await portFree(port + 1, 'tcp')) return port;
  }
  throw new Error('no free SIP port (UDP+TCP, and TCP+1) on 127.0.0.1 after 30 attempts');
}

function accountLine(o: BaresipOptions): string {
  const name = o.displayName ? `"${o.displayName}" ` : '';
  const outbound = `sip:${o.registrar.host}:${o.registrar.port};transport=${o.registrar.transport}`;
  return `${name}<sip:${o.user}@${o.domain};transport=${o.registrar.transport}>;auth_pass=${o.password}`
    + `;outbound="${outbound}";regint=${o.regint ?? 600};answermode=${o.autoAnswer === false ? 'manual' : 'auto'}`
    + (o.outbound ? ';sipnat=outbound' : '');
}

function configText(sipPort: number, controlPort: number, consPort: number, wav: string): string {
  return [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${sipPort}`,
    'net_interface 127.0.0.1',
    'call_local_timeout 120',
    `audio_source aufile,${wav}`,
    'audio_player aubridge,null',
    'audio_alert aubridge,null',
    'ausrc_srate 8000',
    'auplay_srate 8000',
    'module_path /usr/lib/baresip/modules',
    'module cons.so',
    'module g711.so',
    'module aufile.so',
    'module aubridge.so',
    'module_tmp uuid.so',
    'module_tmp account.so',
    'module_app contact.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `cons_listen 127.0.0.1:${consPort}`,
    `ctrl_tcp_listen 127.0.0.1:${controlPort}`,
    '',
  ].join('\n');
}

/** Splits `len:payload,` netstrings off the front of `buf`; returns the payloads and the rest. */
export function readNetstrings(buf: Buffer): { payloads: string[]; rest: Buffer } {
  const payloads: string[] = [];
  let pos = 0;
  for (;;) {
    const colon = buf.indexOf(0x3a, pos);
    if (colon < 0) break;
    const len = Number(buf.subarray(pos, colon).toString('ascii'));
    if (!Number.isInteger(len) || len < 0) throw new Error(`bad netstring length: ${buf.subarray(pos, colon).toString()}`);
    const end = colon + 1 + len;
    if (buf.length < end + 1) break;
    payloads.push(buf.subarray(colon + 1, end).toString('utf8'));
    pos = end + 1; // the trailing ','
  }
  return { payloads, rest: buf.subarray(pos) };
}

export function netstring(payload: string): string {
  return `${Buffer.byteLength(payload)}:${payload},`;
}

/** Parses baresip's `-s` trace (`ESC[36;1m#\n<TP> <src> -> <dst>\n<message>ESC[;m`). */
export function parseSipTrace(log: string, ownPort: number): SipTraceEntry[] {
  const out: SipTraceEntry[] = [];
  for (const chunk of log.split(TRACE_START).slice(1)) {
    const end = chunk.indexOf(TRACE_END);
    if (end < 0) continue;
    const nl = chunk.indexOf('\n');
    const head = /^(\S+) (\S+) -> (\S+)$/.exec(chunk.slice(0, nl));
    if (!head) continue;
    const raw = chunk.slice(nl + 1, end);
    const split = raw.indexOf('\r\n\r\n');
    const first = raw.slice(0, raw.indexOf('\r\n'));
    const status = /^SIP\/2\.0 (\d{3})/.exec(first);
    // Over TCP the socket ports say nothing (ephemeral on connect), so the
    // top Via decides: our own Via tops what we send as a request and what
    // we receive as a response.
    const topVia = /\r\n(?:Via|v):\s*SIP\/2\.0\/\S+\s+([^;\s,]+)/i.exec(raw);
    const ownVia = topVia?.[1]?.endsWith(`:${ownPort}`) ?? false;
    out.push({
      direction: (status ? !ownVia : ownVia) ? 'sent' : 'received',
      transport: head[1] as string,
      src: head[2] as string,
      dst: head[3] as string,
      raw,
      method: status ? undefined : first.split(' ')[0],
      status: status ? Number(status[1]) : undefined,
      body: split < 0 ? '' : raw.slice(split + 4),
    });
  }
  return out;
}

async function connectWithin(port: number, deadline: number, alive: () => boolean): Promise<net.Socket> {
  for (;;) {
    const sock = await new Promise<net.Socket | undefined>((res) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.removeAllListeners('error'); res(s); });
      s.once('error', () => { s.destroy(); res(undefined); });
    });
    if (sock) return sock;
    if (!alive()) throw new Error(`baresip exited before opening 127.0.0.1:${port}`);
    if (Date.now() > deadline) throw new Error(`baresip did not open 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts baresip with one account and resolves once its control and console ports answer. */
export async function startBaresip(opts: BaresipOptions): Promise<Baresip> {
  const binary = baresipBinary();
  const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
  const wav = join(dir, 'tone.wav');
  writeFileSync(wav, toneWav(opts.audioSeconds ?? 120));
  writeFileSync(join(dir, 'accounts'), '');
  writeFileSync(join(dir, 'contacts'), '');
  const sipPort = await freeSipPort();
  const controlPort = await freePort('tcp');
  const consPort = await freePort('tcp');
  writeFileSync(join(dir, 'config'), configText(sipPort, controlPort, consPort, wav));

  // stdbuf: baresip prints the SIP trace with stdio, block-buffered on a pipe.
  const child: ChildProcess = spawn('stdbuf', ['-oL', '-eL', binary, '-f', dir, '-s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exited = false;
  const exit = new Promise<void>((res) => child.once('close', () => { exited = true; res(); }));
  child.once('error', (err) => { output += `\nspawn error: ${err.message}`; });
  const append = (c: Buffer): void => {
    output += c.toString('utf8');
    if (output.length > LOG_CAP) output = output.slice(output.length - LOG_CAP);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  const kill = async (): Promise<void> => {
    if (!exited) child.kill('SIGKILL');
    await exit;
    rmSync(dir, { recursive: true, force: true });
  };
  let control: net.Socket;
  let cons: net.Socket;
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    control = await connectWithin(controlPort, deadline, () => !exited);
    cons = await connectWithin(consPort, deadline, () => !exited);
  } catch (err) {
    await kill();
    throw new Error(`${(err as Error).message}\n--- baresip output ---\n${output.slice(-4000)}`);
  }
  const phone = new BaresipProcess({ opts, dir, sipPort, controlPort, child, control, cons, exit, kill, output: () => output, exited: () => exited });
  try {
    const created = await phone.command('uanew', accountLine(opts));
    if (!created.ok || !created.data.includes(`sip:${opts.user}@${opts.domain}`)) {
      throw new Error(`baresip did not create the account: ${created.data}`);
    }
  } catch (err) {
    await phone.stop();
    throw new Error(`${(err as Error).message}\n--- baresip output ---\n${output.slice(-4000)}`);
  }
  return phone;
}

interface ProcessParts {
  opts: BaresipOptions;
  dir: string;
  sipPort: number;
  controlPort: number;
  child: ChildProcess;
  control: net.Socket;
  cons: net.Socket;
  exit: Promise<void>;
  kill(): Promise<void>;
  output(): string;
  exited(): boolean;
}

type Waiter = () => void;

class BaresipProcess implements Baresip {
  readonly aor: string;
  readonly sipPort: number;
  readonly controlPort: number;
  readonly pid: number;
  readonly events: BaresipEvent[] = [];
  readonly messages: BaresipMessage[] = [];
  #parts: ProcessParts;
  #pending = new Map<string, (r: BaresipResponse) => void>();
  #nextToken = 1;
  #waiters = new Set<Waiter>();
  #controlBuf: Buffer = Buffer.alloc(0);
  #consText = '';
  #stopped: Promise<void> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #trace: { output: string; entries: SipTraceEntry[] } | undefined;

  constructor(parts: ProcessParts) {
    this.#parts = parts;
    this.aor = `sip:${parts.opts.user}@${parts.opts.domain}`;
    this.sipPort = parts.sipPort;
    this.controlPort = parts.controlPort;
    this.pid = parts.child.pid ?? -1;
    parts.control.on('data', (c: Buffer) => this.#onControl(c));
    parts.control.on('error', () => undefined);
    parts.cons.on('data', (c: Buffer) => this.#onCons(c));
    parts.cons.on('error', () => undefined);
    parts.child.stdout?.on('data', () => this.#notify());
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  #onControl(chunk: Buffer): void {
    const { payloads, rest } = readNetstrings(Buffer.concat([this.#controlBuf, chunk]));
    this.#controlBuf = rest;
    for (const payload of payloads) {
      let msg: Record<string, unknown>;
      try { msg = JSON.parse(payload) as Record<string, unknown>; } catch { continue; }
      if (msg.response === true && typeof msg.token === 'string') {
        this.#pending.get(msg.token)?.({ ok: msg.ok === true, data: String(msg.data ?? '') });
        this.#pending.delete(msg.token);
      } else if (msg.event === true && typeof msg.type === 'string') {
        this.events.push(msg as BaresipEvent);
      }
    }
    this.#notify();
  }

  // menu.c prints an incoming MESSAGE as `\r<peer>: "<text>"\n` to every UI.
  #onCons(chunk: Buffer): void {
    this.#consText += chunk.toString('utf8');
    const re = /\r(\S+): "([\s\S]*?)"\n/g;
    let last = 0;
    for (let m = re.exec(this.#consText); m; m = re.exec(this.#consText)) {
      this.messages.push({ from: m[1] as string, text: m[2] as string });
      last = re.lastIndex;
    }
    // Keep only what could still be the start of an unfinished line.
    const keepFrom = Math.max(last, this.#consText.lastIndexOf('\r'));
    this.#consText = keepFrom > 0 ? this.#consText.slice(keepFrom) : this.#consText.slice(-LOG_CAP);
    this.#notify();
  }

  command(cmd: string, params = '', timeoutMs = COMMAND_TIMEOUT_MS): Promise<BaresipResponse> {
    const token = `t${this.#nextToken++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(token);
        reject(new Error(`baresip ${this.aor}: no response to '${cmd} ${params}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(token, (r) => { clearTimeout(timer); resolve(r); });
      this.#parts.control.write(netstring(JSON.stringify({ command: cmd, params, token })));
    });
  }

  async #must(cmd: string, params = ''): Promise<BaresipResponse> {
    const res = await this.command(cmd, params);
    if (!res.ok) throw new Error(`baresip ${this.aor}: '${cmd} ${params}' failed: ${res.data}`);
    return res;
  }

  #waitUntil<T>(find: () => T | undefined, ms: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check: Waiter = () => {
        let found: T | undefined;
        try { found = find(); } catch (err) { done(); reject(err); return; }
        if (found !== undefined) { done(); resolve(found); }
      };
      const timer = setTimeout(() => {
        done();
        const seen = this.events.map((e) => `${e.type}${e.param ? `(${e.param})` : ''}`).join(', ');
        reject(new Error(`baresip ${this.aor}: no ${what} within ${ms} ms; events: [${seen}]`));
      }, ms);
      const done = (): void => { clearTimeout(timer); this.#waiters.delete(check); };
      this.#waiters.add(check);
      check();
    });
  }

  waitFor(predicate: (e: BaresipEvent) => boolean, ms: number, since = 0): Promise<BaresipEvent> {
    return this.#waitUntil(() => this.events.slice(since).find(predicate), ms, 'matching event');
  }

  waitEvent(type: string, ms: number, since = 0): Promise<BaresipEvent> {
    return this.#waitUntil(() => this.events.slice(since).find((e) => e.type === type), ms, `${type} event`);
  }

  waitRegistered(ms = 5000, since = 0): Promise<BaresipEvent> {
    return this.#waitUntil(() => {
      const e = this.events.slice(since).find((x) => x.type === 'REGISTER_OK' || x.type === 'REGISTER_FAIL');
      if (e?.type === 'REGISTER_FAIL') throw new Error(`baresip ${this.aor}: REGISTER_FAIL ${e.param ?? ''}`);
      return e;
    }, ms, 'REGISTER_OK');
  }

  waitMessage(predicate: (m: BaresipMessage) => boolean, ms: number, since = 0): Promise<BaresipMessage> {
    return this.#waitUntil(() => this.messages.slice(since).find(predicate), ms, 'received MESSAGE');
  }

  async dial(uri: string): Promise<void> {
    await this.#must('dial', uri);
  }

  async accept(): Promise<void> {
    await this.#must('accept');
  }

  async hangup(): Promise<void> {
    await this.#must('hangup');
  }

  // Serialised: two concurrent sends would race on the contacts file.
  sendMessage(uri: string, text: string): Promise<void> {
    const run = this.#queue.then(async () => {
      writeFileSync(join(this.#parts.dir, 'contacts'), `"to" <${uri}>\n`);
      await this.#must('rmmod', 'contact');
      await this.#must('insmod', 'contact');
      const selected = await this.#must('contact_next');
      if (!selected.data.includes(`<${uri}>`)) {
        throw new Error(`baresip ${this.aor}: could not select contact ${uri}: ${selected.data}`);
      }
      await this.#must('message', text);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  sipTrace(): SipTraceEntry[] {
    const output = this.#parts.output();
    if (this.#trace?.output !== output) this.#trace = { output, entries: parseSipTrace(output, this.sipPort) };
    return this.#trace.entries;
  }

  waitSip(predicate: (m: SipTraceEntry) => boolean, ms: number): Promise<SipTraceEntry> {
    return this.#waitUntil(() => this.sipTrace().find(predicate), ms, 'matching SIP message in the trace');
  }

  log(): string {
    return this.#parts.output();
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      if (!this.#parts.exited()) {
        // quit unregisters first; a registrar that is gone must not hold us up.
        await this.command('quit', '', 500).catch(() => undefined);
        await Promise.race([this.#parts.exit, new Promise((r) => setTimeout(r, STOP_GRACE_MS))]);
      }
      this.#parts.control.destroy();
      this.#parts.cons.destroy();
      for (const resolve of this.#pending.values()) resolve({ ok: false, data: 'baresip stopped' });
      this.#pending.clear();
      await this.#parts.kill();
    })();
    return this.#stopped;
  }
}
