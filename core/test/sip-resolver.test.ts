// RFC 3263 target resolution against a real DNS server on loopback: the
// engine's resolver asks our authoritative test server (through node's
// c-ares resolver) for NAPTR, SRV, A and AAAA records, and we check both the
// targets it picks and the questions it asked. The end-to-end case has a
// drachtio-srf app reach a sipp UAS by domain name alone.
import t from 'tap';
import dgram from 'node:dgram';
import dns from 'node:dns';
import { once } from 'node:events';
import { resolveTarget, type ResolvedTarget } from '../src/sip-engine/resolver.ts';
import type { TransportName } from '../src/sip-engine/transport/types.ts';
import { startDnsServer, type DnsRecord, type DnsServer, type DnsZone } from '../../test/helpers/dns-server.ts';
import { startEngineWithApp, waitFor, type AnySrf } from '../../test/helpers/engine.ts';
import { startSippServer } from '../../test/helpers/sipp.ts';

const a = (address: string): DnsRecord => ({ type: 'A', address });
const aaaa = (address: string): DnsRecord => ({ type: 'AAAA', address });
const srv = (priority: number, weight: number, port: number, target: string): DnsRecord => ({ type: 'SRV', priority, weight, port, target });
const naptr = (order: number, preference: number, service: string, replacement: string, flags = 'S'): DnsRecord =>
  ({ type: 'NAPTR', order, preference, flags, service, replacement });

const ZONE: DnsZone = {
  'a.example.test': [a('127.0.0.2'), aaaa('::1')],
  'v6.example.test': [aaaa('::1')],
  'host1.example.test': [a('127.0.0.11')],
  'host2.example.test': [a('127.0.0.12')],
  'host3.example.test': [a('127.0.0.13')],
  // NAPTR: an ENUM-style and a WebSocket service come first and must be skipped,
  // SIPS needs TLS, and SIP+D2T beats SIP+D2U by preference within order 20.
  'naptr.example.test': [
    naptr(1, 1, 'E2U+sip', '', 'U'),
    naptr(5, 10, 'SIP+D2W', '_ws.naptr.example.test'),
    naptr(10, 10, 'SIPS+D2T', '_sips._tcp.naptr.example.test'),
    naptr(20, 20, 'SIP+D2U', '_sip._udp.naptr.example.test'),
    naptr(20, 10, 'SIP+D2T', '_sip._tcp.naptr.example.test'),
  ],
  '_sips._tcp.naptr.example.test': [srv(0, 0, 5061, 'host3.example.test')],
  '_sip._udp.naptr.example.test': [srv(0, 0, 5060, 'host3.example.test')],
  '_sip._tcp.naptr.example.test': [
    srv(20, 0, 5002, 'host2.example.test'),
    srv(10, 0, 5001, 'host1.example.test'),
    srv(10, 5, 5003, 'host3.example.test'),
  ],
  // The first usable NAPTR leads to an SRV name that does not exist: take the next one.
  'naptrfall.example.test': [
    naptr(10, 10, 'SIP+D2T', '_sip._tcp.nosrv.example.test'),
    naptr(20, 10, 'SIP+D2U', '_sip._udp.naptrfall.example.test'),
  ],
  '_sip._udp.naptrfall.example.test': [srv(0, 0, 5071, 'host1.example.test')],
  // A domain offering only plain SIP in NAPTR, but TLS by SRV.
  'plainnaptr.example.test': [naptr(10, 10, 'SIP+D2U', '_sip._udp.plainnaptr.example.test')],
  '_sip._udp.plainnaptr.example.test': [srv(0, 0, 5060, 'host1.example.test')],
  '_sips._tcp.plainnaptr.example.test': [srv(0, 0, 5062, 'host2.example.test')],
  // No NAPTR; the domain's own A record must not be used while SRV answers.
  'srvonly.example.test': [a('127.0.0.99')],
  '_sip._udp.srvonly.example.test': [srv(0, 0, 5072, 'host1.example.test')],
  '_sip._tcp.tcponly.example.test': [srv(0, 0, 5073, 'host2.example.test')],
  'plain.example.test': [a('127.0.0.3')],
  '_sip._udp.lb.example.test': [srv(10, 1, 5081, 'host1.example.test'), srv(10, 1, 5082, 'host2.example.test')],
  '_sip._udp.badsrv.example.test': [srv(10, 0, 5091, 'missing.example.test'), srv(20, 0, 5092, 'host2.example.test')],
};

