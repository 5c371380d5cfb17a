/**
 * REGISTER and MESSAGE over TLS, WebSocket, secure WebSocket and IPv6 UDP,
 * with a drachtio-srf app on the engine; and the app reaching a WebSocket
 * client back over the client's own connection.
 */
import t from 'tap';
import { freePort } from './helpers/sipp.ts';
import { startEngineWithApp, waitFor } from './helpers/engine.ts';
import { tlsPeer, wsPeer, udpPeer, request, statusOf, type RawPeer } from './helpers/raw-sip.ts';

t.test('TLS, WS, WSS and IPv6', async (t) => {
  const [tlsPort, wsPort, wssPort, v6Port] = await Promise.all([freePort('tcp'), freePort('tcp'), freePort('tcp'), freePort('udp')]);
  const env = await startEngineWithApp({
    contacts: [
      `sips:127.0.0.1:${tlsPort};transport=tls`,
      `sip:127.0.0.1:${wsPort};transport=ws`,
      `sips:127.0.0.1:${wssPort};transport=wss`,
      `sip:[::1]:${v6Port};transport=udp`,
    ],
  });
  t.teardown(() => env.close());
  const seen: Array<{ method: string; protocol: string; body?: string; source: string }> = [];
  env.srf.register((req: any, res: any) => {
    seen.push({ method: 'REGISTER', protocol: req.protocol, source: `${req.source_address}:${req.source_port}` });
    res.send(200, { headers: { Contact: `${req.get('Contact')};expires=300` } });
  });
  env.srf.message((req: any, res: any) => {
    seen.push({ method: 'MESSAGE', protocol: req.protocol, body: req.body, source: `${req.source_address}:${req.source_port}` });
    res.send(200);
  });
  await new Promise((r) => setTimeout(r, 100));

  const cases: Array<[string, () => Promise<RawPeer>, string, string]> = [
    ['tls', () => tlsPeer({ host: '127.0.0.1', port: tlsPort }), 'TLS', `sips:bob@127.0.0.1:${tlsPort}`],
    ['ws', () => wsPeer(`ws://127.0.0.1:${wsPort}`), 'WS', `sip:bob@127.0.0.1:${wsPort};transport=ws`],
    ['wss', () => wsPeer(`wss://127.0.0.1:${wssPort}`), 'WSS', `sip:bob@127.0.0.1:${wssPort};transport=wss`],
    ['udp', () => udpPeer({ host: '::1', port: v6Port }, 'udp6'), 'UDP', `sip:bob@[::1]:${v6Port}`],
  ];
  for (const [name, open, viaT, uri] of cases) {
    const peer = await open();
    const host = name === 'udp' ? `[::1]:${peer.port}` : 'client.invalid';
    peer.send(request('REGISTER', uri, `${viaT} ${host}`, { callId: `reg-${name}`, extra: ['Expires: 300'] }));
    const reg = await peer.next((m) => m.includes(`reg-${name}`) && statusOf(m) >= 200);
    t.equal(statusOf(reg), 200, `${name}: REGISTER answered 200 over the same connection`);
    peer.send(request('MESSAGE', uri, `${viaT} ${host}`, { callId: `msg-${name}`, body: `hello over ${name}`, extra: ['Content-Type: text/plain'] }));
    t.equal(statusOf(await peer.next((m) => m.includes(`msg-${name}`) && statusOf(m) >= 200)), 200, `${name}: MESSAGE answered 200`);
    const got = seen.filter((s) => s.protocol === (name === 'udp' ? 'udp' : name));
    t.equal(got.length, 2, `${name}: the app saw REGISTER and MESSAGE with protocol ${name}`);
    t.equal(got[1]?.body, `hello over ${name}`);

    if (name === 'ws') {
      // The app reaches the browser-like client back over its own WebSocket.
      const [addr, port] = got[0]!.source.split(':');
      const answered = waitFor<number>((done) => {
        env.srf.request(`sip:alice@${addr}:${port};transport=ws`, { method: 'MESSAGE', headers: { 'Content-Type': 'text/plain' }, body: 'to the browser' }, (err: Error, req: any) => {
          if (err) throw err;
          req.on('response', (res: any) => done(res.status));
        });
      }, 5000, 'response from ws client');
      const inbound = await peer.next((m) => m.startsWith('MESSAGE '));
      t.match(inbound, /to the browser/, 'the ws client received the app MESSAGE');
      const via = /^Via: (.*)$/m.exec(inbound)![1];
      const hdr = (n: string) => new RegExp(`^${n}: .*$`, 'm').exec(inbound)![0];
      peer.send(['SIP/2.0 200 OK', `Via: ${via}`, hdr('From'), `${hdr('To')};tag=ws1`, hdr('Call-ID'), hdr('CSeq'), 'Content-Length: 0', '', ''].join('\r\n'));
      t.equal(await answered, 200, 'its 200 reached the app');
    }
    await peer.close();
  }
});
