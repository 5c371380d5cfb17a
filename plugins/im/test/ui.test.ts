/** UI fragments for the web client: rendered per site with that site's config, absent where the plugin is off. */
import t from 'tap';
import { D, imHost, setConfig } from './helpers.ts';

t.test('conversation window, list and notifications fragments', async (t) => {
  const host = await imHost();
  t.teardown(() => host.close());
  await setConfig(host, { maxParticipants: 7 });
  const slot = async (name: string) => (await fetch(`${host.url}/api/sites/${D}/ui/slots/${name}`)).text();
  const window = await slot('web.conversation-window');
  t.match(window, /data-plugin="im" data-slot="web.conversation-window"/);
  t.match(window, `data-im-api="/api/plugins/im/sites/${D}"`);
  t.match(window, 'data-im-max-participants="7"', 'the site config reaches the template');
  t.match(window, 'data-im-max-file-bytes="10485760"', 'the default file limit (10 MiB, sent in parts past 700000 bytes)');
  t.match(await slot('web.conversation-list'), /data-im-action="search-history"/);
  t.match(await slot('web.notifications'), /im-notifications__missed/);

  const off = await host.adminFetch(`/api/admin/sites/${D}/plugins/im`, { method: 'PUT', body: JSON.stringify({ enabled: false }) });
  t.equal(off.status, 200);
  t.equal(await slot('web.conversation-window'), '', 'nothing where the plugin is off');
});
