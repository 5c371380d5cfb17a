/**
 * Bounded mutation fuzzing of parseMessage with a fixed-seed PRNG: whatever
 * the bytes, it returns a SipMessage or throws SipParseError, never anything
 * else, never hangs, and does not leak. A message it accepts serialises to
 * bytes it accepts again.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseMessage, SipMessage, SipParseError } from '../src/sip-engine/message/index.ts';

const ITERATIONS = 20_000;
/** Safety valve so a pathological slowdown ends the loop instead of the suite. */
const TIME_CAP_MS = 60_000;
const STATUSES = new Set([400, 416, 505, 513]);

const root = fileURLToPath(new URL('./fixtures/sip/', import.meta.url));
const seeds: Buffer[] = [];
for (const dir of ['valid', 'invalid']) {
  for (const f of readdirSync(root + dir).sort()) if (f.endsWith('.sip')) seeds.push(readFileSync(`${root}${dir}/${f}`));
}

/** mulberry32: tiny, fast, reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  '\r\n', '\n', '\r', '\r\n\r\n', ' ', '\t', ':', ';', ',', '"', '\\', '<', '>', '[', ']', '%', '%0', '@', '=', '?', '\0',
  'SIP/2.0', 'SIP/7.0', ' SIP/2.0\r\n', 'sip:', 'tel:', 'x:', '4294967296', '-1', '99999999999999999999', '\r\n ',
  '\r\nVia: ', '\r\nContent-Length: ', '\r\nl: 10', '\r\nCSeq: 1 INVITE', '\r\nFrom: "', '\r\nTo: <sip:', '\u00e9', '\uFEFF',
];

type Mutator = (b: Buffer, r: () => number) => Buffer;
const pick = (r: () => number, n: number): number => Math.floor(r() * n);

const mutators: Mutator[] = [
  (b, r) => { const c = Buffer.from(b); const n = 1 + pick(r, 8); for (let i = 0; i < n && c.length; i++) c[pick(r, c.length)] ^= 1 << pick(r, 8); return c; },
  (b, r) => { const c = Buffer.from(b); const n = 1 + pick(r, 4); for (let i = 0; i < n && c.length; i++) c[pick(r, c.length)] = pick(r, 256); return c; },
  (b, r) => b.subarray(0, pick(r, b.length + 1)),
  (b, r) => { const s = pick(r, b.length + 1); const e = s + pick(r, b.length - s + 1); return Buffer.concat([b.subarray(0, e), b.subarray(s, e), b.subarray(e)]); },
  (b, r) => { const s = pick(r, b.length + 1); const e = s + pick(r, Math.min(64, b.length - s) + 1); return Buffer.concat([b.subarray(0, s), b.subarray(e)]); },
  (b, r) => { const at = pick(r, b.length + 1); const tok = Buffer.from(TOKENS[pick(r, TOKENS.length)]!, 'utf8'); return Buffer.concat([b.subarray(0, at), tok, b.subarray(at)]); },
  (b, r) => {
    // A huge header, a huge folded header, or a flood of small ones, right after the start line.
    const at = b.indexOf('\n') + 1;
    const kind = pick(r, 3);
    const size = 1 + pick(r, 40_000);
    const extra = kind === 0 ? `X-Huge: ${'a'.repeat(size)}\r\n`
      : kind === 1 ? `X-Fold: x${'\r\n y'.repeat(size >> 3)}\r\n`
        : 'X-Many: 1\r\n'.repeat(size >> 4);
    return Buffer.concat([b.subarray(0, at), Buffer.from(extra), b.subarray(at)]);
  },
  (b, r) => {
    const lines = b.toString('latin1').split('\r\n');
    const i = pick(r, lines.length);
    const j = pick(r, lines.length);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    return Buffer.from(lines.join('\r\n'), 'latin1');
  },
  (b, r) => Buffer.concat([b, b.subarray(0, pick(r, b.length + 1))]),
  (_b, r) => { const c = Buffer.alloc(pick(r, 512)); for (let i = 0; i < c.length; i++) c[i] = pick(r, 256); return c; },
];

function mutate(r: () => number): Buffer {
  let b = seeds[pick(r, seeds.length)]!;
  const rounds = 1 + pick(r, 3);
  for (let i = 0; i < rounds; i++) b = mutators[pick(r, mutators.length)]!(b, r);
  return b;
}

function getGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

t.test('mutated messages: SipMessage or SipParseError, nothing else', async (t) => {
  const gc = getGc();
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const r = prng(0x5b1de);
  const started = Date.now();
  let accepted = 0;
  let rejected = 0;
  let failed = 0;
  const failures: string[] = [];
  const codes = new Map<string, number>();
  let i = 0;
  for (; i < ITERATIONS && Date.now() - started < TIME_CAP_MS; i++) {
    const input = mutate(r);
    try {
      const m = parseMessage(input);
      if (!(m instanceof SipMessage)) throw new Error('returned something that is not a SipMessage');
      accepted++;
      // What the parser accepts, it must accept again after serialising.
      const again = parseMessage(m.toBuffer());
      if (again.startLine() !== m.startLine() || again.body.length !== m.body.length) throw new Error('round trip changed the message');
    } catch (e) {
      if (e instanceof SipParseError && STATUSES.has(e.status) && (e.partial === undefined || e.partial instanceof SipMessage)) {
        rejected++;
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      } else if (++failed <= 5) {
        failures.push(`#${i} ${String(e)} input=${JSON.stringify(input.subarray(0, 300).toString('latin1'))}`);
      }
    }
  }
  t.same(failures, [], 'no exception other than SipParseError, no broken round trip');
  t.equal(accepted + rejected + failed, i, 'every input accounted for');
  t.ok(accepted > 100, `a share of mutants still parse (${accepted})`);
  t.ok(rejected > 1000, `most mutants are rejected (${rejected})`);
  t.ok(codes.has('SIP_ERR_TOO_LARGE'), 'huge inputs hit the limits');
  t.comment(`iterations ${i}, accepted ${accepted}, rejected ${rejected}, codes ${JSON.stringify(Object.fromEntries(codes))}`);
  gc?.();
  const growth = process.memoryUsage().heapUsed - heapBefore;
  t.ok(growth < 50 * 1024 * 1024, `heap growth ${(growth / 1048576).toFixed(1)} MB stays under 50 MB (gc ${gc ? 'forced' : 'unavailable'})`);
});

t.test('adversarial shapes finish: no quadratic blow-up on long runs', async (t) => {
  const head = 'OPTIONS sip:b@h SIP/2.0\r\n';
  const shapes = [
    head + 'X: ' + '"'.repeat(60_000) + '\r\n\r\n',
    head + 'From: ' + '<'.repeat(60_000) + '\r\n\r\n',
    head + 'Via: SIP/2.0/UDP h' + ';a'.repeat(30_000) + '\r\n\r\n',
    head + 'X: y\r\n' + ' \r\n'.repeat(20_000) + '\r\n',
    head + '\n'.repeat(60_000),
    '\r\n'.repeat(30_000) + head,
    head + 'Contact: ' + '<sip:a@h>,'.repeat(6_000) + '\r\n\r\n',
  ];
  for (const s of shapes) {
    const b = Buffer.from(s);
    for (const limits of [undefined, { maxMessageSize: 1 << 20, maxHeaderLineLength: 1 << 20, maxHeaders: 100_000 }]) {
      try {
        parseMessage(b, limits);
      } catch (e) {
        t.type(e, SipParseError);
      }
    }
  }
  t.pass('all shapes finished');
});
