/** Digest primitives against the RFCs' own examples; nonce expiry, tampering and replay. */
import t from 'tap';
import { h, ha1, parseAuthorization, verifyAnswer, challenges } from '../../src/registrar/digest.ts';
import { NonceManager } from '../../src/registrar/nonce-manager.ts';

t.test('RFC 2617 MD5 example verifies; a wrong password does not', async (t) => {
  const a = parseAuthorization('Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"')!;
  t.equal(a.algorithm, 'MD5');
  const good = { ha1Md5: ha1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life'), ha1Sha256: '' };
  t.ok(verifyAnswer(a, 'GET', good));
  t.notOk(verifyAnswer(a, 'GET', { ha1Md5: ha1('MD5', 'Mufasa', 'testrealm@host.com', 'circle of life'), ha1Sha256: '' }));
  t.notOk(verifyAnswer(a, 'POST', good), 'the method is part of the answer');
});

t.test('RFC 7616 SHA-256 example verifies', async (t) => {
  const a = parseAuthorization('Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"')!;
  t.equal(a.algorithm, 'SHA-256');
  t.ok(verifyAnswer(a, 'GET', { ha1Md5: '', ha1Sha256: ha1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life') }));
  t.equal(h('SHA-256', 'abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

t.test('challenges offer SHA-256 then MD5 with qop=auth; stale when asked', async (t) => {
  const c = challenges('example.test', 'n1', { stale: true });
  t.same(c.map((x) => /algorithm=([^,]+)/.exec(x)?.[1]), ['SHA-256', 'MD5']);
  t.ok(c.every((x) => x.includes('qop="auth"') && x.includes('stale=true') && x.includes('realm="example.test"')));
  t.equal(parseAuthorization('Basic Zm9vOmJhcg=='), undefined, 'not digest');
  t.equal(parseAuthorization('Digest username="a", realm="r", nonce="n", uri="u", response="x", algorithm=SHA-512-256'), undefined, 'unsupported algorithm');
});

t.test('nonces expire (stale), are bound to this server, and cannot be replayed', async (t) => {
  const m = new NonceManager({ ttlMs: 1000 });
  const n = m.issue(10_000);
  t.equal(m.check(n, '00000001', 10_100), 'ok');
  t.equal(m.check(n, '00000001', 10_200), 'replay', 'same nc again');
  t.equal(m.check(n, '00000002', 10_300), 'ok', 'higher nc');
  t.equal(m.check(n, '00000003', 11_500), 'stale', 'past its lifetime');
  t.equal(m.check(`${n}x`, '00000001', 10_100), 'invalid', 'tampered');
  t.equal(new NonceManager({ ttlMs: 1000 }).check(n, '00000001', 10_100), 'invalid', 'another server\'s secret');
  const once = m.issue(20_000);
  t.equal(m.check(once, undefined, 20_001), 'ok');
  t.equal(m.check(once, undefined, 20_002), 'replay', 'qop-less answers are single use');
});

t.test('the table of nonce counts is bounded, and a nonce whose count was dropped is stale, never replayable', async (t) => {
  const m = new NonceManager({ ttlMs: 60_000, maxTracked: 8 });
  const nonces = Array.from({ length: 9 }, (_, i) => m.issue(100_000 + i));
  for (const [i, n] of nonces.entries()) t.equal(m.check(n, '00000001', 100_100 + i), 'ok', `nonce ${i} first use`);
  t.ok(m.tracked <= 8, `at most maxTracked counts kept (${m.tracked})`);
  t.equal(m.check(nonces[0]!, '00000001', 100_200), 'stale', 'a dropped nonce replayed: stale (a new challenge), not ok');
  t.equal(m.check(nonces[0]!, '00000002', 100_201), 'stale', 'nor with a higher count');
  t.equal(m.check(nonces[8]!, '00000001', 100_202), 'replay', 'a kept one is still replay-protected');
  t.equal(m.check(nonces[8]!, '00000002', 100_203), 'ok', 'and counts on');
  t.equal(m.check(m.issue(100_300), '00000001', 100_301), 'ok', 'a nonce issued after the drop works');
  for (let i = 0; i < 1000; i++) m.check(m.issue(200_000 + i), '00000001', 200_000 + i);
  t.ok(m.tracked <= 8, 'still bounded after many');
  // Expired counts leave from the front as new ones come, long before the table is full.
  const e = new NonceManager({ ttlMs: 1000, maxTracked: 1000 });
  for (let i = 0; i < 10; i++) e.check(e.issue(i * 500), '00000001', i * 500 + 1);
  t.ok(e.tracked <= 4, `counts of expired nonces are dropped as new ones come (${e.tracked} kept)`);
});
