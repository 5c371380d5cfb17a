// What a presence subscription holds: boots bench/presence-host.ts (T1 50 ms, so
// the SUBSCRIBE server transactions end 3.2 s after their response), takes a
// heap snapshot, subscribes N watchers to one user, waits for the transactions
// to end, takes a second snapshot and prints, per V8 node type and name, the
// count and self size added per subscription, largest first, plus RSS and
// heapUsed deltas.
//
//   node --import tsx bench/presence-heap.ts [N=2000] [top=40] [--no-snapshot] [--batches=K]
//
// --no-snapshot: memory figures only (writing a snapshot grows the RSS itself),
// with the host's /proc status lines; HOST_NODE_OPTIONS adds node flags to the host.
// --batches=K (with --no-snapshot): K batches of N subscriptions, memory after each, so
// the cost of one more subscription shows apart from the one-time growth of the first burst.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PresenceLoad, windowed, type Watch } from './presence-load.ts';
import { seedSwitchboardUsers } from './register-users.ts';

const DOMAIN = 'bench.example';
const ADMIN_PASSWORD = 'presence-heap-admin-1';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Count and self size per `type:name` of a heap snapshot file. */
function census(file: string): Map<string, { count: number; size: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const types = snap.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!]!;
    let name = type === 'string' || type === 'concatenated string' || type === 'sliced string' ? '' : snap.strings[snap.nodes[i + iName]!]!;
    if (name.length > 60) name = `${name.slice(0, 60)}…`;
    const key = `${type}:${name}`;
    const e = out.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += snap.nodes[i + iSize]!;
    out.set(key, e);
  }
  return out;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 2000);
  const top = Number(process.argv[3] ?? 40);
  const snapshots = !process.argv.includes('--no-snapshot');
  const batches = Number(/^--batches=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--batches=')) ?? '')?.[1] ?? 1);
  const hostFlags = (process.env.HOST_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  const dir = mkdtempSync(join(tmpdir(), 'presence-heap-'));
  const storageUrl = `sqlite:${join(dir, 'switchboard.db')}`;
  const child = spawn(process.execPath, [...hostFlags, '--expose-gc', '--import', 'tsx', fileURLToPath(new URL('./presence-host.ts', import.meta.url)),
    JSON.stringify({ storageUrl, domain: DOMAIN, adminPassword: ADMIN_PASSWORD, t1: 50 })], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const waiters: Array<(line: string) => void> = [];
  lines.on('line', (line) => waiters.shift()?.(line));
  const next = () => new Promise<string>((resolve) => waiters.push(resolve));
  const ask = async (cmd: string) => {
    const answer = next();
    child.stdin!.write(`${cmd}\n`);
    return answer;
  };
  try {
    const ready = await next();
    if (!ready.startsWith('READY ')) throw new Error(ready);
    const info = JSON.parse(ready.slice(6)) as { httpUrl: string; sipPort: number };
    await seedSwitchboardUsers({ httpUrl: info.httpUrl, adminPassword: ADMIN_PASSWORD, storageUrl, domain: DOMAIN, names: ['u0'] });
    const token = ((await (await fetch(`${info.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) })).json()) as { token: string }).token;
    const cfg = await fetch(`${info.httpUrl}/api/admin/sites/${DOMAIN}/plugins/presence`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: true, config: { maxSubscriptionsPerUser: 100_000 } }),
    });
    if (cfg.status !== 200) throw new Error(`presence config: ${cfg.status}`);
    const load = await PresenceLoad.open({ host: '127.0.0.1', port: info.sipPort }, DOMAIN);
    await load.publish('u0', true);
    // A few subscriptions first, so one-time allocations (code, caches) are in both snapshots.
    const warm: Watch[] = [];
    for (let i = 0; i < 50; i++) warm.push(await load.subscribe('u0', `warm${i}`));
    await new Promise((r) => setTimeout(r, 5000));
    const mem0r = JSON.parse((await ask('mem reduce')).slice(4)) as { rssKb: number; heapUsedKb: number };
    process.stdout.write(`before, after a memory-reducing GC: ${JSON.stringify(mem0r)}\n`);
    const mem0 = JSON.parse((await ask('mem')).slice(4)) as { rssKb: number; heapUsedKb: number };
    const status = () => readFileSync(`/proc/${child.pid}/status`, 'utf8').split('\n').filter((l) => /^(VmRSS|RssAnon|RssFile|VmHWM)/.test(l)).join(' ').replace(/\s+/g, ' ');
    process.stdout.write(`before: ${status()}\n`);
    const before = snapshots ? (await ask(`heap ${join(dir, 'before.heapsnapshot')}`)).slice(5) : '';
    const watches: Watch[] = [];
    for (let b = 1; b < batches; b++) {
      const pairs = Array.from({ length: n }, (_, j) => `w${b}-${j}`);
      await windowed(pairs, 200, async (w) => { watches.push(await load.subscribe('u0', w)); });
      while (watches.some((w) => w.notifies.length === 0)) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 6000));
      const m = JSON.parse((await ask('mem')).slice(4)) as { rssKb: number; heapUsedKb: number };
      const r = JSON.parse((await ask('mem reduce')).slice(4)) as { rssKb: number; heapUsedKb: number };
      process.stdout.write(`after batch ${b} (${b * n} subscriptions): RSS ${m.rssKb} KiB, after a memory-reducing GC ${r.rssKb} KiB, heap in use ${r.heapUsedKb} KiB\n`);
    }
    const pairs = Array.from({ length: n }, (_, j) => `w${j}`);
    await windowed(pairs, 200, async (w) => { watches.push(await load.subscribe('u0', w)); });
    const deadline = Date.now() + 30_000;
    while (watches.some((w) => w.notifies.length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 6000));
    const mem1 = JSON.parse((await ask('mem')).slice(4)) as { rssKb: number; heapUsedKb: number };
    process.stdout.write(`after:  ${status()}\n`);
    const mem2 = JSON.parse((await ask('mem reduce')).slice(4)) as { rssKb: number; heapUsedKb: number };
    if (batches > 1) process.stdout.write(`after batch ${batches} (${batches * n} subscriptions): RSS ${mem1.rssKb} KiB, after a memory-reducing GC ${mem2.rssKb} KiB, heap in use ${mem2.heapUsedKb} KiB\n`);
    process.stdout.write(`after a memory-reducing GC: ${status()}; RSS +${(((mem2.rssKb - mem0r.rssKb) * 1024) / n).toFixed(0)} B each\n${JSON.stringify(mem2)}\n`);
    load.close();
    if (!snapshots) {
      process.stdout.write(`${n} subscriptions: heapUsed +${(((mem1.heapUsedKb - mem0.heapUsedKb) * 1024) / n).toFixed(0)} B, RSS +${(((mem1.rssKb - mem0.rssKb) * 1024) / n).toFixed(0)} B each\n`);
      process.stdout.write(`memory before ${JSON.stringify(mem0)}\nmemory after  ${JSON.stringify(mem1)}\n`);
      return;
    }
    const after = (await ask(`heap ${join(dir, 'after.heapsnapshot')}`)).slice(5);
    const a = census(before);
    const b = census(after);
    const rows: Array<{ key: string; count: number; size: number }> = [];
    for (const [key, e] of b) {
      const was = a.get(key) ?? { count: 0, size: 0 };
      rows.push({ key, count: (e.count - was.count) / n, size: (e.size - was.size) / n });
    }
    rows.sort((x, y) => y.size - x.size);
    const total = rows.reduce((s, r) => s + r.size, 0);
    process.stdout.write(`${n} subscriptions: heap self size +${total.toFixed(0)} B each; heapUsed +${(((mem1.heapUsedKb - mem0.heapUsedKb) * 1024) / n).toFixed(0)} B, RSS +${(((mem1.rssKb - mem0.rssKb) * 1024) / n).toFixed(0)} B each\n`);
    process.stdout.write(`memory before ${JSON.stringify(mem0)}\nmemory after  ${JSON.stringify(mem1)}\n`);
    process.stdout.write('per subscription: count  bytes  type:name\n');
    for (const r of rows.slice(0, top)) process.stdout.write(`${r.count.toFixed(2).padStart(8)} ${r.size.toFixed(0).padStart(6)}  ${r.key}\n`);
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
