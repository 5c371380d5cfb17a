// Turns SIP benchmark results into the console table, a JSON file and a
// hand-written SVG bar chart under bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { StepResult, Workload } from './rate-search.ts';
import { TARGET_LABELS, type TargetKind } from './sip-targets.ts';

export interface TargetResult {
  workload: Workload['id'];
  workloadLabel: string;
  target: TargetKind;
  /** Highest rate (calls/s) with no failure and no retransmission; 0 if none or not run. */
  maxCleanRate: number;
  /** true when the search stopped because sipp itself could not go faster, so the target's limit is higher. */
  limitedBySipp: boolean;
  /** Response times and CPU at the 1,000/s step, when that step ran. */
  p50MsAt1000?: number;
  p99MsAt1000?: number;
  cpuPctAt1000?: number;
  /** false when the 1,000/s step itself was not clean (its latencies are then marked with *). */
  cleanAt1000?: boolean;
  /**
   * Peak resident memory over the workload, KiB: private memory of all the
   * target's processes plus their shared memory counted once (sampled).
   */
  peakRssKb: number;
  /** VmHWM summed over the target's processes, KiB; overstates multi-process servers (shared pages counted per process). */
  vmHwmSumKb: number;
  steps: StepResult[];
  error?: string;
}

export interface SipBenchReport {
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; node: string; sipp: string; kamailio: string };
  settings: { rates: number[]; stepSeconds: number; transport: 'udp' };
  results: TargetResult[];
  /** Per workload, the engine mode with the higher clean rate (CPU at 1,000/s breaks ties). */
  fasterEngineMode: Record<string, TargetKind | undefined>;
}

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${value.toFixed(2)} ms`;
}

function kamailioRate(results: TargetResult[], workload: string): number {
  return results.find((r) => r.workload === workload && r.target === 'kamailio')?.maxCleanRate ?? 0;
}

export function ratio(results: TargetResult[], r: TargetResult): string {
  if (r.target === 'kamailio' || r.error) return '';
  const base = kamailioRate(results, r.workload);
  return base > 0 ? (r.maxCleanRate / base).toFixed(2) : '-';
}

export function formatTable(report: SipBenchReport): string {
  const header = ['workload', 'target', 'max clean rate', 'p50 @1k/s', 'p99 @1k/s', 'CPU % @1k/s', 'peak RSS', 'engine/Kamailio'];
  const rows = report.results.map((r) => [
    r.workloadLabel,
    TARGET_LABELS[r.target],
    r.error ? `error: ${r.error.slice(0, 40)}` : `${r.limitedBySipp ? '>=' : ''}${r.maxCleanRate}/s`,
    ms(r.p50MsAt1000) + (r.cleanAt1000 === false ? '*' : ''),
    ms(r.p99MsAt1000) + (r.cleanAt1000 === false ? '*' : ''),
    r.cpuPctAt1000 === undefined ? '-' : r.cpuPctAt1000.toFixed(0),
    r.peakRssKb > 0 ? `${(r.peakRssKb / 1024).toFixed(0)} MiB` : '-',
    ratio(report.results, r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const note = report.results.some((r) => r.cleanAt1000 === false) ? '\n* the 1,000/s step was not clean for this target' : '';
  return [line(header), rule, ...rows.map(line)].join('\n') + note;
}

const COLORS: Record<TargetKind, string> = {
  kamailio: '#4e79a7',
  'engine-inproc': '#f28e2b',
  'engine-worker': '#59a14f',
};

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Grouped bars: one group per workload, one bar per target, height = max clean rate. */
export function renderSvg(report: SipBenchReport): string {
  const workloads = [...new Set(report.results.map((r) => r.workloadLabel))];
  const targets = [...new Set(report.results.map((r) => r.target))];
  const width = 760;
  const height = 380;
  const left = 70;
  const bottom = 320;
  const top = 50;
  const plotWidth = width - left - 20;
  const max = Math.max(1000, ...report.results.map((r) => r.maxCleanRate));
  const scale = (v: number): number => ((bottom - top) * v) / max;
  const groupWidth = plotWidth / Math.max(1, workloads.length);
  const barWidth = Math.min(60, (groupWidth - 30) / Math.max(1, targets.length));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">Highest clean rate (calls/s, sipp over UDP, no failure, no retransmission)</text>`,
    `<line x1="${left}" y1="${bottom}" x2="${width - 20}" y2="${bottom}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = Math.round((max * i) / 4);
    const y = bottom - scale(v);
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end">${v}</text>`);
    parts.push(`<line x1="${left}" y1="${y}" x2="${width - 20}" y2="${y}" stroke="#ddd"/>`);
  }
  workloads.forEach((workload, wi) => {
    const x0 = left + wi * groupWidth + (groupWidth - barWidth * targets.length) / 2;
    targets.forEach((target, ti) => {
      const r = report.results.find((x) => x.workloadLabel === workload && x.target === target);
      if (!r) return;
      const h = scale(r.maxCleanRate);
      const x = x0 + ti * barWidth;
      parts.push(`<rect x="${x.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${(barWidth - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[target]}"/>`);
      const label = r.error ? 'n/a' : `${r.limitedBySipp ? '≥' : ''}${r.maxCleanRate}`;
      parts.push(`<text x="${(x + (barWidth - 4) / 2).toFixed(1)}" y="${(bottom - h - 4).toFixed(1)}" text-anchor="middle">${label}</text>`);
    });
    parts.push(`<text x="${(left + wi * groupWidth + groupWidth / 2).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${escapeXml(workload)}</text>`);
  });
  targets.forEach((target, ti) => {
    const x = left + ti * 230;
    parts.push(`<rect x="${x}" y="${height - 24}" width="12" height="12" fill="${COLORS[target]}"/>`);
    parts.push(`<text x="${x + 18}" y="${height - 14}">${escapeXml(TARGET_LABELS[target])}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Writes sip-<time>.json, sip-latest.json and sip-latest.svg; returns their paths. */
export function writeResults(report: SipBenchReport): string[] {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const json = JSON.stringify(report, null, 2) + '\n';
  const files = [join(RESULTS_DIR, `sip-${stamp}.json`), join(RESULTS_DIR, 'sip-latest.json'), join(RESULTS_DIR, 'sip-latest.svg')];
  writeFileSync(files[0] as string, json);
  writeFileSync(files[1] as string, json);
  writeFileSync(files[2] as string, renderSvg(report));
  return files;
}
