/** Boot the embedded engine with one connected drachtio-srf app, for compatibility tests. */
import Srf from 'drachtio-srf';
import { SipEngine, type SipEngineOptions } from '../../core/src/sip-engine/index.ts';
import { quietPort } from './sipp.ts';

// drachtio-srf ships no types we rely on; tests use it as users' JavaScript apps do.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySrf = any;

export interface EngineWithApp {
  engine: SipEngine;
  srf: AnySrf;
  sipPort: number;
  /** host:port of the engine's SIP side. */
  target: string;
  close(): Promise<void>;
}

export async function connectSrf(port: number, secret: string): Promise<AnySrf> {
  const srf = new (Srf as AnySrf)();
  srf.connect({ host: '127.0.0.1', port, secret });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('srf did not connect within 5 s')), 5000);
    srf.once('connect', (err: Error | null) => {
      clearTimeout(t);
      if (err) reject(err);
      else resolve();
    });
  });
  return srf;
}

export async function startEngineWithApp(opts: Partial<SipEngineOptions> & { transports?: string } = {}): Promise<EngineWithApp> {
  const sipPort = await quietPort(['udp', 'tcp']);
  const secret = 'compat-secret';
  const engine = new SipEngine({
    contacts: opts.contacts ?? [`sip:127.0.0.1:${sipPort};transport=${opts.transports ?? 'udp,tcp'}`],
    wire: { host: '127.0.0.1', port: 0, secret },
    ...(opts.timers ? { timers: opts.timers } : {}),
    ...(opts.tls ? { tls: opts.tls } : {}),
    ...(opts.overload ? { overload: opts.overload } : {}),
  });
  await engine.start();
  const srf = await connectSrf(engine.wirePort, secret);
  return {
    engine,
    srf,
    sipPort,
    target: `127.0.0.1:${sipPort}`,
    async close() {
      try {
        srf.disconnect();
      } catch {
        /* already gone */
      }
      await engine.stop();
    },
  };
}

export const SDP = [
  'v=0', 'o=switchboard 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', '',
].join('\r\n');

export function waitFor<T>(register: (resolve: (v: T) => void) => void, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    register((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}
