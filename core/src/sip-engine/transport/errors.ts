/**
 * Coded errors of the transport layer. Codes are `SIP_ERR_*` so they can be
 * folded into the engine's registry unchanged; each message says what to do.
 */
export const TransportErrorCode = {
  BAD_CONTACT: 'SIP_ERR_BAD_CONTACT',
  BAD_OPTIONS: 'SIP_ERR_BAD_TRANSPORT_OPTIONS',
  BIND: 'SIP_ERR_BIND',
  NOT_STARTED: 'SIP_ERR_TRANSPORT_NOT_STARTED',
  NO_FLOW: 'SIP_ERR_NO_FLOW',
  NO_LISTENER: 'SIP_ERR_NO_LISTENER',
  CONNECT: 'SIP_ERR_CONNECT',
  FRAMING: 'SIP_ERR_FRAMING',
  TOO_LARGE: 'SIP_ERR_MESSAGE_TOO_LARGE',
  SOCKET: 'SIP_ERR_SOCKET',
} as const;

export type TransportErrorCodeName = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

export class TransportError extends Error {
  readonly code: TransportErrorCodeName;
  /** Connection or socket the error is about, when there is one (e.g. `tcp:...#3`). */
  readonly flowId?: string;

  constructor(code: TransportErrorCodeName, message: string, opts: { flowId?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TransportError';
    this.code = code;
    if (opts.flowId !== undefined) this.flowId = opts.flowId;
  }
}

/** Wraps whatever a socket threw so that listeners always get a coded Error. */
export function socketError(err: unknown, flowId: string): TransportError {
  const reason = err instanceof Error ? err.message : String(err);
  return new TransportError(TransportErrorCode.SOCKET, `socket error on ${flowId}: ${reason}`, { flowId, cause: err });
}
