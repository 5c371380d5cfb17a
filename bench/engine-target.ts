// Child process the SIP benchmark measures on the engine side: Switchboard's
// embedded engine plus the minimal srf app (bench/srf-app.ts), either in one
// thread ("inproc") or with the engine in a worker thread ("worker").
// Running it as its own process lets bench/sip.ts read its CPU time and peak
// RSS from /proc the same way it does for Kamailio's processes.
//
//   node --import tsx bench/engine-target.ts <inproc|worker> <sipPort>
//
// Prints one line `READY {"wirePort":N}` (or `FAILED <reason>`) on stdout,
// and shuts down cleanly on SIGTERM.
import { Worker } from 'node:worker_threads';
import { SipEngine } from '../core/src/sip-engine/index.ts';
import { connectSrf } from './srf-app.ts';

const SECRET = 'bench';

interface RunningEngine {
  wirePort: number;
  stop(): Promise<void>;
}

async function startInProcess(contacts: string[]): Promise<RunningEngine> {
  const engine = new SipEngine({ contacts, wire: { host: '127.0.0.1', port: 0, secret: SECRET } });
  await engine.start();
  return { wirePort: engine.wirePort, stop: () => engine.stop() };
}

async function startInWorker(contacts: string[]): Promise<RunningEngine> {
  // Loader hooks (tsx) are per thread in Node 20 and a worker does not get
  // them, so a tiny JS bootstrap registers tsx before importing the TS file.
  const entry = new URL('./engine-worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { contacts, secret: SECRET } });
  const wirePort = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`engine worker exited with ${code} before it was ready`)));
    worker.once('message', (msg: { type: string; wirePort?: number; message?: string }) => {
      if (msg.type === 'ready' && msg.wirePort) resolve(msg.wirePort);
      else reject(new Error(`engine worker failed: ${msg.message ?? JSON.stringify(msg)}`));
    });
  });
  return {
    wirePort,
    stop: async () => {
      const stopped = new Promise<void>((resolve) => {
        worker.on('message', (msg: { type: string }) => { if (msg.type === 'stopped') resolve(); });
        worker.once('exit', () => resolve());
      });
      worker.postMessage({ type: 'stop' });
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 3000))]);
      await worker.terminate();
    },
  };
}

async function main(): Promise<void> {
  const [mode, portArg] = process.argv.slice(2);
  const sipPort = Number(portArg);
  if ((mode !== 'inproc' && mode !== 'worker') || !Number.isInteger(sipPort)) {
    throw new Error('usage: engine-target.ts <inproc|worker> <sipPort>');
  }
  const contacts = [`sip:127.0.0.1:${sipPort};transport=udp`];
  const engine = mode === 'inproc' ? await startInProcess(contacts) : await startInWorker(contacts);
  const srf = await connectSrf(engine.wirePort, SECRET);
  process.stdout.write(`READY ${JSON.stringify({ wirePort: engine.wirePort })}\n`);
  const shutdown = (): void => {
    srf.disconnect();
    engine.stop().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 4000).unref();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  process.stdout.write(`FAILED ${err instanceof Error ? err.stack ?? err.message : String(err)}`.replace(/\n/g, ' | ') + '\n');
  process.exit(1);
});
