/**
 * `switchboard plugins …`: list, enable, disable and configure plugins per
 * site through the running host's admin API.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { PluginView } from '../http/admin-service.ts';
import { AdminApiError } from './admin-client.ts';
import { print, run, clientOf } from './admin-command-support.ts';

interface ConnectionOptions {
  url: string;
  user: string;
  password?: string;
}

export function addPluginsCommand(program: Command): void {
  const plugins = program.command('plugins').description('manage plugins of a running host through its admin API');
  const withConnection = (cmd: Command) => cmd
    .addOption(new Option('--url <url>', 'base URL of the running host').default('http://127.0.0.1:8080'))
    .addOption(new Option('--user <name>', 'admin user').default('admin'))
    .addOption(new Option('--password <password>', 'admin password').env('SWITCHBOARD_ADMIN_PASSWORD'));

  withConnection(plugins.command('list').description('list plugins with state and per-site settings'))
    .option('--json', 'print JSON')
    .action(run(async (opts: ConnectionOptions & { json?: boolean }) => {
      const { plugins: list } = await clientOf(opts).request<{ plugins: PluginView[] }>('GET', '/api/admin/plugins');
      if (opts.json) return print(JSON.stringify(list, null, 2));
      for (const p of list) {
        const on = Object.entries(p.sites).filter(([, s]) => s.enabled).map(([d]) => d);
        print(`${p.id}\t${p.version ?? '-'}\t${p.state}\t${on.length ? `on: ${on.join(',')}` : 'off everywhere'}${p.error ? `\t${p.error}` : ''}`);
      }
    }));

  for (const verb of ['enable', 'disable'] as const) {
    withConnection(plugins.command(`${verb} <id>`).description(`${verb} a plugin for one site`))
      .requiredOption('--site <domain>', 'the site')
      .action(run(async (id: string, opts: ConnectionOptions & { site: string }) => {
        await clientOf(opts).request('PUT', sitePluginPath(opts.site, id), { enabled: verb === 'enable' });
        print(`${id} ${verb}d for ${opts.site}`);
      }));
  }

  withConnection(plugins.command('config <id>').description('change a plugin\'s config for one site'))
    .requiredOption('--site <domain>', 'the site')
    .option('--set <key=value>', 'set a key (dots nest; JSON values parsed); repeatable', collect, [] as string[])
    .action(run(async (id: string, opts: ConnectionOptions & { site: string; set: string[] }) => {
      const api = clientOf(opts);
      const { plugins: list } = await api.request<{ plugins: PluginView[] }>('GET', '/api/admin/plugins');
      const current = list.find((p) => p.id === id)?.sites[opts.site.toLowerCase()]?.config ?? {};
      const config = structuredClone(current);
      for (const assignment of opts.set) applyAssignment(config, assignment);
      const { plugin } = await api.request<{ plugin: PluginView }>('PUT', sitePluginPath(opts.site, id), { config });
      print(JSON.stringify(plugin.sites[opts.site.toLowerCase()]?.config ?? config));
    }));
}


function sitePluginPath(site: string, id: string): string {
  return `/api/admin/sites/${encodeURIComponent(site)}/plugins/${encodeURIComponent(id)}`;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function applyAssignment(target: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new AdminApiError(0, 'CLI_BAD_ASSIGNMENT', `--set expects key=value, got "${assignment}"`);
  const path = assignment.slice(0, eq).split('.');
  const raw = assignment.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}


