// Module resolve hook (node:module register) used by compiled.js when
// compiled code imports TypeScript: `@switchboard/core` and
// `@switchboard/sdk` (and their subpaths) resolve to the host's compiled
// modules instead of the packages' TypeScript sources.
let map = {};

export function initialize(data) {
  map = data?.map ?? {};
}

export async function resolve(specifier, context, nextResolve) {
  const url = map[specifier];
  if (url) return { url, format: 'module', shortCircuit: true };
  return nextResolve(specifier, context);
}
