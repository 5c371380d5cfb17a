// Child process the IM benchmark (bench/im.ts) measures on the Switchboard
// side: a real host booted as sdk's createTestHost boots it (embedded SIP
// engine on 127.0.0.1, HTTP on a free port), with the IM plugin of this
// repository enabled, its storage at the URL given (a SQLite file by default),
// the users created through the admin API and the IM rate limit raised so
// the load is not refused as spam. Run as its own process so its CPU and RSS
// can be read from /proc.
//
//   node --expose-gc --import tsx bench/im-host.ts '<json options>'
//
// Prints `READY {"sipPort":…}` (or `FAILED <reason>`) once it serves SIP.
// On stdin, `mem` makes it collect garbage (with --expose-gc) and answer
// `MEM {"rssKb":…,"heapUsedKb":…}`. Stops on SIGTERM.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createTestHost, type TestHost } from '@switchboard/sdk';
import { SipEngine } from '../core/src/sip-engine/index.ts';

// The host keeps its engine to itself; for the trace, note each engine as it starts (same module as the host's).
const engines: SipEngine[] = [];
const start = SipEngine.prototype.start;
SipEngine.prototype.start = function (this: SipEngine) {
  engines.push(this);
  return start.call(this);
};

export interface ImHostOptions {
  storageUrl: string;
  domain: string;
  users: string[];
  password: string;
  /** sip.engineThread of the host. */
  engineThread: 'main' | 'worker';
}

const IM_PLUGIN = fileURLToPath(new URL('../plugins/im', import.meta.url));

function reply(line: string): void {
  process.stdout.write(`${line}\n`);
}

function memoryLine(): string {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return `MEM ${JSON.stringify({ rssKb: Math.round(m.rss / 1024), heapUsedKb: Math.round(m.heapUsed / 1024), externalKb: Math.round(m.external / 1024), gc: gc !== undefined })}`;
}

/** IM_HOST_TRACE=FILE: every 5 s, the event loop's delay (p50/p99/max, ms) and the heap, one JSON line each. */
function traceEventLoop(file: string | undefined): void {
  if (!file) return;
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  // Garbage collection in the same window: total and longest pause, ms (kind 4 = mark-compact).
  let gcMs = 0;
  let gcMax = 0;
  let majors = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcMax = Math.max(gcMax, e.duration);
      if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === 4) majors++;
    }
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    const m = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), gcMs: Math.round(gcMs), gcMaxMs: Math.round(gcMax), majors, engine: engines[0]?.stats(), pendingByMethod: engines[0]?.pendingByMethod(), heapMb: Math.round(m.heapUsed / 1048576), rssMb: Math.round(m.rss / 1048576) })}\n`);
    h.reset();
    gcMs = 0;
    gcMax = 0;
    majors = 0;
  }, 5000).unref();
}

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2] ?? '') as ImHostOptions;
  const host: TestHost = await createTestHost({
    plugins: [IM_PLUGIN],
    sites: [opts.domain],
    storage: opts.storageUrl,
    config: {
      sip: {
        // sipp answers MD5 only; MESSAGE is not challenged (as the bench Kamailio does not).
        registrar: { algorithms: ['MD5', 'SHA-256'] },
        security: { maxFailures: 1_000_000_000 },
        engineThread: opts.engineThread,
      },
    },
    logLevel: 'warn',
  });
  const stop = async (): Promise<void> => {
    await host.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  try {
    for (const username of opts.users) {
      const res = await host.adminFetch(`/api/admin/sites/${opts.domain}/users`, { method: 'POST', body: JSON.stringify({ username, password: opts.password }) });
      if (res.status !== 201) throw new Error(`creating ${username}: ${res.status} ${await res.text()}`);
    }
    // 100,000 per second per sender: the spam limit must not refuse the benchmark's load.
    const config = { rateLimit: { messages: 100_000, windowSeconds: 1 } };
    const res = await host.adminFetch(`/api/admin/sites/${opts.domain}/plugins/im`, { method: 'PUT', body: JSON.stringify({ enabled: true, config }) });
    if (!res.ok) throw new Error(`IM config: ${res.status} ${await res.text()}`);
  } catch (err) {
    reply(`FAILED ${err instanceof Error ? err.message : String(err)}`);
    await host.close().catch(() => undefined);
    process.exit(1);
  }
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    if (line.trim() === 'mem') reply(memoryLine());
  });
  input.on('close', () => void stop());
  traceEventLoop(process.env.IM_HOST_TRACE);
  reply(`READY ${JSON.stringify({ sipPort: host.sipPort, httpUrl: host.url })}`);
}

main().catch((err: unknown) => {
  reply(`FAILED ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  process.exit(1);
});
