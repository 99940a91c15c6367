/**
 * The conversation on screen, drawn from the chat's state: one element per
 * turn, kept while its turn is unchanged, so a streaming answer is updated in
 * place and an answer whose text did not change is not parsed for boxes again.
 */
import type { ImageSize } from '../../worker/api';
import { rasterImageType, type VlmClient } from '../../worker/client';
import { h, setChildren } from '../dom';
import { imageForAnswer, type AssistantTurn, type Conversation, type UserTurn } from './conversation';
import { answerMessage, userMessage, type AnswerView } from './message-view';

/** Everything the chat view shows; render() draws the DOM from it. */
export interface ChatState {
  conversation: Conversation;
  generating: boolean;
  /** Stop was pressed before the worker was generating: the next token repeats the request. */
  stopRequested: boolean;
  showBoxes: boolean;
}

/** A turn on screen. */
interface TurnView {
  element: HTMLElement;
  /** What the element was drawn from: a different key means the turn must be drawn again. */
  key: string;
  answer?: AnswerView;
  /** An answer's text and state as last drawn. */
  drawn?: string;
}

export type ConversationView = ReturnType<typeof conversationView>;

export function conversationView(api: VlmClient) {
  const list = h('ol', { class: 'messages', 'data-testid': 'chat-messages', 'aria-live': 'polite' });
  const empty = h('p', { class: 'muted empty', 'data-testid': 'chat-empty' }, 'No messages yet. Attach an image of coloured shapes and ask about it, or use "Where is …?" to find an object.');
  const element = h('section', { class: 'panel conversation', 'aria-label': 'Conversation' }, h('h2', {}, 'Conversation'), empty, list);
  const urls = new Map<string, string>();
  const parse = (text: string, size: ImageSize) => api.parseGrounding(text, size);
  let views = new Map<string, TurnView>();

  const urlOf = (c: Conversation, id: string) => {
    const file = c.images.get(id);
    if (!file) return null;
    let url = urls.get(id);
    if (!url) {
      // Typed by its bytes: a record an older version kept may hold an SVG, whose blob would run script when opened.
      const type = rasterImageType(new Uint8Array(file.bytes, 0, Math.min(file.bytes.byteLength, 32)));
      if (!type) return null;
      url = URL.createObjectURL(new Blob([file.bytes], { type }));
      urls.set(id, url);
    }
    return { url, name: file.name };
  };

  function userView(c: Conversation, turn: UserTurn): TurnView {
    const key = `${turn.imageIds.join(',')}|${turn.error?.code ?? ''}`;
    const old = views.get(turn.id);
    return old?.key === key ? old : { element: userMessage(turn, turn.imageIds.map((id) => urlOf(c, id))), key };
  }

  function answerView(s: ChatState, turn: AssistantTurn): TurnView {
    const file = imageForAnswer(s.conversation, turn.id);
    const key = file?.id ?? '';
    const drawn = `${turn.finish}|${turn.stats ? 'stats' : ''}|${turn.text}`;
    const old = views.get(turn.id);
    if (old?.key === key && old.answer) {
      // Redrawing an unchanged answer would parse its boxes again in the worker.
      if (old.drawn !== drawn) old.answer.update(turn);
      old.answer.setBoxesVisible(s.showBoxes);
      return { ...old, drawn };
    }
    const answer = answerMessage(turn, file ? urlOf(s.conversation, file.id) : null, s.showBoxes, parse);
    return { element: answer.element, key, answer, drawn };
  }

  function render(s: ChatState): void {
    const next = new Map<string, TurnView>();
    for (const t of s.conversation.turns) next.set(t.id, t.role === 'user' ? userView(s.conversation, t) : answerView(s, t));
    views = next;
    setChildren(list, [...next.values()].map((v) => v.element));
    empty.hidden = s.conversation.turns.length > 0;
  }

  /** Lets go of the images' object URLs (the conversation was cleared). */
  function forgetImages(): void {
    for (const u of urls.values()) URL.revokeObjectURL(u);
    urls.clear();
  }

  return { element, render, forgetImages, scrollToEnd: () => list.lastElementChild?.scrollIntoView({ block: 'nearest' }) };
}
