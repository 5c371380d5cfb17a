// The minimal drachtio-srf application the SIP benchmark runs on Switchboard's
// engine. It does the same work as bench/kamailio/kamailio.cfg (see the table
// there): 200 to MESSAGE and OPTIONS, 200 with Contact/Expires echoed to
// REGISTER, and a UAS that answers INVITE with SDP and lets the dialog answer
// the BYE.
import Srf from 'drachtio-srf';

const LOCAL_SDP = [
  'v=0',
  'o=switchboard 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  '',
].join('\r\n');

type Handler = (req: Srf.SrfRequest, res: Srf.SrfResponse) => void;
/** drachtio-srf adds one routing method per SIP method at runtime; its typings declare only invite. */
type MethodRoutes = Record<'message' | 'options' | 'register', (handler: Handler) => void>;

export function installBenchApp(srf: Srf): void {
  const routes = srf as unknown as MethodRoutes;
  routes.message((_req, res) => res.send(200));
  routes.options((_req, res) => res.send(200));
  routes.register((req, res) => {
    const headers: Record<string, string> = {};
    if (req.has('Contact')) headers.Contact = req.get('Contact');
    if (req.has('Expires')) headers.Expires = req.get('Expires');
    res.send(200, { headers });
  });
  srf.invite((req, res) => {
    srf.createUAS(req, res, { localSdp: LOCAL_SDP })
      .then((dialog) => { dialog.on('destroy', () => { /* BYE answered by the dialog */ }); })
      .catch(() => { /* counted as a failure by sipp */ });
  });
}

/**
 * Creates an Srf with the bench app installed, connects it to the engine's
 * wire port and resolves once it is authenticated. Routes are installed
 * before connecting so they are all announced in the initial handshake.
 */
export async function connectSrf(port: number, secret: string, timeoutMs = 5000): Promise<Srf> {
  const srf = new Srf();
  installBenchApp(srf);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`srf did not connect to 127.0.0.1:${port} within ${timeoutMs} ms`)), timeoutMs);
    srf.on('connect', (err) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    });
    srf.on('error', (err) => { clearTimeout(timer); reject(err); });
    srf.connect({ host: '127.0.0.1', port, secret });
  });
  return srf;
}
