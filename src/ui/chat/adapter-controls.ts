/**
 * Chat's LoRA controls, shown while the worker holds an adapter for the
 * loaded model: a toggle that applies or removes it (the Fine-tune view's
 * Apply is the same switch), and Compare, which answers the current question
 * twice, with and without the adapter, side by side. The compared answers
 * are not added to the conversation; the toggle is left as it was.
 */
import * as Comlink from 'comlink';
import type { ChatReply } from '../../worker/api';
import type { AdapterState, VlmClient } from '../../worker/client';
import { h } from '../dom';
import type { buildRequest } from './conversation';
import { describeError, toTurnError } from './error-text';

type Request = ReturnType<typeof buildRequest>;

export interface AdapterControlsHost {
  /** The question to compare (the typed one, else the last asked), or why there is none. */
  request(): Request | string;
  /** Chat is answering: Compare waits; Compare answering: Chat's Send waits. */
  busy(): boolean;
  setBusy(on: boolean): void;
  notice(message: string | null): void;
}

export interface AdapterControls {
  element: HTMLElement;
  /** Re-reads the adapter (the view came on screen, a model was loaded). */
  refresh(): Promise<void>;
}

const MAX_NEW_TOKENS = 256;

function answerBox(label: string, testid: string): { element: HTMLElement; text: HTMLElement } {
  const text = h('p', { class: 'msg-text', 'data-testid': `${testid}-text` });
  return { element: h('div', { 'data-testid': testid }, h('h3', {}, label), text), text };
}

export function adapterControls(api: VlmClient, host: AdapterControlsHost): AdapterControls {
  const toggle = h('input', { type: 'checkbox', 'data-testid': 'chat-adapter-toggle' });
  const name = h('span', { class: 'muted', 'data-testid': 'chat-adapter-name' });
  const compare = h('button', { type: 'button', class: 'secondary', 'data-testid': 'chat-compare', title: 'Answers the question typed below (or else the last one asked) with and without the adapter' }, 'Compare with / without');
  const withAdapter = answerBox('With the LoRA adapter', 'compare-with');
  const without = answerBox('Without (base model)', 'compare-without');
  const answers = h('div', { class: 'compare-answers', 'data-testid': 'compare-answers', hidden: '' }, withAdapter.element, without.element);
  const element = h(
    'section',
    { class: 'panel chat-adapter-panel', 'aria-label': 'LoRA adapter', 'data-testid': 'chat-adapter', hidden: '' },
    h('div', { class: 'chat-adapter' }, h('label', { class: 'toggle' }, toggle, ' LoRA adapter'), name, compare),
    answers,
  );
  let state: AdapterState | null = null;

  const show = (a: AdapterState | null) => {
    state = a;
    element.hidden = !a;
    toggle.checked = a?.applied ?? false;
    // A merged adapter is part of the weights: there is nothing to switch off or compare against.
    toggle.disabled = !a || a.merged;
    compare.disabled = !a || a.merged;
    name.textContent = a ? `${a.name} (rank ${a.config.rank}${a.merged ? ', merged into the weights' : ''})` : '';
  };
  const fail = (err: unknown) => {
    const d = describeError(toTurnError(err));
    host.notice(`${d.headline} ${d.detail} ${d.advice}`);
  };
  const refresh = async () => show(await api.adapterState().catch(() => null));

  toggle.addEventListener('change', () => {
    api.adapterApply(toggle.checked).then(show, (err: unknown) => {
      fail(err);
      void refresh();
    });
  });

  const ask = async (request: Request, applied: boolean, into: HTMLElement): Promise<ChatReply> => {
    await api.adapterApply(applied);
    into.textContent = '';
    const onText = Comlink.proxy((piece: string) => {
      into.textContent += piece;
    });
    const copy = { messages: request.messages, images: request.images.map((i) => ({ ...i, bytes: i.bytes.slice(0) })) };
    return api.chat(Comlink.transfer({ ...copy, options: { maxNewTokens: MAX_NEW_TOKENS } }, copy.images.map((i) => i.bytes)), onText);
  };

  const run = async () => {
    const a = state;
    if (!a || host.busy()) return;
    const request = host.request();
    if (typeof request === 'string') {
      host.notice(request);
      return;
    }
    host.notice(null);
    host.setBusy(true);
    compare.disabled = true;
    answers.hidden = false;
    answers.setAttribute('aria-busy', 'true');
    try {
      withAdapter.text.textContent = (await ask(request, true, withAdapter.text)).text;
      without.text.textContent = (await ask(request, false, without.text)).text;
    } catch (err) {
      fail(err);
    } finally {
      // The toggle is left as the person set it.
      await api.adapterApply(a.applied).then(show, () => refresh());
      answers.setAttribute('aria-busy', 'false');
      host.setBusy(false);
    }
  };
  compare.addEventListener('click', () => void run());
  return { element, refresh };
}
