/**
 * The page behind `npm run ocr` and `npm run bench:ocr`, and the e2e specs'
 * source of test documents: it runs the app's own engine worker and exposes
 * a few functions on `window.ocrTool` for a script to call.
 */
import * as Comlink from 'comlink';
import { startEngine } from '../worker/client';
import type { DocumentResult, OcrDocumentOptions } from '../worker/api';
import { characterErrorRate } from '../eval/cer';
import { type PageStyle, canvasPng, corruptPdf, drawPage, encryptedPdf, formLines, imagePdf, PAGE_STYLES, pageLines, repeatedImagePdf, textPdf } from './test-documents';
import { SCAN_PAGES, scanPage } from './scan-pages';

const { api } = startEngine();

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export type TestDocKind = 'image-pdf' | 'form-pdf' | 'long-scan-pdf' | 'blank-page-pdf' | 'text-pdf' | 'encrypted-pdf' | 'corrupt-pdf' | 'png' | 'blank-png';

/** A generated document (base64) and the text it holds, one string per page. */
async function makeDocument(kind: TestDocKind, pages = 1, seed = 1): Promise<{ base64: string; text: string[] }> {
  const texts = Array.from({ length: pages }, (_, i) => pageLines(seed + i, 8));
  const styleOf = (i: number) => PAGE_STYLES[i % PAGE_STYLES.length] as PageStyle;
  switch (kind) {
    case 'image-pdf': {
      const pngs = await Promise.all(texts.map((t, i) => canvasPng(drawPage(t, styleOf(i)))));
      return { base64: toBase64(await imagePdf(pngs)), text: texts.map((t) => t.join('\n')) };
    }
    case 'form-pdf': {
      // Pages laid out like the data generator's documents (title, date, body, table), with no text layer.
      const forms = texts.map((_, i) => formLines(seed + i));
      const pngs = await Promise.all(forms.map((t, i) => canvasPng(drawPage(t, styleOf(i)))));
      return { base64: toBase64(await imagePdf(pngs)), text: forms.map((t) => t.join('\n')) };
    }
    case 'long-scan-pdf': {
      // `pages` scanned pages (no text layer) showing the same page image.
      const lines = pageLines(seed, 8);
      const png = await canvasPng(drawPage(lines, styleOf(0)));
      return { base64: toBase64(await repeatedImagePdf(png, pages)), text: Array.from({ length: pages }, () => lines.join('\n')) };
    }
    case 'blank-page-pdf':
      // A typed first page, then an empty one (no text layer, nothing to OCR).
      return { base64: toBase64(await textPdf([texts[0] ?? [], []])), text: [texts[0]?.join('\n') ?? '', ''] };
    case 'text-pdf':
      return { base64: toBase64(await textPdf(texts)), text: texts.map((t) => t.join('\n')) };
    case 'png':
      return { base64: toBase64(await canvasPng(drawPage(texts[0] ?? [], styleOf(0)))), text: [texts[0]?.join('\n') ?? ''] };
    case 'blank-png':
      return { base64: toBase64(await canvasPng(drawPage([], styleOf(0), 400, 300))), text: [''] };
    case 'encrypted-pdf':
      return { base64: toBase64(encryptedPdf()), text: [] };
    case 'corrupt-pdf':
      return { base64: toBase64(corruptPdf()), text: [] };
  }
}

/** OCR of a file through the engine worker; page images are left out (they are for display). */
async function ocrFile(name: string, base64: string, options: OcrDocumentOptions = {}): Promise<DocumentResult> {
  const bytes = fromBase64(base64);
  return api.ocrDocument(Comlink.transfer({ name, bytes: bytes.buffer }, [bytes.buffer]), { maxPages: 10_000, ...options, pageImages: false });
}

export interface BenchRow {
  page: number;
  style: string;
  source: string;
  cer: number;
  errors: number;
  length: number;
  ms: number;
  worst: string;
}

/** Memo pages (`pageLines`) or pages laid out like the data generator's documents (`formLines`: short lines, a table). */
export type BenchLayout = 'memo' | 'form';

