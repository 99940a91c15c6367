/**
 * The Documents page's elements and their render(state): the drop zone, the
 * bar with Cancel, the status and error lines, the thumbnail strip, "Process
 * more pages", search, exports and the page on screen.
 */
import type { PageResult } from '../worker/api';
import { h, setChildren } from './dom';
import type { PageViewer } from './page-viewer';

/** Pages per request: long PDFs are read in slices, each on demand. */
export const PAGES_PER_SLICE = 20;
const ACCEPT = 'application/pdf,image/png,image/jpeg,image/webp,.pdf,.png,.jpg,.jpeg,.webp';

export interface PageEntry {
  result: PageResult;
  imageUrl: string | null;
  /** Its button in the thumbnail strip. */
  thumb: HTMLElement;
}

export interface OpenDocument {
  file: File;
  pageCount: number;
  pages: PageEntry[];
  nextPage: number | null;
  urls: string[];
}

/** Everything the view shows; render() draws the DOM from it. */
export interface DocumentsState {
  doc: OpenDocument | null;
  /** The page on screen, with its viewer. */
  shown: { entry: PageEntry; viewer: PageViewer } | null;
  /** The job reading pages now: its id (for Cancel) and its bar (pages done of max, from firstPage). */
  job: { id: string; done: number; max: number; firstPage: number } | null;
  status: string;
  error: { code: string; message: string } | null;
}

/** The "Process more pages" label, or null when the document is done or a job runs. */
function moreText(s: DocumentsState): string | null {
  const doc = s.doc;
  if (s.job || !doc?.nextPage || doc.nextPage > doc.pageCount) return null;
  return `Process pages ${doc.nextPage}-${Math.min(doc.pageCount, doc.nextPage + PAGES_PER_SLICE - 1)} of ${doc.pageCount}`;
}

/** Search matches on the page on screen, and in the whole document. */
function searchText(s: DocumentsState, query: string): string {
  const onPage = s.shown?.viewer.search(query) ?? 0;
  const needle = query.trim().toLowerCase();
  if (!needle) return '';
  const total = (s.doc?.pages ?? []).reduce((n, p) => n + p.result.lines.filter((l) => l.text.toLowerCase().includes(needle)).length, 0);
  return `${onPage} on this page, ${total} in the document`;
}

export type DocumentsView = ReturnType<typeof documentsView>;

/** `questions`: the document questions panel, shown under the page; `ocrEngine`: the OCR engine choice, beside the drop zone. */
export function documentsView(questions: HTMLElement, ocrEngine: HTMLElement) {
  const input = h('input', { type: 'file', multiple: '', accept: ACCEPT, 'data-testid': 'doc-file-input' });
  const drop = h('label', { class: 'drop-zone', 'data-testid': 'doc-drop' }, 'Drop PDFs or images (PNG, JPEG, WebP) here, or click to choose.', input);
  const status = h('p', { 'data-testid': 'doc-status' });
  const progress = h('progress', { max: '1', value: '0', 'data-testid': 'doc-progress', hidden: '' });
  const cancel = h('button', { type: 'button', 'data-testid': 'doc-cancel', hidden: '' }, 'Cancel');
  const errorBox = h('p', { class: 'bad', 'data-testid': 'doc-error', role: 'alert', hidden: '' });
  const strip = h('div', { class: 'thumb-strip', 'data-testid': 'thumbnails' });
  const more = h('button', { type: 'button', 'data-testid': 'more-pages', hidden: '' }, 'Process more pages');
  const search = h('input', { type: 'search', placeholder: 'Search the text', 'aria-label': 'Search the text', 'data-testid': 'doc-search' });
  const searchCount = h('span', { class: 'muted', 'data-testid': 'search-count' });
  const exportText = h('button', { type: 'button', 'data-testid': 'export-text', disabled: '' }, 'Export text');
  const exportJson = h('button', { type: 'button', 'data-testid': 'export-json', disabled: '' }, 'Export JSON');
  const page = h('div', { class: 'page-host' });
  const element = h(
    'div',
    { 'data-testid': 'documents-page' },
    h('section', { class: 'panel' }, h('h2', {}, 'Documents'), drop, ocrEngine, h('div', { class: 'progress-row' }, progress, cancel), status, errorBox),
    h('section', { class: 'panel' }, h('div', { class: 'toolbar' }, search, searchCount, exportText, exportJson), strip, more, page),
    questions,
  );

  function render(s: DocumentsState): void {
    status.textContent = s.status;
    progress.hidden = cancel.hidden = s.job === null;
    if (s.job) {
      progress.max = s.job.max;
      progress.value = s.job.done;
    }
    errorBox.hidden = s.error === null || s.error.code === 'cancelled';
    errorBox.textContent = errorBox.hidden ? '' : (s.error?.message ?? '');
    if (s.error) errorBox.dataset.code = s.error.code;
    const pages = s.doc?.pages ?? [];
    setChildren(strip, pages.map((p) => p.thumb));
    for (const p of pages) p.thumb.classList.toggle('selected', p === s.shown?.entry);
    setChildren(page, s.shown ? [s.shown.viewer.element] : []);
    const label = moreText(s);
    more.hidden = label === null;
    if (label) more.textContent = label;
    exportText.disabled = exportJson.disabled = pages.length === 0;
    searchCount.textContent = searchText(s, search.value);
  }

  return { element, render, controls: { input, drop, cancel, more, search, exportText, exportJson } };
}

/** A page's button in the thumbnail strip. */
export function thumbnail(result: PageResult, imageUrl: string | null): HTMLElement {
  const label = `${result.page}`;
  return h(
    'button',
    { type: 'button', class: 'thumb', 'data-testid': 'thumbnail', 'data-page': label, 'data-source': result.source, title: `Page ${label}` },
    imageUrl ? h('img', { src: imageUrl, alt: `Page ${label}`, loading: 'lazy' }) : null,
    h('span', {}, `p. ${label} · ${result.source === 'ocr' ? 'OCR' : 'text layer'}`),
  );
}
