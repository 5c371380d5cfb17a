// `npm run bench [-- NAME [options]]`: runs one benchmark by name, or all of
// them when no name is given. Benchmarks are not tests: they print numbers
// and write bench/results/, they do not pass or fail.
const BENCHES: Record<string, () => Promise<{ run(argv: string[]): Promise<void> }>> = {
  sip: () => import('./sip.ts'),
  register: () => import('./register.ts'),
  startup: () => import('./startup.ts'),
  'build-size': () => import('./build-size.ts'),
  presence: () => import('./presence.ts'),
  im: () => import('./im.ts'),
};

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const names = name && !name.startsWith('-') ? [name] : Object.keys(BENCHES);
  const args = name && !name.startsWith('-') ? rest : process.argv.slice(2);
  for (const bench of names) {
    const load = BENCHES[bench];
    if (!load) throw new Error(`unknown benchmark "${bench}"; available: ${Object.keys(BENCHES).join(', ')}`);
    await (await load()).run(args);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
