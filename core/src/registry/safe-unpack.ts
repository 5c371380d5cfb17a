/**
 * Unpacking a plugin tarball without trusting it. The whole archive is read
 * and checked before anything touches the disk: only regular files and
 * folders with relative paths inside the plugin folder are accepted; links
 * (symbolic or hard), devices, FIFOs, absolute paths and `..` reject the
 * archive as a whole. Files are then written by us (not by tar) into a fresh
 * temporary folder, which the caller moves into place.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { ReadEntry } from 'tar';
import { coreError } from '../errors.ts';

export interface UnpackLimits {
  /** Largest total of file sizes inside the archive. */
  maxUnpackedBytes: number;
  /** Most entries accepted. */
  maxEntries: number;
}

const REGULAR = new Set(['File', 'OldFile', 'ContiguousFile']);

/** Why an entry path is unsafe, or undefined when it is a plain relative path. */
export function unsafePathReason(raw: string): string | undefined {
  if (raw.includes('\0')) return 'contains NUL';
  if (raw.includes('\\')) return 'contains a backslash';
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) return 'is absolute';
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0) return 'is empty';
  if (parts.includes('..')) return 'climbs out with ..';
  return undefined;
}

interface CheckedFile {
  path: string;
  data: Buffer;
  executable: boolean;
}

/** Parse and check every entry; throws CORE_ERR_PACKAGE_UNSAFE naming the first bad one. */
export async function readTarball(tgz: Buffer, limits: UnpackLimits): Promise<{ files: CheckedFile[]; dirs: string[] }> {
  const files: CheckedFile[] = [];
  const dirs: string[] = [];
  const seen = new Set<string>();
  let total = 0;
  let problem: string | undefined;
  const reject = (why: string) => {
    problem ??= why;
  };
  // Loaded on the first install, not with the host: every start would pay for it.
  const { Parser } = await import('tar');
  await new Promise<void>((resolveParse, rejectParse) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        const why = unsafePathReason(entry.path);
        if (why) reject(`${JSON.stringify(entry.path)} ${why}`);
        else if (!REGULAR.has(entry.type) && entry.type !== 'Directory') {
          reject(`${JSON.stringify(entry.path)} is a ${entry.type}${entry.linkpath ? ` to ${JSON.stringify(entry.linkpath)}` : ''}`);
        } else if (seen.size >= limits.maxEntries) reject(`more than ${limits.maxEntries} entries`);
        const path = entry.path.split('/').filter((p) => p !== '' && p !== '.').join('/');
        if (problem || entry.type === 'Directory') {
          if (!problem) dirs.push(path);
          entry.resume();
          return;
        }
        if (seen.has(path)) reject(`${JSON.stringify(path)} appears twice`);
        seen.add(path);
        total += entry.size;
        if (total > limits.maxUnpackedBytes) {
          reject(`unpacks to more than ${limits.maxUnpackedBytes} bytes`);
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => files.push({ path, data: Buffer.concat(chunks), executable: (entry.mode ?? 0) & 0o111 ? true : false }));
      },
    });
    parser.on('error', (err: Error) => rejectParse(coreError('CORE_ERR_PACKAGE_UNSAFE', `not a readable tarball: ${err.message}`)));
    parser.on('end', () => resolveParse());
    parser.end(tgz);
  });
  if (problem) throw coreError('CORE_ERR_PACKAGE_UNSAFE', problem);
  if (files.length === 0) throw coreError('CORE_ERR_PACKAGE_UNSAFE', 'the tarball holds no files');
  return { files, dirs };
}

/**
 * Check the archive, then write it into a new folder under `parentDir`
 * (same file system as the final place, so the caller can rename it).
 * Returns that folder; on any failure nothing is left behind.
 */
export async function unpackToTemp(tgz: Buffer, parentDir: string, limits: UnpackLimits): Promise<string> {
  const { files, dirs } = await readTarball(tgz, limits);
  await mkdir(parentDir, { recursive: true });
  const temp = await mkdtemp(join(parentDir, '.staging-'));
  try {
    const root = resolve(temp) + sep;
    for (const dir of dirs) await mkdir(join(temp, dir), { recursive: true });
    for (const file of files) {
      const target = resolve(temp, file.path);
      // Paths were checked already; this guards against a checker bug, not a known case.
      if (!target.startsWith(root)) throw coreError('CORE_ERR_PACKAGE_UNSAFE', `${file.path} resolves outside the plugin folder`);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, file.data, { flag: 'wx', mode: file.executable ? 0o755 : 0o644 });
    }
    return temp;
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    if ((err as { code?: string }).code === 'EEXIST' || (err as { code?: string }).code === 'ENOTDIR') {
      throw coreError('CORE_ERR_PACKAGE_UNSAFE', `conflicting entries: ${(err as Error).message}`);
    }
    throw err;
  }
}
