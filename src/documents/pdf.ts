/**
 * PDF pages through pdf.js, run inside the engine worker: pdf.js parses in its
 * own nested worker and paints onto OffscreenCanvas here, so neither step
 * touches the page's main thread. One page is loaded, rendered and released
 * at a time, which keeps memory flat however long the document is.
 */
import { getDocument, GlobalWorkerOptions, type PDFDocumentProxy } from 'pdfjs-dist';
import pdfWorkerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';
import { OcrError } from '../ocr/errors';
import { PDFJS_ASSETS_BASE } from '../runtime-assets';
import type { RgbaImage } from '../ocr/types';
import { cappedScale } from './page-scale';
import { textLayerLines, type TextRun, type ViewportTransform } from './text-layer';
import type { TextLine } from './types';

const PDFJS_BASE = PDFJS_ASSETS_BASE;

interface CanvasEntry {
  canvas: OffscreenCanvas | null;
  context: OffscreenCanvasRenderingContext2D | null;
}

/** pdf.js's scratch canvases, as OffscreenCanvas: a worker has no document. */
class OffscreenCanvasFactory {
  create(width: number, height: number): CanvasEntry {
    if (width <= 0 || height <= 0) throw new Error('Invalid canvas size');
    const canvas = new OffscreenCanvas(width, height);
    return { canvas, context: canvas.getContext('2d', { willReadFrequently: true }) };
  }
  reset(entry: CanvasEntry, width: number, height: number): void {
    if (!entry.canvas) throw new Error('Canvas is not specified');
    entry.canvas.width = width;
    entry.canvas.height = height;
  }
  destroy(entry: CanvasEntry): void {
    if (entry.canvas) entry.canvas.width = entry.canvas.height = 0;
    entry.canvas = null;
    entry.context = null;
  }
}

/** SVG colour filters need a DOM; without them pdf.js paints unfiltered. */
class NoFilterFactory {
  addFilter(): string {
    return 'none';
  }
  addHCMFilter(): string {
    return 'none';
  }
  addAlphaFilter(): string {
    return 'none';
  }
  addLuminosityFilter(): string {
    return 'none';
  }
  addHighlightHCMFilter(): string {
    return 'none';
  }
  destroy(): void {}
}

/** pdf.js error names -> what the person should be told. */
function openError(err: unknown, name: string): OcrError {
  const kind = err instanceof Error ? err.name : '';
  if (kind === 'PasswordException') return new OcrError('pdf-encrypted', `${name} is password-protected. Remove the password (print it to a new PDF) and try again.`);
  const detail = err instanceof Error ? err.message : String(err);
  return new OcrError('pdf-corrupt', `${name} could not be read as a PDF (${detail}).`);
}

export async function openPdf(bytes: Uint8Array, name: string): Promise<PDFDocumentProxy> {
  GlobalWorkerOptions.workerSrc = pdfWorkerUrl;
  const base = new URL(PDFJS_BASE, location.href).href;
  const task = getDocument({
    data: bytes,
    // Fonts and CMaps come from the package, served with the app: no network.
    standardFontDataUrl: `${base}standard_fonts/`,
    cMapUrl: `${base}cmaps/`,
    cMapPacked: true,
    wasmUrl: `${base}wasm/`,
    useWorkerFetch: true,
    // FontFace needs a document; glyphs are painted as paths instead.
    disableFontFace: true,
    useSystemFonts: false,
    isEvalSupported: false,
    CanvasFactory: OffscreenCanvasFactory,
    FilterFactory: NoFilterFactory,
  });
  // A password-protected file asks for the password instead of failing.
  task.onPassword = () => {
    void task.destroy();
  };
  try {
    return await task.promise;
  } catch (err) {
    throw openError(err, name);
  }
}

export interface RenderedPage {
  image: RgbaImage;
  canvas: OffscreenCanvas;
  /** Text-layer lines in the image's pixels; empty when the page has none. */
  textLines: TextLine[];
}

/** Renders one page at `scale` (1 = 72 dpi; less for a huge page, see cappedScale) and reads its text layer. */
export async function renderPdfPage(doc: PDFDocumentProxy, pageNumber: number, scale: number): Promise<RenderedPage> {
  const page = await doc.getPage(pageNumber);
  try {
    const points = page.getViewport({ scale: 1 });
    const viewport = page.getViewport({ scale: cappedScale(points.width, points.height, scale) });
    const width = Math.max(1, Math.round(viewport.width));
    const height = Math.max(1, Math.round(viewport.height));
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('OffscreenCanvas 2D is not available');
    context.fillStyle = '#fff';
    context.fillRect(0, 0, width, height);
    // pdf.js's types name HTMLCanvasElement; it only calls what OffscreenCanvas also has.
    await page.render({ canvas: canvas as unknown as HTMLCanvasElement, canvasContext: context as unknown as CanvasRenderingContext2D, viewport }).promise;
    const content = await page.getTextContent();
    const runs = content.items.filter((it): it is TextRun & typeof it => 'str' in it);
    const textLines = textLayerLines(runs, viewport.transform as unknown as ViewportTransform);
    const image = context.getImageData(0, 0, width, height);
    return { image: { width, height, data: image.data }, canvas, textLines };
  } finally {
    page.cleanup();
  }
}
