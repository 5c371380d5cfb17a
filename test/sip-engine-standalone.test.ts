/** `switchboard sip-engine` as a drop-in drachtio-server: flags, errors, and an unmodified srf app on it. */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, runSipp } from './helpers/sipp.ts';
import { connectSrf, waitFor } from './helpers/engine.ts';

const BIN = fileURLToPath(new URL('../core/bin/switchboard.js', import.meta.url));

t.test('missing secret and bad port fail with a clear message', async (t) => {
  const noSecret = spawnSync(process.execPath, [BIN, 'sip-engine', '--contact', 'sip:127.0.0.1:0;transport=udp'], { encoding: 'utf8', env: { ...process.env, SWITCHBOARD_ENGINE_SECRET: '' } });
  t.equal(noSecret.status, 2);
  t.match(noSecret.stderr, /--secret is required/);
  const badPort = spawnSync(process.execPath, [BIN, 'sip-engine', '--secret', 's', '--port', 'abc'], { encoding: 'utf8' });
  t.equal(badPort.status, 2);
  t.match(badPort.stderr, /--port abc is not a port number/);
  const badContact = spawnSync(process.execPath, [BIN, 'sip-engine', '--secret', 's', '--port', '0', '--contact', 'sip:nohost;transport=carrier-pigeon'], { encoding: 'utf8' });
  t.equal(badContact.status, 2);
  t.match(badContact.stderr, /SIP_ERR_BAD_CONTACT|bad contact/);
});

t.test('an srf app connects to the standalone engine and answers sipp', async (t) => {
  const [sipPort, wirePort] = await Promise.all([freePort('udp'), freePort('tcp')]);
  const child = spawn(process.execPath, [BIN, 'sip-engine', '--contact', `sip:127.0.0.1:${sipPort};transport=udp,tcp`, '--port', String(wirePort), '--address', '127.0.0.1', '--secret', 'cymru', '--loglevel', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGTERM'));
  const line = await waitFor<string>((done) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; if (out.includes('listening')) done(out); });
  }, 10000, 'engine listening line');
  t.match(line, new RegExp(`wire 127.0.0.1:${wirePort}; sip udp/127.0.0.1:${sipPort}, tcp/127.0.0.1:${sipPort}`));
  const srf = await connectSrf(wirePort, 'cymru');
  let got = 0;
  srf.message((_req: any, res: any) => { got++; res.send(200); });
  await new Promise((r) => setTimeout(r, 100));
  const r = await runSipp({ scenario: 'uac-message.xml', target: `127.0.0.1:${sipPort}`, transport: 't1', calls: 5, rate: 50, timeoutMs: 15000 });
  t.equal(r.successful, 5);
  t.equal(got, 5);
  srf.disconnect();
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  t.equal(code, 0, 'SIGTERM stops it cleanly');
});
