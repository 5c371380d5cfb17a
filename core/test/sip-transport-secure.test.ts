import t from 'tap';
import { once } from 'node:events';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { WebSocket, type RawData } from 'ws';
import type { Flow } from '../src/sip-engine/transport/index.ts';
import { nextError, nextMessages, readUntil, sipRequest, startLayer } from './sip-transport-helpers.ts';

const OK = Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');

t.test('TLS with the generated certificate round-trips, on IPv4 and IPv6', async (t) => {
  const layer = await startLayer([
    { transport: 'tls', host: '127.0.0.1', port: 0 },
    { transport: 'tls', host: '::1', port: 0 },
  ]);
  t.teardown(() => layer.close());
  for (const bound of layer.listeners()) {
    const client: TLSSocket = tlsConnect({ host: bound.address, port: bound.port, rejectUnauthorized: false });
    client.on('error', () => {});
    t.teardown(() => client.destroy());
    await once(client, 'secureConnect');
    t.ok(client.getPeerCertificate().subject, `${bound.address}: the server presents a certificate`);

    const msg = sipRequest('tls1', 'secret');
    const arrived = nextMessages(layer, 1);
    client.write(msg);
    const [m] = await arrived;
    t.same(m!.data, msg);
    t.match(m!.flow, { transport: 'tls', localAddress: bound.address, localPort: bound.port, remotePort: client.localPort });
    t.match(m!.flow.id, /^tls:/);

    const read = readUntil(client, (all) => all.length >= OK.length);
    await layer.send({ transport: 'tls', address: m!.flow.remoteAddress, port: m!.flow.remotePort, flowId: m!.flow.id }, OK);
    t.same(await read, OK, 'the reply comes back over TLS');
  }
});

t.test('outbound TLS to another layer', async (t) => {
  const a = await startLayer([{ transport: 'udp', host: '127.0.0.1', port: 0 }]);
  const b = await startLayer([{ transport: 'tls', host: '127.0.0.1', port: 0 }]);
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const arrived = nextMessages(b, 1);
  const flow = await a.send({ transport: 'tls', address: '127.0.0.1', port: b.listeners()[0]!.port }, sipRequest('tls-out'));
  t.match(flow, { transport: 'tls', remoteAddress: '127.0.0.1' });
  const [m] = await arrived;
  t.same(m!.data, sipRequest('tls-out'));
  const back = nextMessages(a, 1);
  await b.send({ transport: 'tls', address: m!.flow.remoteAddress, port: m!.flow.remotePort, flowId: m!.flow.id }, OK);
  t.equal((await back)[0]!.flow.id, flow.id, 'the answer is read on the outbound connection');
});

function wsOpen(url: string, protocols: string[] | undefined, opts: object = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = protocols ? new WebSocket(url, protocols, opts) : new WebSocket(url, opts);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function wsNext(ws: WebSocket, ms = 5000): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ws message')), ms);
    ws.once('message', (data: RawData, isBinary: boolean) => {
      clearTimeout(timer);
      resolve({ data: Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary });
    });
  });
}

for (const transport of ['ws', 'wss'] as const) {
  t.test(`${transport} with sub-protocol sip round-trips`, async (t) => {
    const layer = await startLayer([
      { transport, host: '127.0.0.1', port: 0 },
      { transport, host: '::1', port: 0 },
    ]);
    t.teardown(() => layer.close());
    for (const bound of layer.listeners()) {
      const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
      const url = `${transport}://${host}:${bound.port}`;
      const ws = await wsOpen(url, ['sip'], { rejectUnauthorized: false });
      t.teardown(() => ws.terminate());
      t.equal(ws.protocol, 'sip');

      const msg = sipRequest('ws1', 'body');
      const arrived = nextMessages(layer, 2);
      ws.send(msg.toString()); // text frame
      ws.send(sipRequest('ws2'), { binary: true }); // binary frames are accepted too
      const [m1, m2] = await arrived;
      t.same(m1!.data, msg);
      t.same(m2!.data, sipRequest('ws2'));
      t.equal(m1!.flow.id, m2!.flow.id);
      t.match(m1!.flow, { transport, localAddress: bound.address, localPort: bound.port });
      t.match(m1!.flow.id, new RegExp(`^${transport}:`));

      const reply = wsNext(ws);
      const flow = await layer.send({ transport, address: m1!.flow.remoteAddress, port: m1!.flow.remotePort }, OK);
      t.equal(flow.id, m1!.flow.id, 'found by remote address without flowId');
      const got = await reply;
      t.same(got.data, OK);
      t.equal(got.isBinary, false, 'responses go back as text frames');

      const pong = wsNext(ws);
      ws.send('\r\n\r\n');
      t.equal((await pong).data.toString(), '\r\n', 'CRLF ping over WebSocket gets a CRLF pong');
    }
  });
}

