import t from 'tap';
import { CORE_ERRORS, CoreError, coreError } from '../src/errors.ts';

t.test('every core error code is prefixed, documented and its message unique', async (t) => {
  const messages = new Set<string>();
  for (const [code, spec] of Object.entries(CORE_ERRORS)) {
    t.match(code, /^CORE_ERR_[A-Z0-9_]+$/, `${code} is prefixed`);
    t.ok(spec.hint.trim().length > 0, `${code} has a hint`);
    t.ok(spec.message.trim().length > 0, `${code} has a message`);
    t.ok(Number.isInteger(spec.httpStatus) && spec.httpStatus >= 400 && spec.httpStatus < 600, `${code} has an error status`);
    t.notOk(messages.has(spec.message), `${code} message is unique`);
    messages.add(spec.message);
  }
});

t.test('coreError builds a CoreError from the registry', async (t) => {
  const err = coreError('CORE_ERR_MIGRATION_FAILED', 'im 001-init: no such table', { pluginId: 'im' });
  t.ok(err instanceof CoreError);
  t.ok(err instanceof Error);
  t.equal(err.code, 'CORE_ERR_MIGRATION_FAILED');
  t.equal(err.httpStatus, 500);
  t.match(err.message, /rolled back.*: im 001-init: no such table$/);
  t.same(err.details, { pluginId: 'im' });
  const unknown = coreError('CORE_ERR_NOT_A_THING');
  t.equal(unknown.code, 'CORE_ERR_UNKNOWN_CODE');
  t.match(unknown.message, /CORE_ERR_NOT_A_THING/);
});
