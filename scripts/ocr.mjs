// npm run ocr -- FILE [--json OUT] [--backend auto|webgpu|wasm] [--force-ocr]
// OCRs an image (PNG, JPEG, WebP) or a PDF with the app's own pipeline, in
// headless Chromium (the engine worker, pdf.js, onnxruntime-web), and prints
// the lines. A PDF page with a text layer is taken from it unless --force-ocr.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { oneOf, readArgs } from './lib/args.mjs';
import { withAppPage } from './lib/browser-page.mjs';

const usage = 'usage: npm run ocr -- FILE [--json OUT] [--backend auto|webgpu|wasm] [--force-ocr]';
const { values: args, positionals } = readArgs(
  usage,
  { json: { type: 'string' }, backend: { type: 'string', default: 'auto' }, 'force-ocr': { type: 'boolean', default: false } },
  { allowPositionals: true },
);
const [file, ...extra] = positionals;
if (!file || extra.length > 0) {
  console.error(usage);
  process.exit(2);
}
const jsonPath = args.json;
const options = { backend: oneOf('backend', args.backend, ['auto', 'webgpu', 'wasm']), forceOcr: args['force-ocr'] };
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
