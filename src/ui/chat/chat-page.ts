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
import { adapterControls } from './adapter-controls';
import { attachments, type Attachments } from './attachments';
import { composer, type Composer } from './composer';
import { buildRequest, emptyConversation, newId, type AssistantTurn, type Conversation, type UserTurn } from './conversation';
import { conversationView, type ChatState, type ConversationView } from './conversation-view';
import { toTurnError } from './error-text';
import { HistoryStore, type HistoryChange } from './history-store';
import { modelPicker, type ModelPicker } from './model-picker';

/** Enough for the longest answers the bundled model gives (a grounding of every object); the context caps it anyway. */
const MAX_NEW_TOKENS = 256;

export interface ChatPage {
  element: HTMLElement;
  /** Called each time the view is shown; the first call loads the default model, later ones catch up with other views' loads. */
  activate(): void;
  /** The engine worker died: the picker says no model is loaded (a running answer ends with the error by itself). */
  engineStopped(message: string): void;
  /** Loads again the model the dead worker held. */
  reloadModel(): void;
}

/** What every action works on: the state, the parts of the view, the worker and the stored history. */
interface Chat {
  api: VlmClient;
  state: ChatState;
  view: ConversationView;
  picker: ModelPicker;
  input: Composer;
  images: Attachments;
  store: HistoryStore;
  /** The stored conversation being read; a message sent before it is read would be overwritten by it. */
  history: Promise<void>;
}

function render(c: Chat): void {
  c.view.render(c.state);
  c.input.setGenerating(c.state.generating);
  c.picker.setBusy(c.state.generating);
}

const save = (c: Chat) =>
  c.store.save(c.state.conversation).catch((err: unknown) => {
    c.input.notice(`The conversation could not be saved in this browser's storage (${toTurnError(err).message}); it will not survive a reload.`);
  });

function stop(c: Chat): void {
  if (!c.state.generating) return;
  // The worker may still be decoding images and not yet generating; the next token repeats the request.
  c.state.stopRequested = true;
  // The answer's id is its job's: this Stop ends Chat's answer and never one asked in another view.
  const streaming = c.state.conversation.turns.findLast((t) => t.role === 'assistant' && t.finish === 'streaming');
  if (streaming) void c.api.stopChat(streaming.id);
}

function finishTurn(answer: AssistantTurn, reply: ChatReply): void {
  answer.text = reply.text;
  answer.finish = reply.finishReason;
  answer.stats = { promptTokens: reply.promptTokens, newTokens: reply.newTokens, reusedPositions: reply.reusedPositions, tokensPerSecond: reply.tokensPerSecond, ttftMs: reply.ttftMs };
  if (reply.promptRecomputed) answer.stats.recomputed = reply.recomputeReason ?? 'the earlier turns could not be continued';
  if (reply.regions) {
    answer.regions = reply.regions;
    // A text task (caption, OCR) answers with the processor's text.
    if (reply.regions.text !== undefined) answer.text = reply.regions.text;
  }
}

function failTurn(c: Chat, user: UserTurn, answer: AssistantTurn, err: unknown): void {
  const conv = c.state.conversation;
  user.error = toTurnError(err);
  conv.turns = conv.turns.filter((t) => t !== answer);
  // Give the question back to edit and resend; a picture the worker refused is not put back.
  if (!c.input.text().trim()) c.input.setText(user.text);
  if (user.error.code !== 'bad-image' && c.images.count() === 0) c.images.restore(user.imageIds.flatMap((id) => conv.images.get(id) ?? []));
}

/** Adds the question and an empty answer to the conversation; returns both and the request that asks it. */
function addTurn(c: Chat, text: string): { user: UserTurn; answer: AssistantTurn; request: ReturnType<typeof buildRequest> } {
  const conv = c.state.conversation;
  const files = c.images.take();
  for (const f of files) conv.images.set(f.id, f);
  const user: UserTurn = { role: 'user', id: newId('user'), text, imageIds: files.map((f) => f.id) };
  const answer: AssistantTurn = { role: 'assistant', id: newId('answer'), text: '', finish: 'streaming' };
  conv.turns.push(user);
  const request = buildRequest(conv);
  conv.turns.push(answer);
  return { user, answer, request };
}

/** Asks the model with the whole conversation; the answer streams into its turn. */
async function generate(c: Chat, user: UserTurn, answer: AssistantTurn, request: ReturnType<typeof buildRequest>): Promise<void> {
  const { api, state } = c;
  try {
    // A model still loading (the first visit) is waited for; one that failed to load is the worker's 'no-model'.
    await c.picker.ready();
    const onText = Comlink.proxy((piece: string) => {
      answer.text += piece;
      render(c);
      // Saved as it streams, so a reload keeps the partial answer.
      c.store.saveSoon(state.conversation);
      if (state.stopRequested) void api.stopChat(answer.id);
    });
    const transfer = request.images.map((i) => i.bytes);
    // A first turn (a new chat, or after Clear) starts from nothing the model kept from an earlier conversation.
    const fresh = !request.messages.some((m) => m.role === 'assistant');
    finishTurn(answer, await api.chat(Comlink.transfer({ ...request, fresh, options: { maxNewTokens: MAX_NEW_TOKENS } }, transfer), onText, { jobId: answer.id }));
  } catch (err) {
    failTurn(c, user, answer, err);
  } finally {
    state.generating = false;
    render(c);
    c.view.scrollToEnd();
    void save(c);
  }
}

