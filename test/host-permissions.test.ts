// The scoped context refuses what the manifest does not declare, with a coded
// error, and the refused attempt changes nothing: the `prober` fixture tries
// each violation on request, beside the `hello` plugin whose topic, service
// and tables it reaches for.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { createTestHost, sendSipRequest } from '@switchboard/sdk';
import { storageUrlsForTests, withTestDatabase } from '../core/src/storage/index.ts';

const fixture = (path: string) => fileURLToPath(new URL(`./fixtures/plugins/${path}`, import.meta.url));

const ALLOWED = ['own-crud', 'own-raw', 'own-query-builder', 'own-transaction', 'publish-declared', 'own-insert-rows'];
const REFUSED: Record<string, string> = {
  'publish-undeclared': 'CORE_ERR_EVENT_TOPIC_NOT_DECLARED',
  'subscribe-undeclared': 'CORE_ERR_EVENT_TOPIC_NOT_DECLARED',
  'consume-undeclared': 'CORE_ERR_SERVICE_NOT_DECLARED',
  'try-consume-undeclared': 'CORE_ERR_SERVICE_NOT_DECLARED',
  'provide-undeclared': 'CORE_ERR_SERVICE_NOT_DECLARED',
  'fragment-undeclared': 'CORE_ERR_UI_SLOT_NOT_DECLARED',
  'sip-send-undeclared': 'CORE_ERR_SIP_METHOD_NOT_DECLARED',
  'sip-in-dialog-undeclared': 'CORE_ERR_SIP_METHOD_NOT_DECLARED',
  'repository-foreign-entity': 'CORE_ERR_DB_ENTITY_NOT_OWNED',
  'repository-foreign-name': 'CORE_ERR_DB_ENTITY_NOT_OWNED',
  'manager-foreign-repository': 'CORE_ERR_DB_TABLE_NOT_OWNED',
  'manager-foreign-find': 'CORE_ERR_DB_TABLE_NOT_OWNED',
  'raw-foreign': 'CORE_ERR_DB_TABLE_NOT_OWNED',
  'raw-foreign-write': 'CORE_ERR_DB_TABLE_NOT_OWNED',
  'insert-rows-foreign': 'CORE_ERR_DB_TABLE_NOT_OWNED',
  'insert-rows-core': 'CORE_ERR_DB_TABLE_NOT_OWNED',
  'insert-rows-uneven': 'CORE_ERR_DB_ROWS_INVALID',
  'insert-rows-bad-name': 'CORE_ERR_DB_ROWS_INVALID',
  'insert-rows-bad-value': 'CORE_ERR_DB_ROWS_INVALID',
  'raw-core': 'CORE_ERR_DB_TABLE_NOT_OWNED',
  'raw-catalog': 'CORE_ERR_DB_TABLE_NOT_OWNED',
  'query-builder-join-foreign': 'CORE_ERR_DB_TABLE_NOT_OWNED',
  'transaction-raw-foreign': 'CORE_ERR_DB_TABLE_NOT_OWNED',
  'data-source-raw-core': 'CORE_ERR_DB_TABLE_NOT_OWNED',
  'manager-transaction-raw-foreign': 'CORE_ERR_DB_TABLE_NOT_OWNED',
};

interface ProbeResult { ok: boolean; code?: string; message?: string }

for (const storageUrl of storageUrlsForTests()) {
  t.test(`permission violations are coded errors (${storageUrl.split(':')[0]})`, async (t) => {
    await withTestDatabase(storageUrl, async (url) => {
      const th = await createTestHost({ plugins: [fixture('good/hello'), fixture('permissions/prober')], sites: ['perm.test'], storage: url });
      t.teardown(() => th.close());
      const probe = async (name: string): Promise<ProbeResult> => {
        const res = await fetch(`${th.url}/api/plugins/prober/sites/perm.test/probe/${name}`);
        t.equal(res.status, 200, `${name}: the probe route answered`);
        return (await res.json()) as ProbeResult;
      };

      // Something of hello's to protect.
      const sip = await sendSipRequest({ port: th.sipPort, uri: 'sip:bob@perm.test', body: 'keep me' });
      t.equal(sip.status, 200);

      for (const name of ALLOWED) {
        const result = await probe(name);
        t.same(result, { ok: true }, `${name} is allowed`);
      }
      for (const [name, code] of Object.entries(REFUSED)) {
        const result = await probe(name);
        t.equal(result.ok, false, `${name} is refused`);
        t.equal(result.code, code, `${name} is refused with ${code}`);
      }

      const messages = await (await fetch(`${th.url}/api/plugins/hello/sites/perm.test/messages`)).json() as { messages: Array<{ body: string }> };
      t.same(messages.messages.map((m) => m.body), ['keep me'], 'hello\'s rows are untouched by the refused DELETE');
      const greeting = await fetch(`${th.url}/api/plugins/hello/sites/perm.test/greeting`);
      t.equal(greeting.status, 200, 'hello keeps serving');
      const slot = await (await fetch(`${th.url}/api/sites/perm.test/ui/slots/admin.sidebar`)).text();
      t.notMatch(slot, /prober/, 'the undeclared slot got no fragment');
      const list = await (await th.adminFetch('/api/admin/plugins')).json() as { plugins: Array<{ id: string; state: string }> };
      t.equal(list.plugins.find((p) => p.id === 'prober')?.state, 'ready', 'a refused call does not fail the plugin');
    });
  });
}
