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
import { h, setChildren } from './dom';
import { pageViewer, type PageViewer } from './page-viewer';

/** Pages per request: long PDFs are read in slices, each on demand. */
const PAGES_PER_SLICE = 20;
const ACCEPT = 'application/pdf,image/png,image/jpeg,image/webp,.pdf,.png,.jpg,.jpeg,.webp';

interface PageEntry {
  result: PageResult;
  imageUrl: string | null;
  /** Its button in the thumbnail strip. */
  thumb: HTMLElement;
}

interface OpenDocument {
  file: File;
  pageCount: number;
  pages: PageEntry[];
  nextPage: number | null;
  urls: string[];
}

/** Everything the view shows; render() draws the DOM from it. */
interface DocumentsState {
  doc: OpenDocument | null;
  /** The page on screen, with its viewer. */
  shown: { entry: PageEntry; viewer: PageViewer } | null;
  /** The job reading pages now: its id (for Cancel) and its bar (pages done of max, from firstPage). */
  job: { id: string; done: number; max: number; firstPage: number } | null;
  status: string;
  error: { code: string; message: string } | null;
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

/** The "Process more pages" label, or null when the document is done or a job runs. */
function moreText(s: DocumentsState): string | null {
  const doc = s.doc;
  if (s.job || !doc?.nextPage || doc.nextPage > doc.pageCount) return null;
  return `Process pages ${doc.nextPage}-${Math.min(doc.pageCount, doc.nextPage + PAGES_PER_SLICE - 1)} of ${doc.pageCount}`;
}

export function documentsPage(api: VlmClient): DocumentsPage {
  const state: DocumentsState = { doc: null, shown: null, job: null, status: 'No document yet.', error: null };
  let jobs = 0;
  const queue: File[] = [];

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
  const view = h('div', { class: 'page-host' });

  const results = () => state.doc?.pages.map((p) => p.result) ?? [];
  const questions = documentQuestions({
    api,
    pages: results,
    current: (): PageOnScreen | null => state.shown?.entry ?? null,
    markAnswer(page, lines) {
      const entry = state.doc?.pages.find((p) => p.result.page === page);
      if (entry && entry !== state.shown?.entry) select(entry);
      state.shown?.viewer.markAnswer(lines);
    },
  });
  const baseName = () => (state.doc?.file.name ?? 'document').replace(/\.[^.]+$/, '');

  /** Search matches on the page on screen, and in the whole document. */
  function renderSearch(s: DocumentsState): void {
    const q = search.value;
    const onPage = s.shown?.viewer.search(q) ?? 0;
    const needle = q.trim().toLowerCase();
    const total = needle ? results().reduce((n, p) => n + p.lines.filter((l) => l.text.toLowerCase().includes(needle)).length, 0) : 0;
    searchCount.textContent = needle ? `${onPage} on this page, ${total} in the document` : '';
  }

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
    setChildren(view, s.shown ? [s.shown.viewer.element] : []);
    const label = moreText(s);
    more.hidden = label === null;
    if (label) more.textContent = label;
    exportText.disabled = exportJson.disabled = pages.length === 0;
    renderSearch(s);
  }

  function select(entry: PageEntry): void {
    state.shown = { entry, viewer: pageViewer(entry.result, entry.imageUrl) };
    render(state);
  }

  function addPage(result: PageResult, imageUrl: string): void {
    const doc = state.doc;
    if (!doc) return;
    const label = `${result.page}`;
    const thumb = h(
      'button',
      { type: 'button', class: 'thumb', 'data-testid': 'thumbnail', 'data-page': label, 'data-source': result.source, title: `Page ${label}` },
      imageUrl ? h('img', { src: imageUrl, alt: `Page ${label}`, loading: 'lazy' }) : null,
      h('span', {}, `p. ${label} · ${result.source === 'ocr' ? 'OCR' : 'text layer'}`),
    );
    const entry: PageEntry = { result, imageUrl, thumb };
    thumb.addEventListener('click', () => select(entry));
    doc.urls.push(imageUrl);
    doc.pages.push(entry);
    if (doc.pages.length === 1) {
      select(entry);
      void questions.refresh();
    }
  }

