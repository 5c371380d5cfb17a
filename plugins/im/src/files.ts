/**
 * File transfer by upload: the sender uploads (size limit and blocked
 * extensions per site), the recipient (or every participant of a
 * conversation) gets a message with a download link, and the link only
 * serves signed-in users the file was shared with.
 *
 * Small files go in one request (`upload`). Larger ones, up to the site's
 * limit, go in parts of at most PART_BYTES (`start`, `append`, `complete`),
 * because one HTTP request to the host carries at most 1 MiB; the parts are
 * kept as rows of im_file_parts and streamed back in order on download.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { LessThan } from 'typeorm';
import type { PluginContext } from '@switchboard/sdk';
import type { ImConfig } from './config.ts';
import type { Conversations } from './conversations.ts';
import { ImFileEntity, ImFilePartEntity, type ImFile } from './entities/file.ts';
import { ImError } from './errors.ts';
import type { Messenger } from './messenger.ts';

export interface Upload {
  site: string;
  owner: string;
  name: string;
  contentType: string;
  data: Buffer;
  /** A username (pager mode) or a conversation id; exactly one. */
  to?: string;
  conversation?: string;
}

export interface FileView {
  id: string;
  name: string;
  size: number;
  contentType: string;
  /** Path of the authenticated download, below the host's base URL. */
  url: string;
}

/** Largest file `upload` takes in one request; its base64 stays under the host's 1 MiB body limit. */
export const ONE_REQUEST_BYTES = 700_000;
/** Largest part of an upload in parts: base64 in JSON, it stays well under the host's 1 MiB request limit. */
export const PART_BYTES = 512 * 1024;
/** Uploads not completed within this time are dropped. */
const STALE_UPLOAD_MS = 24 * 3600 * 1000;

/** An upload in parts as the API shows it. */
export interface UploadView {
  id: string;
  name: string;
  size: number;
  received: number;
  partBytes: number;
}

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

export class Files {
  readonly #ctx: PluginContext<ImConfig>;
  readonly #messenger: Messenger;
  readonly #conversations: Conversations;

  constructor(ctx: PluginContext<ImConfig>, messenger: Messenger, conversations: Conversations) {
    this.#ctx = ctx;
    this.#messenger = messenger;
    this.#conversations = conversations;
  }

  urlOf(site: string, id: string): string {
    return `${this.#ctx.http.prefix}/sites/${encodeURIComponent(site)}/files/${id}`;
  }

