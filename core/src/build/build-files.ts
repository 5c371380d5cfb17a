/** The files a trimmed build carries besides code: its setup check and README. */
import type { BuildProfile } from './build-profile.ts';
import type { SelectedPlugin } from './plugin-selection.ts';

/**
 * `npm run setup`: everything is already in the folder, so "install" means
 * checking that this machine can run it (Node version, the native SQLite
 * module built for this Node) and creating the data folder.
 */
export function setupScript(): string {
  return `// npm run setup: check that this machine can run the build; nothing is downloaded.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  console.error(\`Node \${process.versions.node} is too old; install Node 20 or newer\`);
  process.exit(1);
}
try {
  const Database = require('better-sqlite3');
  new Database(':memory:').close();
} catch (err) {
  console.error(\`the bundled SQLite module does not load on this machine (\${err.message});\\n\` +
    'run "npm rebuild better-sqlite3" here (needs a C++ toolchain) or build on a machine like this one');
  process.exit(1);
}
mkdirSync('data', { recursive: true });
console.log('ready: npm start');
`;
}

export function buildReadme(profile: BuildProfile, selected: SelectedPlugin[]): string {
  const lines = selected.map((p) => `- \`${p.id}\` ${p.manifest.version}${p.reason === 'named' ? '' : ` (needed by \`${p.reason.neededBy}\`)`}`);
  return `# Switchboard — ${profile.name} build

${profile.description ?? ''}

A trimmed Switchboard: the core, and only these plugins:

${lines.join('\n')}

Everything it needs is in this folder, node_modules included (copied from
the build machine's installed tree, production packages only), so no
network is needed. Two commands:

    npm run setup    # checks Node >= 20 and the native SQLite module, creates data/
    npm start        # starts the host (add: -- --config site.json)

Config is config/default.json (the core defaults with the "${profile.name}"
profile's settings merged in), then the --config file, then SWITCHBOARD_*
variables (see config/schema.json). The SQLite file and installed plugins
live under data/.

Made by \`switchboard build --profile <profile> --out <folder>\`.
`;
}
