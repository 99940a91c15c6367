// npm run bench:kernels [-- --json FILE] [--filter TEXT]
// Runs bench.html in headless Chromium: our WGSL kernels and onnxruntime-web's
// WebGPU provider on the same shapes, same device, same page.
import { writeFileSync } from 'node:fs';
import { readArgs } from './lib/args.mjs';
import { withAppPage } from './lib/browser-page.mjs';

const { values: args } = readArgs('usage: npm run bench:kernels [-- --json FILE] [--filter TEXT]', {
  json: { type: 'string' },
  filter: { type: 'string', default: '' },
});
const jsonPath = args.json;
const filter = args.filter;
const query = filter ? `?filter=${encodeURIComponent(filter)}` : '';

const result = await withAppPage(`/bench.html${query}`, async (page) => {
  await page.waitForFunction(() => window.benchResult || window.benchError, null, { timeout: 30 * 60_000, polling: 1000 });
  const error = await page.evaluate(() => window.benchError);
  if (error) throw new Error(`benchmark failed in the page: ${error}`);
  const table = await page.textContent('#bench-table');
  return { table, result: await page.evaluate(() => window.benchResult) };
});

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
