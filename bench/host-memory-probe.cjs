// Preloaded (node --expose-gc --require) into a host the benchmarks run as
// it ships (a build's `core/bin/switchboard.js start`): on SIGUSR2 it
// reads the RSS (and its anonymous and file-backed parts) as the host has it, then
// collects garbage twice and, a second later, writes that and process.memoryUsage() as JSON to the
// file named by SB_BENCH_MEM_FILE, so a benchmark can read the heap beside
// /proc's RSS. Nothing else in the host changes.
'use strict';
const { readFileSync, writeFileSync, renameSync } = require('node:fs');
const { getHeapSpaceStatistics } = require('node:v8');

const file = process.env.SB_BENCH_MEM_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    // The host as it is, first, as an admin would read it: the forced collections below are the
    // probe's doing and move the RSS either way (the registrar build, 6 December: 111.3 MiB at
    // rest, 103.9 a second after them; with 5,000 users 120.3 and 120.2). Both are reported.
    const atRest = statusKb();
    if (typeof globalThis.gc === 'function') {
      globalThis.gc();
      globalThis.gc();
    }
    // V8 hands the pages a collection freed back to the system from a background task
    // (its unmapper): read once that is done, not in the middle of it.
    setTimeout(() => write(file, atRest), 1000);
  });
}

/** RSS, and its anonymous and file-backed parts, from /proc (KiB). */
function statusKb() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name) => Number((new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status) ?? [])[1] ?? 0);
  return { rssKb: field('VmRSS'), rssAnonKb: field('RssAnon'), rssFileKb: field('RssFile') };
}

function write(file, atRest) {
  const m = process.memoryUsage();
  const kb = (n) => Math.round(n / 1024);
  const collected = statusKb();
  writeFileSync(`${file}.tmp`, JSON.stringify({
    // At rest (before the probe's collection): where the resident memory is, anonymous (heaps,
    // malloc) or file pages (mostly the node binary).
    rssKb: atRest.rssKb, rssAnonKb: atRest.rssAnonKb, rssFileKb: atRest.rssFileKb,
    // After it: the heap's live size, and what the collection itself left resident.
    heapUsedKb: kb(m.heapUsed), heapTotalKb: kb(m.heapTotal), externalKb: kb(m.external), rssAfterGcKb: collected.rssKb,
    gc: typeof globalThis.gc === 'function',
    spacesKb: Object.fromEntries(getHeapSpaceStatistics().map((sp) => [sp.space_name, [kb(sp.space_size), kb(sp.space_used_size)]])),
  }));
  renameSync(`${file}.tmp`, file);
}
