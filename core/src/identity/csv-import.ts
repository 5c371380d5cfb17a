/**
 * Bulk import of users from CSV. Every line is checked against the same
 * JSON schema as `POST /api/admin/sites/:site/users` and created in its own
 * transaction, so a bad line is reported (line, field, reason) and never
 * leaves half a user behind; the good lines around it are created.
 *
 * Columns (header line required; order free; unknown columns refused):
 * username, password, displayName, aliases, phone, email, groups, role,
 * enabled. Lists (aliases, groups) are separated by `;`; enabled is
 * true/false/yes/no/1/0 (default true). Empty cells are left out.
 */
import { parse } from 'csv-parse/sync';
import type { ValidateFunction } from 'ajv';
import { createAjv } from '../config/ajv.ts';
import { CoreError, coreError } from '../errors.ts';
import type { UserAccounts } from './user-accounts.ts';
import { createUserSchema, type CreateUserInput } from './user-schemas.ts';

export const CSV_COLUMNS = ['username', 'password', 'displayName', 'aliases', 'phone', 'email', 'groups', 'role', 'enabled'] as const;

export interface ImportProblem {
  /** 1-based line of the CSV text the record ends on. */
  line: number;
  /** The column (or JSON path) at fault; empty when the whole line is. */
  field: string;
  reason: string;
  code: string;
}

export interface ImportReport {
  created: number;
  failed: number;
  problems: ImportProblem[];
  /** Usernames created, in file order. */
  usernames: string[];
}

export interface CsvRecord {
  line: number;
  input?: CreateUserInput;
  problem?: ImportProblem;
}

let userValidator: ValidateFunction | undefined;

/** Compiled on the first import, not when the module loads: the host's start does not pay for it. */
function validateUser(input: unknown): boolean {
  userValidator ??= createAjv({ useDefaults: false }).compile(createUserSchema);
  return userValidator(input);
}

/** Parse and validate; throws CORE_ERR_IMPORT_INVALID when there is no usable header. */
export function parseUserCsv(text: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  let header: string[] | undefined;
  const rows = parse(text, {
    bom: true,
    info: true,
    raw: false,
    skip_empty_lines: true,
    relax_column_count: true,
    trim: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      if (err) out.push({ line: Number((err as { lines?: number }).lines ?? 0), problem: { line: Number((err as { lines?: number }).lines ?? 0), field: '', reason: err.message, code: 'CSV_PARSE' } });
      return undefined;
    },
  }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  for (const { record, info } of rows) {
    if (!header) {
      header = checkHeader(record);
      continue;
    }
    out.push(toRecord(header, record, info.lines));
  }
  if (!header) throw coreError('CORE_ERR_IMPORT_INVALID', 'the file is empty');
  return out.sort((a, b) => a.line - b.line);
}

/** Create every valid line; `onLine` sees each line's outcome as it happens (progress). */
export async function importUsers(
  accounts: UserAccounts,
  site: string,
  records: CsvRecord[],
  onLine?: (line: number, problem?: ImportProblem) => void,
): Promise<ImportReport> {
  const report: ImportReport = { created: 0, failed: 0, problems: [], usernames: [] };
  for (const record of records) {
    let problem = record.problem;
    if (!problem && record.input) {
      try {
        const user = await accounts.create(site, record.input);
        report.created += 1;
        report.usernames.push(user.username);
      } catch (err) {
        if (!(err instanceof CoreError) || err.httpStatus >= 500 || err.code === 'CORE_ERR_SITE_NOT_FOUND') throw err;
        problem = { line: record.line, field: fieldOf(err), reason: err.message, code: err.code };
      }
    }
    if (problem) {
      report.failed += 1;
      report.problems.push(problem);
    }
    onLine?.(record.line, problem);
  }
  return report;
}

function checkHeader(record: string[]): string[] {
  const header = record.map((h) => h.trim());
  const unknown = header.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h));
  if (unknown.length > 0) throw coreError('CORE_ERR_IMPORT_INVALID', `unknown column(s) ${unknown.join(', ')}; known: ${CSV_COLUMNS.join(', ')}`);
  for (const required of ['username', 'password']) {
    if (!header.includes(required)) throw coreError('CORE_ERR_IMPORT_INVALID', `the header has no "${required}" column`);
  }
  return header;
}

function toRecord(header: string[], cells: string[], line: number): CsvRecord {
  if (cells.length !== header.length) {
    return { line, problem: { line, field: '', reason: `${cells.length} cells, the header has ${header.length}`, code: 'CSV_COLUMNS' } };
  }
  const input: Record<string, unknown> = {};
  for (let i = 0; i < header.length; i++) {
    const column = header[i]!;
    const cell = cells[i]!.trim();
    if (cell === '') continue;
    if (column === 'aliases' || column === 'groups') input[column] = cell.split(';').map((s) => s.trim()).filter(Boolean);
    else if (column === 'enabled') {
      const flag = parseFlag(cell);
      if (flag === undefined) return { line, problem: { line, field: 'enabled', reason: `"${cell}" is not true/false/yes/no/1/0`, code: 'CORE_ERR_REQUEST_INVALID' } };
      input.enabled = flag;
    } else input[column] = cell;
  }
  if (!validateUser(input)) {
    const first = userValidator?.errors?.[0];
    const missing = first?.keyword === 'required' ? String((first.params as { missingProperty?: string }).missingProperty ?? '') : '';
    const field = missing || (first?.instancePath ?? '').replace(/^\//, '').split('/')[0] || '';
    return { line, problem: { line, field, reason: `${field || 'line'} ${first?.message ?? 'is invalid'}`, code: 'CORE_ERR_REQUEST_INVALID' } };
  }
  return { line, input: input as unknown as CreateUserInput };
}

function parseFlag(cell: string): boolean | undefined {
  const v = cell.toLowerCase();
  if (['true', 'yes', '1', 'y'].includes(v)) return true;
  if (['false', 'no', '0', 'n'].includes(v)) return false;
  return undefined;
}

function fieldOf(err: CoreError): string {
  const details = err.details as { field?: string } | Array<{ instancePath?: string }> | undefined;
  if (Array.isArray(details)) return (details[0]?.instancePath ?? '').replace(/^\//, '');
  const field = details?.field ?? '';
  return field.split('/')[0] ?? field;
}
