/**
 * Questions about the page on screen, answered by the loaded VLM. The worker
 * asks them (askDocument): the page image goes with the question, and for
 * models that read a page's text as context (the zoo's 'document-text'
 * capability, e.g. the bundled model, whose 64 x 64 view cannot read print)
 * the page's OCR or text-layer lines go first. The answer streams in, and the
 * lines that hold it light up on the page. "Extract all dates mentioned."
 * also has a deterministic answer from the text, shown beside the model's
 * (and alone when no model is loaded).
 */
import * as Comlink from 'comlink';
import type { DocumentAnswer, LoadedModel, PageResult } from '../worker/api';
import { VlmError, type VlmClient } from '../worker/client';
import { describeError, toTurnError } from './chat/error-text';
import { workerLoader } from './chat/model-picker';
import { datesTable } from './dates-table';
import { h, setChildren } from './dom';

export const PRESET_QUESTIONS = [
  'What is the title of this document?',
  'Summarize the main points.',
  'Extract all dates mentioned.',
  'What tables are present? Describe their contents.',
  'What type of chart is this?',
  'What is the trend shown in this chart?',
  'What are the maximum and minimum values?',
] as const;

const DATES_QUESTION = 'Extract all dates mentioned.';
const BUNDLED_MODEL = 'webvlm-tiny';

export interface PageOnScreen {
  result: PageResult;
  imageUrl: string | null;
}

export interface QuestionHost {
  api: VlmClient;
  /** Every processed page (for the dates table). */
  pages(): readonly PageResult[];
  /** The page being shown, or null before any. */
  current(): PageOnScreen | null;
  /** Show `page` and mark `lines` on it as holding the answer. */
  markAnswer(page: number, lines: readonly number[]): void;
}

export interface DocumentQuestions {
  element: HTMLElement;
  /** Re-reads which model is loaded (after the Chat tab loaded one) and which page is open. */
  refresh(): Promise<void>;
}

/** One question and what came back; the answer area is drawn from it alone. */
interface AnswerState {
  /** The page and question asked; null when nothing went to the model (dates alone, an empty question). */
  asked: { page: PageResult; question: string } | null;
  text: string;
  reply: DocumentAnswer | null;
  error: string | null;
  /** The pages whose dates are listed under the answer. */
  dates: readonly PageResult[] | null;
}

interface QuestionsState {
  model: LoadedModel | null;
  readsText: boolean;
  asking: boolean;
  /** Loading the bundled model from here: the bar's fraction, or null when not loading. */
  loading: number | null;
  loadError: string | null;
  answer: AnswerState | null;
}

const noAnswer = (): AnswerState => ({ asked: null, text: '', reply: null, error: null, dates: null });

async function pageImage(url: string): Promise<{ bytes: ArrayBuffer; type: string }> {
  const blob = await (await fetch(url)).blob();
  return { bytes: await blob.arrayBuffer(), type: blob.type || 'image/png' };
}

function modelLineText(s: QuestionsState): string {
  if (s.loading !== null) return `Loading ${BUNDLED_MODEL}…`;
  if (s.loadError) return s.loadError;
  if (!s.model) {
    return 'Load a model to ask questions: answers come from a vision-language model, and none is loaded yet. "Extract all dates mentioned." also works without one, straight from the text.';
  }
  const how = s.readsText ? 'with the page image and its text' : 'with the page image';
  return `Questions go to ${s.model.id} ${how}, about the page on screen.`;
}

/** How much of the page text the model saw, when it did not see all of it. */
function contextNote(reply: DocumentAnswer): string | null {
  const c = reply.context;
  if (!c) return null;
  if (c.given < Math.min(c.total, c.limit)) return `Only the first ${c.given} of ${c.total} lines fitted the model's context.`;
  if (c.total > c.limit) return `The model was given the first ${c.limit} of ${c.total} lines.`;
  return null;
}

/** Where on the page the answer was found, quoting the lines. */
function sourceText(page: PageResult, reply: DocumentAnswer): string {
  if (reply.finishReason === 'cancelled') return 'Stopped.';
  const quoted = reply.found.lines.map((i) => `line ${i + 1} "${page.lines[i]?.text ?? ''}"`).join(', ');
  if (reply.found.match === 'whole') return `Found on page ${page.page}: ${quoted}.`;
  if (reply.found.match === 'words') return `Parts of it on page ${page.page}: ${quoted}.`;
  return 'Not found in the page text: check it against the page.';
}

