/**
 * Per-site appearance chosen by admins at runtime (theme and branding), in
 * the `site_branding` table so it survives restarts and is shared by every
 * host of a pool. Plain SQL with `?` placeholders works on SQLite and
 * MySQL/MariaDB alike; the table is created if missing.
 */
import { Table, type DataSource } from 'typeorm';
import type { Branding } from './branding.ts';

export const UI_TABLES: readonly string[] = ['site_branding'];

export interface StoredAppearance {
  site: string;
  /** null: the theme from the config (or the site record) applies. */
  theme: string | null;
  /** null: the branding from the config applies. */
  branding: Branding | null;
  updatedBy: string | null;
  updatedAt: string | null;
}

export class BrandingStore {
  readonly #ds: DataSource;

  constructor(ds: DataSource) {
    this.#ds = ds;
  }

  async ensureTable(): Promise<void> {
    const runner = this.#ds.createQueryRunner();
    try {
      await runner.createTable(new Table({
        name: 'site_branding',
        columns: [
          { name: 'site', type: 'varchar', length: '253', isPrimary: true },
          { name: 'theme', type: 'varchar', length: '64', isNullable: true },
          { name: 'branding', type: 'text', isNullable: true },
          { name: 'updated_by', type: 'varchar', length: '255', isNullable: true },
          { name: 'updated_at', type: 'varchar', length: '32', isNullable: true },
        ],
      }), true);
    } finally {
      await runner.release();
    }
  }

  async loadAll(): Promise<StoredAppearance[]> {
    const rows = (await this.#ds.query('SELECT site, theme, branding, updated_by, updated_at FROM site_branding')) as Array<Record<string, string | null>>;
    return rows.map((r) => ({
      site: String(r.site),
      theme: r.theme ?? null,
      branding: r.branding ? (JSON.parse(r.branding) as Branding) : null,
      updatedBy: r.updated_by ?? null,
      updatedAt: r.updated_at ?? null,
    }));
  }

  /** Replace the site's row (delete + insert in one transaction: the same SQL on both databases). */
  async save(row: StoredAppearance): Promise<void> {
    await this.#ds.transaction(async (m) => {
      await m.query('DELETE FROM site_branding WHERE site = ?', [row.site]);
      await m.query('INSERT INTO site_branding (site, theme, branding, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)', [
        row.site, row.theme, row.branding ? JSON.stringify(row.branding) : null, row.updatedBy, row.updatedAt,
      ]);
    });
  }

  async remove(site: string): Promise<void> {
    await this.#ds.query('DELETE FROM site_branding WHERE site = ?', [site]);
  }

  /** Themes stored on site records (sites added through the API). */
  async siteThemes(): Promise<Map<string, string>> {
    const rows = (await this.#ds.query('SELECT domain, theme FROM sites WHERE theme IS NOT NULL')) as Array<{ domain: string; theme: string }>;
    return new Map(rows.map((r) => [String(r.domain), String(r.theme)]));
  }
}
