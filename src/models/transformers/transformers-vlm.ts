/**
 * The transformers engine: a hub VLM run by @huggingface/transformers' own
 * model classes and processors (no image-text-to-text pipeline exists in
 * 4.3.2, so the model is driven directly through generate()). It answers
 * chats as Vlm does (streamed text, Stop between tokens, greedy or sampled,
 * several images, multi-turn with the cache continued where the family
 * allows) and is a ChatModel, so the worker can hold it instead of a Vlm.
 */
import {
  AutoConfig,
  AutoProcessor,
  Florence2ForConditionalGeneration,
  Idefics3ForConditionalGeneration,
  LlavaForConditionalGeneration,
  Qwen2VLForConditionalGeneration,
  Qwen2_5_VLForConditionalGeneration,
  SmolVLMForConditionalGeneration,
  type PreTrainedModel,
  type Processor,
  type RawImage,
  Tensor,
} from '@huggingface/transformers';
import type { ChatModel, ChatModelInfo, ChatModelResult } from '../chat-model';
import { pixelsKey } from '../chat-model';
import { PrefillCancelled, throwIfStopped, type EngineStats } from '../engine';
import type { SamplingOptions } from '../generation';
import type { ImagePixels } from '../image-processing';
import { ContextLengthError, type ChatMessage } from '../vlm';
import { checkDtypeFiles, familyOf, type Family, type TjsDtype } from './families';
import { keepQwenGroundingTokens } from '../grounding';
import { florenceText } from './florence';
import { AnswerStreamer, generateSettings } from './generation-bridge';
import { fixQwenTextOnlyRopeDelta } from './library-fixes';
import { withModelSource, type ModelSource } from './model-source';
import { promptBuilder, tensorIds, toRawImage, type PromptBuilder, type PromptInputs } from './prompt-inputs';
import { planReuse, runKeysOf, type HeldCache, type ReusePlan } from './turn-cache';

export type TjsDevice = 'webgpu' | 'wasm' | 'cpu';

/** transformers.js' progress events, as far as we read them. */
export interface TjsProgress {
  status: string;
  file?: string;
  loaded?: number;
  total?: number;
  progress?: number;
}

export interface TransformersLoadOptions {
  source: ModelSource;
  device: TjsDevice;
  dtype: TjsDtype;
  /** The repo's file names (hub listing or cache); when given, a dtype whose session files are missing fails before any download. */
  files?: readonly string[];
  revision?: string;
  onProgress?: (p: TjsProgress) => void;
}

const MODEL_CLASSES: Record<Family['modelClass'], { from_pretrained: typeof PreTrainedModel.from_pretrained }> = {
  LlavaForConditionalGeneration,
  Idefics3ForConditionalGeneration,
  SmolVLMForConditionalGeneration,
  Qwen2VLForConditionalGeneration,
  Qwen2_5_VLForConditionalGeneration,
  Florence2ForConditionalGeneration,
};

/** The config.json fields read here; the rest is the library's business. */
interface ConfigFields {
  model_type: string;
  max_position_embeddings?: number;
  eos_token_id?: number | number[] | null;
  image_token_id?: number;
  image_token_index?: number;
  text_config?: { max_position_embeddings?: number; eos_token_id?: number | number[] | null };
}

function idList(v: number | number[] | null | undefined): number[] {
  return Array.isArray(v) ? v : typeof v === 'number' ? [v] : [];
}

/**
 * Families whose cache transformers.js can continue with a new tail: the
 * decoder-only ones (Qwen2-VL only without new images). Florence-2's encoder
 * reads the image and task afresh on every call.
 */
const CONTINUES_CACHE = new Set<Family['kind']>(['llava', 'idefics3', 'qwen2_vl']);

export class TransformersVlm implements ChatModel {
  readonly info: ChatModelInfo;
  private held: HeldCache | null = null;
  private turns = 0;
  private encodeMs = 0;
  private stopSignal: AbortSignal | undefined;

  /** Width of the image features the decoder takes (the text hidden size). */
  private readonly featureSize: number;

  private constructor(
    readonly family: Family,
    readonly model: PreTrainedModel,
    readonly processor: Processor,
    private readonly prompt: PromptBuilder,
    readonly stopTokenIds: readonly number[],
    info: ChatModelInfo,
  ) {
    this.info = info;
    const cfg = model.config as unknown as { hidden_size?: number; text_config?: { hidden_size?: number } };
    this.featureSize = cfg.text_config?.hidden_size ?? cfg.hidden_size ?? 0;
    this.timeImageEncoding();
    this.yieldBetweenSteps();
    if (family.kind === 'qwen2_vl') fixQwenTextOnlyRopeDelta(model);
  }

