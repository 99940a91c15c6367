// npm run bench:model [-- --json FILE] [--runs N]
// Every engine (native, onnx, transformers) on the bundled model (the runner the app's Benchmark view uses) in headless Chromium through the app's worker:
// encode ms, time to first token, decode tokens/s, GPU memory, native/onnx and native/transformers ratios.
import { writeFileSync } from 'node:fs';
import { integer, readArgs } from './lib/args.mjs';
import { runBenchPage } from './lib/browser-page.mjs';

const { values: args } = readArgs('usage: npm run bench:model [-- --json FILE] [--runs N]', {
  json: { type: 'string' },
  runs: { type: 'string', default: '5' },
});
const runs = integer('runs', args.runs, 1);
const result = await runBenchPage({ suite: 'model', runs: String(runs) });
console.log(result.table);
const jsonPath = args.json;
if (jsonPath) {
  // The page's own JSON text: byte for byte what the app's Benchmark view downloads.
  writeFileSync(jsonPath, result.json);
  console.log(`wrote ${jsonPath}`);
}
