// Child process the REGISTER benchmark measures on the Switchboard side: a
// real host (SwitchboardHost.start, as sdk/src/test-host.ts boots it) with
// no plugins, its storage at the URL given (a SQLite file by default, as in
// production), the embedded SIP engine on 127.0.0.1 and the registrar
// offering MD5 first (sipp only answers MD5, and takes the first challenge).
// Running it as its own process lets bench/register.ts read its CPU and RSS
// from /proc exactly as it does for Kamailio's processes.
//
//   node --expose-gc --import tsx bench/register-host.ts '<json options>'
//
// Prints `READY {"httpUrl":…}` (or `FAILED <reason>`) once it serves SIP.
// On stdin, the line `mem` makes it read its RSS, collect garbage (when
// --expose-gc is on) and answer `MEM {"rssKb":…,"heapUsedKb":…}`. Stops cleanly on SIGTERM.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SwitchboardHost, loadConfig } from '../core/src/index.ts';
import { registerHostConfig, type RegisterHostOptions } from './register-config.ts';

function reply(line: string): void {
  process.stdout.write(`${line}\n`);
}

function memoryLine(): string {
  // The RSS as the host has it, before the collection below (which leaves more resident for a while).
  const rss = process.memoryUsage.rss();
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    // Twice: the first pass can leave weakly held objects for the second.
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return `MEM ${JSON.stringify({ rssKb: Math.round(rss / 1024), rssAfterGcKb: Math.round(m.rss / 1024), heapUsedKb: Math.round(m.heapUsed / 1024), externalKb: Math.round(m.external / 1024), gc: gc !== undefined })}`;
}

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2] ?? '') as RegisterHostOptions;
  // Its own root, so the repository's plugins/ is not scanned and nothing is written into the tree.
  const root = mkdtempSync(join(tmpdir(), 'sb-register-bench-'));
  const config = loadConfig({
    env: {},
    overrides: {
      ...registerHostConfig(opts),
      http: { host: '127.0.0.1', port: 0 },
      plugins: { dirs: [], installDir: join(root, 'plugins'), trustDir: join(root, 'trust') },
    },
  });
  let host: SwitchboardHost;
  try {
    host = await SwitchboardHost.start({ config, rootDir: root, loginRateLimit: 1000 });
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await host.stop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    if (line.trim() === 'mem') reply(memoryLine());
  });
  input.on('close', () => void stop());
  reply(`READY ${JSON.stringify({ httpUrl: host.url })}`);
}

main().catch((err: unknown) => {
  reply(`FAILED ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  process.exit(1);
});
