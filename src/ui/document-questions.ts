/**
 * Questions about the page on screen, answered by the loaded VLM. The page
 * image goes with the question; for models that read a page's text as context
 * (the zoo's 'document-text' capability, e.g. the bundled model, whose 64 x 64
 * view cannot read print) the page's OCR or text-layer lines go first. The
 * answer streams in, and the lines that hold it light up on the page.
 * "Extract all dates mentioned." also has a deterministic answer from the
 * text, shown beside the model's (and alone when no model is loaded).
 */
import * as Comlink from 'comlink';
import { answerLines } from '../documents/answer-lines';
import { documentContextPrompt, MAX_CONTEXT_LINES } from '../data/tasks/document-context';
import type { LoadedModel, PageResult } from '../worker/api';
import type { VlmClient } from '../worker/client';
import { VlmError } from '../worker/errors';
import { describeError, toTurnError } from './chat/error-text';
import { workerLoader } from './chat/model-picker';
import { datesTable } from './dates-table';
import { h } from './dom';

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
const MAX_NEW_TOKENS = 64;
/** The fewest lines worth asking with when the page text has to be cut to fit the context. */
const MIN_CONTEXT_LINES = 4;

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

async function pageImage(url: string): Promise<{ bytes: ArrayBuffer; type: string }> {
  const blob = await (await fetch(url)).blob();
  return { bytes: await blob.arrayBuffer(), type: blob.type || 'image/png' };
}

