// npm run bench:ocr [-- --backend auto|webgpu|wasm] [--seed N] [--layout memo|form|scan] [--json FILE] [--port N]
//   scan only: [--pages N] [--save-pages DIR] (writes the pages, their pixels as PNG and their text, and stops)
// Generated pages with known text through the app's OCR, in headless Chromium.
// memo and form: several sizes, fonts and contrasts drawn at 150 dpi and put in
// an image-only PDF. scan: small pages in the DejaVu fonts (headings, prose,
// code) damaged as cameras and scanners do (light and shadow, blur, low
// resolution, JPEG, noise, skew, perspective), each dropped as an image file;
// CER and lines found per kind of damage and overall. Prints the character
// error rate and the time per page; --json writes the rows and the totals.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { integer, oneOf, readArgs } from './lib/args.mjs';
import { withAppPage } from './lib/browser-page.mjs';

const usage = 'usage: npm run bench:ocr [-- --backend auto|webgpu|wasm] [--seed N] [--layout memo|form|scan] [--json FILE] [--port N] [--pages N] [--save-pages DIR]';
const { values: args } = readArgs(usage, {
  backend: { type: 'string', default: 'auto' },
  seed: { type: 'string', default: '100' },
  layout: { type: 'string', default: 'memo' },
  json: { type: 'string' },
  port: { type: 'string', default: '5312' },
  pages: { type: 'string' },
  'save-pages': { type: 'string' },
});
const backend = oneOf('backend', args.backend, ['auto', 'webgpu', 'wasm']);
const layout = oneOf('layout', args.layout, ['memo', 'form', 'scan']);
const seed = integer('seed', args.seed);
const port = integer('port', args.port);
const pages = args.pages === undefined ? undefined : integer('pages', args.pages);
const saveDir = args['save-pages'];

const pad = (v, n) => String(v).padEnd(n);
const pct = (v) => `${(100 * v).toFixed(2)}%`;

/** Sums rows into { cer, errors, length, linesFound, lines, msPerPage, pages }. */
function total(rows) {
  const t = rows.reduce((a, r) => ({ errors: a.errors + r.errors, length: a.length + r.length, linesFound: a.linesFound + (r.linesFound ?? 0), lines: a.lines + (r.lines ?? 0), ms: a.ms + r.ms }), { errors: 0, length: 0, linesFound: 0, lines: 0, ms: 0 });
  return { cer: t.errors / Math.max(1, t.length), errors: t.errors, length: t.length, linesFound: t.linesFound, lines: t.lines, msPerPage: t.ms / Math.max(1, rows.length), pages: rows.length };
}

/** Vite may reload the page once while it optimizes dependencies on a cold start: the run starts again then. */
async function retryOnReload(page, fn) {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.waitForFunction(() => window.ocrTool !== undefined);
      return await fn();
    } catch (e) {
      if (attempt >= 3 || !String(e?.message).includes('Execution context was destroyed')) throw e;
      await page.waitForLoadState('load');
    }
  }
}

const rows = await withAppPage('/ocr.html', (page) => retryOnReload(page, async () => {
  if (saveDir) {
    mkdirSync(saveDir, { recursive: true });
    for (let i = 0; i < (pages ?? 24); i++) {
      const f = await page.evaluate(({ s, k }) => window.ocrTool.scanPageFiles(s, k), { s: seed, k: i });
      writeFileSync(join(saveDir, f.name), Buffer.from(f.file, 'base64'));
      writeFileSync(join(saveDir, `${f.name}.pixels.png`), Buffer.from(f.png, 'base64'));
      writeFileSync(join(saveDir, `${f.name}.txt`), `${f.text.join('\n')}\n`);
    }
    console.log(`wrote ${pages ?? 24} pages to ${saveDir}`);
    return null;
  }
  if (layout === 'scan') return page.evaluate(({ s, b, n }) => window.ocrTool.benchScan(s, { backend: b }, n), { s: seed, b: backend, n: pages });
  return page.evaluate(({ s, b, l }) => window.ocrTool.bench(s, { backend: b }, l), { s: seed, b: backend, l: layout });
}), { port });

if (rows === null) process.exit(0);
console.log(`backend ${backend}, seed ${seed}, layout ${layout}`);
let summary;
if (layout === 'scan') {
  console.log(`${pad('page', 5)}${pad('damage', 13)}${pad('font', 18)}${pad('x-h', 6)}${pad('CER', 8)}${pad('errors', 10)}${pad('lines', 8)}ms`);
  for (const r of rows) {
    console.log(`${pad(r.page, 5)}${pad(r.degradation, 13)}${pad(r.font, 18)}${pad(r.xHeight.toFixed(1), 6)}${pad(pct(r.cer), 8)}${pad(`${r.errors}/${r.length}`, 10)}${pad(`${r.linesFound}/${r.lines}`, 8)}${r.ms.toFixed(0)}`);
    if (r.worst) console.log(`     worst line: ${r.worst}`);
  }
  const kinds = [...new Set(rows.map((r) => r.degradation))];
  const byDamage = Object.fromEntries(kinds.map((k) => [k, total(rows.filter((r) => r.degradation === k))]));
  console.log(`\n${pad('damage', 13)}${pad('CER', 8)}${pad('lines found', 16)}ms/page`);
  for (const [k, t] of Object.entries(byDamage)) console.log(`${pad(k, 13)}${pad(pct(t.cer), 8)}${pad(`${pct(t.linesFound / Math.max(1, t.lines))} (${t.linesFound}/${t.lines})`, 16)}${t.msPerPage.toFixed(0)}`);
  const all = total(rows);
  console.log(`${pad('overall', 13)}${pad(pct(all.cer), 8)}${pad(`${pct(all.linesFound / Math.max(1, all.lines))} (${all.linesFound}/${all.lines})`, 16)}${all.msPerPage.toFixed(0)}`);
  summary = { overall: all, byDamage };
} else {
  console.log(`${pad('page', 5)}${pad('style', 48)}${pad('CER', 8)}${pad('errors', 12)}ms`);
  for (const r of rows) {
    console.log(`${pad(r.page, 5)}${pad(r.style, 48)}${pad(pct(r.cer), 8)}${pad(`${r.errors}/${r.length}`, 12)}${r.ms.toFixed(0)}`);
    if (r.worst) console.log(`     worst line: ${r.worst}`);
  }
  const all = total(rows);
  console.log(`overall CER ${pct(all.cer)} (${all.errors}/${all.length} characters), ${all.msPerPage.toFixed(0)} ms/page over ${rows.length} pages`);
  summary = { overall: { cer: all.cer, errors: all.errors, length: all.length, msPerPage: all.msPerPage, pages: all.pages } };
}
if (args.json) {
  writeFileSync(args.json, `${JSON.stringify({ backend, seed, layout, ...summary, rows }, null, 2)}\n`);
  console.log(`wrote ${args.json}`);
}
