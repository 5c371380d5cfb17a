// Worker-thread half of the "engine in a worker" benchmark mode: the SIP
// engine runs here, the drachtio-srf app in the main thread, talking over the
// wire protocol on loopback exactly as they would across processes.
import { parentPort, workerData } from 'node:worker_threads';
import { SipEngine } from '../core/src/sip-engine/index.ts';

interface EngineWorkerData {
  contacts: string[];
  secret: string;
}

const data = workerData as EngineWorkerData;
const port = parentPort;
if (!port) throw new Error('bench/engine-worker.ts must run as a worker thread');

const engine = new SipEngine({ contacts: data.contacts, wire: { host: '127.0.0.1', port: 0, secret: data.secret } });
try {
  await engine.start();
  port.postMessage({ type: 'ready', wirePort: engine.wirePort });
} catch (err) {
  port.postMessage({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
}
port.on('message', (msg: { type: string }) => {
  if (msg.type !== 'stop') return;
  engine.stop().finally(() => {
    port.postMessage({ type: 'stopped' });
    port.close();
  });
});