const UDP_TCP: ReadonlySet<TransportName> = new Set(['udp', 'tcp']);
const WITH_TLS: ReadonlySet<TransportName> = new Set(['udp', 'tcp', 'tls']);
const TCP_ONLY: ReadonlySet<TransportName> = new Set(['tcp']);

let server: DnsServer;
const savedServers = dns.getServers();

t.before(async () => {
  server = await startDnsServer(ZONE);
  dns.setServers([`127.0.0.1:${server.port}`]);
});
t.teardown(async () => {
  dns.setServers(savedServers);
  await server?.close();
});

/** Resolves with a clean query log, and returns what was asked as `TYPE name` strings. */
async function resolve(uri: string, available: ReadonlySet<TransportName> = UDP_TCP): Promise<{ targets: ResolvedTarget[]; asked: string[] }> {
  server.queries.length = 0;
  const targets = await resolveTarget(uri, available);
  return { targets, asked: server.queries.map((q) => `${q.type} ${q.name}`) };
}

t.test('the test DNS server itself: compressed question names, NXDOMAIN, NODATA', async (t) => {
  const client = dgram.createSocket('udp4');
  t.teardown(() => client.close());
  client.bind(0, '127.0.0.1');
  await once(client, 'listening');
  const ask = async (packet: Buffer): Promise<Buffer> => {
    const reply = waitFor<Buffer>((done) => client.once('message', (m: Buffer) => done(m)), 3000, 'a DNS reply');
    client.send(packet, server.port, '127.0.0.1');
    return reply;
  };
  // Question "\x04HOST1" + pointer to offset 22, where "example.test" follows the question.
  const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const tail = Buffer.from('\x07example\x04test\x00', 'latin1');
  const question = Buffer.concat([Buffer.from('\x05HOST1', 'latin1'), Buffer.from([0xc0, 12 + 8 + 4]), Buffer.from([0, 1, 0, 1])]);
  t.equal(question.length, 12, 'the pointer target is right after the question');
  server.queries.length = 0;
  const reply = await ask(Buffer.concat([header, question, tail]));
  t.equal(reply.readUInt16BE(0), 0x1234, 'id echoed');
  t.equal(reply.readUInt16BE(2) & 0x800f, 0x8000, 'a response, NOERROR');
  t.equal(reply.readUInt16BE(6), 1, 'one answer');
  t.same(reply.subarray(12, 12 + 20), Buffer.from('\x05HOST1\x07example\x04test\x00', 'latin1'), 'question name echoed as asked');
  t.same(reply.subarray(reply.length - 4), Buffer.from([127, 0, 0, 11]), 'A rdata');
  t.same(server.queries, [{ name: 'host1.example.test', type: 'A' }]);

  const nx = await ask(Buffer.concat([header, Buffer.from('\x07nowhere\x04test\x00', 'latin1'), Buffer.from([0, 1, 0, 1])]));
  t.equal(nx.readUInt16BE(2) & 0x000f, 3, 'unknown name: NXDOMAIN');
  t.equal(nx.readUInt16BE(6), 0);
  const nodata = await ask(Buffer.concat([header, Buffer.from('\x05host1\x07example\x04test\x00', 'latin1'), Buffer.from([0, 33, 0, 1])]));
  t.equal(nodata.readUInt16BE(2) & 0x000f, 0, 'known name, other type: NOERROR');
  t.equal(nodata.readUInt16BE(6), 0, '... with no answers');
  await t.rejects(dns.promises.resolveSrv('host1.example.test'), { code: 'ENODATA' }, 'node sees NODATA');
  await t.rejects(dns.promises.resolve4('nowhere.example.test'), { code: 'ENOTFOUND' }, 'node sees NXDOMAIN');
});

