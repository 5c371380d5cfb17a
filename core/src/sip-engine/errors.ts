/**
 * The SIP engine's error registry. SIP-side failures carry the SIP status a
 * peer is answered with; wire-side failures are reported to the app as NOK.
 */
export interface EngineErrorSpec {
  message: string;
  sipStatus?: number;
  hint: string;
}

export const ENGINE_ERRORS = {
  SIP_ERR_BAD_CONTACT: { message: 'invalid contact', hint: 'Use a contact such as sip:127.0.0.1:5060;transport=udp,tcp.' },
  SIP_ERR_NO_FLOW: { message: 'no connection to the target', hint: 'WebSocket targets are reachable only over a connection the client opened.' },
  SIP_ERR_NO_LISTENER: { message: 'no listener for the transport', hint: 'Add a contact with that transport to sip.contacts (or --contact).' },
  SIP_ERR_BAD_TRANSPORT_OPTIONS: { message: 'invalid transport options', hint: 'Check the field the message names (sizes and timeouts are positive numbers).' },
  SIP_ERR_BIND: { message: 'cannot bind a SIP listener', hint: 'Another process holds the address or port; pick another contact or stop it.' },
  SIP_ERR_TRANSPORT_NOT_STARTED: { message: 'the transports are not running', hint: 'Start the engine before sending, and do not send after stop().' },
  SIP_ERR_CONNECT: { message: 'cannot connect to the target', hint: 'Check that the far end listens on that address, port and transport.' },
  SIP_ERR_FRAMING: { message: 'a stream carried an unframeable message', hint: 'The peer sent a bad Content-Length; its connection was closed.' },
  SIP_ERR_MESSAGE_TOO_LARGE: { message: 'a message exceeded the size limit', hint: 'Raise sip max message size or use a stream transport for large bodies.' },
  SIP_ERR_SOCKET: { message: 'a socket failed', hint: 'Usually the peer went away; the engine keeps serving others.' },
  SIP_ERR_RESOLVE: { message: 'the target could not be resolved', sipStatus: 503, hint: 'Check the Request-URI host or pass an explicit proxy.' },
  SIP_ERR_TIMEOUT: { message: 'the transaction timed out', sipStatus: 408, hint: 'The far end did not answer; check that it is reachable.' },
  SIP_ERR_NO_APP: { message: 'no application routes this method', sipStatus: 503, hint: 'Connect an app that routes the method (srf.use / srf.<method>).' },
  SIP_ERR_NO_DIALOG: { message: 'unable to find dialog', sipStatus: 481, hint: 'The dialog has ended or never existed.' },
  SIP_ERR_NO_TRANSACTION: { message: 'unable to find transaction', sipStatus: 481, hint: 'The transaction has completed or never existed.' },
  SIP_ERR_LOOP: { message: 'loop detected', sipStatus: 482, hint: 'The request came back to this engine; check the routing.' },
  SIP_ERR_MERGED: { message: 'merged request', sipStatus: 482, hint: 'A forked copy of this request already reached this engine.' },
  SIP_ERR_TOO_MANY_HOPS: { message: 'too many hops', sipStatus: 483, hint: 'Max-Forwards reached zero.' },
  SIP_ERR_OVERLOAD: { message: 'overloaded: new requests answered 503 with Retry-After', sipStatus: 503, hint: 'More requests arrive than the apps finish; the engine refuses new ones rather than queue them. Add capacity or spread the load; the bounds are the engine option overload.' },
  SIP_ERR_ENGINE_THREAD: { message: 'the SIP engine thread stopped', hint: 'The engine on its worker thread (sip.engineThread = "worker") failed; the log line before this one says why. Restart the host; set sip.engineThread to "main" to run the engine on the main thread.' },
  SIP_ERR_WIRE_AUTH: { message: 'authentication failed', hint: 'The app must connect with the engine\'s shared secret.' },
  SIP_ERR_WIRE_PROTOCOL: { message: 'malformed wire-protocol message', hint: 'Use a drachtio-srf 5.x client.' },
  SIP_ERR_BAD_APP_MESSAGE: { message: 'the app sent a SIP message that cannot be parsed', hint: 'Check the headers the app sets.' },
} as const satisfies Record<string, EngineErrorSpec>;

export type EngineErrorCode = keyof typeof ENGINE_ERRORS;

export class SipEngineError extends Error {
  readonly code: EngineErrorCode;
  readonly sipStatus?: number;
  constructor(code: EngineErrorCode, detail?: string) {
    const spec: EngineErrorSpec = ENGINE_ERRORS[code];
    super(`${code}: ${spec.message}${detail ? ` (${detail})` : ''}. ${spec.hint}`);
    this.name = 'SipEngineError';
    this.code = code;
    if (spec.sipStatus !== undefined) this.sipStatus = spec.sipStatus;
  }
}
