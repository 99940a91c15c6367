// Runs a TypeScript entry point under Node 20, which cannot strip types itself:
// Vite's module runner (already a dependency, through vitest) transforms it and
// resolves extension-less imports the way the app's bundler does.
// Usage: node scripts/run-ts.mjs path/to/script.ts [args...]; the script exports
// `main(args: string[]): Promise<number> | number`, whose result is the exit code.
import { resolve } from 'node:path';
import { runnerImport } from 'vite';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs <script.ts> [args...]');
  process.exit(2);
}
const { module } = await runnerImport(resolve(entry), { configFile: false, logLevel: 'error' });
if (typeof module.main !== 'function') {
  console.error(`${entry} does not export a main(args) function`);
  process.exit(2);
}
process.exitCode = await module.main(args);
