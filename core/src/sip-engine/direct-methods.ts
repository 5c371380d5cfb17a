/**
 * Methods SipEngine.requestInDialog sends without the wire: not INVITE
 * (its ACK and CANCEL belong to the app that sent it), nor ACK, CANCEL or
 * PRACK, which only exist inside an INVITE transaction an app drives.
 */
export const DIRECT_METHODS: ReadonlySet<string> = new Set(['NOTIFY', 'INFO', 'MESSAGE', 'UPDATE', 'OPTIONS', 'REFER', 'SUBSCRIBE', 'BYE']);

/** The error for a method requestInDialog does not send. */
export function notDirect(method: string): Error {
  return new Error(`${method} cannot be sent this way; use the app's Srf`);
}
