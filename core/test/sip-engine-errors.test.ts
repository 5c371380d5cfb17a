/** The engine's error codes: one registry, unique, prefixed, documented; the layers' codes all appear in it. */
import t from 'tap';
import { ENGINE_ERRORS, SipEngineError } from '../src/sip-engine/errors.ts';
import { TransportErrorCode } from '../src/sip-engine/transport/errors.ts';
import { SIP_PARSE_ERRORS } from '../src/sip-engine/message/index.ts';

t.test('every engine code is prefixed and says what to do', async (t) => {
  for (const [code, spec] of Object.entries(ENGINE_ERRORS)) {
    t.match(code, /^SIP_ERR_[A-Z0-9_]+$/, code);
    t.ok(spec.message.length > 3 && spec.hint.length > 10, `${code} has a message and a hint`);
  }
});

t.test('transport codes are documented in the engine registry', async (t) => {
  for (const code of Object.values(TransportErrorCode)) t.ok(code in ENGINE_ERRORS, `${code} documented`);
});

t.test('parser codes carry a SIP status and do not collide with engine codes', async (t) => {
  for (const [code, spec] of Object.entries(SIP_PARSE_ERRORS)) {
    t.match(code, /^SIP_ERR_/);
    t.ok(spec.status >= 400 && spec.status < 600, `${code} answers ${spec.status}`);
    t.notOk(code in ENGINE_ERRORS, `${code} is defined once`);
  }
});

t.test('SipEngineError carries code, SIP status and hint', async (t) => {
  const e = new SipEngineError('SIP_ERR_NO_DIALOG', 'abc');
  t.equal(e.code, 'SIP_ERR_NO_DIALOG');
  t.equal(e.sipStatus, 481);
  t.match(e.message, /unable to find dialog \(abc\)\. The dialog has ended/);
});
