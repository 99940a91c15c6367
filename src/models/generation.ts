/**
 * Token selection and the generation loop, shared by both engines: an engine
 * supplies the logits of each step; this decides the next token, streams it,
 * and stops on a stop token, the token budget, or cancellation between tokens.
 * Semantics follow HF generate's logits processors: repetition penalty, then
 * temperature, then top-k, then top-p.
 */
import { Rng } from '../data/random';

export interface SamplingOptions {
  maxNewTokens: number;
  /** 0 (or undefined) = greedy. */
  temperature?: number;
  /** Keep the k most likely tokens (0 = all). */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = all). */
  topP?: number;
  /** HF's CTRL-style penalty on every token already in the sequence (1 = none). */
  repetitionPenalty?: number;
  stopTokenIds?: readonly number[];
  seed?: number;
}

export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface GenerationResult {
  ids: number[];
  finishReason: FinishReason;
}

/** Lowest index among the largest values, like torch.argmax. */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  return best;
}

export function applyRepetitionPenalty(logits: Float32Array, history: readonly number[], penalty: number): void {
  if (penalty === 1) return;
  for (const id of new Set(history)) {
    const v = logits[id];
    if (v === undefined) continue;
    logits[id] = v < 0 ? v * penalty : v / penalty;
  }
}

/** Probabilities of the tokens left after temperature, top-k and top-p, as (id, p) sorted by p descending. */
export function candidateDistribution(logits: ArrayLike<number>, o: Pick<SamplingOptions, 'temperature' | 'topK' | 'topP'>): { id: number; p: number }[] {
  const t = o.temperature ?? 1;
  const order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => (logits[b] as number) - (logits[a] as number) || a - b);
  const k = o.topK && o.topK > 0 ? Math.min(o.topK, order.length) : order.length;
  const kept = order.slice(0, k);
  const max = logits[kept[0] as number] as number;
  const weights = kept.map((id) => Math.exp(((logits[id] as number) - max) / t));
  const total = weights.reduce((a, b) => a + b, 0);
  const probs = kept.map((id, i) => ({ id, p: (weights[i] as number) / total }));
  const topP = o.topP ?? 1;
  if (topP >= 1) return probs;
  const out: { id: number; p: number }[] = [];
  let cum = 0;
  for (const c of probs) {
    out.push(c);
    cum += c.p;
    if (cum >= topP) break;
  }
  const kept2 = out.reduce((a, c) => a + c.p, 0);
  return out.map((c) => ({ id: c.id, p: c.p / kept2 }));
}

export function sampleToken(logits: Float32Array, history: readonly number[], o: SamplingOptions, rng: Rng): number {
  const penalised = Float32Array.from(logits);
  applyRepetitionPenalty(penalised, history, o.repetitionPenalty ?? 1);
  if (!o.temperature || o.temperature <= 0) return argmax(penalised);
  const dist = candidateDistribution(penalised, o);
  let r = rng.next();
  for (const c of dist) {
    r -= c.p;
    if (r < 0) return c.id;
  }
  return (dist[dist.length - 1] as { id: number }).id;
}

export function validateSampling(o: SamplingOptions): string | null {
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1) return `maxNewTokens must be a positive integer, got ${o.maxNewTokens}`;
  if (o.temperature !== undefined && (!(o.temperature >= 0) || !Number.isFinite(o.temperature))) return `temperature must be >= 0, got ${o.temperature}`;
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) return `topP must be in (0, 1], got ${o.topP}`;
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) return `topK must be a non-negative integer, got ${o.topK}`;
  if (o.repetitionPenalty !== undefined && !(o.repetitionPenalty > 0)) return `repetitionPenalty must be > 0, got ${o.repetitionPenalty}`;
  return null;
}

/** Greedy search with nothing that reads the history: the next id is the logits' argmax alone. */
export function isPlainGreedy(o: SamplingOptions): boolean {
  return !(o.temperature && o.temperature > 0) && (o.repetitionPenalty ?? 1) === 1;
}

/**
 * The loop: pick from the prompt's logits, stream, then ask the engine for the
 * next logits until a stop token, the budget, or `signal` is aborted (checked
 * between tokens, so a step in flight finishes first). Where the options are
 * plain greedy and the engine offers `nextGreedy` (the argmax taken where the
 * logits are, only the id read back), decode steps use it instead of `next`:
 * the same ids, without the logits row crossing to the host each token.
 */
export async function generate(
  firstLogits: Float32Array,
  next: (id: number) => Promise<Float32Array>,
  options: SamplingOptions,
  history: readonly number[],
  onToken: (id: number) => void,
  signal?: AbortSignal,
  nextGreedy?: (id: number) => Promise<number>,
): Promise<GenerationResult> {
  const problem = validateSampling(options);
  if (problem) throw new RangeError(problem);
  const rng = new Rng(options.seed ?? 0);
  const stops = new Set(options.stopTokenIds ?? []);
  const seen = [...history];
  const ids: number[] = [];
  const greedyStep = nextGreedy && isPlainGreedy(options) ? nextGreedy : null;
  let pending: { logits: Float32Array } | { id: number } = { logits: firstLogits };
  for (;;) {
    if (signal?.aborted) return { ids, finishReason: 'cancelled' };
    const id: number = 'id' in pending ? pending.id : sampleToken(pending.logits, seen, options, rng);
    if (stops.has(id)) return { ids, finishReason: 'stop' };
    ids.push(id);
    seen.push(id);
    onToken(id);
    if (ids.length >= options.maxNewTokens) return { ids, finishReason: 'length' };
    if (signal?.aborted) return { ids, finishReason: 'cancelled' };
    pending = greedyStep ? { id: await greedyStep(id) } : { logits: await next(id) };
  }
}
