/**
 * The Chat view: pick and load a model, attach images (drop, paste, picker),
 * ask, watch the answer stream in, stop it, see grounding boxes drawn, and find
 * the conversation again after a reload. Each turn sends the whole
 * conversation with all its images in order; the worker serves the unchanged
 * prefix from its KV cache, so only the new part is computed.
 */
import * as Comlink from 'comlink';
import type { ChatReply, ImageSize } from '../../worker/api';
import type { VlmClient } from '../../worker/client';
import { h, setChildren } from '../dom';
import { attachments } from './attachments';
import { composer } from './composer';
import { buildRequest, emptyConversation, imageForAnswer, newId, type AssistantTurn, type Conversation, type UserTurn } from './conversation';
import { toTurnError } from './error-text';
import { HistoryStore } from './history-store';
import { answerMessage, userMessage, type AnswerView, type ShownImage } from './message-view';
import { modelPicker } from './model-picker';

/** Enough for the longest answers the bundled model gives (a grounding of every object); the context caps it anyway. */
const MAX_NEW_TOKENS = 256;

export interface ChatPage {
  element: HTMLElement;
  /** Called each time the view is shown; the first call loads the default model. */
  activate(): void;
}

/** Everything the view shows; render() draws the DOM from it. */
interface ChatState {
  conversation: Conversation;
  generating: boolean;
  /** Stop was pressed before the worker was generating: the next token repeats the request. */
  stopRequested: boolean;
  showBoxes: boolean;
}

/** A turn on screen, kept while its turn is unchanged so streaming updates it in place. */
interface TurnView {
  element: HTMLElement;
  /** What the element was drawn from: a different key means the turn must be drawn again. */
  key: string;
  answer?: AnswerView;
  /** An answer's text and state as last drawn. */
  drawn?: string;
}