t.test('IP literals need no DNS', async (t) => {
  for (const [uri, available, want] of [
    ['sip:127.0.0.1', UDP_TCP, { transport: 'udp', address: '127.0.0.1', port: 5060 }],
    ['sip:bob@127.0.0.1:5070', UDP_TCP, { transport: 'udp', address: '127.0.0.1', port: 5070 }],
    ['sip:bob@127.0.0.1:5070;transport=tcp', UDP_TCP, { transport: 'tcp', address: '127.0.0.1', port: 5070 }],
    ['<sip:bob@127.0.0.1;transport=TCP>', UDP_TCP, { transport: 'tcp', address: '127.0.0.1', port: 5060 }],
    ['sip:bob@[::1]:5080', UDP_TCP, { transport: 'udp', address: '::1', port: 5080 }],
    ['sips:bob@127.0.0.1', WITH_TLS, { transport: 'tls', address: '127.0.0.1', port: 5061 }],
    ['sip:127.0.0.1', TCP_ONLY, { transport: 'tcp', address: '127.0.0.1', port: 5060 }],
  ] as const) {
    const got = await resolve(uri, available);
    t.same(got.targets, [want], uri);
    t.same(got.asked, [], `${uri}: no DNS queries`);
  }
});

t.test('explicit port: A and AAAA only, IPv4 first', async (t) => {
  const got = await resolve('sip:alice@a.example.test:5099');
  t.same(got.targets, [
    { transport: 'udp', address: '127.0.0.2', port: 5099 },
    { transport: 'udp', address: '::1', port: 5099 },
  ]);
  t.same([...got.asked].sort(), ['A a.example.test', 'AAAA a.example.test'], 'no NAPTR, no SRV');
  t.same((await resolve('sip:alice@v6.example.test:5099;transport=tcp')).targets, [{ transport: 'tcp', address: '::1', port: 5099 }], 'AAAA-only host');
  t.same((await resolve('sips:alice@a.example.test:5999', WITH_TLS)).targets[0], { transport: 'tls', address: '127.0.0.2', port: 5999 });
});

t.test('NAPTR picks the transport: order, then preference, skipping what we cannot use', async (t) => {
  const got = await resolve('sip:bob@naptr.example.test');
  t.same(got.targets, [
    { transport: 'tcp', address: '127.0.0.13', port: 5003 }, // priority 10, weight 5
    { transport: 'tcp', address: '127.0.0.11', port: 5001 }, // priority 10, weight 0
    { transport: 'tcp', address: '127.0.0.12', port: 5002 }, // priority 20
  ], 'SIP+D2T, then SRV by priority with the weighted record first');
  t.same(got.asked.slice(0, 2), ['NAPTR naptr.example.test', 'SRV _sip._tcp.naptr.example.test'], 'NAPTR first, then the chosen SRV');
  t.notOk(got.asked.some((q) => /_sips|_sip\._udp|_ws/.test(q)), 'skipped services were never looked up');
  t.same(got.asked.filter((q) => q.startsWith('A ')), ['A host3.example.test', 'A host1.example.test', 'A host2.example.test'], 'targets resolved in SRV order');

  const tls = await resolve('sip:bob@naptr.example.test', WITH_TLS);
  t.same(tls.targets, [{ transport: 'tls', address: '127.0.0.13', port: 5061 }], 'with a TLS listener, SIPS+D2T (order 10) wins');

  const fall = await resolve('sip:bob@naptrfall.example.test');
  t.same(fall.targets, [{ transport: 'udp', address: '127.0.0.11', port: 5071 }], 'a NAPTR whose SRV is missing is passed over');
  t.same(fall.asked.slice(0, 3), ['NAPTR naptrfall.example.test', 'SRV _sip._tcp.nosrv.example.test', 'SRV _sip._udp.naptrfall.example.test']);
});

t.test('a SIPS URI takes only secure NAPTR services, else _sips._tcp SRV, else A on 5061', async (t) => {
  t.same((await resolve('sips:bob@naptr.example.test', WITH_TLS)).targets, [{ transport: 'tls', address: '127.0.0.13', port: 5061 }]);
  const srvOnly = await resolve('sips:bob@plainnaptr.example.test', WITH_TLS);
  t.same(srvOnly.targets, [{ transport: 'tls', address: '127.0.0.12', port: 5062 }], 'SIP+D2U is not for a SIPS URI');
  t.same(srvOnly.asked.slice(0, 2), ['NAPTR plainnaptr.example.test', 'SRV _sips._tcp.plainnaptr.example.test']);
  const aOnly = await resolve('sips:bob@plain.example.test', WITH_TLS);
  t.same(aOnly.targets, [{ transport: 'tls', address: '127.0.0.3', port: 5061 }]);
  t.notOk(aOnly.asked.some((q) => q.includes('_sip._')), 'no plain-SIP SRV for a SIPS URI');
});

