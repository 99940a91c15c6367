/**
 * A LLaVA conversation as one training sequence: token ids and labels in
 * Hugging Face's convention (labels at the ids' own positions, -100 where
 * nothing is supervised). The loss falls on the assistant's answers and their
 * <|im_end|> only: never on the prompt, the role headers, the newlines between
 * turns or the image tokens. The twin of tools/train/data.py
 * encode_conversation (a Node test holds both to the same ids and labels).
 *
 * The chat is rendered turn by turn in the ChatML layout the bundled model's
 * template writes (`<|im_start|>role\n` content `<|im_end|>\n`, a user turn's
 * text first and then one `\n<image>` per image). Every turn boundary is an
 * added token or a newline, which never merges with its neighbours, so the
 * pieces' ids concatenate to the ids of the whole text.
 */
import type { LlavaTurn } from '../../data/llava';

export const IGNORE_INDEX = -100;

const IMAGE = '<image>';
const IM_START = '<|im_start|>';
const IM_END = '<|im_end|>';

/** What this needs of a tokenizer (@huggingface/transformers' PreTrainedTokenizer has it). */
export interface TextTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
}

export interface EncodedConversation {
  ids: Int32Array;
  labels: Int32Array;
}

interface Message {
  role: 'user' | 'assistant';
  /** The content as the template renders it (image parts already written as `\n<image>`). */
  text: string;
}

/** LLaVA turns -> chat messages; a user turn's `<image>` markers move after its text, as the template puts image parts. */
function toMessages(conversations: readonly LlavaTurn[]): Message[] {
  return conversations.map((turn) => {
    const role = turn.from === 'human' ? 'user' : 'assistant';
    const n = turn.value.split(IMAGE).length - 1;
    if (role === 'user' && n > 0) {
      const text = turn.value.split(`${IMAGE}\n`).join('').split(IMAGE).join('');
      return { role, text: text + `\n${IMAGE}`.repeat(n) };
    }
    return { role, text: turn.value };
  });
}

export function encodeConversation(
  tokenizer: TextTokenizer,
  conversations: readonly LlavaTurn[],
  imageSeqLength: number,
  imageTokenId: number,
): EncodedConversation {
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false });
  const newline = encode('\n');
  const ids: number[] = [];
  const labels: number[] = [];
  const push = (piece: readonly number[], supervised: boolean): void => {
    for (const id of piece) {
      const reps = id === imageTokenId ? imageSeqLength : 1;
      for (let r = 0; r < reps; r++) {
        ids.push(id);
        // An image token is never a target, even inside a supervised piece.
        labels.push(supervised && id !== imageTokenId ? id : IGNORE_INDEX);
      }
    }
  };
  for (const m of toMessages(conversations)) {
    push(encode(`${IM_START}${m.role}\n`), false);
    push(encode(`${m.text}${IM_END}`), m.role === 'assistant');
    push(newline, false);
  }
  return { ids: Int32Array.from(ids), labels: Int32Array.from(labels) };
}
