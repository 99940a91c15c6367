/**
 * The documents job: a dropped PDF or image becomes text, page by page. Each
 * PDF page is rendered, its text layer taken when it has one (no OCR then),
 * otherwise OCR'd; the page's pixels are released before the next one is
 * rendered, so a 500-page file costs the memory of one page. Progress and
 * each finished page go to the caller as events; the job's signal stops it
 * between steps.
 */
import { sniffFileKind, MIME } from '../../documents/file-kind';
import { decodeImageFile } from '../../documents/image-file';
import { openPdf, renderPdfPage } from '../../documents/pdf';
import { fromOcrLines, type OcrEngine, type PageResult, type TextLine } from '../../documents/types';
import { forgetBrowserOcr, loadBrowserOcr, type OcrBackend } from '../../ocr/browser-models';
import { OcrError, throwIfCancelled } from '../../ocr/errors';
import { ocrPage, type OcrOptions } from '../../ocr/ocr-pipeline';
import type { OcrLine, RgbaImage } from '../../ocr/types';
import type { DocumentEvent, DocumentFile, DocumentResult, OcrDocumentOptions, OcrImageInput } from '../api';

const DEFAULT_SCALE = 2;
const DEFAULT_MAX_PAGES = 20;

type Emit = (e: DocumentEvent) => void;

/** Who reads a page's pixels into lines: PP-OCR by default, or a loaded model (florence-ocr.ts). */
export interface PageReader {
  engine: OcrEngine;
  read(image: RgbaImage, signal: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<TextLine[]>;
}

/** PP-OCRv4 on this onnxruntime-web backend. */
export function ppOcrReader(backend: OcrBackend = 'auto'): PageReader {
  return { engine: 'pp-ocr', read: async (image, signal, onProgress) => fromOcrLines(await ocrWithFreshModels(backend, image, { signal, ...(onProgress ? { onProgress } : {}) })) };
}

interface PageWork {
  page: number;
  image: RgbaImage;
  canvas: OffscreenCanvas;
  textLines: TextLine[];
}

async function pageImage(canvas: OffscreenCanvas, wanted: boolean): Promise<Blob | null> {
  return wanted ? canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 }) : null;
}

async function readPage(work: PageWork, opts: OcrDocumentOptions, reader: PageReader, signal: AbortSignal, emit: Emit): Promise<PageResult> {
  const t0 = performance.now();
  const { image, page } = work;
  if (work.textLines.length > 0 && !opts.forceOcr) {
    return { page, source: 'text-layer', width: image.width, height: image.height, lines: work.textLines, ms: performance.now() - t0 };
  }
  const lines = await reader.read(image, signal, (done, total) => emit({ type: 'lines', page, done, total }));
  return { page, source: 'ocr', width: image.width, height: image.height, lines, ms: performance.now() - t0, ocrEngine: reader.engine };
}

/**
 * OCR of one page. When the models fail with anything but a cancel or a
 * reading error, their sessions are rebuilt once and the page read again:
 * WebGPU sessions die with a lost device, and a kept dead session would fail
 * every page after it.
 */
export async function ocrWithFreshModels(backend: OcrBackend, image: RgbaImage, options: Partial<OcrOptions>): Promise<OcrLine[]> {
  const models = await loadBrowserOcr(backend);
  try {
    return await ocrPage(models, image, options);
  } catch (err) {
    if (err instanceof OcrError || options.signal?.aborted) throw err;
    await forgetBrowserOcr(backend, models);
    return ocrPage(await loadBrowserOcr(backend), image, options);
  }
}

/** The worker's job queue runs these one at a time and owns their cancellation (the signal). */
export class DocumentJobs {
  /** `reader`: who reads pages without a text layer (PP-OCR on opts.backend unless given). */
  run(file: DocumentFile, opts: OcrDocumentOptions, emit: Emit, signal: AbortSignal, reader = ppOcrReader(opts.backend)): Promise<DocumentResult> {
    return this.process(file, opts, reader, signal, emit);
  }

  /** OCR of raw pixels (no file to decode): one page, always source 'ocr'. */
  async image(image: OcrImageInput, opts: Pick<OcrDocumentOptions, 'backend'>, signal: AbortSignal, reader = ppOcrReader(opts.backend)): Promise<PageResult> {
    if (!(image.width > 0 && image.height > 0 && image.data.length === image.width * image.height * 4)) {
      throw new OcrError('unsupported-file', `ocrImage needs RGBA pixels, width*height*4 bytes; got ${image.data.length} for ${image.width}x${image.height}.`);
    }
    const t0 = performance.now();
    const lines = await reader.read(image, signal);
    if (lines.length === 0) throw new OcrError('no-text', 'No text found in the image.');
    return { page: 1, source: 'ocr', width: image.width, height: image.height, lines, ms: performance.now() - t0, ocrEngine: reader.engine };
  }

  private async process(file: DocumentFile, opts: OcrDocumentOptions, reader: PageReader, signal: AbortSignal, emit: Emit): Promise<DocumentResult> {
    const t0 = performance.now();
    const bytes = new Uint8Array(file.bytes);
    const kind = sniffFileKind(bytes);
    if (kind === 'unknown') throw new OcrError('unsupported-file', `${file.name} is not a PDF, PNG, JPEG or WebP file.`);
    const pages: PageResult[] = [];
    const finish = async (work: PageWork, wantImage: boolean) => {
      const result = await readPage(work, opts, reader, signal, emit);
      pages.push(result);
      emit({ type: 'page-done', result, image: await pageImage(work.canvas, wantImage) });
      // Drop the pixels now rather than whenever the collector runs.
      work.canvas.width = work.canvas.height = 0;
    };
    let pageCount = 1;
    let nextPage: number | null = null;
    if (kind === 'pdf') {
      const doc = await openPdf(bytes, file.name);
      try {
        pageCount = doc.numPages;
        const first = Math.min(Math.max(1, opts.firstPage ?? 1), pageCount);
        const last = Math.min(pageCount, first + Math.max(1, opts.maxPages ?? DEFAULT_MAX_PAGES) - 1);
        emit({ type: 'opened', kind: 'pdf', pageCount, firstPage: first, lastPage: last });
        for (let page = first; page <= last; page++) {
          throwIfCancelled(signal);
          emit({ type: 'page-started', page });
          const rendered = await renderPdfPage(doc, page, opts.scale ?? DEFAULT_SCALE);
          throwIfCancelled(signal);
          await finish({ page, ...rendered }, opts.pageImages ?? true);
        }
        nextPage = last < pageCount ? last + 1 : null;
      } finally {
        await doc.destroy();
      }
    } else {
      emit({ type: 'opened', kind: 'image', pageCount: 1, firstPage: 1, lastPage: 1 });
      emit({ type: 'page-started', page: 1 });
      const decoded = await decodeImageFile(bytes, MIME[kind], file.name);
      // The caller already holds the image file, so none is sent back.
      await finish({ page: 1, textLines: [], ...decoded }, false);
    }
    if (pages.every((p) => p.lines.length === 0)) {
      const where = kind === 'pdf' ? (pages.length === 1 ? `on page ${pages[0]?.page ?? 1} of ${file.name}` : `in pages ${pages[0]?.page}-${pages.at(-1)?.page} of ${file.name}`) : `in ${file.name}`;
      throw new OcrError('no-text', `No text found ${where}.`);
    }
    return { name: file.name, kind: kind === 'pdf' ? 'pdf' : 'image', pageCount, pages, nextPage, ms: performance.now() - t0 };
  }
}