t.test('no NAPTR: SRV per transport, UDP first', async (t) => {
  const got = await resolve('sip:bob@srvonly.example.test');
  t.same(got.targets, [{ transport: 'udp', address: '127.0.0.11', port: 5072 }]);
  t.same(got.asked.slice(0, 3), ['NAPTR srvonly.example.test', 'SRV _sip._udp.srvonly.example.test', 'A host1.example.test']);
  t.notOk(got.asked.includes('A srvonly.example.test'), "the domain's own A record is not used while SRV answers");

  const tcp = await resolve('sip:bob@tcponly.example.test');
  t.same(tcp.targets, [{ transport: 'tcp', address: '127.0.0.12', port: 5073 }]);
  t.same(tcp.asked.slice(0, 3), ['NAPTR tcponly.example.test', 'SRV _sip._udp.tcponly.example.test', 'SRV _sip._tcp.tcponly.example.test']);

  const bad = await resolve('sip:bob@badsrv.example.test');
  t.same(bad.targets, [{ transport: 'udp', address: '127.0.0.12', port: 5092 }], 'an SRV target without address is skipped');
});

t.test('transport=tcp: no NAPTR, only the _sip._tcp SRV, then A', async (t) => {
  const got = await resolve('sip:bob@tcponly.example.test;transport=tcp');
  t.same(got.targets, [{ transport: 'tcp', address: '127.0.0.12', port: 5073 }]);
  t.same(got.asked[0], 'SRV _sip._tcp.tcponly.example.test');
  t.notOk(got.asked.some((q) => q.startsWith('NAPTR')));
  const plain = await resolve('sip:bob@plain.example.test;transport=tcp');
  t.same(plain.targets, [{ transport: 'tcp', address: '127.0.0.3', port: 5060 }]);
  t.same(plain.asked.slice(0, 2), ['SRV _sip._tcp.plain.example.test', 'A plain.example.test']);
});

t.test('no NAPTR, no SRV: A record on the default port', async (t) => {
  const got = await resolve('sip:bob@plain.example.test');
  t.same(got.targets, [{ transport: 'udp', address: '127.0.0.3', port: 5060 }]);
  t.same(got.asked.slice(0, 3), ['NAPTR plain.example.test', 'SRV _sip._udp.plain.example.test', 'SRV _sip._tcp.plain.example.test']);
  t.same([...got.asked.slice(3)].sort(), ['A plain.example.test', 'AAAA plain.example.test']);
  t.same((await resolve('sip:bob@plain.example.test', TCP_ONLY)).targets, [{ transport: 'tcp', address: '127.0.0.3', port: 5060 }], 'TCP when that is all we have');
});

t.test('equal-priority SRV records share the load by weight', async (t) => {
  const firstPorts = new Set<number>();
  for (let i = 0; i < 40 && firstPorts.size < 2; i++) {
    const { targets } = await resolve('sip:bob@lb.example.test');
    t.equal(targets.length, 2);
    firstPorts.add(targets[0]!.port);
  }
  t.same([...firstPorts].sort(), [5081, 5082], 'each record comes first sometimes (chance of a false failure: 2^-39)');
});

t.test('names that resolve nowhere: SIP_ERR_RESOLVE', async (t) => {
  await t.rejects(resolve('sip:bob@nowhere.example.test'), { code: 'SIP_ERR_RESOLVE' });
  t.same(server.queries.map((q) => q.type).slice(0, 3), ['NAPTR', 'SRV', 'SRV'], 'the full RFC 3263 walk was tried');
  await t.rejects(resolve('sip:bob@nowhere.example.test:5060'), { code: 'SIP_ERR_RESOLVE' }, 'explicit port');
  await t.rejects(resolve('sip:bob@host1.example.test;transport=tcp;maddr=nowhere.example.test'), { code: 'SIP_ERR_RESOLVE' }, 'unknown maddr');
  await t.rejects(resolve('not a uri'), { code: 'SIP_ERR_RESOLVE' });
  await t.rejects(resolve('tel:+15551234567'), { code: 'SIP_ERR_RESOLVE' });
});

t.test('a transport without a listener: SIP_ERR_NO_LISTENER, before any DNS', async (t) => {
  await t.rejects(resolve('sip:bob@a.example.test;transport=tls'), { code: 'SIP_ERR_NO_LISTENER' });
  t.same(server.queries, []);
  await t.rejects(resolve('sips:bob@a.example.test'), { code: 'SIP_ERR_NO_LISTENER' }, 'sips needs TLS');
  await t.rejects(resolve('sip:bob@127.0.0.1;transport=sctp'), { code: 'SIP_ERR_NO_LISTENER' });
  await t.rejects(resolve('sip:bob@127.0.0.1', new Set()), { code: 'SIP_ERR_NO_LISTENER' }, 'no transports at all');
});

