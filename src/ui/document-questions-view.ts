/**
 * The document questions' elements and their render(state): the model line
 * with its Load button, the preset questions, the question box, and the
 * answer area (the question asked, the streamed answer, where it was found on
 * the page, how much of the page text the model saw, errors, and the dates).
 */
import type { DocumentAnswer, LoadedModel, PageResult } from '../worker/api';
import { datesTable } from './dates-table';
import { PAGE_TASKS, pageTasks } from './document-tasks';
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

export const DATES_QUESTION = 'Extract all dates mentioned.';
export const BUNDLED_MODEL = 'webvlm-tiny';

/** One question and what came back; the answer area is drawn from it alone. */
export interface AnswerState {
  /** The page and question asked; null when nothing went to the model (dates alone, an empty question). */
  asked: { page: PageResult; question: string } | null;
  text: string;
  reply: DocumentAnswer | null;
  error: string | null;
  /** The pages whose dates are listed under the answer. */
  dates: readonly PageResult[] | null;
}

export interface QuestionsState {
  model: LoadedModel | null;
  readsText: boolean;
  asking: boolean;
  /** Loading the bundled model from here: the bar's fraction, or null when not loading. */
  loading: number | null;
  loadError: string | null;
  answer: AnswerState | null;
}

export const noAnswer = (): AnswerState => ({ asked: null, text: '', reply: null, error: null, dates: null });

function modelLineText(s: QuestionsState): string {
  if (s.loading !== null) return `Loading ${BUNDLED_MODEL}…`;
  if (s.loadError) return s.loadError;
  if (!s.model) {
    return 'Load a model to ask questions: answers come from a vision-language model, and none is loaded yet. "Extract all dates mentioned." also works without one, straight from the text.';
  }
  if (s.model.tasks) {
    return `${s.model.id} answers only its task prompts, not free-form questions: ask it for one of these about the page on screen, or read the page with OCR engine Florence-2.`;
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

/** The answer area; its parts live as long as the view, so streaming updates them in place. */
function answerView() {
  const element = h('div', { class: 'answer', 'data-testid': 'question-answer', 'aria-live': 'polite' });
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

  function render(a: AnswerState | null): void {
    if (!a) return setChildren(element, []);
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
    setChildren(element, nodes);
  }

  return { element, render };
}

export type QuestionsView = ReturnType<typeof questionsView>;

export function questionsView() {
  const modelLine = h('p', { class: 'muted', 'data-testid': 'model-needed' });
  const loadButton = h('button', { type: 'button', 'data-testid': 'doc-load-model', hidden: '' }, `Load ${BUNDLED_MODEL}`);
  const loadProgress = h('progress', { max: '1', value: '0', hidden: '', 'data-testid': 'doc-load-progress' });
  const buttons = PRESET_QUESTIONS.map((q) =>
    h('button', { type: 'button', class: 'question', 'data-testid': q === DATES_QUESTION ? 'extract-dates' : 'preset-question' }, q),
  );
  const taskButtons = PAGE_TASKS.map((t) => h('button', { type: 'button', class: 'question', 'data-testid': 'doc-task', 'data-task': t.task }, t.label));
  const tasks = h('div', { class: 'questions', 'data-testid': 'doc-tasks', hidden: '' }, ...taskButtons);
  const input = h('input', { type: 'text', placeholder: 'Ask about this page…', 'aria-label': 'Question', 'data-testid': 'question-input' });
  const askButton = h('button', { type: 'button', 'data-testid': 'ask-button' }, 'Ask');
  const stopButton = h('button', { type: 'button', 'data-testid': 'stop-answer', hidden: '' }, 'Stop');
  const answer = answerView();
  const element = h(
    'section',
    { class: 'panel', 'data-testid': 'doc-questions' },
    h('h2', {}, 'Ask about the document'),
    modelLine,
    h('div', { class: 'progress-row' }, loadButton, loadProgress),
    tasks,
    h('div', { class: 'questions' }, ...buttons),
    h('div', { class: 'ask-row' }, input, askButton, stopButton),
    answer.element,
  );

  /** `hasPage`: a page is on screen (questions are about it). */
  function render(s: QuestionsState, hasPage: boolean): void {
    const offered = pageTasks(s.model?.tasks);
    // A model with task prompts only (Florence-2) gets its tasks instead of free-form questions.
    const canAsk = s.model !== null && !s.model.tasks && hasPage && !s.asking;
    buttons.forEach((b, i) => {
      const isDates = PRESET_QUESTIONS[i] === DATES_QUESTION;
      b.disabled = s.asking || (!isDates && !canAsk);
      b.title = s.model ? (s.model.tasks ? 'This model answers only its task prompts.' : hasPage ? '' : 'Open a document first.') : 'Load a model to ask questions.';
    });
    tasks.hidden = offered.length === 0;
    taskButtons.forEach((b) => {
      b.hidden = !offered.some((t) => t.task === b.dataset.task);
      b.disabled = s.asking || !hasPage;
    });
    input.disabled = askButton.disabled = !canAsk;
    stopButton.hidden = !s.asking;
    loadButton.hidden = s.model !== null;
    loadButton.disabled = s.loading !== null;
    loadProgress.hidden = s.loading === null;
    loadProgress.value = s.loading ?? 0;
    modelLine.textContent = modelLineText(s);
    answer.render(s.answer);
  }

  return { element, render, controls: { buttons, taskButtons, input, askButton, stopButton, loadButton } };
}