  /** Size limit and blocked extensions; the readers the file is for. */
  async #admit(u: Omit<Upload, 'data'>, size: number): Promise<string[]> {
    const { maxBytes, blockedExtensions } = this.#ctx.config(u.site).files;
    if (size > maxBytes) throw new ImError('IM_ERR_FILE_TOO_LARGE', `${size} bytes; this site allows at most ${maxBytes} bytes`);
    // Every extension counts: "report.exe.txt" and "report.txt.exe" are both checked for .exe.
    const parts = u.name.toLowerCase().split('.').slice(1);
    const blocked = parts.find((p) => blockedExtensions.includes(p));
    if (blocked) throw new ImError('IM_ERR_FILE_BLOCKED', `.${blocked}`);
    if (u.conversation) {
      await this.#conversations.view(u.site, u.conversation, u.owner);
      return this.#conversations.participants(u.conversation);
    }
    const user = await this.#ctx.directory.findByAddress(u.site, (u.to ?? '').toLowerCase());
    if (!user || !user.enabled) throw new ImError('IM_ERR_UNKNOWN_USER', u.to);
    return [user.username];
  }

  /** Tell the recipient(s); a refused message takes the file with it. */
  async #announce(file: ImFile, target: { to?: string; conversation?: string }): Promise<{ file: FileView; delivery: string }> {
    const view: FileView = { id: file.id, name: file.name, size: file.size, contentType: file.contentType, url: this.urlOf(file.site, file.id) };
    const text = `${file.owner} sent a file: ${file.name} (${file.size} bytes) ${view.url}`;
    try {
      if (target.conversation) {
        await this.#conversations.post(file.site, target.conversation, file.owner, 'text/plain', text, 'http');
        return { file: view, delivery: 'posted' };
      }
      const outcome = await this.#messenger.send({ site: file.site, sender: file.owner, recipient: target.to!, contentType: 'text/plain', body: text, via: 'http' });
      return { file: view, delivery: outcome.status };
    } catch (err) {
      // Refused by a filter or policy: the file is not kept either.
      await this.#remove(file.id);
      throw err;
    }
  }

  async #remove(id: string): Promise<void> {
    await this.#ctx.db.repository(ImFilePartEntity).delete({ fileId: id });
    await this.#ctx.db.repository(ImFileEntity).delete({ id });
  }

  /** A whole file in one request. */
  async upload(u: Upload): Promise<{ file: FileView; delivery: string }> {
    const readers = await this.#admit(u, u.data.length);
    if (u.data.length > ONE_REQUEST_BYTES) throw new ImError('IM_ERR_FILE_TOO_LARGE', `files over ${ONE_REQUEST_BYTES} bytes go in parts: POST /uploads, then PUT each part`);
    const file: ImFile = {
      id: randomBytes(16).toString('hex'), site: u.site, owner: u.owner, name: u.name, contentType: u.contentType, size: u.data.length,
      readers: `,${readers.join(',')},`, data: u.data, createdAt: new Date().toISOString(), state: 'ready', received: u.data.length, target: '',
    };
    await this.#ctx.db.repository(ImFileEntity).insert(file);
    return this.#announce(file, { ...(u.to ? { to: readers[0]! } : {}), ...(u.conversation ? { conversation: u.conversation } : {}) });
  }

  /** Begin an upload in parts of `size` bytes; refused at once when the site does not allow that size. */
  async start(u: Omit<Upload, 'data'> & { size: number }): Promise<UploadView> {
    await this.#dropStale();
    const readers = await this.#admit(u, u.size);
    const target = u.conversation ? `conversation:${u.conversation}` : `user:${readers[0]}`;
    const file: ImFile = {
      id: randomBytes(16).toString('hex'), site: u.site, owner: u.owner, name: u.name, contentType: u.contentType, size: u.size,
      readers: `,${readers.join(',')},`, data: Buffer.alloc(0), createdAt: new Date().toISOString(), state: 'uploading', received: 0, target,
    };
    await this.#ctx.db.repository(ImFileEntity).insert(file);
    return this.#uploadView(file);
  }

  async status(site: string, id: string, owner: string): Promise<UploadView> {
    return this.#uploadView(await this.#uploading(site, id, owner));
  }

  /** Add the part at `offset`, which must be where the upload stands (a retried part is answered with the right offset). */
  async append(site: string, id: string, owner: string, offset: number, data: Buffer): Promise<UploadView> {
    const file = await this.#uploading(site, id, owner);
    if (data.length === 0 || data.length > PART_BYTES) throw new ImError('IM_ERR_BAD_REQUEST', `a part carries 1 to ${PART_BYTES} bytes`);
    if (offset !== file.received) throw new ImError('IM_ERR_UPLOAD_OFFSET', `the upload stands at byte ${file.received}; send the part that starts there`);
    if (file.received + data.length > file.size) throw new ImError('IM_ERR_FILE_TOO_LARGE', `more than the ${file.size} bytes announced`);
    await this.#ctx.db.transaction(async (tx) => {
      // Conditional on the offset, so two concurrent parts cannot both land at it.
      const moved = await tx.repository(ImFileEntity).update({ id, received: offset }, { received: offset + data.length });
      if (!moved.affected) throw new ImError('IM_ERR_UPLOAD_OFFSET', 'another part arrived first; ask for the upload\'s state');
      const seq = await tx.repository(ImFilePartEntity).countBy({ fileId: id });
      await tx.repository(ImFilePartEntity).insert({ fileId: id, seq, data });
    });
    return { id, name: file.name, size: file.size, received: offset + data.length, partBytes: PART_BYTES };
  }

  /** Every byte is there: the file becomes downloadable and the recipient(s) get the link. */
  async complete(site: string, id: string, owner: string): Promise<{ file: FileView; delivery: string }> {
    const file = await this.#uploading(site, id, owner);
    if (file.received !== file.size) throw new ImError('IM_ERR_UPLOAD_INCOMPLETE', `${file.received} of ${file.size} bytes received`);
    const done = await this.#ctx.db.repository(ImFileEntity).update({ id, state: 'uploading' }, { state: 'ready', target: '' });
    if (!done.affected) throw new ImError('IM_ERR_UPLOAD_NOT_FOUND', 'it was completed or cancelled meanwhile');
    const [kind, name] = [file.target.slice(0, file.target.indexOf(':')), file.target.slice(file.target.indexOf(':') + 1)];
    return this.#announce({ ...file, state: 'ready' }, kind === 'conversation' ? { conversation: name } : { to: name });
  }

  async cancel(site: string, id: string, owner: string): Promise<void> {
    await this.#uploading(site, id, owner);
    await this.#remove(id);
  }

  async #uploading(site: string, id: string, owner: string): Promise<ImFile> {
    const file = await this.#ctx.db.repository(ImFileEntity).findOne({ where: { id, site }, select: ['id', 'site', 'owner', 'name', 'contentType', 'size', 'readers', 'createdAt', 'state', 'received', 'target'] });
    if (!file || file.owner !== owner || file.state !== 'uploading') throw new ImError('IM_ERR_UPLOAD_NOT_FOUND');
    return file;
  }

  #uploadView(file: ImFile): UploadView {
    return { id: file.id, name: file.name, size: file.size, received: file.received, partBytes: PART_BYTES };
  }

  async #dropStale(): Promise<void> {
    const before = new Date(Date.now() - STALE_UPLOAD_MS).toISOString();
    const stale = await this.#ctx.db.repository(ImFileEntity).find({ where: { state: 'uploading', createdAt: LessThan(before) }, select: ['id'], take: 100 });
    for (const { id } of stale) await this.#remove(id);
  }

  /** The file, if `user` may download it: its metadata and its bytes as a stream. */
  async download(site: string, id: string, user: string): Promise<{ file: Omit<ImFile, 'data'>; body: Readable | Buffer }> {
    const repo = this.#ctx.db.repository(ImFileEntity);
    const file = await repo.findOne({ where: { id, site }, select: ['id', 'site', 'owner', 'name', 'contentType', 'size', 'readers', 'createdAt', 'state', 'received', 'target'] });
    if (!file || file.state !== 'ready' || (file.owner !== user && !file.readers.includes(`,${user},`))) throw new ImError('IM_ERR_FILE_NOT_FOUND');
    const partRepo = this.#ctx.db.repository(ImFilePartEntity);
    const parts = await partRepo.count({ where: { fileId: id } });
    if (parts === 0) {
      const whole = await repo.findOne({ where: { id }, select: ['id', 'data'] });
      return { file, body: Buffer.from(whole?.data ?? Buffer.alloc(0)) };
    }
    // One part in memory at a time, however large the file.
    async function* bytes(): AsyncGenerator<Buffer> {
      for (let seq = 0; seq < parts; seq++) {
        const part = await partRepo.findOneBy({ fileId: id, seq });
        if (!part) throw new Error(`part ${seq} of file ${id} is missing`);
        yield Buffer.from(part.data);
      }
    }
    return { file, body: Readable.from(bytes()) };
  }
}