export function documentQuestions(host: QuestionHost): DocumentQuestions {
  const { api } = host;
  let model: LoadedModel | null = null;
  let readsText = false;
  let asking = false;

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

  function update(): void {
    const page = host.current();
    const canAsk = model !== null && page !== null && !asking;
    buttons.forEach((b, i) => {
      const isDates = PRESET_QUESTIONS[i] === DATES_QUESTION;
      b.disabled = asking || (!isDates && !canAsk);
      b.title = model ? (page ? '' : 'Open a document first.') : 'Load a model to ask questions.';
    });
    input.disabled = askButton.disabled = !canAsk;
    stopButton.hidden = !asking;
    loadButton.hidden = model !== null;
    if (!model) {
      modelLine.textContent =
        'Load a model to ask questions: answers come from a vision-language model, and none is loaded yet. "Extract all dates mentioned." also works without one, straight from the text.';
    } else {
      const how = readsText ? 'with the page image and its text' : 'with the page image';
      modelLine.textContent = `Questions go to ${model.id} ${how}, about the page on screen.`;
    }
  }

  async function refresh(): Promise<void> {
    model = await api.loadedModel();
    const entry = model ? (await api.listModels()).find((m) => m.id === model?.id) : undefined;
    readsText = entry?.capabilities.includes('document-text') ?? false;
    update();
  }

  function showDates(into: HTMLElement): void {
    const pages = host.pages();
    into.append(
      h('p', { class: 'muted' }, 'Dates found in the document text (deterministic, no model):'),
      pages.length ? datesTable(pages) : h('p', { 'data-testid': 'dates-result' }, 'Open a document first.'),
    );
  }

  /** Asks with the page text, cutting lines off the end while the prompt is too long for the model. */
  async function chatAbout(page: PageOnScreen, question: string, onText: (piece: string) => void): Promise<{ text: string; usedLines: number; cancelled: boolean }> {
    const lines = page.result.lines.map((l) => l.text);
    let keep = readsText ? Math.min(lines.length, MAX_CONTEXT_LINES) : 0;
    for (;;) {
      const prompt = readsText ? documentContextPrompt(lines.slice(0, keep), question) : question;
      const image = page.imageUrl ? await pageImage(page.imageUrl) : null;
      const content = [{ type: 'text' as const, text: prompt }, ...(image ? [{ type: 'image' as const }] : [])];
      const request = { messages: [{ role: 'user' as const, content }], images: image ? [image] : [], options: { maxNewTokens: MAX_NEW_TOKENS } };
      try {
        const reply = await api.chat(Comlink.transfer(request, image ? [image.bytes] : []), Comlink.proxy(onText));
        return { text: reply.text, usedLines: keep, cancelled: reply.finishReason === 'cancelled' };
      } catch (err) {
        if (!(err instanceof VlmError && err.code === 'context-length' && keep > MIN_CONTEXT_LINES)) throw err;
        keep = Math.max(MIN_CONTEXT_LINES, Math.floor(keep / 2));
      }
    }
  }

  async function ask(question: string): Promise<void> {
    const q = question.trim();
    const page = host.current();
    answer.replaceChildren();
    if (q === DATES_QUESTION && !model) return showDates(answer);
    if (!q) {
      answer.append(h('p', { class: 'bad', 'data-testid': 'answer-error' }, 'Type a question first.'));
      return;
    }
    if (!model || !page) return;
    const text = h('p', { class: 'answer-text', 'data-testid': 'answer-text' });
    const where = h('p', { class: 'muted', 'data-testid': 'answer-source' });
    answer.append(h('p', { class: 'muted' }, `Page ${page.result.page}: ${q}`), text, where);
    asking = true;
    update();
    try {
      const r = await chatAbout(page, q, (piece) => text.append(piece));
      text.textContent = r.text;
      const total = page.result.lines.length;
      if (readsText && r.usedLines < Math.min(total, MAX_CONTEXT_LINES)) {
        answer.append(h('p', { class: 'muted', 'data-testid': 'context-cut' }, `Only the first ${r.usedLines} of ${total} lines fitted the model's context.`));
      } else if (readsText && total > MAX_CONTEXT_LINES) {
        answer.append(h('p', { class: 'muted', 'data-testid': 'context-cut' }, `The model was given the first ${MAX_CONTEXT_LINES} of ${total} lines.`));
      }
      const found = answerLines(r.text, page.result.lines.map((l) => l.text));
      host.markAnswer(page.result.page, found.lines);
      const quoted = found.lines.map((i) => `line ${i + 1} "${page.result.lines[i]?.text ?? ''}"`).join(', ');
      where.dataset.match = found.match;
      where.textContent = r.cancelled
        ? 'Stopped.'
        : found.match === 'whole'
          ? `Found on page ${page.result.page}: ${quoted}.`
          : found.match === 'words'
            ? `Parts of it on page ${page.result.page}: ${quoted}.`
            : 'Not found in the page text: check it against the page.';
      if (q === DATES_QUESTION) showDates(answer);
    } catch (err) {
      const e = describeError(toTurnError(err));
      answer.append(h('p', { class: 'bad', role: 'alert', 'data-testid': 'answer-error' }, `${e.headline} ${e.detail} ${e.advice}`));
      if (q === DATES_QUESTION) showDates(answer);
      if (err instanceof VlmError && err.code === 'no-model') await refresh();
    } finally {
      asking = false;
      update();
    }
  }

  buttons.forEach((b, i) => b.addEventListener('click', () => void ask(PRESET_QUESTIONS[i] ?? '')));
  askButton.addEventListener('click', () => void ask(input.value));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') void ask(input.value);
  });
  stopButton.addEventListener('click', () => void api.stopChat());
  loadButton.addEventListener('click', () => {
    loadButton.disabled = true;
    loadProgress.hidden = false;
    modelLine.textContent = `Loading ${BUNDLED_MODEL}…`;
    workerLoader(api)(BUNDLED_MODEL, { engine: 'native' }, (p) => {
      loadProgress.value = p.fraction ?? 0;
    })
      .then(() => refresh())
      .catch((err: unknown) => {
        const e = describeError(toTurnError(err));
        modelLine.textContent = `${e.headline} ${e.detail} ${e.advice}`;
      })
      .finally(() => {
        loadButton.disabled = false;
        loadProgress.hidden = true;
      });
  });
  update();

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
