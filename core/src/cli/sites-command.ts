/** `switchboard sites list|add|remove` through the running host's admin API. */
import type { Command } from 'commander';
import type { SiteView } from '../identity/site-catalog.ts';
import { clientOf, print, run, sitePath, withConnection, type ConnectionOptions } from './admin-command-support.ts';

export function addSitesCommand(program: Command): void {
  const sites = program.command('sites').description('manage sites (SIP domains) of a running host');

  withConnection(sites.command('list').description('list sites'))
    .option('--json', 'print JSON')
    .action(run(async (opts: ConnectionOptions & { json?: boolean }) => {
      const { sites: list } = await clientOf(opts).request<{ sites: SiteView[] }>('GET', '/api/admin/sites');
      if (opts.json) return print(JSON.stringify(list, null, 2));
      for (const s of list) print(`${s.domain}\t${s.name ?? '-'}\t${s.users} user(s)${s.fromConfig ? '\t(config)' : ''}`);
    }));

  withConnection(sites.command('add <domain>').description('add a site'))
    .option('--name <name>', 'display name')
    .option('--theme <theme>', 'theme name')
    .action(run(async (domain: string, opts: ConnectionOptions & { name?: string; theme?: string }) => {
      const body = { domain, ...(opts.name ? { name: opts.name } : {}), ...(opts.theme ? { theme: opts.theme } : {}) };
      const { site } = await clientOf(opts).request<{ site: SiteView }>('POST', '/api/admin/sites', body);
      print(`site ${site.domain} added`);
    }));

  withConnection(sites.command('remove <domain>').description('remove a site with its users (its plugins must be disabled first)'))
    .action(run(async (domain: string, opts: ConnectionOptions) => {
      await clientOf(opts).request('DELETE', sitePath(domain));
      print(`site ${domain.toLowerCase()} removed`);
    }));
}
