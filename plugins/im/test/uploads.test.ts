/**
 * Files larger than one request can carry (the host's HTTP body limit is
 * 1 MiB, and base64 inflates by 4/3): uploads in parts up to the per-site
 * limit, a clear refusal above it, resumable by offset, streamed back on
 * download; on SQLite and MariaDB.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { createTestHost } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../../../core/src/storage/index.ts';
import { D, addUser, bodyOf, pluginDir, setConfig, SipUser, webUser } from './helpers.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const storageUrl of storageUrlsForTests()) {
  t.test(`uploads in parts on ${storageUrl.split(':')[0]}`, async (t) => {
    await withTestDatabase(storageUrl, async (storage) => {
      const host = await createTestHost({ plugins: [pluginDir], sites: [D], storage });
      t.teardown(() => host.close());
      for (const u of ['alice', 'bob', 'carol']) await addUser(host, u);
      const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => webUser(host, u)));
      const bobSip = await SipUser.open(host, 'bob');
      t.teardown(() => bobSip.close());
      await bobSip.register();
      const login = async (user: string) => ((await (await fetch(`${host.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, site: D, password: `${user}-secret-pw` }) })).json()) as { token: string }).token;
      const download = async (url: string, user: string) => fetch(`${host.url}${url}`, { headers: { authorization: `Bearer ${await login(user)}` } });

      // Why one request is not enough: the host refuses bodies over 1 MiB before the plugin sees them.
      const tooBigForOneRequest = await alice('/files', { method: 'POST', body: { name: 'big.bin', data: randomBytes(900_000).toString('base64'), to: 'bob' } });
      t.equal(tooBigForOneRequest.status, 413, 'a 900 KB file in one JSON request is over the host body limit');
      const overOneShot = await alice('/files', { method: 'POST', body: { name: 'mid.bin', data: randomBytes(720_000).toString('base64'), to: 'bob' } });
      t.equal(overOneShot.status, 413);
      t.match(overOneShot.json, { code: 'IM_ERR_FILE_TOO_LARGE', message: /go in parts: POST \/uploads/ }, 'told to upload in parts');

      // 5 MiB and a bit, in parts.
      const data = randomBytes(5 * 1024 * 1024 + 12345);
      const started = await alice('/uploads', { method: 'POST', body: { name: 'slides.pdf', contentType: 'application/pdf', size: data.length, to: 'bob' } });
      t.equal(started.status, 201, JSON.stringify(started.json));
      const upload = started.json as { id: string; size: number; received: number; partBytes: number };
      t.match(upload, { size: data.length, received: 0, partBytes: 512 * 1024 });
      const part = (offset: number, bytes = upload.partBytes) => ({ offset, data: data.subarray(offset, offset + bytes).toString('base64') });

      t.equal((await alice(`/files/${upload.id}`)).status, 404, 'not downloadable while uploading');
      t.match((await alice(`/uploads/${upload.id}/complete`, { method: 'POST' })).json, { code: 'IM_ERR_UPLOAD_INCOMPLETE', message: /0 of \d+ bytes/ });
      t.equal((await bob(`/uploads/${upload.id}`, { method: 'PUT', body: part(0) })).json.code, 'IM_ERR_UPLOAD_NOT_FOUND', 'only the owner adds parts');
      t.match((await alice(`/uploads/${upload.id}`, { method: 'PUT', body: part(1000) })).json, { code: 'IM_ERR_UPLOAD_OFFSET', message: /stands at byte 0/ });
      t.equal((await alice(`/uploads/${upload.id}`, { method: 'PUT', body: { offset: 0, data: randomBytes(upload.partBytes + 3).toString('base64') } })).status, 400, 'a part over 512 KiB is refused');

      let offset = 0;
      let parts = 0;
      while (offset < data.length) {
        const r = await alice(`/uploads/${upload.id}`, { method: 'PUT', body: part(offset) });
        t.equal(r.status, 200, `part at ${offset}: ${JSON.stringify(r.json).slice(0, 200)}`);
        offset = r.json.received;
        parts++;
        if (parts === 3) {
          // A client that lost the answer retries: refused with where to resume.
          const again = await alice(`/uploads/${upload.id}`, { method: 'PUT', body: part(offset - upload.partBytes) });
          t.equal(again.json.code, 'IM_ERR_UPLOAD_OFFSET', 'a repeated part is not stored twice');
          t.equal((await alice(`/uploads/${upload.id}`)).json.received, offset, 'the state says where to resume');
        }
      }
      t.equal(parts, 11, 'eleven parts');
      const done = await alice(`/uploads/${upload.id}/complete`, { method: 'POST' });
      t.equal(done.status, 201, JSON.stringify(done.json));
      t.match(done.json, { delivery: 'delivered', file: { id: upload.id, name: 'slides.pdf', size: data.length, contentType: 'application/pdf' } });
      t.equal(bodyOf(await bobSip.receive()), `alice sent a file: slides.pdf (${data.length} bytes) ${done.json.file.url}`, 'bob gets the link');
      for (const who of ['bob', 'alice']) {
        const got = await download(done.json.file.url, who);
        t.equal(got.status, 200);
        t.equal(got.headers.get('content-length'), String(data.length));
        t.equal(sha(Buffer.from(await got.arrayBuffer())), sha(data), `${who} downloads the same ${data.length} bytes`);
      }
      t.equal((await download(done.json.file.url, 'carol')).status, 404, 'not shared with carol');
      t.equal((await alice(`/uploads/${upload.id}/complete`, { method: 'POST' })).json.code, 'IM_ERR_UPLOAD_NOT_FOUND', 'completed once');

      // Above the site limit: refused before a byte is sent, with the limit in the message.
      const huge = await alice('/uploads', { method: 'POST', body: { name: 'movie.mp4', size: 11 * 1024 * 1024, to: 'bob' } });
      t.equal(huge.status, 413);
      t.match(huge.json, { code: 'IM_ERR_FILE_TOO_LARGE', message: /11534336 bytes; this site allows at most 10485760 bytes/ });
      await setConfig(host, { files: { maxBytes: 2 * 1024 * 1024 } });
      t.match((await alice('/uploads', { method: 'POST', body: { name: 'x.bin', size: 2 * 1024 * 1024 + 1, to: 'bob' } })).json, { code: 'IM_ERR_FILE_TOO_LARGE', message: /at most 2097152 bytes/ }, 'the per-site limit');
      t.equal((await alice('/uploads', { method: 'POST', body: { name: 'x.exe', size: 10, to: 'bob' } })).json.code, 'IM_ERR_FILE_BLOCKED');
      t.equal((await alice('/uploads', { method: 'POST', body: { name: 'x.bin', size: 10, to: 'nobody' } })).json.code, 'IM_ERR_UNKNOWN_USER');

      // Sending more than announced, a conversation target, cancelling.
      const conv = (await alice('/conversations', { method: 'POST', body: { participants: ['bob', 'carol'] } })).json as { id: string };
      const small = randomBytes(1_500_000);
      const u2 = (await alice('/uploads', { method: 'POST', body: { name: 'notes.bin', size: small.length - 10, conversation: conv.id } })).json as { id: string };
      const sent: number[] = [];
      for (let at = 0; at < small.length; at += 512 * 1024) {
        sent.push((await alice(`/uploads/${u2.id}`, { method: 'PUT', body: { offset: at, data: small.subarray(at, at + 512 * 1024).toString('base64') } })).status);
      }
      t.same(sent, [200, 200, 413], 'bytes past the announced size are refused');
      t.equal((await alice(`/uploads/${u2.id}`, { method: 'DELETE' })).status, 204, 'cancelled');
      t.equal((await alice(`/uploads/${u2.id}`)).status, 404, 'and gone');

      const u3 = (await alice('/uploads', { method: 'POST', body: { name: 'notes.bin', size: small.length, conversation: conv.id } })).json as { id: string };
      for (let at = 0; at < small.length; at += 512 * 1024) {
        t.equal((await alice(`/uploads/${u3.id}`, { method: 'PUT', body: { offset: at, data: small.subarray(at, at + 512 * 1024).toString('base64') } })).status, 200);
      }
      const posted = await alice(`/uploads/${u3.id}/complete`, { method: 'POST' });
      t.equal(posted.json.delivery, 'posted');
      const carolGot = await download(posted.json.file.url, 'carol');
      t.equal(sha(Buffer.from(await carolGot.arrayBuffer())), sha(small), 'every participant downloads it');
      t.match((await carol(`/conversations/${conv.id}/messages`)).json.messages.at(-1).body, /alice sent a file: notes\.bin \(1500000 bytes\)/);
    });
  });
}
