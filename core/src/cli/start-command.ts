/**
 * `switchboard start`: load and validate the config (printing every problem
 * and exiting non-zero before anything is opened), boot the host, and stop
 * cleanly on SIGTERM/SIGINT.
 */
import { ConfigError, loadConfig, type SwitchboardConfig } from '../config/index.ts';
import { SwitchboardHost } from '../host/host.ts';

export const EXIT_CONFIG_INVALID = 2;
export const EXIT_START_FAILED = 1;

export async function runStart(options: { config?: string }): Promise<void> {
  let config: SwitchboardConfig;
  try {
    config = loadConfig({ ...(options.config ? { file: options.config } : {}), env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`switchboard: ${err.code}: the configuration has ${err.problems.length} problem(s):\n`);
      for (const p of err.problems) process.stderr.write(`  ${p.path || '(root)'}: expected ${p.expected}, found ${p.found}\n`);
      process.exitCode = EXIT_CONFIG_INVALID;
      return;
    }
    throw err;
  }

  // Signals are heard from the start: one that arrives while the host is
  // still booting (health may already answer) stops it once boot finishes.
  let host: SwitchboardHost | undefined;
  let pendingSignal: string | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (!host) {
      pendingSignal ??= signal;
      return;
    }
    // A second signal while stopping must not kill in-flight work mid-way.
    if (stopping) return;
    stopping = true;
    const running = host;
    running.log.info({ signal }, 'stopping');
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        running.log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    host = await SwitchboardHost.start({
      config,
      onGeneratedAdminPassword: (password) => {
        process.stdout.write(`Bootstrap admin user "admin" created with password: ${password}\nIt is shown only this once; store it now.\n`);
      },
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    process.stderr.write(`switchboard: failed to start: ${code ? `${code}: ` : ''}${(err as Error).message}\n`);
    process.exitCode = EXIT_START_FAILED;
    return;
  }
  process.stdout.write(`switchboard listening on ${host.url}\n`);
  if (pendingSignal) shutdown(pendingSignal);
}
