/** The drachtio wire protocol at the byte level: framing, authenticate, ping, route/remove_route, malformed frames. */
import t from 'tap';
import net from 'node:net';
import { SipEngine } from '../core/src/sip-engine/index.ts';
import { freePort } from './helpers/sipp.ts';
import { udpPeer, request, statusOf } from './helpers/raw-sip.ts';

class WireClient {
  readonly sock: net.Socket;
  #buf = '';
  #seq = 0;
  readonly frames: string[] = [];
  constructor(port: number) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('data', (d) => {
      this.#buf += d.toString('utf8');
      for (;;) {
        const hash = this.#buf.indexOf('#');
        if (hash < 0) return;
        const len = Number(this.#buf.slice(0, hash));
        if (Buffer.byteLength(this.#buf.slice(hash + 1)) < len) return;
        const body = Buffer.from(this.#buf.slice(hash + 1)).subarray(0, len).toString('utf8');
        this.frames.push(body);
        this.#buf = this.#buf.slice(hash + 1 + body.length);
      }
    });
  }
  send(cmd: string): string {
    const id = `m${++this.#seq}`;
    const payload = `${id}|${cmd}`;
    this.sock.write(`${Buffer.byteLength(payload)}#${payload}`);
    return id;
  }
  async reply(id: string, ms = 3000): Promise<string[]> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const f = this.frames.find((x) => x.split('|')[2] === id);
      if (f) return f.split('\r\n')[0]!.split('|');
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no reply to ${id}`);
  }
  async next(pred: (f: string) => boolean, ms = 3000): Promise<string> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const f = this.frames.find(pred);
      if (f) return f;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no matching frame');
  }
}

t.test('wire protocol', async (t) => {
  const sipPort = await freePort('udp');
  const engine = new SipEngine({ contacts: [`sip:127.0.0.1:${sipPort};transport=udp`], wire: { host: '127.0.0.1', port: 0, secret: 'sekrit' } });
  await engine.start();
  t.teardown(() => engine.stop());

  const bad = new WireClient(engine.wirePort);
  t.same((await bad.reply(bad.send('ping'))).slice(3, 4), ['NOK'], 'nothing before authenticate');
  const wrong = new WireClient(engine.wirePort);
  t.same((await wrong.reply(wrong.send('authenticate|nope|'))).slice(3, 4), ['NOK'], 'wrong secret refused');
  const closed = (sock: net.Socket) => (sock.destroyed ? Promise.resolve() : new Promise((r) => sock.once('close', r)));
  await closed(wrong.sock);
  t.pass('and the connection is closed');

  const c = new WireClient(engine.wirePort);
  t.teardown(() => c.sock.destroy());
  const auth = await c.reply(c.send('authenticate|sekrit|tag1'));
  t.equal(auth[3], 'OK');
  t.equal(auth[4], `udp/127.0.0.1:${sipPort}`, 'hostport lists the SIP listeners');
  t.equal((await c.reply(c.send('ping')))[3], 'OK', 'ping answered');
  t.equal((await c.reply(c.send('route|options')))[3], 'OK');

  const peer = await udpPeer({ host: '127.0.0.1', port: sipPort });
  t.teardown(() => peer.close());
  peer.send(request('OPTIONS', `sip:x@127.0.0.1:${sipPort}`, `UDP 127.0.0.1:${peer.port}`, { callId: 'wire-1' }));
  const sip = await c.next((f) => f.includes('wire-1'));
  const lead = sip.split('\r\n')[0]!.split('|');
  t.same([lead[1], lead[2], lead[4], lead[5], lead[6]], ['sip', 'network', 'udp', '127.0.0.1', String(peer.port)], 'sip|network|len|protocol|address|port');
  t.equal(Number(lead[3]), Buffer.byteLength(sip.slice(sip.indexOf('\r\n') + 2)), 'length field is the SIP message byte length');
  const txnId = lead[8]!;
  t.ok(txnId, 'transaction id');
  const echo = await c.reply(c.send(`sip|${txnId}|\r\nSIP/2.0 200 OK\r\nX-Test: yes\r\n\r\n`));
  t.equal(echo[3], 'OK');
  t.equal(echo[4], 'application', 'the echo says the app sent it');
  const resp = await peer.next((m) => m.includes('wire-1') && statusOf(m) === 200);
  t.match(resp, /X-Test: yes/);

  t.equal((await c.reply(c.send('remove_route|options')))[3], 'OK');
  peer.send(request('OPTIONS', `sip:x@127.0.0.1:${sipPort}`, `UDP 127.0.0.1:${peer.port}`, { callId: 'wire-2' }));
  t.equal(statusOf(await peer.next((m) => m.includes('wire-2') && statusOf(m) >= 200)), 503, 'no route any more: 503');

  t.equal((await c.reply(c.send('sip|no-such-txn|\r\nSIP/2.0 200 OK\r\n\r\n')))[3], 'NOK', 'unknown transaction: NOK');
  t.equal((await c.reply(c.send('bogus')))[3], 'NOK', 'unknown command: NOK, connection kept');
  t.equal((await c.reply(c.send('ping')))[3], 'OK');
  c.sock.write('xx#garbage');
  await closed(c.sock);
  t.pass('a malformed length prefix closes only that connection');
  const again = new WireClient(engine.wirePort);
  t.teardown(() => again.sock.destroy());
  t.equal((await again.reply(again.send('authenticate|sekrit|')))[3], 'OK', 'the engine keeps accepting apps');
});
