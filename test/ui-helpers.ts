// Shared by the UI tests (test/ui-*.test.ts, test/e2e-*.test.ts): fixture plugins written to a temporary folder.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Fixtures live in a temporary folder, outside node_modules' reach: they import the SDK by its path.
const SDK = JSON.stringify(fileURLToPath(new URL('../sdk/src/index.ts', import.meta.url)));

export interface UiFixtures {
  /** Plugin folders to hand to createTestHost. */
  plugins: string[];
  shell: string;
  extra: string;
  broken: string;
  /** Not in `plugins`: draws an inline script and an inline style, which the CSP must block. */
  inline: string;
  remove(): Promise<void>;
}

async function write(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

const manifest = (id: string, extra: Record<string, unknown>) => JSON.stringify({
  id, name: id, version: '1.0.0', engines: { switchboard: '^0.1.0' }, publisher: 'Switchboard tests',
  description: 'UI test fixture', ...extra,
});

/**
 * - `uishell`: renders whole pages with ctx.ui.page (GET /api/plugins/uishell/sites/:site/page?layout=),
 *   draws into `sidebar` and `presence.contact-list`, ships assets in public/ (plus a symlink leading out of it).
 * - `uiextra`: only fragments, in `main`, an unplaced slot `uiextra.widget` and `plain.main`, and with a config schema.
 * - `uibroken`: fails in setup; has assets that must never be served.
 */
export async function makeUiFixtures(): Promise<UiFixtures> {
  const root = await mkdtemp(join(tmpdir(), 'sb-ui-fixtures-'));
  const shell = join(root, 'uishell');
  await write(join(shell, 'plugin.json'), manifest('uishell', {
    permissions: { http: { prefix: '/api/plugins/uishell' } },
    ui: { fragments: { sidebar: 'ui/side.hbs', 'presence.contact-list': 'ui/contacts.hbs' }, assets: 'public' },
  }));
  await write(join(shell, 'ui/side.hbs'), '<p class="uishell-side">Hello {{user.name}} on {{site}}</p>');
  await write(join(shell, 'ui/contacts.hbs'), '<ul class="uishell-contacts"><li>contact</li></ul>');
  await write(join(shell, 'public/app.js'), 'document.documentElement.dataset.uishell = "ran";\n');
  await write(join(shell, 'public/app.css'), '.uishell-side { font-weight: bold; }\n');
  await write(join(shell, 'public/img/dot.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n');
  await write(join(shell, 'public/.secret'), 'hidden\n');
  await write(join(shell, 'secret.txt'), 'outside the assets folder\n');
  await symlink(join(shell, 'secret.txt'), join(shell, 'public/leak.txt'));
  await write(join(shell, 'src/index.ts'), `import { definePlugin } from ${SDK};
export default definePlugin({
  setup(ctx) {
    ctx.ui.fragment('sidebar', 'ui/side.hbs');
    ctx.ui.fragment('presence.contact-list', 'ui/contacts.hbs');
    ctx.http.route({
      method: 'GET',
      url: '/sites/:site/page',
      auth: 'none',
      handler: async (request, reply) => {
        const q = request.query as { layout?: string; script?: string };
        const html = ctx.ui.page(request.switchboard.site, {
          title: 'Demo <page>',
          layout: q.layout === 'plain' ? 'plain' : 'app',
          scripts: [q.script ?? '/assets/plugins/uishell/app.js'],
          styles: ['/assets/plugins/uishell/app.css'],
          data: { user: { name: '<i>Al</i>' } },
          main: '<p id="uishell-main">main content</p>',
        });
        return reply.type('text/html; charset=utf-8').send(html);
      },
    });
  },
});
`);
  const extra = join(root, 'uiextra');
  await write(join(extra, 'plugin.json'), manifest('uiextra', {
    ui: { fragments: { main: 'ui/main.hbs', 'uiextra.widget': 'ui/widget.hbs', 'plain.main': 'ui/plain.hbs' } },
    config: {
      type: 'object',
      additionalProperties: false,
      properties: {
        greeting: { type: 'string', minLength: 2, maxLength: 40, default: 'Hi', title: 'Greeting' },
        limit: { type: 'integer', minimum: 1, maximum: 10, default: 3, title: 'Limit' },
        mode: { type: 'string', enum: ['quiet', 'loud'], default: 'quiet' },
        loud: { type: 'boolean', default: false },
        tags: { type: 'array', items: { type: 'string', pattern: '^[a-z]+$' }, default: [] },
        nested: { type: 'object', additionalProperties: false, default: {}, properties: { depth: { type: 'integer', minimum: 0, maximum: 5, default: 1 } } },
      },
    },
  }));
  await write(join(extra, 'ui/main.hbs'), '<p class="uiextra-main">{{config.greeting}} from extra</p>');
  await write(join(extra, 'ui/widget.hbs'), '<p class="uiextra-widget">widget</p>');
  await write(join(extra, 'ui/plain.hbs'), '<p class="uiextra-plain">on plain pages</p>');
  await write(join(extra, 'src/index.ts'), `import { definePlugin } from ${SDK};
export default definePlugin({
  setup(ctx) {
    ctx.ui.fragment('main', 'ui/main.hbs');
    ctx.ui.fragment('uiextra.widget', 'ui/widget.hbs');
    ctx.ui.fragment('plain.main', 'ui/plain.hbs');
  },
});
`);
  const broken = join(root, 'uibroken');
  await write(join(broken, 'plugin.json'), manifest('uibroken', { ui: { assets: 'public' } }));
  await write(join(broken, 'public/app.js'), 'export {};\n');
  await write(join(broken, 'src/index.ts'), `import { definePlugin } from ${SDK};
export default definePlugin({
  setup() {
    throw new Error('uibroken fails on purpose');
  },
});
`);
  const inline = join(root, 'uiinline');
  await write(join(inline, 'plugin.json'), manifest('uiinline', { ui: { fragments: { main: 'ui/main.hbs' } } }));
  await write(join(inline, 'ui/main.hbs'), '<p id="uiinline" style="color: rgb(1, 2, 3)">inline</p><script>document.documentElement.dataset.inline = "ran";</script>');
  await write(join(inline, 'src/index.ts'), `import { definePlugin } from ${SDK};
export default definePlugin({
  setup(ctx) {
    ctx.ui.fragment('main', 'ui/main.hbs');
  },
});
`);
  return { plugins: [shell, extra, broken], shell, extra, broken, inline, remove: () => rm(root, { recursive: true, force: true }) };
}

/** GET with the exact path on the wire (fetch would normalise `..` away). */
export async function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { request } = await import('node:http');
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}