async function send(c: Chat, raw: string): Promise<void> {
  await c.history;
  const text = raw.trim();
  if (!text) {
    c.input.notice(c.images.count() ? 'Type a question about the images first; nothing was sent.' : 'Type a question first, for example "What colour is the circle?"; nothing was sent.');
    c.input.focus();
    return;
  }
  if (c.state.generating) return;
  c.input.notice(null);
  const { user, answer, request } = addTurn(c, text);
  c.input.setText('');
  c.state.stopRequested = false;
  c.state.generating = true;
  render(c);
  c.view.scrollToEnd();
  void save(c);
  await generate(c, user, answer, request);
}

async function clearConversation(c: Chat): Promise<void> {
  if (c.state.generating) return;
  const shown = c.state.conversation;
  c.view.forgetImages();
  c.state.conversation = emptyConversation();
  render(c);
  c.input.notice(null);
  // Focus before the storage round trip: focusing after it would pull the caret
  // away from whatever the person started typing in meanwhile.
  c.input.focus();
  await c.store.clear(shown).catch((err: unknown) => c.input.notice(`Stored history could not be deleted: ${toTurnError(err).message}`));
}

/** Another tab saved or cleared turns: show them here too, and say so when the conversation was cleared. */
async function followOtherTab(c: Chat, change: HistoryChange): Promise<void> {
  await c.store.refresh(c.state.conversation, change).catch(() => undefined);
  render(c);
  if (change.kind === 'cleared') c.input.notice('The conversation was cleared in another tab.');
}

/** Images can be dropped anywhere on the chat view, not only on the drop zone, and pasted while it is on screen. */
function acceptImages(element: HTMLElement, images: Attachments): void {
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
}

/** Compare's question: the one typed (with the images waiting to go, which stay), else the last one asked, each after the conversation before it. */
function compareRequest(c: Chat): ReturnType<typeof buildRequest> | string {
  const conv = c.state.conversation;
  const text = c.input.text().trim();
  if (text) {
    const files = c.images.take();
    c.images.restore(files);
    const turn: UserTurn = { role: 'user', id: 'compare', text, imageIds: files.map((f) => f.id) };
    const images = new Map([...conv.images, ...files.map((f) => [f.id, f] as const)]);
    return buildRequest({ turns: [...conv.turns, turn], images });
  }
  const at = conv.turns.findLastIndex((t) => t.role === 'user' && !t.error);
  if (at < 0) return 'Type a question (and attach an image) first: Compare answers it with and without the adapter.';
  const before: Conversation = { turns: conv.turns.slice(0, at + 1), images: conv.images };
  return buildRequest(before);
}

export function chatPage(api: VlmClient): ChatPage {
  const images = attachments((m) => input.notice(m));
  const input = composer(images, {
    send: (t) => void send(c, t),
    stop: () => stop(c),
    clear: () => void clearConversation(c),
    showBoxes: (on) => {
      c.state.showBoxes = on;
      render(c);
    },
    groundingQuestion: (p) => api.groundingQuestion(p),
  });
  const state: ChatState = { conversation: emptyConversation(), generating: false, stopRequested: false, showBoxes: true };
  const adapter = adapterControls(api, {
    request: () => compareRequest(c),
    busy: () => state.generating,
    setBusy: (on) => {
      state.generating = on;
      render(c);
    },
    notice: (m) => input.notice(m),
  });
  const loaded = (tasks: readonly string[]) => {
    input.setTasks(tasks);
    // An adapter belongs to the model it was trained or imported for: a load may have dropped it.
    void adapter.refresh();
  };
  const c: Chat = { api, state, view: conversationView(api), picker: modelPicker(api, undefined, (m) => loaded(m?.tasks ?? [])), input, images, store: new HistoryStore(), history: Promise.resolve() };
  const element = h('div', { class: 'chat-page', 'data-testid': 'chat-page' }, c.picker.element, c.view.element, adapter.element, input.element);
  acceptImages(element, images);
  c.history = c.store
    .load()
    .then(({ conversation, notices }) => {
      state.conversation = conversation;
      render(c);
      if (notices.length) input.notice(notices.join(' '));
      c.store.onChange((change) => void followOtherTab(c, change));
    })
    .catch((err: unknown) => input.notice(`Earlier conversations could not be read from this browser's storage (${toTurnError(err).message}).`));
  render(c);
  let activated = false;
  return {
    element,
    activate() {
      input.focus();
      void adapter.refresh();
      if (activated && !state.generating) void c.picker.resync();
      if (activated) return;
      activated = true;
      void c.history.then(() => c.picker.loadIfNone());
    },
    engineStopped: (message) => c.picker.engineStopped(message),
    reloadModel: () => void c.picker.reload(),
  };
}