/** One image-only PDF page per style, OCR'd; CER and time per page. */
async function bench(seed = 100, options: OcrDocumentOptions = {}, layout: BenchLayout = 'memo'): Promise<BenchRow[]> {
  const texts = PAGE_STYLES.map((_, i) => (layout === 'form' ? formLines(seed + i) : pageLines(seed + i, 10)));
  const pngs = await Promise.all(texts.map((t, i) => canvasPng(drawPage(t, PAGE_STYLES[i] as PageStyle))));
  const pdf = await imagePdf(pngs);
  // A first call loads the models and warms the sessions, so time per page is the steady state.
  await ocrFile('warm-up.pdf', toBase64(await imagePdf(pngs.slice(0, 1))), options);
  const result = await ocrFile('bench.pdf', toBase64(pdf), options);
  return result.pages.map((p, i) => {
    const reference = texts[i] ?? [];
    const got = p.lines.map((l) => l.text);
    const c = characterErrorRate(reference.join('\n'), got.join('\n'));
    const style = PAGE_STYLES[i % PAGE_STYLES.length] as PageStyle;
    const worst = reference.map((r, k) => ({ r, g: got[k] ?? '', e: characterErrorRate(r, got[k] ?? '').errors })).sort((a, b) => b.e - a.e)[0];
    return { page: p.page, style: `${style.px}px ${style.ink} on ${style.paper} ${style.font.split(',')[0]}`, source: p.source, ...c, ms: p.ms, worst: worst && worst.e > 0 ? `${worst.r} => ${worst.g}` : '' };
  });
}

export interface ScanBenchRow {
  page: number;
  name: string;
  degradation: string;
  font: string;
  xHeight: number;
  cer: number;
  errors: number;
  length: number;
  /** Reference lines read with at most half their characters wrong, of `lines`. */
  linesFound: number;
  lines: number;
  ms: number;
  worst: string;
}

/** A line counts as found when some OCR line reads it with a CER of at most this (a missed line scores 1). */
const FOUND_CER = 0.5;

function scoreScan(reference: readonly string[], got: readonly string[]): { found: number; worst: string } {
  let found = 0;
  let worst = { e: 0, s: '' };
  for (const r of reference) {
    const best = got.map((g) => ({ g, c: characterErrorRate(r, g) })).sort((a, b) => a.c.errors - b.c.errors)[0];
    const c = best?.c.cer ?? 1;
    if (c <= FOUND_CER) found++;
    const e = best?.c.errors ?? r.length;
    if (e > worst.e) worst = { e, s: `${r} => ${c <= FOUND_CER ? (best?.g ?? '') : '(not found)'}` };
  }
  return { found, worst: worst.s };
}

/** The scan layout: generated photographed/scanned pages, each OCR'd as the image file a person would drop. */
async function benchScan(seed = 100, options: OcrDocumentOptions = {}, pages = SCAN_PAGES): Promise<ScanBenchRow[]> {
  const first = await scanPage(seed, 0);
  await ocrFile(first.name, toBase64(first.bytes), options);
  const rows: ScanBenchRow[] = [];
  for (let i = 0; i < pages; i++) {
    const p = await scanPage(seed, i);
    const result = await ocrFile(p.name, toBase64(p.bytes), options);
    const got = result.pages[0]?.lines.map((l) => l.text) ?? [];
    const c = characterErrorRate(p.lines.join('\n'), got.join('\n'));
    const { found, worst } = scoreScan(p.lines, got);
    rows.push({ page: i + 1, name: p.name, degradation: p.degradation, font: p.font, xHeight: p.xHeight, ...c, linesFound: found, lines: p.lines.length, ms: result.pages[0]?.ms ?? 0, worst });
  }
  return rows;
}

/** One scan page as its file and as PNG pixels (what a reader of the file sees), with its text. */
async function scanPageFiles(seed: number, index: number): Promise<{ name: string; file: string; png: string; text: string[]; width: number; height: number }> {
  const p = await scanPage(seed, index);
  const canvas = new OffscreenCanvas(p.image.width, p.image.height);
  (canvas.getContext('2d') as OffscreenCanvasRenderingContext2D).putImageData(new ImageData(new Uint8ClampedArray(p.image.data), p.image.width, p.image.height), 0, 0);
  return { name: p.name, file: toBase64(p.bytes), png: toBase64(await canvasPng(canvas)), text: p.lines, width: p.image.width, height: p.image.height };
}

declare global {
  interface Window {
    ocrTool?: { makeDocument: typeof makeDocument; ocrFile: typeof ocrFile; bench: typeof bench; benchScan: typeof benchScan; scanPageFiles: typeof scanPageFiles };
  }
}

window.ocrTool = { makeDocument, ocrFile, bench, benchScan, scanPageFiles };
