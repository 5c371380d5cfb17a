/**
 * A minimal SIP-over-UDP client for plugin tests: send one out-of-dialog
 * request and wait for its final response. Not a SIP stack: no
 * retransmission (loopback does not lose datagrams), no dialogs.
 */
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';

/** Options of {@link sendSipRequest}. */
export interface SipRequestOptions {
  /** UDP port of the host's SIP engine on 127.0.0.1 (`TestHost.sipPort`). */
  port: number;
  /** SIP method; default `MESSAGE`. */
  method?: string;
  /** Request-URI, e.g. `sip:bob@example.test`; its host selects the site. */
  uri: string;
  /** From URI; default `sip:tester@<uri host>`. */
  from?: string;
  /** Body; sent as `text/plain` unless `contentType` says otherwise. */
  body?: string;
  contentType?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Give up after this long; default 5000 ms. */
  timeoutMs?: number;
}

/** The final response to a {@link sendSipRequest}. */
export interface SipFinalResponse {
  status: number;
  reason: string;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

/** Send one request over UDP and resolve with its first final (>= 200) response. */
export function sendSipRequest(options: SipRequestOptions): Promise<SipFinalResponse> {
  const method = options.method ?? 'MESSAGE';
  const host = /^sips?:(?:[^@]*@)?([^;:>]+)/.exec(options.uri)?.[1] ?? 'localhost';
  const body = options.body ?? '';
  const socket = createSocket('udp4');
  const tag = randomBytes(6).toString('hex');
  const callId = `${randomBytes(10).toString('hex')}@127.0.0.1`;
  const branch = `z9hG4bK${randomBytes(8).toString('hex')}`;
  return new Promise<SipFinalResponse>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no final response to ${method} ${options.uri} within ${options.timeoutMs ?? 5000} ms`));
    }, options.timeoutMs ?? 5000);
    socket.on('message', (data) => {
      const response = parseResponse(data.toString('utf8'));
      if (!response || response.status < 200) return;
      clearTimeout(timer);
      socket.close();
      resolve(response);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
    socket.bind(0, '127.0.0.1', () => {
      const local = socket.address().port;
      const lines = [
        `${method} ${options.uri} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=${branch};rport`,
        'Max-Forwards: 70',
        `From: <${options.from ?? `sip:tester@${host}`}>;tag=${tag}`,
        `To: <${options.uri}>`,
        `Call-ID: ${callId}`,
        `CSeq: 1 ${method}`,
        `Contact: <sip:tester@127.0.0.1:${local}>`,
        ...Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
        ...(body ? [`Content-Type: ${options.contentType ?? 'text/plain'}`] : []),
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ];
      socket.send(lines.join('\r\n'), options.port, '127.0.0.1');
    });
  });
}

function parseResponse(text: string): SipFinalResponse | undefined {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [start = '', ...headerLines] = head.split('\r\n');
  const match = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(start);
  if (!match) return undefined;
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(match[1]), reason: match[2] ?? '', headers, body: rest.join('\r\n\r\n'), raw: text };
}
