/**
 * A conversation plus images as the inputs a family's transformers.js model
 * class takes, built the way each family's processor builds them, except
 * where the processor falls short:
 * - llava: LlavaProcessor expands only the first <image> of a prompt, so
 *   every image token is expanded here, by id, as HF's processor does;
 * - idefics3 / smolvlm: its processor splits images and expands every
 *   <image>, but throws without an image, so a text-only turn is tokenized
 *   directly (which is what HF does);
 * - qwen2_vl: its image processor reads several images as the frames of one
 *   and its processor fails at the second image, so each image is processed
 *   alone and every <|image_pad|> is expanded here; absent image flags get HF's defaults;
 * - florence2: one image and a task prompt (the last user text), no chat template.
 */
import { cat, RawImage, Tensor, type Processor } from '@huggingface/transformers';
import type { ImagePixels } from '../image-processing';
import type { ChatMessage } from '../vlm';
import type { FamilyKind } from './families';

export interface PromptInputs {
  /** Prompt ids with every image expanded. */
  ids: number[];
  /** What generate() and forward() take: input_ids, attention_mask and the image inputs. */
  inputs: Record<string, unknown>;
  /** How many runs of image tokens each image became (idefics3: one per tile plus the global view). */
  imageRuns: number[];
}

export interface PromptBuilder {
  /** The image token id whose runs mark images in `ids` (null where images are not inline tokens). */
  readonly imageTokenId: number | null;
  build(messages: readonly ChatMessage[], images: readonly RawImage[]): Promise<PromptInputs>;
  /** The image inputs of some images alone (for a turn that continues a cache holding the others). */
  imageInputs(images: readonly RawImage[]): Promise<Record<string, unknown>>;
}

export function toRawImage(img: ImagePixels): RawImage {
  const data = img.data instanceof Uint8ClampedArray ? img.data : new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const raw = new RawImage(data, img.width, img.height, img.channels);
  // RGB as the processors expect; alpha is dropped, as PIL's convert('RGB') does.
  return img.channels === 4 ? raw.rgb() : raw;
}

export function idsTensor(ids: readonly number[]): Tensor {
  return new Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [1, ids.length]);
}

export function onesMask(length: number): Tensor {
  return new Tensor('int64', new BigInt64Array(length).fill(1n), [1, length]);
}

export function tensorIds(t: Tensor): number[] {
  return Array.from(t.data as BigInt64Array, Number);
}

function countImageParts(messages: readonly ChatMessage[]): number {
  return messages.reduce((n, m) => n + (typeof m.content === 'string' ? 0 : m.content.filter((p) => p.type === 'image').length), 0);
}

function checkImageCount(messages: readonly ChatMessage[], images: readonly RawImage[]): void {
  const wanted = countImageParts(messages);
  if (wanted !== images.length) throw new RangeError(`the messages name ${wanted} image(s) but ${images.length} were given`);
}

function chatText(processor: Processor, messages: readonly ChatMessage[]): string {
  return processor.apply_chat_template(messages as never, { add_generation_prompt: true }) as string;
}

function tokenizerOf(processor: Processor): NonNullable<Processor['tokenizer']> {
  const tok = processor.tokenizer;
  if (!tok) throw new Error('the processor has no tokenizer');
  return tok;
}

async function runImageProcessor(processor: Processor, images: readonly RawImage[], keep: readonly string[]): Promise<Record<string, unknown>> {
  const ip = processor.image_processor;
  if (!ip) throw new Error('the processor has no image processor');
  const out = (await ip([...images] as never)) as Record<string, unknown>;
  return Object.fromEntries(keep.filter((k) => k in out).map((k) => [k, out[k]]));
}

function pick(out: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => out[k] !== undefined).map((k) => [k, out[k]]));
}

interface ModelConfigLike {
  image_token_index?: number;
  image_token_id?: number;
}

class LlavaPrompt implements PromptBuilder {
  readonly imageTokenId: number;

  constructor(
    private readonly processor: Processor,
    config: ModelConfigLike,
  ) {
    const id = config.image_token_index ?? config.image_token_id;
    if (typeof id !== 'number') throw new Error('config.json names no image_token_index');
    this.imageTokenId = id;
  }

