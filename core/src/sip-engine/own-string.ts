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
