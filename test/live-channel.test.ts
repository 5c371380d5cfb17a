/**
 * The live channel (/api/live): one WebSocket per browser session, events
 * pushed by plugins to a user or a site, client messages answered by the
 * owning plugin, bad frames refused without dropping the socket, and
 * nothing delivered where the plugin is off.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { createTestHost, type TestHost } from '@switchboard/sdk';

const fixtures = fileURLToPath(new URL('./fixtures/plugins/live/', import.meta.url));

interface Frame { type: string; id?: unknown; ok?: boolean; data?: any; error?: { code: string; message: string }; code?: string; message?: string }

/** A client that queues frames so a test can wait for the next one matching. */
class LiveClient {
  readonly frames: Frame[] = [];
  readonly #waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  closed: Promise<{ code: number; reason: string }>;
  #nextId = 1;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as Frame;
      const i = this.#waiters.findIndex((w) => w.match(frame));
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(frame);
      else this.frames.push(frame);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<LiveClient> {
    const ws = new WebSocket(url, { headers });
    const client = new LiveClient(ws);
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); ws.once('close', () => resolve()); });
    return client;
  }

  next(match: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (f: Frame) => { clearTimeout(timer); resolve(f); } };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no matching frame within ${timeoutMs} ms; queued: ${JSON.stringify(this.frames)}`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  async request(type: string, data?: unknown): Promise<Frame> {
    const id = this.#nextId++;
    this.ws.send(JSON.stringify({ type, id, data }));
    return this.next((f) => f.id === id);
  }

  close(): Promise<unknown> {
    this.ws.close();
    return this.closed;
  }
}

async function login(url: string, username: string, site: string): Promise<{ token: string; cookie: string }> {
  const res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, site, password: 'pw-Long-enough-1' }) });
  if (!res.ok) throw new Error(`login ${username}@${site}: ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  return { token, cookie: String(res.headers.get('set-cookie')).split(';')[0]! };
}

