/**
 * baresip 1.0.0 with its presence module, for the presence tests. The
 * shared harness (test/helpers/baresip.ts) does not load presence.so and
 * adds the account after start, so this one writes its own config: the
 * account (with `pubint`, so baresip PUBLISHes) and a contacts file whose
 * `;presence=p2p` entries baresip SUBSCRIBEs to when the module loads.
 * It drives baresip through ctrl_tcp (`contacts`, `presence_online`,
 * `presence_offline`) and keeps the `-s` SIP trace for failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { baresipBinary, netstring, readNetstrings } from '../../../test/helpers/baresip.ts';
import { freePort } from '../../../test/helpers/sipp.ts';

export interface PresencePhoneOptions {
  user: string;
  domain: string;
  password: string;
  /** The host's SIP port on 127.0.0.1 (UDP); every request goes there. */
  proxyPort: number;
  /** Users whose presence baresip subscribes to. */
  watch: string[];
  /** PUBLISH refresh interval (s). */
  pubint?: number;
}

export class PresencePhone {
  readonly #child: ChildProcess;
  readonly #control: net.Socket;
  readonly #dir: string;
  readonly #pending = new Map<string, (r: { ok: boolean; data: string }) => void>();
  #buf: Buffer = Buffer.alloc(0);
  #out = '';
  #token = 0;
  #exited: Promise<void>;

  private constructor(child: ChildProcess, control: net.Socket, dir: string, output: () => string, exited: Promise<void>) {
    this.#child = child;
    this.#control = control;
    this.#dir = dir;
    this.#out = '';
    this.#exited = exited;
    this.log = output;
    control.on('data', (c: Buffer) => {
      const { payloads, rest } = readNetstrings(Buffer.concat([this.#buf, c]));
      this.#buf = rest;
      for (const p of payloads) {
        let m: { response?: boolean; ok?: boolean; data?: string; token?: string };
        try { m = JSON.parse(p) as typeof m; } catch { continue; }
        if (m.response && m.token) {
          this.#pending.get(m.token)?.({ ok: m.ok === true, data: String(m.data ?? '') });
          this.#pending.delete(m.token);
        }
      }
    });
    control.on('error', () => undefined);
  }

  /** stdout and stderr so far (SIP trace and log), colours removed. */
  readonly log: () => string;

  static async start(o: PresencePhoneOptions): Promise<PresencePhone> {
    const dir = mkdtempSync(join(tmpdir(), 'baresip-presence-'));
    const sipPort = await freePort('tcp');
    const ctlPort = await freePort('tcp');
    writeFileSync(join(dir, 'config'), [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module_app account.so',
      'module_app contact.so',
      'module_app presence.so',
      'module_app ctrl_tcp.so',
      `ctrl_tcp_listen 127.0.0.1:${ctlPort}`,
      '',
    ].join('\n'));
    const outbound = `sip:127.0.0.1:${o.proxyPort};transport=udp`;
    writeFileSync(join(dir, 'accounts'), `<sip:${o.user}@${o.domain};transport=udp>;auth_pass=${o.password};outbound="${outbound}";regint=600;pubint=${o.pubint ?? 60}\n`);
    writeFileSync(join(dir, 'contacts'), o.watch.map((u) => `"${u}" <sip:${u}@${o.domain}>;presence=p2p\n`).join(''));
    const child = spawn('stdbuf', ['-oL', '-eL', baresipBinary(), '-f', dir, '-s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const append = (c: Buffer) => { out = (out + c.toString('utf8')).slice(-1024 * 1024); };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        const control = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(ctlPort, '127.0.0.1');
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        return new PresencePhone(child, control, dir, () => out.replace(/\x1b\[[0-9;]*m/g, ''), exited);
      } catch (err) {
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          rmSync(dir, { recursive: true, force: true });
          throw new Error(`baresip control port did not open: ${(err as Error).message}\n${out.slice(-3000)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  command(cmd: string, params = ''): Promise<{ ok: boolean; data: string }> {
    const token = `p${++this.#token}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.#pending.delete(token); reject(new Error(`baresip: no answer to ${cmd}`)); }, 3000);
      this.#pending.set(token, (r) => { clearTimeout(timer); resolve(r); });
      this.#control.write(netstring(JSON.stringify({ command: cmd, params, token })));
    });
  }

  /** The presence baresip shows for a contact in its contact list (`Online`, `Busy`, `Away`, `Offline`, `Unknown`). */
  async contactStatus(user: string): Promise<string | undefined> {
    const { data } = await this.command('contacts');
    const line = data.replace(/\x1b\[[0-9;]*m/g, '').split('\n').find((l) => l.includes(`<sip:${user}@`));
    return line ? /^\s*>?\s*(\S+)/.exec(line)?.[1] : undefined;
  }

  async stop(): Promise<void> {
    await this.command('quit').catch(() => undefined);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
    await this.#exited;
    clearTimeout(timer);
    this.#control.destroy();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Poll `probe` until it returns `want` (or `ms` pass); returns the last value seen. */
export async function until<T>(probe: () => Promise<T>, want: T, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last = await probe();
  while (last !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 150));
    last = await probe();
  }
  return last;
}
