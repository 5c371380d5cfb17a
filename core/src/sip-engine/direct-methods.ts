/**
 * Methods SipEngine.requestInDialog sends without the wire: not INVITE
 * (its ACK and CANCEL belong to the app that sent it), nor ACK, CANCEL or
 * PRACK, which only exist inside an INVITE transaction an app drives.
 */
export const DIRECT_METHODS: ReadonlySet<string> = new Set(['NOTIFY', 'INFO', 'MESSAGE', 'UPDATE', 'OPTIONS', 'REFER', 'SUBSCRIBE', 'BYE']);

/** Out-of-dialog requests sent without the wire: none that creates a dialog (those belong to an app's Srf). */
export const DIRECT_OUT_OF_DIALOG_METHODS: ReadonlySet<string> = new Set(['MESSAGE', 'OPTIONS', 'NOTIFY', 'INFO', 'PUBLISH']);

/** Where a wire-less request goes: inside a dialog the engine keeps, or to a URI (out of dialog). */
export type DirectTarget = { dialogId: string } | { uri: string };

/** The method is one requestDirect sends to that kind of target. */
export function sendsDirect(target: DirectTarget, method: string): boolean {
  return ('dialogId' in target ? DIRECT_METHODS : DIRECT_OUT_OF_DIALOG_METHODS).has(method);
}

/** The error for a method requestDirect does not send. */
export function notDirect(method: string): Error {
  return new Error(`${method} cannot be sent this way; use the app's Srf`);
}
