// Password hashes computed on the scrypt thread: the same hashes as
// node:crypto's scrypt, concurrent requests each get their own answer, a
// stored hash asking for more memory than the bound is refused, and the
// process still exits while the thread is idle (tap would time out).
import t from 'tap';
import { randomBytes, scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hashPassword, passwordNeedsRehash, verifyPassword } from '../src/host/admin-users.ts';
import { scryptOnThread, stopScryptThreadIfIdle } from '../src/identity/scrypt-thread.ts';

t.test('the same keys as node:crypto scrypt', async (t) => {
  const salt = randomBytes(16);
  const params = { N: 1024, r: 8, p: 1 };
  const key = await scryptOnThread('correct horse', salt, 32, params);
  t.same(key, scryptSync('correct horse', salt, 32, params));
  t.not(Buffer.compare(key, await scryptOnThread('correct horse', randomBytes(16), 32, params)), 0, 'another salt, another key');
});

t.test('hash and verify, many at once', async (t) => {
  const stored = await hashPassword('s3cret-password');
  t.match(stored, /^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/, 'parameters travel with the hash');
  t.equal(passwordNeedsRehash(stored), false, 'a new hash has today\'s parameters');
  t.equal(await verifyPassword('s3cret-password', stored), true);
  t.equal(await verifyPassword('wrong-password', stored), false);
  const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => verifyPassword(i % 2 ? 'wrong-password' : 's3cret-password', stored)));
  t.same(answers, [true, false, true, false, true, false, true, false], 'each concurrent request gets its own answer');
  t.equal(await verifyPassword('x', 'md5$abc'), false, 'not an scrypt hash');
});

t.test('a stored hash asking for too much memory is refused', async (t) => {
  const salt = randomBytes(16).toString('base64url');
  const hash = randomBytes(32).toString('base64url');
  await t.rejects(verifyPassword('x', `scrypt$1048576$8$1$${salt}$${hash}`), /memory|limit|maxmem/i, 'N=2^20, r=8 would need 1 GiB');
  t.equal(await verifyPassword('s3cret', await hashPassword('s3cret')), true, 'the thread still works afterwards');
});

t.test('a hash made with older parameters still verifies and is due to be replaced', async (t) => {
  const salt = randomBytes(16);
  const key = scryptSync('older-password', salt, 32, { N: 16384, r: 8, p: 1 });
  const stored = ['scrypt', 16384, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
  t.equal(await verifyPassword('older-password', stored), true, 'N=16384 still signs in');
  t.equal(passwordNeedsRehash(stored), true, 'and is marked for a new hash');
  t.equal(passwordNeedsRehash('md5$abc'), true, 'so is anything that is not scrypt');
});

t.test('an idle thread can be stopped at once, and starts again on the next hash', async (t) => {
  const threads = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  const salt = randomBytes(16);
  await scryptOnThread('x', salt, 32, { N: 1024, r: 8, p: 1 });
  const withThread = threads();
  t.equal(await stopScryptThreadIfIdle(), true, 'stopped');
  t.ok(threads() < withThread, `the process has fewer threads (${withThread} -> ${threads()})`);
  t.equal(await stopScryptThreadIfIdle(), true, 'nothing left to stop');
  const pending = scryptOnThread('y', salt, 32, { N: 16384, r: 8, p: 1 });
  t.equal(await stopScryptThreadIfIdle(), false, 'not while a hash is in flight');
  t.same(await pending, scryptSync('y', salt, 32, { N: 16384, r: 8, p: 1 }), 'and that hash completes');
});
