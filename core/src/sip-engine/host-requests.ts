/**
 * Requests the host answers without the wire (SipEngine.serveHost): for a
 * method the host serves itself (the core's registrar takes REGISTER), the
 * engine hands over the request as plain data and builds the response from
 * the host's answer. No drachtio wire message, no drachtio-srf parse, no
 * response text parsed back: what the host needs is the request's start
 * line, headers, body and where it came from. Both ends are plain data, so
 * they cross to an engine thread unchanged (engine-thread-main.ts).
 */
import type { EngineState } from './engine-state.ts';
import type { SipMessage } from './message/index.ts';
import type { Flow } from './transport/types.ts';
import type { ServerTransaction } from './transaction/server-transaction.ts';
import { buildResponse, HEADERS_FROM_REQUEST, newTag, reasonPhrase } from './sip-builder.ts';

/** One request for the host: what drachtio-srf would have shown an app, as plain data. */
export interface HostRequest {
  /** The server transaction's id; the answer names it. */
  id: string;
  method: string;
  uri: string;
  /** Header lines in arrival order, names as received, values unfolded. */
  headers: Array<[name: string, value: string]>;
  body: string;
  /** udp, tcp, tls, ws or wss. */
  transport: string;
  address: string;
  port: number;
}

/** The host's final answer to a HostRequest (no answer at all drops the request). */
export interface HostAnswer {
  id: string;
  status: number;
  reason?: string;
  /** Header lines to add; those the response copies from the request (Via, From, To, Call-ID, CSeq) are ignored. */
  headers?: Array<[name: string, value: string]>;
  body?: string;
}

/** Who takes the methods the host serves. */
export interface HostService {
  methods: ReadonlySet<string>;
  deliver(request: HostRequest): void;
}

/** An out-of-dialog request of a method the host serves: true when it went to the host. */
export function deliverToHost(s: EngineState, req: SipMessage, flow: Flow, txn: ServerTransaction): boolean {
  const host = s.host;
  if (!host?.methods.has(req.method)) return false;
  txn.owner = { kind: 'host' };
  s.hostRequests++;
  host.deliver({
    id: txn.id,
    method: req.method,
    uri: req.uri,
    headers: req.headers.map((h) => [h.name, h.value]),
    body: req.body.length ? req.body.toString('utf8') : '',
    transport: flow.transport,
    address: flow.remoteAddress,
    port: flow.remotePort,
  });
  return true;
}

/**
 * The host's answer: the response is built from the request (RFC 3261
 * §8.2.6) with a To tag that marks it as making no dialog, plus the host's
 * headers. False when the transaction is gone or already answered.
 */
export function answerFromHost(s: EngineState, answer: HostAnswer): boolean {
  const txn = s.serverById.get(answer.id);
  if (!txn || txn.finalStatus || (txn.owner as { kind?: string } | undefined)?.kind !== 'host') return false;
  const status = answer.status;
  if (!Number.isInteger(status) || status < 100 || status > 699) return false;
  if (status > 100 && !txn.localTag) txn.localTag = s.noDialogTagPrefix + newTag();
  const res = buildResponse(txn.request, status, answer.reason || reasonPhrase(status), status > 100 ? txn.localTag : undefined);
  for (const [name, value] of answer.headers ?? []) if (!HEADERS_FROM_REQUEST.has(name.toLowerCase())) res.append(name, value);
  if (answer.body) res.body = Buffer.from(answer.body, 'utf8');
  return txn.respond(res);
}