export function chatPage(api: VlmClient): ChatPage {
  const store = new HistoryStore();
  const state: ChatState = { conversation: emptyConversation(), generating: false, stopRequested: false, showBoxes: true };
  const urls = new Map<string, string>();
  let views = new Map<string, TurnView>();
  let activated = false;
  let history: Promise<void> = Promise.resolve();

  const picker = modelPicker(api);
  const list = h('ol', { class: 'messages', 'data-testid': 'chat-messages', 'aria-live': 'polite' });
  const empty = h('p', { class: 'muted empty', 'data-testid': 'chat-empty' }, 'No messages yet. Attach an image of coloured shapes and ask about it, or use "Where is …?" to find an object.');
  const images = attachments((m) => input.notice(m));
  const input = composer(images, {
    send: (t) => void send(t),
    stop,
    clear: () => void clearConversation(),
    showBoxes: setShowBoxes,
    groundingQuestion: (p) => api.groundingQuestion(p),
  });
  const parse = (text: string, size: ImageSize) => api.parseGrounding(text, size);

  const urlOf = (id: string): ShownImage | null => {
    const file = state.conversation.images.get(id);
    if (!file) return null;
    let url = urls.get(id);
    if (!url) {
      url = URL.createObjectURL(new Blob([file.bytes], { type: file.type }));
      urls.set(id, url);
    }
    return { url, name: file.name };
  };

  const scrollToEnd = () => list.lastElementChild?.scrollIntoView({ block: 'nearest' });

  function userView(turn: UserTurn): TurnView {
    const key = `${turn.imageIds.join(',')}|${turn.error?.code ?? ''}`;
    const old = views.get(turn.id);
    return old?.key === key ? old : { element: userMessage(turn, turn.imageIds.map(urlOf)), key };
  }

  function answerView(turn: AssistantTurn): TurnView {
    const file = imageForAnswer(state.conversation, turn.id);
    const key = file?.id ?? '';
    const drawn = `${turn.finish}|${turn.stats ? 'stats' : ''}|${turn.text}`;
    const old = views.get(turn.id);
    if (old?.key === key && old.answer) {
      // Redrawing an unchanged answer would parse its boxes again in the worker.
      if (old.drawn !== drawn) old.answer.update(turn);
      old.answer.setBoxesVisible(state.showBoxes);
      return { ...old, drawn };
    }
    const answer = answerMessage(turn, file ? urlOf(file.id) : null, state.showBoxes, parse);
    return { element: answer.element, key, answer, drawn };
  }

  function render(s: ChatState): void {
    const next = new Map<string, TurnView>();
    for (const t of s.conversation.turns) next.set(t.id, t.role === 'user' ? userView(t) : answerView(t));
    views = next;
    setChildren(list, [...next.values()].map((v) => v.element));
    empty.hidden = s.conversation.turns.length > 0;
    input.setGenerating(s.generating);
    picker.setBusy(s.generating);
  }

  const save = () =>
    store.save(state.conversation).catch((err: unknown) => {
      input.notice(`The conversation could not be saved in this browser's storage (${toTurnError(err).message}); it will not survive a reload.`);
    });

  function stop(): void {
    if (!state.generating) return;
    // The worker may still be decoding images and not yet generating; the next token repeats the request.
    state.stopRequested = true;
    void api.stopChat();
  }

  function finishTurn(answer: AssistantTurn, reply: ChatReply): void {
    answer.text = reply.text;
    answer.finish = reply.finishReason;
    answer.stats = { promptTokens: reply.promptTokens, newTokens: reply.newTokens, reusedPositions: reply.reusedPositions, tokensPerSecond: reply.tokensPerSecond, ttftMs: reply.ttftMs };
  }

  function failTurn(user: UserTurn, answer: AssistantTurn, err: unknown): void {
    const c = state.conversation;
    user.error = toTurnError(err);
    c.turns = c.turns.filter((t) => t !== answer);
    // Give the question back to edit and resend; a picture the worker refused is not put back.
    if (!input.text().trim()) input.setText(user.text);
    if (user.error.code !== 'bad-image' && images.count() === 0) images.restore(user.imageIds.flatMap((id) => c.images.get(id) ?? []));
  }

  /** Adds the question and an empty answer to the conversation; returns both and the request that asks it. */
  function addTurn(text: string): { user: UserTurn; answer: AssistantTurn; request: ReturnType<typeof buildRequest> } {
    const c = state.conversation;
    const files = images.take();
    for (const f of files) c.images.set(f.id, f);
    const user: UserTurn = { role: 'user', id: newId('user'), text, imageIds: files.map((f) => f.id) };
    const answer: AssistantTurn = { role: 'assistant', id: newId('answer'), text: '', finish: 'streaming' };
    c.turns.push(user);
    const request = buildRequest(c);
    c.turns.push(answer);
    return { user, answer, request };
  }

  async function send(raw: string): Promise<void> {
    // A message sent before the stored history is read would be overwritten by it.
    await history;
    const text = raw.trim();
    if (!text) {
      input.notice(images.count() ? 'Type a question about the images first; nothing was sent.' : 'Type a question first, for example "What colour is the circle?"; nothing was sent.');
      input.focus();
      return;
    }
    if (state.generating) return;
    input.notice(null);
    const { user, answer, request } = addTurn(text);
    input.setText('');
    state.stopRequested = false;
    state.generating = true;
    render(state);
    scrollToEnd();
    void save();
    try {
      // A model still loading (the first visit) is waited for; one that failed to load is the worker's 'no-model'.
      await picker.ready();
      const onText = Comlink.proxy((piece: string) => {
        answer.text += piece;
        render(state);
        if (state.stopRequested) void api.stopChat();
      });
      const transfer = request.images.map((i) => i.bytes);
      finishTurn(answer, await api.chat(Comlink.transfer({ ...request, options: { maxNewTokens: MAX_NEW_TOKENS } }, transfer), onText));
    } catch (err) {
      failTurn(user, answer, err);
    } finally {
      state.generating = false;
      render(state);
      scrollToEnd();
      void save();
    }
  }

  async function clearConversation(): Promise<void> {
    if (state.generating) return;
    for (const u of urls.values()) URL.revokeObjectURL(u);
    urls.clear();
    state.conversation = emptyConversation();
    render(state);
    input.notice(null);
    // Focus before the storage round trip: focusing after it would pull the caret
    // away from whatever the person started typing in meanwhile.
    input.focus();
    await store.clear().catch((err: unknown) => input.notice(`Stored history could not be deleted: ${toTurnError(err).message}`));
  }

  function setShowBoxes(on: boolean): void {
    state.showBoxes = on;
    render(state);
  }

  const element = h(
    'div',
    { class: 'chat-page', 'data-testid': 'chat-page' },
    picker.element,
    h('section', { class: 'panel conversation', 'aria-label': 'Conversation' }, h('h2', {}, 'Conversation'), empty, list),
    input.element,
  );

  // Images can be dropped anywhere on the chat view, not only on the drop zone.
  const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
  element.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    images.setDragOver(true);
  });
  element.addEventListener('dragleave', (e) => {
    if (!element.contains(e.relatedTarget as Node | null)) images.setDragOver(false);
  });
  element.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    images.setDragOver(false);
    void images.add(e.dataTransfer?.files ?? []);
  });
  document.addEventListener('paste', (e) => {
    // Only while the chat view is on screen; other views have their own inputs.
    if (element.offsetParent === null) return;
    const files = [...(e.clipboardData?.files ?? [])];
    if (files.length === 0) return;
    e.preventDefault();
    void images.add(files);
  });

  history = store
    .load()
    .then((c) => {
      state.conversation = c;
      render(state);
    })
    .catch((err: unknown) => input.notice(`Earlier conversations could not be read from this browser's storage (${toTurnError(err).message}).`));
  render(state);

  return {
    element,
    activate() {
      if (activated) return;
      activated = true;
      void history.then(() => picker.loadIfNone());
      input.focus();
    },
  };
}