  async build(messages: readonly ChatMessage[], images: readonly RawImage[]): Promise<PromptInputs> {
    checkImageCount(messages, images);
    const enc = tokenizerOf(this.processor)(chatText(this.processor, messages)) as { input_ids: Tensor };
    const pixels = images.length > 0 ? await this.imageInputs(images) : {};
    const perImage = images.length > 0 ? this.tokensPerImage(pixels.pixel_values as Tensor) : 0;
    const ids: number[] = [];
    for (const id of tensorIds(enc.input_ids)) {
      if (id === this.imageTokenId) for (let i = 0; i < perImage; i++) ids.push(id);
      else ids.push(id);
    }
    return { ids, inputs: { input_ids: idsTensor(ids), attention_mask: onesMask(ids.length), ...pixels }, imageRuns: images.map(() => 1) };
  }

  imageInputs(images: readonly RawImage[]): Promise<Record<string, unknown>> {
    return runImageProcessor(this.processor, images, ['pixel_values']);
  }

  /** LlavaProcessor's count: floor(H / patch) * floor(W / patch) + num_additional_image_tokens. */
  private tokensPerImage(pixels: Tensor): number {
    const cfg = (this.processor.config ?? {}) as { patch_size?: number; num_additional_image_tokens?: number };
    const [height = 0, width = 0] = pixels.dims.slice(-2);
    if (!cfg.patch_size) throw new Error('processor_config.json names no patch_size');
    return Math.floor(height / cfg.patch_size) * Math.floor(width / cfg.patch_size) + (cfg.num_additional_image_tokens ?? 0);
  }
}

const IDEFICS3_IMAGE_KEYS = ['pixel_values', 'pixel_attention_mask'];

class Idefics3Prompt implements PromptBuilder {
  readonly imageTokenId: number;

  constructor(
    private readonly processor: Processor,
    config: ModelConfigLike,
  ) {
    const id = config.image_token_id ?? config.image_token_index;
    if (typeof id !== 'number') throw new Error('config.json names no image_token_id');
    this.imageTokenId = id;
  }

  async build(messages: readonly ChatMessage[], images: readonly RawImage[]): Promise<PromptInputs> {
    checkImageCount(messages, images);
    const text = chatText(this.processor, messages);
    if (images.length === 0) {
      const enc = tokenizerOf(this.processor)(text) as { input_ids: Tensor; attention_mask: Tensor };
      return { ids: tensorIds(enc.input_ids), inputs: { input_ids: enc.input_ids, attention_mask: enc.attention_mask }, imageRuns: [] };
    }
    const out = (await this.processor(text, [...images])) as Record<string, unknown> & { input_ids: Tensor; rows: number[][]; cols: number[][] };
    const rows = out.rows[0] ?? [];
    const cols = out.cols[0] ?? [];
    // A split image is rows x cols tiles plus the global view; an unsplit one is a single run.
    const imageRuns = rows.map((r, i) => (r === 0 && (cols[i] ?? 0) === 0 ? 1 : r * (cols[i] ?? 0) + 1));
    return { ids: tensorIds(out.input_ids), inputs: pick(out, ['input_ids', 'attention_mask', ...IDEFICS3_IMAGE_KEYS]), imageRuns };
  }

  imageInputs(images: readonly RawImage[]): Promise<Record<string, unknown>> {
    return runImageProcessor(this.processor, images, IDEFICS3_IMAGE_KEYS);
  }
}

/**
 * HF's Qwen2VLImageProcessor resizes, rescales and normalises unless told not
 * to; transformers.js does each only when preprocessor_config.json says so, and
 * Qwen/Qwen2-VL-2B-Instruct's own file names none of the flags (so it would
 * feed unnormalised pixels at their original size). Absent flags get HF's defaults.
 */
function applyQwenDefaults(processor: Processor): void {
  const ip = processor.image_processor as unknown as Record<string, unknown> & { config?: Record<string, unknown> };
  if (!ip) return;
  const cfg = ip.config ?? {};
  if (cfg.do_resize === undefined) ip.do_resize = true;
  if (cfg.do_normalize === undefined) ip.do_normalize = true;
  if (cfg.resample === undefined) ip.resample = 3;
}

class Qwen2VlPrompt implements PromptBuilder {
  readonly imageTokenId: number;
  private readonly mergeLength: number;

