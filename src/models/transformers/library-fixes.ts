/**
 * Corrections to transformers.js 4.3.2 where it disagrees with HF Python on
 * the same weights (found on the tiny fixtures in each family's layout; see
 * their READMEs). Each is a wrapper on one model instance, so the library
 * itself is left as it is.
 */
import type { PreTrainedModel, Tensor } from '@huggingface/transformers';

type RopeIndex = (inputIds: Tensor, attentionMask: Tensor | null) => [Tensor, Tensor];

/**
 * Qwen2-VL with no image in the prompt: transformers.js returns a rope delta
 * of max position + 1 + T where HF has max position + 1 - T, so every cached
 * step after the first token runs 2 T positions too far and the answer
 * drifts. Only the masked branch is affected (without a mask it returns 0, as HF).
 */
export function fixQwenTextOnlyRopeDelta(model: PreTrainedModel): void {
  const target = model as unknown as { _get_text_only_rope_index?: RopeIndex };
  const original = target._get_text_only_rope_index;
  if (!original) throw new Error('this transformers.js has no _get_text_only_rope_index to correct');
  target._get_text_only_rope_index = (inputIds, attentionMask) => {
    const [positions, delta] = original.call(model, inputIds, attentionMask);
    if (!attentionMask) return [positions, delta];
    const twiceT = 2n * BigInt(attentionMask.dims[1] ?? 0);
    return [positions, delta.map((d: bigint) => d - twiceT)];
  };
}
