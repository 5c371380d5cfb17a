/**
 * `switchboard plugins available|install|upgrade|uninstall`: the registry
 * through the running host's admin API, so the CLI gets exactly the checks
 * the API makes (integrity, signature, dependencies, admin role).
 */
import { Option, type Command } from 'commander';
import { print, run, clientOf } from './admin-command-support.ts';

interface ConnectionOptions {
  url: string;
  user: string;
  password?: string;
}

interface TrustOptions {
  allowUnsigned?: boolean;
  reason?: string;
}

export function addRegistryCommands(program: Command): void {
  const plugins = program.commands.find((c) => c.name() === 'plugins') ?? program.command('plugins');
  const withConnection = (cmd: Command) => cmd
    .addOption(new Option('--url <url>', 'base URL of the running host').default('http://127.0.0.1:8080'))
    .addOption(new Option('--user <name>', 'admin user').default('admin'))
    .addOption(new Option('--password <password>', 'admin password').env('SWITCHBOARD_ADMIN_PASSWORD'));
  const withTrust = (cmd: Command) => cmd
    .option('--allow-unsigned', 'accept this plugin without a trusted signature (recorded with --reason)')
    .option('--reason <text>', 'why the override is acceptable (required with --allow-unsigned)');

  withConnection(plugins.command('available').description('versions the configured registries offer for this host'))
    .option('--json', 'print JSON')
    .action(run(async (opts: ConnectionOptions & { json?: boolean }) => {
      const listing = await clientOf(opts).request<{ plugins: Array<Record<string, unknown>>; registries: Array<{ source: string; error?: string }> }>('GET', '/api/admin/registry');
      if (opts.json) return print(JSON.stringify(listing, null, 2));
      for (const r of listing.registries) if (r.error) process.stderr.write(`registry ${r.source}: ${r.error}\n`);
      for (const p of listing.plugins) {
        const installed = p.installedVersion ? `installed ${String(p.installedVersion)}` : '';
        print(`${String(p.id)}\t${String(p.version)}\t${p.signed ? `signed ${String(p.keyId)}` : 'unsigned'}\t${installed}`);
      }
    }));

  // The version is positional: --version belongs to the root program (switchboard --version).
  withTrust(withConnection(plugins.command('install <id> <version>').description('install a plugin version from the registries')))
    .action(run(async (id: string, version: string, opts: ConnectionOptions & TrustOptions) => {
      const outcome = await clientOf(opts).request<Record<string, unknown>>('POST', '/api/admin/plugins/install', { id, version, ...trust(opts) });
      print(describe('installed', outcome));
    }));

  withTrust(withConnection(plugins.command('upgrade <id> <version>').description('upgrade an installed plugin; the previous version is restored if it fails')))
    .action(run(async (id: string, version: string, opts: ConnectionOptions & TrustOptions) => {
      const outcome = await clientOf(opts).request<Record<string, unknown>>('POST', `/api/admin/plugins/${encodeURIComponent(id)}/upgrade`, { version, ...trust(opts) });
      print(describe('upgraded', outcome));
    }));

  withConnection(plugins.command('uninstall <id>').description('uninstall a plugin (its data is kept unless --purge)'))
    .option('--purge', 'also drop the plugin\'s tables and settings')
    .action(run(async (id: string, opts: ConnectionOptions & { purge?: boolean }) => {
      const outcome = await clientOf(opts).request<{ dropped: string[] }>('DELETE', `/api/admin/plugins/${encodeURIComponent(id)}${opts.purge ? '?purge=true' : ''}`);
      print(`${id} uninstalled${opts.purge ? `; dropped ${outcome.dropped.join(', ') || 'no tables'}` : '; data kept'}`);
    }));
}

function trust(opts: TrustOptions): TrustOptions {
  return { ...(opts.allowUnsigned ? { allowUnsigned: true } : {}), ...(opts.reason ? { reason: opts.reason } : {}) };
}

function describe(verb: string, o: Record<string, unknown>): string {
  const restart = o.restartRequired ? ' (restart the host to run it)' : '';
  return `${String(o.id)} ${String(o.version)} ${verb}, ${String(o.trust)}, state ${String(o.state)}${o.error ? ` (${String(o.error)})` : ''}${restart}`;
}



