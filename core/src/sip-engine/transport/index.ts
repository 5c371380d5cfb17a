export { parseContact, DEFAULT_PORTS } from './contact-spec.ts';
export { StreamFramer, contentLength, type StreamFramerOptions } from './stream-framer.ts';
export { TransportLayer } from './transport-layer.ts';
export { TransportError, TransportErrorCode, type TransportErrorCodeName } from './errors.ts';
export { generateSelfSigned } from './self-signed.ts';
export type {
  TransportName, ListenSpec, BoundListener, Flow, InboundMessage, SendTarget, TlsMaterial, TransportOptions, TransportEvents,
} from './types.ts';
