import { EntitySchema } from 'typeorm';

/** An uploaded file, downloadable by its owner and the readers it was sent to. */
export interface ImFile {
  id: string;
  site: string;
  owner: string;
  name: string;
  contentType: string;
  size: number;
  /** `,bob,carol,` */
  readers: string;
  /** The bytes of a file uploaded in one request; empty when they are in im_file_parts. */
  data: Buffer;
  createdAt: string;
  /** `uploading` until every part arrived, then `ready`. */
  state: 'uploading' | 'ready';
  /** Bytes received so far (parts uploads). */
  received: number;
  /** Whom an upload in progress is for: `user:<name>` or `conversation:<id>`. */
  target: string;
}

export const ImFileEntity = new EntitySchema<ImFile>({
  name: 'ImFile',
  tableName: 'im_files',
  columns: {
    id: { type: 'varchar', length: 32, primary: true },
    site: { type: 'varchar', length: 255 },
    owner: { type: 'varchar', length: 255 },
    name: { type: 'varchar', length: 255 },
    contentType: { type: 'varchar', length: 100, name: 'content_type' },
    size: { type: 'integer' },
    readers: { type: 'text' },
    data: { type: 'blob' },
    createdAt: { type: 'varchar', length: 24, name: 'created_at' },
    state: { type: 'varchar', length: 12, default: 'ready' },
    received: { type: 'integer', default: 0 },
    target: { type: 'varchar', length: 300, default: '' },
  },
});

/** One part of a file uploaded in parts, in order of `seq`. */
export interface ImFilePart {
  id: number;
  fileId: string;
  seq: number;
  data: Buffer;
}

export const ImFilePartEntity = new EntitySchema<ImFilePart>({
  name: 'ImFilePart',
  tableName: 'im_file_parts',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    fileId: { type: 'varchar', length: 32, name: 'file_id' },
    seq: { type: 'integer' },
    data: { type: 'blob' },
  },
  uniques: [{ name: 'uq_im_file_parts_file_seq', columns: ['fileId', 'seq'] }],
});
