/**
 * Recorded admin decisions to install one plugin without a trusted
 * signature. Each row says who allowed which plugin version, when and why,
 * so an audit can find every unsigned or unknown-key install.
 */
import { Table, type DataSource } from 'typeorm';

export interface TrustOverride {
  pluginId: string;
  version: string;
  /** `unsigned` or `unknown-key:<keyId>`. */
  kind: string;
  reason: string;
  grantedBy: string;
  grantedAt: string;
}

export const TRUST_OVERRIDES_TABLE = 'plugin_trust_overrides';

export async function ensureTrustOverridesTable(ds: DataSource): Promise<void> {
  const runner = ds.createQueryRunner();
  try {
    await runner.createTable(new Table({
      name: TRUST_OVERRIDES_TABLE,
      columns: [
        { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
        { name: 'plugin_id', type: 'varchar', length: '64' },
        { name: 'version', type: 'varchar', length: '64' },
        { name: 'kind', type: 'varchar', length: '80' },
        { name: 'reason', type: 'text' },
        { name: 'granted_by', type: 'varchar', length: '255' },
        { name: 'granted_at', type: 'varchar', length: '40' },
      ],
    }), true);
  } finally {
    await runner.release();
  }
}

export async function recordTrustOverride(ds: DataSource, override: TrustOverride): Promise<void> {
  await ds.query(
    `INSERT INTO ${TRUST_OVERRIDES_TABLE} (plugin_id, version, kind, reason, granted_by, granted_at) VALUES (?, ?, ?, ?, ?, ?)`,
    [override.pluginId, override.version, override.kind, override.reason, override.grantedBy, override.grantedAt],
  );
}

export async function listTrustOverrides(ds: DataSource): Promise<TrustOverride[]> {
  const rows = (await ds.query(
    `SELECT plugin_id AS pluginId, version, kind, reason, granted_by AS grantedBy, granted_at AS grantedAt FROM ${TRUST_OVERRIDES_TABLE} ORDER BY id`,
  )) as TrustOverride[];
  return rows.map((r) => ({ ...r }));
}
