export { SipEngine, type SipEngineOptions } from './sip-engine.ts';
export { ENGINE_ERRORS, SipEngineError, type EngineErrorCode } from './errors.ts';
export { parseContact } from './transport/index.ts';
export type { BoundListener, TransportName } from './transport/types.ts';
export type { HostRequest, HostAnswer } from './host-requests.ts';
