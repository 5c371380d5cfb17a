// Presence benchmark (`npm run bench -- presence`): N users each watched by
// M watchers, over SIP/UDP on 127.0.0.1, against a Switchboard host (the
// presence plugin) and, side by side, Kamailio 5.6's presence module on
// MariaDB. See bench/README.md ("Presence").
//
// Scenario `one`: one user watched by --watchers (10,000) watchers. Scenario
// `many`: --users (5,000) users each watched by --per-user (20) watchers.
// For each: subscribe everyone (one dialog per watcher, each answering its
// NOTIFYs), memory per subscription (RSS after minus before, after the
// engine's transactions have timed out), then
// - fan-out (`one`): PUBLISH a change and time until the last watcher has
//   the NOTIFY carrying it, several rounds;
// - steady rate (`many`): PUBLISH changes of distinct users at a fixed rate
//   for a few seconds per step; NOTIFYs delivered per second and PUBLISH →
//   last NOTIFY latency.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/sipp.ts';
import { startKamailioPresence, type KamailioPresence } from './presence-kamailio.ts';
import { PresenceLoad, windowed, type Watch } from './presence-load.ts';
import { seedSwitchboardUsers, userNames } from './register-users.ts';

const DOMAIN = 'bench.example';
const ADMIN_PASSWORD = 'presence-bench-admin-1';
/**
 * Non-INVITE server transactions live Timer J (32 s) after their response; wait that out before "after",
 * and the host's follow-up compaction (runtime.compactWhenIdle: 40 s after the one that comes once the burst
 * is 10 s over), which gives back the holes those transactions left: "after" is the host at rest.
 */
let SETTLE_MS = 55_000;
/** Quiet time before the first reading: the host's idle compaction comes after two quiet 5-second intervals. */
const REST_MS = 15_000;

type TargetKind = 'switchboard' | 'kamailio';

interface Target {
  kind: TargetKind;
  label: string;
  port: number;
  /**
   * Memory now, KiB. Switchboard: the host's RSS after garbage collection, the RSS after a
   * compacting collection on both threads (compactHeapNow; before 7 December a `flavor: 'last-resort'`
   * gc() that Node 20 ignores) and the V8 heap in use then;
   * Kamailio: PSS of all its processes (the same figure in all three).
   */
  mem(): Promise<Memory>;
  stop(): Promise<void>;
}

interface Memory {
  rssKb: number;
  reducedRssKb: number;
  heapUsedKb: number;
  /** The host's whole answers (heaps of both threads, V8's spaces of the main thread), for the results file. */
  detail?: unknown;
}

interface ScenarioResult {
  target: TargetKind;
  scenario: 'one' | 'many';
  users: number;
  watchersPerUser: number;
  subscriptions: number;
  subscribeSeconds: number;
  memBeforeKb: number;
  memAfterKb: number;
  /** (RSS after − RSS before) / subscriptions, RSS after an ordinary full GC (Kamailio: PSS). */
  bytesPerSubscription: number;
  /** The same with RSS after a memory-reducing GC: what is held rather than what the subscribe burst left committed. */
  reducedBytesPerSubscription: number;
  /** V8 heap in use, after − before, per subscription (Switchboard only). */
  heapBytesPerSubscription?: number;
  memBefore: Memory;
  memAfter: Memory;
  /** Memory after the first half was subscribed (--marginal). */
  memHalf?: Memory;
  /** Per subscription of the second half: RSS, RSS after a memory-reducing GC, V8 heap (bytes). */
  marginalBytesPerSubscription?: { rss: number; reducedRss: number; heap: number };
  /** Load averages (1, 5, 15 min) when memory was taken and when the scenario ended: the machine is shared. */
  loadAtMemory: number[];
  loadAtEnd?: number[];
  fanout?: Array<{ round: number; lastMs: number; p50Ms: number; complete: number }>;
  steady?: Array<{ publishRate: number; achievedPublishRate: number; notifiesPerSecond: number; p50Ms: number; p99Ms: number; complete: number; expected: number }>;
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pssKb(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /^Pss:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      total += m ? Number(m[1]) : 0;
    } catch {
      // gone
    }
  }
  return total;
}