export function documentQuestions(host: QuestionHost): DocumentQuestions {
  const { api } = host;
  const state: QuestionsState = { model: null, readsText: false, asking: false, loading: null, loadError: null, answer: null };

  const modelLine = h('p', { class: 'muted', 'data-testid': 'model-needed' });
  const loadButton = h('button', { type: 'button', 'data-testid': 'doc-load-model', hidden: '' }, `Load ${BUNDLED_MODEL}`);
  const loadProgress = h('progress', { max: '1', value: '0', hidden: '', 'data-testid': 'doc-load-progress' });
  const answer = h('div', { class: 'answer', 'data-testid': 'question-answer', 'aria-live': 'polite' });
  const buttons = PRESET_QUESTIONS.map((q) =>
    h('button', { type: 'button', class: 'question', 'data-testid': q === DATES_QUESTION ? 'extract-dates' : 'preset-question' }, q),
  );
  const input = h('input', { type: 'text', placeholder: 'Ask about this page…', 'aria-label': 'Question', 'data-testid': 'question-input' });
  const askButton = h('button', { type: 'button', 'data-testid': 'ask-button' }, 'Ask');
  const stopButton = h('button', { type: 'button', 'data-testid': 'stop-answer', hidden: '' }, 'Stop');
  // The answer's parts live as long as the view, so streaming updates them in place.
  const asked = h('p', { class: 'muted' });
  const text = h('p', { class: 'answer-text', 'data-testid': 'answer-text' });
  const where = h('p', { class: 'muted', 'data-testid': 'answer-source' });
  const cut = h('p', { class: 'muted', 'data-testid': 'context-cut' });
  const failed = h('p', { class: 'bad', role: 'alert', 'data-testid': 'answer-error' });
  let dates: { pages: readonly PageResult[]; nodes: HTMLElement[] } | null = null;

  function datesNodes(pages: readonly PageResult[]): HTMLElement[] {
    if (dates?.pages !== pages) {
      const table = pages.length ? datesTable(pages) : h('p', { 'data-testid': 'dates-result' }, 'Open a document first.');
      dates = { pages, nodes: [h('p', { class: 'muted' }, 'Dates found in the document text (deterministic, no model):'), table] };
    }
    return dates.nodes;
  }

  function renderAnswer(a: AnswerState | null): void {
    if (!a) return setChildren(answer, []);
    const nodes: HTMLElement[] = [];
    if (a.asked) {
      asked.textContent = `Page ${a.asked.page.page}: ${a.asked.question}`;
      text.textContent = a.text;
      where.textContent = a.reply ? sourceText(a.asked.page, a.reply) : '';
      if (a.reply) where.dataset.match = a.reply.found.match;
      else delete where.dataset.match;
      nodes.push(asked, text, where);
      cut.textContent = a.reply ? (contextNote(a.reply) ?? '') : '';
      if (cut.textContent) nodes.push(cut);
    }
    failed.textContent = a.error ?? '';
    if (a.error) nodes.push(failed);
    if (a.dates) nodes.push(...datesNodes(a.dates));
    setChildren(answer, nodes);
  }

  function render(s: QuestionsState): void {
    const page = host.current();
    const canAsk = s.model !== null && page !== null && !s.asking;
    buttons.forEach((b, i) => {
      const isDates = PRESET_QUESTIONS[i] === DATES_QUESTION;
      b.disabled = s.asking || (!isDates && !canAsk);
      b.title = s.model ? (page ? '' : 'Open a document first.') : 'Load a model to ask questions.';
    });
    input.disabled = askButton.disabled = !canAsk;
    stopButton.hidden = !s.asking;
    loadButton.hidden = s.model !== null;
    loadButton.disabled = s.loading !== null;
    loadProgress.hidden = s.loading === null;
    loadProgress.value = s.loading ?? 0;
    modelLine.textContent = modelLineText(s);
    renderAnswer(s.answer);
  }

  async function refresh(): Promise<void> {
    state.loadError = null;
    state.model = await api.loadedModel();
    const id = state.model?.id;
    const entry = id ? (await api.listModels()).find((m) => m.id === id) : undefined;
    state.readsText = entry?.capabilities.includes('document-text') ?? false;
    render(state);
  }

  /** Sends the question to the worker; the answer streams into state.answer. */
  async function askModel(a: AnswerState, page: PageOnScreen, question: string): Promise<void> {
    state.asking = true;
    render(state);
    try {
      const image = page.imageUrl ? await pageImage(page.imageUrl) : null;
      const request = { question, lines: page.result.lines.map((l) => l.text), image };
      const onText = Comlink.proxy((piece: string) => {
        a.text += piece;
        render(state);
      });
      a.reply = await api.askDocument(Comlink.transfer(request, image ? [image.bytes] : []), onText);
      a.text = a.reply.text;
      host.markAnswer(page.result.page, a.reply.found.lines);
    } catch (err) {
      const e = describeError(toTurnError(err));
      a.error = `${e.headline} ${e.detail} ${e.advice}`;
      if (err instanceof VlmError && err.code === 'no-model') await refresh();
    } finally {
      if (question === DATES_QUESTION) a.dates = host.pages();
      state.asking = false;
      render(state);
    }
  }

  async function ask(raw: string): Promise<void> {
    const question = raw.trim();
    const page = host.current();
    state.loadError = null;
    state.answer = noAnswer();
    if (question === DATES_QUESTION && !state.model) state.answer.dates = host.pages();
    else if (!question) state.answer.error = 'Type a question first.';
    else if (state.model && page) {
      state.answer.asked = { page: page.result, question };
      await askModel(state.answer, page, question);
    }
    render(state);
  }

  async function loadBundled(): Promise<void> {
    state.loading = 0;
    state.loadError = null;
    render(state);
    try {
      await workerLoader(api)(BUNDLED_MODEL, { engine: 'native' }, (p) => {
        state.loading = p.fraction ?? 0;
        render(state);
      });
      state.loading = null;
      await refresh();
    } catch (err) {
      const e = describeError(toTurnError(err));
      state.loadError = `${e.headline} ${e.detail} ${e.advice}`;
    } finally {
      state.loading = null;
      render(state);
    }
  }

  buttons.forEach((b, i) => b.addEventListener('click', () => void ask(PRESET_QUESTIONS[i] ?? '')));
  askButton.addEventListener('click', () => void ask(input.value));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') void ask(input.value);
  });
  stopButton.addEventListener('click', () => void api.stopChat());
  loadButton.addEventListener('click', () => void loadBundled());
  render(state);

  const element = h(
    'section',
    { class: 'panel', 'data-testid': 'doc-questions' },
    h('h2', {}, 'Ask about the document'),
    modelLine,
    h('div', { class: 'progress-row' }, loadButton, loadProgress),
    h('div', { class: 'questions' }, ...buttons),
    h('div', { class: 'ask-row' }, input, askButton, stopButton),
    answer,
  );
  return { element, refresh };
}