  /** Loads `repo` (a hub id, or a folder name under a local source) on the family's model class. */
  static load(repo: string, options: TransformersLoadOptions): Promise<TransformersVlm> {
    return withModelSource(options.source, async () => {
      const common = { ...(options.revision ? { revision: options.revision } : {}), ...(options.onProgress ? { progress_callback: options.onProgress as never } : {}) };
      const config = await AutoConfig.from_pretrained(repo, common);
      const fields = config as unknown as ConfigFields;
      const family = familyOf(fields.model_type);
      if (options.files) checkDtypeFiles(family, options.dtype, options.files);
      const processor = await AutoProcessor.from_pretrained(repo, common);
      const model = await MODEL_CLASSES[family.modelClass].from_pretrained(repo, { ...common, config, dtype: options.dtype, device: options.device });
      const generation = model.generation_config as { eos_token_id?: number | number[] | null } | null;
      const stops = idList(generation?.eos_token_id ?? fields.text_config?.eos_token_id ?? fields.eos_token_id);
      // No limit named: the model's own position limit is unknown, so nothing is refused here.
      const contextLength = fields.text_config?.max_position_embeddings ?? fields.max_position_embeddings ?? Number.MAX_SAFE_INTEGER;
      // Florence-2 answers its task prompts only, and none of them takes a page's text; the chat families read text with the image.
      const chats = family.kind !== 'florence2';
      const info: ChatModelInfo = { engine: 'transformers', modelType: fields.model_type, contextLength, device: options.device, dtype: options.dtype, questions: chats ? 'chat' : 'tasks', readsPageText: chats };
      return new TransformersVlm(family, model, processor, promptBuilder(family.kind, processor, fields), stops, info);
    });
  }

  /**
   * Times the vision session, where every family reads its images, and lets a
   * Stop end the prompt there: before the images are encoded and before the
   * decoder reads them (generate() itself checks only between tokens).
   */
  private timeImageEncoding(): void {
    const model = this.model as unknown as { encode_image: (inputs: unknown) => Promise<unknown> };
    const encode = model.encode_image.bind(this.model);
    model.encode_image = async (inputs) => {
      throwIfStopped(this.stopSignal);
      // Qwen2-VL over a continued cache: its prepare step nulls pixel_values, yet its forward
      // still asks for features for a tail of several tokens. The tail has no image: none.
      if ((inputs as { pixel_values?: unknown }).pixel_values === null) return new Tensor('float32', new Float32Array(0), [0, this.featureSize]);
      const t0 = performance.now();
      try {
        return await encode(inputs);
      } finally {
        this.encodeMs += performance.now() - t0;
        throwIfStopped(this.stopSignal);
      }
    };
  }

  /**
   * Gives the event loop a turn before each step of an answer that can be
   * stopped: ORT's wasm backend runs a step without one, so in a worker a Stop
   * sent while the answer streams would otherwise be read only after its end.
   */
  private yieldBetweenSteps(): void {
    const model = this.model as unknown as { forward: (inputs: unknown) => Promise<unknown> };
    const forward = model.forward.bind(this.model);
    model.forward = async (inputs) => {
      // The Stop itself is read by the stopping criteria and the image encoder's wrapper, which keep the partial answer.
      if (this.stopSignal) await new Promise((resolve) => setTimeout(resolve, 0));
      return forward(inputs);
    };
  }

  async chat(
    messages: readonly ChatMessage[],
    images: readonly ImagePixels[],
    options: Partial<SamplingOptions>,
    onText: (piece: string) => void = () => undefined,
    signal?: AbortSignal,
  ): Promise<ChatModelResult> {
    const raw = images.map(toRawImage);
    const prompt = await this.prompt.build(messages, raw);
    const promptTokens = prompt.ids.length;
    if (promptTokens + 1 > this.info.contextLength) throw new ContextLengthError(promptTokens, this.info.contextLength);
    const budget = Math.min(options.maxNewTokens ?? 128, this.info.contextLength - promptTokens);
    if (signal?.aborted) return { text: '', ids: [], finishReason: 'cancelled', promptTokens, reusedPositions: 0, promptRecomputed: false };
    const keys = images.map(pixelsKey);
    const plan = await this.plan(prompt, keys);
    const inputs = await this.generateInputs(prompt, plan, raw);
    const stopIds = options.stopTokenIds ?? this.stopTokenIds;
    const settings = generateSettings({ ...options, maxNewTokens: budget }, stopIds, signal);
    const streamer = new AnswerStreamer(this.answerDecoder(), new Set(stopIds), onText, signal, budget);
    this.encodeMs = 0;
    this.turns++;
    let out: { sequences: Tensor; past_key_values: HeldCache['pkv'] };
    this.stopSignal = signal;
    try {
      // The typings ask for a TextStreamer and a GenerationConfig; generate() only calls put/end and copies the fields.
      out = (await this.model.generate({ ...inputs, ...settings, generation_config: settings.generation_config as never, streamer: streamer as never })) as never;
    } catch (err) {
      // A cache half-updated by a failed step is not what its ids say: drop it.
      this.held = null;
      await plan.pkv?.dispose().catch(() => undefined);
      if (err instanceof PrefillCancelled) return { text: '', ids: [], finishReason: 'cancelled', promptTokens, reusedPositions: plan.reused, promptRecomputed: false };
      throw err;
    } finally {
      this.stopSignal = undefined;
    }
    await this.keep(out, prompt, keys);
    return {
      text: streamer.answer,
      ids: streamer.ids,
      finishReason: streamer.finishReason,
      promptTokens,
      reusedPositions: plan.reused,
      promptRecomputed: plan.reason !== undefined,
      ...(plan.reason ? { recomputeReason: plan.reason } : {}),
    };
  }

