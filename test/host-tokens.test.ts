// Bearer tokens are signed with a key the host generated at its first start
// and keeps in its database: a token outlives a restart, a tampered one is
// refused, and another database (another installation) has another key.
import t from 'tap';
import { createTestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../core/src/storage/index.ts';

const ADMIN_PASSWORD = 'tokens-test-admin';

function tamper(token: string, part: 0 | 1): string {
  const pieces = token.split('.');
  const piece = pieces[part]!;
  // Flip one character in the middle to another base64url character.
  const i = Math.floor(piece.length / 2);
  pieces[part] = `${piece.slice(0, i)}${piece[i] === 'A' ? 'B' : 'A'}${piece.slice(i + 1)}`;
  return pieces.join('.');
}

for (const storageUrl of storageUrlsForTests()) {
  t.test(`a token survives a restart, a tampered one does not pass (${storageUrl.split(':')[0]})`, async (t) => {
    await withTestDatabase(storageUrl, async (url) => {
      const options = { plugins: [], sites: ['tokens.test'], storage: url, adminPassword: ADMIN_PASSWORD, sip: false };
      const first = await createTestHost(options);
      const token = first.adminToken;
      const before = await fetch(`${first.url}/api/admin/plugins`, { headers: { authorization: `Bearer ${token}` } });
      t.equal(before.status, 200, 'the token works on the host that issued it');
      await first.close();

      const second = await createTestHost(options);
      t.teardown(() => second.close());
      const list = (path: string, bearer: string) => fetch(`${second.url}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
      t.equal((await list('/api/admin/plugins', token)).status, 200, 'the token from before the restart still works');

      for (const [label, forged] of [['claims', tamper(token, 0)], ['signature', tamper(token, 1)]] as const) {
        t.not(forged, token);
        const res = await list('/api/admin/plugins', forged);
        t.equal(res.status, 401, `a token with tampered ${label} is refused`);
      }
      const claims = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      const escalated = `${Buffer.from(JSON.stringify({ ...claims, sub: 'mallory' })).toString('base64url')}.${token.split('.')[1]}`;
      t.equal((await list('/api/admin/plugins', escalated)).status, 401, 'claims re-encoded under the old signature are refused');
    });
  });
}

t.test('another database has another key', async (t) => {
  const one = await createTestHost({ plugins: [], sites: ['a.test'], sip: false });
  t.teardown(() => one.close());
  const two = await createTestHost({ plugins: [], sites: ['a.test'], sip: false });
  t.teardown(() => two.close());
  const res = await fetch(`${two.url}/api/admin/plugins`, { headers: { authorization: `Bearer ${one.adminToken}` } });
  t.equal(res.status, 401, 'a token of one installation is worthless on another');
});