t.test('live channel', async (t) => {
  const host: TestHost = await createTestHost({ plugins: [`${fixtures}echo`, `${fixtures}undeclared`], sites: ['a.test', 'b.test'] });
  t.teardown(() => host.close());
  const wsUrl = host.url.replace(/^http/, 'ws') + '/api/live';
  for (const [site, username] of [['a.test', 'alice'], ['a.test', 'bob'], ['b.test', 'carol']]) {
    const res = await host.adminFetch(`/api/admin/sites/${site}/users`, { method: 'POST', body: JSON.stringify({ username, password: 'pw-Long-enough-1' }) });
    t.equal(res.status, 201, `user ${username}@${site} created`);
  }
  // The test host enables every plugin everywhere; echo starts off on b.test.
  t.equal((await host.adminFetch('/api/admin/sites/b.test/plugins/echo', { method: 'PUT', body: JSON.stringify({ enabled: false }) })).status, 200);
  const clients: LiveClient[] = [];
  t.teardown(() => Promise.all(clients.map((c) => c.close())));
  const open = async (headers: Record<string, string>, query = '') => {
    const c = await LiveClient.open(wsUrl + query, headers);
    clients.push(c);
    return c;
  };

  t.test('a plugin without permissions.live cannot use it', async (t) => {
    const { plugins } = (await (await host.adminFetch('/api/admin/plugins')).json()) as { plugins: Array<{ id: string; state: string; error?: string }> };
    const undeclared = plugins.find((p) => p.id === 'undeclared');
    t.equal(undeclared?.state, 'failed');
    t.match(undeclared?.error, /CORE_ERR_LIVE_NOT_DECLARED/);
    t.equal(plugins.find((p) => p.id === 'echo')?.state, 'ready');
  });

  const alice = await login(host.url, 'alice', 'a.test');
  const bob = await login(host.url, 'bob', 'a.test');
  const carol = await login(host.url, 'carol', 'b.test');

  t.test('sign-in is required; host admins get no session', async (t) => {
    const anon = await open({});
    t.equal((await anon.closed).code, 4401, 'no credentials: closed with 4401');
    const admin = await open({}, `?token=${host.adminToken}`);
    t.equal((await admin.closed).code, 4401, 'admin: closed with 4401');
    const forged = await open({}, '?token=not-a-token');
    t.equal((await forged.closed).code, 4401, 'bad token: closed with 4401');
  });

  let a1: LiveClient, a2: LiveClient, b1: LiveClient, c1: LiveClient;
  t.test('cookie or ?token= opens a session that starts with hello', async (t) => {
    a1 = await open({ cookie: alice.cookie });
    const hello = await a1.next((f) => f.type === 'hello');
    t.same({ site: hello.data.site, username: hello.data.username, plugins: hello.data.plugins }, { site: 'a.test', username: 'alice', plugins: ['echo'] });
    t.type(hello.data.sessionId, 'string');
    a2 = await open({}, `?token=${alice.token}`);
    t.not((await a2.next((f) => f.type === 'hello')).data.sessionId, hello.data.sessionId, 'each socket is its own session');
    b1 = await open({ cookie: bob.cookie });
    await b1.next((f) => f.type === 'hello');
    c1 = await open({ cookie: carol.cookie });
    t.same((await c1.next((f) => f.type === 'hello')).data.plugins, [], 'echo is off on b.test: not announced');
  });

  t.test('client messages are answered by the owning plugin', async (t) => {
    const reply = await a1.request('echo.say', { text: 'hi <b>' });
    t.same(reply, { type: 'reply', id: 1, ok: true, data: { text: 'hi <b>', from: 'alice', site: 'a.test' } });
    const failed = await a1.request('echo.fail');
    t.equal(failed.ok, false);
    t.equal(failed.error?.code, 'CORE_ERR_LIVE_HANDLER_FAILED', 'a throwing handler answers an error, the socket stays');
    const refused = await a1.request('echo.refuse');
    t.same(refused.error, { code: 'ECHO_ERR_REFUSED', message: 'not allowed for you' }, 'a coded refusal reaches the client as is');
    const unknown = await a1.request('nobody.here');
    t.equal(unknown.type, 'error');
    t.equal(unknown.code, 'CORE_ERR_LIVE_UNKNOWN_TYPE');
    const off = await c1.request('echo.say', { text: 'x' });
    t.equal(off.code, 'CORE_ERR_LIVE_UNKNOWN_TYPE', 'plugin disabled on the caller\'s site: no handler');
  });

  t.test('bad frames get an error and change nothing', async (t) => {
    a1.ws.send('{not json');
    t.equal((await a1.next((f) => f.type === 'error')).code, 'CORE_ERR_LIVE_BAD_FRAME');
    a1.ws.send(JSON.stringify({ kind: 'no type' }));
    t.equal((await a1.next((f) => f.type === 'error')).code, 'CORE_ERR_LIVE_BAD_FRAME');
    a1.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    t.equal((await a1.next((f) => f.type === 'error')).code, 'CORE_ERR_LIVE_BAD_FRAME');
    a1.ws.send(JSON.stringify({ type: 'echo.say', id: 'big', data: { text: 'x'.repeat(70_000) } }));
    t.match((await a1.next((f) => f.type === 'error')).message, /over 65536/);
    const ok = await a1.request('echo.say', { text: 'still here' });
    t.equal(ok.data.text, 'still here', 'the socket keeps serving');
  });

  t.test('pushes reach every session of the user, or the site, and no one else', async (t) => {
    const push = async (body: Record<string, unknown>, site = 'a.test') =>
      (await (await host.adminFetch(`/api/plugins/echo/sites/${site}/push`, { method: 'POST', body: JSON.stringify(body) })).json()) as { sent: number };
    t.same(await push({ username: 'alice', type: 'echo.note', data: { n: 1 } }), { sent: 2 });
    t.same((await a1.next((f) => f.type === 'echo.note')).data, { n: 1 });
    t.same((await a2.next((f) => f.type === 'echo.note')).data, { n: 1 });
    t.same(await push({ type: 'echo.all', data: { n: 2 } }), { sent: 3 }, 'site push: two of alice, one of bob');
    await b1.next((f) => f.type === 'echo.all');
    await a1.next((f) => f.type === 'echo.all');
    await a2.next((f) => f.type === 'echo.all');
    t.same(await push({ username: 'ALICE', type: 'echo.case', data: 3 }), { sent: 2 }, 'usernames are case-insensitive');
    const pushRes = await host.adminFetch('/api/plugins/echo/sites/a.test/push', { method: 'POST', body: JSON.stringify({ username: 'alice', type: 'im.message' }) });
    t.equal(pushRes.status, 500, 'a plugin cannot push types of another plugin');
    t.match(await pushRes.text(), /CORE_ERR_HANDLER_FAILED/, 'the plugin call threw (CORE_ERR_LIVE_NOT_DECLARED inside)');
    await new Promise((r) => setTimeout(r, 100));
    t.same([...a1.frames, ...a2.frames].filter((f) => f.type === 'im.message'), [], 'nothing of the foreign type was sent');
    t.same(c1.frames.filter((f) => f.type.startsWith('echo.')), [], 'carol (other site) got nothing');
    t.same(b1.frames.filter((f) => f.type === 'echo.note' || f.type === 'echo.case'), [], 'bob got none of alice\'s events');
  });

  t.test('first open and last close are reported once per user', async (t) => {
    const read = async () => (await (await host.adminFetch('/api/plugins/echo/sites/a.test/presence')).json()) as { presence: Array<{ username: string; online: boolean }>; sessions: Record<string, number> };
    let state = await read();
    t.same(state.sessions, { alice: 2, bob: 1 });
    t.same(state.presence.filter((p) => p.username === 'alice'), [{ username: 'alice', online: true }], 'two sessions, one online report');
    await a1.close();
    state = await read();
    t.equal(state.sessions.alice, 1);
    t.equal(state.presence.filter((p) => p.username === 'alice').length, 1, 'still online with one session left');
    await a2.close();
    for (let i = 0; i < 50 && (await read()).sessions.alice !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    state = await read();
    t.same(state.presence.filter((p) => p.username === 'alice'), [{ username: 'alice', online: true }, { username: 'alice', online: false }]);
    t.equal(state.presence.some((p) => p.username === 'carol'), false, 'echo is off on b.test: no reports from there');
  });

  t.test('a flood of frames is refused, not served', async (t) => {
    for (let i = 0; i < 80; i++) b1.ws.send(JSON.stringify({ type: 'ping' }));
    const err = await b1.next((f) => f.type === 'error');
    t.equal(err.code, 'CORE_ERR_LIVE_RATE_LIMITED');
    await new Promise((r) => setTimeout(r, 1100));
    b1.ws.send(JSON.stringify({ type: 'ping', id: 'after' }));
    t.equal((await b1.next((f) => f.id === 'after')).type, 'pong', 'served again after the window');
  });

  t.test('disabling the plugin for a site stops its messages there at once', async (t) => {
    const res = await host.adminFetch('/api/admin/sites/a.test/plugins/echo', { method: 'PUT', body: JSON.stringify({ enabled: false }) });
    t.equal(res.status, 200);
    t.equal((await b1.request('echo.say', { text: 'x' })).code, 'CORE_ERR_LIVE_UNKNOWN_TYPE');
    await host.adminFetch('/api/admin/sites/b.test/plugins/echo', { method: 'PUT', body: JSON.stringify({ enabled: true }) });
    t.equal((await c1.request('echo.say', { text: 'y' })).data.text, 'y', 'and starts them where it was turned on');
  });

  t.test('stopping the host closes every session with 1001', async (t) => {
    const closed = c1.closed;
    await host.close();
    t.equal((await closed).code, 1001);
  });
});
