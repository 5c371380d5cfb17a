// The REGISTER benchmark's console table, JSON and SVG chart (bench/results/).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR } from './sip-report.ts';
import type { RegisterStep } from './register-steps.ts';
import type { BenchDb, MemorySnapshot, RegisterTargetKind } from './register-targets.ts';

export interface MemoryRun {
  /** Users sipp registered (successful calls). */
  registered: number;
  asked: number;
  rate: number;
  before: MemorySnapshot;
  after: MemorySnapshot;
  /** Bindings found in the database afterwards (Switchboard's write-through). */
  storedBindings?: number;
  /** (after - before) RSS per registered user, bytes. */
  rssBytesPerUser?: number;
  heapBytesPerUser?: number;
  /** A failure of the memory run itself. */
  error?: string;
}

export interface RegisterTargetResult {
  target: RegisterTargetKind;
  label: string;
  /** Highest asked rate (calls/s) with no failure, no retransmission, and ≥ 90% of it reached. */
  maxCleanRate: number;
  /** The search stopped because sipp itself could not go faster. */
  limitedBySipp: boolean;
  /** The step at the fixed moderate rate, when it ran. */
  atFixedRate?: RegisterStep;
  /** Peak resident memory over all steps, KiB. */
  peakRssKb: number;
  memory?: MemoryRun;
  steps: RegisterStep[];
  error?: string;
}

export interface RegisterBenchReport {
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; loadAverage: number[]; node: string; sipp: string; kamailio: string };
  settings: {
    db: BenchDb;
    rates: number[];
    stepSeconds: number;
    fixedRate: number;
    users: number;
    memoryRate: number;
    kamailioUsrlocDbMode: number;
    kamailioChildren: number;
    algorithm: 'MD5';
    transport: 'udp';
  };
  results: RegisterTargetResult[];
  /** Switchboard's max clean rate / Kamailio's. */
  ratio?: number;
}

function mib(kb: number | undefined): string {
  return kb === undefined ? '-' : `${(kb / 1024).toFixed(1)} MiB`;
}

function ms(v: number | undefined): string {
  return v === undefined ? '-' : `${v.toFixed(2)} ms`;
}

