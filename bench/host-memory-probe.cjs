// Preloaded (node --expose-gc --require) into a host the benchmarks run as
// it ships (a build's `core/bin/switchboard.js start`): on SIGUSR2 it
// collects garbage twice and, a second later, writes process.memoryUsage() (and the RSS's
// anonymous and file-backed parts) as JSON to the
// file named by SB_BENCH_MEM_FILE, so a benchmark can read the heap beside
// /proc's RSS. Nothing else in the host changes.
'use strict';
const { readFileSync, writeFileSync, renameSync } = require('node:fs');
const { getHeapSpaceStatistics } = require('node:v8');

const file = process.env.SB_BENCH_MEM_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    if (typeof globalThis.gc === 'function') {
      globalThis.gc();
      globalThis.gc();
    }
    // V8 hands the pages a collection freed back to the system from a background task
    // (its unmapper): read once that is done, not in the middle of it.
    setTimeout(() => write(file), 1000);
  });
}

function write(file) {
  const m = process.memoryUsage();
  const kb = (n) => Math.round(n / 1024);
  // Where the resident memory is: anonymous (heaps, malloc) or file pages (mostly the node binary).
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name) => Number((new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status) ?? [])[1] ?? 0);
  writeFileSync(`${file}.tmp`, JSON.stringify({
    rssKb: kb(m.rss), heapUsedKb: kb(m.heapUsed), heapTotalKb: kb(m.heapTotal), externalKb: kb(m.external),
    rssAnonKb: field('RssAnon'), rssFileKb: field('RssFile'), gc: typeof globalThis.gc === 'function',
    spacesKb: Object.fromEntries(getHeapSpaceStatistics().map((sp) => [sp.space_name, [kb(sp.space_size), kb(sp.space_used_size)]])),
  }));
  renameSync(`${file}.tmp`, file);
}
