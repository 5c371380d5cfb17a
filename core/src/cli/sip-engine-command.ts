/**
 * `switchboard sip-engine`: the embedded engine alone, as a drop-in for
 * drachtio-server. Flags keep drachtio-server's meaning: --contact (one or
 * more), --port/--address for the wire protocol, --secret.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import pino from 'pino';
import { SipEngine } from '../sip-engine/index.ts';

interface EngineFlags {
  contact: string[];
  externalIp?: string;
  port: string;
  address: string;
  secret?: string;
  certFile?: string;
  keyFile?: string;
  t1?: string;
  t2?: string;
  t4?: string;
  loglevel: string;
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function addSipEngineCommand(program: Command): void {
  program
    .command('sip-engine')
    .description('run the SIP engine alone, as a drop-in replacement for drachtio-server')
    .option('--contact <uri>', 'SIP contact to listen on, e.g. "sip:127.0.0.1:5060;transport=udp,tcp" (repeatable)', collect, [])
    .option('--external-ip <ip>', 'address to advertise for every contact (same as ;external= on a contact)')
    .option('--port <port>', 'wire-protocol port drachtio-srf apps connect to', '9022')
    .option('--address <ip>', 'wire-protocol address to bind', '0.0.0.0')
    .addOption(new Option('--secret <secret>', 'shared secret apps must present').env('SWITCHBOARD_ENGINE_SECRET'))
    .option('--cert-file <file>', 'TLS certificate (PEM) for tls/wss contacts; a self-signed one is generated without it')
    .option('--key-file <file>', 'TLS private key (PEM)')
    .option('--t1 <ms>', 'SIP timer T1 (default 500)')
    .option('--t2 <ms>', 'SIP timer T2 (default 4000)')
    .option('--t4 <ms>', 'SIP timer T4 (default 5000)')
    .option('--loglevel <level>', 'pino log level', 'info')
    .action((flags: EngineFlags) => runSipEngine(flags));
}

function fail(message: string): never {
  process.stderr.write(`switchboard sip-engine: ${message}\n`);
  process.exit(2);
}

export async function runSipEngine(flags: EngineFlags): Promise<void> {
  if (!flags.secret) fail('--secret is required (or SWITCHBOARD_ENGINE_SECRET): apps authenticate with it; there is no default.');
  const contacts = flags.contact.length ? flags.contact : ['sip:0.0.0.0:5060;transport=udp,tcp'];
  const withExternal = flags.externalIp ? contacts.map((c) => (/;external=/.test(c) ? c : `${c};external=${flags.externalIp}`)) : contacts;
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port ${flags.port} is not a port number (0-65535).`);
  if (Boolean(flags.certFile) !== Boolean(flags.keyFile)) fail('--cert-file and --key-file go together.');
  const timers: Record<string, number> = {};
  for (const k of ['t1', 't2', 't4'] as const) {
    if (flags[k] === undefined) continue;
    const v = Number(flags[k]);
    if (!Number.isFinite(v) || v <= 0) fail(`--${k} ${flags[k]} must be a positive number of milliseconds.`);
    timers[k] = v;
  }
  const logger = pino({ level: flags.loglevel, base: { name: 'sip-engine' } });
  let tls;
  try {
    tls = flags.certFile && flags.keyFile ? { cert: readFileSync(flags.certFile), key: readFileSync(flags.keyFile) } : undefined;
  } catch (err) {
    fail(`cannot read the TLS files: ${(err as Error).message}`);
  }
  const engine = new SipEngine({
    contacts: withExternal,
    wire: { host: flags.address, port, secret: flags.secret },
    ...(tls ? { tls } : {}),
    timers,
    logger,
  });
  try {
    await engine.start();
  } catch (err) {
    fail(`${(err as Error).message}`);
  }
  const sip = engine.sipListeners().map((l) => `${l.transport}/${l.address}:${l.port}`).join(', ');
  process.stdout.write(`switchboard sip-engine listening: wire ${flags.address}:${engine.wirePort}; sip ${sip}\n`);
  const stop = async () => {
    await engine.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}
