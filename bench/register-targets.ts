// The two registrars the REGISTER benchmark compares, behind one interface:
// Kamailio 5.6 (registrar + usrloc + auth_db, kamailio-register.cfg) and a
// Switchboard host, each with the same users in its own database (a SQLite
// file, or MariaDB at 127.0.0.1:3306). The Switchboard host is by default
// the registrar build as a branch office would run it (`switchboard build
// --profile config/profiles/registrar.json`, then its own `switchboard
// start`: compiled, bundled, no plugins); `--host source` runs
// register-host.ts through tsx instead (the repository's TypeScript).
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { startKamailio } from './kamailio/kamailio-peer.ts';
import { MemorySampler } from './proc-stats.ts';
import { countStoredBindings, mysqlDatabase, seedKamailioMysql, seedKamailioSqlite, seedSwitchboardUsers } from './register-users.ts';
import { registerHostConfig, type RegisterHostOptions } from './register-config.ts';

export type RegisterTargetKind = 'kamailio' | 'switchboard';
export type BenchDb = 'sqlite' | 'mariadb';

/** How the Switchboard host runs: the registrar build's own start command, or register-host.ts through tsx. */
export type SwitchboardHostKind = 'build' | 'source';

export function targetLabel(kind: RegisterTargetKind, kamailioChildren = 2, engineThread?: 'main' | 'worker', host: SwitchboardHostKind = 'build'): string {
  if (kind === 'kamailio') return `Kamailio 5.6 (auth_db, usrloc, ${kamailioChildren} children)`;
  return `Switchboard ${host === 'build' ? 'registrar build' : 'host from source (tsx)'} (1 process, engine on the ${engineThread ?? 'main'} thread${engineThread ? '' : ', as shipped'})`;
}

export interface MemorySnapshot {
  /** Resident memory now, KiB: private memory of every process plus shared memory counted once. */
  rssKb: number;
  /** V8 heap in use after a full GC (Switchboard only). */
  heapUsedKb?: number;
  /** Where the RSS is (the registrar build only): anonymous and file-backed pages, V8 heap committed. */
  detail?: string;
}

export interface RegisterTarget {
  kind: RegisterTargetKind;
  port: number;
  /** Every process whose CPU and memory count for this target, as of now. */
  pids(): number[];
  memory(): Promise<MemorySnapshot>;
  /** Bindings written through to the database (Switchboard), when the target keeps them there. */
  storedBindings?(): Promise<number>;
  stop(): Promise<void>;
}

export interface TargetSetup {
  port: number;
  domain: string;
  /** Every user the target must know (warm-up and measured users). */
  users: string[];
  db: BenchDb;
  /** Scratch folder for SQLite files; removed by the caller. */
  workDir: string;
  /** usrloc db_mode for Kamailio (0 memory only, 1 write-through, 2 write-back). */
  kamailioUsrlocDbMode: number;
  kamailioChildren: number;
  /** sip.engineThread of the Switchboard host; unset: the host's own. */
  engineThread?: 'main' | 'worker';
  switchboardHost: SwitchboardHostKind;
}

export const MARIADB = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };
const KAMAILIO_MARIADB_NAME = 'kamailio_bench';
const SWITCHBOARD_MARIADB_NAME = 'sb_bench_register';
const REGISTER_CFG = fileURLToPath(new URL('./kamailio/kamailio-register.cfg', import.meta.url));
const HOST_SCRIPT = fileURLToPath(new URL('./register-host.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../', import.meta.url));
const MEMORY_PROBE = fileURLToPath(new URL('./host-memory-probe.cjs', import.meta.url));

/**
 * Current resident memory of a set of processes, measured like the SIP
 * benchmark's peak: a sampler that is stopped at once holds two immediate
 * samples, i.e. the memory now.
 */
function residentNowKb(pids: number[]): number {
  return new MemorySampler(pids, 60_000).stop();
}

