/**
 * A question about one page, asked of whichever model is loaded, on any
 * engine (through ChatModel, as a chat). A model that reads text (the chat
 * families, and the bundled model, trained this way: data/tasks/document-context)
 * gets the page's lines first, then the question, with the page image
 * attached; the bundled model cannot read print through its 64 x 64 view, but
 * it can find the answer in text it is given. A model that answers only its
 * task prompts (Florence-2) is not asked free-form questions: it is refused,
 * naming its tasks.
 */
import { documentContextPrompt, MAX_CONTEXT_LINES } from '../../data/tasks/document-context';
import { answerLines } from '../../documents/answer-lines';
import type { ChatModelInfo } from '../../models/chat-model';
import type { ChatPart } from '../../models/vlm';
import type { ChatReply, ChatRequest, DocumentAnswer, DocumentQuestion } from '../api';
import { VlmError } from '../errors';

/** Room for the longest answer the bundled model gives about a page (a table's description). */
const SMALL_MODEL_TOKENS = 64;
/** A real chat model summarizing a page or describing a table writes a few paragraphs. */
const CHAT_MODEL_TOKENS = 256;
/** The fewest lines worth asking with when the page text has to be cut to fit the context. */
const MIN_CONTEXT_LINES = 4;

export type ChatFn = (request: ChatRequest) => Promise<ChatReply>;

/** What asking needs to know of the loaded model: ChatModel's info, and the task prompts it answers, if it names them. */
export type PageModel = Pick<ChatModelInfo, 'questions' | 'readsPageText' | 'contextLength'> & { tasks?: readonly string[] };

/** New tokens for an answer: the bundled model's context (512) leaves room for a short one only. */
export function answerBudget(contextLength: number): number {
  return contextLength <= 1024 ? SMALL_MODEL_TOKENS : CHAT_MODEL_TOKENS;
}

function pageRequest(q: DocumentQuestion, model: PageModel, keep: number): ChatRequest {
  const prompt = model.readsPageText ? documentContextPrompt(q.lines.slice(0, keep), q.question) : q.question;
  const content: ChatPart[] = [{ type: 'text', text: prompt }, ...(q.image ? [{ type: 'image' as const }] : [])];
  return { messages: [{ role: 'user', content }], images: q.image ? [q.image] : [], options: { maxNewTokens: answerBudget(model.contextLength) } };
}

/** Asks, cutting lines off the end of the page text while the prompt is too long for the model. */
export async function askDocument(chat: ChatFn, model: PageModel | null, q: DocumentQuestion): Promise<DocumentAnswer> {
  if (!model) throw new VlmError('no-model', 'No model is loaded; load one first.');
  if (model.questions === 'tasks') {
    const tasks = model.tasks?.length ? ` (${model.tasks.join(', ')})` : '';
    throw new VlmError('bad-input', `The loaded model answers only its task prompts${tasks}, not free-form questions: use one of its tasks on the page, or read the page with OCR engine Florence-2.`);
  }
  const readsText = model.readsPageText;
  let keep = readsText ? Math.min(q.lines.length, MAX_CONTEXT_LINES) : 0;
  for (;;) {
    try {
      const reply = await chat(pageRequest(q, model, keep));
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