t.test('WebSocket handshakes without the sip sub-protocol are refused', async (t) => {
  const layer = await startLayer([{ transport: 'ws', host: '127.0.0.1', port: 0 }]);
  t.teardown(() => layer.close());
  const url = `ws://127.0.0.1:${layer.listeners()[0]!.port}`;
  for (const protocols of [undefined, ['chat']]) {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
      ws.once('open', () => { ws.terminate(); reject(new Error('handshake accepted')); });
      ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
      ws.once('error', () => {});
    });
    t.equal(status, 400, `refused with 400 (protocols ${JSON.stringify(protocols)})`);
  }

  // plain HTTP on the port is told to upgrade
  const http = netConnect({ port: layer.listeners()[0]!.port, host: '127.0.0.1' });
  http.on('error', () => {});
  t.teardown(() => http.destroy());
  await once(http, 'connect');
  const answer = readUntil(http, (all) => all.includes('\r\n\r\n'));
  http.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  t.match((await answer).toString(), /^HTTP\/1\.1 426/);

  await t.rejects(layer.send({ transport: 'ws', address: '127.0.0.1', port: 1 }, OK), { code: 'SIP_ERR_NO_FLOW' },
    'no client connection, no way to reach a WebSocket peer');
});

t.test('oversized WebSocket message closes that connection only', async (t) => {
  const layer = await startLayer([{ transport: 'ws', host: '127.0.0.1', port: 0 }], { maxMessageSize: 2048 });
  t.teardown(() => layer.close());
  const url = `ws://127.0.0.1:${layer.listeners()[0]!.port}`;
  const big = await wsOpen(url, ['sip']);
  const good = await wsOpen(url, ['sip']);
  t.teardown(() => { big.terminate(); good.terminate(); });
  const closed = new Promise<Flow>((resolve) => layer.once('flow-closed', resolve));
  const err = nextError(layer);
  big.send(sipRequest('big', 'z'.repeat(4000)));
  t.match(await err, { code: 'SIP_ERR_MESSAGE_TOO_LARGE' }, 'error event');
  await closed;
  const arrived = nextMessages(layer, 1);
  good.send(sipRequest('small').toString());
  t.same((await arrived)[0]!.data, sipRequest('small'), 'the other connection still works');
  t.equal(big.readyState === WebSocket.OPEN, false);
});

t.test('configured TLS material is used; bad handshakes and resets do not hurt the layer', async (t) => {
  const { generateSelfSigned } = await import('../src/sip-engine/transport/index.ts');
  const material = await generateSelfSigned('given.test');
  const layer = await startLayer([{ transport: 'tls', host: '127.0.0.1', port: 0 }], { tls: material });
  t.teardown(() => layer.close());
  const { port } = layer.listeners()[0]!;

  const plain = netConnect({ port, host: '127.0.0.1' });
  plain.on('error', () => {});
  t.teardown(() => plain.destroy());
  await once(plain, 'connect');
  const err = nextError(layer);
  plain.write('OPTIONS sip:x SIP/2.0\r\n\r\n'); // not a TLS ClientHello
  t.match(await err, { code: 'SIP_ERR_SOCKET' }, 'a failed handshake is an error event');

  const rude = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  rude.on('error', () => {});
  await once(rude, 'secureConnect');
  const closed = new Promise<Flow>((resolve) => layer.once('flow-closed', resolve));
  rude.write(sipRequest('half').subarray(0, 30));
  rude.destroy();
  t.match(await closed, { transport: 'tls' }, 'a peer vanishing mid-message just closes its flow');

  const client = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  client.on('error', () => {});
  t.teardown(() => client.destroy());
  await once(client, 'secureConnect');
  t.equal(client.getPeerCertificate().subject.CN, 'given.test', 'the configured certificate is presented');
  const arrived = nextMessages(layer, 1);
  client.write(sipRequest('after-trouble'));
  t.same((await arrived)[0]!.data, sipRequest('after-trouble'));
});
