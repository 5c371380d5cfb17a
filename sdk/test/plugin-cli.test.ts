// The author CLI through its real bin: new → the scaffold's own test passes,
// validate (manifest, types, main), pack (reproducible, only shipped files,
// sha512 integrity), keygen, sign (verifiable with the public key), publish
// (never overwrites a version, refuses a signature of another tarball).
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash, createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTarball, verifyFields } from '@switchboard/core/registry';

t.setTimeout(600_000);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'sdk', 'bin', 'switchboard-plugin.js');

function run(args: string[], cwd = ROOT, timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SWITCHBOARD_')) env[k] = v;
    const child = spawn(process.execPath, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
const cli = (args: string[]) => run([BIN, ...args]);

t.test('switchboard-plugin: new, validate, pack, keygen, sign, publish', async (t) => {
  // Inside the repository so the scaffold resolves @switchboard/sdk the way a workspace plugin does.
  await mkdir(join(ROOT, 'test', 'artifacts'), { recursive: true });
  const work = await mkdtemp(join(ROOT, 'test', 'artifacts', 'plugin-cli-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));

  const created = await cli(['new', 'desk-bot', '--dir', work, '--publisher', 'Desk Co']);
  t.equal(created.code, 0, created.stderr);
  const dir = join(work, 'desk-bot');
  const twice = await cli(['new', 'desk-bot', '--dir', work]);
  t.equal(twice.code, 1);
  t.match(twice.stderr, /SDK_ERR_TARGET_EXISTS/);
  const badId = await cli(['new', 'Desk_Bot', '--dir', work]);
  t.match(badId.stderr, /SDK_ERR_MANIFEST_INVALID/);

  const own = await run(['--import', 'tsx', join(dir, 'test', 'plugin.test.ts')], dir);
  t.equal(own.code, 0, `the scaffold's test passes out of the box\n${own.stdout.slice(-1500)}${own.stderr.slice(-1500)}`);
  t.match(own.stdout, /# pass\s+\d+|ok 1 - desk-bot/);

  const valid = await cli(['validate', dir]);
  t.equal(valid.code, 0, valid.stderr);
  t.match(valid.stdout, /desk-bot@0\.1\.0 is valid/);

  const index = join(dir, 'src', 'index.ts');
  const source = await readFile(index, 'utf8');
  await writeFile(index, `${source}\nexport const broken: number = 'not a number';\n`);
  const typeError = await cli(['validate', dir]);
  t.equal(typeError.code, 1);
  t.match(typeError.stderr, /SDK_ERR_TYPECHECK_FAILED[\s\S]*src\/index\.ts:\d+:\d+ TS2322/);
  await writeFile(index, source);

  const manifestFile = join(dir, 'plugin.json');
  const manifest = await readFile(manifestFile, 'utf8');
  await writeFile(manifestFile, manifest.replace('"version": "0.1.0"', '"version": "one"'));
  const badManifest = await cli(['validate', dir, '--no-typecheck']);
  t.equal(badManifest.code, 1);
  t.match(badManifest.stderr, /SDK_ERR_MANIFEST_INVALID[\s\S]*\/version must be a semver version/);
  await writeFile(manifestFile, manifest);

  const packed = await cli(['pack', dir, '--out', work]);
  t.equal(packed.code, 0, packed.stderr);
  const [file, integrity] = packed.stdout.trim().split('\n');
  t.equal(file, join(work, 'desk-bot-0.1.0.tgz'));
  const bytes = await readFile(file!);
  t.equal(integrity, `sha512-${createHash('sha512').update(bytes).digest('base64')}`, 'prints the SRI sha512 of the file');
  const repacked = await cli(['pack', dir, '--out', work]);
  t.equal(repacked.stdout.trim().split('\n')[1], integrity, 'packing again gives the same bytes');
  const { files } = await readTarball(bytes, { maxUnpackedBytes: 1e8, maxEntries: 1000 });
  t.same(files.map((f) => f.path).sort(), ['README.md', 'package.json', 'plugin.json', 'src/index.ts'], 'manifest, code and docs; no tests');

  const keys = await cli(['keygen', '--out', work, '--name', 'desk']);
  t.equal(keys.code, 0, keys.stderr);
  const keyId = /keyId ([0-9a-f]{32})/.exec(keys.stdout)?.[1];
  t.ok(keyId);
  const keyAgain = await cli(['keygen', '--out', work, '--name', 'desk']);
  t.equal(keyAgain.code, 1, 'an existing key is never overwritten');

  const signed = await cli(['sign', file!, '--key', join(work, 'desk.key')]);
  t.equal(signed.code, 0, signed.stderr);
  const sig = JSON.parse(await readFile(`${file}.sig.json`, 'utf8')) as { id: string; version: string; integrity: string; manifestDigest: string; signature: string; keyId: string };
  t.match(sig, { id: 'desk-bot', version: '0.1.0', integrity, keyId });
  const publicKey = createPublicKey(await readFile(join(work, 'desk.pub.pem'), 'utf8'));
  t.ok(verifyFields(sig, sig.signature, publicKey), 'the signature verifies with the public key');
  t.notOk(verifyFields({ ...sig, version: '0.1.1' }, sig.signature, publicKey), 'and binds the version');
  const wrongKey = await cli(['sign', file!, '--key', join(work, 'desk.pub.pem')]);
  t.match(wrongKey.stderr, /SDK_ERR_KEY_INVALID/);

  const registry = join(work, 'registry', 'plugin-registry.json');
  const published = await cli(['publish', file!, '--registry', registry]);
  t.equal(published.code, 0, published.stderr);
  t.match(published.stdout, new RegExp(`published desk-bot@0\\.1\\.0 \\(signed by ${keyId}\\)`));
  const catalog = JSON.parse(await readFile(registry, 'utf8')) as { plugins: Record<string, { versions: Record<string, Record<string, unknown>> }> };
  t.match(catalog.plugins['desk-bot']!.versions['0.1.0'], { publisher: 'Desk Co', integrity, keyId, signature: sig.signature, tarball: 'tarballs/desk-bot-0.1.0.tgz' });
  const before = await readFile(registry, 'utf8');
  const again = await cli(['publish', file!, '--registry', registry]);
  t.equal(again.code, 1);
  t.match(again.stderr, /SDK_ERR_VERSION_EXISTS/);
  t.equal(await readFile(registry, 'utf8'), before, 'the catalog is unchanged');

  // A signature file that belongs to another tarball is refused.
  await writeFile(manifestFile, manifest.replace('"version": "0.1.0"', '"version": "0.2.0"'));
  const packed2 = await cli(['pack', dir, '--out', work]);
  const file2 = packed2.stdout.trim().split('\n')[0]!;
  const mismatched = await cli(['publish', file2, '--registry', registry, '--signature', `${file}.sig.json`]);
  t.equal(mismatched.code, 1);
  t.match(mismatched.stderr, /SDK_ERR_SIGNATURE_MISMATCH/);
});
