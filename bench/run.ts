/**
 * Benchmark dispatcher: `npm run bench -- <name> [args...]` runs `bench/<name>.ts`'s `run(args)`.
 */
const benches: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  emulator: () => import('./emulator.js'),
  cache: () => import('./cache.js'),
  'table-sync': () => import('./table-sync.js'),
  'watermark-sync': () => import('./watermark-sync.js'),
  'execution-upload': () => import('./execution-upload.js'),
};

const [name, ...args] = process.argv.slice(2);
const load = name ? benches[name] : undefined;
if (!load) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [args...]`);
  process.exit(2);
}
await (await load()).run(args);
