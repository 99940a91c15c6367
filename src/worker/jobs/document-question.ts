/**
 * A question about one page, asked the way the bundled model was trained to
 * answer it (data/tasks/document-context): for a model that reads page text,
 * the page's lines first, then the question, with the page image attached. A
 * small model cannot read print through its 64 x 64 view, but it can find
 * the answer in text it is given.
 */
import { documentContextPrompt, MAX_CONTEXT_LINES } from '../../data/tasks/document-context';
import { answerLines } from '../../documents/answer-lines';
import type { ChatPart } from '../../models/vlm';
import type { ChatReply, ChatRequest, DocumentAnswer, DocumentQuestion } from '../api';
import { VlmError } from '../errors';

/** Room for the longest answer the bundled model gives about a page (a table's description). */
const MAX_NEW_TOKENS = 64;
/** The fewest lines worth asking with when the page text has to be cut to fit the context. */
const MIN_CONTEXT_LINES = 4;

export type ChatFn = (request: ChatRequest) => Promise<ChatReply>;

function pageRequest(q: DocumentQuestion, readsText: boolean, keep: number): ChatRequest {
  const prompt = readsText ? documentContextPrompt(q.lines.slice(0, keep), q.question) : q.question;
  const content: ChatPart[] = [{ type: 'text', text: prompt }, ...(q.image ? [{ type: 'image' as const }] : [])];
  return { messages: [{ role: 'user', content }], images: q.image ? [q.image] : [], options: { maxNewTokens: MAX_NEW_TOKENS } };
}

/** Asks, cutting lines off the end of the page text while the prompt is too long for the model. */
export async function askDocument(chat: ChatFn, readsText: boolean, q: DocumentQuestion): Promise<DocumentAnswer> {
  let keep = readsText ? Math.min(q.lines.length, MAX_CONTEXT_LINES) : 0;
  for (;;) {
    try {
      const reply = await chat(pageRequest(q, readsText, keep));
      return {
        text: reply.text,
        finishReason: reply.finishReason,
        context: readsText ? { given: keep, total: q.lines.length, limit: MAX_CONTEXT_LINES } : null,
        found: answerLines(reply.text, q.lines),
      };
    } catch (err) {
      if (!(err instanceof VlmError && err.code === 'context-length' && keep > MIN_CONTEXT_LINES)) throw err;
      keep = Math.max(MIN_CONTEXT_LINES, Math.floor(keep / 2));
    }
  }
}