t.test('maddr wins over the host', async (t) => {
  const lit = await resolve('sip:bob@nowhere.example.test;maddr=127.0.0.9');
  t.same(lit.targets, [{ transport: 'udp', address: '127.0.0.9', port: 5060 }]);
  t.same(lit.asked, [], 'the host is not looked up');
  t.same((await resolve('sip:bob@nowhere.example.test:5070;maddr=[::1];transport=tcp')).targets, [{ transport: 'tcp', address: '::1', port: 5070 }]);
  const named = await resolve('sip:bob@nowhere.example.test;maddr=naptr.example.test');
  t.same(named.targets.map((x) => x.port), [5003, 5001, 5002], 'maddr gets the whole NAPTR/SRV walk');
  t.notOk(named.asked.some((q) => q.includes('nowhere')));
});

t.test('single-label names (localhost) come from the system resolver, as /etc/hosts has them', async (t) => {
  const withPort = await resolve('sip:bob@localhost:5090');
  t.ok(withPort.targets.every((x) => x.address === '127.0.0.1' || x.address === '::1'), 'loopback');
  t.same(withPort.asked, [], 'not asked of DNS');
  const noPort = await resolve('sip:bob@localhost;transport=tcp');
  t.match(noPort.targets, [{ transport: 'tcp', port: 5060 }]);
  t.same(noPort.asked, ['SRV _sip._tcp.localhost'], 'SRV still comes first');
});

t.test('end to end: an srf app reaches sipp over TCP by NAPTR, SRV and A', async (t) => {
  const uas = await startSippServer({ scenario: 'uas-200.xml', transport: 't1', calls: 1, timeoutMs: 15000 });
  t.teardown(async () => void (await uas.stop()));
  const zone = await startDnsServer({
    'sip.example.test': [
      naptr(10, 10, 'SIPS+D2T', '_sips._tcp.example.test'), // no TLS listener: skipped
      naptr(20, 10, 'SIP+D2T', '_sip._tcp.example.test'),
      naptr(30, 10, 'SIP+D2U', '_sip._udp.example.test'), // sipp does not listen on UDP
    ],
    '_sips._tcp.example.test': [srv(0, 0, uas.port, 'host1.example.test')],
    '_sip._tcp.example.test': [srv(0, 0, uas.port, 'host1.example.test')],
    '_sip._udp.example.test': [srv(0, 0, uas.port, 'host1.example.test')],
    'host1.example.test': [a('127.0.0.1')],
  });
  t.teardown(() => zone.close());
  dns.setServers([`127.0.0.1:${zone.port}`]);
  t.teardown(() => dns.setServers([`127.0.0.1:${server.port}`]));
  const env = await startEngineWithApp();
  t.teardown(() => env.close());

  const srf: AnySrf = env.srf;
  const sent = waitFor<{ err?: Error; req?: AnySrf; res?: AnySrf }>((done) => {
    srf.request('sip:bob@sip.example.test', {
      method: 'MESSAGE',
      headers: { 'Content-Type': 'text/plain', From: '<sip:alice@localhost>' },
      body: 'found you by NAPTR',
    }, (err: Error | null, req: AnySrf) => {
      if (err) return done({ err });
      req.on('response', (res: AnySrf) => res.status >= 200 && done({ req, res }));
    });
  }, 12000, 'the final response to MESSAGE');
  const { err, req, res } = await sent;
  t.error(err, 'the engine accepted the request');
  t.equal(res?.status, 200, 'sipp answered 200');
  t.match(req?.get('Via'), /^SIP\/2\.0\/TCP /i, 'sent over TCP');
  const sipp = await uas.done;
  t.equal(sipp.successful, 1, `sipp UAS completed ${sipp.errors ?? ''}`);
  const asked = zone.queries.map((q) => `${q.type} ${q.name}`);
  t.same(asked.slice(0, 3), ['NAPTR sip.example.test', 'SRV _sip._tcp.example.test', 'A host1.example.test']);
  t.notOk(asked.some((q) => q.includes('_udp') || q.includes('_sips')), 'no other service looked up');
});
