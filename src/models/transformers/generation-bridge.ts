/**
 * Our generation options and callbacks in transformers.js' terms: sampling
 * options as a generation config (with top-k and top-p applied here, since
 * transformers.js 4.3.2 leaves its top-p warper unimplemented and applies
 * top-k after every processor), a Stop that ends generation between tokens,
 * and a streamer that turns generated ids into text pieces.
 */
import { BaseStreamer, LogitsProcessor, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList, random, type Tensor } from '@huggingface/transformers';
import { candidateDistribution, validateSampling, type FinishReason, type SamplingOptions } from '../generation';

/** Keeps the tokens our candidateDistribution keeps (top-k, then top-p, HF's order); the rest get -Infinity. */
class TopKTopPProcessor extends LogitsProcessor {
  constructor(
    private readonly topK: number,
    private readonly topP: number,
  ) {
    super();
  }

  override _call(_inputIds: bigint[][], logits: Tensor): Tensor {
    const data = logits.data as Float32Array;
    const vocab = logits.dims.at(-1) ?? data.length;
    for (let row = 0; row < data.length / vocab; row++) {
      const values = data.subarray(row * vocab, (row + 1) * vocab);
      // Temperature is already applied by transformers.js' warper, so these are the final weights.
      const kept = new Set(candidateDistribution(values, { temperature: 1, topK: this.topK, topP: this.topP }).map((c) => c.id));
      for (let i = 0; i < vocab; i++) if (!kept.has(i)) values[i] = Number.NEGATIVE_INFINITY;
    }
    return logits;
  }
}

/** Ends generation once `signal` is aborted; checked after each token, so a step in flight finishes first. */
class AbortCriteria extends StoppingCriteria {
  constructor(private readonly signal: AbortSignal) {
    super();
  }

  override _call(inputIds: number[][]): boolean[] {
    return inputIds.map(() => this.signal.aborted);
  }
}

export interface GenerateSettings {
  generation_config: Record<string, unknown>;
  logits_processor: LogitsProcessorList;
  stopping_criteria: StoppingCriteriaList;
}

/**
 * transformers.js generate() arguments for our options. `stopIds` are the end
 * ids (the model's, unless the options name others; empty = never stop early).
 */
export function generateSettings(options: SamplingOptions, stopIds: readonly number[], signal: AbortSignal | undefined): GenerateSettings {
  const problem = validateSampling(options);
  if (problem) throw new RangeError(problem);
  const sample = (options.temperature ?? 0) > 0;
  const processors = new LogitsProcessorList();
  const topK = options.topK ?? 0;
  const topP = options.topP ?? 1;
  if (sample && (topK > 0 || topP < 1)) processors.push(new TopKTopPProcessor(topK, topP));
  // transformers.js samples with its global Mersenne Twister: seeding it makes a sampled answer repeatable, as ours is.
  if (sample) random.seed(options.seed ?? 0);
  const criteria = new StoppingCriteriaList();
  if (signal) criteria.push(new AbortCriteria(signal));
  return {
    generation_config: {
      max_new_tokens: options.maxNewTokens,
      do_sample: sample,
      temperature: sample ? options.temperature : 1,
      // 0 = the whole vocabulary: our processor above has already cut it down.
      top_k: 0,
      top_p: 1,
      repetition_penalty: options.repetitionPenalty ?? 1,
      // transformers.js has no beam search (it keeps the first candidate): a repo's num_beams (Florence-2 ships 3) is set to what runs.
      num_beams: 1,
      eos_token_id: stopIds.length > 0 ? [...stopIds] : null,
      // Keeps past_key_values alive and returned, so the next turn can continue from them.
      return_dict_in_generate: true,
    },
    logits_processor: processors,
    stopping_criteria: criteria,
  };
}

/**
 * Receives the ids generate() produces and streams the answer's text. The
 * first put is the prompt (skipped). A token that arrives after a Stop is
 * dropped, so the answer ends where the person stopped it; a stop id ends it
 * and is not part of the answer.
 */
export class AnswerStreamer extends BaseStreamer {
  readonly ids: number[] = [];
  private text = '';
  private promptSeen = false;
  private stopped = false;
  private cancelled = false;

  constructor(
    private readonly decode: (ids: number[]) => string,
    private readonly stopIds: ReadonlySet<number>,
    private readonly onText: (piece: string) => void,
    private readonly signal: AbortSignal | undefined,
    private readonly maxNewTokens: number,
  ) {
    super();
  }

  override put(value: bigint[][]): void {
    if (!this.promptSeen) {
      this.promptSeen = true;
      return;
    }
    if (this.stopped || this.cancelled) return;
    const id = Number(value[0]?.[0]);
    if (this.signal?.aborted) {
      this.cancelled = true;
      return;
    }
    if (this.stopIds.has(id)) {
      this.stopped = true;
      return;
    }
    this.ids.push(id);
    // The whole answer each time: word-level and byte-level tokens both come out right (as Vlm does).
    const next = this.decode(this.ids);
    this.onText(next.slice(this.text.length));
    this.text = next;
  }

  override end(): void {
    // A Stop seen by the stopping criteria after the last streamed token; a full budget ended by itself.
    if (!this.stopped && this.signal?.aborted && this.ids.length < this.maxNewTokens) this.cancelled = true;
  }

  get answer(): string {
    return this.text;
  }

  get finishReason(): FinishReason {
    if (this.stopped) return 'stop';
    return this.cancelled ? 'cancelled' : 'length';
  }
}
