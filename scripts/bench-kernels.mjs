// npm run bench:kernels [-- --json FILE] [--filter TEXT] [--quick]
// Runs bench.html's kernel suite (the runner the app's Benchmark view uses) in headless Chromium: our WGSL kernels and onnxruntime-web's
// WebGPU provider on the same shapes, same device, same page.
import { writeFileSync } from 'node:fs';
import { readArgs } from './lib/args.mjs';
import { runBenchPage } from './lib/browser-page.mjs';

const { values: args } = readArgs('usage: npm run bench:kernels [-- --json FILE] [--filter TEXT] [--quick]', {
  json: { type: 'string' },
  filter: { type: 'string', default: '' },
  quick: { type: 'boolean', default: false },
});
const jsonPath = args.json;
const result = await runBenchPage({ suite: 'kernels', filter: args.filter, set: args.quick ? 'quick' : 'all' });

console.log(`adapter: ${result.result.adapter}`);
console.log(result.table);
if (jsonPath) {
  // The page's own JSON text: byte for byte what the app's Benchmark view downloads.
  writeFileSync(jsonPath, result.json);
  console.log(`wrote ${jsonPath}`);
}
