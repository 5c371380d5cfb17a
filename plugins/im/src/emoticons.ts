/**
 * Text emoticons become Unicode emoji, the same way for every client: a SIP
 * phone, the web client and history all see the emoji, never a
 * client-specific rendering of ":)". An emoticon converts only as a word of
 * its own (after the start or a space, before the end, a space or . , ! ? ;),
 * so URLs ("http://"), times ("10:30") and code-like text stay as written.
 * In rich text only text nodes outside <code> and <pre> are touched.
 */

/** Emoticon spellings and the emoji each becomes (README lists the same table). */
export const EMOTICONS: ReadonlyArray<readonly [readonly string[], string]> = [
  [[':)', ':-)', '=)'], '\u{1F642}'],
  [[':(', ':-(', '=('], '\u{1F641}'],
  [[':D', ':-D', '=D'], '\u{1F603}'],
  [['xD', 'XD'], '\u{1F606}'],
  [[';)', ';-)'], '\u{1F609}'],
  [[':P', ':-P', ':p', ':-p'], '\u{1F61B}'],
  [[':O', ':-O', ':o', ':-o'], '\u{1F62E}'],
  [[":'("], '\u{1F622}'],
  [[':|', ':-|'], '\u{1F610}'],
  [[':/', ':-/'], '\u{1F615}'],
  [[':*', ':-*'], '\u{1F618}'],
  [['B-)', '8-)'], '\u{1F60E}'],
  [['>:(', '>:-('], '\u{1F620}'],
  [['^^', '^_^'], '\u{1F60A}'],
  [['<3'], '\u2764\uFE0F'],
  [['</3'], '\u{1F494}'],
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function build(html: boolean): { pattern: RegExp; emoji: Map<string, string> } {
  const emoji = new Map<string, string>();
  for (const [spellings, char] of EMOTICONS) {
    for (const s of spellings) {
      // sanitize-html hands text filters escaped text: "<3" arrives as "&lt;3".
      emoji.set(html ? s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;') : s, char);
    }
  }
  const alternatives = [...emoji.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|');
  return { pattern: new RegExp(`(^|\\s)(${alternatives})(?=$|\\s|[.,!?;])`, 'g'), emoji };
}

const PLAIN = build(false);
const ESCAPED = build(true);

/** `text` with its emoticons replaced; `escaped` when `text` is HTML-escaped text content. */
export function emojify(text: string, escaped = false): string {
  const { pattern, emoji } = escaped ? ESCAPED : PLAIN;
  return text.replace(pattern, (_m, before: string, emoticon: string) => `${before}${emoji.get(emoticon) ?? emoticon}`);
}
