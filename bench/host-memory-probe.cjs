// Preloaded (node --expose-gc --require) into a host the benchmarks run as
// it ships (a build's `core/bin/switchboard.js start`): on SIGUSR2 it
// collects garbage twice and writes process.memoryUsage() as JSON to the
// file named by SB_BENCH_MEM_FILE, so a benchmark can read the heap beside
// /proc's RSS. Nothing else in the host changes.
'use strict';
const { writeFileSync, renameSync } = require('node:fs');

const file = process.env.SB_BENCH_MEM_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    if (typeof globalThis.gc === 'function') {
      globalThis.gc();
      globalThis.gc();
    }
    const m = process.memoryUsage();
    writeFileSync(`${file}.tmp`, JSON.stringify({ rssKb: Math.round(m.rss / 1024), heapUsedKb: Math.round(m.heapUsed / 1024), externalKb: Math.round(m.external / 1024), gc: typeof globalThis.gc === 'function' }));
    renameSync(`${file}.tmp`, file);
  });
}
