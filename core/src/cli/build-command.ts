/** `switchboard build --profile FILE --out DIR`: a trimmed, self-contained build. */
import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { CoreError } from '../errors.ts';
import { buildTrimmed } from '../build/trimmed-build.ts';
import { HOST_VERSION } from '../host/host.ts';

const SOURCE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function addBuildCommand(program: Command): void {
  program
    .command('build')
    .description('write a self-contained build with the core and only the plugins a profile names')
    .requiredOption('--profile <file>', 'build profile, e.g. config/profiles/branch.json')
    .requiredOption('--out <folder>', 'empty or missing folder to write the build into')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { profile: string; out: string; json?: boolean }) => {
      try {
        const result = await buildTrimmed({ sourceRoot: SOURCE_ROOT, profileFile: opts.profile, outDir: opts.out, hostVersion: HOST_VERSION });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        process.stdout.write(`built ${result.profile} into ${result.outDir}\n`);
        for (const p of result.plugins) process.stdout.write(`  ${p.id} ${p.version} (${p.reason})\n`);
        process.stdout.write(`  ${result.packages} packages, ${(result.bytes / 1024 / 1024).toFixed(1)} MiB on disk\n`);
      } catch (err) {
        const code = err instanceof CoreError ? `${err.code}: ` : '';
        process.stderr.write(`switchboard: ${code}${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
