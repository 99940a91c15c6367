// npm run bench:ocr [-- --backend auto|webgpu|wasm] [--seed N] [--layout memo|form]
// Generated pages with known text (several sizes, fonts and contrasts, drawn
// at 150 dpi in Chromium, put in an image-only PDF) through the app's OCR:
// prints the character error rate and the time per page.
import { integer, oneOf, readArgs } from './lib/args.mjs';
import { withAppPage } from './lib/browser-page.mjs';

const { values: args } = readArgs('usage: npm run bench:ocr [-- --backend auto|webgpu|wasm] [--seed N] [--layout memo|form]', {
  backend: { type: 'string', default: 'auto' },
  seed: { type: 'string', default: '100' },
  layout: { type: 'string', default: 'memo' },
});
const backend = oneOf('backend', args.backend, ['auto', 'webgpu', 'wasm']);
const layout = oneOf('layout', args.layout, ['memo', 'form']);
const seed = integer('seed', args.seed);

const rows = await withAppPage('/ocr.html', async (page) => {
  await page.waitForFunction(() => window.ocrTool !== undefined);
  return page.evaluate(({ s, b, l }) => window.ocrTool.bench(s, { backend: b }, l), { s: seed, b: backend, l: layout });
}, { port: 5312 });

const pad = (v, n) => String(v).padEnd(n);
console.log(`backend ${backend}, seed ${seed}, layout ${layout}`);
console.log(`${pad('page', 5)}${pad('style', 48)}${pad('CER', 8)}${pad('errors', 12)}ms`);
let errors = 0;
let length = 0;
let ms = 0;
for (const r of rows) {
  errors += r.errors;
  length += r.length;
  ms += r.ms;
  console.log(`${pad(r.page, 5)}${pad(r.style, 48)}${pad((100 * r.cer).toFixed(2) + '%', 8)}${pad(`${r.errors}/${r.length}`, 12)}${r.ms.toFixed(0)}`);
  if (r.worst) console.log(`     worst line: ${r.worst}`);
}
console.log(`overall CER ${((100 * errors) / length).toFixed(2)}% (${errors}/${length} characters), ${(ms / rows.length).toFixed(0)} ms/page over ${rows.length} pages`);
