// The subscription journal (written behind, once a second): a new subscription is stored
// with its expiry, an in-dialog refresh rewrites only the expiry, an unsubscribe removes it.
// Read back from the SQLite file itself.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { header, presenceHost, statusOf, tagOf, Ua } from './helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The part of better-sqlite3 (the host's SQLite driver; no type declarations installed) this test uses. */
interface ReadOnlyDb {
  prepare(sql: string): { all(...params: unknown[]): unknown[] };
  close(): void;
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string, opts: { readonly: boolean; fileMustExist: boolean }) => ReadOnlyDb;

t.test('journal: stored on subscribe, expiry rewritten on refresh, removed on unsubscribe', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'presence-journal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'host.db');
  const host = await presenceHost(['alice', 'bob'], {}, `sqlite:${file}`);
  t.teardown(() => host.close());
  const bob = await Ua.open('bob', host.sipPort);
  t.teardown(() => bob.close());
  const db = new Database(file, { readonly: true, fileMustExist: true });
  t.teardown(() => db.close());
  const rows = (callId: string) => db.prepare('SELECT dialog, call_id AS callId, expires_at AS expiresAt, remote_party AS remoteParty, local_party AS localParty FROM presence_subscriptions WHERE call_id = ?')
    .all(callId) as Array<{ dialog: string; callId: string; expiresAt: number; remoteParty: string; localParty: string }>;

  const callId = `journal-${Date.now()}`;
  const ok = await bob.send('SUBSCRIBE', 'alice', { callId, fromTag: 'jft', headers: ['Event: presence', 'Expires: 600'] });
  t.equal(statusOf(ok), 202);
  const ourTag = tagOf(header(ok, '(?:to|t)'));
  const contact = /<([^>]+)>/.exec(header(ok, '(?:contact|m)') ?? '')?.[1];
  await bob.nextNotify((m) => m.includes(callId));
  await sleep(1600);
  const stored = rows(callId);
  t.equal(stored.length, 1, 'stored');
  const now = Date.now() / 1000;
  t.ok(Math.abs(stored[0]!.expiresAt - (now + 600)) < 5, `expiry about now + 600 s (${Math.round(stored[0]!.expiresAt - now)})`);
  t.match(stored[0]!.localParty, new RegExp(`;tag=${ourTag}$`), 'our tag stored');
  t.match(stored[0]!.remoteParty, /;tag=jft$/, 'the subscriber\'s From stored');

  const refresh = await bob.send('SUBSCRIBE', 'alice', { ruri: contact, callId, fromTag: 'jft', toTag: ourTag, cseq: 2, headers: ['Event: presence', 'Expires: 1800'] });
  t.equal(statusOf(refresh), 200);
  await sleep(1600);
  const refreshed = rows(callId);
  t.equal(refreshed.length, 1, 'still one row');
  t.ok(Math.abs(refreshed[0]!.expiresAt - (Date.now() / 1000 + 1800)) < 5, 'expiry rewritten to now + 1800 s');
  t.equal(refreshed[0]!.dialog, stored[0]!.dialog, 'same dialog');

  const unsub = await bob.send('SUBSCRIBE', 'alice', { ruri: contact, callId, fromTag: 'jft', toTag: ourTag, cseq: 3, headers: ['Event: presence', 'Expires: 0'] });
  t.equal(statusOf(unsub), 200);
  await sleep(1600);
  t.equal(rows(callId).length, 0, 'removed after the unsubscribe');
});
