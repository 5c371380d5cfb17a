/**
 * `import()` of a module chosen at run time (a plugin's main or migration,
 * by file URL). When the host runs from the code-cached start-up bundle
 * (core/bin/compiled.js loadCachedBundle), an `import()` written in the
 * bundle itself fails in Node 20 ("A dynamic import callback was not
 * specified": the callback is lost when V8 takes the script from its code
 * cache), so the bin puts an `import()` of its own on globalThis and this
 * goes through it; everywhere else it is a plain `import()`.
 */
export const IMPORT_HOOK = Symbol.for('switchboard.import');

export function importModule<T = Record<string, unknown>>(specifier: string): Promise<T> {
  const viaBin = (globalThis as Record<symbol, unknown>)[IMPORT_HOOK];
  return (typeof viaBin === 'function' ? (viaBin as (s: string) => Promise<unknown>)(specifier) : import(specifier)) as Promise<T>;
}
