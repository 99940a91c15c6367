/**
 * The Chat view: pick and load a model, attach images (drop, paste, picker),
 * ask, watch the answer stream in, stop it, see grounding boxes drawn, and find
 * the conversation again after a reload. Each turn sends the whole
 * conversation with all its images in order; the worker serves the unchanged
 * prefix from its KV cache, so only the new part is computed.
 */
import * as Comlink from 'comlink';
import type { ChatReply } from '../../worker/api';
import type { VlmClient } from '../../worker/client';
import { h } from '../dom';
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

export function chatPage(api: VlmClient): ChatPage {
  const store = new HistoryStore();
  let conversation: Conversation = emptyConversation();
  const urls = new Map<string, string>();
  const answers = new Map<string, AnswerView>();
  let generating = false;
  let stopRequested = false;
  let showBoxes = true;
  let activated = false;
  let history: Promise<void> = Promise.resolve();

  const picker = modelPicker(api);
  const list = h('ol', { class: 'messages', 'data-testid': 'chat-messages', 'aria-live': 'polite' });
  const empty = h('p', { class: 'muted empty', 'data-testid': 'chat-empty' }, 'No messages yet. Attach an image of coloured shapes and ask about it, or use "Where is …?" to find an object.');
  const images = attachments((m) => input.notice(m));
  const input = composer(images, { send: (t) => void send(t), stop, clear: () => void clearConversation(), showBoxes: setShowBoxes, groundingQuestion: (p) => api.groundingQuestion(p) });

  const urlOf = (id: string): ShownImage | null => {
    const file = conversation.images.get(id);
    if (!file) return null;
    let url = urls.get(id);
    if (!url) {
      url = URL.createObjectURL(new Blob([file.bytes], { type: file.type }));
      urls.set(id, url);
    }
    return { url, name: file.name };
  };

  const scrollToEnd = () => list.lastElementChild?.scrollIntoView({ block: 'nearest' });

  function answerView(turn: AssistantTurn): AnswerView {
    const file = imageForAnswer(conversation, turn.id);
    const view = answerMessage(turn, file ? urlOf(file.id) : null, showBoxes, (t, size) => api.parseGrounding(t, size));
    answers.set(turn.id, view);
    return view;
  }

  function render(): void {
    answers.clear();
    list.replaceChildren(...conversation.turns.map((t) => (t.role === 'user' ? userMessage(t, t.imageIds.map(urlOf)) : answerView(t).element)));
    empty.hidden = conversation.turns.length > 0;
  }

  const save = () =>
    store.save(conversation).catch((err: unknown) => {
      input.notice(`The conversation could not be saved in this browser's storage (${toTurnError(err).message}); it will not survive a reload.`);
    });

  function setGenerating(on: boolean): void {
    generating = on;
    input.setGenerating(on);
    picker.setBusy(on);
  }

  function stop(): void {
    if (!generating) return;
    // The worker may still be decoding images and not yet generating; the next token repeats the request.
    stopRequested = true;
    void api.stopChat();
  }

  function finishTurn(answer: AssistantTurn, reply: ChatReply): void {
    answer.text = reply.text;
    answer.finish = reply.finishReason;
    answer.stats = { promptTokens: reply.promptTokens, newTokens: reply.newTokens, reusedPositions: reply.reusedPositions, tokensPerSecond: reply.tokensPerSecond, ttftMs: reply.ttftMs };
    answers.get(answer.id)?.update(answer);
  }

  function failTurn(user: UserTurn, answer: AssistantTurn, err: unknown): void {
    user.error = toTurnError(err);
    conversation.turns = conversation.turns.filter((t) => t !== answer);
    // Give the question back to edit and resend; a picture the worker refused is not put back.
    if (!input.text().trim()) input.setText(user.text);
    if (user.error.code !== 'bad-image' && images.count() === 0) images.restore(user.imageIds.flatMap((id) => conversation.images.get(id) ?? []));
    render();
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
    if (generating) return;
    input.notice(null);
    const files = images.take();
    for (const f of files) conversation.images.set(f.id, f);
    const user: UserTurn = { role: 'user', id: newId('user'), text, imageIds: files.map((f) => f.id) };
    const answer: AssistantTurn = { role: 'assistant', id: newId('answer'), text: '', finish: 'streaming' };
    conversation.turns.push(user);
    const request = buildRequest(conversation);
    conversation.turns.push(answer);
    input.setText('');
    render();
    scrollToEnd();
    void save();
    stopRequested = false;
    setGenerating(true);
    const view = answers.get(answer.id);
    try {
      // A model still loading (the first visit) is waited for; one that failed to load is the worker's 'no-model'.
      await picker.ready();
      const onText = Comlink.proxy((piece: string) => {
        answer.text += piece;
        view?.update(answer);
        if (stopRequested) void api.stopChat();
      });
      const transfer = request.images.map((i) => i.bytes);
      const reply = await api.chat(Comlink.transfer({ ...request, options: { maxNewTokens: MAX_NEW_TOKENS } }, transfer), onText);
      finishTurn(answer, reply);
    } catch (err) {
      failTurn(user, answer, err);
    } finally {
      setGenerating(false);
      scrollToEnd();
      void save();
    }
  }

  async function clearConversation(): Promise<void> {
    if (generating) return;
    for (const u of urls.values()) URL.revokeObjectURL(u);
    urls.clear();
    conversation = emptyConversation();
    render();
    input.notice(null);
    // Focus before the storage round trip: focusing after it would pull the caret
    // away from whatever the person started typing in meanwhile.
    input.focus();
    await store.clear().catch((err: unknown) => input.notice(`Stored history could not be deleted: ${toTurnError(err).message}`));
  }

  function setShowBoxes(on: boolean): void {
    showBoxes = on;
    for (const v of answers.values()) v.setBoxesVisible(on);
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
      conversation = c;
      render();
    })
    .catch((err: unknown) => input.notice(`Earlier conversations could not be read from this browser's storage (${toTurnError(err).message}).`));
  render();

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
