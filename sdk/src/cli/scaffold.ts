/**
 * `switchboard-plugin new ID`: a plugin folder whose own test passes before
 * the author changes anything: a manifest, a definePlugin main with one
 * HTTP route and one SIP MESSAGE handler, and a tap test on createTestHost.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HOST_VERSION } from '@switchboard/core/registry';
import { SdkCliError } from './cli-error.ts';

export interface ScaffoldOptions {
  id: string;
  /** Parent folder; the plugin goes into `<dir>/<id>`. */
  dir: string;
  publisher: string;
}

const ID_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export async function scaffoldPlugin(options: ScaffoldOptions): Promise<string> {
  const { id } = options;
  if (!ID_PATTERN.test(id) || id.length > 40) {
    throw new SdkCliError('SDK_ERR_MANIFEST_INVALID', `id "${id}" must be lowercase kebab-case (a-z, 0-9, single hyphens), starting with a letter`);
  }
  const root = resolve(options.dir, id);
  if (await stat(root).then(() => true, () => false)) throw new SdkCliError('SDK_ERR_TARGET_EXISTS', root);
  const [major, minor] = HOST_VERSION.split('.');
  const manifest = {
    id,
    name: id,
    version: '0.1.0',
    engines: { switchboard: `^${major}.${minor}.0` },
    publisher: options.publisher,
    description: `The ${id} plugin.`,
    permissions: { sip: ['MESSAGE'], http: { prefix: `/api/plugins/${id}` } },
    config: {
      type: 'object',
      additionalProperties: false,
      properties: { greeting: { type: 'string', minLength: 1, default: 'Hello' } },
    },
    main: 'src/index.ts',
    migrations: 'src/migrations',
  };
  await mkdir(join(root, 'src', 'migrations'), { recursive: true });
  await mkdir(join(root, 'test'), { recursive: true });
  await writeFile(join(root, 'plugin.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(join(root, 'package.json'), `${JSON.stringify({
    name: `switchboard-plugin-${id}`,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { test: 'node --import tsx test/plugin.test.ts' },
    peerDependencies: { '@switchboard/sdk': `^${HOST_VERSION}` },
  }, null, 2)}\n`);
  await writeFile(join(root, 'src', 'migrations', '.keep'), '');
  await writeFile(join(root, 'src', 'index.ts'), indexSource());
  await writeFile(join(root, 'test', 'plugin.test.ts'), testSource(id));
  await writeFile(join(root, 'README.md'), readmeSource(id));
  return root;
}

function indexSource(): string {
  return `import { definePlugin } from '@switchboard/sdk';

interface Config {
  greeting: string;
}

export default definePlugin<Config>({
  setup(ctx) {
    ctx.http.get('/sites/:site/hello', async (request) => {
      const site = request.switchboard.site;
      return { greeting: \`\${ctx.config(site).greeting}, \${site}!\` };
    });

    ctx.sip.on('MESSAGE', async (req, res) => {
      ctx.log.info({ site: req.locals.site }, 'MESSAGE received');
      res.send(200);
    });
  },
});
`;
}

function testSource(id: string): string {
  return `import t from 'tap';
import { fileURLToPath } from 'node:url';
import { createTestHost, sendSipRequest } from '@switchboard/sdk';

const pluginDir = fileURLToPath(new URL('..', import.meta.url));

t.test('${id}: HTTP route and SIP MESSAGE on a real host', async (t) => {
  const host = await createTestHost({ plugins: [pluginDir], sites: ['example.test'] });
  t.teardown(() => host.close());

  const res = await fetch(\`\${host.url}/api/plugins/${id}/sites/example.test/hello\`);
  t.equal(res.status, 200);
  t.same(await res.json(), { greeting: 'Hello, example.test!' });

  const reply = await sendSipRequest({ port: host.sipPort, uri: 'sip:someone@example.test', body: 'hi' });
  t.equal(reply.status, 200);
});
`;
}

function readmeSource(id: string): string {
  return `# ${id}

A Switchboard plugin. Everything it uses comes from \`@switchboard/sdk\`.

- \`switchboard-plugin validate\`: check plugin.json and typecheck the code
- \`npm test\` (or \`node --import tsx test/plugin.test.ts\`): boot a real host with this plugin and test it
- \`switchboard-plugin pack\`, \`sign\`, \`publish\`: see sdk/README.md
`;
}
