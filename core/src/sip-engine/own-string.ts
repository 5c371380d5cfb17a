/**
 * The same text in a string of its own. A header value is a piece of the
 * message's text, and V8 keeps a piece (a sliced string, or a concatenation
 * of them) pointing at the whole text: anything kept past the message (a
 * transaction key for 64*T1, a dialog for its life) would keep every message
 * it came from. Slicing a concatenation copies it flat first, so the result
 * refers only to that copy.
 */
export function detach(s: string): string {
  return (s + ' ').slice(0, -1);
}

/**
 * A copy that is one flat string and nothing else, for what is kept long (a
 * dialog's fields, for the dialog's life). detach() leaves a small slice
 * object in front of its copy (32 bytes, seven times a dialog); this costs a
 * little more time and saves that. Strings under 13 characters are never
 * slices in V8, so they are returned as they are.
 */
export function ownCopy(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}