async function startKamailioTarget(setup: TargetSetup): Promise<RegisterTarget> {
  const withLocation = setup.kamailioUsrlocDbMode > 0;
  let dbUrl: string;
  if (setup.db === 'sqlite') {
    const file = join(setup.workDir, 'kamailio.db');
    seedKamailioSqlite(file, setup.domain, setup.users, withLocation);
    // db_sqlite drops the first "/" after "sqlite://" (sqlite:///x.db is the relative x.db): four slashes for /tmp/….
    dbUrl = `sqlite:///${file}`;
  } else {
    await seedKamailioMysql(MARIADB, KAMAILIO_MARIADB_NAME, setup.domain, setup.users, withLocation);
    dbUrl = `mysql://${MARIADB.user}@${MARIADB.host}:${MARIADB.port}/${KAMAILIO_MARIADB_NAME}`;
  }
  const peer = await startKamailio({
    config: REGISTER_CFG,
    port: setup.port,
    // tm keeps each finished transaction for 5 s; at thousands of REGISTER pairs/s that needs room (see sip-targets.ts).
    sharedMemMb: 1024,
    privateMemMb: 8,
    defines: {
      DBURL: `"${dbUrl}"`,
      UL_DB_MODE: String(setup.kamailioUsrlocDbMode),
      CHILDREN: String(setup.kamailioChildren),
      ...(setup.db === 'mariadb' ? { WITH_MYSQL: '1' } : {}),
    },
    startTimeoutMs: 10_000,
  });
  return {
    kind: 'kamailio',
    port: setup.port,
    pids: () => peer.pids(),
    memory: async () => ({ rssKb: residentNowKb(peer.pids()) }),
    stop: async () => {
      await peer.stop();
      if (setup.db === 'mariadb') await mysqlDatabase(MARIADB, KAMAILIO_MARIADB_NAME, 'drop').catch(() => undefined);
    },
  };
}

async function startSwitchboardTarget(setup: TargetSetup): Promise<RegisterTarget> {
  let storageUrl: string;
  if (setup.db === 'sqlite') {
    storageUrl = `sqlite:${join(setup.workDir, 'switchboard.db')}`;
  } else {
    await mysqlDatabase(MARIADB, SWITCHBOARD_MARIADB_NAME, 'create');
    storageUrl = `mysql://${MARIADB.user}@${MARIADB.host}:${MARIADB.port}/${SWITCHBOARD_MARIADB_NAME}`;
  }
  const hostOptions: RegisterHostOptions = {
    storageUrl,
    sipPort: setup.port,
    domain: setup.domain,
    adminPassword: randomBytes(12).toString('base64url'),
    ...(setup.engineThread ? { engineThread: setup.engineThread } : {}),
  };
  const built = setup.switchboardHost === 'build' ? registrarBuild(setup.workDir, hostOptions) : undefined;
  // REGISTER_HOST_NODE_ARGS: more options for the host's node (e.g. `--cpu-prof --cpu-prof-dir=DIR`), space-separated.
  const nodeArgs = (process.env.REGISTER_HOST_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = built
    ? spawn(process.execPath, [...nodeArgs, '--expose-gc', '--require', MEMORY_PROBE, 'core/bin/switchboard.js', 'start', '--config', built.config], {
      cwd: built.dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SB_BENCH_MEM_FILE: built.memFile },
    })
    : spawn(process.execPath, ['--expose-gc', '--import', 'tsx', HOST_SCRIPT, JSON.stringify(hostOptions)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => { stderr = (stderr + c.toString('utf8')).slice(-8192); });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('close', () => { exited = true; resolve(); }));
  // Lines the host prints, handed to whoever waits for a given prefix.
  const waiters: Array<{ prefix: string; resolve: (line: string) => void }> = [];
  let buffered = '';
  // REGISTER_HOST_LOG=FILE keeps what the host writes (its log records) for a look after the run.
  const hostLog = process.env.REGISTER_HOST_LOG;
  child.stdout?.on('data', (c: Buffer) => {
    if (hostLog) appendFileSync(hostLog, c);
    buffered += c.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const i = waiters.findIndex((w) => line.startsWith(w.prefix) || line.startsWith('FAILED'));
      if (i >= 0) waiters.splice(i, 1)[0]!.resolve(line);
    }
  });
  const nextLine = (prefix: string, timeoutMs: number): Promise<string> => new Promise((resolve) => {
    const timer = setTimeout(() => resolve(`FAILED no ${prefix} line within ${timeoutMs} ms`), timeoutMs);
    waiters.push({ prefix, resolve: (line) => { clearTimeout(timer); resolve(line); } });
    void exit.then(() => { clearTimeout(timer); resolve(`FAILED the host exited: ${stderr.slice(-2000)}`); });
  });
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exit;
      clearTimeout(forced);
    }
    if (setup.db === 'mariadb') await mysqlDatabase(MARIADB, SWITCHBOARD_MARIADB_NAME, 'drop').catch(() => undefined);
  };
  const ready = built ? await healthy(built.httpUrl, 60_000, () => exited, () => stderr) : await nextLine('READY', 60_000);
  if (!ready.startsWith('READY')) {
    await stop();
    throw new Error(ready.replace(/^FAILED /, ''));
  }
  const { httpUrl } = JSON.parse(ready.slice('READY '.length)) as { httpUrl: string };
  try {
    await seedSwitchboardUsers({ httpUrl, adminPassword: hostOptions.adminPassword, storageUrl, domain: setup.domain, names: setup.users });
  } catch (err) {
    await stop();
    throw err;
  }
  const pid = child.pid ?? -1;
  return {
    kind: 'switchboard',
    port: setup.port,
    pids: () => [pid],
    memory: async () => {
      const line = built ? await memoryFromProbe(pid, built.memFile) : (child.stdin?.write('mem\n'), await nextLine('MEM', 10_000));
      const m = line.startsWith('MEM ') ? (JSON.parse(line.slice(4)) as { rssKb?: number; heapUsedKb: number; heapTotalKb?: number; rssAnonKb?: number; rssFileKb?: number; rssAfterGcKb?: number; spacesKb?: Record<string, [number, number]> }) : undefined;
      const mib = (kb: number) => `${(kb / 1024).toFixed(1)} MiB`;
      // V8's spaces of more than 1 MiB, committed/used.
      const spaces = Object.entries(m?.spacesKb ?? {}).filter(([, [size]]) => size > 1024).map(([name, [size, used]]) => `${name} ${mib(size)}/${mib(used)}`).join(', ');
      const detail = m?.rssAnonKb !== undefined && m.rssFileKb !== undefined && m.heapTotalKb !== undefined
        ? `anonymous ${mib(m.rssAnonKb)}, file pages ${mib(m.rssFileKb)}${m.rssAfterGcKb !== undefined ? `, RSS ${mib(m.rssAfterGcKb)} after the probe's GC` : ''}; V8 heap committed ${mib(m.heapTotalKb)}${spaces ? `: ${spaces}` : ''}`
        : undefined;
      // The build's probe reads the RSS before it collects garbage (the host at rest); from source, /proc now.
      return { rssKb: m?.rssKb ?? residentNowKb([pid]), ...(m ? { heapUsedKb: m.heapUsedKb } : {}), ...(detail ? { detail } : {}) };
    },
    storedBindings: () => countStoredBindings(storageUrl, setup.domain),
    stop,
  };
}

