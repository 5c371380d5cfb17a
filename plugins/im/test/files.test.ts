/** File transfer: upload with size limit and blocked extensions, a message with the link, authenticated download (SQLite and MariaDB). */
import t from 'tap';
import { createTestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../../../core/src/storage/index.ts';
import { D, addUser, bodyOf, pluginDir, setConfig, SipUser, webUser } from './helpers.ts';

for (const storageUrl of storageUrlsForTests()) {
  t.test(`file transfer on ${storageUrl.split(':')[0]}`, async (t) => {
    await withTestDatabase(storageUrl, async (storage) => {
      const host = await createTestHost({ plugins: [pluginDir], sites: [D], storage });
      t.teardown(() => host.close());
      for (const u of ['alice', 'bob', 'carol']) await addUser(host, u);
      const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => webUser(host, u)));
      const bobSip = await SipUser.open(host, 'bob');
      t.teardown(() => bobSip.close());
      await bobSip.register();

      // 300 KB of every byte value: more than TEXT/BLOB hold on MariaDB, and binary-safe.
      const data = Buffer.alloc(300_000, 0);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
      const up = await alice('/files', { method: 'POST', body: { name: 'plan été.pdf', contentType: 'application/pdf', data: data.toString('base64'), to: 'bob' } });
      t.equal(up.status, 201, JSON.stringify(up.json));
      t.equal(up.json.delivery, 'delivered');
      t.match(up.json.file, { name: 'plan été.pdf', size: 300_000, url: new RegExp(`^/api/plugins/im/sites/${D}/files/[0-9a-f]{32}$`) });
      const note = bodyOf(await bobSip.receive());
      t.match(note, `alice sent a file: plan été.pdf (300000 bytes) ${up.json.file.url}`, 'bob gets the link');

      const login = async (user: string) => ((await (await fetch(`${host.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, site: D, password: `${user}-secret-pw` }) })).json()) as { token: string }).token;
      const get = async (user?: string) => fetch(`${host.url}${up.json.file.url}`, user ? { headers: { authorization: `Bearer ${await login(user)}` } } : {});
      const download = await get('bob');
      t.equal(download.status, 200);
      t.equal(download.headers.get('content-type'), 'application/pdf');
      t.match(download.headers.get('content-disposition') ?? '', /^attachment; filename="plan _t_.pdf"; filename\*=UTF-8''plan%20%C3%A9t%C3%A9\.pdf$/);
      t.ok(Buffer.from(await download.arrayBuffer()).equals(data), 'the same bytes');
      t.equal((await get('alice')).status, 200, 'the owner too');
      t.equal((await get('carol')).status, 404, 'not shared with carol');
      t.equal((await get()).status, 401, 'anonymous refused');

      t.equal((await alice('/files', { method: 'POST', body: { name: 'tool.EXE', data: 'AAAA', to: 'bob' } })).json.code, 'IM_ERR_FILE_BLOCKED');
      t.equal((await alice('/files', { method: 'POST', body: { name: 'tool.exe.txt', data: 'AAAA', to: 'bob' } })).json.code, 'IM_ERR_FILE_BLOCKED', 'hidden extension');
      t.equal((await alice('/files', { method: 'POST', body: { name: '../x.txt', data: 'AAAA', to: 'bob' } })).status, 400, 'no paths in names');
      await setConfig(host, { files: { maxBytes: 1000, blockedExtensions: ['txt'] } });
      const big = await alice('/files', { method: 'POST', body: { name: 'big.bin', data: Buffer.alloc(1001).toString('base64'), to: 'bob' } });
      t.equal(big.status, 413);
      t.match(big.json, { code: 'IM_ERR_FILE_TOO_LARGE', message: /at most 1000 bytes/ });
      t.equal((await alice('/files', { method: 'POST', body: { name: 'a.txt', data: 'AAAA', to: 'bob' } })).json.code, 'IM_ERR_FILE_BLOCKED', 'per-site list');
      t.equal((await alice('/files', { method: 'POST', body: { name: 'a.exe', data: 'AAAA', to: 'bob' } })).status, 201, 'the site list replaces the default');

      const conv = (await alice('/conversations', { method: 'POST', body: { participants: ['bob', 'carol'] } })).json as { id: string };
      const shared = await alice('/files', { method: 'POST', body: { name: 'notes.md', data: Buffer.from('# hi').toString('base64'), conversation: conv.id } });
      t.equal(shared.json.delivery, 'posted');
      const carolGet = await fetch(`${host.url}${shared.json.file.url}`, { headers: { authorization: `Bearer ${await login('carol')}` } });
      t.equal(await carolGet.text(), '# hi', 'every participant may download');
      t.match((await carol(`/conversations/${conv.id}/messages`)).json.messages[0].body, /alice sent a file: notes\.md/);
      t.equal((await bob('/files', { method: 'POST', body: { name: 'x.md', data: 'AAAA' } })).status, 400, 'a recipient is required');
    });
  });
}