async function startSwitchboard(workDir: string, users: string[], engineThread: 'main' | 'worker', youngGeneration: 'grow' | 'small'): Promise<Target> {
  const storageUrl = `sqlite:${join(workDir, 'switchboard.db')}`;
  // PRESENCE_BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the host (for finding hot paths).
  const prof = process.env.PRESENCE_BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.PRESENCE_BENCH_CPU_PROF] : [];
  // PRESENCE_BENCH_NODE_ARGS: more options for the host's node (e.g. `--max-semi-space-size=8`), space-separated.
  const nodeArgs = (process.env.PRESENCE_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...prof, ...nodeArgs, '--expose-gc', '--import', 'tsx', fileURLToPath(new URL('./presence-host.ts', import.meta.url)),
    JSON.stringify({ storageUrl, domain: DOMAIN, adminPassword: ADMIN_PASSWORD, engineThread, youngGeneration })], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const waiters: Array<(line: string) => void> = [];
  // Only the host's own answers are answers: with PRESENCE_BENCH_NODE_ARGS=--trace-gc, V8 writes on the same stdout
  // (PRESENCE_BENCH_HOST_LOG=FILE keeps those other lines).
  const hostLog = process.env.PRESENCE_BENCH_HOST_LOG;
  lines.on('line', (line) => {
    if (/^(READY|FAILED|MEM|HEAP) /.test(line)) waiters.shift()?.(line);
    else if (hostLog) appendFileSync(hostLog, `${new Date().toISOString()} ${line}\n`);
  });
  const next = () => new Promise<string>((resolve) => waiters.push(resolve));
  const ready = await next();
  if (!ready.startsWith('READY ')) throw new Error(`Switchboard host: ${ready}`);
  const info = JSON.parse(ready.slice(6)) as { httpUrl: string; sipPort: number };
  say(`  seeding ${users.length} users...`);
  await seedSwitchboardUsers({ httpUrl: info.httpUrl, adminPassword: ADMIN_PASSWORD, storageUrl, domain: DOMAIN, names: users });
  const token = ((await (await fetch(`${info.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) })).json()) as { token: string }).token;
  const cfg = await fetch(`${info.httpUrl}/api/admin/sites/${DOMAIN}/plugins/presence`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ enabled: true, config: { maxSubscriptionsPerUser: 100_000, maxExpires: 3600 } }),
  });
  if (cfg.status !== 200) throw new Error(`presence config: ${cfg.status} ${await cfg.text()}`);
  return {
    kind: 'switchboard',
    label: `Switchboard host (presence plugin, 1 process, SQLite, engine on the ${engineThread} thread${youngGeneration === 'small' ? ', young generation small' : ''})`,
    port: info.sipPort,
    mem: async () => {
      child.stdin!.write('mem\n');
      const plain = JSON.parse((await next()).slice(4)) as { rssKb: number };
      child.stdin!.write('mem reduce\n');
      const reduced = JSON.parse((await next()).slice(4)) as { rssKb: number; heapUsedKb: number };
      return { rssKb: plain.rssKb, reducedRssKb: reduced.rssKb, heapUsedKb: reduced.heapUsedKb, detail: { plain, reduced } };
    },
    stop: async () => {
      const exited = new Promise((r) => child.once('close', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

async function startKamailio(children: number): Promise<Target> {
  const port = await freePort('udp');
  const k: KamailioPresence = await startKamailioPresence(port, children);
  return {
    kind: 'kamailio',
    label: `Kamailio 5.6 (presence, presence_xml, db_mysql write-through, ${children} children)`,
    port,
    mem: async () => {
      const kb = pssKb(k.peer.pids());
      return { rssKb: kb, reducedRssKb: kb, heapUsedKb: 0 };
    },
    stop: () => k.stop(),
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Wait until every watch in `watches` has a NOTIFY after `t0` saying `open`; returns per-watch arrival (ms after t0). */
async function arrivals(watches: Watch[], t0: number, open: boolean, timeoutMs: number): Promise<number[]> {
  const found = (w: Watch) => w.notifies.find((n) => n.at >= t0 && n.open === open);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const missing = watches.filter((w) => !found(w));
    if (missing.length === 0 || performance.now() > deadline) break;
    await sleep(5);
  }
  return watches.map((w) => found(w)).filter((n) => n !== undefined).map((n) => n!.at - t0);
}

async function runScenario(target: Target, scenario: 'one' | 'many', users: string[], perUser: number, opts: { rounds: number; rates: number[]; stepSeconds: number; subscribeWindow: number; marginal: boolean }): Promise<ScenarioResult> {
  const load = await PresenceLoad.open({ host: '127.0.0.1', port: target.port }, DOMAIN);
  try {
    // Every presentity has a publication, so the first NOTIFYs carry a document.
    for (const u of users) await load.publish(u, true);
    // "Before" is the host at rest: seeding users and publishing grew it, and once quiet it compacts
    // (runtime.compactWhenIdle, after 10 s); read it after that, as "after" is read after the settle.
    if (target.kind === 'switchboard') {
      say(`  resting ${REST_MS / 1000} s before the first memory reading...`);
      await sleep(REST_MS);
    }
    const memBefore = await target.mem();
    const pairs: Array<[string, string]> = [];
    for (const u of users) for (let j = 0; j < perUser; j++) pairs.push([u, `w${j}-${u}`]);
    // With --marginal, the first half is subscribed and measured first: the second half's
    // cost per subscription is then apart from the one-time growth of the first burst.
    const parts = opts.marginal ? [pairs.slice(0, Math.floor(pairs.length / 2)), pairs.slice(Math.floor(pairs.length / 2))] : [pairs];
    say(`  subscribing ${pairs.length} watchers${parts.length > 1 ? ` (in two halves, memory after each)` : ''}...`);
    let lastShown = 0;
    let subscribeSeconds = 0;
    const watches: Watch[] = [];
    let memHalf: Memory | undefined;
    for (const [p, part] of parts.entries()) {
      const t0 = performance.now();
      const base = watches.length;
      await windowed(part, opts.subscribeWindow, async ([u, w]) => { watches.push(await load.subscribe(u, w)); }, (done) => {
        if (base + done - lastShown >= pairs.length / 10 || done === part.length) {
          lastShown = base + done;
          say(`    ${base + done}/${pairs.length} subscribed (${(done / ((performance.now() - t0) / 1000)).toFixed(0)}/s)`);
        }
      });
      const deadline = performance.now() + 60_000;
      while (watches.some((w) => w.notifies.length === 0) && performance.now() < deadline) await sleep(50);
      subscribeSeconds += (performance.now() - t0) / 1000;
      const withNotify = watches.filter((w) => w.notifies.length > 0).length;
      say(`  ${withNotify}/${watches.length} have their first NOTIFY (${subscribeSeconds.toFixed(1)} s subscribing); settling ${SETTLE_MS / 1000} s for memory...`);
      await sleep(SETTLE_MS);
      if (p < parts.length - 1) {
        memHalf = await target.mem();
        say(`  memory at ${watches.length}: RSS ${memHalf.rssKb} KiB, after a memory-reducing GC ${memHalf.reducedRssKb} KiB, V8 heap in use ${memHalf.heapUsedKb} KiB`);
      }
    }
    const memAfter = await target.mem();
    const per = (after: number, before: number) => Math.round(((after - before) * 1024) / watches.length);
    const bytesPerSubscription = per(memAfter.rssKb, memBefore.rssKb);
    const reducedBytesPerSubscription = per(memAfter.reducedRssKb, memBefore.reducedRssKb);
    const heapBytesPerSubscription = target.kind === 'switchboard' ? per(memAfter.heapUsedKb, memBefore.heapUsedKb) : undefined;
    const second = watches.length - Math.floor(watches.length / 2);
    const marginal = memHalf ? {
      rss: Math.round(((memAfter.rssKb - memHalf.rssKb) * 1024) / second),
      reducedRss: Math.round(((memAfter.reducedRssKb - memHalf.reducedRssKb) * 1024) / second),
      heap: Math.round(((memAfter.heapUsedKb - memHalf.heapUsedKb) * 1024) / second),
    } : undefined;
    if (marginal) say(`  the second half alone, per subscription: RSS ${marginal.rss} bytes, after a memory-reducing GC ${marginal.reducedRss} bytes, V8 heap ${marginal.heap} bytes`);
    say(`  memory: ${memBefore.rssKb} KiB → ${memAfter.rssKb} KiB = ${bytesPerSubscription} bytes per subscription`
      + (target.kind === 'switchboard' ? `; after a memory-reducing GC ${memBefore.reducedRssKb} → ${memAfter.reducedRssKb} KiB = ${reducedBytesPerSubscription} bytes; V8 heap in use ${heapBytesPerSubscription} bytes` : ''));
    const result: ScenarioResult = {
      target: target.kind, scenario, users: users.length, watchersPerUser: perUser, subscriptions: watches.length, subscribeSeconds,
      memBeforeKb: memBefore.rssKb, memAfterKb: memAfter.rssKb, bytesPerSubscription, reducedBytesPerSubscription,
      ...(heapBytesPerSubscription !== undefined ? { heapBytesPerSubscription } : {}), memBefore, memAfter, loadAtMemory: loadavg(),
      ...(marginal ? { marginalBytesPerSubscription: marginal, ...(memHalf ? { memHalf } : {}) } : {}),
    };
    say(`  load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

    if (scenario === 'one') {
      result.fanout = [];
      let open = true;
      for (let round = 1; round <= opts.rounds; round++) {
        open = !open;
        const { sentAt } = await load.publish(users[0]!, open);
        const times = (await arrivals(watches, sentAt, open, 60_000)).sort((a, b) => a - b);
        const r = { round, lastMs: Math.round(times[times.length - 1] ?? NaN), p50Ms: Math.round(percentile(times, 50)), complete: times.length };
        result.fanout.push(r);
        say(`  fan-out round ${round}: ${r.complete}/${watches.length} watchers notified; last after ${r.lastMs} ms (p50 ${r.p50Ms} ms); load average ${loadavg()[0]!.toFixed(2)}`);
        await sleep(1000);
      }
    } else {
      result.steady = [];
      const byUser = new Map<string, Watch[]>();
      for (const w of watches) byUser.set(w.presentity, [...(byUser.get(w.presentity) ?? []), w]);
      const state = new Map(users.map((u) => [u, true]));
      let cursor = 0;
      for (const rate of opts.rates) {
        const count = Math.min(users.length, Math.round(rate * opts.stepSeconds));
        const sent: Array<{ user: string; at: number; open: boolean }> = [];
        const notifiesBefore = load.notifyCount;
        const start = performance.now();
        const pending: Promise<unknown>[] = [];
        for (let i = 0; i < count; i++) {
          const due = start + (i * 1000) / rate;
          const wait = due - performance.now();
          if (wait > 1) await sleep(wait);
          const user = users[cursor++ % users.length]!;
          const open = !state.get(user);
          state.set(user, open);
          sent.push({ user, at: performance.now(), open });
          pending.push(load.publish(user, open));
        }
        await Promise.allSettled(pending);
        const publishSeconds = (performance.now() - start) / 1000;
        const lasts: number[] = [];
        let complete = 0;
        for (const s of sent) {
          const times = await arrivals(byUser.get(s.user) ?? [], s.at, s.open, 15_000);
          if (times.length === perUser) complete++;
          if (times.length) lasts.push(times.reduce((a, b) => Math.max(a, b), -Infinity));
        }
        // A loop, not Math.max(...all): tens of thousands of arrivals overflow the call stack as arguments.
        let lastArrival = -Infinity;
        for (const s of sent) for (const w of byUser.get(s.user) ?? []) for (const n of w.notifies) if (n.at >= s.at && n.at > lastArrival) lastArrival = n.at;
        const notifies = load.notifyCount - notifiesBefore;
        const seconds = (lastArrival - start) / 1000;
        lasts.sort((a, b) => a - b);
        const r = {
          publishRate: rate,
          achievedPublishRate: Math.round(count / publishSeconds),
          notifiesPerSecond: Math.round(notifies / seconds),
          p50Ms: Math.round(percentile(lasts, 50)),
          p99Ms: Math.round(percentile(lasts, 99)),
          complete,
          expected: count,
        };
        result.steady.push(r);
        say(`  load average ${loadavg()[0]!.toFixed(2)}; ${rate} PUBLISH/s for ${opts.stepSeconds} s: ${complete}/${count} PUBLISHes reached all ${perUser} watchers; ${r.notifiesPerSecond} NOTIFY/s; PUBLISH → last NOTIFY p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`);
        await sleep(2000);
        if (complete < count * 0.99) break;
      }
    }
    result.loadAtEnd = loadavg();
    return result;
  } finally {
    load.close();
  }
}

function table(results: ScenarioResult[]): string {
  const out: string[] = [];
  out.push('| target | scenario | subscriptions | subscribe time | bytes / subscription (RSS after GC; after a memory-reducing GC; V8 heap) | fan-out: last NOTIFY (median of rounds) |');
  out.push('|---|---|---|---|---|---|');
  for (const r of results) {
    const lasts = (r.fanout ?? []).map((f) => f.lastMs).sort((a, b) => a - b);
    const m = r.marginalBytesPerSubscription;
    const marginal = m ? (r.target === 'switchboard' ? ` (second half: ${m.rss}; ${m.reducedRss}; ${m.heap})` : ` (second half: ${m.rss})`) : '';
    out.push(`| ${r.target} | ${r.scenario === 'one' ? `1 user × ${r.watchersPerUser}` : `${r.users} users × ${r.watchersPerUser}`} | ${r.subscriptions} | ${r.subscribeSeconds.toFixed(1)} s | ${r.target === 'switchboard' ? `${r.bytesPerSubscription}; ${r.reducedBytesPerSubscription}; ${r.heapBytesPerSubscription}` : `${r.bytesPerSubscription} (PSS)`}${marginal} | ${lasts.length ? `${lasts[Math.floor(lasts.length / 2)]} ms` : '-'} |`);
  }
  const steady = results.filter((r) => r.steady);
  if (steady.length) {
    out.push('', '| target | PUBLISH/s asked (achieved) | complete | NOTIFY/s | PUBLISH → last NOTIFY p50 / p99 |', '|---|---|---|---|---|');
    for (const r of steady) for (const s of r.steady!) out.push(`| ${r.target} | ${s.publishRate} (${s.achievedPublishRate}) | ${s.complete}/${s.expected} | ${s.notifiesPerSecond} | ${s.p50Ms} / ${s.p99Ms} ms |`);
  }
  const sb = results.find((r) => r.target === 'switchboard' && r.scenario === 'one');
  const ka = results.find((r) => r.target === 'kamailio' && r.scenario === 'one');
  if (sb?.fanout?.length && ka?.fanout?.length) {
    const med = (r: ScenarioResult) => r.fanout!.map((f) => f.lastMs).sort((a, b) => a - b)[Math.floor(r.fanout!.length / 2)]!;
    out.push('', `fan-out time Switchboard/Kamailio: ${(med(sb) / med(ka)).toFixed(2)}; bytes per subscription Switchboard/Kamailio: ${(sb.bytesPerSubscription / ka.bytesPerSubscription).toFixed(2)}`);
  }
  return out.join('\n');
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      watchers: { type: 'string', default: '10000' },
      users: { type: 'string', default: '5000' },
      'per-user': { type: 'string', default: '20' },
      rounds: { type: 'string', default: '5' },
      rates: { type: 'string', default: '100,250,500,1000' },
      'step-seconds': { type: 'string', default: '4' },
      scenarios: { type: 'string', default: 'one,many' },
      targets: { type: 'string', default: 'switchboard,kamailio' },
      'kamailio-children': { type: 'string', default: '2' },
      'settle-seconds': { type: 'string', default: '55' },
      'subscribe-window': { type: 'string', default: '200' },
      marginal: { type: 'boolean', default: false },
      'engine-thread': { type: 'string', default: 'worker' },
      'young-generation': { type: 'string', default: 'grow' },
    },
    allowPositionals: false,
  });
  SETTLE_MS = Number(values['settle-seconds']) * 1000;
  const scenarios = values.scenarios!.split(',') as Array<'one' | 'many'>;
  const targets = values.targets!.split(',') as TargetKind[];
  const engineThread = values['engine-thread'] as 'main' | 'worker';
  if (engineThread !== 'main' && engineThread !== 'worker') throw new Error(`--engine-thread is main or worker, not ${engineThread}`);
  const youngGeneration = values['young-generation'] as 'grow' | 'small';
  if (youngGeneration !== 'grow' && youngGeneration !== 'small') throw new Error(`--young-generation is grow or small, not ${youngGeneration}`);
  const opts = { rounds: Number(values.rounds), rates: values.rates!.split(',').map(Number), stepSeconds: Number(values['step-seconds']), subscribeWindow: Number(values['subscribe-window']), marginal: values.marginal === true };
  say(`presence benchmark on ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`);
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const users = scenario === 'one' ? ['u0'] : userNames('u', Number(values.users));
    const perUser = scenario === 'one' ? Number(values.watchers) : Number(values['per-user']);
    for (const kind of targets) {
      const workDir = mkdtempSync(join(tmpdir(), 'presence-bench-'));
      say(`\n== ${scenario === 'one' ? `1 user × ${perUser} watchers` : `${users.length} users × ${perUser} watchers`} on ${kind}`);
      let target: Target | undefined;
      try {
        target = kind === 'switchboard' ? await startSwitchboard(workDir, users, engineThread, youngGeneration) : await startKamailio(Number(values['kamailio-children']));
        say(`  ${target.label}, SIP on 127.0.0.1:${target.port}`);
        results.push(await runScenario(target, scenario, users, perUser, opts));
      } catch (err) {
        say(`  FAILED: ${(err as Error).message}`);
      } finally {
        await target?.stop().catch(() => undefined);
        rmSync(workDir, { recursive: true, force: true });
      }
    }
  }
  say(`\n${table(results)}`);
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `presence-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, node: process.version, results }, null, 2)}\n`);
  say(`\nresults: ${file}`);
}
