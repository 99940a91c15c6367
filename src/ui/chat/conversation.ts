/**
 * The conversation as the chat page keeps it: user turns with their images,
 * assistant answers, and turns that failed. It is plain data (no DOM), so the
 * request sent to the model and the history saved to IndexedDB both come
 * from it, and unit tests can check both in Node.
 */
import type { ChatImage, ChatMessage, ChatPart, ChatReply, TaskRegions } from '../../worker/api';

/** An attached image: the encoded file exactly as the person gave it. */
export interface ImageFile {
  id: string;
  name: string;
  type: string;
  bytes: ArrayBuffer;
}

/** What failed, in the worker's terms; the page words it for a person. */
export interface TurnError {
  code: string;
  message: string;
}

export interface UserTurn {
  role: 'user';
  id: string;
  text: string;
  /** Image ids, in the order the person attached them. */
  imageIds: string[];
  /** Set when the model refused this turn: it stays on screen but is not sent again. */
  error?: TurnError;
}

export interface AnswerStats {
  promptTokens: number;
  newTokens: number;
  reusedPositions: number;
  tokensPerSecond: number;
  ttftMs: number;
  /** Why the whole prompt ran again (the engine could not continue the earlier turns' cache); absent when it did not. */
  recomputed?: string;
}

export interface AssistantTurn {
  role: 'assistant';
  id: string;
  text: string;
  /**
   * 'streaming' while tokens arrive; 'cancelled' when Stop ended it;
   * 'interrupted' when the page was closed or reloaded mid-answer (the text saved so far is kept).
   */
  finish: ChatReply['finishReason'] | 'streaming' | 'interrupted';
  stats?: AnswerStats;
  /** A task prompt's boxes or quads as the worker post-processed them (Florence-2); drawn instead of parsing the text. */
  regions?: TaskRegions;
}

export type Turn = UserTurn | AssistantTurn;

export interface Conversation {
  turns: Turn[];
  images: Map<string, ImageFile>;
}

export function emptyConversation(): Conversation {
  return { turns: [], images: new Map() };
}

let counter = 0;
/** Ids unique within this page and across reloads (time + counter + random). */
export function newId(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Turns the model should see: failed user turns are dropped, and so are empty answers (a Stop before the first token). */
export function liveTurns(turns: readonly Turn[]): Turn[] {
  return turns.filter((t) => (t.role === 'user' ? !t.error : t.text.length > 0 && t.finish !== 'streaming'));
}

/**
 * The whole conversation as one chat request: every live turn in order, each
 * user turn's images before its text (the chat template places them), and the
 * images as encoded bytes in the same order. The bytes are copies, so they can
 * be transferred to the worker while the page keeps its own.
 */
export function buildRequest(conversation: Conversation): { messages: ChatMessage[]; images: Extract<ChatImage, { bytes: ArrayBuffer }>[] } {
  const messages: ChatMessage[] = [];
  const images: Extract<ChatImage, { bytes: ArrayBuffer }>[] = [];
  for (const turn of liveTurns(conversation.turns)) {
    if (turn.role === 'assistant') {
      messages.push({ role: 'assistant', content: turn.text });
      continue;
    }
    const parts: ChatPart[] = [];
    for (const id of turn.imageIds) {
      const file = conversation.images.get(id);
      // An image lost from storage cannot be sent; the rest of the turn still can.
      if (!file) continue;
      parts.push({ type: 'image' });
      images.push({ bytes: file.bytes.slice(0), type: file.type, name: file.name });
    }
    parts.push({ type: 'text', text: turn.text });
    messages.push({ role: 'user', content: parts });
  }
  return { messages, images };
}

/**
 * The image an answer talks about: the last image of its question, or else
 * the last one before it in the conversation (follow-up questions about the
 * same picture carry no image of their own).
 */
export function imageForAnswer(conversation: Conversation, answerId: string): ImageFile | null {
  const at = conversation.turns.findIndex((t) => t.id === answerId);
  for (let i = (at < 0 ? conversation.turns.length : at) - 1; i >= 0; i--) {
    const t = conversation.turns[i];
    if (t?.role !== 'user' || t.error) continue;
    for (let j = t.imageIds.length - 1; j >= 0; j--) {
      const file = conversation.images.get(t.imageIds[j] as string);
      if (file) return file;
    }
  }
  return null;
}
