import t from 'tap';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { parseContact, TransportLayer } from '../src/sip-engine/transport/index.ts';
import type { Flow } from '../src/sip-engine/transport/index.ts';
import { closedWithin, nextError, nextMessages, readUntil, sipRequest, startLayer, tick } from './sip-transport-helpers.ts';

t.test('parseContact', async (t) => {
  t.same(parseContact('sip:127.0.0.1:5060;transport=udp,tcp'), [
    { transport: 'udp', host: '127.0.0.1', port: 5060 },
    { transport: 'tcp', host: '127.0.0.1', port: 5060 },
  ]);
  t.same(parseContact('sips:0.0.0.0:5061;transport=tls'), [{ transport: 'tls', host: '0.0.0.0', port: 5061 }]);
  t.same(parseContact('sips:0.0.0.0'), [{ transport: 'tls', host: '0.0.0.0', port: 5061 }], 'sips defaults to tls');
  t.same(parseContact('sip:[::1]:5060;transport=udp'), [{ transport: 'udp', host: '::1', port: 5060 }]);
  t.same(parseContact('sip:127.0.0.1'), [
    { transport: 'udp', host: '127.0.0.1', port: 5060 },
    { transport: 'tcp', host: '127.0.0.1', port: 5060 },
  ], 'sip without transport listens on udp and tcp');
  t.same(parseContact('sip:127.0.0.1;transport=ws'), [{ transport: 'ws', host: '127.0.0.1', port: 5066 }]);
  t.same(parseContact('sips:[::];transport=wss'), [{ transport: 'wss', host: '::', port: 7443 }]);
  t.same(parseContact('SIP:10.0.0.5:0;Transport=TCP;external=203.0.113.7'), [
    { transport: 'tcp', host: '10.0.0.5', port: 0, external: '203.0.113.7' },
  ]);
  t.same(parseContact('sip:127.0.0.1:5070;transport=udp,udp'), [{ transport: 'udp', host: '127.0.0.1', port: 5070 }]);

  for (const badContact of [
    '', 'http://127.0.0.1', '127.0.0.1:5060', 'sip:', 'sip:example.com:5060', 'sip:::1:5060', 'sip:127.0.0.1:99999',
    'sip:127.0.0.1:50a', 'sip:127.0.0.1;transport=sctp', 'sips:127.0.0.1;transport=udp', 'sip:127.0.0.1;lr',
    'sip:127.0.0.1;external=', 'sip:[127.0.0.1]:5060', 'sip:[::1',
  ]) {
    t.throws(() => parseContact(badContact), { code: 'SIP_ERR_BAD_CONTACT', message: /expected e\.g\. "sip:127\.0\.0\.1:5060/ },
      `rejects ${JSON.stringify(badContact)}`);
  }
});

t.test('UDP over IPv4 and IPv6', async (t) => {
  for (const host of ['127.0.0.1', '::1']) {
    t.test(host, async (t) => {
      const layer = await startLayer([{ transport: 'udp', host, port: 0 }]);
      t.teardown(() => layer.close());
      const [bound] = layer.listeners();
      t.match(bound, { transport: 'udp', address: host, family: host === '::1' ? 'IPv6' : 'IPv4', advertise: host });
      t.not(bound!.port, 0, 'port 0 resolves to a real port');

      const client = createSocket(host === '::1' ? 'udp6' : 'udp4');
      t.teardown(() => client.close());
      client.bind(0, host);
      await once(client, 'listening');

      const msg = sipRequest('udp1', 'hello');
      const arrived = nextMessages(layer, 1);
      client.send(Buffer.from('\r\n\r\n'), bound!.port, host); // keep-alive: not a message
      await tick();
      client.send(msg, bound!.port, host);
      const [m] = await arrived;
      t.same(m!.data, msg, 'exact bytes');
      const idHost = host === '::1' ? `[${host}]` : host;
      t.same(m!.flow, {
        transport: 'udp', localAddress: host, localPort: bound!.port, remoteAddress: host,
        remotePort: client.address().port, id: `udp:${idHost}:${bound!.port}`,
      });

      const reply = Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
      const got = once(client, 'message');
      const flow = await layer.send({ transport: 'udp', address: host, port: client.address().port, flowId: m!.flow.id }, reply);
      t.equal(flow.id, m!.flow.id);
      const [data] = (await got) as [Buffer];
      t.same(data, reply, 'reply reaches the client');

      const err = nextError(layer);
      client.send(Buffer.alloc(9000, 0x41), bound!.port, host);
      t.match(await err, { code: 'SIP_ERR_MESSAGE_TOO_LARGE' }, 'oversized datagram is reported, not delivered');
    });
  }
});

async function tcpClient(port: number, host = '127.0.0.1'): Promise<Socket> {
  const s = connect({ port, host });
  s.on('error', () => {});
  await once(s, 'connect');
  return s;
}

t.test('TCP framing, replies on the same connection, keep-alives', async (t) => {
  const layer = await startLayer([{ transport: 'tcp', host: '127.0.0.1', port: 0 }]);
  t.teardown(() => layer.close());
  const { port } = layer.listeners()[0]!;
  const client = await tcpClient(port);
  t.teardown(() => client.destroy());

  const m1 = sipRequest('a1', 'v=0\r\n');
  const m2 = sipRequest('a2', '', 'l');
  const m3 = sipRequest('a3', 'x'.repeat(300), 'content-length');
  const arrived = nextMessages(layer, 3);
  client.write(Buffer.concat([m1, m2]));
  await tick();
  client.write(m3.subarray(0, 20));
  await tick();
  client.write(m3.subarray(20, m3.length - 100));
  await tick();
  client.write(m3.subarray(m3.length - 100));
  const msgs = await arrived;
  t.same(msgs.map((m) => m.data), [m1, m2, m3], 'three messages, exact bytes');
  const flowId = msgs[0]!.flow.id;
  t.ok(msgs.every((m) => m.flow.id === flowId), 'one flow id for the connection');
  t.match(flowId, new RegExp(`^tcp:127\\.0\\.0\\.1:${port}-127\\.0\\.0\\.1:${client.localPort}#\\d+$`));
  t.match(msgs[0]!.flow, { transport: 'tcp', localPort: port, remoteAddress: '127.0.0.1', remotePort: client.localPort });

  const reply = Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  const read = readUntil(client, (all) => all.length >= reply.length);
  // the address is deliberately wrong: flowId alone must pick the connection
  const flow = await layer.send({ transport: 'tcp', address: '127.0.0.1', port: 1, flowId }, reply);
  t.equal(flow.id, flowId);
  t.same(await read, reply, 'reply came back over the same connection');

  const pong = readUntil(client, (all) => all.length >= 2);
  client.write('\r\n\r\n');
  t.same(await pong, Buffer.from('\r\n'), 'double-CRLF ping answered with one CRLF');

  // a lone CRLF (pong) before a message is skipped, not delivered
  const after = nextMessages(layer, 1);
  client.write(Buffer.concat([Buffer.from('\r\n'), sipRequest('a4')]));
  t.same((await after)[0]!.data, sipRequest('a4'));
});

t.test('framing errors close only the offending connection', async (t) => {
  const layer = await startLayer([{ transport: 'tcp', host: '127.0.0.1', port: 0 }], { maxMessageSize: 4096 });
  t.teardown(() => layer.close());
  const { port } = layer.listeners()[0]!;
  const good = await tcpClient(port);
  const big = await tcpClient(port);
  const garbled = await tcpClient(port);
  t.teardown(() => { good.destroy(); big.destroy(); garbled.destroy(); });
  const closed: Flow[] = [];
  layer.on('flow-closed', (f) => closed.push(f));

  let err = nextError(layer);
  big.write(sipRequest('big', 'y'.repeat(5000)));
  t.match(await err, { code: 'SIP_ERR_MESSAGE_TOO_LARGE' });
  await closedWithin(big);

  err = nextError(layer);
  garbled.write('OPTIONS sip:x SIP/2.0\r\nContent-Length: ten\r\n\r\n');
  t.match(await err, { code: 'SIP_ERR_FRAMING' });
  await closedWithin(garbled);

  const arrived = nextMessages(layer, 2);
  good.write(sipRequest('still-here'));
  const fresh = await tcpClient(port);
  t.teardown(() => fresh.destroy());
  fresh.write(sipRequest('fresh'));
  const msgs = await arrived;
  t.same(msgs.map((m) => m.data.toString()).sort(), [sipRequest('fresh').toString(), sipRequest('still-here').toString()].sort(),
    'the other connection and new ones are still served');
  t.equal(closed.length, 2, 'flow-closed for the two bad connections');
  t.ok(closed.every((f) => f.transport === 'tcp'));
});

t.test('outbound TCP connects, is read like inbound, and is reused', async (t) => {
  const a = await startLayer([{ transport: 'tcp', host: '127.0.0.1', port: 0 }]);
  const b = await startLayer([{ transport: 'tcp', host: '127.0.0.1', port: 0 }]);
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const bPort = b.listeners()[0]!.port;

  const atB = nextMessages(b, 2);
  const [f1, f2] = await Promise.all([
    a.send({ transport: 'tcp', address: '127.0.0.1', port: bPort }, sipRequest('out1')),
    a.send({ transport: 'tcp', address: '127.0.0.1', port: bPort }, sipRequest('out2')),
  ]);
  t.equal(f1!.id, f2!.id, 'concurrent sends share one new connection');
  t.match(f1, { transport: 'tcp', remoteAddress: '127.0.0.1', remotePort: bPort });
  const received = await atB;
  t.same(received.map((m) => m.data), [sipRequest('out1'), sipRequest('out2')]);

  const atA = nextMessages(a, 1);
  const reply = Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  const { flow } = received[0]!;
  await b.send({ transport: 'tcp', address: flow.remoteAddress, port: flow.remotePort, flowId: flow.id }, reply);
  const [back] = await atA;
  t.same(back!.data, reply);
  t.equal(back!.flow.id, f1!.id, 'the response arrives on the outbound flow');

  await t.rejects(a.send({ transport: 'tcp', address: '127.0.0.1', port: 1 }, reply), { code: 'SIP_ERR_CONNECT' });
});

t.test('idle stream connections are closed', async (t) => {
  const layer = await startLayer([{ transport: 'tcp', host: '127.0.0.1', port: 0 }], { idleTimeoutMs: 150 });
  t.teardown(() => layer.close());
  const client = await tcpClient(layer.listeners()[0]!.port);
  t.teardown(() => client.destroy());
  const clientPort = client.localPort;
  const closedFlow = new Promise<Flow>((resolve) => layer.once('flow-closed', resolve));
  await closedWithin(client);
  t.match(await closedFlow, { transport: 'tcp', remotePort: clientPort });
});

t.test('lifecycle: bind errors, sends before start and after close, close twice', async (t) => {
  const first = await startLayer([{ transport: 'tcp', host: '127.0.0.1', port: 0 }]);
  t.teardown(() => first.close());
  const taken = first.listeners()[0]!.port;
  const clash = new TransportLayer({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }, { transport: 'tcp', host: '127.0.0.1', port: taken }],
    maxMessageSize: 8192, idleTimeoutMs: 1000,
  });
  await t.rejects(clash.start(), { code: 'SIP_ERR_BIND', message: new RegExp(`tcp 127\\.0\\.0\\.1:${taken}`) });
  await clash.close();

  t.throws(() => new TransportLayer({ listen: [{ transport: 'udp', host: 'nowhere', port: 0 }], maxMessageSize: 1, idleTimeoutMs: 1 }),
    { code: 'SIP_ERR_BAD_TRANSPORT_OPTIONS', message: /listen\[0\]\.host/ });

  const layer = new TransportLayer({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }, { transport: 'tcp', host: '127.0.0.1', port: 0 }],
    maxMessageSize: 8192, idleTimeoutMs: 1000,
  });
  await t.rejects(layer.send({ transport: 'udp', address: '127.0.0.1', port: 9 }, Buffer.from('x')), { code: 'SIP_ERR_TRANSPORT_NOT_STARTED' });
  await layer.start();
  const client = await tcpClient(layer.listeners()[1]!.port);
  const sawClose = new Promise<Flow>((resolve) => layer.once('flow-closed', resolve));
  await tick();
  await layer.close();
  await layer.close();
  await closedWithin(client);
  t.match(await sawClose, { transport: 'tcp' }, 'open connections are closed with the layer');
  await t.rejects(layer.send({ transport: 'udp', address: '127.0.0.1', port: 9 }, Buffer.from('x')), { code: 'SIP_ERR_TRANSPORT_NOT_STARTED' });
  t.equal(layer.listeners().length, 2, 'listeners() still describes what was bound');
});

