// The IM benchmark counts a message as received when the receiving sipp's
// log line for it parses; sipp prints a number that is exactly 0 as nothing,
// so lines with an empty microsecond field must still count.
import t from 'tap';
import { parseImLogLine } from '../bench/im-log-line.ts';

t.test('a receiver log line', async (t) => {
  t.same(parseImLogLine('IM msgid=soak-17 t=1796572369.000000:250000.000000 1796572369.000000 252500.000000'),
    { run: 'soak', n: 17, sentUs: 1796572369250000, receivedUs: 1796572369252500 });
  t.same(parseImLogLine('IM msgid=soak-512002 t=1796572369.000000:999199.000000 1796572370.000000 '),
    { run: 'soak', n: 512002, sentUs: 1796572369999199, receivedUs: 1796572370000000 }, 'received at microsecond 0 (the line sipp wrote in a soak)');
  t.same(parseImLogLine('IM msgid=r2000-5 t=1796572369.000000: 1796572369.000000 1200.000000'),
    { run: 'r2000', n: 5, sentUs: 1796572369000000, receivedUs: 1796572369001200 }, 'sent at microsecond 0');
  t.equal(parseImLogLine('IM none 1796572369.000000 1.000000'), undefined, 'a body without an id');
  t.equal(parseImLogLine('IM msgid=soak-9 t=17965:12 garbage'), undefined, 'a garbled line');
});
