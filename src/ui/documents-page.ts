/**
 * The Documents page: drop or pick PDFs and images, watch them processed page
 * by page (progress, Cancel), see per page whether the text came from the
 * PDF's text layer or from OCR, select and search the text over the page
 * image, export it, and use the document questions. All the work happens in
 * the engine worker; this file only drives it, and documents-page-view.ts
 * draws what comes back.
 */
import * as Comlink from 'comlink';
import type { DocumentEvent, PageResult } from '../worker/api';
import { VlmError, type VlmClient } from '../worker/client';
import { toExportJson, toPlainText } from './document-export';
import { documentQuestions, type DocumentQuestions, type PageOnScreen } from './document-questions';
import { h } from './dom';
import { documentsView, PAGES_PER_SLICE, thumbnail, type DocumentsState, type DocumentsView, type PageEntry } from './documents-page-view';
import { ocrEngineChoice, type OcrEngineChoice } from './ocr-engine-choice';
import { pageViewer } from './page-viewer';
import { mergeRegion, regionPixels } from './region-ocr';

export interface DocumentsPage {
  element: HTMLElement;
  /** The view came on screen: re-read which model is loaded. */
  activate(): void;
}

/** What every action works on. */
interface Documents {
  api: VlmClient;
  state: DocumentsState;
  view: DocumentsView;
  questions: DocumentQuestions;
  ocrEngine: OcrEngineChoice;
  /** Files dropped while a job runs, read one after another. */
  queue: File[];
  jobs: number;
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

const results = (s: DocumentsState): PageResult[] => s.doc?.pages.map((p) => p.result) ?? [];

function select(d: Documents, entry: PageEntry): void {
  d.state.shown = { entry, viewer: pageViewer(entry.result, entry.imageUrl, (box) => void rereadRegion(d, entry, box)) };
  d.view.render(d.state);
}

/** OCR of a region the person drew on the page: its lines replace the page's lines there. */
async function rereadRegion(d: Documents, entry: PageEntry, box: PageResult['lines'][number]['box']): Promise<void> {
  const s = d.state;
  if (!entry.imageUrl || s.job) return;
  s.status = `Page ${entry.result.page}: reading the region again…`;
  d.view.render(s);
  try {
    const { image, scale } = await regionPixels(entry.imageUrl, entry.result, box);
    const found = await d.api.ocrImage(Comlink.transfer(image, [image.data.buffer]), { engine: entry.result.ocrEngine ?? 'pp-ocr' });
    entry.result = mergeRegion(entry.result, box, found.lines, scale);
    s.status = `Page ${entry.result.page}: ${found.lines.length} line${found.lines.length === 1 ? '' : 's'} read in the region.`;
    if (s.shown?.entry === entry) select(d, entry);
  } catch (err) {
    const e = errorText(err);
    s.status = e.code === 'no-text' ? `Page ${entry.result.page}: no text found in the region; the page's lines are kept.` : `Page ${entry.result.page}: ${e.message}`;
  }
  d.view.render(s);
}

function addPage(d: Documents, result: PageResult, imageUrl: string): void {
  const doc = d.state.doc;
  if (!doc) return;
  const entry: PageEntry = { result, imageUrl, thumb: thumbnail(result, imageUrl) };
  entry.thumb.addEventListener('click', () => select(d, entry));
  doc.urls.push(imageUrl);
  doc.pages.push(entry);
  if (doc.pages.length === 1) {
    select(d, entry);
    void d.questions.refresh();
  }
}

/** A new document replaces the open one when its first slice opens. */
function open(s: DocumentsState, file: File, pageCount: number): void {
  for (const u of s.doc?.urls ?? []) URL.revokeObjectURL(u);
  s.doc = { file, pageCount, pages: [], nextPage: null, urls: [] };
  s.shown = null;
}

/** Moves the bar; a page event may arrive after its job has ended (events and the result come on different ports). */
function setDone(s: DocumentsState, done: number): void {
  if (s.job) s.job.done = done;
}

function onEvent(d: Documents, file: File, firstPage: number, e: DocumentEvent): void {
  const s = d.state;
  const from = s.job?.firstPage ?? firstPage;
  if (e.type === 'opened') {
    if (firstPage === 1) open(s, file, e.pageCount);
    if (s.job) Object.assign(s.job, { max: e.lastPage - e.firstPage + 1, done: 0, firstPage: e.firstPage });
    s.status = `${file.name}: ${e.pageCount} page${e.pageCount === 1 ? '' : 's'}, processing ${e.firstPage}-${e.lastPage}.`;
  } else if (e.type === 'page-started') {
    s.status = `${file.name}: page ${e.page} of ${s.doc?.pageCount ?? '?'}…`;
    setDone(s, e.page - from);
  } else if (e.type === 'lines') {
    s.status = `${file.name}: page ${e.page}, OCR ${e.done} of ${e.total} lines…`;
    setDone(s, e.page - from + (e.total ? e.done / e.total : 0));
  } else if (e.type === 'page-done' && s.doc) {
    addPage(d, e.result, URL.createObjectURL(e.image ?? file));
    setDone(s, e.result.page - from + 1);
  }
  d.view.render(s);
}

/** The status line when a slice fails or is cancelled, and where to go on after a Cancel. */
function endOfSlice(s: DocumentsState, file: File, err: unknown): void {
  const e = errorText(err);
  s.error = e;
  const doc = s.doc;
  s.status = e.code === 'cancelled' ? `${file.name}: cancelled after ${doc?.pages.length ?? 0} page(s).` : `${file.name}: ${e.message}`;
  if (doc && doc.file === file && e.code === 'cancelled') doc.nextPage = (doc.pages.at(-1)?.result.page ?? 0) + 1;
}

async function run(d: Documents, file: File, firstPage: number): Promise<void> {
  const s = d.state;
  const id = `doc-${++d.jobs}`;
  s.job = { id, done: 0, max: 1, firstPage };
  s.error = null;
  s.status = `${file.name}: opening…`;
  d.view.render(s);
  try {
    const bytes = await file.arrayBuffer();
    const handler = Comlink.proxy((e: DocumentEvent) => onEvent(d, file, firstPage, e));
    const r = await d.api.ocrDocument(Comlink.transfer({ name: file.name, bytes }, [bytes]), { jobId: id, firstPage, maxPages: PAGES_PER_SLICE, engine: d.ocrEngine.value() }, handler);
    if (s.doc) s.doc.nextPage = r.nextPage;
    const ocr = r.pages.filter((p) => p.source === 'ocr').length;
    s.status = `${file.name}: ${r.pages.length} page${r.pages.length === 1 ? '' : 's'} done in ${(r.ms / 1000).toFixed(1)} s (${ocr} by OCR, ${r.pages.length - ocr} from the text layer).`;
  } catch (err) {
    endOfSlice(s, file, err);
  } finally {
    if (s.job?.id === id) s.job = null;
    d.view.render(s);
  }
}

async function drain(d: Documents): Promise<void> {
  if (d.state.job) return;
  for (let file = d.queue.shift(); file; file = d.queue.shift()) await run(d, file, 1);
}

function enqueue(d: Documents, files: Iterable<File>): void {
  d.queue.push(...files);
  void drain(d);
}

function wire(d: Documents): void {
  const { input, drop, cancel, more, search, exportText, exportJson } = d.view.controls;
  const baseName = () => (d.state.doc?.file.name ?? 'document').replace(/\.[^.]+$/, '');
  input.addEventListener('change', () => {
    enqueue(d, input.files ?? []);
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
    enqueue(d, e.dataTransfer?.files ?? []);
  });
  cancel.addEventListener('click', () => {
    d.queue.length = 0;
    if (d.state.job) void d.api.cancel(d.state.job.id);
  });
  more.addEventListener('click', () => {
    // Files dropped while this slice runs wait in the queue; read them once it ends.
    if (d.state.doc?.nextPage) void run(d, d.state.doc.file, d.state.doc.nextPage).then(() => drain(d));
  });
  search.addEventListener('input', () => d.view.render(d.state));
  exportText.addEventListener('click', () => download(`${baseName()}.txt`, 'text/plain', `${toPlainText(results(d.state))}\n`));
  exportJson.addEventListener('click', () => download(`${baseName()}.json`, 'application/json', `${JSON.stringify(toExportJson(results(d.state)), null, 2)}\n`));
}

export function documentsPage(api: VlmClient): DocumentsPage {
  const state: DocumentsState = { doc: null, shown: null, job: null, status: 'No document yet.', error: null };
  const questions = documentQuestions({
    api,
    pages: () => results(state),
    current: (): PageOnScreen | null => state.shown?.entry ?? null,
    markAnswer(page, lines) {
      const entry = state.doc?.pages.find((p) => p.result.page === page);
      if (entry && entry !== state.shown?.entry) select(d, entry);
      state.shown?.viewer.markAnswer(lines);
    },
  });
  const ocrEngine = ocrEngineChoice();
  const d: Documents = { api, state, view: documentsView(questions.element, ocrEngine.element), questions, ocrEngine, queue: [], jobs: 0 };
  wire(d);
  d.view.render(state);
  const activate = async () => {
    await questions.refresh();
    ocrEngine.refresh(await api.loadedModel());
  };
  return { element: d.view.element, activate: () => void activate() };
}
