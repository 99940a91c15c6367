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

declare global {
  interface Window {
    ocrTool?: { makeDocument: typeof makeDocument; ocrFile: typeof ocrFile; bench: typeof bench };
  }
}

window.ocrTool = { makeDocument, ocrFile, bench };