  /** A new document replaces the open one when its first slice opens. */
  function open(file: File, pageCount: number): void {
    for (const u of state.doc?.urls ?? []) URL.revokeObjectURL(u);
    state.doc = { file, pageCount, pages: [], nextPage: null, urls: [] };
    state.shown = null;
  }

  /** Moves the bar; a page event may arrive after its job has ended (events and the result come on different ports). */
  function setDone(done: number): void {
    if (state.job) state.job.done = done;
  }

  function onEvent(file: File, firstPage: number, e: DocumentEvent): void {
    const from = state.job?.firstPage ?? firstPage;
    if (e.type === 'opened') {
      if (firstPage === 1) open(file, e.pageCount);
      if (state.job) Object.assign(state.job, { max: e.lastPage - e.firstPage + 1, done: 0, firstPage: e.firstPage });
      state.status = `${file.name}: ${e.pageCount} page${e.pageCount === 1 ? '' : 's'}, processing ${e.firstPage}-${e.lastPage}.`;
    } else if (e.type === 'page-started') {
      state.status = `${file.name}: page ${e.page} of ${state.doc?.pageCount ?? '?'}…`;
      setDone(e.page - from);
    } else if (e.type === 'lines') {
      state.status = `${file.name}: page ${e.page}, OCR ${e.done} of ${e.total} lines…`;
      setDone(e.page - from + (e.total ? e.done / e.total : 0));
    } else if (e.type === 'page-done' && state.doc) {
      addPage(e.result, URL.createObjectURL(e.image ?? file));
      setDone(e.result.page - from + 1);
    }
    render(state);
  }

  /** The line under the bar once a slice ends, and where to go on after a Cancel. */
  function endOfSlice(file: File, err: unknown): void {
    const e = errorText(err);
    state.error = e;
    const doc = state.doc;
    state.status = e.code === 'cancelled' ? `${file.name}: cancelled after ${doc?.pages.length ?? 0} page(s).` : `${file.name}: ${e.message}`;
    if (doc && doc.file === file && e.code === 'cancelled') doc.nextPage = (doc.pages.at(-1)?.result.page ?? 0) + 1;
  }

  async function run(file: File, firstPage: number): Promise<void> {
    const id = `doc-${++jobs}`;
    state.job = { id, done: 0, max: 1, firstPage };
    state.error = null;
    state.status = `${file.name}: opening…`;
    render(state);
    try {
      const bytes = await file.arrayBuffer();
      const handler = Comlink.proxy((e: DocumentEvent) => onEvent(file, firstPage, e));
      const r = await api.ocrDocument(Comlink.transfer({ name: file.name, bytes }, [bytes]), { jobId: id, firstPage, maxPages: PAGES_PER_SLICE }, handler);
      if (state.doc) state.doc.nextPage = r.nextPage;
      const ocr = r.pages.filter((p) => p.source === 'ocr').length;
      state.status = `${file.name}: ${r.pages.length} page${r.pages.length === 1 ? '' : 's'} done in ${(r.ms / 1000).toFixed(1)} s (${ocr} by OCR, ${r.pages.length - ocr} from the text layer).`;
    } catch (err) {
      endOfSlice(file, err);
    } finally {
      if (state.job?.id === id) state.job = null;
      render(state);
    }
  }

  async function drain(): Promise<void> {
    if (state.job) return;
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
    if (state.job) void api.cancel(state.job.id);
  });
  more.addEventListener('click', () => {
    if (state.doc?.nextPage) void run(state.doc.file, state.doc.nextPage);
  });
  search.addEventListener('input', () => renderSearch(state));
  exportText.addEventListener('click', () => download(`${baseName()}.txt`, 'text/plain', `${toPlainText(results())}\n`));
  exportJson.addEventListener('click', () => download(`${baseName()}.json`, 'application/json', `${JSON.stringify(toExportJson(results()), null, 2)}\n`));
  render(state);

  const element = h(
    'div',
    { 'data-testid': 'documents-page' },
    h('section', { class: 'panel' }, h('h2', {}, 'Documents'), drop, h('div', { class: 'progress-row' }, progress, cancel), status, errorBox),
    h('section', { class: 'panel' }, h('div', { class: 'toolbar' }, search, searchCount, exportText, exportJson), strip, more, view),
    questions.element,
  );
  return { element, activate: () => void questions.refresh() };
}
