// sip.wire.inProcess: the core's Srf reaches the embedded engine through an
// in-process socket pair by default, and over a real TCP connection to
// sip.wire.port when it is false. Read from the kernel's TCP table: with the
// default no connection to the wire port exists, with false one does.
import t from 'tap';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { loadConfig } from '../src/config/index.ts';
import { SipConnection } from '../src/host/sip-connection.ts';
import type { SipRouter } from '../src/host/sip-router.ts';
import { quietPort } from '../../test/helpers/sipp.ts';

/** ESTABLISHED TCP connections (either direction) on 127.0.0.1 to or from `port`. */
function establishedOn(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '01' && (cols[1]?.endsWith(`:${hex}`) || cols[2]?.endsWith(`:${hex}`))) n++;
    }
  }
  return n;
}

for (const inProcess of [true, false]) {
  t.test(`sip.wire.inProcess = ${inProcess}`, async (t) => {
    const sipPort = await quietPort(['udp']);
    const wirePort = await quietPort(['tcp']);
    const config = loadConfig({
      env: {},
      overrides: {
        sip: { contacts: [`sip:127.0.0.1:${sipPort};transport=udp`], wire: { host: '127.0.0.1', port: wirePort, inProcess } },
        admin: { password: 'wire-test-password' },
      },
    });
    t.equal(config.sip.wire.inProcess, inProcess, 'the config key is read');
    // The connection only hands the router its Srf; routing is not under test here.
    const router = { attach: () => undefined, useDirect: () => undefined, hostMethods: () => [] } as unknown as SipRouter;
    const conn = new SipConnection(config.sip, pino({ level: 'silent' }), router);
    t.teardown(() => conn.stop());
    await conn.start();
    const deadline = Date.now() + 5000;
    while (conn.state !== 'connected' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.equal(conn.state, 'connected', 'the core Srf is connected and authenticated');
    // Both ends of a TCP connection are listed, so one connection shows as two rows.
    if (inProcess) t.equal(establishedOn(wirePort), 0, 'no TCP connection to the wire port');
    else t.equal(establishedOn(wirePort), 2, 'one TCP connection to the wire port');
  });
}
