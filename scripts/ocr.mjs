// npm run ocr -- FILE [--json OUT] [--backend auto|webgpu|wasm] [--force-ocr]
// OCRs an image (PNG, JPEG, WebP) or a PDF with the app's own pipeline, in
// headless Chromium (the engine worker, pdf.js, onnxruntime-web), and prints
// the lines. A PDF page with a text layer is taken from it unless --force-ocr.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { argValue, withAppPage } from './lib/browser-page.mjs';

const file = process.argv.slice(2).find((a, i, all) => !a.startsWith('--') && !['--json', '--backend'].includes(all[i - 1] ?? ''));
if (!file) {
  console.error('usage: npm run ocr -- FILE [--json OUT] [--backend auto|webgpu|wasm] [--force-ocr]');
  process.exit(2);
}
const jsonPath = argValue('--json');
const options = { backend: argValue('--backend') ?? 'auto', forceOcr: process.argv.includes('--force-ocr') };
const base64 = readFileSync(file).toString('base64');

const outcome = await withAppPage('/ocr.html', async (page) => {
  await page.waitForFunction(() => window.ocrTool !== undefined);
  return page.evaluate(
    async ({ name, data, opts }) => {
      try {
        return { result: await window.ocrTool.ocrFile(name, data, opts) };
      } catch (e) {
        return { error: { code: e.code ?? 'internal', message: e.message ?? String(e) } };
      }
    },
    { name: basename(file), data: base64, opts: options },
  );
}, { port: 5311 });

if (outcome.error) {
  console.error(`${outcome.error.code}: ${outcome.error.message}`);
  process.exit(1);
}
const round = (v) => Math.round(v * 10) / 10;
const pages = outcome.result.pages.map((p) => ({
  page: p.page,
  source: p.source,
  lines: p.lines.map((l) => ({ text: l.text, box: { x: round(l.box.x), y: round(l.box.y), width: round(l.box.width), height: round(l.box.height) }, confidence: Math.round(l.confidence * 1000) / 1000 })),
}));
for (const p of pages) {
  console.log(`--- page ${p.page} (${p.source}, ${p.lines.length} lines)`);
  for (const l of p.lines) console.log(l.text);
}
if (jsonPath) {
  writeFileSync(jsonPath, `${JSON.stringify({ pages }, null, 2)}\n`);
  console.log(`wrote ${jsonPath}`);
}