export function startRegisterTarget(kind: RegisterTargetKind, setup: TargetSetup): Promise<RegisterTarget> {
  return kind === 'kamailio' ? startKamailioTarget(setup) : startSwitchboardTarget(setup);
}

/**
 * The registrar build (config/profiles/registrar.json) in `workDir`, with
 * the same settings register-host.ts gives the host from source, in a
 * config file of its own.
 */
function registrarBuild(workDir: string, opts: RegisterHostOptions): { dir: string; config: string; memFile: string; httpUrl: string } {
  const dir = join(workDir, 'registrar-build');
  const build = spawnSync(process.execPath, ['core/bin/switchboard.js', 'build', '--profile', 'config/profiles/registrar.json', '--out', dir], { cwd: REPO, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`switchboard build failed: ${build.stderr || build.stdout}`);
  const setup = spawnSync(process.execPath, ['setup.mjs'], { cwd: dir, encoding: 'utf8' });
  if (setup.status !== 0) throw new Error(`the registrar build's setup failed: ${setup.stderr || setup.stdout}`);
  const httpPort = 20_000 + Math.floor(Math.random() * 20_000);
  const config = join(workDir, 'registrar.json');
  writeFileSync(config, JSON.stringify({ ...registerHostConfig(opts), http: { host: '127.0.0.1', port: httpPort } }));
  return { dir, config, memFile: join(workDir, 'host-memory.json'), httpUrl: `http://127.0.0.1:${httpPort}` };
}

/** `READY {"httpUrl":…}` once /api/health says SIP is connected, else `FAILED …`. */
async function healthy(httpUrl: string, timeoutMs: number, exited: () => boolean, stderr: () => string): Promise<string> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (exited()) return `FAILED the host exited: ${stderr().slice(-2000)}`;
    try {
      const res = await fetch(`${httpUrl}/api/health`);
      if (res.ok && ((await res.json()) as { sip?: string }).sip === 'connected') return `READY ${JSON.stringify({ httpUrl })}`;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return `FAILED /api/health not ready within ${timeoutMs} ms: ${stderr().slice(-2000)}`;
}

/** Asks host-memory-probe.cjs in the host for a reading after GC (SIGUSR2); `MEM {…}`. */
async function memoryFromProbe(pid: number, file: string): Promise<string> {
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (now && now !== before) return `MEM ${now}`;
  }
  return 'FAILED no memory reading from the host';
}
