/**
 * The Documents page: drop or pick PDFs and images, watch them processed page
 * by page (progress, Cancel), see per page whether the text came from the
 * PDF's text layer or from OCR, select and search the text over the page
 * image, export it, and use the document questions. All the work happens in
 * the engine worker; this file only drives it and draws what comes back.
 */
import * as Comlink from 'comlink';
import { toExportJson, toPlainText } from './document-export';
import type { DocumentEvent, PageResult } from '../worker/api';
import type { VlmClient } from '../worker/client';
import { VlmError } from '../worker/client';
import { documentQuestions, type PageOnScreen } from './document-questions';
import { h } from './dom';
import { pageViewer, type PageViewer } from './page-viewer';

/** Pages per request: long PDFs are read in slices, each on demand. */
const PAGES_PER_SLICE = 20;
const ACCEPT = 'application/pdf,image/png,image/jpeg,image/webp,.pdf,.png,.jpg,.jpeg,.webp';

interface PageEntry {
  result: PageResult;
  imageUrl: string | null;
}

interface DocState {
  file: File;
  pageCount: number;
  pages: PageEntry[];
  nextPage: number | null;
  urls: string[];
}

function download(name: string, type: string, body: string): void {
  const url = URL.createObjectURL(new Blob([body], { type }));
  const a = h('a', { href: url, download: name });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function errorText(err: unknown): { code: string; message: string } {
  if (err instanceof VlmError) return { code: err.code, message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}

export interface DocumentsPage {
  element: HTMLElement;
  /** The view came on screen: re-read which model is loaded. */
  activate(): void;
}

export function documentsPage(api: VlmClient): DocumentsPage {
  let doc: DocState | null = null;
  let viewer: PageViewer | null = null;
  let shown: PageEntry | null = null;
  let jobId: string | null = null;
  let jobs = 0;
  const queue: File[] = [];

  const input = h('input', { type: 'file', multiple: '', accept: ACCEPT, 'data-testid': 'doc-file-input' });
  const drop = h('label', { class: 'drop-zone', 'data-testid': 'doc-drop' }, 'Drop PDFs or images (PNG, JPEG, WebP) here, or click to choose.', input);
  const status = h('p', { 'data-testid': 'doc-status' }, 'No document yet.');
  const progress = h('progress', { max: '1', value: '0', 'data-testid': 'doc-progress', hidden: '' });
  const cancel = h('button', { type: 'button', 'data-testid': 'doc-cancel', hidden: '' }, 'Cancel');
  const errorBox = h('p', { class: 'bad', 'data-testid': 'doc-error', role: 'alert', hidden: '' });
  const strip = h('div', { class: 'thumb-strip', 'data-testid': 'thumbnails' });
  const more = h('button', { type: 'button', 'data-testid': 'more-pages', hidden: '' }, 'Process more pages');
  const search = h('input', { type: 'search', placeholder: 'Search the text', 'aria-label': 'Search the text', 'data-testid': 'doc-search' });
  const searchCount = h('span', { class: 'muted', 'data-testid': 'search-count' });
  const exportText = h('button', { type: 'button', 'data-testid': 'export-text', disabled: '' }, 'Export text');
  const exportJson = h('button', { type: 'button', 'data-testid': 'export-json', disabled: '' }, 'Export JSON');
  const view = h('div', { class: 'page-host' });

  const results = () => doc?.pages.map((p) => p.result) ?? [];
  const questions = documentQuestions({
    api,
    pages: results,
    current: (): PageOnScreen | null => shown,
    markAnswer(page, lines) {
      const entry = doc?.pages.find((p) => p.result.page === page);
      if (entry && entry !== shown) select(entry);
      viewer?.markAnswer(lines);
    },
  });
  const baseName = () => (doc?.file.name ?? 'document').replace(/\.[^.]+$/, '');

  function showError(err: unknown): void {
    const e = errorText(err);
    errorBox.textContent = e.code === 'cancelled' ? '' : e.message;
    errorBox.hidden = e.code === 'cancelled';
    errorBox.dataset.code = e.code;
  }

  function select(entry: PageEntry): void {
    shown = entry;
    viewer = pageViewer(entry.result, entry.imageUrl);
    view.replaceChildren(viewer.element);
    for (const t of strip.children) t.classList.toggle('selected', (t as HTMLElement).dataset.page === String(entry.result.page));
    runSearch();
  }

  function runSearch(): void {
    const q = search.value;
    const onPage = viewer?.search(q) ?? 0;
    const total = q.trim() ? results().reduce((n, p) => n + p.lines.filter((l) => l.text.toLowerCase().includes(q.trim().toLowerCase())).length, 0) : 0;
    searchCount.textContent = q.trim() ? `${onPage} on this page, ${total} in the document` : '';
  }

  function addPage(entry: PageEntry): void {
    if (!doc) return;
    doc.pages.push(entry);
    const label = `${entry.result.page}`;
    const thumb = h(
      'button',
      { type: 'button', class: 'thumb', 'data-testid': 'thumbnail', 'data-page': label, 'data-source': entry.result.source, title: `Page ${label}` },
      entry.imageUrl ? h('img', { src: entry.imageUrl, alt: `Page ${label}`, loading: 'lazy' }) : null,
      h('span', {}, `p. ${label} · ${entry.result.source === 'ocr' ? 'OCR' : 'text layer'}`),
    );
    thumb.addEventListener('click', () => select(entry));
    strip.append(thumb);
    if (doc.pages.length === 1) {
      select(entry);
      void questions.refresh();
    }
    exportText.disabled = exportJson.disabled = false;
  }

  function onEvent(file: File, firstPage: number, e: DocumentEvent): void {
    if (e.type === 'opened') {
      if (firstPage === 1) {
        for (const u of doc?.urls ?? []) URL.revokeObjectURL(u);
        doc = { file, pageCount: e.pageCount, pages: [], nextPage: null, urls: [] };
        shown = viewer = null;
        strip.replaceChildren();
        view.replaceChildren();
      }
      progress.max = e.lastPage - e.firstPage + 1;
      progress.value = 0;
      progress.dataset.first = String(e.firstPage);
      status.textContent = `${file.name}: ${e.pageCount} page${e.pageCount === 1 ? '' : 's'}, processing ${e.firstPage}-${e.lastPage}.`;
    } else if (e.type === 'page-started') {
      status.textContent = `${file.name}: page ${e.page} of ${doc?.pageCount ?? '?'}…`;
      progress.value = e.page - Number(progress.dataset.first ?? 1);
    } else if (e.type === 'lines') {
      status.textContent = `${file.name}: page ${e.page}, OCR ${e.done} of ${e.total} lines…`;
      progress.value = e.page - Number(progress.dataset.first ?? 1) + (e.total ? e.done / e.total : 0);
    } else if (e.type === 'page-done' && doc) {
      const url = e.image ? URL.createObjectURL(e.image) : URL.createObjectURL(file);
      doc.urls.push(url);
      addPage({ result: e.result, imageUrl: url });
      progress.value = e.result.page - Number(progress.dataset.first ?? 1) + 1;
    }
  }

  async function run(file: File, firstPage: number): Promise<void> {
    const id = `doc-${++jobs}`;
    jobId = id;
    errorBox.hidden = true;
    progress.hidden = cancel.hidden = false;
    more.hidden = true;
    status.textContent = `${file.name}: opening…`;
    try {
      const bytes = await file.arrayBuffer();
      const handler = Comlink.proxy((e: DocumentEvent) => onEvent(file, firstPage, e));
      const r = await api.ocrDocument(Comlink.transfer({ name: file.name, bytes }, [bytes]), { jobId: id, firstPage, maxPages: PAGES_PER_SLICE }, handler);
      if (doc) doc.nextPage = r.nextPage;
      const ocr = r.pages.filter((p) => p.source === 'ocr').length;
      status.textContent = `${file.name}: ${r.pages.length} page${r.pages.length === 1 ? '' : 's'} done in ${(r.ms / 1000).toFixed(1)} s (${ocr} by OCR, ${r.pages.length - ocr} from the text layer).`;
    } catch (err) {
      showError(err);
      const e = errorText(err);
      if (e.code === 'cancelled') status.textContent = `${file.name}: cancelled after ${doc?.pages.length ?? 0} page(s).`;
      else status.textContent = `${file.name}: ${e.message}`;
      if (doc && doc.file === file && e.code === 'cancelled') doc.nextPage = (doc.pages.at(-1)?.result.page ?? 0) + 1;
    } finally {
      if (jobId === id) jobId = null;
      progress.hidden = cancel.hidden = true;
      if (doc?.nextPage && doc.nextPage <= doc.pageCount) {
        more.hidden = false;
        more.textContent = `Process pages ${doc.nextPage}-${Math.min(doc.pageCount, doc.nextPage + PAGES_PER_SLICE - 1)} of ${doc.pageCount}`;
      }
    }
  }

  async function drain(): Promise<void> {
    if (jobId) return;
    for (let file = queue.shift(); file; file = queue.shift()) await run(file, 1);
  }

  const enqueue = (files: Iterable<File>) => {
    queue.push(...files);
    void drain();
  };
  input.addEventListener('change', () => {
    enqueue(input.files ?? []);
    input.value = '';
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    enqueue(e.dataTransfer?.files ?? []);
  });
  cancel.addEventListener('click', () => {
    queue.length = 0;
    if (jobId) void api.cancel(jobId);
  });
  more.addEventListener('click', () => {
    if (doc?.nextPage) void run(doc.file, doc.nextPage);
  });
  search.addEventListener('input', runSearch);
  exportText.addEventListener('click', () => download(`${baseName()}.txt`, 'text/plain', `${toPlainText(results())}\n`));
  exportJson.addEventListener('click', () => download(`${baseName()}.json`, 'application/json', `${JSON.stringify(toExportJson(results()), null, 2)}\n`));

  const element = h(
    'div',
    { 'data-testid': 'documents-page' },
    h('section', { class: 'panel' }, h('h2', {}, 'Documents'), drop, h('div', { class: 'progress-row' }, progress, cancel), status, errorBox),
    h('section', { class: 'panel' }, h('div', { class: 'toolbar' }, search, searchCount, exportText, exportJson), strip, more, view),
    questions.element,
  );
  return { element, activate: () => void questions.refresh() };
}
