// npm run bench:kernels [-- --json FILE] [--filter TEXT]
// Runs bench.html's kernel suite in headless Chromium: our WGSL kernels and onnxruntime-web's
// WebGPU provider on the same shapes, same device, same page.
import { writeFileSync } from 'node:fs';
import { readArgs } from './lib/args.mjs';
import { runBenchPage } from './lib/browser-page.mjs';

const { values: args } = readArgs('usage: npm run bench:kernels [-- --json FILE] [--filter TEXT]', {
  json: { type: 'string' },
  filter: { type: 'string', default: '' },
});
const jsonPath = args.json;
const result = await runBenchPage({ suite: 'kernels', filter: args.filter });

console.log(`adapter: ${result.result.adapter}`);
console.log(result.table);
if (jsonPath) {
  const { rows, copyGBps } = result.result;
  writeFileSync(
    jsonPath,
    `${JSON.stringify({ adapter: result.result.adapter, rows: rows.map(({ op, shape, oursMs, ortMs, ratio, maxDiff }) => ({ op, shape, oursMs, ortMs, ratio, maxDiff })), copyGBps }, null, 2)}\n`,
  );
  console.log(`wrote ${jsonPath}`);
}
