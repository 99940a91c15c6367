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
import type { PageResult } from '../worker/api';
import { VlmError, type VlmClient } from '../worker/client';
import { describeError, toTurnError } from './chat/error-text';
import { workerLoader } from './chat/model-picker';
import { PAGE_TASKS, taskAnswerText } from './document-tasks';
import { BUNDLED_MODEL, DATES_QUESTION, noAnswer, PRESET_QUESTIONS, questionsView, type AnswerState, type QuestionsState } from './document-questions-view';

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

/** What every action works on: the state, the host page, and the way to draw. */
interface Questions {
  host: QuestionHost;
  state: QuestionsState;
  render(): void;
  /** The id of the question being answered, so Stop here ends this answer and never one asked in Chat. */
  jobId: string | null;
}

let asked = 0;

async function pageImage(url: string): Promise<{ bytes: ArrayBuffer; type: string }> {
  const blob = await (await fetch(url)).blob();
  return { bytes: await blob.arrayBuffer(), type: blob.type || 'image/png' };
}

async function refresh({ host, state, render }: Questions): Promise<void> {
  state.loadError = null;
  state.model = await host.api.loadedModel();
  state.readsText = state.model?.readsPageText ?? false;
  render();
}

/**
 * Runs one answer into `a`: streamed through the onText it is given, then the
 * final text `run` returns. Pieces and the result cross on different ports, so
 * a piece that arrives after the result is dropped rather than appended to it.
 */
async function answering(q: Questions, a: AnswerState, question: string, run: (onText: (piece: string) => void, jobId: string) => Promise<string>): Promise<void> {
  const { host, state, render } = q;
  state.asking = true;
  render();
  let finished = false;
  try {
    const onText = Comlink.proxy((piece: string) => {
      if (finished) return;
      a.text += piece;
      render();
    });
    q.jobId = `document-question-${++asked}`;
    const text = await run(onText, q.jobId);
    finished = true;
    a.text = text;
  } catch (err) {
    finished = true;
    const e = describeError(toTurnError(err));
    a.error = `${e.headline} ${e.detail} ${e.advice}`;
    if (err instanceof VlmError && err.code === 'no-model') await refresh(q);
  } finally {
    if (question === DATES_QUESTION) a.dates = host.pages();
    q.jobId = null;
    state.asking = false;
    render();
  }
}

/** Sends the question to the worker; the answer streams into `a`. */
function askModel(q: Questions, a: AnswerState, page: PageOnScreen, question: string): Promise<void> {
  return answering(q, a, question, async (onText, jobId) => {
    const image = page.imageUrl ? await pageImage(page.imageUrl) : null;
    const request = { question, lines: page.result.lines.map((l) => l.text), image };
    a.reply = await q.host.api.askDocument(Comlink.transfer(request, image ? [image.bytes] : []), onText, { jobId });
    q.host.markAnswer(page.result.page, a.reply.found.lines);
    return a.reply.text;
  });
}

/** One of a task model's prompts (Florence-2's) about the page image; the answer shown is its post-processed text or labels. */
async function askTask(q: Questions, task: (typeof PAGE_TASKS)[number]): Promise<void> {
  const page = q.host.current();
  if (!q.state.model || !page?.imageUrl) return;
  const a = (q.state.answer = noAnswer());
  a.asked = { page: page.result, question: task.label };
  const url = page.imageUrl;
  await answering(q, a, task.label, async (onText, jobId) => {
    const image = await pageImage(url);
    const request = { messages: [{ role: 'user' as const, content: [{ type: 'image' as const }, { type: 'text' as const, text: task.task }] }], images: [image] };
    return taskAnswerText(await q.host.api.chat(Comlink.transfer(request, [image.bytes]), onText, { jobId }));
  });
}

async function ask(q: Questions, raw: string): Promise<void> {
  const { host, state } = q;
  const question = raw.trim();
  const page = host.current();
  state.loadError = null;
  state.answer = noAnswer();
  if (question === DATES_QUESTION && !state.model) state.answer.dates = host.pages();
  else if (!question) state.answer.error = 'Type a question first.';
  else if (state.model && page) {
    state.answer.asked = { page: page.result, question };
    await askModel(q, state.answer, page, question);
  }
  q.render();
}

async function loadBundled(q: Questions): Promise<void> {
  const { state, render } = q;
  state.loading = 0;
  state.loadError = null;
  render();
  try {
    await workerLoader(q.host.api)(BUNDLED_MODEL, { engine: 'native' }, (p) => {
      state.loading = p.fraction ?? 0;
      render();
    });
    state.loading = null;
    await refresh(q);
  } catch (err) {
    const e = describeError(toTurnError(err));
    state.loadError = `${e.headline} ${e.detail} ${e.advice}`;
  } finally {
    state.loading = null;
    render();
  }
}

export function documentQuestions(host: QuestionHost): DocumentQuestions {
  const view = questionsView();
  const state: QuestionsState = { model: null, readsText: false, asking: false, loading: null, loadError: null, answer: null };
  const q: Questions = { host, state, render: () => view.render(state, host.current() !== null), jobId: null };
  const { buttons, taskButtons, input, askButton, stopButton, loadButton } = view.controls;
  buttons.forEach((b, i) => b.addEventListener('click', () => void ask(q, PRESET_QUESTIONS[i] ?? '')));
  taskButtons.forEach((b, i) => b.addEventListener('click', () => void askTask(q, PAGE_TASKS[i] ?? PAGE_TASKS[0])));
  askButton.addEventListener('click', () => void ask(q, input.value));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') void ask(q, input.value);
  });
  stopButton.addEventListener('click', () => {
    if (q.jobId) void host.api.stopChat(q.jobId);
  });
  loadButton.addEventListener('click', () => void loadBundled(q));
  q.render();
  return { element: view.element, refresh: () => refresh(q) };
}
