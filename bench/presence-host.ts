// Child process of the presence benchmark: a real Switchboard host (as
// sdk/src/test-host.ts boots one) with only the presence plugin, enabled for
// one site, storage in a SQLite file, the embedded SIP engine on 127.0.0.1.
// Its own process so that its RSS is the host's alone.
//
//   node --expose-gc --import tsx bench/presence-host.ts '<json options>'
//
// Prints `READY {"httpUrl","sipPort","adminPassword"}` (or `FAILED <reason>`).
// On stdin, `mem` collects garbage (on the engine thread too) and answers
// `MEM {"rssKb","heapUsedKb",…}` (heap in use of both threads)
// (`mem reduce`: a compacting collection on both threads first, see memoryLine);
// `heap <file>` writes a V8 heap snapshot there and answers `HEAP <file>`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { createInterface } from 'node:readline';
import { createTestHost } from '../sdk/src/index.ts';
import { stopScryptThreadIfIdle } from '../core/src/identity/scrypt-thread.ts';
import { compactHeapNow } from '../core/src/threads/idle-compaction.ts';

export interface PresenceHostOptions {
  storageUrl: string;
  domain: string;
  adminPassword: string;
  /** SIP timer T1 in ms (default 500); a small one lets transactions end sooner (bench/presence-heap.ts). */
  t1?: number;
  /** sip.engineThread of the host (default main). */
  engineThread?: 'main' | 'worker';
  /** runtime.youngGeneration of the host (default grow). */
  youngGeneration?: 'grow' | 'small';
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * Memory after collecting garbage. `reduce`: then a compacting collection on both
 * threads (compactHeapNow, what runtime.compactWhenIdle runs: compacts every page
 * and gives freed ones back), so the RSS shows what is held rather than what a burst
 * of short-lived garbage left committed.
 */
async function memoryLine(host: { sipEngineThreadMemory(o: { collect?: boolean; compact?: boolean }): Promise<{ heapUsed: number; heapTotal: number } | undefined> }, reduce: boolean): Promise<string> {
  // The admin sign-in's scrypt thread would stop after a quiet minute, in the middle of a measurement: stop it now.
  await stopScryptThreadIfIdle();
  // With sip.engineThread = "worker" the engine's heap is another isolate's: collect there too, and count it.
  const engine = await host.sipEngineThreadMemory({ collect: true, compact: reduce });
  const gc = (globalThis as { gc?: (opts?: unknown) => void }).gc;
  if (gc) {
    gc();
    gc();
    // Node 20's gc() takes no `flavor: 'last-resort'` (it did nothing here before 7 December): compact as
    // runtime.compactWhenIdle does.
    if (reduce) compactHeapNow();
  }
  // Pages a compaction frees are unmapped a little later, off the thread: read the RSS after that.
  if (reduce) await new Promise((r) => setTimeout(r, 500));
  const m = process.memoryUsage();
  const kb = (n: number) => Math.round(n / 1024);
  const engineUsed = engine?.heapUsed ?? 0;
  // Anonymous (heaps, malloc) and file-backed (the node binary) resident pages.
  const status = readFileSync('/proc/self/status', 'utf8');
  const statusKb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return `MEM ${JSON.stringify({ rssKb: kb(m.rss), rssAnonKb: statusKb('RssAnon'), rssFileKb: statusKb('RssFile'), heapUsedKb: kb(m.heapUsed + engineUsed), mainHeapUsedKb: kb(m.heapUsed), engineHeapUsedKb: kb(engineUsed),
    mainHeapTotalKb: kb(m.heapTotal), engineHeapTotalKb: kb(engine?.heapTotal ?? 0), heapTotalKb: kb(m.heapTotal + (engine?.heapTotal ?? 0)), externalKb: kb(m.external), gc: gc !== undefined, reduced: reduce,
    spaces: Object.fromEntries(getHeapSpaceStatistics().map((sp) => [sp.space_name, [kb(sp.space_size), kb(sp.space_used_size)]])) })}`;
}

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2] ?? '') as PresenceHostOptions;
  const host = await createTestHost({
    // PRESENCE_BENCH_PLUGIN_DIR: another copy of the plugin (e.g. an older commit's, for an A/B run).
    plugins: [process.env.PRESENCE_BENCH_PLUGIN_DIR ?? fileURLToPath(new URL('../plugins/presence', import.meta.url))],
    sites: [opts.domain],
    storage: opts.storageUrl,
    adminPassword: opts.adminPassword,
    logLevel: 'warn',
    config: {
      sip: { engineThread: opts.engineThread ?? 'main', ...(opts.t1 ? { timers: { t1: opts.t1 } } : {}) },
      runtime: { youngGeneration: opts.youngGeneration ?? 'grow' },
    },
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await host.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'mem' || cmd === 'mem reduce') void memoryLine(host.host, cmd === 'mem reduce').then(say);
    else if (cmd.startsWith('heap ')) {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      say(`HEAP ${writeHeapSnapshot(cmd.slice(5))}`);
    }
  });
  input.on('close', () => void stop());
  say(`READY ${JSON.stringify({ httpUrl: host.url, sipPort: host.sipPort, adminPassword: host.adminPassword })}`);
}

main().catch((err: unknown) => {
  say(`FAILED ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  process.exit(1);
});
