/**
 * One line of the receiving sipp's log in the IM benchmark
 * (test/sipp/im-uas-count.xml): `IM msgid=<run>-<n> t=<sent sec>:<sent usec>
 * <received sec> <received usec>`. sipp prints a number variable that is
 * exactly 0 as nothing at all, so a microsecond field is empty once in a
 * million messages or so; that is 0, not a broken line (two soaks counted
 * such a message as lost).
 */
export interface ImLogLine {
  run: string;
  n: number;
  sentUs: number;
  receivedUs: number;
}

const LINE = /^IM msgid=([A-Za-z0-9]+)-(\d+) t=(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)? (\d+(?:\.\d+)?) ?(\d+(?:\.\d+)?)?\s*$/;

export function parseImLogLine(line: string): ImLogLine | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  return {
    run: m[1]!,
    n: Number(m[2]),
    sentUs: Number(m[3]) * 1e6 + Number(m[4] ?? 0),
    receivedUs: Number(m[5]) * 1e6 + Number(m[6] ?? 0),
  };
}
