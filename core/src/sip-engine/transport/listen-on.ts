/** Bind a TCP-family server (plain, TLS or the HTTP server under WebSocket) for one ListenSpec. */
import type { Server } from 'node:net';
import { advertiseFor, familyOf } from './address.ts';
import { TransportError, TransportErrorCode } from './errors.ts';
import type { BoundListener, ListenSpec } from './types.ts';

export function listenOn(server: Server, spec: ListenSpec): Promise<BoundListener> {
  const { host, port, transport, external } = spec;
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new TransportError(TransportErrorCode.BIND,
        `cannot listen on ${transport} ${host}:${port}: ${err.message}; pick a free port or port 0`, { cause: err }));
    };
    server.once('error', onError);
    // ipv6Only keeps "::" from also taking the IPv4 port, so both families can be listed
    server.listen({ host, port, ipv6Only: familyOf(host) === 'IPv6' }, () => {
      server.off('error', onError);
      const addr = server.address();
      const realPort = typeof addr === 'object' && addr ? addr.port : port;
      resolve({ transport, address: host, port: realPort, family: familyOf(host), advertise: advertiseFor(host, external) });
    });
  });
}
