/**
 * What the admin subcommands (sites, users) share: the connection options
 * to the running host, an AdminClient from them, and turning API errors into
 * one readable line and exit code 1.
 */
import { Option, type Command } from 'commander';
import { AdminApiError, AdminClient } from './admin-client.ts';

export interface ConnectionOptions {
  url: string;
  user: string;
  password?: string;
}

export function withConnection(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', 'base URL of the running host').default('http://127.0.0.1:8080'))
    .addOption(new Option('--user <name>', 'admin user (a host admin, or a site admin as user@site)').default('admin'))
    .addOption(new Option('--password <password>', 'admin password').env('SWITCHBOARD_ADMIN_PASSWORD'));
}

export function clientOf(opts: ConnectionOptions): AdminClient {
  return new AdminClient({ url: opts.url, user: opts.user, ...(opts.password ? { password: opts.password } : {}) });
}

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Errors become one readable line (plus details) and exit code 1. */
export function run<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      if (!(err instanceof AdminApiError)) throw err;
      process.stderr.write(`switchboard: ${err.code}: ${err.message}\n`);
      if (err.details !== undefined) process.stderr.write(`${JSON.stringify(err.details, null, 2)}\n`);
      process.exitCode = 1;
    }
  };
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function sitePath(site: string, rest = ''): string {
  return `/api/admin/sites/${encodeURIComponent(site.toLowerCase())}${rest}`;
}