t.test('wildcard binds, external addresses, choosing the UDP socket', async (t) => {
  const layer = await startLayer([
    { transport: 'udp', host: '0.0.0.0', port: 0 },
    { transport: 'udp', host: '127.0.0.1', port: 0, external: '203.0.113.7' },
    { transport: 'tcp', host: '::', port: 0 },
  ]);
  t.teardown(() => layer.close());
  const [wild, ext, tcp6] = layer.listeners();
  t.match(wild, { address: '0.0.0.0', family: 'IPv4', advertise: '127.0.0.1' });
  t.match(ext, { address: '127.0.0.1', advertise: '203.0.113.7' });
  t.match(tcp6, { address: '::', family: 'IPv6', advertise: '::1' });

  const client = createSocket('udp4');
  t.teardown(() => client.close());
  client.bind(0, '127.0.0.1');
  await once(client, 'listening');
  const viaSecond = once(client, 'message');
  const flow = await layer.send({ transport: 'udp', address: '127.0.0.1', port: client.address().port, flowId: `udp:127.0.0.1:${ext!.port}` },
    Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n'));
  t.equal(flow.localPort, ext!.port, 'flowId picks the UDP socket');
  const [, rinfo] = (await viaSecond) as [Buffer, { port: number }];
  t.equal(rinfo.port, ext!.port, 'and the datagram really leaves from it');
  await t.rejects(layer.send({ transport: 'udp', address: '::1', port: 9 }, Buffer.from('x')), { code: 'SIP_ERR_NO_LISTENER' });

  const sock = await tcpClient(tcp6!.port, '::1');
  t.teardown(() => sock.destroy());
  const arrived = nextMessages(layer, 1);
  sock.write(sipRequest('v6'));
  const [m] = await arrived;
  t.match(m!.flow, { transport: 'tcp', localAddress: '::1', remoteAddress: '::1', remotePort: sock.localPort });
  t.match(m!.flow.id, /^tcp:\[::1\]:\d+-\[::1\]:\d+#\d+$/);
});

t.test('a throwing listener does not stop delivery', async (t) => {
  const layer = await startLayer([{ transport: 'tcp', host: '127.0.0.1', port: 0 }]);
  t.teardown(() => layer.close());
  layer.on('message', () => { throw new Error('app bug'); });
  const client = await tcpClient(layer.listeners()[0]!.port);
  t.teardown(() => client.destroy());
  const arrived = nextMessages(layer, 2);
  client.write(Buffer.concat([sipRequest('t1'), sipRequest('t2')]));
  t.same((await arrived).map((m) => m.data), [sipRequest('t1'), sipRequest('t2')]);
  t.notOk(client.destroyed, 'the connection survives');
});
