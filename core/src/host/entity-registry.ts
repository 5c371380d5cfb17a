/**
 * Adding EntitySchemas to an initialised typeorm DataSource. typeorm builds
 * its metadata at initialise time; plugins are imported later, so the host
 * rebuilds the metadata once their entities are known.
 */
import type { DataSource, EntitySchema } from 'typeorm';

export async function addEntities(ds: DataSource, schemas: EntitySchema<any>[]): Promise<void> {
  if (schemas.length === 0) return;
  const current = ds.options.entities;
  const list = Array.isArray(current) ? [...current] : current ? Object.values(current) : [];
  const fresh = schemas.filter((s) => !list.includes(s));
  if (fresh.length === 0) return;
  ds.setOptions({ entities: [...list, ...fresh] } as Parameters<DataSource['setOptions']>[0]);
  // buildMetadatas is protected in the typings but is the supported rebuild path.
  await (ds as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
}
