/**
 * `switchboard users list|add|remove|passwd|import --site S` through the
 * running host's admin API. Import reads the CSV here, checks each line
 * with the same rules as the API, then creates users one request (one
 * transaction) per line with a progress bar, and prints a per-line report:
 * `line N: field: reason`.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { parseUserCsv, type ImportProblem } from '../identity/csv-import.ts';
import type { UserView } from '../identity/user-directory.ts';
import { CoreError } from '../errors.ts';
import { AdminApiError } from './admin-client.ts';
import { clientOf, collect, print, run, sitePath, withConnection, type ConnectionOptions } from './admin-command-support.ts';

type SiteOptions = ConnectionOptions & { site: string };

export function addUsersCommand(program: Command): void {
  const users = program.command('users').description('manage the users of a site on a running host');
  const withSite = (cmd: Command) => withConnection(cmd).requiredOption('--site <domain>', 'the site');

  withSite(users.command('list').description('list users (or search with --q)'))
    .option('--q <text>', 'search by name, alias or number')
    .option('--json', 'print JSON')
    .action(run(async (opts: SiteOptions & { q?: string; json?: boolean }) => {
      const query = opts.q ? `?q=${encodeURIComponent(opts.q)}` : '';
      const { users: list } = await clientOf(opts).request<{ users: UserView[] }>('GET', sitePath(opts.site, `/users${query}`));
      if (opts.json) return print(JSON.stringify(list, null, 2));
      for (const u of list) {
        print([u.username, u.displayName, u.phone ?? '-', u.aliases.join(',') || '-', u.role, u.enabled ? 'enabled' : 'disabled'].join('\t'));
      }
    }));

  withSite(users.command('add <username>').description('add a user'))
    .option('--user-password <password>', 'the new user\'s password (else read from stdin)')
    .option('--display-name <name>', 'display name')
    .option('--alias <alias>', 'alias (repeatable)', collect, [] as string[])
    .option('--phone <number>', 'phone number')
    .option('--email <address>', 'e-mail')
    .option('--group <group>', 'group (repeatable)', collect, [] as string[])
    .option('--role <role>', 'user or site-admin')
    .action(run(async (username: string, opts: SiteOptions & {
      userPassword?: string; displayName?: string; alias: string[]; phone?: string; email?: string; group: string[]; role?: string;
    }) => {
      const password = opts.userPassword ?? await readLine('password for the new user: ');
      const body = {
        username,
        password,
        ...(opts.displayName ? { displayName: opts.displayName } : {}),
        ...(opts.alias.length ? { aliases: opts.alias } : {}),
        ...(opts.phone ? { phone: opts.phone } : {}),
        ...(opts.email ? { email: opts.email } : {}),
        ...(opts.group.length ? { groups: opts.group } : {}),
        ...(opts.role ? { role: opts.role } : {}),
      };
      const { user } = await clientOf(opts).request<{ user: UserView }>('POST', sitePath(opts.site, '/users'), body);
      print(`user ${user.sipUri} added`);
    }));

  withSite(users.command('remove <username>').description('remove a user'))
    .action(run(async (username: string, opts: SiteOptions) => {
      await clientOf(opts).request('DELETE', sitePath(opts.site, `/users/${encodeURIComponent(username)}`));
      print(`user ${username}@${opts.site.toLowerCase()} removed`);
    }));

  withSite(users.command('passwd <username>').description('set a user\'s password (admin reset)'))
    .option('--user-password <password>', 'the new password (else read from stdin)')
    .action(run(async (username: string, opts: SiteOptions & { userPassword?: string }) => {
      const password = opts.userPassword ?? await readLine('new password: ');
      await clientOf(opts).request('POST', sitePath(opts.site, `/users/${encodeURIComponent(username)}/password`), { password });
      print(`password of ${username}@${opts.site.toLowerCase()} set`);
    }));

  withSite(users.command('import <file>').description('create users from a CSV file (header: username,password,displayName,aliases,phone,email,groups,role,enabled)'))
    .option('--json', 'print the report as JSON')
    .action(run(async (file: string, opts: SiteOptions & { json?: boolean }) => importFile(file, opts)));
}

async function importFile(file: string, opts: SiteOptions & { json?: boolean }): Promise<void> {
  let records;
  try {
    records = parseUserCsv(await readFile(file, 'utf8'));
  } catch (err) {
    if (err instanceof CoreError) throw new AdminApiError(0, err.code, err.message);
    throw new AdminApiError(0, 'CLI_FILE_UNREADABLE', `cannot read ${file}: ${(err as Error).message}`);
  }
  const api = clientOf(opts);
  const bar = new cliProgress.SingleBar({ format: 'importing [{bar}] {value}/{total} lines, {failed} failed', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
  const problems: ImportProblem[] = [];
  let created = 0;
  bar.start(records.length, 0, { failed: 0 });
  try {
    for (const record of records) {
      if (record.problem) problems.push(record.problem);
      else if (record.input) {
        try {
          await api.request('POST', sitePath(opts.site, '/users'), record.input);
          created += 1;
        } catch (err) {
          // Anything but a refusal of this one line (host down, no rights, no site) stops the import.
          if (!(err instanceof AdminApiError) || (err.status !== 400 && err.status !== 409)) throw err;
          problems.push({ line: record.line, field: fieldOf(err), reason: err.message, code: err.code });
        }
      }
      bar.increment(1, { failed: problems.length });
    }
  } finally {
    bar.stop();
  }
  const report = { created, failed: problems.length, problems };
  if (opts.json) print(JSON.stringify(report, null, 2));
  else {
    for (const p of problems) print(`line ${p.line}: ${p.field || '-'}: ${p.reason}`);
    print(`${created} created, ${problems.length} failed`);
  }
  if (problems.length > 0) process.exitCode = 1;
}

function fieldOf(err: AdminApiError): string {
  const details = err.details as { field?: string } | Array<{ instancePath?: string; params?: { missingProperty?: string } }> | undefined;
  if (Array.isArray(details)) {
    const first = details[0];
    return first?.params?.missingProperty ?? (first?.instancePath ?? '').replace(/^\//, '').split('/')[0] ?? '';
  }
  return (details?.field ?? '').split('/')[0] ?? '';
}

/** One line from stdin (a pipe or a terminal). */
async function readLine(prompt: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(prompt);
  const rl = createInterface({ input: process.stdin });
  try {
    for await (const line of rl) return line;
  } finally {
    rl.close();
  }
  throw new AdminApiError(0, 'CLI_NO_PASSWORD', 'no password given: pass --user-password or write it to stdin');
}
