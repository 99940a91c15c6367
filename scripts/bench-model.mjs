// npm run bench:model [-- --json FILE] [--runs N]
// Both engines on the bundled model in headless Chromium through the app's worker:
// encode ms, time to first token, decode tokens/s, GPU memory, native/onnx ratios.
import { writeFileSync } from 'node:fs';
import { integer, readArgs } from './lib/args.mjs';
import { withAppPage } from './lib/browser-page.mjs';

const { values: args } = readArgs('usage: npm run bench:model [-- --json FILE] [--runs N]', {
  json: { type: 'string' },
  runs: { type: 'string', default: '5' },
});
const runs = integer('runs', args.runs, 1);
const result = await withAppPage(`/bench-model.html?runs=${runs}`, async (page) => {
  await page.waitForFunction(() => window.modelBenchResult || window.modelBenchError, null, { timeout: 30 * 60_000, polling: 1000 });
  const error = await page.evaluate(() => window.modelBenchError);
  if (error) throw new Error(`model benchmark failed in the page: ${error}`);
  return { table: await page.textContent('#bench-table'), json: await page.evaluate(() => window.modelBenchResult) };
});
console.log(result.table);
const jsonPath = args.json;
if (jsonPath) {
  writeFileSync(jsonPath, `${JSON.stringify(result.json, null, 2)}\n`);
  console.log(`wrote ${jsonPath}`);
}