export function computeRatio(results: RegisterTargetResult[]): number | undefined {
  const k = results.find((r) => r.target === 'kamailio' && !r.error);
  const s = results.find((r) => r.target === 'switchboard' && !r.error);
  return k && s && k.maxCleanRate > 0 ? s.maxCleanRate / k.maxCleanRate : undefined;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function formatTables(report: RegisterBenchReport): string {
  const f = report.settings.fixedRate;
  const load = table(
    ['target', 'max clean rate', `p50 @${f}/s`, `p99 @${f}/s`, `auth p99 @${f}/s`, `CPU % @${f}/s`, 'peak RSS', 'Switchboard/Kamailio'],
    report.results.map((r) => {
      const s = r.atFixedRate;
      const mark = s && !s.clean ? '*' : '';
      return [
        r.label,
        r.error ? `error: ${r.error.slice(0, 50)}` : `${r.limitedBySipp ? '>=' : ''}${r.maxCleanRate}/s`,
        ms(s?.p50Ms) + mark,
        ms(s?.p99Ms) + mark,
        ms(s?.authP99Ms) + mark,
        s ? `${s.cpuPct.toFixed(0)}${mark}` : '-',
        mib(r.peakRssKb || undefined),
        r.target === 'switchboard' && report.ratio !== undefined ? `${report.ratio.toFixed(2)}x` : '',
      ];
    }),
  );
  const memory = table(
    ['target', 'registered', 'RSS before', 'RSS after', 'RSS per user', 'heap per user', 'stored bindings'],
    report.results.map((r) => {
      const m = r.memory;
      if (!m) return [r.label, '-', '-', '-', '-', '-', '-'];
      return [
        r.label,
        `${m.registered}/${m.asked}${m.error ? ` (${m.error.slice(0, 40)})` : ''}`,
        mib(m.before.rssKb),
        mib(m.after.rssKb),
        m.rssBytesPerUser === undefined ? '-' : `${(m.rssBytesPerUser / 1024).toFixed(2)} KiB`,
        m.heapBytesPerUser === undefined ? '-' : `${(m.heapBytesPerUser / 1024).toFixed(2)} KiB`,
        m.storedBindings === undefined ? '-' : String(m.storedBindings),
      ];
    }),
  );
  const notes = [
    `One call = REGISTER, 401 (MD5, qop=auth), REGISTER with Authorization, 200; p50/p99 = first REGISTER to 200, auth p99 = second REGISTER to 200.`,
    report.results.some((r) => r.atFixedRate && !r.atFixedRate.clean) ? `* the ${f}/s step was not clean for this target` : '',
  ].filter((l) => l !== '');
  return `${load}\n\n${memory}\n${notes.join('\n')}`;
}

const COLORS: Record<RegisterTargetKind, string> = { kamailio: '#4e79a7', switchboard: '#f28e2b' };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One bar per target in a panel starting at x0; values formatted by `label`. */
function panel(x0: number, width: number, title: string, bars: Array<{ value: number; text: string; color: string }>): string[] {
  const top = 60;
  const bottom = 300;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const barWidth = Math.min(80, (width - 40) / Math.max(1, bars.length));
  const parts = [
    `<text x="${x0 + width / 2}" y="${top - 20}" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
    `<line x1="${x0}" y1="${bottom}" x2="${x0 + width}" y2="${bottom}" stroke="#333"/>`,
  ];
  bars.forEach((b, i) => {
    const h = ((bottom - top) * b.value) / max;
    const x = x0 + 20 + i * barWidth;
    parts.push(`<rect x="${x.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${(barWidth - 8).toFixed(1)}" height="${h.toFixed(1)}" fill="${b.color}"/>`);
    parts.push(`<text x="${(x + (barWidth - 8) / 2).toFixed(1)}" y="${(bottom - h - 4).toFixed(1)}" text-anchor="middle">${escapeXml(b.text)}</text>`);
  });
  return parts;
}

/** Left: max clean rate per target; right: RSS growth per registered user. */
export function renderSvg(report: RegisterBenchReport): string {
  const width = 760;
  const height = 360;
  const ok = report.results.filter((r) => !r.error);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15">REGISTER with digest auth (sipp, UDP, ${report.settings.db})</text>`,
    ...panel(30, 330, 'Highest clean rate (calls/s)', ok.map((r) => ({ value: r.maxCleanRate, text: `${r.limitedBySipp ? '≥' : ''}${r.maxCleanRate}`, color: COLORS[r.target] }))),
    ...panel(400, 330, `RSS per registered user (${report.settings.users} users, KiB)`, ok.filter((r) => r.memory?.rssBytesPerUser !== undefined)
      .map((r) => ({ value: Math.max(0, r.memory!.rssBytesPerUser! / 1024), text: (r.memory!.rssBytesPerUser! / 1024).toFixed(2), color: COLORS[r.target] }))),
  ];
  report.results.forEach((r, i) => {
    const x = 30 + i * 360;
    parts.push(`<rect x="${x}" y="${height - 30}" width="12" height="12" fill="${COLORS[r.target]}"/>`);
    parts.push(`<text x="${x + 18}" y="${height - 20}">${escapeXml(r.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Writes register-<time>.json, register-latest.json and register-latest.svg; returns their paths. */
export function writeRegisterResults(report: RegisterBenchReport): string[] {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const json = JSON.stringify(report, null, 2) + '\n';
  const files = [join(RESULTS_DIR, `register-${stamp}.json`), join(RESULTS_DIR, 'register-latest.json'), join(RESULTS_DIR, 'register-latest.svg')];
  writeFileSync(files[0]!, json);
  writeFileSync(files[1]!, json);
  writeFileSync(files[2]!, renderSvg(report));
  return files;
}