  constructor(
    private readonly processor: Processor,
    config: ModelConfigLike,
  ) {
    if (typeof config.image_token_id !== 'number') throw new Error('config.json names no image_token_id');
    this.imageTokenId = config.image_token_id;
    applyQwenDefaults(processor);
    const merge = (processor.image_processor as unknown as { merge_size?: number } | undefined)?.merge_size ?? 2;
    this.mergeLength = merge * merge;
  }

  /**
   * Every <|image_pad|> expanded to t * h * w / merge^2 copies, by id: its
   * processor fails at the second image of a prompt.
   */
  async build(messages: readonly ChatMessage[], images: readonly RawImage[]): Promise<PromptInputs> {
    checkImageCount(messages, images);
    const enc = tokenizerOf(this.processor)(chatText(this.processor, messages)) as { input_ids: Tensor };
    const pixels = images.length > 0 ? await this.imageInputs(images) : {};
    const grids = images.length > 0 ? ((pixels.image_grid_thw as Tensor).tolist() as bigint[][]) : [];
    const ids: number[] = [];
    let image = 0;
    for (const id of tensorIds(enc.input_ids)) {
      if (id !== this.imageTokenId) {
        ids.push(id);
        continue;
      }
      const [t = 0n, h = 0n, w = 0n] = grids[image++] ?? [];
      for (let i = 0; i < Number(t * h * w) / this.mergeLength; i++) ids.push(id);
    }
    return { ids, inputs: { input_ids: idsTensor(ids), attention_mask: onesMask(ids.length), ...pixels }, imageRuns: images.map(() => 1) };
  }

  /**
   * Each image through the image processor alone, patches and grids
   * concatenated: given several at once it reads them as the frames of one.
   */
  async imageInputs(images: readonly RawImage[]): Promise<Record<string, unknown>> {
    const parts = await Promise.all(images.map((img) => runImageProcessor(this.processor, [img], ['pixel_values', 'image_grid_thw'])));
    return {
      pixel_values: cat(parts.map((p) => p.pixel_values as Tensor), 0),
      image_grid_thw: cat(parts.map((p) => p.image_grid_thw as Tensor), 0),
    };
  }
}

/**
 * The task prompt of the last user message ("<CAPTION>", "<OD>",
 * "<CAPTION_TO_PHRASE_GROUNDING>a red square"), its input stripped as HF's
 * processor strips it (transformers.js keeps the spaces around it).
 */
export function florenceTaskText(messages: readonly ChatMessage[]): string {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) throw new RangeError('Florence-2 needs a user message holding its task prompt');
  const text = (typeof last.content === 'string' ? last.content : last.content.map((p) => (p.type === 'text' ? p.text : '')).join('')).trim();
  const task = /^<[A-Z_]+>/.exec(text)?.[0];
  return task ? task + text.slice(task.length).trim() : text;
}

class Florence2Prompt implements PromptBuilder {
  readonly imageTokenId = null;

  constructor(private readonly processor: Processor) {}

  async build(messages: readonly ChatMessage[], images: readonly RawImage[]): Promise<PromptInputs> {
    if (images.length > 1) throw new RangeError(`Florence-2 takes one image per task, and this conversation holds ${images.length}: press Clear and send the new image with its task alone`);
    if (images.length === 0) throw new RangeError('Florence-2 takes one image per task: attach an image to ask about');
    const out = (await this.processor(images[0], florenceTaskText(messages))) as Record<string, unknown> & { input_ids: Tensor };
    return { ids: tensorIds(out.input_ids), inputs: pick(out, ['input_ids', 'attention_mask', 'pixel_values']), imageRuns: [1] };
  }

  imageInputs(images: readonly RawImage[]): Promise<Record<string, unknown>> {
    return runImageProcessor(this.processor, images, ['pixel_values']);
  }
}

export function promptBuilder(kind: FamilyKind, processor: Processor, config: ModelConfigLike): PromptBuilder {
  switch (kind) {
    case 'llava':
      return new LlavaPrompt(processor, config);
    case 'idefics3':
      return new Idefics3Prompt(processor, config);
    case 'qwen2_vl':
      return new Qwen2VlPrompt(processor, config);
    case 'florence2':
      return new Florence2Prompt(processor);
  }
}
