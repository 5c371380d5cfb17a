// White-box: the failure limiter's window, lockout end and memory bound,
// with an injected clock (the black-box lockout test cannot wait minutes).
import t from 'tap';
import { FailureLimiter } from '../core/src/identity/failure-limiter.ts';

t.test('window, lockout and its end', async (t) => {
  let now = 1_000_000;
  const limiter = new FailureLimiter({ maxFailures: 3, windowMs: 10_000, lockoutMs: 60_000 }, { now: () => now });
  t.equal(limiter.fail('k'), undefined);
  now += 9_000;
  t.equal(limiter.fail('k'), undefined);
  now += 2_000; // the first failure left the window
  t.equal(limiter.fail('k'), undefined, 'only two failures inside the window');
  t.equal(limiter.lockedFor('k'), 0);
  const lock = limiter.fail('k');
  t.match(lock, { key: 'k', failures: 3, until: now + 60_000 }, 'third failure inside the window locks');
  t.equal(limiter.lockedFor('k'), 60_000);
  t.equal(limiter.fail('k'), undefined, 'failures while locked do not start a new lockout');
  now += 59_999;
  t.equal(limiter.lockedFor('k'), 1);
  now += 1;
  t.equal(limiter.lockedFor('k'), 0, 'unlocked when lockoutMs has passed');
  t.equal(limiter.fail('k'), undefined, 'counting starts afresh');
});

t.test('clear and the memory bound', async (t) => {
  const limiter = new FailureLimiter({ maxFailures: 2, windowMs: 1_000, lockoutMs: 1_000 }, { maxKeys: 3, now: () => 0 });
  limiter.fail('a');
  limiter.clear('a');
  t.equal(limiter.fail('a'), undefined, 'clear forgets failures');
  for (const k of ['b', 'c', 'd']) limiter.fail(k);
  t.equal(limiter.fail('a'), undefined, "a was evicted as the oldest key, so this is its first failure again");
  t.ok(limiter.fail('d'), 'recent keys are kept');
});
