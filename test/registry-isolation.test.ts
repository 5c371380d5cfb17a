// Isolation holds for plugins installed into a running host, not only for
// those found at boot (test/host-containment.test.ts and
// test/host-permissions.test.ts cover boot): a plugin uploaded at run time
// that reaches outside its HTTP prefix, handles an undeclared SIP method,
// publishes an undeclared topic or asks for another plugin's table is
// marked failed with the coded reason, and serves nothing.
import t from 'tap';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'tar';
import { createTestHost, sendSipRequest } from '@switchboard/sdk';

t.setTimeout(300_000);

async function tarball(work: string, id: string, manifest: Record<string, unknown>, setup: string): Promise<Uint8Array<ArrayBuffer>> {
  const dir = join(work, id);
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'plugin.json'), JSON.stringify({ id, name: id, version: '1.0.0', engines: { switchboard: '^0.1.0' }, publisher: 'tests', ...manifest }));
  await writeFile(join(dir, 'src', 'index.ts'), `import { definePlugin } from '@switchboard/sdk';\nexport default definePlugin({\n  async setup(ctx) {\n    ${setup}\n  },\n});\n`);
  const file = join(work, `${id}.tgz`);
  await create({ gzip: true, file, cwd: dir, portable: true }, ['plugin.json', 'src/index.ts']);
  const { readFile } = await import('node:fs/promises');
  return new Uint8Array(await readFile(file));
}

t.test('a plugin installed at run time gets the same scoped context as one found at boot', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'switchboard-isolation-'));
  const host = await createTestHost({
    plugins: [join(process.cwd(), 'test', 'fixtures', 'plugins', 'good', 'hello')],
    sites: ['iso.test'],
    config: { plugins: { installDir: join(work, 'installed'), trustDir: join(work, 'trust') } },
  });
  t.teardown(async () => {
    await host.close();
    await rm(work, { recursive: true, force: true });
  });
  const upload = async (tgz: Uint8Array<ArrayBuffer>) => {
    const res = await host.adminFetch('/api/admin/plugins/upload?allowUnsigned=true&reason=isolation%20test', {
      method: 'POST', body: tgz, headers: { 'content-type': 'application/gzip' },
    });
    return (await res.json()) as { state: string; error?: string };
  };

  const cases: Array<[string, Record<string, unknown>, string, string]> = [
    ['sneaky-http', {}, "ctx.http.get('/api/admin/steal', async () => ({ stolen: true }));", 'CORE_ERR_HTTP_OUTSIDE_PREFIX'],
    ['sneaky-sip', { permissions: { sip: ['MESSAGE'] } }, "ctx.sip.on('INVITE', (req, res) => res.send(200));", 'CORE_ERR_SIP_METHOD_NOT_DECLARED'],
    ['sneaky-events', { permissions: { events: { publish: ['sneaky.ok'] } } }, "await ctx.events.publish('hello.message', { forged: true });", 'CORE_ERR_EVENT_TOPIC_NOT_DECLARED'],
    ['sneaky-db', {}, "await ctx.db.repository('HelloMessage').find();", 'CORE_ERR_DB_ENTITY_NOT_OWNED'],
  ];
  for (const [id, manifest, setup, code] of cases) {
    const outcome = await upload(await tarball(work, id, manifest, setup));
    t.equal(outcome.state, 'failed', `${id} is failed`);
    t.match(outcome.error, new RegExp(code), `${id}: ${code}`);
  }

  const steal = await fetch(`${host.url}/api/admin/steal`);
  t.not(steal.status, 200, 'the route outside the prefix was never mounted');
  const invite = await sendSipRequest({ port: host.sipPort, method: 'INVITE', uri: 'sip:someone@iso.test', body: '' });
  t.not(invite.status, 200, 'the undeclared INVITE handler never runs');
  const messages = (await (await fetch(`${host.url}/api/plugins/hello/sites/iso.test/messages`)).json()) as { messages: unknown[] };
  t.same(messages.messages, [], 'the other plugin\'s table was not touched');

  // A well-behaved plugin installed at run time serves under its own prefix only.
  const fine = await upload(await tarball(work, 'fine', {}, "ctx.http.get('/sites/:site/ping', async () => ({ pong: true }));"));
  t.equal(fine.state, 'ready');
  const enabled = await host.adminFetch('/api/admin/sites/iso.test/plugins/fine', { method: 'PUT', body: JSON.stringify({ enabled: true }) });
  t.equal(enabled.status, 200);
  const ping = await fetch(`${host.url}/api/plugins/fine/sites/iso.test/ping`);
  t.same(await ping.json(), { pong: true });
  const list = (await (await host.adminFetch('/api/admin/plugins')).json()) as { plugins: Array<{ id: string; state: string }> };
  t.same(list.plugins.filter((p) => p.id.startsWith('sneaky-')).map((p) => p.state), ['failed', 'failed', 'failed', 'failed']);
});
