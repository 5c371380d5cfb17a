/** The `switchboard` command line. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

// Read here rather than imported from the host so that commands which only
// talk to the admin API do not load the whole host.
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Every command but `start`, each loaded only when the command line is not
 * `start`: the host's cold start must not pay for the SIP engine CLI, the
 * registry or the build tools before its HTTP API is up (bench/startup.ts).
 */
const OTHER_COMMANDS: Array<() => Promise<(program: Command) => void>> = [
  async () => (await import('./plugins-command.ts')).addPluginsCommand,
  async () => (await import('./registry-command.ts')).addRegistryCommands,
  async () => (await import('./build-command.ts')).addBuildCommand,
  async () => (await import('./sites-command.ts')).addSitesCommand,
  async () => (await import('./users-command.ts')).addUsersCommand,
  async () => (await import('./sip-engine-command.ts')).addSipEngineCommand,
];

/** The program for `argv`: all commands, or only `start` when that is the command asked for. */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('switchboard').description('Switchboard communications host').version(VERSION);
  program
    .command('start')
    .description('start the host')
    .option('-c, --config <file>', 'JSON config file (merged over config/default.json, under SWITCHBOARD_* variables)')
    .action(async (opts: { config?: string }) => (await import('./start-command.ts')).runStart(opts));
  if (argv[2] !== 'start') {
    for (const load of OTHER_COMMANDS) (await load())(program);
  }
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await (await buildProgram(argv)).parseAsync(argv);
}