  /** The prompt's inputs, or only its tail and the tail's images on top of a continued cache. */
  private async generateInputs(prompt: PromptInputs, plan: ReusePlan, raw: readonly RawImage[]): Promise<Record<string, unknown>> {
    if (!plan.pkv) return prompt.inputs;
    // The cache holds the earlier images: only the tail's are encoded, so their features match the tail's image tokens.
    const tail = plan.tailImages.length > 0 ? await this.prompt.imageInputs(plan.tailImages.map((i) => raw[i] as RawImage)) : {};
    // Qwen2-VL's 3-D positions of the tail come from the whole prompt, images included: it needs every grid.
    const grids = this.family.kind === 'qwen2_vl' && prompt.inputs.image_grid_thw ? { image_grid_thw: prompt.inputs.image_grid_thw } : {};
    return { input_ids: prompt.inputs.input_ids, attention_mask: prompt.inputs.attention_mask, ...tail, ...grids, past_key_values: plan.pkv };
  }

  private answerDecoder(): (ids: number[]) => string {
    const tokenizer = this.processor.tokenizer;
    if (!tokenizer) throw new Error('the processor has no tokenizer');
    // Florence-2's boxes are special tokens: its answer keeps them for florencePostProcess.
    if (this.family.kind === 'florence2') return (ids) => florenceText(tokenizer, ids);
    // Qwen2-VL's box markers are special tokens too: kept, so the page can draw its boxes.
    if (this.family.kind === 'qwen2_vl') return (ids) => keepQwenGroundingTokens(tokenizer.decode(ids, { skip_special_tokens: false }));
    return (ids) => tokenizer.decode(ids, { skip_special_tokens: true });
  }

  /** What this turn can take from the last one's cache. */
  private async plan(prompt: PromptInputs, keys: readonly string[]): Promise<ReusePlan> {
    const all = prompt.imageRuns.map((_, i) => i);
    if (CONTINUES_CACHE.has(this.family.kind)) {
      const held = this.held;
      this.held = null;
      const plan = await planReuse(held, prompt.ids, keys, this.prompt.imageTokenId, prompt.imageRuns);
      if (this.family.kind !== 'qwen2_vl' || !plan.pkv || plan.tailImages.length === 0) return plan;
      // Its prepare step drops pixel_values whenever a cache is given, so a new image would go unread.
      await plan.pkv.dispose();
      return { reused: 0, pkv: null, tailImages: all, reason: 'transformers.js cannot add a new image to a continued Qwen2-VL cache' };
    }
    if (this.turns === 0) return { reused: 0, pkv: null, tailImages: all };
    return { reused: 0, pkv: null, tailImages: all, reason: 'Florence-2 reads every task afresh: its encoder takes the image and the task together' };
  }

  private async keep(out: { sequences: Tensor; past_key_values: HeldCache['pkv'] }, prompt: PromptInputs, keys: readonly string[]): Promise<void> {
    if (!CONTINUES_CACHE.has(this.family.kind)) {
      await out.past_key_values.dispose();
      return;
    }
    const length = out.past_key_values.get_seq_length();
    this.held = { ids: tensorIds(out.sequences).slice(0, length), runKeys: runKeysOf(prompt.imageRuns, keys), pkv: out.past_key_values };
  }

  /**
   * Logits [V] of the next token after the prompt, from one forward pass with
   * no cache (first-step logits for goldens, yes/no scoring). Decoder families only.
   */
  async nextTokenLogits(messages: readonly ChatMessage[], images: readonly ImagePixels[]): Promise<Float32Array> {
    if (this.family.kind === 'florence2') throw new Error('Florence-2 is an encoder-decoder: its next-token logits need a decoder prompt, which this does not build');
    const prompt = await this.prompt.build(messages, images.map(toRawImage));
    const { logits } = (await this.model(prompt.inputs)) as { logits: Tensor };
    const [, seq = 0, vocab = 0] = logits.dims;
    const last = logits.to('float32').data as Float32Array;
    return Float32Array.from(last.subarray((seq - 1) * vocab, seq * vocab));
  }

  /** Forgets the conversation's cache (a new chat starts from nothing). */
  async reset(): Promise<void> {
    const held = this.held;
    this.held = null;
    this.turns = 0;
    await held?.pkv.dispose();
  }

  stats(): EngineStats {
    // transformers.js does not report the GPU memory its sessions hold.
    return { encodeMs: this.encodeMs, peakGpuBytes: 0 };
  }

  async dispose(): Promise<void> {
    await this.reset();
    await this.model.dispose();
  }
}
