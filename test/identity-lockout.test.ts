// Failed sign-ins: per account (423) and per client address (429) within a
// window, Retry-After on the refusal, the right password refused while
// locked, and a security.lockout event a plugin receives.
import t from 'tap';
import { createTestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../core/src/storage/index.ts';
import { admin, call, DIRECTORY_WATCH, signIn, tokenFor } from './identity-helpers.ts';

for (const storageUrl of storageUrlsForTests()) {
  t.test(`sign-in lockout (${storageUrl.split(':')[0]})`, async (t) => {
    await withTestDatabase(storageUrl, async (url) => {
      const th = await createTestHost({
        plugins: [DIRECTORY_WATCH], sites: ['a.test'], storage: url, sip: false,
        config: { security: { signIn: { maxFailures: 3, maxFailuresPerAddress: 6, windowSeconds: 600, lockoutSeconds: 600 } } },
      });
      t.teardown(() => th.close());
      for (const name of ['alice', 'bob', 'carol', 'dave']) {
        t.equal((await admin(th, 'POST', '/api/admin/sites/a.test/users', { username: name, password: `${name}-password` })).status, 201);
      }
      const lockouts = async () => (await call(th.url, 'GET', '/api/plugins/directory-watch/sites/a.test/lockouts')).body.lockouts as Array<Record<string, unknown>>;

      // Per account.
      t.equal((await signIn(th.url, 'alice@a.test', 'wrong-1')).status, 401);
      t.equal((await signIn(th.url, 'alice@a.test', 'wrong-2')).status, 401);
      const third = await signIn(th.url, 'alice@a.test', 'wrong-3');
      t.equal(third.status, 423, 'the failure that reaches the limit locks the account');
      t.equal(third.body.code, 'CORE_ERR_SIGNIN_LOCKED');
      t.match(third.body.message, /locked.*retry in \d+ s/);
      t.ok(Number(third.headers.get('retry-after')) > 0, 'Retry-After says how long');
      const right = await signIn(th.url, 'alice@a.test', 'alice-password');
      t.equal(right.status, 423, 'even the right password is refused while locked');
      t.equal((await signIn(th.url, 'bob@a.test', 'bob-password')).status, 200, 'other accounts are not affected');

      // The plugin saw the event (live subscription; give it a bounded moment).
      let seen: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 50 && seen.length === 0; i++) {
        seen = await lockouts();
        if (seen.length === 0) await new Promise((r) => setTimeout(r, 20));
      }
      t.match(seen, [{ scope: 'account', key: 'alice@a.test', failures: 3, protocol: 'http', until: /^\d{4}-\d\d-\d\dT/ }], 'security.lockout published');

      // Per address: failures against different accounts add up (6 allowed; 4 so far from 127.0.0.1 incl. the locked one).
      t.equal((await signIn(th.url, 'carol@a.test', 'wrong-1')).status, 401);
      t.equal((await signIn(th.url, 'dave@a.test', 'wrong-1')).status, 401);
      const sixth = await signIn(th.url, 'nobody@a.test', 'wrong-1');
      t.equal(sixth.status, 429, 'the address is throttled after its limit, unknown accounts count too');
      t.equal(sixth.body.code, 'CORE_ERR_SIGNIN_THROTTLED');
      t.ok(Number(sixth.headers.get('retry-after')) > 0);
      t.equal((await signIn(th.url, 'carol@a.test', 'carol-password')).status, 429, 'nothing more from this address, right password or not');
      for (let i = 0; i < 50 && (await lockouts()).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      t.match((await lockouts())[1], { scope: 'address', key: '127.0.0.1' });

      // Existing sessions keep working; the admin token was issued before.
      t.equal((await admin(th, 'GET', '/api/admin/sites/a.test/users/alice')).status, 200);
    });
  });
}

t.test('a wrong current password counts against the account', async (t) => {
  const th = await createTestHost({ plugins: [], sites: ['a.test'], sip: false, config: { security: { signIn: { maxFailures: 2 } } } });
  t.teardown(() => th.close());
  t.equal((await admin(th, 'POST', '/api/admin/sites/a.test/users', { username: 'erin', password: 'erin-password' })).status, 201);
  const token = await tokenFor(th.url, 'erin@a.test', 'erin-password');
  const change = (oldPassword: string) => call(th.url, 'POST', '/api/me/password', { token, body: { oldPassword, newPassword: 'erin-new-password' } });
  t.equal((await change('guess-1')).status, 403);
  t.equal((await change('guess-2')).status, 403);
  t.equal((await change('erin-password')).status, 423, 'locked: a stolen session cannot brute-force the password');
  t.equal((await signIn(th.url, 'erin@a.test', 'erin-password')).status, 423);
});
