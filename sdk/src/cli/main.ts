/**
 * The `switchboard-plugin` command line: new, validate, pack, keygen, sign,
 * publish. Each failure prints `switchboard-plugin: CODE: message` (plus
 * details) and exits 1.
 */
import { Command } from 'commander';
import { SdkCliError } from './cli-error.ts';
import { packPlugin } from './pack.ts';
import { publishTarball } from './publish.ts';
import { scaffoldPlugin } from './scaffold.ts';
import { keygen, signTarball } from './signing-commands.ts';
import { validatePlugin } from './validate.ts';

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function run<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      const code = err instanceof SdkCliError ? err.code : (err as { code?: string }).code;
      process.stderr.write(`switchboard-plugin: ${code ? `${code}: ` : ''}${(err as Error).message}\n`);
      const details = (err as { details?: { errors?: unknown } }).details;
      if (details?.errors && Array.isArray(details.errors)) for (const e of details.errors) process.stderr.write(`  ${String(e)}\n`);
      process.exitCode = 1;
    }
  };
}

export function buildProgram(): Command {
  const program = new Command('switchboard-plugin').description('write, check, pack, sign and publish Switchboard plugins');

  program.command('new <id>').description('scaffold a plugin whose own test passes')
    .option('--dir <folder>', 'parent folder', '.')
    .option('--publisher <name>', 'publisher name for plugin.json', 'Unknown publisher')
    .action(run(async (id: string, opts: { dir: string; publisher: string }) => {
      print(`created ${await scaffoldPlugin({ id, dir: opts.dir, publisher: opts.publisher })}`);
    }));

  program.command('validate [dir]').description('check plugin.json, typecheck the code and import main')
    .option('--no-typecheck', 'skip the TypeScript check')
    .action(run(async (dir: string | undefined, opts: { typecheck: boolean }) => {
      const manifest = await validatePlugin(dir ?? '.', { typecheck: opts.typecheck });
      print(`${manifest.id}@${manifest.version} is valid`);
    }));

  program.command('pack [dir]').description('write <id>-<version>.tgz and print its sha512 integrity')
    .option('--out <folder>', 'where to write the tarball (default: the plugin folder)')
    .option('--json', 'print JSON')
    .action(run(async (dir: string | undefined, opts: { out?: string; json?: boolean }) => {
      const result = await packPlugin(dir ?? '.', opts.out);
      if (opts.json) return print(JSON.stringify(result, null, 2));
      print(result.file);
      print(result.integrity);
    }));

  program.command('keygen').description('create an ed25519 signing key pair')
    .option('--out <folder>', 'where to write the keys', '.')
    .option('--name <name>', 'file name stem', 'publisher')
    .action(run(async (opts: { out: string; name: string }) => {
      const keys = await keygen(opts.out, opts.name);
      print(`keyId ${keys.keyId}`);
      print(`private key ${keys.privateKeyFile} (keep it secret)`);
      print(`public key ${keys.publicKeyFile} (hosts put it in plugins.trustDir)`);
    }));

  program.command('sign <tarball>').description('sign a packed tarball; writes <tarball>.sig.json')
    .requiredOption('--key <file>', 'ed25519 private key (PKCS#8 PEM) from keygen')
    .action(run(async (tarball: string, opts: { key: string }) => {
      const { sigFile, signature } = await signTarball(tarball, opts.key);
      print(sigFile);
      print(`keyId ${signature.keyId}`);
    }));

  program.command('publish <tarball>').description('add the version to a registry index (never overwrites a version)')
    .requiredOption('--registry <file>', 'the plugin-registry.json to add to (created when missing)')
    .option('--signature <file>', 'signature file (default <tarball>.sig.json when present)')
    .action(run(async (tarball: string, opts: { registry: string; signature?: string }) => {
      const { id, version, entry } = await publishTarball(tarball, { registry: opts.registry, ...(opts.signature ? { signatureFile: opts.signature } : {}) });
      print(`published ${id}@${version} (${entry.signature ? `signed by ${entry.keyId}` : 'unsigned'}) to ${opts.registry}`);
    }));

  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
