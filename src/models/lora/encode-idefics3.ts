/**
 * A LLaVA conversation as one Idefics3 (SmolVLM) training sequence: the
 * repo's own chat template renders the turns (as chat renders a prompt), each
 * `<image>` becomes its image's tile block (Idefics3Processor's expansion),
 * and the labels follow Hugging Face's convention (-100 where nothing is
 * supervised). The loss falls on each answer up to and including its first
 * stop token (SmolVLM: `<end_of_utterance>`), never on the prompt, the
 * "Assistant:" header the generation prompt writes, or the image blocks.
 *
 * The text is rendered turn by turn, each piece being what the template adds
 * to the one before; the pieces' ids concatenate to the ids of the whole
 * text wherever a piece boundary cannot merge tokens (the template's headers
 * end in ':' and answers start after it), which the tests hold it to.
 */
import type { LlavaTurn } from '../../data/llava';
import { expandImagePrompt, IMAGE_TOKEN } from '../idefics3-processing';
import { IGNORE_INDEX, type EncodedConversation, type TextTokenizer } from './encode-conversation';

type Part = { type: 'image' } | { type: 'text'; text: string };

interface TemplateMessage {
  role: 'user' | 'assistant';
  content: Part[];
}

/** What this needs of a tokenizer with a chat template (@huggingface/transformers' PreTrainedTokenizer has it). */
export interface TemplateTokenizer extends TextTokenizer {
  apply_chat_template(messages: never, options: { tokenize: false; add_generation_prompt: boolean }): unknown;
}

/** A LLaVA turn's value as content parts: an image part where each `<image>` marker stands (the newline beside it dropped), text between. */
function toParts(value: string): Part[] {
  const parts: Part[] = [];
  value.split(IMAGE_TOKEN).forEach((text, i, all) => {
    if (i > 0) parts.push({ type: 'image' });
    const trimmed = text.replace(i > 0 ? /^\n/ : /^/, '').replace(i < all.length - 1 ? /\n$/ : /$/, '');
    if (trimmed !== '') parts.push({ type: 'text', text: trimmed });
  });
  return parts;
}

export function encodeIdefics3Conversation(
  tokenizer: TemplateTokenizer,
  conversations: readonly LlavaTurn[],
  grids: readonly { rows: number; cols: number }[],
  imageSeqLength: number,
  stopTokenIds: readonly number[],
): EncodedConversation {
  const messages: TemplateMessage[] = conversations.map((t) => ({ role: t.from === 'human' ? 'user' : 'assistant', content: toParts(t.value) }));
  const render = (n: number, generationPrompt: boolean): string => String(tokenizer.apply_chat_template(messages.slice(0, n) as never, { tokenize: false, add_generation_prompt: generationPrompt }));
  const ids: number[] = [];
  const labels: number[] = [];
  let images = 0;
  let done = '';
  const push = (next: string, supervised: boolean): void => {
    if (!next.startsWith(done)) throw new Error('the chat template does not render a conversation as the start of its continuation, so answers cannot be told from the prompt');
    const text = next.slice(done.length);
    done = next;
    const n = text.split(IMAGE_TOKEN).length - 1;
    if (images + n > grids.length) throw new RangeError(`the conversation has more <image> markers than the ${grids.length} image(s) given`);
    const expanded = expandImagePrompt(text, grids.slice(images, images + n), imageSeqLength);
    images += n;
    let open = supervised;
    for (const id of tokenizer.encode(expanded, { add_special_tokens: false })) {
      ids.push(id);
      labels.push(open ? id : IGNORE_INDEX);
      // The answer ends at its stop token: what the template writes after it (a newline) is not learned.
      if (open && stopTokenIds.includes(id)) open = false;
    }
  };
  messages.forEach((m, i) => {
    if (m.role === 'assistant') push(render(i, true), false);
    push(render(i + 1, false), m.role === 'assistant');
  });
  if (images !== grids.length) throw new RangeError(`the conversation has ${images} <image> marker(s) but ${grids.length} image(s) were given`);
  return { ids: Int32Array.from(ids), labels: Int32Array.from(labels) };
}
